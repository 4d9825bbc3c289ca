// Billing (tenant admins, billing viewers): the tenant's QuickBooks invoices
// and Pax8 subscriptions and usage, as the providers' webhooks and the Pax8
// API pulls reported them; an overview with a chart of monthly invoice
// totals, the subscriptions' monthly cost and usage by product; a CSV
// download of each list; the QuickBooks Online connection (tenant admins
// connect and disconnect it).
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api, call, fetchCsv } from "../api/client";
import type { ErrorView } from "../api/problem";
import type { Integration, Invoice, InvoiceList, InvoiceStatus, Subscription, SubscriptionStatus, UsageLine } from "../api/types";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { LineChart } from "../components/Chart";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { ConfirmButton, Empty, ErrorBanner, Loading, Money, PageHeader, SelectField, StatusBadge, Time, Toolbar, cx } from "../components/ui";
import { csvFileName, lastMonths, monthStart, monthlyTotals, monthsBetween } from "../lib/billing";
import { formatMoney } from "../lib/money";
import { dataOf, useLoad } from "../lib/useLoad";
import { usePaged, usePoll } from "../lib/usePaged";

const TABS = [
  { key: "invoices", label: "Invoices", from: "QuickBooks Online" },
  { key: "subscriptions", label: "Subscriptions", from: "Pax8" },
  { key: "usage", label: "Usage", from: "Pax8" },
  { key: "overview", label: "Overview", from: "QuickBooks Online and Pax8" },
] as const;
type Tab = (typeof TABS)[number]["key"];

const INVOICE_STATUSES: InvoiceStatus[] = ["open", "voided", "deleted"];
const SUBSCRIPTION_STATUSES: SubscriptionStatus[] = [
  "active", "trial", "pending_activation", "pending_manual", "pending_automated", "pending_cancel",
  "waiting_for_details", "activated", "converted", "cancelled",
];
const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The last `n` calendar months (UTC) as `period` values, newest first,
 * with their names: [{ value: "2026-03", label: "March 2026" }, …]. */
