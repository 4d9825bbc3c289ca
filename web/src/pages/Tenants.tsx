// Tenants (super admins): list with pagination, create, suspend/reactivate
// (PATCH status with If-Match), delete.
import { useEffect, useReducer, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, call, newIdempotencyKey } from "../api/client";
import { fieldMessage, type ErrorView } from "../api/problem";
import type { Tenant, TenantStatus } from "../api/types";
import { Empty, ErrorBanner, Field, Loading, Notice, PageHeader, Pager, SelectField, StatusBadge, TagsEditor, Time } from "../components/ui";
import { slugify } from "../lib/format";
import { currentCursor, FIRST_PAGE, hasNext, hasPrevious, pageNumber, pageReducer } from "../lib/pagination";
import { buildTenantCreate, CREATE_FIELDS, EMPTY_CREATE_FORM, type TenantCreateForm } from "../lib/tenantForm";
import { dataOf, useLoad } from "../lib/useLoad";

const PAGE_SIZE = 20;
const STATUS_FILTERS = [
  { value: "", label: "All but deleted" },
  { value: "active", label: "Active" },
  { value: "suspended", label: "Suspended" },
  { value: "deleting", label: "Being deleted" },
  { value: "deleted", label: "Deleted" },
] as const;

function statusFilter(v: string | null): TenantStatus | undefined {
  return v === "active" || v === "suspended" || v === "deleting" || v === "deleted" ? v : undefined;
}

