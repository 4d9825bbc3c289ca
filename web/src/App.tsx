import { lazy, Suspense, useEffect, useState, type ReactNode } from "react";
import { BrowserRouter, Navigate, Route, Routes, useParams } from "react-router";
import { goToSignIn, isSignInStuck, onSignInStuck } from "./api/client";
import { loginUrl } from "./api/middleware";
import type { Capability } from "./auth/roles";
import { SessionProvider, useSession } from "./auth/session";
import { Gate } from "./components/Gate";
import { Layout } from "./components/Layout";
import { ErrorBanner, Loading } from "./components/ui";
import { Audit } from "./pages/Audit";
import { Landing } from "./pages/Landing";
import { NotFound } from "./pages/NotFound";
import { useDocumentTitle } from "./lib/title";
import { Overview } from "./pages/Overview";
import { TenantHome } from "./pages/TenantHome";
import { Approvals } from "./pages/Approvals";
import { Tenants } from "./pages/Tenants";
import { TenantSettings } from "./pages/TenantSettings";

// The tenant screens beyond the overview, loaded on demand (own chunks), so
// they cost nothing until used.
const Catalog = lazy(() => import("./pages/Catalog").then((m) => ({ default: m.Catalog })));
const CatalogProduct = lazy(() => import("./pages/CatalogProduct").then((m) => ({ default: m.CatalogProduct })));
const CablePlan = lazy(() => import("./pages/CablePlan").then((m) => ({ default: m.CablePlan })));
const Billing = lazy(() => import("./pages/Billing").then((m) => ({ default: m.Billing })));
const Bets = lazy(() => import("./pages/Bets").then((m) => ({ default: m.Bets })));
const EventDetail = lazy(() => import("./pages/EventDetail").then((m) => ({ default: m.EventDetail })));
const Events = lazy(() => import("./pages/Events").then((m) => ({ default: m.Events })));
const JobDetail = lazy(() => import("./pages/JobDetail").then((m) => ({ default: m.JobDetail })));
const Ledger = lazy(() => import("./pages/Ledger").then((m) => ({ default: m.Ledger })));
const Namespaces = lazy(() => import("./pages/Namespaces").then((m) => ({ default: m.Namespaces })));
const NamespaceDetail = lazy(() => import("./pages/NamespaceDetail").then((m) => ({ default: m.NamespaceDetail })));
const Payments = lazy(() => import("./pages/Payments").then((m) => ({ default: m.Payments })));
const Wallet = lazy(() => import("./pages/Wallet").then((m) => ({ default: m.Wallet })));
const WebhookEvents = lazy(() => import("./pages/WebhookEvents").then((m) => ({ default: m.WebhookEvents })));

