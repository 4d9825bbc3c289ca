// A tenant's namespaces (tenant admins manage them; support users read
// them): live provisioning status, polled every 2 s while any is on its
// way somewhere, with Azure's error when one fails.
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, call, sendIdempotent } from "../api/client";
import { fieldMessage, withoutField, type ErrorView } from "../api/problem";
import type { AzureError, Environment, Namespace, NamespaceCreate, NamespaceQuota, NamespaceSize, NamespaceStatus } from "../api/types";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { followJob, useOperations } from "../components/Operations";
import { PagedTable } from "../components/PagedTable";
import { NamespaceStateChart } from "../components/StatusCharts";
import { useTenantScope } from "../components/tenantContext";
import { ConfirmButton, ErrorBanner, Field, Notice, PageHeader, SelectField, StatusBadge, Time, Toolbar, cx } from "../components/ui";
import { SLUG_PATTERN } from "../lib/format";
import { MAX_EXPIRY_DAYS, expiryCountdown, expiryIn } from "../lib/expiry";
import { SIZES } from "../lib/namespaceSize";
import { dataOf } from "../lib/useLoad";
import { useIdempotentAction, usePaged, usePoll } from "../lib/usePaged";

export const TRANSITIONAL: ReadonlySet<NamespaceStatus> = new Set(["pending", "provisioning", "updating", "deprovisioning"]);

/** Statuses a tenant admin may delete from (the server answers 409 otherwise). */
export const DELETABLE: ReadonlySet<NamespaceStatus> = new Set(["ready", "failed", "pending", "degraded", "pending_approval", "rejected"]);
export const POLL_MS = 2000;

export const ENVIRONMENTS: { value: Environment; label: string }[] = [
  { value: "dev", label: "Development" },
  { value: "staging", label: "Staging" },
  { value: "prod", label: "Production" },
];

const STATUSES: NamespaceStatus[] = [
  "pending_approval", "rejected", "pending", "provisioning", "ready", "updating", "degraded", "failed", "deprovisioning", "deleted",
];

/** Common Azure regions, offered as suggestions (any ARM region name works). */
const REGIONS = [
  "westeurope", "northeurope", "uksouth", "ukwest", "francecentral", "germanywestcentral", "swedencentral",
  "switzerlandnorth", "eastus", "eastus2", "centralus", "westus2", "westus3", "canadacentral",
  "australiaeast", "japaneast", "southeastasia", "centralindia", "brazilsouth",
];

/** Follow a namespace's job (its provisioning or deletion) in the shell's
 * progress area, with a notice when it ends. */
export function followNamespaceJob(ops: ReturnType<typeof useOperations>, tenantId: string, n: Namespace, deleting: boolean) {
  if (!n.job_id) return;
  followJob(
    ops,
    tenantId,
    n.job_id,
    deleting
      ? { running: `Removing namespace “${n.name}”`, succeeded: `Namespace “${n.name}” is deleted.`, failed: `Namespace “${n.name}” could not be deleted.` }
      : { running: `Provisioning namespace “${n.name}”`, succeeded: `Namespace “${n.name}” is ready.`, failed: `Namespace “${n.name}” could not be provisioned.` },
  );
}

export function nsPath(tenantId: string, name: string): string {
  return `/app/tenants/${tenantId}/namespaces/${encodeURIComponent(name)}`;
}

/** Azure's error in one line: "Code: message". */
export function AzureErrorText({ error, retrying, clamp }: { error: AzureError; retrying?: boolean; clamp?: boolean }) {
  return (
    <p
      className={cx("azure-error", retrying && "azure-error-retry", clamp && "azure-error-clamp")}
      data-testid="azure-error"
      title={clamp ? `${error.code}: ${error.message}` : undefined}
    >
      {retrying && <span className="azure-error-lead">Retrying after Azure’s error: </span>}
      <strong>{error.code}</strong>: {error.message}
    </p>
  );
}

