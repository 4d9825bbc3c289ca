// The tenant forms (create, settings) and the requests they make.
import type { Tenant, TenantCreate, TenantUpdate } from "../api/types";
import { SLUG_PATTERN, UUID_PATTERN } from "./format";

export interface TagRow {
  key: string;
  value: string;
}

export function rowsFromTags(tags: Record<string, string> | undefined): TagRow[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}

export type TagsResult = { ok: true; tags: Record<string, string> } | { ok: false; message: string };

/** Tag rows to an object; blank rows are ignored. */
export function tagsFromRows(rows: readonly TagRow[]): TagsResult {
  const tags: Record<string, string> = {};
  for (const r of rows) {
    const key = r.key.trim();
    if (key === "" && r.value.trim() === "") continue;
    if (key === "") return { ok: false, message: `The tag with value "${r.value}" needs a key` };
    if (key.length > 128) return { ok: false, message: `Tag key "${key.slice(0, 20)}…" is longer than 128 characters` };
    if (r.value.length > 256) return { ok: false, message: `The value of tag "${key}" is longer than 256 characters` };
    if (Object.hasOwn(tags, key)) return { ok: false, message: `Tag "${key}" appears twice` };
    tags[key] = r.value;
  }
  if (Object.keys(tags).length > 50) return { ok: false, message: "At most 50 tags" };
  return { ok: true, tags };
}

export interface TenantCreateForm {
  name: string;
  slug: string;
  aad_tenant_id: string;
  aad_admin_group_id: string;
  aad_members_group_id: string;
  quickbooks_realm_id: string;
  pax8_company_id: string;
  tags: TagRow[];
}

export const EMPTY_CREATE_FORM: TenantCreateForm = {
  name: "",
  slug: "",
  aad_tenant_id: "",
  aad_admin_group_id: "",
  aad_members_group_id: "",
  quickbooks_realm_id: "",
  pax8_company_id: "",
  tags: [],
};

export const CREATE_FIELDS = [
  "name",
  "slug",
  "aad_tenant_id",
  "aad_admin_group_id",
  "aad_members_group_id",
  "quickbooks_realm_id",
  "pax8_company_id",
  "tags",
] as const;

export type FormCheck<T> = { ok: true; body: T } | { ok: false; fields: Record<string, string[]> };

/** Checks a person would want before sending (the server checks again). */
export function buildTenantCreate(f: TenantCreateForm): FormCheck<TenantCreate> {
  const fields: Record<string, string[]> = {};
  const name = f.name.trim();
  const slug = f.slug.trim();
  const aad = f.aad_tenant_id.trim().toLowerCase();
  const group = f.aad_admin_group_id.trim().toLowerCase();
  const members = f.aad_members_group_id.trim().toLowerCase();
  if (name === "") fields.name = ["Enter the organisation's name"];
  else if (name.length > 200) fields.name = ["At most 200 characters"];
  if (slug === "") fields.slug = ["Enter a slug"];
  else if (!SLUG_PATTERN.test(slug)) {
    fields.slug = ["Lower-case letters, digits and hyphens, 1 to 63 characters, not starting or ending with a hyphen"];
  }
  if (aad === "") fields.aad_tenant_id = ["Enter the tenant's Entra ID directory (tenant) id"];
  else if (!UUID_PATTERN.test(aad)) fields.aad_tenant_id = ["Must be a GUID, like 5f2b8c3e-8f7a-4c2e-b1d5-2f6c9e8a7b10"];
  if (group !== "" && !UUID_PATTERN.test(group)) fields.aad_admin_group_id = ["Must be a GUID"];
  if (members !== "" && !UUID_PATTERN.test(members)) fields.aad_members_group_id = ["Must be a GUID"];
  const tags = tagsFromRows(f.tags);
  if (!tags.ok) fields.tags = [tags.message];
  if (Object.keys(fields).length > 0 || !tags.ok) return { ok: false, fields };
  const body: TenantCreate = { slug, name, aad_tenant_id: aad };
  if (group !== "") body.aad_admin_group_id = group;
  if (members !== "") body.aad_members_group_id = members;
  if (f.quickbooks_realm_id.trim() !== "") body.quickbooks_realm_id = f.quickbooks_realm_id.trim();
  if (f.pax8_company_id.trim() !== "") body.pax8_company_id = f.pax8_company_id.trim();
  if (Object.keys(tags.tags).length > 0) body.tags = tags.tags;
  return { ok: true, body };
}

export interface TenantSettingsForm {
  name: string;
  aad_admin_group_id: string;
  aad_members_group_id: string;
  quickbooks_realm_id: string;
  pax8_company_id: string;
  tags: TagRow[];
}

export const SETTINGS_FIELDS = [
  "name",
  "aad_admin_group_id",
  "aad_members_group_id",
  "quickbooks_realm_id",
  "pax8_company_id",
  "tags",
] as const;

export function settingsFormOf(t: Tenant): TenantSettingsForm {
  return {
    name: t.name,
    aad_admin_group_id: t.aad_admin_group_id ?? "",
    aad_members_group_id: t.aad_members_group_id ?? "",
    quickbooks_realm_id: t.quickbooks_realm_id ?? "",
    pax8_company_id: t.pax8_company_id ?? "",
    tags: rowsFromTags(t.tags),
  };
}

/**
 * The JSON merge patch (RFC 7396) that takes tenant `t` to form `f`: only
 * changed members; a cleared optional id becomes null; a removed tag becomes
 * `key: null`. `{}` means nothing changed.
 */
export function buildTenantPatch(t: Tenant, f: TenantSettingsForm): FormCheck<TenantUpdate> {
  const fields: Record<string, string[]> = {};
  const patch: TenantUpdate = {};
  const name = f.name.trim();
  if (name === "") fields.name = ["Enter the organisation's name"];
  else if (name.length > 200) fields.name = ["At most 200 characters"];
  else if (name !== t.name) patch.name = name;

  for (const k of ["aad_admin_group_id", "aad_members_group_id"] as const) {
    const g = f[k].trim().toLowerCase();
    if (g !== "" && !UUID_PATTERN.test(g)) fields[k] = ["Must be a GUID"];
    else if ((g || null) !== (t[k] ?? null)) patch[k] = g || null;
  }

  for (const k of ["quickbooks_realm_id", "pax8_company_id"] as const) {
    const v = f[k].trim();
    if (v.length > 64) fields[k] = ["At most 64 characters"];
    else if ((v || null) !== (t[k] ?? null)) patch[k] = v || null;
  }

  const tags = tagsFromRows(f.tags);
  if (!tags.ok) fields.tags = [tags.message];
  else {
    const before = t.tags ?? {};
    const change: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(tags.tags)) if (before[k] !== v) change[k] = v;
    for (const k of Object.keys(before)) if (!Object.hasOwn(tags.tags, k)) change[k] = null;
    if (Object.keys(change).length > 0) patch.tags = change;
  }
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return { ok: true, body: patch };
}
