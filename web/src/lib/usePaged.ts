import { useEffect, useReducer, useRef, useState } from "react";
import type { Result } from "../api/client";
import type { Page } from "../api/types";
import { IdempotentAction } from "./idempotency";
import { newIdempotencyKey } from "../api/client";
import { currentCursor, FIRST_PAGE, pageReducer } from "./pagination";
import { useLoad } from "./useLoad";

/**
 * A cursor-paginated list. `fetchPage(cursor)` loads one page; `filters`
 * are what it depends on besides the cursor (their JSON is compared): a
 * change goes back to the first page.
 */
export function usePaged<T>(fetchPage: (cursor: string | null) => Promise<Result<Page<T>>>, filters: readonly unknown[]) {
  const [page, dispatch] = useReducer(pageReducer, FIRST_PAGE);
  const key = JSON.stringify(filters);
  const [seenKey, setSeenKey] = useState(key);
  if (key !== seenKey) {
    // During render, so the fetch below never runs with the old cursor.
    setSeenKey(key);
    dispatch({ type: "reset" });
  }
  const cursor = currentCursor(page);
  const [load, reload] = useLoad(() => fetchPage(cursor), [key, cursor]);
  useEffect(() => {
    if (load.kind === "ok") dispatch({ type: "loaded", nextCursor: load.data.next_cursor });
  }, [load]);
  return { load, reload, page, dispatch };
}

/** Reload every `ms` while `active` and the page is visible (live status of
 * namespaces, jobs, settling bets). */
export function usePoll(active: boolean, reload: () => void, ms = 2000) {
  useEffect(() => {
    if (!active) return;
    const t = window.setInterval(() => {
      if (document.visibilityState !== "hidden") reload();
    }, ms);
    return () => window.clearInterval(t);
  }, [active, reload, ms]);
}

/** One IdempotentAction per form, kept across renders. */
export function useIdempotentAction(): IdempotentAction {
  const ref = useRef<IdempotentAction | null>(null);
  if (ref.current === null) ref.current = new IdempotentAction(newIdempotencyKey);
  return ref.current;
}
