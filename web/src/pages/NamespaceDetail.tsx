// One namespace: its Azure resources, live status, Azure's last error, its
// latest job; delete (tenant admins).
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, call } from "../api/client";
import type { ErrorView } from "../api/problem";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { useOperations } from "../components/Operations";
import { useTenantScope } from "../components/tenantContext";
import { ConfirmButton, ErrorBanner, Loading, Notice, PageHeader, StatusBadge, Time } from "../components/ui";
import { dataOf, useLoad } from "../lib/useLoad";
import { usePoll } from "../lib/usePaged";
import { AzureErrorText, ENVIRONMENTS, followNamespaceJob, POLL_MS, TRANSITIONAL } from "./Namespaces";

/** The last segment of an ARM id, with the whole id on hover. */
function ArmId({ id }: { id: string | null }) {
  if (!id) return <span className="muted">not yet</span>;
  return (
    <code className="small wrap-id" title={id}>
      {id}
    </code>
  );
}

export function NamespaceDetail() {
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const { name = "" } = useParams();
  const [load, reload] = useLoad(
    () => call(api.GET("/v1/tenants/{tenant_id}/namespaces/{namespace}", { params: { path: { tenant_id: tenantId, namespace: name } } })),
    [tenantId, name],
  );
  const n = dataOf(load);
  usePoll(!!n && TRANSITIONAL.has(n.status), reload, POLL_MS);
  const [notice, setNotice] = useState<string>();
  const [actionError, setActionError] = useState<ErrorView>();
  const ops = useOperations();
  const list = `/app/tenants/${tenantId}/namespaces`;

  if (!n)
    return (
      <>
        <PageHeader title={load.kind === "error" ? (load.error.status === 404 ? `Namespace ${name} not found` : `Namespace ${name} not available`) : name} />
        <p>
          <Link to={list}>← All namespaces</Link>
        </p>
        {load.kind === "error" ? <ErrorBanner error={load.error} onRetry={reload} /> : <Loading what={`Loading ${name}`} />}
      </>
    );

  async function remove() {
    if (!n) return;
    const r = await call(
      api.DELETE("/v1/tenants/{tenant_id}/namespaces/{namespace}", { params: { path: { tenant_id: tenantId, namespace: n.id } } }),
    );
    if (!r.ok) return setActionError(r.error);
    setActionError(undefined);
    setNotice(`Deleting “${n.name}”: its Azure resources are being removed.`);
    followNamespaceJob(ops, tenantId, r.data, true);
    reload();
  }

  const moving = TRANSITIONAL.has(n.status);
  const canDelete = can(viewer, "namespaces.manage", tenantId) && (n.status === "ready" || n.status === "failed" || n.status === "pending");
  return (
    <>
      <PageHeader title={n.name}>
        <span className="status-cell" data-testid="namespace-status">
          <StatusBadge status={n.status} />
          {moving && <span className="spinner spinner-inline" aria-hidden="true" />}
        </span>
        {canDelete && <ConfirmButton label="Delete namespace" confirm="Delete it and its Azure resources?" confirmLabel="Delete" onConfirm={remove} />}
      </PageHeader>
      <p>
        <Link to={list}>← All namespaces</Link>
      </p>
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <ErrorBanner error={actionError} />
      {n.last_error && (
        <div className={n.status === "failed" ? "alert alert-error" : "alert alert-warn"} role={n.status === "failed" ? "alert" : "status"}>
          <p className="alert-message">
            {n.status === "failed" ? "Azure refused this namespace." : "Azure answered with an error; the worker is retrying."}
          </p>
          <AzureErrorText error={n.last_error} />
          {n.status === "failed" && can(viewer, "namespaces.manage", tenantId) && (
            <p className="small">Delete it and create it again with other settings, or delete it again to retry a failed deletion.</p>
          )}
        </div>
      )}
      <div className="cards">
        <section className="card" aria-labelledby="ns-facts">
          <h2 id="ns-facts">Details</h2>
          <dl className="facts">
            <dt>Environment</dt>
            <dd>{ENVIRONMENTS.find((e) => e.value === n.environment)?.label ?? n.environment}</dd>
            <dt>Location</dt>
            <dd>{n.location}</dd>
            <dt>Quota</dt>
            <dd>
              {n.quota && Object.keys(n.quota).length > 0
                ? [
                    n.quota.cpu_cores !== undefined ? `${n.quota.cpu_cores} CPU cores` : null,
                    n.quota.memory_gib !== undefined ? `${n.quota.memory_gib} GiB memory` : null,
                    n.quota.storage_gib !== undefined ? `${n.quota.storage_gib} GiB storage` : null,
                  ]
                    .filter(Boolean)
                    .join(", ")
                : "—"}
            </dd>
            <dt>Latest job</dt>
            <dd>
              {n.job_id ? (
                <Link to={`/app/tenants/${tenantId}/jobs/${n.job_id}?namespace=${encodeURIComponent(n.name)}`}>View the job</Link>
              ) : (
                "—"
              )}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time iso={n.created_at} />
            </dd>
            <dt>Updated</dt>
            <dd>
              <Time iso={n.updated_at} />
            </dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="ns-azure">
          <h2 id="ns-azure">Azure resources</h2>
          <dl className="facts">
            <dt>Resource group</dt>
            <dd>
              <code>{n.resource_group}</code>
            </dd>
            <dt>Group id</dt>
            <dd>
              <ArmId id={n.resources.resource_group_id} />
            </dd>
            <dt>Contributor</dt>
            <dd>
              <ArmId id={n.resources.role_assignment_id} />
            </dd>
            <dt>Containers</dt>
            <dd>
              {n.resources.containers.length === 0 ? (
                <span className="muted">not yet</span>
              ) : (
                <ul className="plain-list" aria-label="Blob containers">
                  {n.resources.containers.map((c) => (
                    <li key={c}>
                      <code>{c}</code>
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </dl>
        </section>
      </div>
    </>
  );
}
