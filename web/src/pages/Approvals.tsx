// Super admins: production namespaces of every tenant that wait for
// approval (status pending_approval), oldest first; each links to its page,
// where it is approved or rejected.
import { Link } from "react-router";
import { api, call, type Result } from "../api/client";
import type { Namespace, Tenant } from "../api/types";
import { ErrorBanner, Loading, PageHeader, Time } from "../components/ui";
import { sizeLabel } from "../lib/namespaceSize";
import { dataOf, useLoad } from "../lib/useLoad";
import { nsPath } from "./Namespaces";

interface Waiting {
  tenant: Tenant;
  namespace: Namespace;
}

/** The first 100 tenants' waiting namespaces (a queue, not an archive). */
async function loadQueue(): Promise<Result<Waiting[]>> {
  const tenants = await call(api.GET("/v1/tenants", { params: { query: { limit: 100 } } }));
  if (!tenants.ok) return tenants;
  const lists = await Promise.all(
    tenants.data.data
      .filter((t) => t.status !== "deleted")
      .map(async (t) => {
        const r = await call(
          api.GET("/v1/tenants/{tenant_id}/namespaces", {
            params: { path: { tenant_id: t.id }, query: { status: "pending_approval", limit: 100 } },
          }),
        );
        return r.ok ? r.data.data.map((n) => ({ tenant: t, namespace: n })) : [];
      }),
  );
  const all = lists.flat().sort((a, b) => a.namespace.created_at.localeCompare(b.namespace.created_at));
  return { ok: true, data: all, response: tenants.response };
}

export function Approvals() {
  const [load, reload] = useLoad(loadQueue, []);
  const items = dataOf(load);
  return (
    <>
      <PageHeader title="Approvals" />
      <p className="lead-text muted">Production namespaces wait here until a platform operator approves or rejects them.</p>
      {load.kind === "error" && <ErrorBanner error={load.error} onRetry={reload} />}
      {!items ? (
        <Loading what="Loading the approval queue" />
      ) : items.length === 0 ? (
        <p data-testid="approvals-empty">Nothing waits for approval.</p>
      ) : (
        <table className="table table-stack" aria-label="Namespaces waiting for approval">
          <thead>
            <tr>
              <th scope="col">Namespace</th>
              <th scope="col">Tenant</th>
              <th scope="col">Size</th>
              <th scope="col">Location</th>
              <th scope="col">Asked</th>
            </tr>
          </thead>
          <tbody>
            {items.map(({ tenant, namespace: n }) => (
              <tr key={n.id} data-namespace={n.name}>
                <td data-label="Namespace">
                  <Link to={nsPath(tenant.id, n.name)} className="strong">
                    {n.name}
                  </Link>
                </td>
                <td data-label="Tenant">{tenant.name}</td>
                <td data-label="Size">{sizeLabel(n.size)}</td>
                <td data-label="Location">{n.location}</td>
                <td data-label="Asked" className="nowrap">
                  <Time iso={n.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