export function Namespaces() {
  const { viewer } = useMe();
  const { tenantId, tenant } = useTenantScope();
  const [search, setSearch] = useSearchParams();
  const status = STATUSES.find((s) => s === search.get("status"));
  const environment = ENVIRONMENTS.find((e) => e.value === search.get("environment"))?.value;
  const { load, reload, page, dispatch } = usePaged(
    (cursor) =>
      call(
        api.GET("/v1/tenants/{tenant_id}/namespaces", {
          params: { path: { tenant_id: tenantId }, query: { limit: 20, cursor: cursor ?? undefined, status, environment } },
        }),
      ),
    [tenantId, status, environment],
  );
  const items = dataOf(load)?.data ?? [];
  usePoll(items.some((n) => TRANSITIONAL.has(n.status)), reload, POLL_MS);
  const manage = can(viewer, "namespaces.manage", tenantId);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [actionError, setActionError] = useState<ErrorView>();
  const ops = useOperations();

  async function remove(n: Namespace) {
    const r = await call(
      api.DELETE("/v1/tenants/{tenant_id}/namespaces/{namespace}", { params: { path: { tenant_id: tenantId, namespace: n.id } } }),
    );
    if (!r.ok) return setActionError(r.error);
    setActionError(undefined);
    setNotice(`Deleting “${n.name}”: its Azure resources are being removed.`);
    followNamespaceJob(ops, tenantId, r.data, true);
    reload();
  }

  const setFilter = (k: string, v: string) => {
    const next = new URLSearchParams(search);
    if (v) next.set(k, v);
    else next.delete(k);
    setSearch(next);
  };

  return (
    <>
      <PageHeader title={tenant ? `Namespaces · ${tenant.name}` : "Namespaces"}>
        {manage && !creating && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New namespace
          </button>
        )}
      </PageHeader>
      <p className="lead-text muted">
        Each namespace is an environment with its own Azure resource group, storage containers and, on the platform's AKS cluster, a Kubernetes
        namespace of its size. Production namespaces wait for a platform operator's approval. Status updates live while it is provisioned.
      </p>
      {creating && (
        <CreateNamespace
          tenantId={tenantId}
          onCancel={() => setCreating(false)}
          onCreated={(n) => {
            setCreating(false);
            setNotice(
              n.status === "pending_approval"
                ? `Namespace “${n.name}” waits for a platform operator's approval before anything is made in Azure.`
                : `Namespace “${n.name}” created: its status below follows the provisioning.`,
            );
            followNamespaceJob(ops, tenantId, n, false);
            if (status || environment) setSearch({});
            reload();
          }}
        />
      )}
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <ErrorBanner error={actionError} />
      <NamespaceStateChart tenantId={tenantId} version={items.map((n) => `${n.id}:${n.status}`).join(",")} />
      <Toolbar label="Filter namespaces">
        <SelectField
          label="Status"
          name="status"
          className="field-inline"
          value={status ?? ""}
          options={[{ value: "", label: "All but deleted" }, ...STATUSES.map((s) => ({ value: s, label: s }))]}
          onChange={(e) => setFilter("status", e.target.value)}
        />
        <SelectField
          label="Environment"
          name="environment"
          className="field-inline"
          value={environment ?? ""}
          options={[{ value: "", label: "Any" }, ...ENVIRONMENTS]}
          onChange={(e) => setFilter("environment", e.target.value)}
        />
      </Toolbar>
      <PagedTable<Namespace>
        label="Namespaces"
        load={load}
        reload={reload}
        page={page}
        dispatch={dispatch}
        empty={status || environment ? "No namespaces match these filters." : "No namespaces yet."}
        head={
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Environment</th>
            <th scope="col">Location</th>
            <th scope="col">Status</th>
            <th scope="col">Updated</th>
            {manage && (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        }
        row={(n) => (
          <tr key={n.id} data-namespace={n.name}>
            <td data-label="Name">
              <Link to={nsPath(tenantId, n.status === "deleted" ? n.id : n.name)} className="strong">
                {n.name}
              </Link>
              <div className="muted small">{n.resource_group}</div>
            </td>
            <td data-label="Environment">
              {ENVIRONMENTS.find((e) => e.value === n.environment)?.label ?? n.environment}
              {n.expires_at && n.status !== "deleted" && (
                <div className="muted small" data-testid="namespace-expiry">
                  expires {expiryCountdown(n.expires_at)}
                </div>
              )}
            </td>
            <td data-label="Location">{n.location}</td>
            <td data-label="Status" className="status-cell">
              <StatusBadge status={n.status} />
              {TRANSITIONAL.has(n.status) && <span className="spinner spinner-inline" aria-hidden="true" />}
              {n.last_error && (n.status === "failed" || TRANSITIONAL.has(n.status)) && (
                <AzureErrorText error={n.last_error} retrying={n.status !== "failed"} clamp />
              )}
            </td>
            <td data-label="Updated" className="nowrap">
              <Time iso={n.updated_at} />
            </td>
            {manage && (
              <td className="actions">
                {DELETABLE.has(n.status) && (
                  <ConfirmButton label="Delete" confirm={`Delete “${n.name}” and its Azure resources?`} confirmLabel="Delete" onConfirm={() => remove(n)} />
                )}
              </td>
            )}
          </tr>
        )}
      />
    </>
  );
}

const NS_FIELDS = ["name", "environment", "location", "quota", "size", "expires_at"] as const;

interface NsForm {
  name: string;
  environment: Environment;
  location: string;
  size: NamespaceSize;
  /** dev only: whole days until the worker deletes it; "" never */
  expiresDays: string;
  cpu: string;
  memory: string;
  storage: string;
}

function quotaOf(f: NsForm, fields: Record<string, string[]>): NamespaceQuota | undefined {
  const quota: NamespaceQuota = {};
  const parts: [keyof NamespaceQuota, string, string, number][] = [
    ["cpu_cores", f.cpu, "CPU cores", 1024],
    ["memory_gib", f.memory, "Memory (GiB)", 65536],
    ["storage_gib", f.storage, "Storage (GiB)", 1048576],
  ];
  for (const [k, v, label, max] of parts) {
    const t = v.trim();
    if (t === "") continue;
    if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > max) (fields.quota ??= []).push(`${label}: a whole number from 1 to ${max}`);
    else quota[k] = Number(t);
  }
  return Object.keys(quota).length > 0 ? quota : undefined;
}

