import { describe, expect, it, vi } from "vitest";
import {
  authMiddleware,
  loginUrl,
  LOGIN_LOOP_WINDOW_MS,
  readCookie,
  requiresSignIn,
  shouldRedirectToLogin,
  withCsrf,
} from "./middleware";
import type { MiddlewareCallbackParams } from "openapi-fetch";

const BASE = "https://portal.example";

function params(request: Request): MiddlewareCallbackParams {
  return { request, schemaPath: "/v1/tenants", params: {}, options: {} as MiddlewareCallbackParams["options"], id: "1" };
}

describe("readCookie", () => {
  it("finds a cookie among others and decodes it", () => {
    expect(readCookie("a=1; atrium_csrf=tok%2Fen; b=2", "atrium_csrf")).toBe("tok/en");
    expect(readCookie("atrium_csrf=abc", "atrium_csrf")).toBe("abc");
    expect(readCookie('atrium_csrf="quoted"', "atrium_csrf")).toBe("quoted");
  });
  it("does not match a cookie whose name only ends the same", () => {
    expect(readCookie("xatrium_csrf=no; other=1", "atrium_csrf")).toBeUndefined();
    expect(readCookie("", "atrium_csrf")).toBeUndefined();
  });
});

describe("withCsrf", () => {
  const cookies = "atrium_csrf=t0ken; theme=dark";
  it.each(["POST", "PATCH", "PUT", "DELETE"])("adds X-CSRF-Token to %s", (method) => {
    const r = withCsrf(new Request(`${BASE}/v1/tenants`, { method, body: method === "DELETE" ? null : "{}" }), cookies);
    expect(r.headers.get("X-CSRF-Token")).toBe("t0ken");
    expect(r.method).toBe(method);
  });
  it.each(["GET", "HEAD", "OPTIONS"])("leaves %s alone", (method) => {
    const req = new Request(`${BASE}/v1/tenants`, { method });
    const r = withCsrf(req, cookies);
    expect(r).toBe(req);
    expect(r.headers.has("X-CSRF-Token")).toBe(false);
  });
  it("keeps the other headers and the body", async () => {
    const r = withCsrf(
      new Request(`${BASE}/v1/tenants`, { method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": "k1" }, body: '{"a":1}' }),
      cookies,
    );
    expect(r.headers.get("Content-Type")).toBe("application/json");
    expect(r.headers.get("Idempotency-Key")).toBe("k1");
    expect(await r.text()).toBe('{"a":1}');
  });
  it("adds nothing without the cookie", () => {
    const r = withCsrf(new Request(`${BASE}/auth/logout`, { method: "POST" }), "other=1");
    expect(r.headers.has("X-CSRF-Token")).toBe(false);
  });
});

describe("authMiddleware", () => {
  it("sets the header on the way out and reports 401 on the way back", async () => {
    const onUnauthorized = vi.fn();
    const mw = authMiddleware({ cookies: () => "atrium_csrf=abc", onUnauthorized });
    const out = (await mw.onRequest!(params(new Request(`${BASE}/v1/tenants`, { method: "POST", body: "{}" })))) as Request;
    expect(out.headers.get("X-CSRF-Token")).toBe("abc");
    const ok = new Response("{}", { status: 200 });
    expect(await mw.onResponse!({ ...params(out), response: ok })).toBe(ok);
    expect(onUnauthorized).not.toHaveBeenCalled();
    const denied = new Response("{}", { status: 401 });
    await mw.onResponse!({ ...params(out), response: denied });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    await mw.onResponse!({ ...params(out), response: new Response("{}", { status: 403 }) });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });
  it("reads the cookie at request time (it changes after sign-in)", async () => {
    let jar = "";
    const mw = authMiddleware({ cookies: () => jar, onUnauthorized: () => {} });
    const a = (await mw.onRequest!(params(new Request(`${BASE}/x`, { method: "DELETE" })))) as Request;
    expect(a.headers.has("X-CSRF-Token")).toBe(false);
    jar = "atrium_csrf=new";
    const b = (await mw.onRequest!(params(new Request(`${BASE}/x`, { method: "DELETE" })))) as Request;
    expect(b.headers.get("X-CSRF-Token")).toBe("new");
  });
});

describe("sign-in redirect", () => {
  it("builds the login URL with an encoded same-site return path", () => {
    expect(loginUrl("/app/tenants?status=suspended")).toBe("/auth/login?return_to=%2Fapp%2Ftenants%3Fstatus%3Dsuspended");
    expect(loginUrl("//evil.example/x")).toBe("/auth/login?return_to=%2Fapp");
    expect(loginUrl("https://evil.example/")).toBe("/auth/login?return_to=%2Fapp");
  });
  it("sends to sign-in only from the app's screens", () => {
    expect(requiresSignIn("/")).toBe(false);
    expect(requiresSignIn("/no/such/page")).toBe(false);
    expect(requiresSignIn("/application")).toBe(false);
    expect(requiresSignIn("/app")).toBe(true);
    expect(requiresSignIn("/app/tenants")).toBe(true);
  });
  it("does not loop through sign-in", () => {
    expect(shouldRedirectToLogin(1_000_000, undefined)).toBe(true);
    expect(shouldRedirectToLogin(1_000_000, 1_000_000 - 2_000)).toBe(false);
    expect(shouldRedirectToLogin(1_000_000, 1_000_000 - LOGIN_LOOP_WINDOW_MS)).toBe(true);
    expect(shouldRedirectToLogin(1_000_000, 2_000_000)).toBe(true); // clock went back
  });
});