function recentMonths(n: number, now = new Date()): { value: string; label: string }[] {
  const fmt = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
  const out: { value: string; label: string }[] = [];
  for (let i = 0; i < n; i++) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    out.push({ value: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`, label: fmt.format(d) });
  }
  return out;
}

/** "2026-03-01" (a date, no time) for people, without time-zone shifts. */
function DateOnly({ date }: { date: string | null }) {
  if (!date) return <span className="muted">—</span>;
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return <>{date}</>;
  return <time dateTime={date}>{new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(d)}</time>;
}

export function Billing() {
  const { tenantId, tenant } = useTenantScope();
  const [search, setSearch] = useSearchParams();
  const tab: Tab = TABS.find((t) => t.key === search.get("tab"))?.key ?? "invoices";
  const rawPeriod = search.get("period") ?? "";
  const period = PERIOD.test(rawPeriod) ? rawPeriod : undefined;
  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(search);
    if (v) next.set(k, v);
    else next.delete(k);
    setSearch(next);
  };
  const linked = tab === "invoices" ? tenant?.quickbooks_realm_id : tenant?.pax8_company_id;
  const status = search.get("status") ?? undefined;
  const csv =
    tab === "overview"
      ? { path: `/v1/tenants/${tenantId}/usage/by-product`, query: { period }, name: "usage-by-product.csv" }
      : tab === "usage"
        ? { path: `/v1/tenants/${tenantId}/usage`, query: { period, subscription_id: search.get("subscription_id") ?? undefined }, name: "usage.csv" }
        : {
            path: `/v1/tenants/${tenantId}/${tab}`,
            query: {
              period,
              status: tab === "invoices" ? INVOICE_STATUSES.find((x) => x === status) : SUBSCRIPTION_STATUSES.find((x) => x === status),
            },
            name: `${tab}.csv`,
          };
  const source = TABS.find((t) => t.key === tab)?.from ?? "";
  return (
    <>
      <PageHeader title="Billing" />
      <div className="tabs" role="tablist" aria-label="Billing">
        {TABS.map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            aria-selected={tab === t.key}
            className={cx("tab", tab === t.key && "tab-active")}
            onClick={() => {
              const next = new URLSearchParams();
              next.set("tab", t.key);
              if (period) next.set("period", period);
              setSearch(next);
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      {tab === "invoices" && <QuickBooksConnection tenantId={tenantId} />}
      <p className="lead-text muted">
        From {source}
        {tab === "overview" ? (
          tenant && (
            <>
              {" "}(realm {tenant.quickbooks_realm_id ? <code>{tenant.quickbooks_realm_id}</code> : "not set"}, company{" "}
              {tenant.pax8_company_id ? <code>{tenant.pax8_company_id}</code> : "not set"}).
            </>
          )
        ) : (
          <>
            {tenant && (linked ? <> ({tab === "invoices" ? "realm" : "company"} <code>{linked}</code>)</> : <>: this tenant has no {tab === "invoices" ? "QuickBooks realm" : "Pax8 company"} id set.</>)}
            {tenant && linked ? "." : ""}
          </>
        )}
      </p>
      <Toolbar label={`Filter ${tab}`}>
        <SelectField
          label="Month"
          name="period"
          className="field-inline"
          value={period ?? ""}
          options={[
            { value: "", label: "Any month" },
            ...recentMonths(24),
            ...(period && !recentMonths(24).some((m) => m.value === period) ? [{ value: period, label: period }] : []),
          ]}
          onChange={(e) => setParam("period", e.target.value)}
        />
        {tab === "invoices" && (
          <SelectField
            label="Status"
            name="status"
            className="field-inline"
            value={INVOICE_STATUSES.find((s) => s === search.get("status")) ?? ""}
            options={[{ value: "", label: "Any" }, ...INVOICE_STATUSES.map((s) => ({ value: s, label: s }))]}
            onChange={(e) => setParam("status", e.target.value)}
          />
        )}
        {tab === "subscriptions" && (
          <SelectField
            label="Status"
            name="status"
            className="field-inline"
            value={SUBSCRIPTION_STATUSES.find((s) => s === search.get("status")) ?? ""}
            options={[{ value: "", label: "Any" }, ...SUBSCRIPTION_STATUSES.map((s) => ({ value: s, label: s.replace(/_/g, " ") }))]}
            onChange={(e) => setParam("status", e.target.value)}
          />
        )}
        <DownloadCsv {...csv} />
      </Toolbar>
      {tab === "invoices" && <Invoices tenantId={tenantId} period={period} status={INVOICE_STATUSES.find((s) => s === search.get("status"))} />}
      {tab === "subscriptions" && (
        <Subscriptions tenantId={tenantId} period={period} status={SUBSCRIPTION_STATUSES.find((s) => s === search.get("status"))} />
      )}
      {tab === "usage" && <Usage tenantId={tenantId} period={period} subscriptionId={search.get("subscription_id") ?? undefined} />}
      {tab === "overview" && <Overview tenantId={tenantId} period={period} />}
    </>
  );
}

/** The tenant's QuickBooks Online connection: status, last sync and last
 * error; connect (to Intuit's consent page) and disconnect for admins. */
function QuickBooksConnection({ tenantId }: { tenantId: string }) {
  const { viewer } = useMe();
  const manage = can(viewer, "billing.connect", tenantId);
  const [load, reload] = useLoad(
    () => call(api.GET("/v1/tenants/{tenant_id}/integrations", { params: { path: { tenant_id: tenantId } } })),
    [tenantId],
  );
  const [error, setError] = useState<ErrorView>();
  const qb: Integration | undefined = dataOf(load)?.data.find((i) => i.provider === "quickbooks");
  usePoll(qb?.status === "connecting", reload, 1500);

  async function connect() {
    const r = await call(
      api.POST("/v1/tenants/{tenant_id}/integrations/quickbooks/connect", { params: { path: { tenant_id: tenantId } } }),
    );
    if (!r.ok) return setError(r.error);
    window.location.assign(r.data.authorize_url);
  }
  async function disconnect() {
    const r = await call(
      api.DELETE("/v1/tenants/{tenant_id}/integrations/quickbooks", { params: { path: { tenant_id: tenantId } } }),
    );
    if (!r.ok) return setError(r.error);
    setError(undefined);
    reload();
  }

  return (
    <section className="card" aria-label="QuickBooks Online connection" data-integration="quickbooks">
      <div className="card-row">
        <div>
          <span className="strong">QuickBooks Online</span>{" "}
          {qb && <StatusBadge status={qb.status} />}
          {qb?.realm_id && (
            <span className="muted small">
              {" "}
              company <code>{qb.realm_id}</code>
            </span>
          )}
          <div className="muted small">
            {qb?.status === "connected" && (
              <>
                Connected <Time iso={qb.connected_at} />
                {qb.last_sync_at ? (
                  <>
                    {" "}
                    · last full sync <Time iso={qb.last_sync_at} />
                  </>
                ) : (
                  " · first sync pending"
                )}
              </>
            )}
            {qb?.status === "connecting" && "Finishing the connection with Intuit…"}
            {qb?.status === "disconnected" && !qb.last_error && "Not connected: invoices show no amounts until QuickBooks is connected."}
          </div>
          {qb?.last_error && (
            <div className="small" role="status" data-last-error>
              Last error: {qb.last_error}
            </div>
          )}
        </div>
        {manage && qb && (
          <div>
            {qb.status === "connected" || qb.status === "connecting" ? (
              <ConfirmButton
                label="Disconnect"
                confirm="Disconnect QuickBooks? Amounts stop updating."
                confirmLabel="Disconnect"
                onConfirm={disconnect}
              />
            ) : (
              <button type="button" className="btn btn-primary btn-small" onClick={() => void connect()}>
                {qb.status === "disconnected" && !qb.realm_id ? "Connect QuickBooks" : "Reconnect QuickBooks"}
              </button>
            )}
          </div>
        )}
      </div>
      {load.kind === "error" && <ErrorBanner error={load.error} onRetry={reload} />}
      {error && <ErrorBanner error={error} />}
    </section>
  );
}

function Invoices({ tenantId, period, status }: { tenantId: string; period?: string; status?: InvoiceStatus }) {
  const list = usePaged(
    (cursor) =>
      call(
        api.GET("/v1/tenants/{tenant_id}/invoices", {
          params: { path: { tenant_id: tenantId }, query: { limit: 20, cursor: cursor ?? undefined, period, status } },
        }),
      ),
    [tenantId, period, status],
  );
  const totals = (dataOf(list.load) as InvoiceList | undefined)?.totals ?? [];
  return (
    <>
    {totals.length > 0 && (
      <p className="lead-text" data-invoice-totals>
        {totals.map((t) => (
          <span key={t.currency} className="badge-gap">
            {t.count} invoice{t.count === 1 ? "" : "s"}: <Money minor={t.total_minor} currency={t.currency} /> billed,{" "}
            <span className="strong">
              <Money minor={t.balance_minor} currency={t.currency} />
            </span>{" "}
            open.{" "}
          </span>
        ))}
      </p>
    )}
    <PagedTable<Invoice>
      label="Invoices"
      {...list}
      empty={period || status ? "No invoices match these filters." : "No invoices yet."}
      head={
        <tr>
          <th scope="col">Invoice</th>
          <th scope="col">Status</th>
          <th scope="col">Issued</th>
          <th scope="col">Due</th>
          <th scope="col">Last change</th>
          <th scope="col" className="num">
            Total
          </th>
          <th scope="col" className="num">
            Balance due
          </th>
        </tr>
      }
      row={(i) => (
        <tr key={i.id} data-invoice={i.external_id}>
          <td data-label="Invoice">
            <span className="strong">#{i.doc_number ?? i.external_id}</span>
            {(i.customer_name || i.customer_id) && <div className="muted small">{i.customer_name ?? `customer ${i.customer_id}`}</div>}
          </td>
          <td data-label="Status">
            <StatusBadge status={i.status} />
          </td>
          <td data-label="Issued" className="nowrap">
            <Time iso={i.issued_at} />
          </td>
          <td data-label="Due" className="nowrap">
            <DateOnly date={i.due_date} />
          </td>
          <td data-label="Last change">
            {i.last_operation} <span className="muted small">
              <Time iso={i.source_updated_at} />
            </span>
          </td>
          <td data-label="Total" className="num">
            {i.needs_sync && i.total_minor === null ? <span className="muted small">not synced yet</span> : <Money minor={i.total_minor} currency={i.currency} />}
          </td>
          <td data-label="Balance due" className="num">
            {i.needs_sync && i.balance_minor === null ? <span className="muted small">not synced yet</span> : <Money minor={i.balance_minor} currency={i.currency} />}
          </td>
        </tr>
      )}
    />
    </>
  );
}

function Subscriptions({ tenantId, period, status }: { tenantId: string; period?: string; status?: SubscriptionStatus }) {
  const list = usePaged(
    (cursor) =>
      call(
        api.GET("/v1/tenants/{tenant_id}/subscriptions", {
          params: { path: { tenant_id: tenantId }, query: { limit: 20, cursor: cursor ?? undefined, period, status } },
        }),
      ),
    [tenantId, period, status],
  );
  return (
    <PagedTable<Subscription>
      label="Subscriptions"
      {...list}
      empty={period || status ? "No subscriptions match these filters." : "No subscriptions yet."}
      head={
        <tr>
          <th scope="col">Product</th>
          <th scope="col" className="num">
            Quantity
          </th>
          <th scope="col">Status</th>
          <th scope="col">Term</th>
          <th scope="col" className="num">
            Price
          </th>
          <th scope="col" className="num">
            Monthly
          </th>
          <th scope="col">Period</th>
          <th scope="col">Updated</th>
        </tr>
      }
      row={(s) => (
        <tr key={s.id} data-subscription={s.external_id}>
          <td data-label="Product">
            <span className="strong">{s.product_name ?? s.product_id ?? "Unknown product"}</span>
            <div className="muted small" title={s.external_id}>
              subscription {s.external_id.slice(0, 8)}
            </div>
          </td>
          <td data-label="Quantity" className="num">
            {s.quantity ?? "—"}
          </td>
          <td data-label="Status">
            <StatusBadge status={s.status.replace(/_/g, " ")} />
          </td>
          <td data-label="Term">{s.billing_term ?? "—"}</td>
          <td data-label="Price" className="num">
            <Money minor={s.price_minor} currency={s.currency} />
          </td>
          <td data-label="Monthly" className="num" data-monthly={s.monthly_cost_minor ?? ""}>
            <Money minor={s.monthly_cost_minor} currency={s.currency} />
          </td>
          <td data-label="Period" className="nowrap">
            <DateOnly date={s.start_date} /> – {s.end_date ? <DateOnly date={s.end_date} /> : <span className="muted">ongoing</span>}
          </td>
          <td data-label="Updated" className="nowrap">
            <Time iso={s.source_updated_at} />
          </td>
        </tr>
      )}
    />
  );
}

function Usage({ tenantId, period, subscriptionId }: { tenantId: string; period?: string; subscriptionId?: string }) {
  const list = usePaged(
    (cursor) =>
      call(
        api.GET("/v1/tenants/{tenant_id}/usage", {
          params: { path: { tenant_id: tenantId }, query: { limit: 25, cursor: cursor ?? undefined, period, subscription_id: subscriptionId } },
        }),
      ),
    [tenantId, period, subscriptionId],
  );
  return (
    <PagedTable<UsageLine>
      label="Usage"
      {...list}
      empty={period ? "No usage in this month." : "No usage yet."}
      head={
        <tr>
          <th scope="col">Date</th>
          <th scope="col">Product</th>
          <th scope="col" className="num">
            Quantity
          </th>
          <th scope="col" className="num">
            Unit price
          </th>
          <th scope="col" className="num">
            Amount
          </th>
          <th scope="col" className="num">
            Partner cost
          </th>
        </tr>
      }
      row={(u) => (
        <tr key={u.id}>
          <td data-label="Date" className="nowrap">
            <DateOnly date={u.usage_date} />
          </td>
          <td data-label="Product">
            <span className="strong">{u.product_name ?? u.product_id}</span>
            {u.is_trial && <span className="badge badge-info badge-gap">trial</span>}
            {u.subscription_id && <div className="muted small">subscription {u.subscription_id.slice(0, 8)}</div>}
          </td>
          <td data-label="Quantity" className="num">
            {u.quantity ?? "—"} {u.quantity !== null ? (u.unit_of_measure ?? "") : ""}
          </td>
          <td data-label="Unit price" className="num">
            {u.unit_price !== null ? `${u.unit_price}${u.currency ? ` ${u.currency}` : ""}` : "—"}
          </td>
          <td data-label="Amount" className="num">
            <Money minor={u.amount_minor} currency={u.currency} />
          </td>
          <td data-label="Partner cost" className="num">
            <Money minor={u.partner_total_minor} currency={u.currency} />
          </td>
        </tr>
      )}
    />
  );
}

/** Downloads a list as CSV (the server writes it; the file keeps its name). */
function DownloadCsv({ path, query, name }: { path: string; query: Record<string, string | undefined>; name: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorView | null>(null);
  const download = async () => {
    setBusy(true);
    setError(null);
    const r = await fetchCsv(path, query);
    setBusy(false);
    if (!r.ok) {
      setError(r.error);
      return;
    }
    const href = URL.createObjectURL(r.data.blob);
    const a = document.createElement("a");
    a.href = href;
    a.download = csvFileName(r.data.disposition, name);
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 1000);
  };
  return (
    <>
      <button type="button" className="btn btn-small" disabled={busy} onClick={() => void download()} data-testid="download-csv">
        {busy ? "Preparing CSV…" : "Download CSV"}
      </button>
      {error && <ErrorBanner error={error} onRetry={() => void download()} />}
    </>
  );
}

/** Monthly invoice totals (chart, the last 12 months), the subscriptions'
 * monthly cost and usage by product. */
function Overview({ tenantId, period }: { tenantId: string; period?: string }) {
  const range = lastMonths(12);
  const months = monthsBetween(range.from, range.to);
  const [totalsLoad, reloadTotals] = useLoad(
    () => call(api.GET("/v1/tenants/{tenant_id}/billing/totals", { params: { path: { tenant_id: tenantId }, query: range } })),
    [tenantId, range.from, range.to],
  );
  const [usageLoad, reloadUsage] = useLoad(
    () => call(api.GET("/v1/tenants/{tenant_id}/usage/by-product", { params: { path: { tenant_id: tenantId }, query: { period } } })),
    [tenantId, period],
  );
  const totals = dataOf(totalsLoad);
  const usage = dataOf(usageLoad);
  const series = totals ? monthlyTotals(totals.data, months) : [];
  return (
    <section aria-label="Billing overview">
      {!totals ? (
        totalsLoad.kind === "error" ? <ErrorBanner error={totalsLoad.error} onRetry={reloadTotals} /> : <Loading what="Adding up invoices" />
      ) : (
        <>
          {series.length === 0 ? (
            <Empty>No invoice amounts in the last 12 months.</Empty>
          ) : (
            series.map((s) => {
              const money = (v: number) => formatMoney(v, s.currency);
              const sum = s.totals.reduce((a, b) => a + b, 0);
              const title = `Invoiced per month in ${s.currency}, last 12 months`;
              return (
                <LineChart
                  key={s.currency}
                  title={title}
                  testId={`chart-invoiced-${s.currency}`}
                  summary={`${title}: ${money(sum)} in all; highest month ${money(Math.max(...s.totals))}.`}
                  x={months.map(monthStart)}
                  series={[{ name: s.currency, values: s.totals }]}
                  format={money}
                  table={
                    <table className="table chart-table">
                      <caption className="sr-only">{title}</caption>
                      <thead>
                        <tr>
                          <th scope="col">Month</th>
                          <th scope="col" className="num">
                            Invoiced
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {months.map((m, i) => (
                          <tr key={m}>
                            <th scope="row">{m}</th>
                            <td className="num">{money(s.totals[i] ?? 0)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  }
                />
              );
            })
          )}
          {totals.unsynced_count > 0 && (
            <p className="muted small" data-testid="unsynced">
              {totals.unsynced_count} invoice{totals.unsynced_count === 1 ? " has" : "s have"} no amounts yet (not synced from QuickBooks): counted, not summed.
            </p>
          )}
          <dl className="facts" data-testid="monthly-cost">
            {totals.totals.map((t) => (
              <div key={`o-${t.currency}`}>
                <dt>Open balance ({t.currency})</dt>
                <dd>
                  <Money minor={t.open_balance_minor} currency={t.currency} />
                </dd>
              </div>
            ))}
            {totals.subscriptions_monthly.map((m) => (
              <div key={`m-${m.currency}`}>
                <dt>Subscriptions per month ({m.currency})</dt>
                <dd>
                  <Money minor={m.monthly_cost_minor} currency={m.currency} /> <span className="muted small">({m.subscription_count} subscriptions)</span>
                </dd>
              </div>
            ))}
          </dl>
        </>
      )}
      <h2>Usage by product{period ? ` (${period})` : ""}</h2>
      {!usage ? (
        usageLoad.kind === "error" ? <ErrorBanner error={usageLoad.error} onRetry={reloadUsage} /> : <Loading what="Adding up usage" />
      ) : usage.data.length === 0 ? (
        <Empty>No usage{period ? " in this month" : " yet"}.</Empty>
      ) : (
        <table className="table" data-testid="usage-by-product">
          <caption className="sr-only">Usage by product</caption>
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col" className="num">
                Lines
              </th>
              <th scope="col" className="num">
                Amount
              </th>
              <th scope="col" className="num">
                Partner cost
              </th>
            </tr>
          </thead>
          <tbody>
            {usage.data.map((p) => (
              <tr key={`${p.product_id}-${p.currency ?? ""}`}>
                <td data-label="Product">
                  <span className="strong">{p.product_name ?? p.product_id}</span>
                </td>
                <td data-label="Lines" className="num">
                  {p.lines}
                </td>
                <td data-label="Amount" className="num">
                  <Money minor={p.amount_minor} currency={p.currency} />
                </td>
                <td data-label="Partner cost" className="num">
                  <Money minor={p.partner_total_minor} currency={p.currency} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
