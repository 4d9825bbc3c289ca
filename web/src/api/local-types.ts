// PLACEHOLDER TYPES, written by hand from SPEC.md section 3 for resources
// whose endpoints are not in openapi/openapi.yaml yet. The screens using them
// are hidden behind src/features.ts. When an endpoint lands, switch its
// screen to the generated types (src/api/types.ts) and delete its type here.

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export type Environment = "dev" | "staging" | "prod";

export interface Namespace {
  id: string;
  tenant_id: string;
  name: string;
  environment: Environment;
  location: string;
  quota: Record<string, unknown> | null;
  /** pending, provisioning, ready, failed, deprovisioning, deleted */
  status: string;
  resource_group: string | null;
  resources: Record<string, unknown> | unknown[] | null;
  last_error: unknown;
  job_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface NamespaceCreate {
  name: string;
  environment: Environment;
  location: string;
  quota?: Record<string, unknown>;
}

export interface JobStep {
  name?: string;
  status?: string;
  [k: string]: unknown;
}

export interface Job {
  id: string;
  kind: string;
  status: "queued" | "running" | "succeeded" | "failed";
  attempts: number;
  max_attempts: number;
  steps: JobStep[];
  last_error: unknown;
  run_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Selection {
  key: string;
  name: string;
  /** decimal string, e.g. "2.50" */
  odds: string;
}

export interface SportEvent {
  id: string;
  name: string;
  sport: string;
  starts_at: string;
  status: string;
  selections: Selection[];
  /** the winning selection key once settled (shape not fixed by the spec) */
  result: unknown;
  created_at: string;
  updated_at: string;
}

export interface SportEventCreate {
  name: string;
  sport: string;
  starts_at: string;
  selections: Selection[];
}

export type BetStatus = "pending" | "accepted" | "rejected" | "won" | "lost" | "void";

export interface Bet {
  id: string;
  user_id: string;
  event_id: string;
  selection: string;
  stake_minor: number;
  currency: string;
  odds: string;
  potential_payout_minor: number;
  payout_minor: number | null;
  status: BetStatus;
  created_at: string;
  settled_at: string | null;
}

export interface BetCreate {
  event_id: string;
  selection: string;
  stake_minor: number;
  currency: string;
}

export interface Payment {
  id: string;
  user_id: string;
  direction: "deposit" | "withdrawal";
  amount_minor: number;
  currency: string;
  status: "pending" | "succeeded" | "failed";
  created_at: string;
}

export interface PaymentCreate {
  direction: "deposit" | "withdrawal";
  amount_minor: number;
  currency: string;
}

export interface Wallet {
  balances: { currency: string; available_minor: number }[];
}

export interface LedgerEntry {
  account: string;
  amount_minor: number;
  currency: string;
}

export interface LedgerTransaction {
  id: string;
  kind: "deposit" | "withdrawal" | "stake" | "payout" | "refund";
  reference: string | null;
  entries: LedgerEntry[];
  created_at: string;
}

/** Invoices, subscriptions and usage: SPEC.md names no fields; shown as
 * whatever members the server sends. */
export type BillingRecord = Record<string, unknown> & { id?: string; created_at?: string };
