// The webhook inbox (super admins): every QuickBooks and Pax8 event, with
// what became of it.
import { Link, useSearchParams } from "react-router";
import { api, call } from "../api/client";
import type { WebhookEvent, WebhookEventStatus, WebhookProvider } from "../api/types";
import { PagedTable } from "../components/PagedTable";
import { Field, JsonBlock, PageHeader, SelectField, StatusBadge, Time, Toolbar } from "../components/ui";
import { UUID_PATTERN } from "../lib/format";
import { usePaged } from "../lib/usePaged";

const PROVIDERS: { value: WebhookProvider; label: string }[] = [
  { value: "quickbooks", label: "QuickBooks" },
  { value: "pax8", label: "Pax8" },
];
const STATUSES: WebhookEventStatus[] = ["received", "processed", "unmatched", "rejected", "failed"];

export function WebhookEvents() {
  const [search, setSearch] = useSearchParams();
  const provider = PROVIDERS.find((p) => p.value === search.get("provider"))?.value;
  const status = STATUSES.find((s) => s === search.get("status"));
  const rawTenant = search.get("tenant_id") ?? "";
  const tenantId = UUID_PATTERN.test(rawTenant) ? rawTenant : undefined;
  const list = usePaged(
    (cursor) =>
      call(api.GET("/v1/webhooks/events", { params: { query: { limit: 25, cursor: cursor ?? undefined, provider, status, tenant_id: tenantId } } })),
    [provider, status, tenantId],
  );
  const setFilter = (k: string, v: string) => {
    const next = new URLSearchParams(search);
    if (v) next.set(k, v);
    else next.delete(k);
    setSearch(next);
  };
  const filtered = !!(provider || status || rawTenant);
  return (
    <>
      <PageHeader title="Webhook events" />
      <p className="lead-text muted">What QuickBooks and Pax8 sent, newest first, and what became of it. Unmatched events name an account no tenant has.</p>
      <Toolbar label="Filter webhook events">
        <SelectField
          label="Provider"
          name="provider"
          className="field-inline"
          value={provider ?? ""}
          options={[{ value: "", label: "Any" }, ...PROVIDERS]}
          onChange={(e) => setFilter("provider", e.target.value)}
        />
        <SelectField
          label="Status"
          name="status"
          className="field-inline"
          value={status ?? ""}
          options={[{ value: "", label: "Any" }, ...STATUSES.map((s) => ({ value: s, label: s }))]}
          onChange={(e) => setFilter("status", e.target.value)}
        />
        <Field
          label="Tenant id"
          name="tenant_id"
          className="field-inline field-id"
          placeholder="any tenant"
          value={rawTenant}
          error={rawTenant && !tenantId ? "Not a tenant id" : undefined}
          onChange={(e) => setFilter("tenant_id", e.target.value.trim())}
        />
        {filtered && (
          <button type="button" className="btn btn-quiet" onClick={() => setSearch({})}>
            Clear
          </button>
        )}
      </Toolbar>
      <PagedTable<WebhookEvent>
        label="Webhook events"
        {...list}
        empty={filtered ? "No events match these filters." : "No webhook events received yet."}
        head={
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Event</th>
            <th scope="col">Account</th>
            <th scope="col">Status</th>
            <th scope="col">Tenant</th>
            <th scope="col">Payload</th>
          </tr>
        }
        row={(w) => (
          <tr key={w.id} data-webhook={w.dedupe_key}>
            <td data-label="Received" className="nowrap">
              <Time iso={w.received_at} />
            </td>
            <td data-label="Event">
              <span className="strong">{PROVIDERS.find((p) => p.value === w.provider)?.label ?? w.provider}</span>{" "}
              <code className="small">{w.type ?? w.format}</code>
              {(w.entity_type || w.entity_id) && (
                <div className="muted small">
                  {w.entity_type} {w.entity_id} {w.operation && `· ${w.operation}`}
                </div>
              )}
            </td>
            <td data-label="Account">
              <code className="small">{w.account_id ?? "—"}</code>
            </td>
            <td data-label="Status">
              <span className="status-cell">
                <StatusBadge status={w.status} />
                {w.outcome && <span className="small muted">{w.outcome}</span>}
              </span>
              {w.error && <p className="small field-error">{w.error}</p>}
            </td>
            <td data-label="Tenant">
              {w.tenant_id ? (
                <Link to={`/app/tenants/${w.tenant_id}/billing`}>
                  <code className="small">{w.tenant_id.slice(0, 8)}</code>
                </Link>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
            <td data-label="Payload">
              <JsonBlock value={w.payload} summary="Show" />
            </td>
          </tr>
        )}
      />
    </>
  );
}
