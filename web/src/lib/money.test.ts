import { describe, expect, it } from "vitest";
import { formatMoney, fractionDigits, minorToDecimalString, oddsScaled, parseAmount, payoutMinor, sameOdds } from "./money";

describe("money", () => {
  it("knows minor-unit digits", () => {
    expect(fractionDigits("EUR")).toBe(2);
    expect(fractionDigits("JPY")).toBe(0);
    expect(fractionDigits("BHD")).toBe(3);
  });
  it("converts minor units to decimals exactly", () => {
    expect(minorToDecimalString(1234, 2)).toBe("12.34");
    expect(minorToDecimalString(5, 2)).toBe("0.05");
    expect(minorToDecimalString(-105, 2)).toBe("-1.05");
    expect(minorToDecimalString(1200, 0)).toBe("1200");
    expect(minorToDecimalString(9007199254740991, 2)).toBe("90071992547409.91");
  });
  it("formats for people", () => {
    expect(formatMoney(123456, "EUR", "en-GB")).toBe("€1,234.56");
    expect(formatMoney(1200, "JPY", "en-US")).toBe("¥1,200");
    expect(formatMoney(1, "USD", "en-US")).toBe("$0.01");
  });
  it("parses what people type without floating point", () => {
    expect(parseAmount("12", "EUR")).toEqual({ ok: true, minor: 1200 });
    expect(parseAmount("12.5", "EUR")).toEqual({ ok: true, minor: 1250 });
    expect(parseAmount("1,234.56", "EUR")).toEqual({ ok: true, minor: 123456 });
    expect(parseAmount("0.29", "EUR")).toEqual({ ok: true, minor: 29 });
    expect(parseAmount("1200", "JPY")).toEqual({ ok: true, minor: 1200 });
    expect(parseAmount("1.5", "JPY").ok).toBe(false);
    expect(parseAmount("1.234", "EUR").ok).toBe(false);
    expect(parseAmount("-5", "EUR").ok).toBe(false);
    expect(parseAmount("0", "EUR").ok).toBe(false);
    expect(parseAmount("", "EUR").ok).toBe(false);
    expect(parseAmount("1e3", "EUR").ok).toBe(false);
    expect(parseAmount("99999999999999999", "EUR").ok).toBe(false);
  });
  it("computes a win's payout as floor(stake × odds), exactly", () => {
    expect(payoutMinor(1000, "2.10")).toBe(2100);
    expect(payoutMinor(333, "1.5")).toBe(499); // 499.5 rounds down
    expect(payoutMinor(1, "1.0001")).toBe(1);
    expect(payoutMinor(10000, "1.0001")).toBe(10001);
    expect(payoutMinor(123456789, "3.3333")).toBe(411518514);
    expect(payoutMinor(100, "two")).toBeUndefined();
    expect(payoutMinor(100, "2.12345")).toBeUndefined();
  });
  it("compares odds as decimals", () => {
    expect(sameOdds("2.5", "2.50")).toBe(true);
    expect(sameOdds("2.5", "2.05")).toBe(false);
    expect(oddsScaled("3")).toBe(30000n);
    expect(sameOdds("x", "x")).toBe(false);
  });
});
