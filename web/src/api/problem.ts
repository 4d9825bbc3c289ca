// Turns a failed API call (an RFC 9457 problem body, a bare status, or a
// network failure) into words for the person using the portal, with field
// errors placed next to the form fields they name.

export interface FieldError {
  field: string;
  message: string;
}

/** A problem body as the server sends it (every member optional here: a
 * proxy or an old server may send less). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  request_id?: string;
  errors?: FieldError[];
}

/** What a screen shows for a failed call. */
export interface ErrorView {
  /** One or two sentences for the person. */
  message: string;
  /** Field errors by form field name (only fields the form has). */
  fields: Record<string, string[]>;
  /** Field errors naming no field of the form (shown in the summary). */
  other: FieldError[];
  status?: number;
  requestId?: string;
  /** The problem's kind: the last segment of its `type` URI
   * (`https://atrium.example.com/problems/odds-changed` -> `odds-changed`). */
  code?: string;
  /** For `odds-changed`: the selection's current odds, as the server said. */
  currentOdds?: string;
}

export interface FailedCall {
  /** HTTP status, when a response arrived. */
  status?: number;
  /** The parsed response body, if any. */
  body?: unknown;
  /** The Retry-After header of a 429 or 503, if any. */
  retryAfter?: string | null;
  /** The X-Request-Id header, if any. */
  requestId?: string | null;
  /** True when no response arrived at all (network down, server gone). */
  network?: boolean;
}

export function isProblem(x: unknown): x is Problem {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const p = x as Record<string, unknown>;
  return (
    (p.title === undefined || typeof p.title === "string") &&
    (p.detail === undefined || typeof p.detail === "string") &&
    (p.status === undefined || typeof p.status === "number") &&
    (typeof p.title === "string" || typeof p.detail === "string" || Array.isArray(p.errors))
  );
}

function fieldErrorsOf(p: Problem | undefined): FieldError[] {
  if (!p || !Array.isArray(p.errors)) return [];
  return p.errors.filter(
    (e): e is FieldError =>
      typeof e === "object" && e !== null && typeof e.field === "string" && typeof e.message === "string",
  );
}

