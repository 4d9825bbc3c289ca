// Role-aware gating (SPEC.md section 2). The server is the authority (it
// answers 403/404 anyway); this decides what the portal offers and shows.
import type { Role } from "../api/types";
import type { Feature, FeatureSet } from "../features";

export interface Viewer {
  roles: readonly Role[];
  /** The caller's own tenant id, null for the operator's directory. */
  tenantId: string | null;
}

export type Capability =
  | "tenants.manage" // list, create, suspend, reactivate, delete tenants
  | "tenant.read" // see the tenant's overview
  | "tenant.settings" // edit the tenant's settings
  | "audit.read"
  | "namespaces.read"
  | "namespaces.manage"
  | "events.read"
  | "events.manage" // create, edit, post results, cancel
  | "bets.place" // own bets
  | "bets.read" // own bets, or all bets for those with bets.read_all
  | "bets.read_all"
  | "wallet.use" // own wallet: balance, deposit, withdraw, own payments
  | "ledger.read"
  | "billing.read"; // invoices, subscriptions, usage

const ALL: readonly Role[] = ["super_admin", "tenant_admin", "billing_viewer", "support_user", "member"];

/** Roles (within the caller's own tenant) that grant each capability.
 * super_admin is handled separately: it applies in every tenant. */
const RULES: Record<Capability, { roles: readonly Role[]; personal?: boolean }> = {
  "tenants.manage": { roles: ["super_admin"] },
  "tenant.read": { roles: ALL },
  "tenant.settings": { roles: ["tenant_admin"] },
  "audit.read": { roles: ["tenant_admin", "support_user"] },
  "namespaces.read": { roles: ["tenant_admin", "support_user"] },
  "namespaces.manage": { roles: ["tenant_admin"] },
  "events.read": { roles: ALL },
  "events.manage": { roles: ["tenant_admin"] },
  // Money movement and one's own bets need a user of that tenant; a
  // support_user is read-only ("no money movement").
  "bets.place": { roles: ["member", "tenant_admin", "billing_viewer"], personal: true },
  "bets.read": { roles: ALL },
  "bets.read_all": { roles: ["tenant_admin", "support_user"] },
  "wallet.use": { roles: ["member", "tenant_admin", "billing_viewer"], personal: true },
  "ledger.read": { roles: ["tenant_admin", "billing_viewer"] },
  "billing.read": { roles: ["tenant_admin", "billing_viewer"] },
};

/** Which roles a capability needs, in words (for the access-denied page). */
export function rolesFor(cap: Capability): readonly Role[] {
  const r = RULES[cap];
  return r.personal ? r.roles : Array.from(new Set<Role>(["super_admin", ...r.roles]));
}

export function isSuperAdmin(v: Viewer): boolean {
  return v.roles.includes("super_admin");
}

/**
 * May `v` do `cap` in tenant `tenantId` (or platform-wide when omitted)?
 * Outside its own tenant only a super admin may do anything, and a super
 * admin has no wallet or bets of its own in another tenant.
 */
export function can(v: Viewer, cap: Capability, tenantId?: string): boolean {
  const rule = RULES[cap];
  const own = tenantId === undefined ? v.tenantId !== null : tenantId === v.tenantId;
  if (rule.personal) {
    return own && v.tenantId !== null && v.roles.some((r) => rule.roles.includes(r));
  }
  if (isSuperAdmin(v)) return true;
  if (cap === "tenants.manage") return false;
  if (!own) return false;
  return v.roles.some((r) => rule.roles.includes(r));
}

export interface NavItem {
  to: string;
  label: string;
}

/** Navigation of one tenant's screens that `v` may use. */
export function tenantNav(v: Viewer, tenantId: string, features: FeatureSet): NavItem[] {
  const base = `/app/tenants/${encodeURIComponent(tenantId)}`;
  const items: { cap: Capability; feature?: Feature; path: string; label: string }[] = [
    { cap: "namespaces.read", feature: "namespaces", path: "namespaces", label: "Namespaces" },
    { cap: "events.read", feature: "events", path: "events", label: "Events" },
    { cap: "bets.read", feature: "bets", path: "bets", label: "Bets" },
    { cap: "wallet.use", feature: "wallet", path: "wallet", label: "Wallet" },
    { cap: "ledger.read", feature: "ledger", path: "ledger", label: "Ledger" },
    { cap: "billing.read", feature: "billing", path: "billing", label: "Billing" },
    { cap: "audit.read", path: "audit", label: "Audit log" },
    { cap: "tenant.settings", path: "settings", label: "Settings" },
  ];
  return items
    .filter((i) => (i.feature === undefined || features[i.feature]) && can(v, i.cap, tenantId))
    .map((i) => ({ to: `${base}/${i.path}`, label: i.label }));
}

/** Platform-wide navigation (not tied to a tenant). */
export function platformNav(v: Viewer): NavItem[] {
  const items: NavItem[] = [{ to: "/app", label: "Overview" }];
  if (can(v, "tenants.manage")) items.push({ to: "/app/tenants", label: "Tenants" });
  return items;
}

export const ROLE_LABELS: Record<Role, string> = {
  super_admin: "Super admin",
  tenant_admin: "Tenant admin",
  billing_viewer: "Billing viewer",
  support_user: "Support",
  member: "Member",
};
