// The charts of the list screens: namespaces by state, bets by status, and
// members' wallet balances over time (from the ledger). Each loads its own
// numbers (a few pages of the list, without the table's filters) and says
// so when it saw only the newest part.
import { api, call } from "../api/client";
import type { Bet, LedgerTransaction, Namespace } from "../api/types";
import { balanceSeries, countBy, countSummary, loadPages } from "../lib/charts";
import { formatTime } from "../lib/format";
import { formatMoney } from "../lib/money";
import { dataOf, useLoad } from "../lib/useLoad";
import { BarChart, LineChart } from "./Chart";
import { ErrorBanner, Loading, Time } from "./ui";

const PAGES = 5;

const NS_STATES = ["pending", "provisioning", "ready", "failed", "deprovisioning"];

/** Namespaces (not deleted) by state; `version` changes when the screen's
 * list saw a change, so the chart follows the live status. */
export function NamespaceStateChart({ tenantId, version }: { tenantId: string; version: string }) {
  const [load, reload] = useLoad(
    () =>
      loadPages<Namespace>(
        (cursor) => call(api.GET("/v1/tenants/{tenant_id}/namespaces", { params: { path: { tenant_id: tenantId }, query: { limit: 100, cursor: cursor ?? undefined } } })),
        PAGES,
      ),
    [tenantId, version],
  );
  const d = dataOf(load);
  if (!d) return load.kind === "error" ? <ErrorBanner error={load.error} onRetry={reload} /> : <Loading what="Counting namespaces" />;
  const bars = countBy(d.items, (n) => n.status, NS_STATES);
  const more = d.complete ? "" : ` (the newest ${d.items.length})`;
  return (
    <BarChart
      title={`Namespaces by state${more}`}
      testId="chart-namespaces"
      summary={`Namespaces by state${more}: ${countSummary(bars, "none yet")}.`}
      bars={bars}
    />
  );
}

const BET_STATUSES = ["pending", "accepted", "won", "lost", "void", "rejected"];

/** Bets by status (a member's own; every member's, or one's, for admins). */
export function BetStatusChart({ tenantId, userId, version, mine }: { tenantId: string; userId: string | undefined; version: string; mine: boolean }) {
  const [load, reload] = useLoad(
    () =>
      loadPages<Bet>(
        (cursor) =>
          call(api.GET("/v1/tenants/{tenant_id}/bets", { params: { path: { tenant_id: tenantId }, query: { limit: 100, cursor: cursor ?? undefined, user_id: userId } } })),
        PAGES,
      ),
    [tenantId, userId, version],
  );
  const d = dataOf(load);
  if (!d) return load.kind === "error" ? <ErrorBanner error={load.error} onRetry={reload} /> : <Loading what="Counting bets" />;
  const bars = countBy(d.items, (b) => b.status, BET_STATUSES);
  const what = mine ? "Your bets by status" : "Bets by status";
  const more = d.complete ? "" : ` (the newest ${d.items.length})`;
  return <BarChart title={`${what}${more}`} testId="chart-bets" summary={`${what}${more}: ${countSummary(bars, "no bets yet")}.`} bars={bars} />;
}

/** Members' wallets (or one member's) over time, per currency, from the
 * ledger's wallet entries. */
export function BalanceChart({ tenantId, userId }: { tenantId: string; userId: string | undefined }) {
  const [load, reload] = useLoad(
    () =>
      loadPages<LedgerTransaction>(
        (cursor) =>
          call(api.GET("/v1/tenants/{tenant_id}/ledger", { params: { path: { tenant_id: tenantId }, query: { limit: 100, cursor: cursor ?? undefined, user_id: userId } } })),
        PAGES,
      ),
    [tenantId, userId],
  );
  const d = dataOf(load);
  if (!d) return load.kind === "error" ? <ErrorBanner error={load.error} onRetry={reload} /> : <Loading what="Adding up balances" />;
  const whose = userId ? `Member ${userId.slice(0, 8)}’s wallet` : "Members’ wallets";
  const all = balanceSeries(d.items, { userId });
  if (all.length === 0) return null;
  return (
    <>
      {all.map((s) => {
        const first = s.points[0];
        const last = s.points[s.points.length - 1];
        if (!first || !last) return null;
        const money = (minor: number) => formatMoney(minor, s.currency);
        const lo = Math.min(...s.points.map((p) => p.minor));
        const hi = Math.max(...s.points.map((p) => p.minor));
        const since = formatTime(new Date(first.t * 1000).toISOString());
        const title = d.complete ? `${whose} in ${s.currency}, over time` : `${whose} in ${s.currency}: change since ${since}`;
        const summary = d.complete
          ? `${title}: ${money(first.minor)} after the first movement (${since}), ${money(last.minor)} now; lowest ${money(lo)}, highest ${money(hi)}; ${s.points.length} changes.`
          : `${title} (the newest ${d.items.length} transactions): ${money(last.minor)} net, lowest ${money(lo)}, highest ${money(hi)}.`;
        return (
          <LineChart
            key={s.currency}
            title={title}
            summary={summary}
            testId={`chart-balance-${s.currency}`}
            x={s.points.map((p) => p.t)}
            series={[{ name: s.currency, values: s.points.map((p) => p.minor) }]}
            format={(v) => money(v)}
            table={
              <table className="table chart-table">
                <caption className="sr-only">{title}</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col" className="num">
                      Balance
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {s.points.map((p) => (
                    <tr key={p.t}>
                      <td>
                        <Time iso={new Date(p.t * 1000).toISOString()} />
                      </td>
                      <td className="num">{money(p.minor)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            }
          />
        );
      })}
    </>
  );
}
