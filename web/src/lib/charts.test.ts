import { describe, expect, it } from "vitest";
import type { Result } from "../api/client";
import type { Page } from "../api/types";
import { balanceSeries, countBy, countSummary, loadPages } from "./charts";

const wallet = (user: string, amount: number, currency = "EUR") => ({
  account: { id: `w-${user}`, kind: "user_wallet" as const, user_id: user },
  amount_minor: amount,
  currency,
});
const other = (kind: "house" | "external", amount: number, currency = "EUR") => ({
  account: { id: kind, kind, user_id: null },
  amount_minor: amount,
  currency,
});
const tx = (at: string, ...entries: ReturnType<typeof wallet | typeof other>[]) => ({ created_at: at, entries });

describe("countBy", () => {
  it("counts in the order given, zeros included, unknown statuses last", () => {
    const items = [{ s: "won" }, { s: "accepted" }, { s: "won" }, { s: "weird" }];
    expect(countBy(items, (i) => i.s, ["accepted", "won", "lost"])).toEqual([
      { label: "accepted", value: 1 },
      { label: "won", value: 2 },
      { label: "lost", value: 0 },
      { label: "weird", value: 1 },
    ]);
  });
  it("gives zeros for an empty list", () => {
    expect(countBy([], () => "x", ["ready"])).toEqual([{ label: "ready", value: 0 }]);
  });
});

describe("balanceSeries", () => {
  // newest first, as the API lists them: deposit 50, stake 10, withdrawal 15, payout 24
  const ledger = [
    tx("2026-03-01T10:03:00Z", other("house", -2400), wallet("m1", 2400)),
    tx("2026-03-01T10:02:00Z", wallet("m1", -1500), other("external", 1500)),
    tx("2026-03-01T10:01:00Z", wallet("m1", -1000), other("house", 1000)),
    tx("2026-03-01T10:00:00Z", other("external", -5000), wallet("m1", 5000)),
  ];
  it("adds up the wallet entries oldest first, ignoring house and external accounts", () => {
    const [eur, ...rest] = balanceSeries(ledger);
    expect(rest).toEqual([]);
    expect(eur?.currency).toBe("EUR");
    expect(eur?.points.map((p) => p.minor)).toEqual([5000, 4000, 2500, 4900]);
    expect(eur?.points[0]?.t).toBe(Date.parse("2026-03-01T10:00:00Z") / 1000);
  });
  it("follows one member's wallet when asked, and starts where told", () => {
    const two = [...ledger, tx("2026-03-01T09:00:00Z", other("external", -700), wallet("m2", 700))];
    expect(balanceSeries(two, { userId: "m2" })[0]?.points.map((p) => p.minor)).toEqual([700]);
    expect(balanceSeries(ledger, { start: { EUR: 100 } })[0]?.points.map((p) => p.minor)).toEqual([5100, 4100, 2600, 5000]);
  });
  it("keeps currencies apart, and one point per second", () => {
    const s = balanceSeries([
      tx("2026-03-01T10:00:00.100Z", other("external", -100, "USD"), wallet("m1", 100, "USD")),
      tx("2026-03-01T10:00:00.900Z", other("external", -50, "USD"), wallet("m1", 50, "USD")),
      tx("2026-03-01T10:00:01Z", other("external", -9, "CHF"), wallet("m1", 9, "CHF")),
    ]);
    expect(s.map((x) => x.currency)).toEqual(["CHF", "USD"]);
    expect(s[1]?.points).toEqual([{ t: Date.parse("2026-03-01T10:00:00Z") / 1000, minor: 150 }]);
  });
  it("skips transactions with a time it cannot read", () => {
    expect(balanceSeries([tx("yesterday", wallet("m1", 5))])).toEqual([]);
  });
});

describe("loadPages", () => {
  const pages: Record<string, Page<number>> = { first: { data: [1, 2], next_cursor: "b" }, b: { data: [3], next_cursor: "c" }, c: { data: [4], next_cursor: null } };
  const fetchPage = async (cursor: string | null): Promise<Result<Page<number>>> => ({ ok: true, data: pages[cursor ?? "first"] as Page<number>, response: new Response(null) });
  it("follows the cursors to the end", async () => {
    const r = await loadPages(fetchPage, 5);
    expect(r.ok && r.data).toEqual({ items: [1, 2, 3, 4], complete: true });
  });
  it("stops after maxPages and says the list is incomplete", async () => {
    const r = await loadPages(fetchPage, 2);
    expect(r.ok && r.data).toEqual({ items: [1, 2, 3], complete: false });
  });
  it("passes a failure on", async () => {
    const r = await loadPages(async () => ({ ok: false, error: { message: "no", fields: {}, other: [] } }), 3);
    expect(r.ok).toBe(false);
  });
});

describe("countSummary", () => {
  it("names the counts that are not zero", () => {
    expect(countSummary([{ label: "ready", value: 3 }, { label: "pending", value: 0 }, { label: "failed", value: 1 }], "none")).toBe("3 ready, 1 failed");
  });
  it("says `none` when everything is zero", () => {
    expect(countSummary([{ label: "ready", value: 0 }], "No namespaces.")).toBe("No namespaces.");
  });
});
