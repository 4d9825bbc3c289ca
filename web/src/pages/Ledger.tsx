// PLACEHOLDER (FEATURES.ledger): the tenant's ledger transactions (admins,
// billing viewers). Typed locally until …/ledger is in openapi.yaml.
import { useState } from "react";
import type { LedgerTransaction } from "../api/local-types";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { PageHeader, SelectField, Time } from "../components/ui";
import { shortId } from "../lib/format";
import { formatMoney } from "../lib/money";
import { usePagedUntyped } from "../lib/usePaged";

const KINDS = ["", "deposit", "withdrawal", "stake", "payout", "refund"];

export function Ledger() {
  const { tenantId } = useTenantScope();
  const [kind, setKind] = useState("");
  const list = usePagedUntyped<LedgerTransaction>(`/v1/tenants/${encodeURIComponent(tenantId)}/ledger`, kind ? { kind } : {});
  return (
    <>
      <PageHeader title="Ledger" />
      <div className="toolbar">
        <SelectField label="Kind" name="kind" className="field-inline" value={kind} options={KINDS.map((k) => ({ value: k, label: k || "Any" }))} onChange={(e) => setKind(e.target.value)} />
      </div>
      <PagedTable<LedgerTransaction>
        label="Ledger transactions"
        {...list}
        empty="No transactions."
        head={
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">Reference</th>
            <th scope="col">Entries</th>
          </tr>
        }
        row={(t) => (
          <tr key={t.id}>
            <td className="nowrap">
              <Time iso={t.created_at} />
            </td>
            <td>{t.kind}</td>
            <td className="small" title={t.reference ?? undefined}>
              {shortId(t.reference)}
            </td>
            <td>
              <ul className="changes">
                {t.entries.map((e, i) => (
                  <li key={i}>
                    {e.account}: <span className="num">{formatMoney(e.amount_minor, e.currency)}</span>
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