function CreateNamespace({ tenantId, onCreated, onCancel }: { tenantId: string; onCreated: (n: Namespace) => void; onCancel: () => void }) {
  const [form, setForm] = useState<NsForm>({
    name: "",
    environment: "dev",
    location: "westeurope",
    size: "small",
    expiresDays: "",
    cpu: "",
    memory: "",
    storage: "",
  });
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const action = useIdempotentAction();
  const set = (patch: Partial<NsForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    const key = Object.keys(patch)[0] ?? "";
    setError((e) => withoutField(e, ["cpu", "memory", "storage"].includes(key) ? "quota" : key));
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string[]> = {};
    const name = form.name.trim();
    const location = form.location.trim().toLowerCase();
    if (name === "") fields.name = ["Enter a name, like web or api"];
    else if (!SLUG_PATTERN.test(name)) fields.name = ["Lower-case letters, digits and hyphens, 1 to 63 characters, not starting or ending with a hyphen"];
    if (!/^[a-z][a-z0-9]{1,39}$/.test(location)) fields.location = ["An Azure region as ARM names it, like westeurope"];
    const quota = quotaOf(form, fields);
    const dev = form.environment === "dev";
    const expiresAt = dev && form.expiresDays.trim() !== "" ? expiryIn(form.expiresDays) : undefined;
    if (dev && form.expiresDays.trim() !== "" && !expiresAt) fields.expires_at = [`A whole number of days from 1 to ${MAX_EXPIRY_DAYS}`];
    if (Object.keys(fields).length > 0) return setError({ message: "Some of what you entered needs fixing.", fields, other: [] });
    const body: NamespaceCreate = {
      name,
      environment: form.environment,
      location,
      size: form.size,
      ...(quota ? { quota } : {}),
      ...(expiresAt ? { expires_at: expiresAt } : {}),
    };
    setBusy(true);
    const r = await sendIdempotent(action, body, (key) =>
      call(
        api.POST("/v1/tenants/{tenant_id}/namespaces", {
          params: { path: { tenant_id: tenantId }, header: { "Idempotency-Key": key } },
          body,
        }),
        NS_FIELDS,
      ),
    );
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(undefined);
    onCreated(r.data);
  }

  return (
    <section className="card form-card" aria-labelledby="ns-new">
      <h2 id="ns-new">New namespace</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <div className="form-grid">
          <Field
            label="Name"
            name="name"
            autoFocus
            maxLength={63}
            value={form.name}
            hint="A DNS label, unique in this tenant."
            error={fieldMessage(error, "name")}
            onChange={(e) => set({ name: e.target.value })}
          />
          <SelectField
            label="Environment"
            name="environment"
            value={form.environment}
            options={ENVIRONMENTS}
            error={fieldMessage(error, "environment")}
            hint={form.environment === "prod" ? "Production waits for a platform operator's approval." : undefined}
            onChange={(e) => set({ environment: e.target.value as Environment })}
          />
          <SelectField
            label="Size"
            name="size"
            value={form.size}
            options={SIZES.map((z) => ({ value: z.value, label: z.label }))}
            hint={SIZES.find((z) => z.value === form.size)?.summary}
            error={fieldMessage(error, "size")}
            onChange={(e) => set({ size: e.target.value as NamespaceSize })}
          />
          {form.environment === "dev" && (
            <Field
              label="Expires after (days)"
              name="expires_at"
              inputMode="numeric"
              value={form.expiresDays}
              hint={`Optional: the worker deletes it after 1 to ${MAX_EXPIRY_DAYS} days; extend it later on its page.`}
              error={fieldMessage(error, "expires_at")}
              onChange={(e) => set({ expiresDays: e.target.value })}
            />
          )}
          <Field
            label="Location"
            name="location"
            list="azure-regions"
            value={form.location}
            hint="The Azure region of its resource group."
            error={fieldMessage(error, "location")}
            onChange={(e) => set({ location: e.target.value })}
          />
          <datalist id="azure-regions">
            {REGIONS.map((r) => (
              <option key={r} value={r} />
            ))}
          </datalist>
        </div>
        <fieldset className={fieldMessage(error, "quota") ? "field field-invalid" : "field"}>
          <legend>Quota (optional)</legend>
          <div className="form-grid form-grid-tight">
            <Field label="CPU cores" name="cpu_cores" inputMode="numeric" value={form.cpu} onChange={(e) => set({ cpu: e.target.value })} />
            <Field label="Memory (GiB)" name="memory_gib" inputMode="numeric" value={form.memory} onChange={(e) => set({ memory: e.target.value })} />
            <Field label="Storage (GiB)" name="storage_gib" inputMode="numeric" value={form.storage} onChange={(e) => set({ storage: e.target.value })} />
          </div>
          {fieldMessage(error, "quota") && <p className="field-error">{fieldMessage(error, "quota")}</p>}
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create namespace"}
          </button>
          <button type="button" className="btn btn-quiet" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
