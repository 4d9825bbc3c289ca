/**
 * Expiry of dev namespaces: `expires_at` is at most 30 days ahead; the
 * worker deletes the namespace once it has passed.
 */

export const MAX_EXPIRY_DAYS = 30;

/** "in 6 days 4 h", "in 3 h 20 min", "in 45 s", or "expired" (past or now). */
export function expiryCountdown(iso: string, now: number = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (Number.isNaN(ms)) return "";
  if (ms <= 0) return "expired";
  const s = Math.floor(ms / 1000);
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `in ${days} day${days === 1 ? "" : "s"}${hours ? ` ${hours} h` : ""}`;
  if (hours > 0) return `in ${hours} h${minutes ? ` ${minutes} min` : ""}`;
  if (minutes > 0) return `in ${minutes} min`;
  return `in ${s} s`;
}

/** The RFC 3339 time `days` whole days from now; undefined for anything but 1..30. */
export function expiryIn(days: string, now: number = Date.now()): string | undefined {
  const t = days.trim();
  if (!/^\d{1,2}$/.test(t)) return undefined;
  const d = Number(t);
  if (d < 1 || d > MAX_EXPIRY_DAYS) return undefined;
  return new Date(now + d * 86_400_000).toISOString();
}
