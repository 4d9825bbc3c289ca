// The audit log of a tenant (tenant admins, support users, super admins):
// paginated, newest first, filtered by action and resource type.
import { useEffect, useReducer, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { api, call } from "../api/client";
import { useTenantScope } from "../components/tenantContext";
import { Empty, ErrorBanner, Loading, PageHeader, Pager, Time } from "../components/ui";
import { shortId, summarizeChanges } from "../lib/format";
import { currentCursor, FIRST_PAGE, hasNext, hasPrevious, pageNumber, pageReducer } from "../lib/pagination";
import { dataOf, useLoad } from "../lib/useLoad";

const PAGE_SIZE = 25;
/** Actions the server records today, offered as suggestions. */
const KNOWN_ACTIONS = [
  "tenant.create", "tenant.update", "tenant.delete",
  "namespace.create", "namespace.provisioning", "namespace.ready", "namespace.failed", "namespace.delete", "namespace.deleted",
  "event.create", "event.update", "event.result", "event.settle", "event.cancel",
  "bet.place", "payment.deposit", "payment.withdrawal",
];

export function Audit() {
  const { tenantId, tenant } = useTenantScope();
  const [search, setSearch] = useSearchParams();
  const action = search.get("action") ?? "";
  const resourceType = search.get("resource_type") ?? "";
  const [draft, setDraft] = useState({ action, resourceType });
  useEffect(() => setDraft({ action, resourceType }), [action, resourceType]);
  const [page, dispatch] = useReducer(pageReducer, FIRST_PAGE);
  const cursor = currentCursor(page);

  const [load, reload] = useLoad(
    () =>
      call(
        api.GET("/v1/tenants/{tenant_id}/audit", {
          params: {
            path: { tenant_id: tenantId },
            query: {
              limit: PAGE_SIZE,
              ...(cursor ? { cursor } : {}),
              ...(action ? { action } : {}),
              ...(resourceType ? { resource_type: resourceType } : {}),
            },
          },
        }),
      ),
    [tenantId, cursor, action, resourceType],
  );
  useEffect(() => {
    if (load.kind === "ok") dispatch({ type: "loaded", nextCursor: load.data.next_cursor });
  }, [load]);

  function apply(e: FormEvent) {
    e.preventDefault();
    dispatch({ type: "reset" });
    const next: Record<string, string> = {};
    if (draft.action.trim()) next.action = draft.action.trim();
    if (draft.resourceType.trim()) next.resource_type = draft.resourceType.trim();
    setSearch(next);
  }

  const list = dataOf(load);
  const filtered = action !== "" || resourceType !== "";
  return (
    <>
      <PageHeader title={tenant ? `Audit log · ${tenant.name}` : "Audit log"} />
      <form className="toolbar filter-form" onSubmit={apply} role="search" aria-label="Filter the audit log">
        <div className="field field-inline">
          <label htmlFor="audit-action">Action</label>
          <input
            id="audit-action"
            name="action"
            list="audit-actions"
            placeholder="e.g. tenant.update"
            value={draft.action}
            onChange={(e) => setDraft((d) => ({ ...d, action: e.target.value }))}
          />
          <datalist id="audit-actions">
            {KNOWN_ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div className="field field-inline">
          <label htmlFor="audit-rt">Resource type</label>
          <input
            id="audit-rt"
            name="resource_type"
            placeholder="e.g. tenant"
            value={draft.resourceType}
            onChange={(e) => setDraft((d) => ({ ...d, resourceType: e.target.value }))}
          />
        </div>
        <button type="submit" className="btn">
          Filter
        </button>
        {filtered && (
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => {
              dispatch({ type: "reset" });
              setSearch({});
            }}
          >
            Clear
          </button>
        )}
      </form>
      {load.kind === "error" && <ErrorBanner error={load.error} onRetry={reload} />}
      {!list && load.kind === "loading" && <Loading what="Loading the audit log" />}
      {list && list.data.length === 0 && <Empty>{filtered ? "No records match this filter." : "Nothing has been recorded yet."}</Empty>}
      {list && list.data.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Audit records" aria-busy={load.kind === "loading"}>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col" className="hide-narrow">
                  Actor
                </th>
                <th scope="col">Changes</th>
                <th scope="col" className="hide-narrow">
                  Request
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((r) => {
                const lines = summarizeChanges(r.changes);
                return (
                  <tr key={r.id}>
                    <td className="nowrap">
                      <Time iso={r.created_at} />
                    </td>
                    <td className="nowrap">
                      <code>{r.action}</code>
                    </td>
                    <td>
                      {r.resource_type} <span className="muted small" title={r.resource_id}>{shortId(r.resource_id)}</span>
                    </td>
                    <td className="hide-narrow nowrap">
                      {r.actor.kind === "system" ? (
                        "System"
                      ) : (
                        <span title={`directory ${r.actor.tid ?? "?"}, object ${r.actor.oid ?? "?"}`}>User {shortId(r.actor.oid)}</span>
                      )}
                    </td>
                    <td>
                      <Changes lines={lines} />
                    </td>
                    <td className="hide-narrow nowrap">
                      <code className="small" title={r.request_id}>
                        {shortId(r.request_id)}
                      </code>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Pager
        page={pageNumber(page)}
        hasPrevious={hasPrevious(page)}
        hasNext={hasNext(page)}
        busy={load.kind === "loading"}
        onPrevious={() => dispatch({ type: "previous" })}
        onNext={() => dispatch({ type: "next" })}
      />
    </>
  );
}

const SHOWN_CHANGES = 4;

function Changes({ lines }: { lines: string[] }) {
  if (lines.length === 0) return <span className="muted">—</span>;
  const shown = lines.slice(0, SHOWN_CHANGES);
  const rest = lines.slice(SHOWN_CHANGES);
  return (
    <>
      <ul className="changes">
        {shown.map((l, i) => (
          <li key={i}>{l}</li>
        ))}
      </ul>
      {rest.length > 0 && (
        <details className="more">
          <summary>{rest.length} more</summary>
          <ul className="changes">
            {rest.map((l, i) => (
              <li key={i}>{l}</li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
