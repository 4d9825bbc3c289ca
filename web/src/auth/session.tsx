// Who is signed in: GET /v1/me once at start (and on demand).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, call, callUntyped } from "../api/client";
import type { ErrorView } from "../api/problem";
import type { Me } from "../api/types";
import type { Viewer } from "./roles";

export type SessionState =
  | { kind: "loading" }
  | { kind: "signedIn"; me: Me; viewer: Viewer }
  | { kind: "signedOut" }
  /** Authenticated but refused (e.g. the tenant is suspended). */
  | { kind: "refused"; error: ErrorView }
  | { kind: "error"; error: ErrorView };

interface SessionContextValue {
  state: SessionState;
  reload(): void;
  signOut(): Promise<ErrorView | undefined>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function viewerOf(me: Me): Viewer {
  return { roles: me.roles, tenantId: me.tenant?.id ?? null };
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ kind: "loading" });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let live = true;
    void call(api.GET("/v1/me")).then((r) => {
      if (!live) return;
      if (r.ok) setState({ kind: "signedIn", me: r.data, viewer: viewerOf(r.data) });
      else if (r.error.status === 401) setState({ kind: "signedOut" });
      else if (r.error.status === 403) setState({ kind: "refused", error: r.error });
      else setState({ kind: "error", error: r.error });
    });
    return () => {
      live = false;
    };
  }, [generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  const signOut = useCallback(async () => {
    const r = await callUntyped<unknown>("POST", "/auth/logout", { signInOn401: false });
    // 401: the session had ended already, which is what was asked for.
    if (!r.ok && r.error.status !== 401) return r.error;
    window.location.assign("/");
    return undefined;
  }, []);

  const value = useMemo(() => ({ state, reload, signOut }), [state, reload, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error("useSession outside SessionProvider");
  return v;
}

/** The signed-in caller (for screens rendered only when signed in). */
export function useMe(): { me: Me; viewer: Viewer } {
  const { state } = useSession();
  if (state.kind !== "signedIn") throw new Error("useMe while not signed in");
  return { me: state.me, viewer: state.viewer };
}