export function Tenants() {
  const [search, setSearch] = useSearchParams();
  const status = statusFilter(search.get("status"));
  const [page, dispatch] = useReducer(pageReducer, FIRST_PAGE);
  const cursor = currentCursor(page);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [actionError, setActionError] = useState<ErrorView>();

  const [load, reload] = useLoad(
    () =>
      call(
        api.GET("/v1/tenants", {
          params: { query: { limit: PAGE_SIZE, ...(cursor ? { cursor } : {}), ...(status ? { status } : {}) } },
        }),
      ),
    [cursor, status],
  );
  useEffect(() => {
    if (load.kind === "ok") dispatch({ type: "loaded", nextCursor: load.data.next_cursor });
  }, [load]);

  const list = dataOf(load);
  const done = (message: string) => {
    setActionError(undefined);
    setNotice(message);
    reload();
  };

  return (
    <>
      <PageHeader title="Tenants">
        {!creating && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New tenant
          </button>
        )}
      </PageHeader>
      {creating && (
        <CreateTenant
          onCancel={() => setCreating(false)}
          onCreated={(t) => {
            setCreating(false);
            if (cursor !== null || (status && status !== "active")) {
              dispatch({ type: "reset" });
              setSearch({});
            }
            done(`Tenant “${t.name}” created.`);
          }}
        />
      )}
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <ErrorBanner error={actionError} />
      <div className="toolbar">
        <SelectField
          label="Show"
          name="status"
          className="field-inline"
          value={status ?? ""}
          options={STATUS_FILTERS}
          onChange={(e) => {
            dispatch({ type: "reset" });
            setSearch(e.target.value ? { status: e.target.value } : {});
          }}
        />
      </div>
      {load.kind === "error" && <ErrorBanner error={load.error} onRetry={reload} />}
      {!list && load.kind === "loading" && <Loading what="Loading tenants" />}
      {list && list.data.length === 0 && <Empty>No tenants{status ? ` with status ${status}` : ""}.</Empty>}
      {list && list.data.length > 0 && (
        <div className="table-wrap">
          <table className="table" aria-label="Tenants" aria-busy={load.kind === "loading"}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col" className="hide-narrow">
                  Entra directory
                </th>
                <th scope="col" className="hide-narrow">
                  Created
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((t) => (
                <TenantRow key={t.id} tenant={t} onDone={done} onError={setActionError} />
              ))}
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

function TenantRow({ tenant: t, onDone, onError }: { tenant: Tenant; onDone: (m: string) => void; onError: (e: ErrorView) => void }) {
  const [busy, setBusy] = useState<string>();
  const [confirmDelete, setConfirmDelete] = useState(false);

  async function setStatus(to: "active" | "suspended") {
    setBusy(to === "suspended" ? "Suspending…" : "Reactivating…");
    // Read the current version for If-Match, so a concurrent change is not
    // overwritten blindly (412 then).
    const got = await call(api.GET("/v1/tenants/{tenant_id}", { params: { path: { tenant_id: t.id } } }));
    if (!got.ok) {
      setBusy(undefined);
      onError(got.error);
      return;
    }
    const etag = got.response.headers.get("ETag");
    const r = await call(
      api.PATCH("/v1/tenants/{tenant_id}", {
        params: { path: { tenant_id: t.id }, header: etag ? { "If-Match": etag } : {} },
        body: { status: to },
      }),
    );
    setBusy(undefined);
    if (!r.ok) onError(r.error);
    else onDone(to === "suspended" ? `Tenant “${t.name}” suspended.` : `Tenant “${t.name}” reactivated.`);
  }

  async function remove() {
    setBusy("Deleting…");
    const r = await call(api.DELETE("/v1/tenants/{tenant_id}", { params: { path: { tenant_id: t.id } } }));
    setBusy(undefined);
    setConfirmDelete(false);
    if (!r.ok) onError(r.error);
    else if (r.data?.status === "deleting")
      onDone(`Tenant “${t.name}” is being deleted: its namespaces are deprovisioned first, then it is deleted.`);
    else onDone(`Tenant “${t.name}” deleted.`);
  }

  const deleted = t.status === "deleted";
  const deleting = t.status === "deleting";
  return (
    <tr data-tenant-slug={t.slug}>
      <td>
        <Link to={`/app/tenants/${t.id}`} className="strong">
          {t.name}
        </Link>
        <div className="muted small">{t.slug}</div>
      </td>
      <td>
        <StatusBadge status={t.status} />
      </td>
      <td className="hide-narrow">
        <code className="small" title={t.aad_tenant_id}>
          {t.aad_tenant_id}
        </code>
      </td>
      <td className="hide-narrow">
        <Time iso={t.created_at} />
      </td>
      <td className="actions">
        {busy ? (
          <span className="muted small" role="status">
            {busy}
          </span>
        ) : confirmDelete ? (
          <span className="confirm">
            <span className="small">Delete “{t.slug}”?</span>
            <button type="button" className="btn btn-small btn-danger" onClick={remove}>
              Confirm delete
            </button>
            <button type="button" className="btn btn-small btn-quiet" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <>
            <Link className="btn btn-small btn-quiet" to={`/app/tenants/${t.id}/settings`}>
              Settings
            </Link>
            <Link className="btn btn-small btn-quiet" to={`/app/tenants/${t.id}/audit`}>
              Audit
            </Link>
            {!deleted &&
              !deleting &&
              (t.status === "active" ? (
                <button type="button" className="btn btn-small" onClick={() => setStatus("suspended")}>
                  Suspend
                </button>
              ) : (
                <button type="button" className="btn btn-small" onClick={() => setStatus("active")}>
                  Reactivate
                </button>
              ))}
            {!deleted && !deleting && (
              <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => setConfirmDelete(true)}>
                Delete
              </button>
            )}
          </>
        )}
      </td>
    </tr>
  );
}

function CreateTenant({ onCreated, onCancel }: { onCreated: (t: Tenant) => void; onCancel: () => void }) {
  const [form, setForm] = useState<TenantCreateForm>(EMPTY_CREATE_FORM);
  const [slugTouched, setSlugTouched] = useState(false);
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  // One key per distinct body: a resubmit of the same form after a network
  // failure is a safe retry; any edit makes a new request.
  const key = useRef(newIdempotencyKey());

  const update = (patch: Partial<TenantCreateForm>) => {
    key.current = newIdempotencyKey();
    setForm((f) => {
      const next = { ...f, ...patch };
      if (patch.name !== undefined && !slugTouched) next.slug = slugify(patch.name);
      return next;
    });
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const built = buildTenantCreate(form);
    if (!built.ok) {
      setError({ message: "Some of what you entered needs fixing.", fields: built.fields, other: [] });
      return;
    }
    setBusy(true);
    setError(undefined);
    const r = await call(
      api.POST("/v1/tenants", { params: { header: { "Idempotency-Key": key.current } }, body: built.body }),
      CREATE_FIELDS,
    );
    setBusy(false);
    if (!r.ok) setError(r.error);
    else {
      key.current = newIdempotencyKey();
      setForm(EMPTY_CREATE_FORM);
      onCreated(r.data);
    }
  }

  const fe = (f: string) => fieldMessage(error, f);
  return (
    <section className="card form-card" aria-labelledby="create-title">
      <h2 id="create-title">New tenant</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <div className="form-grid">
          <Field label="Name" name="name" required maxLength={200} value={form.name} error={fe("name")} onChange={(e) => update({ name: e.target.value })} autoFocus />
          <Field
            label="Slug"
            name="slug"
            required
            maxLength={63}
            value={form.slug}
            error={fe("slug")}
            hint="Lower-case letters, digits and hyphens. Cannot be changed later."
            onChange={(e) => {
              setSlugTouched(true);
              update({ slug: e.target.value });
            }}
          />
          <Field
            label="Entra tenant ID"
            name="aad_tenant_id"
            required
            value={form.aad_tenant_id}
            error={fe("aad_tenant_id")}
            hint="The organisation's Microsoft Entra directory (tenant) id. Cannot be changed later."
            onChange={(e) => update({ aad_tenant_id: e.target.value })}
          />
          <Field
            label="Admin group ID (optional)"
            name="aad_admin_group_id"
            value={form.aad_admin_group_id}
            error={fe("aad_admin_group_id")}
            hint="The Entra group granted Contributor on the tenant's Azure resources and AKS RBAC Admin on its Kubernetes namespaces."
            onChange={(e) => update({ aad_admin_group_id: e.target.value })}
          />
          <Field
            label="Members group ID (optional)"
            name="aad_members_group_id"
            value={form.aad_members_group_id}
            error={fe("aad_members_group_id")}
            hint="The Entra group granted AKS RBAC Writer on the tenant's dev namespaces."
            onChange={(e) => update({ aad_members_group_id: e.target.value })}
          />
          <Field
            label="QuickBooks realm ID (optional)"
            name="quickbooks_realm_id"
            maxLength={64}
            value={form.quickbooks_realm_id}
            error={fe("quickbooks_realm_id")}
            onChange={(e) => update({ quickbooks_realm_id: e.target.value })}
          />
          <Field
            label="Pax8 company ID (optional)"
            name="pax8_company_id"
            maxLength={64}
            value={form.pax8_company_id}
            error={fe("pax8_company_id")}
            onChange={(e) => update({ pax8_company_id: e.target.value })}
          />
        </div>
        <TagsEditor rows={form.tags} onChange={(tags) => update({ tags })} error={fe("tags")} />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create tenant"}
          </button>
          <button type="button" className="btn btn-quiet" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
