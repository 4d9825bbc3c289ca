// PLACEHOLDER (FEATURES.bets): the caller's bets (all of the tenant's for
// admins and support). Typed locally until …/bets is in openapi.yaml.
import { useState } from "react";
import { Link } from "react-router";
import type { Bet } from "../api/local-types";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { PageHeader, SelectField, StatusBadge, Time } from "../components/ui";
import { formatMoney } from "../lib/money";
import { shortId } from "../lib/format";
import { usePagedUntyped } from "../lib/usePaged";

const STATUSES = ["", "pending", "accepted", "rejected", "won", "lost", "void"];

export function Bets() {
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const [status, setStatus] = useState("");
  const all = can(viewer, "bets.read_all", tenantId);
  const { load, reload, page, dispatch } = usePagedUntyped<Bet>(`/v1/tenants/${encodeURIComponent(tenantId)}/bets`, status ? { status } : {});
  return (
    <>
      <PageHeader title={all ? "Bets" : "My bets"} />
      <div className="toolbar">
        <SelectField
          label="Status"
          name="status"
          className="field-inline"
          value={status}
          options={STATUSES.map((s) => ({ value: s, label: s || "Any" }))}
          onChange={(e) => setStatus(e.target.value)}
        />
      </div>
      <PagedTable<Bet>
        label="Bets"
        load={load}
        reload={reload}
        page={page}
        dispatch={dispatch}
        empty="No bets."
        head={
          <tr>
            <th scope="col">Placed</th>
            <th scope="col">Event</th>
            <th scope="col">Selection</th>
            <th scope="col">Stake</th>
            <th scope="col">Odds</th>
            <th scope="col">Payout</th>
            <th scope="col">Status</th>
            {all && <th scope="col" className="hide-narrow">User</th>}
          </tr>
        }
        row={(b) => (
          <tr key={b.id}>
            <td className="nowrap">
              <Time iso={b.created_at} />
            </td>
            <td>
              <Link to={`/app/tenants/${tenantId}/events/${b.event_id}`}>{shortId(b.event_id)}</Link>
            </td>
            <td>{b.selection}</td>
            <td className="num">{formatMoney(b.stake_minor, b.currency)}</td>
            <td className="num">{b.odds}</td>
            <td className="num">
              {b.payout_minor != null ? formatMoney(b.payout_minor, b.currency) : <span className="muted">up to {formatMoney(b.potential_payout_minor, b.currency)}</span>}
            </td>
            <td>
              <StatusBadge status={b.status} />
            </td>
            {all && <td className="hide-narrow small">{shortId(b.user_id)}</td>}
          </tr>
        )}
      />
    </>
  );
}