function sentence(s: string): string {
  const t = s.trim();
  if (t === "") return t;
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function join(...parts: (string | undefined)[]): string {
  return parts
    .filter((p): p is string => typeof p === "string" && p.trim() !== "")
    .map(sentence)
    .join(" ");
}

function retrySeconds(retryAfter: string | null | undefined): number | undefined {
  if (!retryAfter) return undefined;
  const n = Number.parseInt(retryAfter, 10);
  return Number.isFinite(n) && n >= 0 && String(n) === retryAfter.trim() ? n : undefined;
}

/** The lead sentence for a status, before the server's own detail. */
function lead(status: number, retryAfter: string | null | undefined): string {
  switch (status) {
    case 400:
      return "The request was not accepted";
    case 401:
      return "You are signed out. Sign in again to continue";
    case 403:
      return "You don't have permission to do this";
    case 404:
      return "It was not found (it may have been deleted, or you may not have access to it)";
    case 405:
      return "This action is not supported here";
    case 409:
      return "This conflicts with the current state";
    case 412:
      return "Someone else changed this since you loaded it. Reload to see the latest version, then try again";
    case 413:
      return "What you sent is too large";
    case 415:
      return "The server did not accept the format of this request";
    case 422:
      return "Some of what you entered needs fixing";
    case 429: {
      const s = retrySeconds(retryAfter);
      return s === undefined
        ? "Too many requests right now. Wait a moment and try again"
        : `Too many requests right now. Try again in ${s} second${s === 1 ? "" : "s"}`;
    }
    case 503:
      return "A service Atrium depends on is unavailable right now. Try again shortly";
    default:
      if (status >= 500) return "Something went wrong on our side";
      return `The request failed (HTTP ${status})`;
  }
}

/** `<origin>/problems/odds-changed` -> "odds-changed" for Atrium's problem
 * types (the origin is the server's own: it serves the catalogue there);
 * undefined for `about:blank` and anything else. */
export function problemCode(p: Problem | undefined): string | undefined {
  const m = /^(?:https?:\/\/[^/]+)?\/problems\/([a-z0-9-]+)$/.exec(p?.type ?? "");
  return m?.[1];
}

/** The current odds named by an `odds-changed` problem (its `errors[]` entry
 * for `odds`, else its detail): `the current odds are "2.05"` -> "2.05". */
export function currentOddsOf(p: Problem | undefined): string | undefined {
  const texts = [...fieldErrorsOf(p).filter((e) => e.field === "odds").map((e) => e.message), p?.detail ?? ""];
  for (const t of texts) {
    const m = /current odds are "?([0-9]+(?:\.[0-9]+)?)"?/.exec(t);
    if (m) return m[1];
  }
  return undefined;
}

/** Problems whose meaning the portal knows: said in the person's words
 * instead of the generic lead and the server's detail. */
function knownProblem(code: string | undefined, p: Problem | undefined): string | undefined {
  switch (code) {
    case "odds-changed": {
      const odds = currentOddsOf(p);
      return join(
        odds ? `The odds changed while you were deciding: they are now ${odds}` : "The odds changed while you were deciding",
        "Nothing was staked",
        "Check the new odds and place the bet again to accept them",
      );
    }
    case "betting-closed":
      return join("This event is not taking bets any more: betting has closed or the event has started", "Nothing was staked");
    case "bet-expired":
      return join("The bet could not be completed in time and was rejected", "Any stake taken has been refunded to your wallet");
    case "insufficient-funds":
      return join("Your balance in this currency does not cover this amount", "Nothing was moved");
    case "balance-limit":
      return join("This would take your balance above the most a wallet can hold", "Nothing was moved");
    case "idempotency-key-in-use":
      return join("Your earlier attempt is still being processed", "Wait a moment and try again");
    case "idempotency-key-reused":
      return join("This request was already made with different details", "Reload the page and start again");
    case "event-final":
      return join("The event is already settled or cancelled, so it cannot change any more");
    case "namespace-busy":
      return join("The namespace is still being provisioned", "You can delete it once it is ready or has failed");
    default:
      return undefined;
  }
}

/** Where a server field name goes in a form: the field itself, or its
 * parent for nested names ("tags.env" -> "tags"). */
function formFieldFor(field: string, formFields: readonly string[]): { name: string; sub?: string } | undefined {
  if (formFields.includes(field)) return { name: field };
  const cut = field.search(/[.[]/);
  if (cut > 0) {
    const parent = field.slice(0, cut);
    if (formFields.includes(parent)) {
      const sub = field.slice(cut).replace(/^\./, "");
      return { name: parent, sub };
    }
  }
  return undefined;
}

/**
 * Describe a failed call for a person. `formFields` are the names of the
 * fields of the form that made the request: field errors naming them are
 * returned in `fields` (shown next to the field), the rest in `other`.
 */
export function describeError(call: FailedCall, formFields: readonly string[] = []): ErrorView {
  if (call.network || call.status === undefined) {
    return {
      message: "Could not reach Atrium. Check your connection and try again.",
      fields: {},
      other: [],
    };
  }
  const status = call.status;
  const problem = isProblem(call.body) ? call.body : undefined;
  const code = problemCode(problem);
  const requestId = problem?.request_id ?? call.requestId ?? undefined;
  const fields: Record<string, string[]> = {};
  const other: FieldError[] = [];
  for (const e of fieldErrorsOf(problem)) {
    if (code === "odds-changed" && e.field === "odds") continue; // said in the message
    const target = formFieldFor(e.field, formFields);
    if (target) {
      const msg = target.sub ? `${target.sub}: ${e.message}` : e.message;
      (fields[target.name] ??= []).push(msg);
    } else {
      other.push(e);
    }
  }

  let detail = problem?.detail;
  // When every error sits next to its field, the server's summary ("The
  // request body is invalid.", "…; see errors") says nothing more: point at
  // the fields instead.
  let pointer: string | undefined;
  if (Object.keys(fields).length > 0 && other.length === 0) {
    detail = undefined;
    if (status !== 422) pointer = "See the marked fields";
  }
  // A 412's lead says it all; the server's detail adds nothing a person needs.
  if (status === 412) detail = undefined;
  // Statuses the portal has no lead for get the server's title.
  const known = [400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 429, 503].includes(status) || status >= 500;
  const title = known ? undefined : problem?.title;
  let message =
    knownProblem(code, problem) ??
    join(lead(status, call.retryAfter), title !== undefined && title !== detail ? title : undefined, detail, pointer);
  if (status >= 500 && requestId) message = join(message, `If it keeps happening, quote request id ${requestId}`);
  const currentOdds = code === "odds-changed" ? currentOddsOf(problem) : undefined;
  return {
    message,
    fields,
    other,
    status,
    ...(requestId ? { requestId } : {}),
    ...(code ? { code } : {}),
    ...(currentOdds ? { currentOdds } : {}),
  };
}

/** A field's errors as one line, or undefined. */
export function fieldMessage(view: ErrorView | undefined, field: string): string | undefined {
  const list = view?.fields[field];
  return list && list.length > 0 ? list.join("; ") : undefined;
}

/**
 * The error to keep showing once the person has edited `field`: that
 * field's messages go; a check the portal made before sending (no status)
 * goes entirely when no field has a message left.
 */
export function withoutField(view: ErrorView | undefined, field: string): ErrorView | undefined {
  if (!view || !view.fields[field]) return view;
  const fields = { ...view.fields };
  delete fields[field];
  if (Object.keys(fields).length === 0 && view.other.length === 0 && view.status === undefined) return undefined;
  return { ...view, fields };
}
