// The numbers behind the portal's charts, from the API's lists: counts by
// status, and wallet balances over time from ledger entries. Pure.
import type { Result } from "../api/client";
import type { LedgerTransaction, Page } from "../api/types";

export interface Bar {
  label: string;
  value: number;
}

/** How many items have each status, in `order` (zeros included), then any
 * status `order` does not name. */
export function countBy<T>(items: readonly T[], status: (t: T) => string, order: readonly string[]): Bar[] {
  const counts = new Map<string, number>(order.map((s) => [s, 0]));
  for (const it of items) {
    const s = status(it);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return [...counts.entries()].map(([label, value]) => ({ label, value }));
}

export interface BalancePoint {
  /** seconds since the epoch */
  t: number;
  /** the balance after this moment, in minor units */
  minor: number;
}

export interface BalanceSeries {
  currency: string;
  points: BalancePoint[];
}

/**
 * Members' wallet balances over time, per currency, from ledger
 * transactions (any order): the sum of the `user_wallet` entries (only
 * `userId`'s wallet when given), starting at `start` (0 when the
 * transactions are the whole ledger). Transactions in the same second are
 * one point. Currencies sorted by name.
 */
export function balanceSeries(
  txs: readonly Pick<LedgerTransaction, "created_at" | "entries">[],
  opts: { userId?: string | undefined; start?: Record<string, number> } = {},
): BalanceSeries[] {
  const sorted = [...txs]
    .map((t) => ({ t: Math.floor(Date.parse(t.created_at) / 1000), entries: t.entries }))
    .filter((t) => Number.isFinite(t.t))
    .sort((a, b) => a.t - b.t);
  const balance = new Map<string, number>();
  const series = new Map<string, BalancePoint[]>();
  for (const tx of sorted) {
    for (const e of tx.entries) {
      if (e.account.kind !== "user_wallet") continue;
      if (opts.userId && e.account.user_id !== opts.userId) continue;
      const before = balance.get(e.currency) ?? opts.start?.[e.currency] ?? 0;
      const after = before + e.amount_minor;
      balance.set(e.currency, after);
      const pts = series.get(e.currency) ?? [];
      const last = pts[pts.length - 1];
      if (last && last.t === tx.t) last.minor = after;
      else pts.push({ t: tx.t, minor: after });
      series.set(e.currency, pts);
    }
  }
  return [...series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, points]) => ({ currency, points }));
}

/** Up to `maxPages` pages of a cursor-paginated list, for a chart: the
 * items, and whether there were more (`complete` false). */
export async function loadPages<T>(
  fetchPage: (cursor: string | null) => Promise<Result<Page<T>>>,
  maxPages: number,
): Promise<Result<{ items: T[]; complete: boolean }>> {
  const items: T[] = [];
  let cursor: string | null = null;
  let response: Response | undefined;
  for (let i = 0; i < maxPages; i++) {
    const r: Result<Page<T>> = await fetchPage(cursor);
    if (!r.ok) return r;
    response = r.response;
    items.push(...r.data.data);
    cursor = r.data.next_cursor;
    if (!cursor) return { ok: true, data: { items, complete: true }, response };
  }
  return { ok: true, data: { items, complete: false }, response: response ?? new Response(null) };
}

/** "3 ready, 1 failed" (the counts that are not zero), or `none`. */
export function countSummary(bars: readonly Bar[], none: string): string {
  const parts = bars.filter((b) => b.value > 0).map((b) => `${b.value} ${b.label}`);
  return parts.length > 0 ? parts.join(", ") : none;
}
