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
  const requestId = problem?.request_id ?? call.requestId ?? undefined;
  const fields: Record<string, string[]> = {};
  const other: FieldError[] = [];
  for (const e of fieldErrorsOf(problem)) {
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
  let message = join(lead(status, call.retryAfter), title !== undefined && title !== detail ? title : undefined, detail, pointer);
  if (status >= 500 && requestId) message = join(message, `If it keeps happening, quote request id ${requestId}`);
  return { message, fields, other, status, ...(requestId ? { requestId } : {}) };
}

/** A field's errors as one line, or undefined. */
export function fieldMessage(view: ErrorView | undefined, field: string): string | undefined {
  const list = view?.fields[field];
  return list && list.length > 0 ? list.join("; ") : undefined;
}
