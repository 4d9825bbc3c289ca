// Long operations followed in the background (namespace provisioning and
// deletion, settling an event's bets): a progress bar while each runs, and a
// notice when it ends, in a polite live region, with the failure's detail.
// The shell (Layout) holds them, so they outlive the screen that started them.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api, call } from "../api/client";
import type { ErrorView } from "../api/problem";
import { jobState, percent, type OpState, type OpWords } from "../lib/operations";

export const OP_POLL_MS = 1000;

/** One look at an operation: where it stands, or why it cannot be told
 * (`final`: stop asking, e.g. a 404; otherwise ask again). */
export type OpCheck = { ok: true; state: OpState } | { ok: false; error: ErrorView; final: boolean };

interface Running {
  id: number;
  label: string;
  state: OpState;
}

interface Toast {
  id: number;
  tone: "ok" | "error";
  message: string;
  detail?: string | undefined;
}

interface Operations {
  /** Follow an operation until it ends. `label` names it ("Provisioning
   * namespace “web”"); `check` looks at it once. */
  track(label: string, check: () => Promise<OpCheck>): void;
}

const OperationsContext = createContext<Operations | null>(null);

interface View {
  running: Running[];
  toasts: Toast[];
  dismiss(id: number): void;
}

const ViewContext = createContext<View | null>(null);

export function useOperations(): Operations {
  const v = useContext(OperationsContext);
  if (!v) throw new Error("useOperations outside OperationsProvider");
  return v;
}

/** Follow a tenant's job (GET /v1/tenants/{tenant_id}/jobs/{job_id}). */
export function followJob(ops: Operations, tenantId: string, jobId: string, words: OpWords) {
  ops.track(words.running, async () => {
    const r = await call(api.GET("/v1/tenants/{tenant_id}/jobs/{job_id}", { params: { path: { tenant_id: tenantId, job_id: jobId } } }));
    if (r.ok) return { ok: true, state: jobState(r.data, words) };
    const s = r.error.status;
    return { ok: false, error: r.error, final: s !== undefined && s >= 400 && s < 500 && s !== 429 };
  });
}

const MAX_TOASTS = 5;

export function OperationsProvider({ children }: { children: ReactNode }) {
  const [running, setRunning] = useState<Running[]>([]);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const checks = useRef(new Map<number, () => Promise<OpCheck>>());
  const inFlight = useRef(new Set<number>());
  const nextId = useRef(1);

  const end = useCallback((id: number, toast: Omit<Toast, "id">) => {
    checks.current.delete(id);
    setRunning((rs) => rs.filter((r) => r.id !== id));
    setToasts((ts) => [...ts, { ...toast, id }].slice(-MAX_TOASTS));
  }, []);

  const look = useCallback(
    (id: number) => {
      const check = checks.current.get(id);
      if (!check || inFlight.current.has(id)) return;
      inFlight.current.add(id);
      void check()
        .then((r) => {
          if (!checks.current.has(id)) return;
          if (!r.ok) {
            if (r.final) end(id, { tone: "error", message: "Could not follow this operation.", detail: r.error.message });
            else setRunning((rs) => rs.map((x) => (x.id === id ? { ...x, state: { phase: "running", detail: `${r.error.message} Trying again…` } } : x)));
            return;
          }
          const s = r.state;
          if (s.phase === "running") setRunning((rs) => rs.map((x) => (x.id === id ? { ...x, state: s } : x)));
          else if (s.phase === "succeeded") end(id, { tone: "ok", message: s.message });
          else end(id, { tone: "error", message: s.message, detail: s.detail });
        })
        .finally(() => inFlight.current.delete(id));
    },
    [end],
  );

  const track = useCallback(
    (label: string, check: () => Promise<OpCheck>) => {
      const id = nextId.current++;
      checks.current.set(id, check);
      setRunning((rs) => [...rs, { id, label, state: { phase: "running", detail: "starting" } }]);
      look(id);
    },
    [look],
  );

  const busy = running.length > 0;
  useEffect(() => {
    if (!busy) return;
    const t = window.setInterval(() => {
      if (document.visibilityState === "hidden") return;
      for (const id of checks.current.keys()) look(id);
    }, OP_POLL_MS);
    return () => window.clearInterval(t);
  }, [busy, look]);

  const ops = useMemo<Operations>(() => ({ track }), [track]);

  const view = useMemo<View>(() => ({ running, toasts, dismiss: (id) => setToasts((ts) => ts.filter((x) => x.id !== id)) }), [running, toasts]);
  return (
    <OperationsContext.Provider value={ops}>
      <ViewContext.Provider value={view}>{children}</ViewContext.Provider>
    </OperationsContext.Provider>
  );
}

/** Where the shell shows the operations under way and the notices of those
 * that ended (in the flow of the page, above the screen: it covers nothing). */
export function OperationsPanel() {
  const v = useContext(ViewContext);
  if (!v) return null;
  const { running, toasts, dismiss } = v;
  const busy = running.length > 0;
  return (
    <section className="operations" aria-label="Background work">
      {busy && (
        <ul className="op-list" aria-busy="true" aria-label="In progress">
          {running.map((r) => (
            <li key={r.id} className="op" data-testid="operation">
              <p className="op-label" id={`op-${r.id}`}>
                {r.label}
              </p>
              <progress
                className="op-bar"
                aria-labelledby={`op-${r.id}`}
                aria-valuetext={r.state.phase === "running" ? r.state.detail : undefined}
                max={100}
                {...(percent(r.state) !== undefined ? { value: percent(r.state) } : {})}
              />
              <p className="op-detail small">{r.state.phase === "running" ? r.state.detail : ""}</p>
            </li>
          ))}
        </ul>
      )}
      <div className="toasts" role="status" aria-live="polite" data-testid="notices">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone}`} data-tone={t.tone}>
            <p className="toast-message">{t.message}</p>
            {t.detail && <p className="toast-detail small">{t.detail}</p>}
            <button type="button" className="btn-link toast-dismiss" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </section>
  );
}