export function App() {
  return (
    <SessionProvider>
      <BrowserRouter>
        <Routes>
          <Route path="/" element={<Front />} />
          <Route path="/app" element={<SignedIn />}>
            <Route index element={<Overview />} />
            <Route path="tenants" element={<Gate cap="tenants.manage"><Tenants /></Gate>} />
            <Route path="approvals" element={<Gate cap="namespaces.approve"><Approvals /></Gate>} />
            <Route
              path="webhooks"
              element={
                <Gate cap="webhooks.read">
                  <Suspense fallback={<Loading />}>
                    <WebhookEvents />
                  </Suspense>
                </Gate>
              }
            />
            <Route path="tenants/:tenantId">
              <Route index element={<TenantGate cap="tenant.read"><TenantHome /></TenantGate>} />
              <Route path="settings" element={<TenantGate cap="tenant.settings"><TenantSettings /></TenantGate>} />
              <Route path="audit" element={<TenantGate cap="audit.read"><Audit /></TenantGate>} />
              <Route path="namespaces" element={<TenantGate cap="namespaces.read"><Namespaces /></TenantGate>} />
              <Route path="namespaces/:name" element={<TenantGate cap="namespaces.read"><NamespaceDetail /></TenantGate>} />
              <Route path="jobs/:jobId" element={<TenantGate cap="namespaces.read"><JobDetail /></TenantGate>} />
              <Route path="events" element={<TenantGate cap="events.read"><Events /></TenantGate>} />
              <Route path="events/:eventId" element={<TenantGate cap="events.read"><EventDetail /></TenantGate>} />
              <Route path="bets" element={<TenantGate cap="bets.read"><Bets /></TenantGate>} />
              <Route path="wallet" element={<TenantGate cap="wallet.use"><Wallet /></TenantGate>} />
              <Route path="payments" element={<TenantGate cap="payments.read_all"><Payments /></TenantGate>} />
              <Route path="ledger" element={<TenantGate cap="ledger.read"><Ledger /></TenantGate>} />
              <Route path="billing" element={<TenantGate cap="billing.read"><Billing /></TenantGate>} />
              <Route path="catalog" element={<TenantGate cap="catalog.read"><Catalog /></TenantGate>} />
              <Route path="catalog/products/:productId" element={<TenantGate cap="catalog.read"><CatalogProduct /></TenantGate>} />
              <Route path="catalog/cable-plan" element={<TenantGate cap="catalog.read"><CablePlan /></TenantGate>} />
              <Route path="*" element={<NotFound />} />
            </Route>
            <Route path="*" element={<NotFound />} />
          </Route>
          <Route path="*" element={<PublicNotFound />} />
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}

/** A tenant-scoped screen: the route's tenant and the role it needs. */
function TenantGate({ cap, children }: { cap: Capability; children: ReactNode }) {
  const { tenantId } = useParams();
  if (!tenantId) return <NotFound />;
  return (
    <Gate cap={cap} tenantId={tenantId}>
      <Suspense fallback={<Loading />}>{children}</Suspense>
    </Gate>
  );
}

/** `/`: the landing page when signed out, the app when signed in. */
function Front() {
  const { state, reload } = useSession();
  switch (state.kind) {
    case "loading":
      return <Splash />;
    case "signedIn":
      return <Navigate to="/app" replace />;
    case "refused":
      return <Refused />;
    case "signedOut":
      return <Landing />;
    case "error":
      return <Landing error={state.error} onRetry={reload} />;
  }
}

function useSignInStuck(): boolean {
  const [stuck, setStuck] = useState(isSignInStuck());
  useEffect(() => onSignInStuck(() => setStuck(true)), []);
  return stuck;
}

/** `/app/...`: only when signed in; otherwise off to sign in. */
function SignedIn() {
  const { state, reload } = useSession();
  const stuck = useSignInStuck();
  useEffect(() => {
    // The 401 of /v1/me has started the trip to sign-in already; this covers
    // a session state reached another way.
    if (state.kind === "signedOut" && !isSignInStuck()) goToSignIn();
  }, [state.kind]);
  switch (state.kind) {
    case "loading":
      return <Splash />;
    case "signedIn":
      return <Layout />;
    case "refused":
      return <Refused />;
    case "error":
      return (
        <Centered title="Atrium is not answering">
          <ErrorBanner error={state.error} onRetry={reload} />
        </Centered>
      );
    case "signedOut":
      return stuck ? (
        <Centered title="Sign-in did not complete">
          <p>You were sent to sign in, but came back without a session. Your browser may be blocking cookies for this site.</p>
          <p>
            <a className="btn btn-primary" href={loginUrl(window.location.pathname + window.location.search)}>
              Try signing in again
            </a>
          </p>
        </Centered>
      ) : (
        <Splash what="Taking you to sign in" />
      );
  }
}

/** Signed in, but Atrium refuses the caller (e.g. its tenant is suspended). */
function Refused() {
  const { state, signOut } = useSession();
  return (
    <Centered title="Your access is suspended">
      {state.kind === "refused" && <ErrorBanner error={state.error} />}
      <p>Atrium does not let you in right now. If you think this is a mistake, contact the platform operator.</p>
      <p>
        <button type="button" className="btn" onClick={() => void signOut()}>
          Sign out
        </button>
      </p>
    </Centered>
  );
}

function PublicNotFound() {
  return (
    <main id="main" className="centered">
      <NotFound signedIn={false} />
    </main>
  );
}

function Splash({ what = "Loading" }: { what?: string }) {
  useDocumentTitle(what);
  return (
    <main id="main" className="centered">
      <Loading what={what} />
    </main>
  );
}

/** A whole-page state (errors, refusals) with its title. */
function Centered({ title, children }: { title: string; children: ReactNode }) {
  useDocumentTitle(title);
  return (
    <main id="main" className="centered">
      <section className="card narrow" aria-labelledby="centered-title">
        <h1 id="centered-title" tabIndex={-1}>
          {title}
        </h1>
        {children}
      </section>
    </main>
  );
}
