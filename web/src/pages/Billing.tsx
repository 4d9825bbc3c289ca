// PLACEHOLDER (FEATURES.billing): invoices, subscriptions and usage (from
// QuickBooks and Pax8). SPEC.md names no fields for them, so each list shows
// the members the server sends. Switch to generated types when the
// endpoints are in openapi.yaml.
import { useState } from "react";
import type { BillingRecord } from "../api/local-types";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { PageHeader, Time } from "../components/ui";
import { dataOf } from "../lib/useLoad";
import { usePagedUntyped } from "../lib/usePaged";
import { cx } from "../components/ui";

const TABS = [
  { key: "invoices", label: "Invoices" },
  { key: "subscriptions", label: "Subscriptions" },
  { key: "usage", label: "Usage" },
] as const;

function cell(v: unknown) {
  if (v === null || v === undefined) return <span className="muted">—</span>;
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v)) return <Time iso={v} />;
  if (typeof v === "object") return <code className="small">{JSON.stringify(v)}</code>;
  return String(v);
}

export function Billing() {
  const { tenantId } = useTenantScope();
  const [tab, setTab] = useState<(typeof TABS)[number]["key"]>("invoices");
  const list = usePagedUntyped<BillingRecord>(`/v1/tenants/${encodeURIComponent(tenantId)}/${tab}`, {});
  const rows = dataOf(list.load)?.data ?? [];
  const columns = Array.from(new Set(rows.flatMap((r) => Object.keys(r)))).filter((k) => k !== "tenant_id").slice(0, 8);
  return (
    <>
      <PageHeader title="Billing" />
      <div className="tabs" role="tablist" aria-label="Billing">
        {TABS.map((t) => (
          <button key={t.key} type="button" role="tab" aria-selected={tab === t.key} className={cx("tab", tab === t.key && "tab-active")} onClick={() => setTab(t.key)}>
            {t.label}
          </button>
        ))}
      </div>
      <PagedTable<BillingRecord>
        label={tab}
        {...list}
        empty={`No ${tab} yet.`}
        head={
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {c.replace(/_/g, " ")}
              </th>
            ))}
          </tr>
        }
        row={(r) => (
          <tr key={String(r.id ?? JSON.stringify(r))}>
            {columns.map((c) => (
              <td key={c}>{cell(r[c])}</td>
            ))}
          </tr>
        )}
      />
    </>
  );
}
