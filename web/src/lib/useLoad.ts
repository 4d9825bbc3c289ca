import { useCallback, useEffect, useState } from "react";
import type { Result } from "../api/client";
import type { ErrorView } from "../api/problem";

export type Load<T> =
  | { kind: "loading"; previous?: T }
  | { kind: "ok"; data: T; response: Response }
  | { kind: "error"; error: ErrorView; previous?: T };

/**
 * Run `fetcher` now and whenever `deps` change or `reload()` is called;
 * late answers of superseded calls are dropped. While reloading, the last
 * data stays available as `previous` so tables do not flash empty.
 */
export function useLoad<T>(fetcher: () => Promise<Result<T>>, deps: readonly unknown[]): [Load<T>, () => void] {
  const [state, setState] = useState<Load<T>>({ kind: "loading" });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ kind: "loading", previous: s.kind === "ok" ? s.data : s.previous }));
    void fetcher().then((r) => {
      if (!live) return;
      if (r.ok) setState({ kind: "ok", data: r.data, response: r.response });
      else setState((s) => ({ kind: "error", error: r.error, previous: s.kind === "ok" ? s.data : s.previous }));
    });
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return [state, reload];
}

/** The data to show: the current page, or the previous one while loading. */
export function dataOf<T>(s: Load<T>): T | undefined {
  return s.kind === "ok" ? s.data : s.previous;
}
