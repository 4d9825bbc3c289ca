// Role-aware gating (SPEC.md section 2, as the server enforces it: each
// route's roles in handlers/*.c). The server is the authority (it answers
// 403/404 anyway); this decides what the portal offers and shows.
import type { Role } from "../api/types";

export interface Viewer {
  roles: readonly Role[];
  /** The caller's own tenant id, null for the operator's directory. */
  tenantId: string | null;
}

export type Capability =
  | "tenants.manage" // list, create, suspend, reactivate, delete tenants
  | "webhooks.read" // the webhook inbox of every provider (platform-wide)
  | "tenant.read" // see the tenant's overview
  | "tenant.settings" // edit the tenant's settings
  | "audit.read"
  | "namespaces.read" // namespaces and their jobs
  | "namespaces.manage" // create, delete, resize
  | "namespaces.approve" // approve or reject prod namespaces (platform-wide)
  | "events.read"
  | "events.manage" // create, open/close, change odds, post results, cancel
  | "bets.place" // own bets (members only)
  | "bets.read" // own bets, or everyone's for those with bets.read_all
  | "bets.read_all"
  | "wallet.use" // own wallet: balance, deposit, withdraw, own payments (members only)
  | "payments.read_all" // every member's payments and wallets
  | "ledger.read"
  | "billing.read" // invoices, subscriptions, usage
  | "catalog.read" // products, services, categories, media, cable plans
  | "catalog.manage" // the tenant's private items, prices and media
  | "billing.connect"; // connect or disconnect the tenant's QuickBooks company

const ALL: readonly Role[] = ["super_admin", "tenant_admin", "billing_viewer", "support_user", "member"];

/** Roles (within the caller's own tenant) that grant each capability.
 * super_admin is handled separately: it applies in every tenant, except for
 * `personal` capabilities, which need a user of that very tenant. */
const RULES: Record<Capability, { roles: readonly Role[]; personal?: boolean }> = {
  "tenants.manage": { roles: ["super_admin"] },
  "webhooks.read": { roles: ["super_admin"] },
  "tenant.read": { roles: ALL },
  "tenant.settings": { roles: ["tenant_admin"] },
  "audit.read": { roles: ["tenant_admin", "support_user"] },
  "namespaces.read": { roles: ["tenant_admin", "support_user"] },
  "namespaces.manage": { roles: ["tenant_admin"] },
  "namespaces.approve": { roles: ["super_admin"] },
  "events.read": { roles: ALL },
  "events.manage": { roles: ["tenant_admin"] },
  // Money moves only for the caller itself, and only for a member (a user of
  // the tenant with no other role): admins, support users and billing
  // viewers read money, they do not move it.
  "bets.place": { roles: ["member"], personal: true },
  "bets.read": { roles: ALL },
  "bets.read_all": { roles: ["tenant_admin", "support_user", "billing_viewer"] },
  "wallet.use": { roles: ["member"], personal: true },
  "payments.read_all": { roles: ["tenant_admin", "support_user", "billing_viewer"] },
  "ledger.read": { roles: ["tenant_admin", "billing_viewer"] },
  "billing.read": { roles: ["tenant_admin", "billing_viewer"] },
  "catalog.read": { roles: ALL },
  "catalog.manage": { roles: ["tenant_admin"] },
  "billing.connect": { roles: ["tenant_admin"] },
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
  if (cap === "tenants.manage" || cap === "webhooks.read" || cap === "namespaces.approve") return false;
  if (!own) return false;
  return v.roles.some((r) => rule.roles.includes(r));
}

export interface NavItem {
  to: string;
  label: string;
}

/** Navigation of one tenant's screens that `v` may use. */
export function tenantNav(v: Viewer, tenantId: string): NavItem[] {
  const base = `/app/tenants/${encodeURIComponent(tenantId)}`;
  const allBets = can(v, "bets.read_all", tenantId);
  const items: { cap: Capability; path: string; label: string }[] = [
    { cap: "namespaces.read", path: "namespaces", label: "Namespaces" },
    { cap: "events.read", path: "events", label: "Events" },
    { cap: "bets.read", path: "bets", label: allBets ? "Bets" : "My bets" },
    { cap: "wallet.use", path: "wallet", label: "Wallet" },
    { cap: "payments.read_all", path: "payments", label: "Payments" },
    { cap: "ledger.read", path: "ledger", label: "Ledger" },
    { cap: "billing.read", path: "billing", label: "Billing" },
    { cap: "audit.read", path: "audit", label: "Audit log" },
    { cap: "tenant.settings", path: "settings", label: "Settings" },
    { cap: "catalog.read", path: "catalog", label: "Catalog" },
  ];
  return items.filter((i) => can(v, i.cap, tenantId)).map((i) => ({ to: `${base}/${i.path}`, label: i.label }));
}

/** Platform-wide navigation (not tied to a tenant). */
export function platformNav(v: Viewer): NavItem[] {
  const items: NavItem[] = [{ to: "/app", label: "Overview" }];
  if (can(v, "tenants.manage")) items.push({ to: "/app/tenants", label: "Tenants" });
  if (can(v, "namespaces.approve")) items.push({ to: "/app/approvals", label: "Approvals" });
  if (can(v, "webhooks.read")) items.push({ to: "/app/webhooks", label: "Webhook events" });
  return items;
}

export const ROLE_LABELS: Record<Role, string> = {
  super_admin: "Super admin",
  tenant_admin: "Tenant admin",
  billing_viewer: "Billing viewer",
  support_user: "Support",
  member: "Member",
};
