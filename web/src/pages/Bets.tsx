// Bets: a member's own, or every member's for tenant admins, support users
// and billing viewers. Unsettled bets are polled so a bet is seen to settle.
import { Link, useSearchParams } from "react-router";
import { api, call } from "../api/client";
import type { Bet, BetStatus as BetStatusT } from "../api/types";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { PagedTable } from "../components/PagedTable";
import { BetStatusChart } from "../components/StatusCharts";
import { useTenantScope } from "../components/tenantContext";
import { Field, Money, PageHeader, SelectField, StatusBadge, Time, Toolbar } from "../components/ui";
import { UUID_PATTERN } from "../lib/format";
import { dataOf } from "../lib/useLoad";
import { useEventIndex } from "../lib/useEventIndex";
import { usePaged, usePoll } from "../lib/usePaged";
import { eventPath } from "./Events";

const STATUSES: BetStatusT[] = ["pending", "accepted", "rejected", "won", "lost", "void"];
const POLL_MS = 3000;

const REJECTIONS: Record<string, string> = {
  insufficient_funds: "the wallet did not cover the stake",
  expired: "it could not be completed in time",
};

/** What a bet returns: the payout once settled, else what a win would pay. */
export function BetReturns({ bet }: { bet: Bet }) {
  if (bet.payout_minor !== null) return <Money minor={bet.payout_minor} currency={bet.currency} />;
  if (bet.status === "rejected") return <span className="muted">—</span>;
  return (
    <span className="muted" title="If it wins">
      up to <Money minor={bet.potential_payout_minor} currency={bet.currency} />
    </span>
  );
}

export function BetStatus({ bet }: { bet: Bet }) {
  return (
    <span className="status-cell" data-testid="bet-status">
      <StatusBadge status={bet.status} />
      {bet.status === "rejected" && bet.rejection_reason && <span className="small muted">{REJECTIONS[bet.rejection_reason] ?? bet.rejection_reason}</span>}
      {bet.settled_at && (
        <span className="small muted">
          <Time iso={bet.settled_at} />
        </span>
      )}
    </span>
  );
}

export function Bets() {
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const all = can(viewer, "bets.read_all", tenantId);
  const [search, setSearch] = useSearchParams();
  const status = STATUSES.find((s) => s === search.get("status"));
  const eventId = search.get("event_id") ?? "";
  const userId = all ? search.get("user_id") ?? "" : "";
  const eventFilter = UUID_PATTERN.test(eventId) ? eventId : undefined;
  const userFilter = UUID_PATTERN.test(userId) ? userId : undefined;
  const { load, reload, page, dispatch } = usePaged(
    (cursor) =>
      call(
        api.GET("/v1/tenants/{tenant_id}/bets", {
          params: {
            path: { tenant_id: tenantId },
            query: {
              limit: 20,
              cursor: cursor ?? undefined,
              status,
              event_id: eventFilter,
              user_id: userFilter,
            },
          },
        }),
      ),
    [tenantId, status, eventFilter, userFilter],
  );
  const bets = dataOf(load)?.data ?? [];
  usePoll(bets.some((b) => b.status === "pending" || b.status === "accepted"), reload, POLL_MS);
  const events = useEventIndex(tenantId, bets.map((b) => b.event_id));
  const setFilter = (k: string, v: string) => {
    const next = new URLSearchParams(search);
    if (v) next.set(k, v);
    else next.delete(k);
    setSearch(next);
  };
  const filtered = !!(status || eventId || userId);

  return (
    <>
      <PageHeader title={all ? "Bets" : "My bets"} />
      <BetStatusChart
        tenantId={tenantId}
        userId={all ? userFilter : undefined}
        mine={!all}
        version={bets.map((b) => `${b.id}:${b.status}`).join(",")}
      />
      <Toolbar label="Filter bets">
        <SelectField
          label="Status"
          name="status"
          className="field-inline"
          value={status ?? ""}
          options={[{ value: "", label: "Any" }, ...STATUSES.map((s) => ({ value: s, label: s }))]}
          onChange={(e) => setFilter("status", e.target.value)}
        />
        {all && (
          <Field
            label="Member id"
            name="user_id"
            className="field-inline field-id"
            placeholder="any member"
            value={userId}
            error={userId && !UUID_PATTERN.test(userId) ? "Not a member id" : undefined}
            onChange={(e) => setFilter("user_id", e.target.value.trim())}
          />
        )}
        {eventId && (
          <button type="button" className="btn btn-quiet" onClick={() => setFilter("event_id", "")}>
            All events
          </button>
        )}
      </Toolbar>
      <PagedTable<Bet>
        label="Bets"
        load={load}
        reload={reload}
        page={page}
        dispatch={dispatch}
        empty={filtered ? "No bets match these filters." : all ? "No bets yet." : "You have not placed a bet yet. Pick an event to bet on."}
        head={
          <tr>
            <th scope="col">Placed</th>
            <th scope="col">Event</th>
            <th scope="col">Pick</th>
            <th scope="col" className="num">
              Stake
            </th>
            <th scope="col" className="num">
              Odds
            </th>
            <th scope="col" className="num">
              Returns
            </th>
            <th scope="col">Status</th>
            {all && <th scope="col">Member</th>}
          </tr>
        }
        row={(b) => {
          const ev = events.get(b.event_id);
          return (
            <tr key={b.id} data-bet={b.id}>
              <td data-label="Placed" className="nowrap">
                <Time iso={b.created_at} />
              </td>
              <td data-label="Event">
                <Link to={eventPath(tenantId, b.event_id)}>{ev?.name ?? "Event"}</Link>
              </td>
              <td data-label="Pick">
                {ev?.selections.find((s) => s.key === b.selection)?.name ?? b.selection}
                {ev?.result && ev.result === b.selection && <span className="sr-only"> (the winner)</span>}
              </td>
              <td data-label="Stake" className="num">
                <Money minor={b.stake_minor} currency={b.currency} />
              </td>
              <td data-label="Odds" className="num">
                {b.odds}
              </td>
              <td data-label="Returns" className="num">
                <BetReturns bet={b} />
              </td>
              <td data-label="Status">
                <BetStatus bet={b} />
              </td>
              {all && (
                <td data-label="Member">
                  <button type="button" className="btn-link small" title={`Only ${b.user_id}'s bets`} onClick={() => setFilter("user_id", b.user_id)}>
                    <code>{b.user_id.slice(0, 8)}</code>
                  </button>
                </td>
              )}
            </tr>
          );
        }}
      />
    </>
  );
}
