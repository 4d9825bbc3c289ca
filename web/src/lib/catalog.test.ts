import { describe, expect, it } from "vitest";
import type { CablePlan } from "../api/types";
import { cablePlanRequest, deviceNames, layoutDiagram, mediaKindOf, sha256Hex, treeOptions } from "./catalog";

const P = "11111111-1111-4111-8111-111111111111";
const Q = "22222222-2222-4222-8222-222222222222";

describe("cable plan form", () => {
  it("builds the request from the rows, skipping empty ones", () => {
    const r = cablePlanRequest(
      [{ ref: "sw", productId: P, quantity: "1" }, { ref: "ap", productId: Q, quantity: "3" }, { ref: "", productId: "", quantity: "" }],
      [{ from: "sw", to: "ap#1", distance: "12.5", medium: "" }, { from: "", to: "", distance: "", medium: "" }],
      "15",
    );
    expect(r).toEqual({
      ok: true,
      body: {
        bom: [{ ref: "sw", product_id: P, quantity: 1 }, { ref: "ap", product_id: Q, quantity: 3 }],
        links: [{ from: "sw", to: "ap#1", distance_m: 12.5 }],
        slack_percent: 15,
      },
    });
  });
  it("says what is wrong", () => {
    expect(cablePlanRequest([], [], "10")).toMatchObject({ ok: false });
    expect(cablePlanRequest([{ ref: "sw", productId: P, quantity: "0" }], [], "10")).toMatchObject({ ok: false, error: expect.stringContaining("quantity") });
    expect(cablePlanRequest([{ ref: "sw", productId: P, quantity: "1" }], [{ from: "sw", to: "x", distance: "0", medium: "" }], "10")).toMatchObject({ ok: false, error: expect.stringContaining("distance") });
    expect(cablePlanRequest([{ ref: "sw", productId: P, quantity: "1" }], [], "101")).toMatchObject({ ok: false });
  });
  it("names devices ref, or ref#k for quantities over one", () => {
    expect(deviceNames([{ ref: "sw", productId: P, quantity: "1" }, { ref: "ap", productId: Q, quantity: "2" }])).toEqual(["sw", "ap#1", "ap#2"]);
  });
});

describe("diagram", () => {
  const plan: CablePlan = {
    slack_percent: 10, standard_lengths_m: [5, 10, 15],
    cables: [{ type: "cat6a_utp", medium: "copper", length_m: 15, custom_length: false, count: 2 }],
    links: [
      { from: "sw", to: "ap#1", medium: "copper", cable_type: "cat6a_utp", distance_m: 12, cable_length_m: 15, count: 1, from_port: "rj45", to_port: "rj45" },
      { from: "sw", to: "ap#2", medium: "copper", cable_type: "cat6a_utp", distance_m: 12, cable_length_m: 15, count: 1, from_port: "rj45", to_port: "rj45" },
    ],
    devices: [
      { device: "sw", product_id: P, ports: [{ type: "rj45", used: 2, available: 8 }], poe: { budget_w: 10, drawn_w: 25 } },
      { device: "ap#1", product_id: Q, ports: [{ type: "rj45", used: 1, available: 1 }], poe: null },
      { device: "ap#2", product_id: Q, ports: [{ type: "rj45", used: 1, available: 1 }], poe: null },
    ],
    problems: [{ code: "poe_over_budget", device: "sw", message: "sw powers 25.0 W" }],
  };
  it("puts the switch on top, the rest evenly below, and marks problems", () => {
    const d = layoutDiagram(plan, 600, 100);
    expect(d.nodes).toEqual([
      { name: "sw", x: 300, y: 40, problem: true },
      { name: "ap#1", x: 200, y: 140, problem: false },
      { name: "ap#2", x: 400, y: 140, problem: false },
    ]);
    expect(d.edges.map((e) => [e.from.name, e.to.name, e.label])).toEqual([["sw", "ap#1", "15 m"], ["sw", "ap#2", "15 m"]]);
    expect(d.height).toBe(180);
  });
});

describe("media and categories", () => {
  it("maps file types to the kinds the API takes (no SVG)", () => {
    expect(mediaKindOf("image/png")).toBe("image");
    expect(mediaKindOf("image/svg+xml")).toBeNull();
    expect(mediaKindOf("application/pdf")).toBe("document");
    expect(mediaKindOf("application/vnd.ms-visio.stencil")).toBe("stencil");
  });
  it("hashes with SHA-256", async () => {
    expect(await sha256Hex(new TextEncoder().encode("abc").buffer as ArrayBuffer)).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
  it("indents the tree by depth", () => {
    const t = "2026-12-05T18:20:00.000000Z";
    const c = (id: string, name: string, depth: number) => ({ id, name, depth, slug: id, tenant_id: null, scope: "global" as const, parent_id: null, created_at: t, updated_at: t });
    expect(treeOptions([c("a", "Net", 0), c("b", "PoE", 1)]).map((o) => o.label)).toEqual(["Net", "\u2003PoE"]);
  });
});
