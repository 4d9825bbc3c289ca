import { describe, expect, it } from "vitest";
import { csvFileName, lastMonths, monthStart, monthlyTotals, monthsBetween } from "./billing";

describe("billing overview numbers", () => {
  it("gives the last n months up to now, across a year", () => {
    expect(lastMonths(12, new Date(Date.UTC(2026, 1, 15)))).toEqual({ from: "2025-03", to: "2026-02" });
    expect(monthsBetween("2025-11", "2026-02")).toEqual(["2025-11", "2025-12", "2026-01", "2026-02"]);
    expect(monthsBetween("2026-03", "2026-01")).toEqual([]);
  });

  it("sums invoice totals per currency and month, leaving unsynced rows out", () => {
    const months = ["2026-10", "2026-11"];
    const rows = [
      { month: "2026-11", currency: "USD", invoice_count: 2, total_minor: 1500, open_balance_minor: 500, unsynced_count: 0 },
      { month: "2026-10", currency: "EUR", invoice_count: 1, total_minor: 900, open_balance_minor: 0, unsynced_count: 0 },
      { month: "2026-11", currency: null, invoice_count: 3, total_minor: null, open_balance_minor: null, unsynced_count: 3 },
      { month: "2025-01", currency: "USD", invoice_count: 1, total_minor: 7, open_balance_minor: 7, unsynced_count: 0 },
    ];
    expect(monthlyTotals(rows, months)).toEqual([
      { currency: "EUR", totals: [900, 0] },
      { currency: "USD", totals: [0, 1500] },
    ]);
  });

  it("places months on the time axis at their first second (UTC)", () => {
    expect(monthStart("2026-11")).toBe(Date.UTC(2026, 10, 1) / 1000);
  });

  it("takes the server's CSV file name, never a path", () => {
    expect(csvFileName('attachment; filename="subscriptions-abc.csv"', "x.csv")).toBe("subscriptions-abc.csv");
    expect(csvFileName('attachment; filename="../../etc/passwd"', "x.csv")).toBe("passwd");
    expect(csvFileName('attachment; filename="a b;c.csv"', "x.csv")).toBe("x.csv");
    expect(csvFileName(null, "x.csv")).toBe("x.csv");
  });
});
