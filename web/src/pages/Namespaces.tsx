// PLACEHOLDER (FEATURES.namespaces): per-tenant environments with live
// provisioning status. Typed locally from SPEC.md section 3 until
// …/namespaces is in openapi.yaml.
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { callUntyped } from "../api/client";
import type { Environment, Job, Namespace, NamespaceCreate } from "../api/local-types";
import { fieldMessage, type ErrorView } from "../api/problem";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Field, Loading, Notice, PageHeader, SelectField, StatusBadge, Time } from "../components/ui";
import { SLUG_PATTERN } from "../lib/format";
import { usePagedUntyped, usePoll } from "../lib/usePaged";
import { dataOf, useLoad } from "../lib/useLoad";

const TRANSITIONAL = new Set(["pending", "provisioning", "deprovisioning"]);
const ENVIRONMENTS: { value: Environment; label: string }[] = [
  { value: "dev", label: "Development" },
  { value: "staging", label: "Staging" },
  { value: "prod", label: "Production" },
];

function describe(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    const inner = (o.error ?? o) as Record<string, unknown>;
    if (typeof inner.message === "string") return typeof inner.code === "string" ? `${inner.code}: ${inner.message}` : inner.message;
  }
  return JSON.stringify(v);
}

export function Namespaces() {
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const { name } = useParams();
  const base = `/v1/tenants/${encodeURIComponent(tenantId)}/namespaces`;
  const { load, reload, page, dispatch } = usePagedUntyped<Namespace>(base, {});
  const items = dataOf(load)?.data ?? [];
  usePoll(items.some((n) => TRANSITIONAL.has(n.status)), reload);
  const manage = can(viewer, "namespaces.manage", tenantId);
  const [notice, setNotice] = useState<string>();
  const [actionError, setActionError] = useState<ErrorView>();

  async function remove(n: Namespace) {
    const r = await callUntyped<Job>("DELETE", `${base}/${encodeURIComponent(n.name)}`);
    if (!r.ok) setActionError(r.error);
    else {
      setActionError(undefined);
      setNotice(`Deleting “${n.name}”: its resources are being removed.`);
      reload();
    }
  }

  return (
    <>
      <PageHeader title="Namespaces" />
      {name && <NamespaceDetail base={base} name={name} tenantId={tenantId} />}
      {manage && (
        <CreateNamespace
          base={base}
          onCreated={(n) => {
            setNotice(`Namespace “${n}” is being provisioned.`);
            reload();
          }}
        />
      )}
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <ErrorBanner error={actionError} />
      <PagedTable<Namespace>
        label="Namespaces"
        load={load}
        reload={reload}
        page={page}
        dispatch={dispatch}
        empty="No namespaces yet."
        head={
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Environment</th>
            <th scope="col" className="hide-narrow">Location</th>
            <th scope="col">Status</th>
            <th scope="col" className="hide-narrow">Updated</th>
            {manage && <th scope="col"><span className="sr-only">Actions</span></th>}
          </tr>
        }
        row={(n) => (
          <tr key={n.id}>
            <td>
              <Link to={`/app/tenants/${tenantId}/namespaces/${encodeURIComponent(n.name)}`} className="strong">
                {n.name}
              </Link>
              {n.resource_group && <div className="muted small">{n.resource_group}</div>}
            </td>
            <td>{n.environment}</td>
            <td className="hide-narrow">{n.location}</td>
            <td>
              <StatusBadge status={n.status} />
              {n.status === "failed" && n.last_error != null && <div className="field-error small">{describe(n.last_error)}</div>}
            </td>
            <td className="hide-narrow">
              <Time iso={n.updated_at} />
            </td>
            {manage && (
              <td className="actions">
                {n.status !== "deleted" && n.status !== "deprovisioning" && <ConfirmButton label="Delete" confirm={`Delete “${n.name}” and its Azure resources?`} onConfirm={() => remove(n)} />}
              </td>
            )}
          </tr>
        )}
      />
    </>
  );
}

