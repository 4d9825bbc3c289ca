import { describe, expect, it } from "vitest";
import { buildTenantCreate, buildTenantPatch, EMPTY_CREATE_FORM, settingsFormOf, tagsFromRows } from "./tenantForm";
import { slugify, summarizeChanges } from "./format";
import type { Tenant } from "../api/types";

const tenant: Tenant = {
  id: "3fa85f64-5717-4562-b3fc-2c963f66afa6",
  slug: "contoso",
  name: "Contoso Ltd",
  aad_tenant_id: "5f2b8c3e-8f7a-4c2e-b1d5-2f6c9e8a7b10",
  aad_admin_group_id: null,
  aad_members_group_id: "9d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
  status: "active",
  tags: { cost_center: "cc-1042", env: "prod" },
  quickbooks_realm_id: "9130348651845276",
  pax8_company_id: null,
  created_at: "2026-11-22T00:25:01.123456Z",
  updated_at: "2026-11-22T00:25:01.123456Z",
};

describe("tenant create form", () => {
  it("builds the request body, leaving out blank optional fields", () => {
    const r = buildTenantCreate({
      ...EMPTY_CREATE_FORM,
      name: " Fabrikam ",
      slug: "fabrikam",
      aad_tenant_id: "5F2B8C3E-8F7A-4C2E-B1D5-2F6C9E8A7B10",
      tags: [{ key: "env", value: "dev" }, { key: "", value: "" }],
    });
    expect(r).toEqual({
      ok: true,
      body: { name: "Fabrikam", slug: "fabrikam", aad_tenant_id: "5f2b8c3e-8f7a-4c2e-b1d5-2f6c9e8a7b10", tags: { env: "dev" } },
    });
  });
  it("names each bad field", () => {
    const r = buildTenantCreate({ ...EMPTY_CREATE_FORM, slug: "-bad-", aad_tenant_id: "nope", aad_admin_group_id: "x", aad_members_group_id: "y", tags: [{ key: "a", value: "1" }, { key: "a", value: "2" }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.fields).sort()).toEqual(["aad_admin_group_id", "aad_members_group_id", "aad_tenant_id", "name", "slug", "tags"]);
  });
  it("rejects a tag value without a key", () => {
    expect(tagsFromRows([{ key: " ", value: "v" }]).ok).toBe(false);
  });
});

describe("tenant settings patch", () => {
  it("is empty when nothing changed", () => {
    expect(buildTenantPatch(tenant, settingsFormOf(tenant))).toEqual({ ok: true, body: {} });
  });
  it("sends only changes, null for cleared ids and removed tags", () => {
    const f = settingsFormOf(tenant);
    f.name = "Contoso Limited";
    f.quickbooks_realm_id = "";
    f.tags = [{ key: "cost_center", value: "cc-2001" }, { key: "team", value: "blue" }];
    expect(buildTenantPatch(tenant, f)).toEqual({
      ok: true,
      body: { name: "Contoso Limited", quickbooks_realm_id: null, tags: { cost_center: "cc-2001", team: "blue", env: null } },
    });
  });
  it("sets, changes and clears the members group", () => {
    const f = settingsFormOf(tenant);
    expect(f.aad_members_group_id).toBe("9d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    f.aad_members_group_id = " 1A2B3C4D-0000-4000-8000-000000000001 ";
    expect(buildTenantPatch(tenant, f)).toEqual({ ok: true, body: { aad_members_group_id: "1a2b3c4d-0000-4000-8000-000000000001" } });
    f.aad_members_group_id = "";
    expect(buildTenantPatch(tenant, f)).toEqual({ ok: true, body: { aad_members_group_id: null } });
    f.aad_members_group_id = "not-a-guid";
    const bad = buildTenantPatch(tenant, f);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(Object.keys(bad.fields)).toEqual(["aad_members_group_id"]);
  });
  it("creates with a members group when one is given", () => {
    const r = buildTenantCreate({
      ...EMPTY_CREATE_FORM,
      name: "Fabrikam",
      slug: "fabrikam",
      aad_tenant_id: "5f2b8c3e-8f7a-4c2e-b1d5-2f6c9e8a7b10",
      aad_members_group_id: "9D1C2B3A-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
    });
    expect(r.ok && r.body.aad_members_group_id).toBe("9d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
  });
  it("refuses an empty name", () => {
    const f = settingsFormOf(tenant);
    f.name = "  ";
    expect(buildTenantPatch(tenant, f).ok).toBe(false);
  });
});

describe("display helpers", () => {
  it("suggests a DNS-label slug", () => {
    expect(slugify("Contoso Ltd.")).toBe("contoso-ltd");
    expect(slugify("  Café Zürich  ")).toBe("cafe-zurich");
    expect(slugify("a".repeat(70))).toHaveLength(63);
  });
  it("summarises audit changes", () => {
    expect(summarizeChanges({ name: { from: "Contoso Ltd", to: "Contoso Limited" }, status: { from: "active", to: "suspended" } })).toEqual([
      "name: Contoso Ltd → Contoso Limited",
      "status: active → suspended",
    ]);
    expect(summarizeChanges({ tags: { env: "prod" }, created: true })).toEqual(['tags: {"env":"prod"}', "created: true"]);
    expect(summarizeChanges(null)).toEqual([]);
  });
});
