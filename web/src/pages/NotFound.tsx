import { Link } from "react-router";
import { useDocumentTitle } from "../lib/title";

export function NotFound({ signedIn = true }: { signedIn?: boolean }) {
  useDocumentTitle("Page not found");
  return (
    <section className="denied" aria-labelledby="nf-title">
      <h1 id="nf-title" tabIndex={-1}>Page not found</h1>
      <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
      <p>
        {signedIn ? (
          <Link className="btn" to="/app">
            Go to the overview
          </Link>
        ) : (
          <a className="btn" href="/">
            Go to the front page
          </a>
        )}
      </p>
    </section>
  );
}
