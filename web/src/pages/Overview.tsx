import { Link } from "react-router";
import { platformNav, ROLE_LABELS, tenantNav } from "../auth/roles";
import { useMe } from "../auth/session";
import { PageHeader, StatusBadge } from "../components/ui";

export function Overview() {
  const { me, viewer } = useMe();
  const first = (me.user.name ?? me.user.username ?? "").split(" ")[0];
  const links = [
    ...platformNav(viewer).filter((i) => i.to !== "/app"),
    ...(viewer.tenantId ? tenantNav(viewer, viewer.tenantId) : []),
  ];
  return (
    <>
      <PageHeader title={first ? `Welcome, ${first}` : "Welcome"} />
      <div className="cards">
        <section className="card" aria-labelledby="acct-title">
          <h2 id="acct-title">Your account</h2>
          <dl className="facts">
            <dt>Name</dt>
            <dd>{me.user.name ?? "—"}</dd>
            <dt>Sign-in name</dt>
            <dd>{me.user.username ?? "—"}</dd>
            <dt>Organisation</dt>
            <dd>
              {me.tenant ? (
                <>
                  {me.tenant.name} <span className="muted">({me.tenant.slug})</span> <StatusBadge status={me.tenant.status} />
                </>
              ) : (
                "Platform operator"
              )}
            </dd>
            <dt>Roles</dt>
            <dd>{me.roles.map((r) => ROLE_LABELS[r]).join(", ")}</dd>
            <dt>Directory</dt>
            <dd>
              <code>{me.user.tid}</code>
            </dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="go-title">
          <h2 id="go-title">Go to</h2>
          {links.length === 0 ? (
            <p className="muted">There is nothing here for your role yet. More screens arrive as Atrium grows.</p>
          ) : (
            <ul className="link-list">
              {links.map((l) => (
                <li key={l.to}>
                  <Link to={l.to}>{l.label}</Link>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </>
  );
}
