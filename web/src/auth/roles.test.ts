import { describe, expect, it } from "vitest";
import { can, platformNav, rolesFor, tenantNav, type Viewer } from "./roles";
import type { FeatureSet } from "../features";

const T = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
const OTHER = "11111111-1111-4111-8111-111111111111";
const superAdmin: Viewer = { roles: ["super_admin"], tenantId: null };
const admin: Viewer = { roles: ["tenant_admin"], tenantId: T };
const member: Viewer = { roles: ["member"], tenantId: T };
const support: Viewer = { roles: ["support_user"], tenantId: T };
const billing: Viewer = { roles: ["billing_viewer"], tenantId: T };
const none: FeatureSet = { namespaces: false, events: false, bets: false, wallet: false, ledger: false, billing: false };
const all: FeatureSet = { namespaces: true, events: true, bets: true, wallet: true, ledger: true, billing: true };

describe("can", () => {
  it("lets only super admins manage tenants", () => {
    expect(can(superAdmin, "tenants.manage")).toBe(true);
    for (const v of [admin, member, support, billing]) expect(can(v, "tenants.manage")).toBe(false);
  });
  it("gives a member no admin actions", () => {
    for (const cap of ["tenant.settings", "audit.read", "namespaces.manage", "events.manage", "ledger.read", "billing.read", "bets.read_all"] as const) {
      expect(can(member, cap, T)).toBe(false);
    }
    expect(can(member, "events.read", T)).toBe(true);
    expect(can(member, "bets.place", T)).toBe(true);
    expect(can(member, "wallet.use", T)).toBe(true);
  });
  it("lets tenant admins and support users read the audit log, only admins edit settings", () => {
    expect(can(admin, "audit.read", T)).toBe(true);
    expect(can(support, "audit.read", T)).toBe(true);
    expect(can(admin, "tenant.settings", T)).toBe(true);
    expect(can(support, "tenant.settings", T)).toBe(false);
    expect(can(billing, "audit.read", T)).toBe(false);
  });
  it("applies roles only within the caller's own tenant", () => {
    expect(can(admin, "tenant.settings", OTHER)).toBe(false);
    expect(can(admin, "events.read", OTHER)).toBe(false);
    expect(can(superAdmin, "tenant.settings", OTHER)).toBe(true);
    expect(can(superAdmin, "audit.read", T)).toBe(true);
  });
  it("keeps money movement personal and away from support users", () => {
    expect(can(superAdmin, "wallet.use", T)).toBe(false); // no wallet in another tenant
    expect(can(support, "wallet.use", T)).toBe(false);
    expect(can(support, "bets.place", T)).toBe(false);
    expect(can(billing, "ledger.read", T)).toBe(true);
    expect(can(member, "wallet.use", OTHER)).toBe(false);
  });
  it("names the roles a capability needs", () => {
    expect(rolesFor("tenants.manage")).toEqual(["super_admin"]);
    expect(rolesFor("audit.read")).toEqual(["super_admin", "tenant_admin", "support_user"]);
  });
});

describe("navigation", () => {
  it("shows Tenants to super admins only", () => {
    expect(platformNav(superAdmin).map((i) => i.label)).toEqual(["Overview", "Tenants"]);
    expect(platformNav(member).map((i) => i.label)).toEqual(["Overview"]);
    expect(platformNav(admin).map((i) => i.label)).toEqual(["Overview"]);
  });
  it("hides features whose endpoints have not landed", () => {
    expect(tenantNav(admin, T, none).map((i) => i.label)).toEqual(["Audit log", "Settings"]);
    expect(tenantNav(member, T, none)).toEqual([]);
    expect(tenantNav(support, T, none).map((i) => i.label)).toEqual(["Audit log"]);
  });
  it("shows each role its screens once features are on", () => {
    expect(tenantNav(member, T, all).map((i) => i.label)).toEqual(["Events", "Bets", "Wallet"]);
    expect(tenantNav(billing, T, all).map((i) => i.label)).toEqual(["Events", "Bets", "Wallet", "Ledger", "Billing"]);
    expect(tenantNav(superAdmin, T, all).map((i) => i.label)).toEqual([
      "Namespaces", "Events", "Bets", "Ledger", "Billing", "Audit log", "Settings",
    ]);
    expect(tenantNav(admin, T, all)[0]).toEqual({ to: `/app/tenants/${T}/namespaces`, label: "Namespaces" });
  });
  it("shows nothing of another tenant to a tenant user", () => {
    expect(tenantNav(admin, OTHER, all)).toEqual([]);
  });
});
