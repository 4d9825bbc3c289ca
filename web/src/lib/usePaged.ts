import { useEffect, useReducer } from "react";
import { callUntyped } from "../api/client";
import type { Page } from "../api/local-types";
import { currentCursor, FIRST_PAGE, pageReducer } from "./pagination";
import { useLoad } from "./useLoad";

/** A cursor-paginated list from an endpoint outside the generated schema
 * (placeholder screens). `query` must be stable per filter (its JSON is the
 * dependency). */
export function usePagedUntyped<T>(path: string, query: Record<string, string | number | undefined>, limit = 20) {
  const [page, dispatch] = useReducer(pageReducer, FIRST_PAGE);
  const cursor = currentCursor(page);
  const key = JSON.stringify(query);
  useEffect(() => dispatch({ type: "reset" }), [path, key]);
  const [load, reload] = useLoad(
    () => callUntyped<Page<T>>("GET", path, { query: { ...query, limit, ...(cursor ? { cursor } : {}) } }),
    [path, key, cursor],
  );
  useEffect(() => {
    if (load.kind === "ok") dispatch({ type: "loaded", nextCursor: load.data?.next_cursor ?? null });
  }, [load]);
  return { load, reload, page, dispatch };
}

/** Reload every `ms` while `active` (live status of jobs and namespaces). */
export function usePoll(active: boolean, reload: () => void, ms = 3000) {
  useEffect(() => {
    if (!active) return;
    const t = window.setInterval(reload, ms);
    return () => window.clearInterval(t);
  }, [active, reload, ms]);
}
