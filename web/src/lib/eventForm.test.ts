import { describe, expect, it } from "vitest";
import { buildEventCreate, checkOdds, localToIso, selectionKey, type EventForm } from "./eventForm";

const now = new Date("2026-11-22T10:00:00Z");
const form: EventForm = {
  name: " Arsenal v Chelsea ",
  sport: "football",
  startsAt: "2026-12-05T17:30",
  open: true,
  selections: [
    { key: "", name: "Arsenal", odds: "2.10" },
    { key: "draw", name: "Draw", odds: "3.4" },
    { key: "", name: "Man City", odds: "3.60" },
    { key: "", name: "", odds: "" },
  ],
};

describe("event form", () => {
  it("builds EventCreate: keys from names, blank rows dropped, UTC start", () => {
    const r = buildEventCreate(form, now);
    expect(r).toEqual({
      ok: true,
      body: {
        name: "Arsenal v Chelsea",
        sport: "football",
        starts_at: new Date("2026-12-05T17:30").toISOString(),
        status: "open",
        selections: [
          { key: "arsenal", name: "Arsenal", odds: "2.10" },
          { key: "draw", name: "Draw", odds: "3.4" },
          { key: "man-city", name: "Man City", odds: "3.60" },
        ],
      },
    });
  });
  it("names every problem", () => {
    const r = buildEventCreate(
      { name: "", sport: "", startsAt: "", open: false, selections: [{ key: "a", name: "A", odds: "1" }, { key: "a", name: "B", odds: "x" }] },
      now,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(Object.keys(r.fields).sort()).toEqual(["name", "selections", "sport", "starts_at"]);
      expect(r.fields.selections).toEqual(["A: odds must be above 1", 'B: the key "a" is used twice', "B: decimal odds, like 2.50 (at most 4 decimals)"]);
    }
  });
  it("wants two selections, and a future start for an open event", () => {
    const r = buildEventCreate({ ...form, startsAt: "2026-11-01T12:00", selections: [{ key: "", name: "Solo", odds: "2" }] }, now);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.fields.selections?.[0]).toBe("An event needs at least two selections");
      expect(r.fields.starts_at).toEqual(["An event open for betting must start in the future"]);
    }
    expect(buildEventCreate({ ...form, open: false, startsAt: "2026-11-01T12:00" }, now).ok).toBe(true);
  });
  it("checks odds like the API does", () => {
    expect(checkOdds("2.5")).toBeUndefined();
    expect(checkOdds("1.0001")).toBeUndefined();
    expect(checkOdds("1.00")).toBe("Odds must be above 1");
    expect(checkOdds("2.12345")).toBe("Decimal odds, like 2.50 (at most 4 decimals)");
    expect(checkOdds("")).toBe("Enter the odds");
  });
  it("suggests keys and converts times", () => {
    expect(selectionKey("Real Madrid C.F.")).toBe("real-madrid-c.f.");
    expect(selectionKey("Ünïon")).toBe("union");
    expect(localToIso("nope")).toBeUndefined();
    expect(localToIso("2026-12-05T17:30")).toBe(new Date(2026, 11, 5, 17, 30).toISOString());
  });
});
