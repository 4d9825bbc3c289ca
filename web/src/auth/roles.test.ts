import { describe, expect, it } from "vitest";
import { can, platformNav, rolesFor, tenantNav, type Viewer } from "./roles";

const T = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
const OTHER = "11111111-1111-4111-8111-111111111111";
const superAdmin: Viewer = { roles: ["super_admin"], tenantId: null };
const admin: Viewer = { roles: ["tenant_admin"], tenantId: T };
const member: Viewer = { roles: ["member"], tenantId: T };
const support: Viewer = { roles: ["support_user"], tenantId: T };
const billing: Viewer = { roles: ["billing_viewer"], tenantId: T };

describe("can", () => {
  it("lets only super admins manage tenants and read the webhook inbox", () => {
    expect(can(superAdmin, "tenants.manage")).toBe(true);
    expect(can(superAdmin, "webhooks.read")).toBe(true);
    expect(can(superAdmin, "namespaces.approve", T)).toBe(true);
    for (const v of [admin, member, support, billing]) {
      expect(can(v, "tenants.manage")).toBe(false);
      expect(can(v, "webhooks.read")).toBe(false);
      expect(can(v, "namespaces.approve", T)).toBe(false);
    }
  });
  it("gives a member no admin actions", () => {
    for (const cap of [
      "tenant.settings", "audit.read", "namespaces.read", "namespaces.manage", "events.manage",
      "ledger.read", "billing.read", "bets.read_all", "payments.read_all",
    ] as const) {
      expect(can(member, cap, T)).toBe(false);
    }
    expect(can(member, "events.read", T)).toBe(true);
    expect(can(member, "bets.place", T)).toBe(true);
    expect(can(member, "wallet.use", T)).toBe(true);
  });
  it("lets tenant admins and support users read the audit log and namespaces, only admins change them", () => {
    expect(can(admin, "audit.read", T)).toBe(true);
    expect(can(support, "audit.read", T)).toBe(true);
    expect(can(support, "namespaces.read", T)).toBe(true);
    expect(can(support, "namespaces.manage", T)).toBe(false);
    expect(can(admin, "namespaces.manage", T)).toBe(true);
    expect(can(admin, "tenant.settings", T)).toBe(true);
    expect(can(support, "tenant.settings", T)).toBe(false);
    expect(can(billing, "audit.read", T)).toBe(false);
    expect(can(billing, "namespaces.read", T)).toBe(false);
  });
  it("applies roles only within the caller's own tenant", () => {
    expect(can(admin, "tenant.settings", OTHER)).toBe(false);
    expect(can(admin, "events.read", OTHER)).toBe(false);
    expect(can(superAdmin, "tenant.settings", OTHER)).toBe(true);
    expect(can(superAdmin, "audit.read", T)).toBe(true);
  });
  it("moves money only for members, for themselves", () => {
    expect(can(superAdmin, "wallet.use", T)).toBe(false); // no wallet in another tenant
    for (const v of [admin, support, billing]) {
      expect(can(v, "wallet.use", T)).toBe(false);
      expect(can(v, "bets.place", T)).toBe(false);
      expect(can(v, "payments.read_all", T)).toBe(true);
      expect(can(v, "bets.read_all", T)).toBe(true);
    }
    expect(can(billing, "ledger.read", T)).toBe(true);
    expect(can(support, "ledger.read", T)).toBe(false);
    expect(can(member, "wallet.use", OTHER)).toBe(false);
  });
  it("names the roles a capability needs", () => {
    expect(rolesFor("tenants.manage")).toEqual(["super_admin"]);
    expect(rolesFor("audit.read")).toEqual(["super_admin", "tenant_admin", "support_user"]);
    expect(rolesFor("wallet.use")).toEqual(["member"]);
  });
});

describe("navigation", () => {
  it("shows Tenants and Webhook events to super admins only", () => {
    expect(platformNav(superAdmin).map((i) => i.label)).toEqual(["Overview", "Tenants", "Approvals", "Webhook events"]);
    expect(platformNav(member).map((i) => i.label)).toEqual(["Overview"]);
    expect(platformNav(admin).map((i) => i.label)).toEqual(["Overview"]);
  });
  it("shows each role its screens", () => {
    expect(tenantNav(member, T).map((i) => i.label)).toEqual(["Events", "My bets", "Wallet", "Catalog"]);
    expect(tenantNav(billing, T).map((i) => i.label)).toEqual(["Events", "Bets", "Payments", "Ledger", "Billing", "Catalog"]);
    expect(tenantNav(support, T).map((i) => i.label)).toEqual(["Namespaces", "Events", "Bets", "Payments", "Audit log", "Catalog"]);
    expect(tenantNav(admin, T).map((i) => i.label)).toEqual([
      "Namespaces", "Events", "Bets", "Payments", "Ledger", "Billing", "Audit log", "Settings", "Catalog",
    ]);
    expect(tenantNav(superAdmin, T).map((i) => i.label)).toEqual([
      "Namespaces", "Events", "Bets", "Payments", "Ledger", "Billing", "Audit log", "Settings", "Catalog",
    ]);
    expect(tenantNav(admin, T)[0]).toEqual({ to: `/app/tenants/${T}/namespaces`, label: "Namespaces" });
  });
  it("shows nothing of another tenant to a tenant user", () => {
    expect(tenantNav(admin, OTHER)).toEqual([]);
    expect(tenantNav(member, OTHER)).toEqual([]);
  });
});
