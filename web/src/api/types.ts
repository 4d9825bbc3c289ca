// Names for the generated API types (src/api/schema.d.ts, from
// ../openapi/openapi.yaml by `npm run gen`). Screens import from here so a
// change in the API description that breaks them breaks `npm run build`.
import type { components } from "./schema";

type Schemas = components["schemas"];

/** Every list answer: a page of `data` and the cursor of the next page. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

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

export type Environment = Schemas["Environment"];
export type Namespace = Schemas["Namespace"];
export type NamespaceCreate = Schemas["NamespaceCreate"];
export type NamespaceQuota = Schemas["NamespaceQuota"];
export type NamespaceStatus = Schemas["NamespaceStatus"];
export type NamespaceSize = Schemas["NamespaceSize"];
export type NamespaceKubernetes = Schemas["NamespaceKubernetes"];
export type AzureError = Schemas["AzureError"];
export type Job = Schemas["Job"];
export type JobStep = Schemas["JobStep"];
export type JobStatus = Schemas["JobStatus"];

export type SportEvent = Schemas["Event"];
export type SportEventCreate = Schemas["EventCreate"];
export type SportEventUpdate = Schemas["EventUpdate"];
export type EventStatus = Schemas["EventStatus"];
export type Selection = Schemas["Selection"];
export type Bet = Schemas["Bet"];
export type BetCreate = Schemas["BetCreate"];
export type BetStatus = Schemas["BetStatus"];

export type Wallet = Schemas["Wallet"];
export type Payment = Schemas["Payment"];
export type PaymentCreate = Schemas["PaymentCreate"];
export type PaymentDirection = Schemas["PaymentDirection"];
export type PaymentStatus = Schemas["PaymentStatus"];
export type LedgerTransaction = Schemas["LedgerTransaction"];
export type LedgerTransactionKind = Schemas["LedgerTransactionKind"];
export type LedgerAccount = Schemas["LedgerAccount"];

export type Invoice = Schemas["Invoice"];
export type InvoiceStatus = Schemas["InvoiceStatus"];
export type InvoiceList = Schemas["InvoiceList"];
export type Integration = Schemas["Integration"];
export type Subscription = Schemas["Subscription"];
export type SubscriptionStatus = Schemas["SubscriptionStatus"];
export type UsageLine = Schemas["UsageLine"];
export type UsageByProduct = Schemas["UsageByProduct"];
export type BillingTotals = Schemas["BillingTotals"];
export type WebhookEvent = Schemas["WebhookEvent"];
export type WebhookEventStatus = Schemas["WebhookEventStatus"];
export type WebhookProvider = Schemas["WebhookProvider"];

// The catalog (issue 17).
export type CatalogItem = Schemas["CatalogItem"];
export type CatalogCategory = Schemas["CatalogCategory"];
export type CatalogRelationshipEntry = Schemas["CatalogRelationshipEntry"];
export type CatalogMedia = Schemas["CatalogMedia"];
export type CatalogMediaUpload = Schemas["CatalogMediaUpload"];
export type CatalogStencil = Schemas["CatalogStencil"];
export type CablePlan = Schemas["CablePlan"];
export type CablePlanRequest = Schemas["CablePlanRequest"];
