import { describe, expect, it } from "vitest";
import { expiryCountdown, expiryIn } from "./expiry";

const NOW = Date.parse("2026-12-05T12:00:00Z");

describe("expiryCountdown", () => {
  it("counts days and hours, then hours and minutes, then seconds", () => {
    expect(expiryCountdown("2026-12-11T16:30:00Z", NOW)).toBe("in 6 days 4 h");
    expect(expiryCountdown("2026-12-06T12:00:00Z", NOW)).toBe("in 1 day");
    expect(expiryCountdown("2026-12-05T15:20:00Z", NOW)).toBe("in 3 h 20 min");
    expect(expiryCountdown("2026-12-05T12:05:00Z", NOW)).toBe("in 5 min");
    expect(expiryCountdown("2026-12-05T12:00:45Z", NOW)).toBe("in 45 s");
  });
  it("says expired at and after the time, and nothing for a malformed one", () => {
    expect(expiryCountdown("2026-12-05T12:00:00Z", NOW)).toBe("expired");
    expect(expiryCountdown("2026-12-01T00:00:00Z", NOW)).toBe("expired");
    expect(expiryCountdown("soon", NOW)).toBe("");
  });
});

describe("expiryIn", () => {
  it("takes 1 to 30 whole days", () => {
    expect(expiryIn("7", NOW)).toBe("2026-12-12T12:00:00.000Z");
    expect(expiryIn(" 30 ", NOW)).toBe("2027-01-04T12:00:00.000Z");
  });
  it("refuses 0, 31, fractions and words", () => {
    for (const v of ["0", "31", "1.5", "-2", "week", ""]) expect(expiryIn(v, NOW)).toBeUndefined();
  });
});
