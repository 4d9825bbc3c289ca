// One namespace: its Azure resources and Kubernetes namespace, live
// status, Azure's last error, its latest job; delete and resize (tenant
// admins); approve or reject a production namespace (super admins).
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, call } from "../api/client";
import type { ErrorView } from "../api/problem";
import type { Namespace, NamespaceSize } from "../api/types";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { useOperations } from "../components/Operations";
import { useTenantScope } from "../components/tenantContext";
import { ConfirmButton, ErrorBanner, Field, Loading, Notice, PageHeader, SelectField, StatusBadge, Time } from "../components/ui";
import { expiryCountdown, expiryIn, MAX_EXPIRY_DAYS } from "../lib/expiry";
import { quotaSummary, sizeLabel, SIZES } from "../lib/namespaceSize";
import { dataOf, useLoad } from "../lib/useLoad";
import { usePoll } from "../lib/usePaged";
import { AzureErrorText, DELETABLE, ENVIRONMENTS, followNamespaceJob, POLL_MS, TRANSITIONAL } from "./Namespaces";

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
  const canDelete = can(viewer, "namespaces.manage", tenantId) && DELETABLE.has(n.status);
  const canResize =
    can(viewer, "namespaces.manage", tenantId) && ["ready", "degraded", "failed", "pending_approval"].includes(n.status);
  const canDecide = can(viewer, "namespaces.approve", tenantId) && n.status === "pending_approval";
  const changed = (next: Namespace, message: string) => {
    setActionError(undefined);
    setNotice(message);
    if (next.job_id && next.job_id !== n.job_id) followNamespaceJob(ops, tenantId, next, false);
    reload();
  };
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
      {n.status === "pending_approval" && (
        <div className="alert alert-warn" role="status" data-testid="approval-waiting">
          <p className="alert-message">This production namespace waits for a platform operator's approval; nothing is made in Azure until then.</p>
        </div>
      )}
      {n.approval && (
        <p className="muted small" data-testid="approval-decision">
          {n.approval.decision === "approved" ? "Approved" : "Rejected"} <Time iso={n.approval.decided_at} />
          {n.approval.reason ? `: ${n.approval.reason}` : ""}
        </p>
      )}
      {canDecide && <Decide tenantId={tenantId} n={n} onDone={changed} onError={setActionError} />}
      {n.last_error && (
        <div className={n.status === "failed" ? "alert alert-error" : "alert alert-warn"} role={n.status === "failed" ? "alert" : "status"}>
          <p className="alert-message">
            {n.status === "failed" ? "Azure refused this namespace." : "Azure answered with an error; the worker is retrying."}
          </p>
          <AzureErrorText error={n.last_error} />
          {n.status === "degraded" && <p className="small">The worker could not repair this namespace's Azure resources; it keeps trying.</p>}
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
            <dt>Size</dt>
            <dd data-testid="namespace-size">{sizeLabel(n.size)}</dd>
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
            <dt>Last checked</dt>
            <dd>{n.last_reconciled_at ? <Time iso={n.last_reconciled_at} /> : <span className="muted">not yet</span>}</dd>
            {n.environment === "dev" && (
              <>
                <dt>Expires</dt>
                <dd data-testid="namespace-expires">
                  {n.expires_at ? (
                    <>
                      <strong>{expiryCountdown(n.expires_at)}</strong> (<Time iso={n.expires_at} />)
                    </>
                  ) : (
                    <span className="muted">never</span>
                  )}
                  {canResize && n.status !== "deprovisioning" && n.status !== "deleted" && (
                    <ExtendExpiry tenantId={tenantId} n={n} onDone={changed} onError={setActionError} />
                  )}
                </dd>
              </>
            )}
          </dl>
          {canResize && <Resize tenantId={tenantId} n={n} onDone={changed} onError={setActionError} />}
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
        <section className="card" aria-labelledby="ns-k8s">
          <h2 id="ns-k8s">Kubernetes (AKS)</h2>
          {n.kubernetes ? (
            <dl className="facts" data-testid="namespace-kubernetes">
              <dt>Namespace</dt>
              <dd>
                <code>{n.kubernetes.namespace}</code>
              </dd>
              <dt>Cluster</dt>
              <dd>
                <ArmId id={n.kubernetes.cluster_id} />
              </dd>
              <dt>Quota</dt>
              <dd>{quotaSummary(n.kubernetes.quota)}</dd>
              <dt>Network</dt>
              <dd>
                ingress {n.kubernetes.network_policy.ingress}, egress {n.kubernetes.network_policy.egress}
              </dd>
              <dt>Managed namespace</dt>
              <dd>
                <ArmId id={n.kubernetes.id} />
              </dd>
              <dt>Admin group</dt>
              <dd>
                <ArmId id={n.kubernetes.role_assignment_ids[0] ?? null} />
              </dd>
            </dl>
          ) : (
            <p className="muted">The platform had no AKS cluster when this namespace was created.</p>
          )}
        </section>
      </div>
    </>
  );
}

interface ActionProps {
  tenantId: string;
  n: Namespace;
  onDone: (n: Namespace, message: string) => void;
  onError: (e: ErrorView) => void;
}

/** A new size (202: the worker applies it; 200 while waiting for approval). */
function Resize({ tenantId, n, onDone, onError }: ActionProps) {
  const [size, setSize] = useState<NamespaceSize>(n.size);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    const r = await call(
      api.PATCH("/v1/tenants/{tenant_id}/namespaces/{namespace}", {
        params: { path: { tenant_id: tenantId, namespace: n.id } },
        body: { size },
      }),
    );
    setBusy(false);
    if (!r.ok) return onError(r.error);
    onDone(r.data, r.data.status === "updating" ? `Resizing “${n.name}” to ${sizeLabel(size)}.` : `“${n.name}” is now ${sizeLabel(size)}.`);
  }
  return (
    <form onSubmit={submit} className="form-inline" aria-label="Change the size">
      <SelectField
        label="New size"
        name="size"
        className="field-inline"
        value={size}
        options={SIZES.map((z) => ({ value: z.value, label: z.label }))}
        hint={SIZES.find((z) => z.value === size)?.summary}
        onChange={(e) => setSize(e.target.value as NamespaceSize)}
      />
      <button type="submit" className="btn" disabled={busy || size === n.size}>
        {busy ? "Saving…" : "Change size"}
      </button>
    </form>
  );
}

