// Money is integer minor units plus an ISO 4217 currency (SPEC.md section 1);
// the portal never goes through floating point with it.

/** Minor-unit digits of a currency (2 for EUR, 0 for JPY, 3 for BHD). */
export function fractionDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** "12.34" for 1234 minor units of a 2-digit currency (exact, no floats). */
export function minorToDecimalString(minor: number | bigint, digits: number): string {
  const v = BigInt(minor);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const scale = 10n ** BigInt(digits);
  const whole = abs / scale;
  const frac = abs % scale;
  const s = digits > 0 ? `${whole}.${frac.toString().padStart(digits, "0")}` : `${whole}`;
  return neg ? `-${s}` : s;
}

/** A money amount for people, e.g. "€12.34" or "¥1,200". */
export function formatMoney(minor: number, currency: string, locale?: string): string {
  const digits = fractionDigits(currency);
  const dec = minorToDecimalString(minor, digits);
  try {
    const nf = new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    // Intl formats decimal strings exactly (no float rounding).
    return (nf.format as (v: string) => string)(dec);
  } catch {
    return `${dec} ${currency}`;
  }
}

export type ParsedAmount = { ok: true; minor: number } | { ok: false; message: string };

/** Parse what a person typed ("12", "12.5", "1,234.50") into minor units. */
export function parseAmount(input: string, currency: string): ParsedAmount {
  const digits = fractionDigits(currency);
  const t = input.trim().replace(/[,\s_]/g, "");
  if (t === "") return { ok: false, message: "Enter an amount" };
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) return { ok: false, message: "Enter a positive amount, like 10 or 10.50" };
  const whole = m[1] ?? "0";
  const frac = m[2] ?? "";
  if (frac.length > digits) {
    return {
      ok: false,
      message: digits === 0 ? `${currency} has no minor units` : `At most ${digits} decimal places`,
    };
  }
  const minor = BigInt(whole) * 10n ** BigInt(digits) + BigInt((frac || "0").padEnd(digits, "0").slice(0, digits) || "0");
  if (minor <= 0n) return { ok: false, message: "The amount must be more than zero" };
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, message: "The amount is too large" };
  return { ok: true, minor: Number(minor) };
}

/** Decimal odds ("2.10", at most 4 decimals) as an integer scaled by
 * 10^4, or undefined when not such a number. */
export function oddsScaled(odds: string): bigint | undefined {
  const m = /^([0-9]{1,6})(?:\.([0-9]{1,4}))?$/.exec(odds.trim());
  if (!m) return undefined;
  return BigInt(m[1] ?? "0") * 10000n + BigInt((m[2] ?? "").padEnd(4, "0"));
}

/** What a winning bet pays: floor(stake × odds) in minor units, exactly
 * (SPEC.md section 4), or undefined for odds that are not a decimal. */
export function payoutMinor(stakeMinor: number, odds: string): number | undefined {
  const o = oddsScaled(odds);
  if (o === undefined || !Number.isSafeInteger(stakeMinor) || stakeMinor < 0) return undefined;
  return Number((BigInt(stakeMinor) * o) / 10000n);
}

/** Are two decimal odds the same number ("2.5" and "2.50")? */
export function sameOdds(a: string, b: string): boolean {
  const x = oddsScaled(a);
  return x !== undefined && x === oddsScaled(b);
}
