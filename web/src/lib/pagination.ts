// Cursor pagination state for list screens: the API gives `next_cursor`
// (opaque, null on the last page) and no way back, so the portal keeps the
// cursors of the pages it has walked through to offer "Previous".

export interface PageState {
  /** cursors[i] fetches page i+1; the last one is the current page's
   * (null for the first page). */
  readonly cursors: readonly (string | null)[];
  /** The current page's next_cursor once it has loaded. */
  readonly nextCursor: string | null;
}

export const FIRST_PAGE: PageState = { cursors: [null], nextCursor: null };

export function currentCursor(s: PageState): string | null {
  return s.cursors[s.cursors.length - 1] ?? null;
}

export function pageNumber(s: PageState): number {
  return s.cursors.length;
}

export function hasPrevious(s: PageState): boolean {
  return s.cursors.length > 1;
}

export function hasNext(s: PageState): boolean {
  return s.nextCursor !== null;
}

/** The current page loaded and said where the next one starts. */
export function loaded(s: PageState, nextCursor: string | null | undefined): PageState {
  return { cursors: s.cursors, nextCursor: nextCursor ?? null };
}

/** Go to the next page (no-op on the last page). */
export function next(s: PageState): PageState {
  if (s.nextCursor === null) return s;
  return { cursors: [...s.cursors, s.nextCursor], nextCursor: null };
}

/** Go back a page (no-op on the first page). */
export function previous(s: PageState): PageState {
  if (s.cursors.length <= 1) return s;
  return { cursors: s.cursors.slice(0, -1), nextCursor: null };
}

export type PageAction = { type: "loaded"; nextCursor: string | null | undefined } | { type: "next" } | { type: "previous" } | { type: "reset" };

/** For useReducer. A filter change resets to the first page. */
export function pageReducer(s: PageState, a: PageAction): PageState {
  switch (a.type) {
    case "loaded":
      return loaded(s, a.nextCursor);
    case "next":
      return next(s);
    case "previous":
      return previous(s);
    case "reset":
      return FIRST_PAGE;
  }
}
