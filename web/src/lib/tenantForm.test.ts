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
    const r = buildTenantCreate({ ...EMPTY_CREATE_FORM, slug: "-bad-", aad_tenant_id: "nope", aad_admin_group_id: "x", tags: [{ key: "a", value: "1" }, { key: "a", value: "2" }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.fields).sort()).toEqual(["aad_admin_group_id", "aad_tenant_id", "name", "slug", "tags"]);
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
