// The numbers behind the billing overview: month ranges, the monthly
// invoice totals as chart series, and CSV download names. Pure.
import type { BillingTotals } from "../api/types";

/** "2026-03" for a Date (UTC). */
export function monthOf(d: Date): string {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** The `n` months to the one of `now` (inclusive), as from/to. */
export function lastMonths(n: number, now = new Date()): { from: string; to: string } {
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (n - 1), 1));
  return { from: monthOf(first), to: monthOf(now) };
}

/** Every month from `from` to `to` ("YYYY-MM", inclusive). */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let y = Number(from.slice(0, 4));
  let m = Number(from.slice(5, 7));
  const ty = Number(to.slice(0, 4));
  const tm = Number(to.slice(5, 7));
  while ((y < ty || (y === ty && m <= tm)) && out.length < 1200) {
    out.push(`${y}-${String(m).padStart(2, "0")}`);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return out;
}

export interface MonthlySeries {
  currency: string;
  /** one per month of `months`, in minor units (0 for a month without invoices) */
  totals: number[];
}

/** Invoice totals per currency over `months` (rows of unknown currency,
 * i.e. not synced yet, are left out: they are counted, not summed). */
export function monthlyTotals(rows: BillingTotals["data"], months: readonly string[]): MonthlySeries[] {
  const byCurrency = new Map<string, number[]>();
  for (const r of rows) {
    if (!r.currency || r.total_minor === null) continue;
    const i = months.indexOf(r.month);
    if (i < 0) continue;
    const arr = byCurrency.get(r.currency) ?? months.map(() => 0);
    arr[i] = (arr[i] ?? 0) + r.total_minor;
    byCurrency.set(r.currency, arr);
  }
  return [...byCurrency.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, totals]) => ({ currency, totals }));
}

/** Seconds since the epoch at the start of a "YYYY-MM" month (UTC). */
export function monthStart(month: string): number {
  return Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1, 1) / 1000;
}

/** The file name of a Content-Disposition header, else `fallback`. Only
 * a plain name is kept (no path). */
export function csvFileName(disposition: string | null, fallback: string): string {
  const m = /filename="([^"]+)"/.exec(disposition ?? "");
  const name = m?.[1]?.split(/[\\/]/).pop();
  return name && /^[\w.-]+$/.test(name) ? name : fallback;
}
