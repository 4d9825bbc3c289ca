// Idempotency-Key for the portal's POSTs that create things or move money
// (SPEC.md section 3): one key per user action, reused when the person
// retries that same action after an answer that left its outcome unknown
// (no answer at all, a 5xx, a 409 "still in progress", a 429), so a retry
// can never do it twice. A new key as soon as the action is a different one
// (other details), or the last attempt got a definite answer: the server
// keeps refusals too, so resending a refused withdrawal's key after a
// deposit would only replay the refusal.

export interface AttemptOutcome {
  /** HTTP status; undefined when no answer arrived. */
  status?: number;
  /** The problem type's code (src/api/problem.ts), if any. */
  code?: string;
}

/** Did this answer leave it open whether the server did the thing? */
export function outcomeUnknown(o: AttemptOutcome): boolean {
  if (o.status === undefined) return true;
  if (o.status >= 500) return true;
  if (o.status === 429) return true; // refused before it was looked at
  return o.status === 409 && o.code === "idempotency-key-in-use";
}

/** A stable text of a request body (object keys sorted) to compare actions. */
export function fingerprint(body: unknown): string {
  return JSON.stringify(body, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export class IdempotentAction {
  private pending: { key: string; body: string } | undefined;

  constructor(private readonly newKey: () => string) {}

  /** The key for sending `body` now: the previous attempt's key when this is
   * a retry of it (same body, outcome unknown), otherwise a fresh one. */
  keyFor(body: unknown): string {
    const fp = fingerprint(body);
    if (this.pending && this.pending.body === fp) return this.pending.key;
    this.pending = { key: this.newKey(), body: fp };
    return this.pending.key;
  }

  /** Record the answer to the attempt made with `keyFor`. */
  settle(o: AttemptOutcome): void {
    if (!outcomeUnknown(o)) this.pending = undefined;
  }
}
