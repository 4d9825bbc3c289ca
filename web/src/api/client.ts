// The one API client of the portal: openapi-fetch typed by the generated
// schema, same origin (relative URLs), cookie session.
import createClient from "openapi-fetch";
import type { paths } from "./schema";
import { authMiddleware, requiresSignIn, loginUrl, shouldRedirectToLogin, withCsrf } from "./middleware";
import { describeError, type ErrorView } from "./problem";
import type { IdempotentAction } from "../lib/idempotency";

const LAST_REDIRECT_KEY = "atrium.login_redirect_at";

/** Set when the portal gave up redirecting to sign-in (loop guard). */
let signInStuck = false;
const listeners = new Set<() => void>();

export function isSignInStuck(): boolean {
  return signInStuck;
}

export function onSignInStuck(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function readLastRedirect(): number | undefined {
  try {
    const v = window.sessionStorage.getItem(LAST_REDIRECT_KEY);
    return v === null ? undefined : Number(v);
  } catch {
    return undefined;
  }
}

let redirecting = false;

/** Send the browser to sign in, coming back to where it is now. Several
 * 401s in a row (parallel calls) make one trip. */
export function goToSignIn(): void {
  if (redirecting) return;
  const here = `${window.location.pathname}${window.location.search}`;
  const now = Date.now();
  if (!shouldRedirectToLogin(now, readLastRedirect())) {
    if (!signInStuck) {
      signInStuck = true;
      listeners.forEach((fn) => fn());
    }
    return;
  }
  redirecting = true;
  try {
    window.sessionStorage.setItem(LAST_REDIRECT_KEY, String(now));
  } catch {
    /* storage may be off; the loop guard is then off too */
  }
  window.location.assign(loginUrl(here));
}

const env = {
  cookies: () => document.cookie,
  onUnauthorized: () => {
    if (requiresSignIn(window.location.pathname)) goToSignIn();
  },
};

// JSON media types only: a list that also offers text/csv is still typed
// by its JSON body here (CSV is fetched by fetchCsv below).
export const api = createClient<paths, "application/json" | "application/problem+json">({ baseUrl: "", credentials: "same-origin" });
api.use(authMiddleware(env));

export type Result<T> =
  | { ok: true; data: T; response: Response }
  | { ok: false; error: ErrorView; response?: Response };

/**
 * Await an openapi-fetch call and normalise it: success data, or an
 * ErrorView in words (network failures included). `formFields` names the
 * fields of the form making the call, for field errors.
 */
export async function call<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
  formFields: readonly string[] = [],
): Promise<Result<T>> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await pending;
  } catch {
    return { ok: false, error: describeError({ network: true }) };
  }
  if (r.response.ok) return { ok: true, data: r.data as T, response: r.response };
  return {
    ok: false,
    response: r.response,
    error: describeError(
      {
        status: r.response.status,
        body: r.error,
        retryAfter: r.response.headers.get("Retry-After"),
        requestId: r.response.headers.get("X-Request-Id"),
      },
      formFields,
    ),
  };
}

/**
 * A plain call outside the typed client, for /auth/logout: its 401 must not
 * send the browser to sign in (the session had ended, which is what was
 * asked for). Same CSRF handling as the typed client.
 */
export async function callUntyped<T>(
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
  path: string,
  opts: {
    query?: Record<string, string | number | undefined | null>;
    body?: unknown;
    headers?: Record<string, string>;
    formFields?: readonly string[];
    /** false: a 401 is just returned (sign-out), no trip to sign-in */
    signInOn401?: boolean;
  } = {},
): Promise<Result<T>> {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = new Headers(opts.headers);
  headers.set("Accept", "application/json, application/problem+json");
  if (opts.body !== undefined && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const req = withCsrf(
    new Request(`${url.pathname}${url.search}`, {
      method,
      headers,
      credentials: "same-origin",
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    }),
    env.cookies(),
  );
  let response: Response;
  try {
    response = await fetch(req);
  } catch {
    return { ok: false, error: describeError({ network: true }) };
  }
  if (response.status === 401 && opts.signInOn401 !== false) env.onUnauthorized();
  let body: unknown = undefined;
  const text = await response.text().catch(() => "");
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (response.ok) return { ok: true, data: body as T, response };
  return {
    ok: false,
    response,
    error: describeError(
      {
        status: response.status,
        body,
        retryAfter: response.headers.get("Retry-After"),
        requestId: response.headers.get("X-Request-Id"),
      },
      opts.formFields ?? [],
    ),
  };
}

/** A fresh Idempotency-Key. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Send one attempt of a user action that creates something or moves money,
 * with the action's Idempotency-Key: the same key as the previous attempt
 * when this retries it with the same body after an unknown outcome, a new
 * one otherwise (src/lib/idempotency.ts).
 */
export async function sendIdempotent<T>(
  action: IdempotentAction,
  body: unknown,
  send: (key: string) => Promise<Result<T>>,
): Promise<Result<T>> {
  const r = await send(action.keyFor(body));
  action.settle(r.ok ? { status: r.response.status } : { status: r.error.status, code: r.error.code });
  return r;
}

/**
 * A CSV export (`Accept: text/csv`) of a list the API offers as CSV: the
 * file's bytes and the name the server gave it (Content-Disposition).
 */
export async function fetchCsv(
  path: string,
  query: Record<string, string | undefined> = {},
): Promise<Result<{ blob: Blob; disposition: string | null }>> {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query)) if (v) url.searchParams.set(k, v);
  let response: Response;
  try {
    response = await fetch(`${url.pathname}${url.search}`, {
      headers: { Accept: "text/csv" },
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, error: describeError({ network: true }) };
  }
  if (!response.ok) {
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    return {
      ok: false,
      response,
      error: describeError({
        status: response.status,
        body,
        retryAfter: response.headers.get("Retry-After"),
        requestId: response.headers.get("X-Request-Id"),
      }),
    };
  }
  return { ok: true, data: { blob: await response.blob(), disposition: response.headers.get("Content-Disposition") }, response };
}
