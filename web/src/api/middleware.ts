// What every API call from the portal goes through (openapi-fetch middleware
// and the few plain fetches): the CSRF header on state-changing requests, and
// the trip to sign-in on 401. Pure functions over Request/Response so they can
// be unit tested without a browser.
import type { Middleware } from "openapi-fetch";

export const CSRF_COOKIE = "atrium_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
export const UNSAFE_METHODS: ReadonlySet<string> = new Set(["POST", "PATCH", "PUT", "DELETE"]);

/** The value of cookie `name` in a `document.cookie` string, or undefined. */
export function readCookie(cookieString: string, name: string): string | undefined {
  for (const part of cookieString.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** The request with `X-CSRF-Token` set from the `atrium_csrf` cookie when
 * its method changes state; other requests are returned as they are. */
export function withCsrf(request: Request, cookieString: string): Request {
  if (!UNSAFE_METHODS.has(request.method.toUpperCase())) return request;
  const token = readCookie(cookieString, CSRF_COOKIE);
  if (!token) return request; // the server answers 401/403; nothing to add
  const headers = new Headers(request.headers);
  headers.set(CSRF_HEADER, token);
  return new Request(request, { headers });
}

/** The sign-in URL that brings the person back to `returnTo` (a path). */
export function loginUrl(returnTo: string): string {
  const safe = returnTo.startsWith("/") && !returnTo.startsWith("//") ? returnTo : "/app";
  return `/auth/login?return_to=${encodeURIComponent(safe)}`;
}

/** Paths of the signed-in app: there a 401 means "go sign in"; elsewhere
 * (the landing page, not-found pages) it means "show it signed out". */
export function requiresSignIn(pathname: string): boolean {
  return pathname === "/app" || pathname.startsWith("/app/");
}

/** Do not bounce to sign-in again within this long of the last bounce: a
 * sign-in that does not stick (cookies refused, clock skew) must show a
 * message instead of looping through the identity provider. */
export const LOGIN_LOOP_WINDOW_MS = 15_000;

export function shouldRedirectToLogin(now: number, lastRedirectAt: number | undefined): boolean {
  return lastRedirectAt === undefined || !(now - lastRedirectAt >= 0 && now - lastRedirectAt < LOGIN_LOOP_WINDOW_MS);
}

export interface AuthEnvironment {
  /** `document.cookie` */
  cookies(): string;
  /** Called once per 401 response. */
  onUnauthorized(response: Response): void;
}

/** The openapi-fetch middleware: CSRF header out, 401 handling in. */
export function authMiddleware(env: AuthEnvironment): Middleware {
  return {
    onRequest({ request }) {
      return withCsrf(request, env.cookies());
    },
    onResponse({ response }) {
      if (response.status === 401) env.onUnauthorized(response);
      return response;
    },
  };
}
