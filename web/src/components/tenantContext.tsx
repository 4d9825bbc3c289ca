// The tenant a tenant-scoped route (/app/tenants/:tenantId/...) is about,
// loaded once by the shell (for the navigation) and shared with the screens.
import { createContext, useContext } from "react";
import type { ErrorView } from "../api/problem";
import type { Tenant } from "../api/types";

export interface TenantScope {
  tenantId: string;
  /** The tenant, once loaded (kept while reloading). */
  tenant: Tenant | undefined;
  loading: boolean;
  error: ErrorView | undefined;
  /** The ETag of the loaded tenant, for If-Match. */
  etag: string | null;
  reload(): void;
}

export const TenantScopeContext = createContext<TenantScope | null>(null);

export function useTenantScope(): TenantScope {
  const v = useContext(TenantScopeContext);
  if (!v) throw new Error("useTenantScope outside a tenant route");
  return v;
}
