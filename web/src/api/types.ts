// Names for the generated API types (src/api/schema.d.ts, from
// ../openapi/openapi.yaml by `npm run gen`). Screens import from here so a
// change in the API description that breaks them breaks `npm run build`.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Me = Schemas["Me"];
export type Role = Schemas["Role"];
export type Tenant = Schemas["Tenant"];
export type TenantCreate = Schemas["TenantCreate"];
export type TenantUpdate = Schemas["TenantUpdate"];
export type TenantStatus = Schemas["TenantStatus"];
export type TenantList = Schemas["TenantList"];
export type AuditRecord = Schemas["AuditRecord"];
export type AuditRecordList = Schemas["AuditRecordList"];
export type ProblemBody = Schemas["Problem"];
export type FieldErrorBody = Schemas["FieldError"];
