// Every member's payments (tenant admins, support users, billing viewers),
// with one member's wallet when filtered to that member. Read-only.
import { useSearchParams } from "react-router";
import { api, call } from "../api/client";
import type { Payment } from "../api/types";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Field, Loading, Money, PageHeader, SelectField, StatusBadge, Time, Toolbar } from "../components/ui";
import { UUID_PATTERN } from "../lib/format";
import { dataOf, useLoad } from "../lib/useLoad";
import { usePaged } from "../lib/usePaged";
import { Balances, DIRECTIONS, PAYMENT_STATUSES } from "./Wallet";

export function Payments() {
  const { tenantId } = useTenantScope();
  const path = { tenant_id: tenantId };
  const [search, setSearch] = useSearchParams();
  const direction = DIRECTIONS.find((d) => d === search.get("direction"));
  const status = PAYMENT_STATUSES.find((s) => s === search.get("status"));
  const currency = /^[A-Z]{3}$/.test(search.get("currency") ?? "") ? search.get("currency") ?? undefined : undefined;
  const rawUser = search.get("user_id") ?? "";
  const userId = UUID_PATTERN.test(rawUser) ? rawUser : undefined;
  const list = usePaged(
    (cursor) =>
      call(
        api.GET("/v1/tenants/{tenant_id}/payments", {
          params: { path, query: { limit: 20, cursor: cursor ?? undefined, direction, status, currency, user_id: userId } },
        }),
      ),
    [tenantId, direction, status, currency, userId],
  );
  const setFilter = (k: string, v: string) => {
    const next = new URLSearchParams(search);
    if (v) next.set(k, v);
    else next.delete(k);
    setSearch(next);
  };
  const filtered = !!(direction || status || currency || rawUser);

  return (
    <>
      <PageHeader title="Payments" />
      <p className="lead-text muted">Deposits and withdrawals of every member. Filter by a member to see their wallet.</p>
      <Toolbar label="Filter payments">
        <SelectField
          label="Kind"
          name="direction"
          className="field-inline"
          value={direction ?? ""}
          options={[{ value: "", label: "Deposits and withdrawals" }, { value: "deposit", label: "Deposits" }, { value: "withdrawal", label: "Withdrawals" }]}
          onChange={(e) => setFilter("direction", e.target.value)}
        />
        <SelectField
          label="Status"
          name="status"
          className="field-inline"
          value={status ?? ""}
          options={[{ value: "", label: "Any" }, ...PAYMENT_STATUSES.map((s) => ({ value: s, label: s }))]}
          onChange={(e) => setFilter("status", e.target.value)}
        />
        <Field
          label="Member id"
          name="user_id"
          className="field-inline field-id"
          placeholder="any member"
          value={rawUser}
          error={rawUser && !userId ? "Not a member id" : undefined}
          onChange={(e) => setFilter("user_id", e.target.value.trim())}
        />
        {filtered && (
          <button type="button" className="btn btn-quiet" onClick={() => setSearch({})}>
            Clear
          </button>
        )}
      </Toolbar>
      {userId && <MemberWallet tenantId={tenantId} userId={userId} />}
      <PagedTable<Payment>
        label="Payments"
        {...list}
        empty={filtered ? "No payments match these filters." : "No payments yet."}
        head={
          <tr>
            <th scope="col">When</th>
            <th scope="col">Member</th>
            <th scope="col">Kind</th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col">Status</th>
          </tr>
        }
        row={(p) => (
          <tr key={p.id}>
            <td data-label="When" className="nowrap">
              <Time iso={p.created_at} />
            </td>
            <td data-label="Member">
              <button type="button" className="btn-link small" title={`Only ${p.user_id}'s payments`} onClick={() => setFilter("user_id", p.user_id)}>
                <code>{p.user_id.slice(0, 8)}</code>
              </button>
            </td>
            <td data-label="Kind">{p.direction === "deposit" ? "Deposit" : "Withdrawal"}</td>
            <td data-label="Amount" className="num">
              <Money minor={p.direction === "deposit" ? p.amount_minor : -p.amount_minor} currency={p.currency} signed />
            </td>
            <td data-label="Status">
              <StatusBadge status={p.status} />
            </td>
          </tr>
        )}
      />
    </>
  );
}

function MemberWallet({ tenantId, userId }: { tenantId: string; userId: string }) {
  const [load, reload] = useLoad(
    () => call(api.GET("/v1/tenants/{tenant_id}/wallet", { params: { path: { tenant_id: tenantId }, query: { user_id: userId } } })),
    [tenantId, userId],
  );
  const w = dataOf(load);
  return (
    <section className="card" aria-labelledby="member-wallet">
      <h2 id="member-wallet">
        Wallet of member <code>{userId.slice(0, 8)}</code>
      </h2>
      {load.kind === "error" && <ErrorBanner error={load.error} onRetry={reload} />}
      {!w && load.kind === "loading" && <Loading />}
      {w && <Balances wallet={w} empty="This member holds no money." />}
    </section>
  );
}
