// The event form (admins): what a person types -> EventCreate, with the
// checks a person would want before sending (the server checks again).
import type { SportEventCreate } from "../api/types";
import { oddsScaled } from "./money";
import type { FormCheck } from "./tenantForm";

export interface SelectionRow {
  key: string;
  name: string;
  odds: string;
}

export interface EventForm {
  name: string;
  sport: string;
  /** `<input type="datetime-local">` value, in the browser's time zone */
  startsAt: string;
  /** open for betting at once (else scheduled) */
  open: boolean;
  selections: SelectionRow[];
}

export const EVENT_FIELDS = ["name", "sport", "starts_at", "status", "selections"] as const;

const KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const ODDS_PATTERN = /^[0-9]{1,6}(\.[0-9]{1,4})?$/;

/** A selection key suggested from its name: "Man City" -> "man-city". */
export function selectionKey(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9_.]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);
}

/** A datetime-local value (no zone: the browser's) as RFC 3339 UTC. */
export function localToIso(local: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(local)) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An instant as a datetime-local value in the browser's time zone. */
export function isoToLocal(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function checkOdds(odds: string): string | undefined {
  const t = odds.trim();
  if (t === "") return "Enter the odds";
  if (!ODDS_PATTERN.test(t)) return "Decimal odds, like 2.50 (at most 4 decimals)";
  const v = oddsScaled(t);
  if (v === undefined || v <= 10000n) return "Odds must be above 1";
  return undefined;
}

export function buildEventCreate(f: EventForm, now: Date = new Date()): FormCheck<SportEventCreate> {
  const fields: Record<string, string[]> = {};
  const name = f.name.trim();
  const sport = f.sport.trim();
  if (name === "") fields.name = ["Enter the event's name"];
  else if (name.length > 200) fields.name = ["At most 200 characters"];
  if (sport === "") fields.sport = ["Enter the sport"];
  else if (sport.length > 64) fields.sport = ["At most 64 characters"];
  const startsAt = localToIso(f.startsAt);
  if (!startsAt) fields.starts_at = ["Enter the date and time it starts"];
  else if (f.open && new Date(startsAt).getTime() <= now.getTime()) fields.starts_at = ["An event open for betting must start in the future"];

  const rows = f.selections.filter((s) => s.key.trim() || s.name.trim() || s.odds.trim());
  const problems: string[] = [];
  const seen = new Set<string>();
  const selections = rows.map((s, i) => {
    const label = s.name.trim() || `Selection ${i + 1}`;
    const sName = s.name.trim();
    const key = s.key.trim() || selectionKey(sName);
    if (sName === "") problems.push(`${label}: enter a name`);
    if (!KEY_PATTERN.test(key)) problems.push(`${label}: the key may use letters, digits, "_", "." and "-"`);
    else if (seen.has(key)) problems.push(`${label}: the key "${key}" is used twice`);
    seen.add(key);
    const oddsProblem = checkOdds(s.odds);
    if (oddsProblem) problems.push(`${label}: ${oddsProblem.charAt(0).toLowerCase()}${oddsProblem.slice(1)}`);
    return { key, name: sName, odds: s.odds.trim() };
  });
  if (rows.length < 2) problems.unshift("An event needs at least two selections");
  if (rows.length > 50) problems.unshift("At most 50 selections");
  if (problems.length > 0) fields.selections = problems;
  if (Object.keys(fields).length > 0) return { ok: false, fields };
  return {
    ok: true,
    body: { name, sport, starts_at: startsAt as string, status: f.open ? "open" : "scheduled", selections },
  };
}
