import { useEffect, useRef, useState } from "react";
import { Link, NavLink, Outlet, useLocation, useMatch } from "react-router";
import { api, call } from "../api/client";
import type { ErrorView } from "../api/problem";
import { platformNav, ROLE_LABELS, tenantNav, type NavItem } from "../auth/roles";
import { useMe, useSession } from "../auth/session";
import { dataOf, useLoad } from "../lib/useLoad";
import type { Tenant } from "../api/types";
import { TenantScopeContext, type TenantScope } from "./tenantContext";
import { OperationsPanel, OperationsProvider } from "./Operations";
import { ErrorBanner, StatusBadge } from "./ui";

function NavList({ items, label }: { items: NavItem[]; label: string }) {
  if (items.length === 0) return null;
  return (
    <ul className="nav-list" aria-label={label}>
      {items.map((i) => (
        <li key={i.to}>
          <NavLink to={i.to} end={i.to === "/app" || i.to === "/app/tenants"} className={({ isActive }) => (isActive ? "active" : undefined)}>
            {i.label}
          </NavLink>
        </li>
      ))}
    </ul>
  );
}

export function WhoAmI() {
  const { me } = useMe();
  const display = me.user.name ?? me.user.username ?? me.user.oid;
  return (
    <div className="whoami" aria-label="Signed in as">
      <span className="whoami-name" data-testid="whoami-name">
        {display}
      </span>
      <span className="whoami-tenant" data-testid="whoami-tenant">
        {me.tenant ? me.tenant.name : "Platform operator"}
      </span>
      <span className="whoami-roles" data-testid="whoami-roles">
        {me.roles.map((r) => (
          <span key={r} className="chip">
            {ROLE_LABELS[r]}
          </span>
        ))}
      </span>
    </div>
  );
}

function SignOutButton() {
  const { signOut } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorView>();
  return (
    <div className="signout">
      <button
        type="button"
        className="btn btn-header"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          const e = await signOut();
          if (e) {
            setError(e);
            setBusy(false);
          }
        }}
      >
        {busy ? "Signing out…" : "Sign out"}
      </button>
      {error && (
        <div className="signout-error">
          <ErrorBanner error={error} />
        </div>
      )}
    </div>
  );
}

/**
 * After a client-side navigation (not the first page), focus the new
 * screen's main heading (or, until one shows up, the main landmark) and
 * announce it, so keyboard and screen-reader users start on the new page.
 * Lazy screens render their heading a little later: it is waited for.
 */
function useFocusOnNavigate(pathname: string, announce: (text: string) => void) {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    let timer = 0;
    let tries = 0;
    const go = () => {
      const main = document.getElementById("main");
      const h1 = main?.querySelector("h1");
      if (!h1 && tries++ < 40) {
        timer = window.setTimeout(go, 50);
        return;
      }
      const target = h1 ?? main;
      if (!target) return;
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
      // the title is set by the screen's effect, which ran by now
      announce(document.title);
    };
    // after the screen's own effects (document title) have run
    timer = window.setTimeout(go, 0);
    return () => window.clearTimeout(timer);
  }, [pathname, announce]);
}

/** The signed-in shell: header, navigation, and the current screen. */
export function Layout() {
  const { me, viewer } = useMe();
  const location = useLocation();
  const match = useMatch("/app/tenants/:tenantId/*");
  const routeTenantId = match?.params.tenantId;
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [location.pathname]);
  const [announcement, setAnnouncement] = useState("");
  useFocusOnNavigate(location.pathname, setAnnouncement);

  const [tenantLoad, reloadTenant] = useLoad<Tenant | null>(
    () =>
      routeTenantId
        ? call(api.GET("/v1/tenants/{tenant_id}", { params: { path: { tenant_id: routeTenantId } } }))
        : Promise.resolve({ ok: true, data: null, response: new Response(null) }),
    [routeTenantId],
  );
  const loaded = dataOf(tenantLoad);
  const tenant = loaded && loaded.id === routeTenantId ? loaded : undefined;
  const scope: TenantScope | null = routeTenantId
    ? {
        tenantId: routeTenantId,
        tenant,
        loading: tenantLoad.kind === "loading",
        error: tenantLoad.kind === "error" ? tenantLoad.error : undefined,
        etag: tenantLoad.kind === "ok" ? tenantLoad.response.headers.get("ETag") : null,
        reload: reloadTenant,
      }
    : null;

  const navTenantId = routeTenantId ?? viewer.tenantId;
  const navTenantName =
    routeTenantId && routeTenantId !== viewer.tenantId
      ? tenant?.name ?? "Tenant"
      : me.tenant?.name ?? "Your organisation";
  const tenantItems = navTenantId ? tenantNav(viewer, navTenantId) : [];

  return (
    <OperationsProvider>
      <div className="shell">
        <p className="sr-only" role="status" aria-live="polite" data-testid="route-announcer">
          {announcement}
        </p>
        <a className="skip" href="#main">
          Skip to content
        </a>
        <header className="topbar">
          <Link to="/app" className="brand">
            <span className="brand-mark" aria-hidden="true">
              A
            </span>
            Atrium
          </Link>
          <button
            type="button"
            className="btn btn-header menu-toggle"
            aria-expanded={menuOpen}
            aria-controls="sidenav"
            onClick={() => setMenuOpen((o) => !o)}
          >
            Menu
          </button>
          <WhoAmI />
          <SignOutButton />
        </header>
        <div className="body">
          <nav id="sidenav" className={menuOpen ? "sidenav open" : "sidenav"} aria-label="Main">
            <NavList items={platformNav(viewer)} label="Platform" />
            {tenantItems.length > 0 && navTenantId && (
              <>
                <p className="nav-heading">
                  <Link to={`/app/tenants/${navTenantId}`}>{navTenantName}</Link>
                  {tenant && tenant.status !== "active" && <StatusBadge status={tenant.status} />}
                </p>
                <NavList items={tenantItems} label={navTenantName} />
              </>
            )}
          </nav>
          <main id="main" className="content" tabIndex={-1}>
            <OperationsPanel />
            <TenantScopeContext.Provider value={scope}>
              <Outlet />
            </TenantScopeContext.Provider>
          </main>
        </div>
      </div>
    </OperationsProvider>
  );
}
