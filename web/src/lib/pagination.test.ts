import { describe, expect, it } from "vitest";
import { currentCursor, FIRST_PAGE, hasNext, hasPrevious, pageNumber, pageReducer, type PageState } from "./pagination";

describe("cursor pagination", () => {
  it("starts on page 1 with no cursor and no way on until loaded", () => {
    expect(currentCursor(FIRST_PAGE)).toBeNull();
    expect(pageNumber(FIRST_PAGE)).toBe(1);
    expect(hasPrevious(FIRST_PAGE)).toBe(false);
    expect(hasNext(FIRST_PAGE)).toBe(false);
    expect(pageReducer(FIRST_PAGE, { type: "next" })).toBe(FIRST_PAGE);
  });

  it("walks forward with next_cursor and back through the cursors seen", () => {
    let s: PageState = pageReducer(FIRST_PAGE, { type: "loaded", nextCursor: "c2" });
    expect(hasNext(s)).toBe(true);
    s = pageReducer(s, { type: "next" });
    expect(currentCursor(s)).toBe("c2");
    expect(pageNumber(s)).toBe(2);
    expect(hasNext(s)).toBe(false); // not known until page 2 loads
    s = pageReducer(s, { type: "loaded", nextCursor: "c3" });
    s = pageReducer(s, { type: "next" });
    s = pageReducer(s, { type: "loaded", nextCursor: null });
    expect(currentCursor(s)).toBe("c3");
    expect(hasNext(s)).toBe(false);
    expect(pageReducer(s, { type: "next" })).toBe(s);
    s = pageReducer(s, { type: "previous" });
    expect(currentCursor(s)).toBe("c2");
    s = pageReducer(s, { type: "previous" });
    expect(currentCursor(s)).toBeNull();
    expect(hasPrevious(s)).toBe(false);
    expect(pageReducer(s, { type: "previous" })).toBe(s);
  });

  it("treats a missing next_cursor as the last page and resets on a filter change", () => {
    let s = pageReducer(FIRST_PAGE, { type: "loaded", nextCursor: undefined });
    expect(hasNext(s)).toBe(false);
    s = pageReducer(pageReducer(s, { type: "loaded", nextCursor: "x" }), { type: "next" });
    expect(pageReducer(s, { type: "reset" })).toBe(FIRST_PAGE);
  });
});
