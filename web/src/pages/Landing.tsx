import { loginUrl } from "../api/middleware";
import type { ErrorView } from "../api/problem";
import { ErrorBanner } from "../components/ui";
import { useDocumentTitle } from "../lib/title";

/** The signed-out front page. */
export function Landing({ error, onRetry }: { error?: ErrorView | undefined; onRetry?: () => void }) {
  useDocumentTitle(error ? "Sign in (Atrium is not answering)" : "Sign in");
  return (
    <div className="landing">
      <header className="landing-top">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">
            A
          </span>
          Atrium
        </span>
      </header>
      <main id="main" className="landing-main">
        <section className="landing-card" aria-labelledby="landing-title">
          <h1 id="landing-title" tabIndex={-1}>Your platform, one place</h1>
          <p className="lead">
            Manage your organisation on Atrium: environments, events and bets, payments and billing, and who changed what.
          </p>
          <ErrorBanner error={error} onRetry={onRetry} />
          <a className="btn btn-primary btn-large" href={loginUrl("/app")}>
            Sign in
          </a>
          <p className="muted small">Sign in with your organisation's Microsoft account.</p>
        </section>
      </main>
      <footer className="landing-foot muted small">Atrium</footer>
    </div>
  );
}
