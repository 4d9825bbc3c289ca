import { Link } from "react-router";
import { tenantNav } from "../auth/roles";
import { useMe } from "../auth/session";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Loading, PageHeader, StatusBadge, Time } from "../components/ui";

/** A tenant at a glance (anyone of the tenant, or a super admin). */
export function TenantHome() {
  const { viewer } = useMe();
  const scope = useTenantScope();
  const t = scope.tenant;
  if (!t)
    return (
      <>
        <PageHeader title={scope.error ? "Tenant not available" : "Tenant"} />
        {scope.error ? <ErrorBanner error={scope.error} onRetry={scope.reload} /> : <Loading what="Loading the tenant" />}
      </>
    );
  const links = tenantNav(viewer, t.id);
  const tags = Object.entries(t.tags ?? {});
  return (
    <>
      <PageHeader title={t.name}>
        <StatusBadge status={t.status} />
      </PageHeader>
      <div className="cards">
        <section className="card" aria-labelledby="t-facts">
          <h2 id="t-facts">Details</h2>
          <dl className="facts">
            <dt>Slug</dt>
            <dd>{t.slug}</dd>
            <dt>Entra directory</dt>
            <dd>
              <code>{t.aad_tenant_id}</code>
            </dd>
            <dt>Admin group</dt>
            <dd>{t.aad_admin_group_id ? <code>{t.aad_admin_group_id}</code> : "—"}</dd>
            <dt>Members group</dt>
            <dd>{t.aad_members_group_id ? <code>{t.aad_members_group_id}</code> : "—"}</dd>
            <dt>QuickBooks realm</dt>
            <dd>{t.quickbooks_realm_id ? <code>{t.quickbooks_realm_id}</code> : "—"}</dd>
            <dt>Pax8 company</dt>
            <dd>{t.pax8_company_id ? <code>{t.pax8_company_id}</code> : "—"}</dd>
            <dt>Tags</dt>
            <dd>
              {tags.length === 0
                ? "—"
                : tags.map(([k, v]) => (
                    <span className="chip chip-light" key={k}>
                      {k}: {v}
                    </span>
                  ))}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time iso={t.created_at} />
            </dd>
            <dt>Updated</dt>
            <dd>
              <Time iso={t.updated_at} />
            </dd>
          </dl>
        </section>
        {links.length > 0 && (
          <section className="card" aria-labelledby="t-go">
            <h2 id="t-go">Go to</h2>
            <ul className="link-list">
              {links.map((l) => (
                <li key={l.to}>
                  <Link to={l.to}>{l.label}</Link>
                </li>
              ))}
            </ul>
          </section>
        )}
      </div>
    </>
  );
}