export function ConfirmButton({ label, confirm, onConfirm }: { label: string; confirm: string; onConfirm: () => Promise<void> | void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (busy) return <span className="muted small">Working…</span>;
  if (!asking)
    return (
      <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span className="confirm">
      <span className="small">{confirm}</span>
      <button
        type="button"
        className="btn btn-small btn-danger"
        onClick={async () => {
          setBusy(true);
          await onConfirm();
          setBusy(false);
          setAsking(false);
        }}
      >
        Confirm
      </button>
      <button type="button" className="btn btn-small btn-quiet" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

function NamespaceDetail({ base, name, tenantId }: { base: string; name: string; tenantId: string }) {
  const [load, reload] = useLoad(() => callUntyped<Namespace>("GET", `${base}/${encodeURIComponent(name)}`), [base, name]);
  const n = dataOf(load);
  usePoll(!!n && TRANSITIONAL.has(n.status), reload);
  if (load.kind === "error") return <ErrorBanner error={load.error} onRetry={reload} />;
  if (!n) return <Loading what={`Loading ${name}`} />;
  return (
    <section className="card" aria-labelledby="ns-title">
      <h2 id="ns-title">
        {n.name} <StatusBadge status={n.status} />
      </h2>
      <dl className="facts">
        <dt>Environment</dt>
        <dd>{n.environment}</dd>
        <dt>Location</dt>
        <dd>{n.location}</dd>
        <dt>Resource group</dt>
        <dd>{n.resource_group ?? "—"}</dd>
        <dt>Resources</dt>
        <dd>{n.resources ? <code className="small">{JSON.stringify(n.resources)}</code> : "—"}</dd>
        <dt>Quota</dt>
        <dd>{n.quota ? <code className="small">{JSON.stringify(n.quota)}</code> : "—"}</dd>
        <dt>Last error</dt>
        <dd>{n.last_error != null ? describe(n.last_error) : "—"}</dd>
        <dt>Job</dt>
        <dd>{n.job_id ? <Link to={`/app/tenants/${tenantId}/jobs/${n.job_id}`}>{n.job_id}</Link> : "—"}</dd>
        <dt>Created</dt>
        <dd>
          <Time iso={n.created_at} />
        </dd>
      </dl>
    </section>
  );
}

const NS_FIELDS = ["name", "environment", "location", "quota"];

function CreateNamespace({ base, onCreated }: { base: string; onCreated: (name: string) => void }) {
  const [form, setForm] = useState({ name: "", environment: "dev" as Environment, location: "" });
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <p>
        <button type="button" className="btn btn-primary" onClick={() => setOpen(true)}>
          New namespace
        </button>
      </p>
    );
  async function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string[]> = {};
    if (!SLUG_PATTERN.test(form.name.trim())) fields.name = ["Lower-case letters, digits and hyphens, 1 to 63 characters"];
    if (form.location.trim() === "") fields.location = ["Enter an Azure region, like westeurope"];
    if (Object.keys(fields).length > 0) {
      setError({ message: "Some of what you entered needs fixing.", fields, other: [] });
      return;
    }
    setBusy(true);
    const body: NamespaceCreate = { name: form.name.trim(), environment: form.environment, location: form.location.trim() };
    const r = await callUntyped<Namespace | Job>("POST", base, { body, formFields: NS_FIELDS });
    setBusy(false);
    if (!r.ok) setError(r.error);
    else {
      setError(undefined);
      setOpen(false);
      setForm({ name: "", environment: "dev", location: "" });
      onCreated(body.name);
    }
  }
  return (
    <section className="card form-card" aria-labelledby="ns-new">
      <h2 id="ns-new">New namespace</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <div className="form-grid">
          <Field label="Name" name="name" value={form.name} error={fieldMessage(error, "name")} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          <SelectField label="Environment" name="environment" value={form.environment} options={ENVIRONMENTS} error={fieldMessage(error, "environment")} onChange={(e) => setForm({ ...form, environment: e.target.value as Environment })} />
          <Field label="Location" name="location" placeholder="e.g. westeurope" value={form.location} error={fieldMessage(error, "location")} onChange={(e) => setForm({ ...form, location: e.target.value })} />
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create namespace"}
          </button>
          <button type="button" className="btn btn-quiet" onClick={() => setOpen(false)} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
