import { describe, expect, it } from "vitest";
import { fingerprint, IdempotentAction, outcomeUnknown } from "./idempotency";

function counter() {
  let n = 0;
  return () => `k${++n}`;
}

describe("Idempotency-Key per user action", () => {
  it("reuses the key when the same action is retried after no answer or a 5xx", () => {
    const a = new IdempotentAction(counter());
    const body = { direction: "deposit", amount_minor: 5000, currency: "EUR" };
    expect(a.keyFor(body)).toBe("k1");
    a.settle({}); // network failure
    expect(a.keyFor({ currency: "EUR", amount_minor: 5000, direction: "deposit" })).toBe("k1");
    a.settle({ status: 503 });
    expect(a.keyFor(body)).toBe("k1");
    a.settle({ status: 409, code: "idempotency-key-in-use" });
    expect(a.keyFor(body)).toBe("k1");
    a.settle({ status: 201 });
    expect(a.keyFor(body)).toBe("k2"); // done: the same details again are a new deposit
  });

  it("takes a new key for other details, or after a definite refusal", () => {
    const a = new IdempotentAction(counter());
    expect(a.keyFor({ amount_minor: 100 })).toBe("k1");
    a.settle({});
    expect(a.keyFor({ amount_minor: 200 })).toBe("k2");
    a.settle({ status: 422, code: "insufficient-funds" });
    expect(a.keyFor({ amount_minor: 200 })).toBe("k3");
    a.settle({ status: 409, code: "odds-changed" });
    expect(a.keyFor({ amount_minor: 200 })).toBe("k4");
  });

  it("knows which answers leave the outcome open", () => {
    expect(outcomeUnknown({})).toBe(true);
    expect(outcomeUnknown({ status: 500 })).toBe(true);
    expect(outcomeUnknown({ status: 429 })).toBe(true);
    expect(outcomeUnknown({ status: 409, code: "idempotency-key-in-use" })).toBe(true);
    expect(outcomeUnknown({ status: 409, code: "betting-closed" })).toBe(false);
    expect(outcomeUnknown({ status: 422 })).toBe(false);
    expect(outcomeUnknown({ status: 201 })).toBe(false);
  });

  it("compares bodies whatever the order of their members", () => {
    expect(fingerprint({ b: 1, a: { d: 2, c: [1, { y: 1, x: 2 }] } })).toBe(fingerprint({ a: { c: [1, { x: 2, y: 1 }], d: 2 }, b: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });
});
