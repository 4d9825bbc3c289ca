// The tenant's double-entry ledger (tenant admins, billing viewers): every
// deposit, withdrawal, stake, payout and refund with its entries.
import { useSearchParams } from "react-router";
import { api, call } from "../api/client";
import type { LedgerAccount, LedgerTransaction, LedgerTransactionKind } from "../api/types";
import { PagedTable } from "../components/PagedTable";
import { BalanceChart } from "../components/StatusCharts";
import { useTenantScope } from "../components/tenantContext";
import { Field, Money, PageHeader, SelectField, Time, Toolbar } from "../components/ui";
import { UUID_PATTERN } from "../lib/format";
import { usePaged } from "../lib/usePaged";

const KINDS: { value: LedgerTransactionKind; label: string }[] = [
  { value: "deposit", label: "Deposit" },
  { value: "withdrawal", label: "Withdrawal" },
  { value: "stake", label: "Stake" },
  { value: "payout", label: "Payout" },
  { value: "refund", label: "Refund" },
];

function Account({ a }: { a: LedgerAccount }) {
  switch (a.kind) {
    case "house":
      return <span className="account account-house">House</span>;
    case "external":
      return <span className="account account-external">External</span>;
    default:
      return (
        <span className="account account-wallet" title={a.user_id ?? undefined}>
          Wallet <code>{(a.user_id ?? "").slice(0, 8)}</code>
        </span>
      );
  }
}

export function Ledger() {
  const { tenantId } = useTenantScope();
  const [search, setSearch] = useSearchParams();
  const kind = KINDS.find((k) => k.value === search.get("kind"))?.value;
  const rawUser = search.get("user_id") ?? "";
  const rawRef = search.get("reference") ?? "";
  const userId = UUID_PATTERN.test(rawUser) ? rawUser : undefined;
  const reference = UUID_PATTERN.test(rawRef) ? rawRef : undefined;
  const list = usePaged(
    (cursor) =>
      call(
        api.GET("/v1/tenants/{tenant_id}/ledger", {
          params: { path: { tenant_id: tenantId }, query: { limit: 25, cursor: cursor ?? undefined, kind, user_id: userId, reference } },
        }),
      ),
    [tenantId, kind, userId, reference],
  );
  const setFilter = (k: string, v: string) => {
    const next = new URLSearchParams(search);
    if (v) next.set(k, v);
    else next.delete(k);
    setSearch(next);
  };
  const filtered = !!(kind || rawUser || rawRef);
  return (
    <>
      <PageHeader title="Ledger" />
      <p className="lead-text muted">Every movement of money, as double-entry transactions: the entries of each sum to zero.</p>
      <BalanceChart tenantId={tenantId} userId={userId} />
      <Toolbar label="Filter the ledger">
        <SelectField
          label="Kind"
          name="kind"
          className="field-inline"
          value={kind ?? ""}
          options={[{ value: "", label: "Any" }, ...KINDS]}
          onChange={(e) => setFilter("kind", e.target.value)}
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
        <Field
          label="Payment or bet id"
          name="reference"
          className="field-inline field-id"
          placeholder="any"
          value={rawRef}
          error={rawRef && !reference ? "Not an id" : undefined}
          onChange={(e) => setFilter("reference", e.target.value.trim())}
        />
        {filtered && (
          <button type="button" className="btn btn-quiet" onClick={() => setSearch({})}>
            Clear
          </button>
        )}
      </Toolbar>
      <PagedTable<LedgerTransaction>
        label="Ledger transactions"
        {...list}
        empty={filtered ? "No transactions match these filters." : "No money has moved yet."}
        head={
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">Member</th>
            <th scope="col">Reference</th>
            <th scope="col">Entries</th>
          </tr>
        }
        row={(t) => (
          <tr key={t.id} data-kind={t.kind}>
            <td data-label="When" className="nowrap">
              <Time iso={t.created_at} />
            </td>
            <td data-label="Kind">
              <span className={`kind kind-${t.kind}`}>{KINDS.find((k) => k.value === t.kind)?.label ?? t.kind}</span>
            </td>
            <td data-label="Member">
              <button type="button" className="btn-link small" title={`Only ${t.user_id}'s transactions`} onClick={() => setFilter("user_id", t.user_id)}>
                <code>{t.user_id.slice(0, 8)}</code>
              </button>
            </td>
            <td data-label="Reference">
              <button type="button" className="btn-link small" title={t.reference} onClick={() => setFilter("reference", t.reference)}>
                <code>{t.reference.slice(0, 8)}</code>
              </button>
            </td>
            <td data-label="Entries">
              <ul className="entries">
                {t.entries.map((e, i) => (
                  <li key={i}>
                    <Account a={e.account} />
                    <Money minor={e.amount_minor} currency={e.currency} signed />
                  </li>
                ))}
              </ul>
            </td>
          </tr>
        )}
      />
    </>
  );
}
