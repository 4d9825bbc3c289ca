// The catalog screens' pure parts: the category tree's indentation, the
// cable-plan request from the form's rows, the diagram's layout, and the
// upload of a file straight to Blob Storage through the SAS the API gave.
import type { CablePlan, CablePlanRequest, CatalogCategory } from "../api/types";

/** Categories as the API lists them (depth first), with an indent label. */
export function treeOptions(categories: readonly CatalogCategory[]): { value: string; label: string }[] {
  return categories.map((c) => ({ value: c.id, label: `${"\u2003".repeat(c.depth ?? 0)}${c.name}` }));
}

export interface BomRow {
  ref: string;
  productId: string;
  quantity: string;
}
export interface LinkRow {
  from: string;
  to: string;
  distance: string;
  medium: string;
}

/** The request body of POST .../cable-plans from the form, or the first
 * thing wrong with the rows (the server checks everything again). */
export function cablePlanRequest(
  bom: readonly BomRow[],
  links: readonly LinkRow[],
  slack: string,
): { ok: true; body: CablePlanRequest } | { ok: false; error: string } {
  const lines = bom.filter((b) => b.ref.trim() !== "" || b.productId !== "");
  if (lines.length === 0) return { ok: false, error: "Add at least one product to the bill of materials." };
  const out: CablePlanRequest = { bom: [], links: [] };
  for (const [i, b] of lines.entries()) {
    const q = Number(b.quantity || "1");
    if (!b.ref.trim()) return { ok: false, error: `Line ${i + 1} needs a name.` };
    if (!b.productId) return { ok: false, error: `Line ${i + 1} needs a product.` };
    if (!Number.isInteger(q) || q < 1) return { ok: false, error: `Line ${i + 1}: the quantity is a whole number from 1.` };
    out.bom.push({ ref: b.ref.trim(), product_id: b.productId, quantity: q });
  }
  for (const [i, l] of links.entries()) {
    if (!l.from && !l.to && !l.distance) continue;
    const d = Number(l.distance);
    if (!l.from || !l.to) return { ok: false, error: `Link ${i + 1} needs both ends.` };
    if (!(d > 0)) return { ok: false, error: `Link ${i + 1}: the distance is a number of metres over 0.` };
    const link: NonNullable<CablePlanRequest["links"]>[number] = { from: l.from, to: l.to, distance_m: d };
    if (l.medium) link.medium = l.medium as NonNullable<typeof link.medium>;
    out.links!.push(link);
  }
  const s = Number(slack || "10");
  if (!Number.isInteger(s) || s < 0 || s > 100) return { ok: false, error: "Slack is a whole percentage from 0 to 100." };
  out.slack_percent = s;
  return { ok: true, body: out };
}

/** The device names a bill of materials makes: ref, or ref#1..ref#n. */
export function deviceNames(bom: readonly BomRow[]): string[] {
  const names: string[] = [];
  for (const b of bom) {
    const q = Number(b.quantity || "1");
    if (!b.ref.trim() || !Number.isInteger(q) || q < 1) continue;
    if (q === 1) names.push(b.ref.trim());
    else for (let k = 1; k <= Math.min(q, 200); k++) names.push(`${b.ref.trim()}#${k}`);
  }
  return names;
}

export interface DiagramNode {
  name: string;
  x: number;
  y: number;
  problem: boolean;
}
export interface DiagramEdge {
  from: DiagramNode;
  to: DiagramNode;
  label: string;
  medium: string;
}

/**
 * A simple two-row layout: devices that others connect to most (switches)
 * on the top row, the rest below, each row spread evenly over `width`.
 */
export function layoutDiagram(plan: CablePlan, width = 720, rowGap = 140): { nodes: DiagramNode[]; edges: DiagramEdge[]; height: number } {
  const degree = new Map<string, number>();
  for (const d of plan.devices) degree.set(d.device, 0);
  for (const l of plan.links) {
    degree.set(l.from, (degree.get(l.from) ?? 0) + 1);
    degree.set(l.to, (degree.get(l.to) ?? 0) + 1);
  }
  const max = Math.max(0, ...degree.values());
  const troubled = new Set(plan.problems.map((p) => p.device).filter((d): d is string => !!d));
  const top = plan.devices.filter((d) => max > 1 && degree.get(d.device) === max).map((d) => d.device);
  const bottom = plan.devices.map((d) => d.device).filter((n) => !top.includes(n));
  const place = (names: string[], y: number): DiagramNode[] =>
    names.map((name, i) => ({ name, x: Math.round(((i + 1) * width) / (names.length + 1)), y, problem: troubled.has(name) }));
  const nodes = [...place(top, 40), ...place(bottom, top.length ? 40 + rowGap : 40)];
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const edges: DiagramEdge[] = [];
  for (const l of plan.links) {
    const from = byName.get(l.from);
    const to = byName.get(l.to);
    if (from && to) edges.push({ from, to, label: `${l.cable_length_m} m`, medium: l.medium });
  }
  return { nodes, edges, height: (top.length && bottom.length ? 40 + rowGap : 40) + 40 };
}

/** Lower-case hex SHA-256 of the bytes (WebCrypto). */
export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** PUTs a file to its SAS URL with the headers the API named, reporting
 * progress (0..1). Resolves with the HTTP status (201 when stored). */
export function putWithProgress(
  url: string,
  headers: Record<string, string>,
  body: Blob,
  onProgress: (fraction: number) => void,
): Promise<number> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      onProgress(1);
      resolve(xhr.status);
    };
    xhr.onerror = () => resolve(0);
    xhr.send(body);
  });
}

/** Media kinds by a file's type, as the API takes them. */
export function mediaKindOf(type: string): "image" | "stencil" | "document" | null {
  if (["image/png", "image/jpeg", "image/webp"].includes(type)) return "image";
  if (type === "application/vnd.ms-visio.stencil") return "stencil";
  if (type === "application/pdf") return "document";
  return null;
}
