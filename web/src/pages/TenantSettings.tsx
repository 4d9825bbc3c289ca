// Tenant settings (tenant admins of the tenant, super admins): name, tags and
// the external ids, saved as a JSON merge patch with If-Match.
import { useState, type FormEvent } from "react";
import { api, call } from "../api/client";
import { fieldMessage, type ErrorView } from "../api/problem";
import type { Tenant } from "../api/types";
import { useMe } from "../auth/session";
import { isSuperAdmin } from "../auth/roles";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Field, Loading, Notice, PageHeader, StatusBadge, TagsEditor, Time } from "../components/ui";
import { buildTenantPatch, settingsFormOf, SETTINGS_FIELDS, type TenantSettingsForm } from "../lib/tenantForm";

export function TenantSettings() {
  const scope = useTenantScope();
  const t = scope.tenant;
  if (!t)
    return (
      <>
        <PageHeader title={scope.error ? "Settings not available" : "Settings"} />
        {scope.error ? <ErrorBanner error={scope.error} onRetry={scope.reload} /> : <Loading what="Loading settings" />}
      </>
    );
  return <SettingsScreen tenant={t} etag={scope.etag} reload={scope.reload} />;
}

function SettingsScreen({ tenant: t, etag, reload }: { tenant: Tenant; etag: string | null; reload: () => void }) {
  // The notice outlives the form, which is made anew for each version.
  const [notice, setNotice] = useState<string>();
  return (
    <>
      <PageHeader title={`Settings · ${t.name}`}>
        <StatusBadge status={t.status} />
      </PageHeader>
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <SettingsForm key={`${t.id}:${t.updated_at}`} tenant={t} etag={etag} reload={reload} setNotice={setNotice} />
      <section className="card" aria-labelledby="fixed-title">
        <h2 id="fixed-title">Fixed at creation</h2>
        <dl className="facts">
          <dt>Slug</dt>
          <dd>{t.slug}</dd>
          <dt>Entra directory</dt>
          <dd>
            <code>{t.aad_tenant_id}</code>
          </dd>
          <dt>Tenant id</dt>
          <dd>
            <code>{t.id}</code>
          </dd>
          <dt>Created</dt>
          <dd>
            <Time iso={t.created_at} />
          </dd>
          <dt>Last changed</dt>
          <dd>
            <Time iso={t.updated_at} />
          </dd>
        </dl>
      </section>
    </>
  );
}

function SettingsForm({
  tenant: t,
  etag,
  reload,
  setNotice,
}: {
  tenant: Tenant;
  etag: string | null;
  reload: () => void;
  setNotice: (m: string | undefined) => void;
}) {
  // The billing accounts route the providers' webhooks to this tenant: only
  // the platform operator (super admin) sets them; the API refuses others.
  const operator = isSuperAdmin(useMe().viewer);
  const [form, setForm] = useState<TenantSettingsForm>(() => settingsFormOf(t));
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(false);

  const update = (patch: Partial<TenantSettingsForm>) => {
    setNotice(undefined);
    setForm((f) => ({ ...f, ...patch }));
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setNotice(undefined);
    const built = buildTenantPatch(t, form);
    if (!built.ok) {
      setError({ message: "Some of what you entered needs fixing.", fields: built.fields, other: [] });
      return;
    }
    if (Object.keys(built.body).length === 0) {
      setError(undefined);
      setNotice("Nothing to save: no changes.");
      return;
    }
    setBusy(true);
    setError(undefined);
    const r = await call(
      api.PATCH("/v1/tenants/{tenant_id}", {
        params: { path: { tenant_id: t.id }, header: etag ? { "If-Match": etag } : {} },
        body: built.body,
        headers: { "Content-Type": "application/merge-patch+json" },
      }),
      SETTINGS_FIELDS,
    );
    setBusy(false);
    if (!r.ok) {
      setError(r.error);
      setStale(r.error.status === 412);
      return;
    }
    setNotice("Settings saved.");
    reload(); // the tenant again, with its new ETag; the form is made anew
  }

  const fe = (f: string) => fieldMessage(error, f);
  return (
    <section className="card form-card" aria-labelledby="settings-title">
        <h2 id="settings-title">Organisation</h2>
        <form onSubmit={submit} noValidate>
          <ErrorBanner error={error} />
          {stale && (
            <p>
              <button type="button" className="btn btn-small" onClick={reload}>
                Reload the latest version
              </button>
            </p>
          )}
          <div className="form-grid">
            <Field label="Name" name="name" required maxLength={200} value={form.name} error={fe("name")} onChange={(e) => update({ name: e.target.value })} />
            <Field
              label="Admin group ID"
              name="aad_admin_group_id"
              value={form.aad_admin_group_id}
              error={fe("aad_admin_group_id")}
              hint="Leave empty for none."
              onChange={(e) => update({ aad_admin_group_id: e.target.value })}
            />
            <Field
              label="Members group ID"
              name="aad_members_group_id"
              value={form.aad_members_group_id}
              error={fe("aad_members_group_id")}
              hint="Granted AKS RBAC Writer on the tenant's dev namespaces. Leave empty for none."
              onChange={(e) => update({ aad_members_group_id: e.target.value })}
            />
            <Field
              label="QuickBooks realm ID"
              name="quickbooks_realm_id"
              maxLength={64}
              value={form.quickbooks_realm_id}
              disabled={!operator}
              hint={operator ? undefined : "Set by the platform operator."}
              error={fe("quickbooks_realm_id")}
              onChange={(e) => update({ quickbooks_realm_id: e.target.value })}
            />
            <Field
              label="Pax8 company ID"
              name="pax8_company_id"
              maxLength={64}
              value={form.pax8_company_id}
              disabled={!operator}
              hint={operator ? undefined : "Set by the platform operator."}
              error={fe("pax8_company_id")}
              onChange={(e) => update({ pax8_company_id: e.target.value })}
            />
          </div>
          <TagsEditor rows={form.tags} onChange={(tags) => update({ tags })} error={fe("tags")} />
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? "Saving…" : "Save settings"}
            </button>
            <button type="button" className="btn btn-quiet" disabled={busy} onClick={() => { setError(undefined); setStale(false); setForm(settingsFormOf(t)); }}>
              Discard changes
            </button>
          </div>
        </form>
    </section>
  );
}
