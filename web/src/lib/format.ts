// Small display helpers.

/** An RFC 3339 timestamp for people, in their time zone. */
export function formatTime(iso: string | null | undefined, locale?: string): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(d);
}

/** A long id shortened for tables (full id in the title attribute). */
export function shortId(id: string | null | undefined): string {
  if (!id) return "—";
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "(none)";
  if (typeof v === "string") return v === "" ? '""' : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function isFromTo(v: unknown): v is { from?: unknown; to?: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && ("from" in v || "to" in v) &&
    Object.keys(v).every((k) => k === "from" || k === "to");
}

/** An audit record's `changes` as short lines: "name: Old → New". */
export function summarizeChanges(changes: Record<string, unknown> | null | undefined): string[] {
  if (!changes) return [];
  const lines: string[] = [];
  for (const [key, v] of Object.entries(changes)) {
    if (isFromTo(v)) lines.push(`${key}: ${show(v.from)} → ${show(v.to)}`);
    else lines.push(`${key}: ${show(v)}`);
  }
  return lines;
}

/** A DNS-label slug suggested from a name: "Contoso Ltd." -> "contoso-ltd". */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/g, "");
}

export const SLUG_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