/** A dev namespace's expiry: set to N days from now (1..30), or never. */
function ExtendExpiry({ tenantId, n, onDone, onError }: ActionProps) {
  const [days, setDays] = useState("7");
  const [busy, setBusy] = useState(false);
  async function save(expires_at: string | null) {
    setBusy(true);
    const r = await call(
      api.PATCH("/v1/tenants/{tenant_id}/namespaces/{namespace}", {
        params: { path: { tenant_id: tenantId, namespace: n.id } },
        body: { expires_at },
      }),
      ["expires_at"],
    );
    setBusy(false);
    if (!r.ok) return onError(r.error);
    onDone(r.data, expires_at ? `“${n.name}” now expires ${expiryCountdown(expires_at)}.` : `“${n.name}” no longer expires.`);
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    const at = expiryIn(days);
    if (!at) return onError({ message: `Give a whole number of days from 1 to ${MAX_EXPIRY_DAYS}.`, fields: { expires_at: ["1 to 30 days"] }, other: [] });
    void save(at);
  }
  return (
    <form onSubmit={submit} className="form-inline" aria-label="Change the expiry">
      <Field
        label="Expire in (days)"
        name="expires_days"
        className="field-inline"
        inputMode="numeric"
        value={days}
        onChange={(e) => setDays(e.target.value)}
      />
      <button type="submit" className="btn" disabled={busy}>
        {busy ? "Saving…" : "Set expiry"}
      </button>
      {n.expires_at && (
        <button type="button" className="btn btn-quiet" disabled={busy} onClick={() => void save(null)}>
          Never expire
        </button>
      )}
    </form>
  );
}

/** A super admin's approval or rejection (a reason is required to reject). */
function Decide({ tenantId, n, onDone, onError }: ActionProps) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  async function decide(approve: boolean) {
    const why = reason.trim();
    if (!approve && why === "") return onError({ message: "Give a reason to reject it.", fields: { reason: ["Enter a reason"] }, other: [] });
    setBusy(true);
    const params = { path: { tenant_id: tenantId, namespace: n.id } };
    const r = approve
      ? await call(api.POST("/v1/tenants/{tenant_id}/namespaces/{namespace}/approve", { params, body: why ? { reason: why } : {} }))
      : await call(api.POST("/v1/tenants/{tenant_id}/namespaces/{namespace}/reject", { params, body: { reason: why } }));
    setBusy(false);
    if (!r.ok) return onError(r.error);
    onDone(r.data, approve ? `Approved “${n.name}”: it is being provisioned.` : `Rejected “${n.name}”.`);
  }
  return (
    <section className="card form-card" aria-labelledby="ns-decide">
      <h2 id="ns-decide">Approval</h2>
      <Field label="Reason" name="reason" maxLength={500} value={reason} hint="Required to reject; kept with the decision." onChange={(e) => setReason(e.target.value)} />
      <div className="form-actions">
        <button type="button" className="btn btn-primary" disabled={busy} onClick={() => decide(true)}>
          Approve
        </button>
        <button type="button" className="btn btn-danger" disabled={busy} onClick={() => decide(false)}>
          Reject
        </button>
      </div>
    </section>
  );
}
