// The document title of a screen: "Namespaces · Contoso · Atrium". Each part
// once (a screen's title may name its tenant already), empty parts left out.
import { useContext, useEffect } from "react";
import { TenantScopeContext } from "../components/tenantContext";

export const APP_NAME = "Atrium";

export function documentTitle(...parts: (string | null | undefined)[]): string {
  const out: string[] = [];
  for (const p of parts) {
    for (const piece of (p ?? "").split(" · ")) {
      const t = piece.trim();
      if (t !== "" && !out.includes(t)) out.push(t);
    }
  }
  if (!out.includes(APP_NAME)) out.push(APP_NAME);
  return out.join(" · ");
}

/** Sets `document.title` while the calling screen is shown: its title, the
 * tenant of the route (when there is one and it is loaded), and "Atrium". */
export function useDocumentTitle(title: string | null | undefined) {
  const scope = useContext(TenantScopeContext);
  const tenantName = scope?.tenant?.name;
  const full = documentTitle(title, tenantName);
  useEffect(() => {
    document.title = full;
  }, [full]);
}
