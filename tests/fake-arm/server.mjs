#!/usr/bin/env node
// fake-arm: a fake Azure Resource Manager (plus the Entra client-credentials
// token endpoint) for the outbound worker's tests. Plain node:http, no
// dependencies. See README.md in this directory for the protocol it speaks.
//
// Run:   node tests/fake-arm/server.mjs          (127.0.0.1:28090)
// Env:   FAKE_ARM_PORT, FAKE_ARM_HOST, FAKE_ARM_RETRY_AFTER, FAKE_ARM_DELETE_POLLS,
//        FAKE_ARM_PUT_POLLS, FAKE_ARM_ASYNC_PUT, FAKE_ARM_CLIENT_SECRET,
//        FAKE_ARM_CLIENT_ID, FAKE_ARM_TENANT_ID, FAKE_ARM_SUBSCRIPTION_ID,
//        FAKE_ARM_TOKEN_EXPIRES_IN, FAKE_ARM_STRICT_TOKENS, FAKE_ARM_PUBLIC_URL,
//        FAKE_ARM_LOCATIONS, FAKE_ARM_QUIET, FAKE_ARM_CLIENT_CERTS,
//        FAKE_ARM_FEDERATED_JWKS_URL, FAKE_ARM_FEDERATED_ISSUER, FAKE_ARM_FEDERATED_SUBJECT,
//        FAKE_ARM_AKS_LOCATION

import http from 'node:http';
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';

export const MAX_BODY = 1024 * 1024; // 1 MiB
const MAX_LOG = 10000;
const MAX_TOKENS = 10000;

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const API_VERSION_RE = /^\d{4}-\d{2}-\d{2}(-[a-z]+)?$/i;
// Resource group names: documented pattern ^[-\w\._\(\)]+$ (\w in .NET is
// letters, non-spacing marks, decimal digits, connector punctuation), 1-90
// chars, and not ending in a period.
const RG_NAME_RE = /^[-\p{L}\p{Mn}\p{Nd}\p{Pc}.()]+$/u;
const ROLE_DEF_RE = /^(\/subscriptions\/[^/]+)?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'];
const TAG_NAME_RESERVED = /[<>%&\\?/\u0000-\u001f]/;

// Regions ARM accepted for resource groups (from ARM's own
// LocationNotAvailableForResourceGroup message). Override with FAKE_ARM_LOCATIONS
// (comma list, or "*" for anything).
const DEFAULT_LOCATIONS = ('eastasia,southeastasia,australiaeast,australiasoutheast,brazilsouth,' +
  'canadacentral,canadaeast,switzerlandnorth,germanywestcentral,eastus2,eastus,centralus,' +
  'northcentralus,francecentral,uksouth,ukwest,centralindia,southindia,jioindiawest,italynorth,' +
  'japaneast,japanwest,koreacentral,koreasouth,mexicocentral,northeurope,norwayeast,polandcentral,' +
  'qatarcentral,spaincentral,swedencentral,uaenorth,westcentralus,westeurope,westus2,westus,' +
  'southcentralus,westus3,southafricanorth,australiacentral,australiacentral2,israelcentral,' +
  'westindia,newzealandnorth,centraluseuap,eastus2euap').split(',');

// ARM's audiences for management-plane tokens.
const ARM_AUDIENCES = [
  'https://management.azure.com', 'https://management.azure.com/',
  'https://management.core.windows.net', 'https://management.core.windows.net/',
];

// Current ARM (token-bucket) subscription limits: bucket size and refill/second.
const DEFAULT_LIMITS = {
  reads: { bucket: 250, refill_per_sec: 25 },
  writes: { bucket: 200, refill_per_sec: 10 },
  deletes: { bucket: 200, refill_per_sec: 10 },
};

const DEFAULT_ERROR_CODES = {
  400: ['BadRequest', 'The request is invalid.'],
  401: ['AuthenticationFailed', 'Authentication failed.'],
  403: ['AuthorizationFailed', 'The client does not have authorization to perform this action.'],
  404: ['NotFound', 'The requested resource was not found.'],
  408: ['RequestTimeout', 'The request timed out.'],
  409: ['Conflict', 'The request conflicts with the current state of the resource.'],
  412: ['PreconditionFailed', 'The precondition failed.'],
  429: ['TooManyRequests', null],
  500: ['InternalServerError', 'Encountered internal server error. Diagnostic information: timestamp, subscription id, tracking id, request correlation id.'],
  502: ['BadGateway', 'The gateway received an invalid response.'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable. Please retry.'],
  504: ['GatewayTimeout', 'The gateway did not receive a response within the specified time period.'],
};

// ---------------------------------------------------------------------------

function envInt(env, name, dflt) {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`);
  return n;
}
function envBool(env, name, dflt) {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  return /^(1|true|yes|on)$/i.test(v);
}

// The audience Entra requires of a federated credential's token.
export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

// A registered client certificate: its PEM and base64url SHA-256 thumbprint.
function certEntry(pem) {
  const c = new crypto.X509Certificate(pem);
  return { pem: c.toString(), thumbprint: crypto.createHash('sha256').update(c.raw).digest('base64url'), subject: c.subject };
}

export function configFromEnv(env = process.env) {
  const locs = env.FAKE_ARM_LOCATIONS;
  const certFiles = (env.FAKE_ARM_CLIENT_CERTS || '').split(',').map((x) => x.trim()).filter(Boolean);
  return {
    // PEM texts of the certificates a client assertion may be signed for.
    client_certs: certFiles.map((f) => certEntry(fs.readFileSync(f, 'utf8')).pem),
    federated_jwks_url: env.FAKE_ARM_FEDERATED_JWKS_URL || null,
    federated_issuer: env.FAKE_ARM_FEDERATED_ISSUER || null,
    federated_subject: env.FAKE_ARM_FEDERATED_SUBJECT || null,
    retry_after: envInt(env, 'FAKE_ARM_RETRY_AFTER', 1),
    delete_polls: envInt(env, 'FAKE_ARM_DELETE_POLLS', 2),
    put_polls: envInt(env, 'FAKE_ARM_PUT_POLLS', 2),
    async_put: envBool(env, 'FAKE_ARM_ASYNC_PUT', false),
    client_secret: env.FAKE_ARM_CLIENT_SECRET || 'fake-secret',
    client_id: env.FAKE_ARM_CLIENT_ID || null,
    tenant_id: env.FAKE_ARM_TENANT_ID || null,
    subscription_id: env.FAKE_ARM_SUBSCRIPTION_ID || null,
    token_expires_in: envInt(env, 'FAKE_ARM_TOKEN_EXPIRES_IN', 3599),
    strict_tokens: envBool(env, 'FAKE_ARM_STRICT_TOKENS', false),
    public_url: env.FAKE_ARM_PUBLIC_URL ? env.FAKE_ARM_PUBLIC_URL.replace(/\/+$/, '') : null,
    locations: locs === '*' ? '*' : (locs ? locs.split(',').map(normLocation).filter(Boolean) : DEFAULT_LOCATIONS.slice()),
    limits: structuredClone(DEFAULT_LIMITS),
    // Status of an identical re-PUT of an existing role assignment (the
    // 2022-04-01 spec documents both 200 and 201 for Create).
    ra_repeat_status: 200,
    // AKS: every managed cluster id under the subscription exists, in this
    // region (a stand-in: the fake has no cluster resource of its own).
    aks_location: normLocation(env.FAKE_ARM_AKS_LOCATION || 'westeurope'),
    quiet: envBool(env, 'FAKE_ARM_QUIET', false),
  };
}

function uuid() { return crypto.randomUUID(); }
function b64url(buf) { return Buffer.from(buf).toString('base64url'); }
function normLocation(s) { return String(s).toLowerCase().replace(/\s+/g, ''); }
function isoNoMs(d = new Date()) { return d.toISOString().replace(/\.\d{3}Z$/, 'Z'); }
function entraTimestamp(d = new Date()) { return d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'); }
function routingStamp(d = new Date()) { return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z'); }
function deterministicGuid(s) {
  const h = crypto.createHash('sha256').update(String(s)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

class ArmError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    this.status = status; this.code = code; this.headers = headers;
  }
}

class Bucket {
  constructor({ bucket, refill_per_sec }) {
    this.size = bucket; this.refill = refill_per_sec; this.tokens = bucket; this.t = Date.now();
  }
  take() {
    const now = Date.now();
    this.tokens = Math.min(this.size, this.tokens + ((now - this.t) / 1000) * this.refill);
    this.t = now;
    if (this.tokens >= 1) { this.tokens -= 1; return { ok: true, remaining: Math.floor(this.tokens) }; }
    return { ok: false, remaining: 0, wait: this.refill > 0 ? Math.ceil((1 - this.tokens) / this.refill) : null };
  }
}

// ---------------------------------------------------------------------------

export function createFakeArm(initialConfig = configFromEnv()) {
  const baseConfig = structuredClone(initialConfig);
  let config;
  let rgs;            // key "sub/rgname-lower" -> rg record
  let ras;            // key "name-lower" -> role assignment record
  let mns;            // key "managed namespace id, lower" -> managed namespace record
  let k8sNs;          // "cluster id lower|name": Kubernetes namespaces ARM does not manage
  let ops;            // opid -> operation
  let faults;         // array of fault records
  let nextFaultId;
  let windows;        // Retry-After windows opened by injected 429s
  let log;            // request log
  let seq;
  let tokens;         // access_token -> {exp, aud, client_id, tenant, expired}
  let counters;
  let buckets;
  const timers = new Set();

  function resetAll() {
    config = structuredClone(baseConfig);
    rgs = new Map(); ras = new Map(); ops = new Map(); mns = new Map(); k8sNs = new Set();
    faults = []; nextFaultId = 1; windows = [];
    log = []; seq = 0;
    tokens = new Map();
    counters = { token_requests: 0, tokens_issued: 0, token_failures: 0, arm_requests: 0, throttle_violations: 0 };
    resetBuckets();
  }
  function resetBuckets() {
    buckets = {};
    for (const k of Object.keys(config.limits)) buckets[k] = new Bucket(config.limits[k]);
  }
  resetAll();

  function later(ms, fn) {
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    timers.add(t);
  }

  function out(line) { if (!config.quiet) process.stdout.write(line + '\n'); }

  // ---- helpers: base URL, headers, responses ------------------------------

  function baseUrl(req) {
    if (config.public_url) return config.public_url;
    return `http://${req.headers.host || '127.0.0.1'}`;
  }

  function armHeaders(ctx) {
    const h = {
      'Cache-Control': 'no-cache',
      'Pragma': 'no-cache',
      'Expires': '-1',
      'x-ms-request-id': ctx.requestId,
      'x-ms-correlation-request-id': ctx.correlationId,
      'x-ms-routing-request-id': `LOCAL:${routingStamp()}:${ctx.requestId}`,
    };
    if (ctx.clientRequestId) h['x-ms-client-request-id'] = ctx.clientRequestId;
    if (ctx.rateHeader) h[ctx.rateHeader[0]] = String(ctx.rateHeader[1]);
    return h;
  }

  function finish(ctx, status, headers, bodyText) {
    const { res, req } = ctx;
    ctx.entry.status = status;
    if (res.destroyed || res.writableEnded) return;
    const h = { ...headers };
    let buf = null;
    if (bodyText !== null && bodyText !== undefined && status !== 204 && status !== 304) {
      buf = Buffer.from(bodyText);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json; charset=utf-8';
      h['Content-Length'] = buf.length;
    } else if (status !== 204 && status !== 304) {
      h['Content-Length'] = 0;
    }
    if (ctx.closeAfter) h['Connection'] = 'close';
    res.writeHead(status, h);
    if (buf && req.method !== 'HEAD') res.end(buf); else res.end();
  }

  function sendJson(ctx, status, obj, extra = {}) {
    finish(ctx, status, { ...armHeaders(ctx), ...extra }, obj === undefined ? null : JSON.stringify(obj));
  }

  function sendArmError(ctx, status, code, message, extra = {}) {
    ctx.entry.error_code = code;
    const h = { ...armHeaders(ctx), 'x-ms-failure-cause': status >= 500 ? 'service' : 'gateway', ...extra };
    finish(ctx, status, h, JSON.stringify({ error: { code, message } }));
  }

  function sendEntraError(ctx, status, error, aadsts, description) {
    const ts = entraTimestamp();
    const trace = uuid();
    const corr = ctx.correlationId;
    ctx.entry.error_code = error;
    counters.token_failures++;
    const body = {
      error,
      error_description: `AADSTS${aadsts}: ${description}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${ts}`,
      error_codes: [aadsts],
      timestamp: ts,
      trace_id: trace,
      correlation_id: corr,
      error_uri: `https://login.microsoftonline.com/error?code=${aadsts}`,
    };
    finish(ctx, status, {
      'Cache-Control': 'no-store, no-cache', 'Pragma': 'no-cache',
      'x-ms-request-id': trace, 'client-request-id': ctx.clientRequestId || corr,
    }, JSON.stringify(body));
  }

  // ---- request log ---------------------------------------------------------

  const INTEREST = ['authorization', 'content-type', 'content-length', 'user-agent', 'accept', 'expect',
    'x-ms-client-request-id', 'x-ms-correlation-request-id', 'x-ms-return-client-request-id',
    'if-match', 'if-none-match', 'traceparent', 'tracestate'];

  function logEntry(req, url, kind, body) {
    const headers = {};
    for (const k of INTEREST) if (req.headers[k] !== undefined) headers[k] = req.headers[k];
    const e = {
      seq: ++seq,
      time: new Date().toISOString(),
      kind,
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      status: null,
    };
    log.push(e);
    if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
    return e;
  }

  // ---- body ----------------------------------------------------------------

  function readBody(req) {
    return new Promise((resolve, reject) => {
      const chunks = []; let size = 0; let done = false;
      req.on('data', (c) => {
        if (done) return;
        size += c.length;
        if (size > MAX_BODY) { done = true; const e = new Error('too large'); e.tooLarge = true; reject(e); return; }
        chunks.push(c);
      });
      req.on('end', () => { if (!done) { done = true; resolve(Buffer.concat(chunks)); } });
      req.on('error', (e) => { if (!done) { done = true; reject(e); } });
    });
  }

  function logBody(kind, raw, contentType) {
    if (!raw || raw.length === 0) return null;
    const text = raw.toString('utf8');
    if (kind === 'token' || /x-www-form-urlencoded/i.test(contentType || '')) {
      const o = Object.fromEntries(new URLSearchParams(text));
      if ('client_secret' in o) {
        o.client_secret_ok = o.client_secret === config.client_secret;
        o.client_secret = '<redacted>';
      }
      if ('client_assertion' in o) o.client_assertion = '<redacted>';
      return o;
    }
    try { return JSON.parse(text); } catch { return text.length > 65536 ? text.slice(0, 65536) + '…' : text; }
  }

  // ---- faults ----------------------------------------------------------------

  function compileFault(spec) {
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new Error('fault must be an object');
    const m = spec.match || {};
    if (typeof m !== 'object') throw new Error('match must be an object');
    let re = null;
    if (m.path_regex !== undefined) {
      if (typeof m.path_regex !== 'string') throw new Error('match.path_regex must be a string');
      re = new RegExp(m.path_regex, m.path_flags ?? 'i');
    }
    const hasAction = spec.status !== undefined || spec.delay_ms !== undefined || spec.drop_connection || spec.async_result !== undefined;
    if (!hasAction) throw new Error('fault needs at least one of status, delay_ms, drop_connection, async_result');
    if (spec.status !== undefined && !(Number.isInteger(spec.status) && spec.status >= 100 && spec.status <= 599)) throw new Error('status must be an HTTP status');
    if (spec.async_result !== undefined && !['Failed', 'Canceled', 'Succeeded'].includes(spec.async_result)) throw new Error('async_result must be Failed, Canceled or Succeeded');
    if (spec.drop_connection !== undefined && ![true, false, 'before_response', 'mid_body'].includes(spec.drop_connection)) throw new Error('drop_connection must be true, "before_response" or "mid_body"');
    const times = spec.times === undefined ? 1 : spec.times;
    if (!Number.isInteger(times) || times === 0 || times < -1) throw new Error('times must be a positive integer or -1 (unlimited)');
    return {
      id: `f${nextFaultId++}`,
      match: { method: m.method ? String(m.method).toUpperCase() : null, path_regex: m.path_regex ?? null, kind: m.kind ?? null },
      _re: re,
      status: spec.status ?? null,
      code: spec.code ?? null,
      message: spec.message ?? null,
      headers: spec.headers ?? {},
      body: spec.body,
      times,
      remaining: times,
      after: Number.isInteger(spec.after) ? spec.after : 0,
      delay_ms: Number.isInteger(spec.delay_ms) ? spec.delay_ms : 0,
      drop_connection: spec.drop_connection === true ? 'before_response' : (spec.drop_connection || null),
      retry_after: spec.retry_after ?? null,
      enforce_retry_after: spec.enforce_retry_after !== false,
      async_result: spec.async_result ?? null,
      async_status: spec.async_status ?? null,
      hits: 0,
    };
  }

  // A fault without match.kind and without path_regex only hits ARM calls;
  // give match.kind ("token") or a path_regex to hit the token endpoint.
  function matchApplies(match, re, method, path, kind) {
    if (match.method && match.method !== method) return false;
    if (match.kind ? match.kind !== kind : (!re && kind !== 'arm')) return false;
    if (re && !re.test(path)) return false;
    return true;
  }

  function faultMatches(f, method, path, kind) {
    if (f.remaining === 0) return false;
    return matchApplies(f.match, f._re, method, path, kind);
  }

  function consume(f) {
    f.hits++;
    if (f.remaining > 0) f.remaining--;
  }

  // A fault that changes the immediate answer (status / delay / drop).
  function takeImmediateFault(method, path, kind) {
    for (const f of faults) {
      if (f.status === null && !f.delay_ms && !f.drop_connection) continue;
      if (!faultMatches(f, method, path, kind)) continue;
      if (f.after > 0) { f.after--; continue; }
      consume(f);
      return f;
    }
    return null;
  }

  // A fault that decides how a long-running operation ends.
  function takeAsyncFault(method, path, kind) {
    for (const f of faults) {
      if (!f.async_result || f.status !== null || f.delay_ms || f.drop_connection) continue;
      if (!faultMatches(f, method, path, kind)) continue;
      if (f.after > 0) { f.after--; continue; }
      consume(f);
      return f;
    }
    return null;
  }

  function publicFault(f) {
    const { _re, ...rest } = f;
    return rest;
  }

  function headerValue(headers, name) {
    for (const [k, v] of Object.entries(headers || {})) if (k.toLowerCase() === name.toLowerCase()) return v;
    return undefined;
  }

  async function applyImmediateFault(ctx, f) {
    ctx.entry.fault = f.id;
    if (f.delay_ms) await new Promise((r) => later(f.delay_ms, r));
    if (ctx.res.destroyed) { ctx.entry.client_gone = true; return true; }
    if (f.drop_connection === 'before_response') {
      ctx.entry.dropped = true;
      ctx.req.socket.destroy();
      return true;
    }
    if (f.drop_connection === 'mid_body') {
      ctx.entry.dropped = true;
      const status = f.status ?? 200;
      ctx.entry.status = status;
      const partial = '{"error":{"code":"InternalServerError","mess';
      ctx.res.writeHead(status, { ...armHeaders(ctx), 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': 4096 });
      ctx.res.write(partial, () => ctx.req.socket.destroy());
      return true;
    }
    if (f.status === null) return false; // delay only: continue normally
    const status = f.status;
    const headers = { ...f.headers };
    let retryAfter = headerValue(headers, 'Retry-After');
    if (retryAfter === undefined && (f.retry_after !== null || status === 429)) {
      retryAfter = String(f.retry_after ?? config.retry_after);
      headers['Retry-After'] = retryAfter;
    }
    if (status === 429 && f.enforce_retry_after) {
      const secs = Number(retryAfter);
      if (secs > 0) windows.push({ fault: f.id, match: f.match, _re: f._re, until: Date.now() + secs * 1000 });
    }
    let [dcode, dmsg] = DEFAULT_ERROR_CODES[status] || ['Error', `Injected error ${status}.`];
    if (status === 429 && !dmsg) dmsg = `Number of requests for subscription exceeded the limit. Please try again after '${retryAfter}' seconds. Refer to https://aka.ms/arm-throttling`;
    const code = f.code ?? dcode;
    const message = f.message ?? dmsg ?? `Injected error ${status}.`;
    ctx.entry.error_code = code;
    if (f.body !== undefined) {
      const text = typeof f.body === 'string' ? f.body : JSON.stringify(f.body);
      finish(ctx, status, { ...(ctx.kind === 'arm' ? armHeaders(ctx) : {}), ...headers }, text);
    } else if (ctx.kind === 'token') {
      const ts = entraTimestamp();
      const trace = uuid();
      finish(ctx, status, { 'Cache-Control': 'no-store, no-cache', ...headers }, JSON.stringify({
        error: f.code ?? (status >= 500 ? 'temporarily_unavailable' : 'invalid_request'),
        error_description: `${f.message ?? message}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${ctx.correlationId}\r\nTimestamp: ${ts}`,
        error_codes: [], timestamp: ts, trace_id: trace, correlation_id: ctx.correlationId,
      }));
    } else if (status < 400) {
      sendJson(ctx, status, undefined, headers);
    } else {
      sendArmError(ctx, status, code, message, headers);
    }
    return true;
  }

  function checkWindows(ctx) {
    const now = Date.now();
    windows = windows.filter((w) => w.until > now);
    for (const w of windows) {
      if (!matchApplies(w.match, w._re, ctx.req.method, ctx.url.pathname, ctx.kind)) continue;
      // 50 ms of slack for clock granularity.
      if (w.until - now <= 50) continue;
      const secs = Math.ceil((w.until - now) / 1000);
      ctx.entry.throttle_violation = true;
      ctx.entry.fault = w.fault;
      counters.throttle_violations++;
      sendArmError(ctx, 429, 'TooManyRequests',
        `Retry-After was not honoured. Please try again after '${secs}' seconds. Refer to https://aka.ms/arm-throttling`,
        { 'Retry-After': String(secs) });
      return true;
    }
    return false;
  }

  // ---- auth ------------------------------------------------------------------

  function decodeJwt(tok) {
    const parts = tok.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return null;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
      if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object') return null;
      return { header, payload };
    } catch { return null; }
  }

  function authenticate(ctx) {
    const wwwAuth = (desc) => ({
      'WWW-Authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="${desc}"`,
    });
    const h = ctx.req.headers.authorization;
    if (h === undefined || h === '') {
      throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.",
        wwwAuth("The authentication failed because of missing 'Authorization' header."));
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (!m) {
      throw new ArmError(401, 'AuthenticationFailedInvalidHeader', "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        wwwAuth("The 'Authorization' header is provided in an invalid format."));
    }
    const tok = m[1];
    const jwt = decodeJwt(tok);
    if (!jwt) throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', wwwAuth('The access token is invalid.'));
    const known = tokens.get(tok);
    if (config.strict_tokens && !known) {
      throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', wwwAuth('The access token was not issued by this fake.'));
    }
    const now = Date.now();
    const exp = typeof jwt.payload.exp === 'number' ? jwt.payload.exp : null;
    if ((exp !== null && exp * 1000 <= now) || (known && known.expired)) {
      const expAt = new Date((known && known.expired ? Math.min(known.expiredAt, (exp ?? Infinity) * 1000) : exp * 1000));
      throw new ArmError(401, 'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${isoNoMs(expAt)}' is earlier than current UTC time '${isoNoMs()}'.`,
        wwwAuth('The access token has expired.'));
    }
    if (known && !ARM_AUDIENCES.includes(known.aud)) {
      throw new ArmError(401, 'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${known.aud}'. It should exactly match with one of the allowed audiences '${ARM_AUDIENCES.join("','")}'.`,
        wwwAuth('The access token has an invalid audience.'));
    }
    ctx.entry.token_known = Boolean(known);
    return jwt;
  }

  // ---- Entra token endpoint -----------------------------------------------------

  function mintToken({ tenant, clientId, scope, expiresIn }) {
    const now = Math.floor(Date.now() / 1000);
    const aud = scope.replace(/\/\.default$/, '');
    const oid = deterministicGuid(`sp:${clientId}`);
    const header = { typ: 'JWT', alg: 'RS256', x5t: 'ZmFrZS1hcm0', kid: 'ZmFrZS1hcm0' };
    const payload = {
      aud, iss: `https://sts.windows.net/${tenant}/`, iat: now, nbf: now, exp: now + expiresIn,
      aio: b64url(crypto.randomBytes(24)), appid: clientId, appidacr: '1',
      idp: `https://sts.windows.net/${tenant}/`, idtyp: 'app', oid, rh: '0.fake.', sub: oid,
      tid: tenant, uti: b64url(crypto.randomBytes(16)), ver: '1.0', xms_tcdt: now,
    };
    const tok = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${b64url(crypto.randomBytes(256))}`;
    tokens.set(tok, { exp: payload.exp, aud, client_id: clientId, tenant, expired: false, issued_at: now });
    if (tokens.size > MAX_TOKENS) tokens.delete(tokens.keys().next().value);
    return tok;
  }

  // ---- client assertions (certificate and federated credentials) ----------------

  function parseJwt(tok) {
    const parts = String(tok).split('.');
    if (parts.length !== 3 || parts.some((x) => !/^[\w-]*$/.test(x))) return null;
    try {
      return {
        header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
        payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
        input: `${parts[0]}.${parts[1]}`,
        sig: Buffer.from(parts[2], 'base64url'),
      };
    } catch { return null; }
  }

  function rs256Ok(jwt, key) {
    if (jwt.header.alg !== 'RS256') return false;
    try { return crypto.verify('sha256', Buffer.from(jwt.input), key, jwt.sig); } catch { return false; }
  }

  // exp/nbf with Entra's 5 minutes of clock skew; an error message or null.
  function timeError(pl) {
    const now = Math.floor(Date.now() / 1000);
    if (!Number.isInteger(pl.exp) || !Number.isInteger(pl.nbf ?? pl.iat ?? 0)) return 'the exp and nbf claims must be numbers';
    if (pl.exp + 300 < now) return `Client assertion is not within its valid time range. Current time: ${isoNoMs()}, expiry time of assertion ${isoNoMs(new Date(pl.exp * 1000))}.`;
    if (pl.nbf !== undefined && pl.nbf - 300 > now) return `Client assertion is not within its valid time range. Current time: ${isoNoMs()}, assertion valid from ${isoNoMs(new Date(pl.nbf * 1000))}.`;
    return null;
  }

  // The certificate kind: iss = sub = client id, signed for a registered
  // certificate named by x5t#S256, aud = this token endpoint. Returns
  // [status, error, aadsts, description] or null when the assertion holds.
  function checkCertAssertion(ctx, tenant, clientId, jwt) {
    const pl = jwt.payload;
    if (pl.sub !== pl.iss) return [401, 'invalid_client', 700021, "Client assertion is invalid: its 'sub' claim must equal its 'iss' claim (the client id)."];
    const x5t = jwt.header['x5t#S256'];
    if (typeof x5t !== 'string') return [401, 'invalid_client', 700027, "Client assertion contains an invalid signature. [Reason - The key was not found., The 'x5t#S256' header is missing.]"];
    const reg = config.client_certs.map(certEntry).find((c) => c.thumbprint === x5t);
    if (!reg) return [401, 'invalid_client', 700027, `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${x5t}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`];
    if (!rs256Ok(jwt, new crypto.X509Certificate(reg.pem).publicKey)) return [401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${x5t}']`];
    const want = `${baseUrl(ctx.req)}/${tenant}/oauth2/v2.0/token`;
    const auds = Array.isArray(pl.aud) ? pl.aud : [pl.aud];
    if (!auds.some((a) => typeof a === 'string' && a.replace(/\/+$/, '').toLowerCase() === want.toLowerCase())) {
      return [401, 'invalid_client', 700212, `The audience claim in the client assertion '${pl.aud}' does not match the token endpoint '${want}'.`];
    }
    const te = timeError(pl);
    if (te) return [401, 'invalid_client', 700024, te];
    return null;
  }

  let jwksCache = { url: null, keys: [] };
  async function jwksKey(kid) {
    const url = config.federated_jwks_url;
    const find = () => jwksCache.keys.find((k) => k.kid === kid && (k.kty === 'RSA'));
    if (jwksCache.url === url && find()) return find();
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`JWKS ${url} answered ${res.status}`);
    const j = await res.json();
    jwksCache = { url, keys: Array.isArray(j.keys) ? j.keys : [] };
    return find();
  }

  // The federated kind: a token of the external identity provider (its
  // JWKS at federated_jwks_url) with aud api://AzureADTokenExchange.
  async function checkFederatedAssertion(jwt) {
    const pl = jwt.payload;
    if (!config.federated_jwks_url) return [400, 'invalid_client', 700211, `No matching federated identity record found for presented assertion issuer '${pl.iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`];
    if (config.federated_issuer && pl.iss !== config.federated_issuer) return [400, 'invalid_client', 700211, `No matching federated identity record found for presented assertion issuer '${pl.iss}'.`];
    let key;
    try { key = await jwksKey(jwt.header.kid); } catch (e) {
      return [401, 'invalid_client', 50166, `Request to External OIDC endpoint failed. (${e.message})`];
    }
    if (!key || !rs256Ok(jwt, crypto.createPublicKey({ key, format: 'jwk' }))) {
      return [401, 'invalid_client', 50013, `Assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '${jwt.header.kid}']`];
    }
    const auds = Array.isArray(pl.aud) ? pl.aud : [pl.aud];
    if (!auds.includes(FEDERATED_AUDIENCE)) return [400, 'invalid_client', 700212, `No matching federated identity record found for presented assertion audience '${pl.aud}'. Please note that the matching is done using a case-sensitive comparison. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`];
    if (config.federated_subject && pl.sub !== config.federated_subject) return [400, 'invalid_client', 700213, `No matching federated identity record found for presented assertion subject '${pl.sub}'. Please note that the matching is done using a case-sensitive comparison. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`];
    const te = timeError(pl);
    if (te) return [400, 'invalid_client', 700024, te];
    return null;
  }

  async function handleToken(ctx, tenant, raw) {
    const ct = ctx.req.headers['content-type'] || '';
    if (!/^application\/x-www-form-urlencoded/i.test(ct)) {
      return sendEntraError(ctx, 400, 'invalid_request', 900144,
        "The request body must contain the following parameter: 'grant_type'.");
    }
    const p = new URLSearchParams(raw.toString('utf8'));
    let clientId = p.get('client_id');
    let secret = p.get('client_secret');
    // client_secret_basic is also accepted by Entra.
    const basic = /^Basic\s+(\S+)$/i.exec(ctx.req.headers.authorization || '');
    if (basic) {
      const dec = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = dec.indexOf(':');
      if (i > 0) { clientId = clientId || decodeURIComponent(dec.slice(0, i)); secret = secret || decodeURIComponent(dec.slice(i + 1)); }
    }
    if (config.tenant_id && tenant.toLowerCase() !== config.tenant_id.toLowerCase()) {
      return sendEntraError(ctx, 400, 'invalid_tenant', 90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const grant = p.get('grant_type');
    if (!grant) return sendEntraError(ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (grant !== 'client_credentials') {
      return sendEntraError(ctx, 400, 'unsupported_grant_type', 70003,
        `The app requested an unsupported grant type '${grant}'.`);
    }
    if (!clientId) return sendEntraError(ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    if (config.client_id && clientId.toLowerCase() !== config.client_id.toLowerCase()) {
      return sendEntraError(ctx, 400, 'unauthorized_client', 700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
    }
    const scope = p.get('scope');
    if (!scope) return sendEntraError(ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
    if (!/^\S+\/\.default$/.test(scope.trim())) {
      return sendEntraError(ctx, 400, 'invalid_scope', 1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    const assertion = p.get('client_assertion');
    if (assertion !== null && secret) {
      return sendEntraError(ctx, 400, 'invalid_request', 90023,
        'Only one client credential may be presented: client_secret or client_assertion.');
    }
    if (assertion !== null) {
      const at = p.get('client_assertion_type');
      if (at !== JWT_BEARER) {
        return sendEntraError(ctx, 400, 'invalid_request', 90014,
          `The required field 'client_assertion_type' is missing or invalid: it must be '${JWT_BEARER}'.`);
      }
      const jwt = parseJwt(assertion);
      if (!jwt) return sendEntraError(ctx, 400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
      // Entra tells the kinds by the issuer: the app itself for a
      // certificate, an external identity provider for a federated token.
      const kind = jwt.payload.iss === clientId ? 'certificate' : 'federated';
      ctx.entry.assertion_kind = kind;
      const bad = kind === 'certificate' ? checkCertAssertion(ctx, tenant, clientId, jwt) : await checkFederatedAssertion(jwt);
      if (bad) return sendEntraError(ctx, ...bad);
    } else if (!secret) {
      return sendEntraError(ctx, 401, 'invalid_client', 7000216,
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
    } else if (secret !== config.client_secret) {
      return sendEntraError(ctx, 401, 'invalid_client', 7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
    }
    const expiresIn = config.token_expires_in;
    const access = mintToken({ tenant, clientId, scope: scope.trim(), expiresIn });
    counters.tokens_issued++;
    ctx.entry.token_issued = true;
    finish(ctx, 200, {
      'Cache-Control': 'no-store, no-cache', 'Pragma': 'no-cache',
      'x-ms-request-id': uuid(), 'client-request-id': ctx.clientRequestId || ctx.correlationId,
    }, JSON.stringify({ token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: access }));
  }

  // ---- ARM resources -----------------------------------------------------------

  function rgKey(sub, name) { return `${sub.toLowerCase()}/${name.toLowerCase()}`; }
  function rgId(rg) { return `/subscriptions/${rg.sub}/resourceGroups/${rg.name}`; }
  function rgView(rg) {
    const v = { id: rgId(rg), name: rg.name, type: 'Microsoft.Resources/resourceGroups', location: rg.location };
    if (rg.managedBy) v.managedBy = rg.managedBy;
    if (rg.tags) v.tags = rg.tags;
    v.properties = { provisioningState: rg.provisioningState };
    return v;
  }

  function requireRg(sub, name) {
    const rg = rgs.get(rgKey(sub, name));
    if (!rg) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
    return rg;
  }

  function parseJsonBody(ctx, raw, { required = false } = {}) {
    if (!raw || raw.length === 0) {
      if (required) throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized: \'The request body is empty.\'.');
      return {};
    }
    const ct = ctx.req.headers['content-type'];
    if (!ct || !/^application\/json\b/i.test(ct.trim())) {
      throw new ArmError(415, 'UnsupportedMediaType', `The content media type '${ct || ''}' is not supported. Only 'application/json' is supported.`);
    }
    let v;
    try { v = JSON.parse(raw.toString('utf8')); } catch (e) {
      throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${e.message}'.`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new ArmError(400, 'InvalidRequestContent', "The request content was invalid and could not be deserialized: 'Expected a JSON object.'.");
    }
    return v;
  }

  function validateTags(tags) {
    if (tags === undefined || tags === null) return null;
    if (typeof tags !== 'object' || Array.isArray(tags)) {
      throw new ArmError(400, 'InvalidRequestContent', "The request content was invalid and could not be deserialized: 'tags must be an object of strings.'.");
    }
    const bad = [];
    for (const [k, v] of Object.entries(tags)) {
      if (typeof v !== 'string') throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: 'tag '${k}' must have a string value.'.`);
      if (TAG_NAME_RESERVED.test(k)) bad.push(k);
    }
    if (bad.length) {
      throw new ArmError(400, 'InvalidTagNameCharacters', `The tag names '${bad.join(',')}' have reserved characters '<,>,%,&,\\,?,/' or control characters.`);
    }
    return { ...tags };
  }

  function validateRgName(name) {
    if (name.length < 1 || name.length > 90 || !RG_NAME_RE.test(name) || name.endsWith('.')) {
      throw new ArmError(400, 'InvalidResourceGroup',
        `The provided resource group name '${name}' has these invalid characters or length. Resource group names only allow up to 90 characters and can only include alphanumeric, underscore, parentheses, hyphen, period (except at end), and Unicode characters that match the allowed characters.`);
    }
  }

  function newOp(kind, pattern, sub, rg, needed, ctx) {
    const id = b64url(JSON.stringify({
      jobId: `${kind === 'rg-delete' ? 'RESOURCEGROUPDELETIONJOB' : 'RESOURCEGROUPPROVISIONINGJOB'}-${rg.name.toUpperCase()}-${rg.location.toUpperCase()}`,
      jobLocation: rg.location, n: crypto.randomBytes(6).toString('hex'),
    }));
    const op = {
      id, kind, pattern, sub, rgKey: rgKey(sub, rg.name), rgName: rg.name,
      status: 'InProgress', polls: 0, needed, startTime: new Date().toISOString(), endTime: null,
      fault: null, error: null, apiVersion: ctx.apiVersion,
    };
    op.fault = takeAsyncFault(ctx.req.method, ctx.url.pathname, ctx.kind);
    if (op.fault) ctx.entry.fault = op.fault.id;
    ops.set(id, op);
    return op;
  }

  function opUrl(ctx, op) {
    const b = baseUrl(ctx.req);
    const q = `api-version=${encodeURIComponent(op.apiVersion)}`;
    if (op.pattern === 'location') return `${b}/subscriptions/${op.sub}/operationresults/${op.id}?${q}`;
    return `${b}/subscriptions/${op.sub}/providers/Microsoft.Resources/operationStatuses/${op.id}?${q}`;
  }

  function completeOp(op) {
    if (op.kind === 'mns-put' || op.kind === 'mns-delete') return completeMnsOp(op);
    const rg = rgs.get(op.rgKey);
    let result = 'Succeeded';
    if (op.fault && op.fault.async_result) result = op.fault.async_result;
    op.status = result; op.endTime = new Date().toISOString();
    if (result !== 'Succeeded') {
      const f = op.fault;
      const defCode = result === 'Canceled' ? 'OperationCanceled'
        : (op.kind === 'rg-delete' ? 'ResourceGroupDeletionBlocked' : 'ResourceGroupProvisioningFailed');
      const defMsg = result === 'Canceled' ? 'The operation was canceled.'
        : (op.kind === 'rg-delete'
          ? `Deletion of resource group '${op.rgName}' failed as resources with identifiers could not be deleted. The provisioning state of the resource group will be rolled back. The tracking Id is '${uuid()}'. Please check audit logs for more details.`
          : `Provisioning of resource group '${op.rgName}' failed.`);
      op.error = { code: f?.code ?? defCode, message: f?.message ?? defMsg };
      op.errorStatus = f?.async_status ?? 409;
    }
    if (op.kind === 'rg-delete') {
      if (result === 'Succeeded') {
        if (rg) removeRg(op.rgKey);
      } else if (rg) {
        rg.provisioningState = 'Succeeded';
        rg.deleteOp = null;
      }
    } else if (op.kind === 'rg-put' && rg && rg.putOp === op.id) {
      rg.provisioningState = result;
      rg.putOp = null;
    }
  }

  function removeRg(key) {
    const rg = rgs.get(key);
    rgs.delete(key);
    if (!rg) return;
    const prefix = rgId(rg).toLowerCase();
    for (const [k, ra] of ras) {
      const s = ra.scope.toLowerCase();
      if (s === prefix || s.startsWith(prefix + '/')) ras.delete(k);
    }
  }

  function advanceOp(ctx, op) {
    if (op.status !== 'InProgress') return;
    if (!op.fault) {
      op.fault = takeAsyncFault(ctx.req.method, ctx.url.pathname, ctx.kind);
      if (op.fault) ctx.entry.fault = op.fault.id;
    }
    op.polls++;
    if (op.polls >= op.needed) completeOp(op);
  }

  function retryAfterHeader() { return { 'Retry-After': String(config.retry_after) }; }

  // PUT/GET/HEAD/PATCH/DELETE /subscriptions/{sub}/resourcegroups/{name}
  function handleRg(ctx, sub, name, raw) {
    const method = ctx.req.method;
    const key = rgKey(sub, name);
    const rg = rgs.get(key);
    if (method === 'HEAD') {
      return finish(ctx, rg ? 204 : 404, armHeaders(ctx), null);
    }
    if (method === 'GET') {
      if (!rg) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
      return sendJson(ctx, 200, rgView(rg));
    }
    if (method === 'PUT') {
      validateRgName(name);
      const body = parseJsonBody(ctx, raw);
      if (body.location === undefined || body.location === null || body.location === '') {
        throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
      }
      if (typeof body.location !== 'string') {
        throw new ArmError(400, 'InvalidRequestContent', "The request content was invalid and could not be deserialized: 'location must be a string.'.");
      }
      const loc = normLocation(body.location);
      if (config.locations !== '*' && !config.locations.includes(loc)) {
        throw new ArmError(400, 'LocationNotAvailableForResourceGroup',
          `The provided location '${body.location}' is not available for resource group. List of available regions is '${config.locations.join(',')}'.`);
      }
      const tags = validateTags(body.tags);
      if (rg) {
        if (rg.provisioningState === 'Deleting') {
          throw new ArmError(409, 'ResourceGroupBeingDeleted', `The resource group '${rg.name}' is in deprovisioning state and cannot perform this operation.`);
        }
        if (rg.location !== loc) {
          throw new ArmError(409, 'InvalidResourceGroupLocation',
            `Invalid resource group location '${body.location}'. The Resource group already exists in location '${rg.location}'.`);
        }
        rg.tags = tags;
        if (body.managedBy !== undefined) rg.managedBy = body.managedBy;
        if (rg.putOp && ops.get(rg.putOp)?.status === 'InProgress') {
          const op = ops.get(rg.putOp);
          return sendJson(ctx, 200, rgView(rg), { 'Azure-AsyncOperation': opUrl(ctx, op), ...retryAfterHeader() });
        }
        if (config.async_put) {
          rg.provisioningState = 'Accepted';
          const op = newOp('rg-put', 'async', rg.sub, rg, config.put_polls, ctx);
          rg.putOp = op.id;
          return sendJson(ctx, 200, rgView(rg), { 'Azure-AsyncOperation': opUrl(ctx, op), ...retryAfterHeader() });
        }
        rg.provisioningState = 'Succeeded';
        return sendJson(ctx, 200, rgView(rg));
      }
      const created = {
        sub, name, location: loc, tags, managedBy: body.managedBy ?? null,
        provisioningState: 'Succeeded', createdAt: new Date().toISOString(), putOp: null, deleteOp: null,
      };
      rgs.set(key, created);
      if (config.async_put) {
        created.provisioningState = 'Accepted';
        const op = newOp('rg-put', 'async', sub, created, config.put_polls, ctx);
        created.putOp = op.id;
        return sendJson(ctx, 201, rgView(created), { 'Azure-AsyncOperation': opUrl(ctx, op), ...retryAfterHeader() });
      }
      return sendJson(ctx, 201, rgView(created));
    }
    if (method === 'PATCH') {
      if (!rg) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
      if (rg.provisioningState === 'Deleting') {
        throw new ArmError(409, 'ResourceGroupBeingDeleted', `The resource group '${rg.name}' is in deprovisioning state and cannot perform this operation.`);
      }
      const body = parseJsonBody(ctx, raw);
      if (body.tags !== undefined) rg.tags = validateTags(body.tags);
      if (body.managedBy !== undefined) rg.managedBy = body.managedBy;
      return sendJson(ctx, 200, rgView(rg));
    }
    if (method === 'DELETE') {
      if (!rg) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
      let op = rg.deleteOp ? ops.get(rg.deleteOp) : null;
      if (!op || op.status !== 'InProgress') {
        if (rg.putOp) {
          const pop = ops.get(rg.putOp);
          if (pop && pop.status === 'InProgress') {
            pop.status = 'Canceled'; pop.endTime = new Date().toISOString();
            pop.error = { code: 'OperationCanceled', message: `The operation was canceled because resource group '${rg.name}' is being deleted.` };
          }
          rg.putOp = null;
        }
        rg.provisioningState = 'Deleting';
        op = newOp('rg-delete', 'location', rg.sub, rg, config.delete_polls, ctx);
        rg.deleteOp = op.id;
      }
      return finish(ctx, 202, { ...armHeaders(ctx), Location: opUrl(ctx, op), ...retryAfterHeader() }, null);
    }
    throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
  }

  // GET /subscriptions/{sub}/operationresults/{opid}   (Location pattern)
  function handleOperationResult(ctx, sub, opid) {
    if (ctx.req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.req.method}'.`);
    const op = ops.get(opid);
    if (!op || op.pattern !== 'location' || op.sub.toLowerCase() !== sub.toLowerCase()) {
      throw new ArmError(404, 'OperationNotFound', `The operation '${opid}' could not be found.`);
    }
    advanceOp(ctx, op);
    ctx.entry.operation = { id: op.id, status: op.status, polls: op.polls };
    if (op.status === 'InProgress') {
      return finish(ctx, 202, { ...armHeaders(ctx), Location: opUrl(ctx, op), ...retryAfterHeader() }, null);
    }
    if (op.status === 'Succeeded') return finish(ctx, 200, armHeaders(ctx), null);
    return sendArmError(ctx, op.errorStatus ?? 409, op.error.code, op.error.message);
  }

  // GET /subscriptions/{sub}/providers/Microsoft.Resources/operationStatuses/{opid}  (Azure-AsyncOperation)
  function handleOperationStatus(ctx, sub, opid) {
    if (ctx.req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.req.method}'.`);
    const op = ops.get(opid);
    if (!op || op.pattern !== 'async' || op.sub.toLowerCase() !== sub.toLowerCase()) {
      throw new ArmError(404, 'OperationNotFound', `The operation '${opid}' could not be found.`);
    }
    advanceOp(ctx, op);
    ctx.entry.operation = { id: op.id, status: op.status, polls: op.polls };
    const body = {
      id: `/subscriptions/${op.sub}/providers/Microsoft.Resources/operationStatuses/${op.id}`,
      name: op.id, status: op.status, startTime: op.startTime,
    };
    if (op.endTime) body.endTime = op.endTime;
    if (op.status === 'InProgress') {
      body.percentComplete = op.needed > 0 ? Math.min(99, Math.round((op.polls / op.needed) * 100)) : 0;
      return sendJson(ctx, 200, body, retryAfterHeader());
    }
    if (op.error) body.error = op.error;
    return sendJson(ctx, 200, body);
  }

  // ---- role assignments ------------------------------------------------------------

  function normScope(segs, { forWrite = false } = {}) {
    // segs: decoded path segments of the scope, starting with 'subscriptions'.
    if (segs.length < 2 || segs[0].toLowerCase() !== 'subscriptions') {
      throw new ArmError(400, 'InvalidRoleAssignmentScope', `The scope '/${segs.join('/')}' is not supported by fake-arm; use a subscription, resource group or resource scope.`);
    }
    const sub = segs[1];
    const out = ['subscriptions', sub];
    let rg = null;
    if (segs.length >= 3) {
      if (segs[2].toLowerCase() !== 'resourcegroups' || segs.length < 4) {
        throw new ArmError(400, 'InvalidRoleAssignmentScope', `The scope '/${segs.join('/')}' is not valid.`);
      }
      // A managed namespace's scope: the namespace must exist (the
      // cluster's own resource group is not modelled).
      const ml = segs.map((x) => x.toLowerCase());
      if (segs.length === 10 && ml[4] === 'providers' && ml[5] === 'microsoft.containerservice'
          && ml[6] === 'managedclusters' && ml[8] === 'managednamespaces') {
        const m = mns.get(mnsKey(segs.slice(0, 8), segs[9]));
        if (!m) throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.ContainerService/managedClusters/${segs[7]}/managedNamespaces/${segs[9]}' under resource group '${segs[3]}' was not found.`);
        if (forWrite && m.provisioningState === 'Deleting') {
          throw new ArmError(409, 'AnotherOperationInProgress', `Another operation is in progress on managed namespace '${m.name}'.`);
        }
        return { scope: mnsId(m), sub, rg: null };
      }
      rg = requireRg(sub, segs[3]);
      if (forWrite && rg.provisioningState === 'Deleting') {
        throw new ArmError(409, 'ResourceGroupBeingDeleted', `The resource group '${rg.name}' is in deprovisioning state and cannot perform this operation.`);
      }
      out.push('resourceGroups', rg.name, ...segs.slice(4));
    }
    return { scope: '/' + out.join('/'), sub, rg };
  }

  function raView(ra) {
    return {
      properties: {
        roleDefinitionId: ra.roleDefinitionId,
        principalId: ra.principalId,
        principalType: ra.principalType,
        scope: ra.scope,
        condition: ra.condition ?? null,
        conditionVersion: ra.conditionVersion ?? null,
        createdOn: ra.createdOn,
        updatedOn: ra.updatedOn,
        createdBy: ra.createdBy,
        updatedBy: ra.updatedBy,
        delegatedManagedIdentityResourceId: null,
        description: ra.description ?? null,
      },
      id: `${ra.scope}/providers/Microsoft.Authorization/roleAssignments/${ra.name}`,
      type: 'Microsoft.Authorization/roleAssignments',
      name: ra.name,
    };
  }

  function handleRoleAssignment(ctx, scopeSegs, name, raw, jwt) {
    const method = ctx.req.method;
    if (name === null) {
      if (method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
      const { scope } = normScope(scopeSegs);
      const s = scope.toLowerCase();
      const filter = ctx.url.searchParams.get('$filter') || '';
      const pm = /principalId\s+eq\s+'([^']+)'/i.exec(filter);
      const value = [...ras.values()].filter((ra) => {
        const r = ra.scope.toLowerCase();
        const related = r === s || r.startsWith(s + '/') || s.startsWith(r + '/');
        return related && (!pm || ra.principalId.toLowerCase() === pm[1].toLowerCase());
      }).map(raView);
      return sendJson(ctx, 200, { value });
    }
    if (method === 'GET') {
      const { scope } = normScope(scopeSegs);
      const ra = ras.get(name.toLowerCase());
      if (!ra || ra.scope.toLowerCase() !== scope.toLowerCase()) {
        throw new ArmError(404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
      }
      return sendJson(ctx, 200, raView(ra));
    }
    if (method === 'DELETE') {
      const segs0 = scopeSegs;
      // Deleting under a missing resource group: nothing there to delete.
      let scope;
      try { ({ scope } = normScope(segs0)); } catch (e) {
        if (e instanceof ArmError && e.code === 'ResourceGroupNotFound') return finish(ctx, 204, armHeaders(ctx), null);
        throw e;
      }
      const ra = ras.get(name.toLowerCase());
      if (!ra || ra.scope.toLowerCase() !== scope.toLowerCase()) return finish(ctx, 204, armHeaders(ctx), null);
      ras.delete(name.toLowerCase());
      return sendJson(ctx, 200, raView(ra));
    }
    if (method !== 'PUT') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);

    if (!GUID_RE.test(name)) {
      throw new ArmError(400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
    }
    const { scope, sub } = normScope(scopeSegs, { forWrite: true });
    const body = parseJsonBody(ctx, raw, { required: true });
    const p = body.properties;
    if (!p || typeof p !== 'object' || Array.isArray(p)) {
      throw new ArmError(400, 'InvalidRequestContent', "The request content was invalid and could not be deserialized: 'Required property 'properties' not found in JSON.'.");
    }
    if (typeof p.roleDefinitionId !== 'string' || !p.roleDefinitionId) {
      throw new ArmError(400, 'InvalidRequestContent', "The request content was invalid and could not be deserialized: 'Required property 'roleDefinitionId' not found in JSON.'.");
    }
    const rd = ROLE_DEF_RE.exec(p.roleDefinitionId);
    if (!rd) {
      throw new ArmError(400, 'InvalidRoleDefinitionId', `The role definition ID '${p.roleDefinitionId}' is not valid.`);
    }
    if (rd[1] && rd[1].split('/')[2].toLowerCase() !== sub.toLowerCase()) {
      throw new ArmError(400, 'InvalidRoleDefinitionId', `The role definition ID '${p.roleDefinitionId}' is not valid: it belongs to another subscription.`);
    }
    if (typeof p.principalId !== 'string' || !GUID_RE.test(p.principalId)) {
      throw new ArmError(400, 'InvalidPrincipalId', 'A valid principal ID must be provided for role assignment.');
    }
    if (p.principalType !== undefined && p.principalType !== null && !PRINCIPAL_TYPES.includes(p.principalType)) {
      throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: 'Requested value '${p.principalType}' was not found.'.`);
    }
    const roleGuid = rd[2].toLowerCase();
    const principal = p.principalId.toLowerCase();
    const roleDefinitionId = `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
    const existing = ras.get(name.toLowerCase());
    const now = new Date().toISOString();
    const caller = jwt?.payload?.oid || jwt?.payload?.sub || deterministicGuid('anonymous');
    if (existing) {
      const same = existing.scope.toLowerCase() === scope.toLowerCase()
        && existing.principalId.toLowerCase() === principal
        && existing.roleGuid === roleGuid;
      if (!same) {
        throw new ArmError(400, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
      }
      if (p.description !== undefined) existing.description = p.description;
      if (p.condition !== undefined) { existing.condition = p.condition; existing.conditionVersion = p.conditionVersion ?? existing.conditionVersion; }
      existing.updatedOn = now; existing.updatedBy = caller;
      return sendJson(ctx, config.ra_repeat_status, raView(existing));
    }
    for (const ra of ras.values()) {
      if (ra.scope.toLowerCase() === scope.toLowerCase() && ra.principalId.toLowerCase() === principal && ra.roleGuid === roleGuid) {
        throw new ArmError(409, 'RoleAssignmentExists',
          `The role assignment already exists. The ID of the existing role assignment is ${ra.name.replace(/-/g, '')}.`);
      }
    }
    const ra = {
      name: name.toLowerCase(), scope, roleGuid, roleDefinitionId,
      principalId: principal, principalType: p.principalType || 'User',
      description: p.description ?? null, condition: p.condition ?? null, conditionVersion: p.conditionVersion ?? null,
      createdOn: now, updatedOn: now, createdBy: caller, updatedBy: caller,
    };
    ras.set(ra.name, ra);
    return sendJson(ctx, 201, raView(ra));
  }


  // ---- AKS: managed clusters (implicit) and managed namespaces -----------------
  // Microsoft.ContainerService/managedClusters/{c}/managedNamespaces/{n}
  // (api-version 2025-09-01): PUT is create-or-update through
  // Azure-AsyncOperation; DELETE answers 202 with Location; adoptionPolicy
  // Never refuses a Kubernetes namespace of that name that ARM does not
  // manage (POST /_fake/k8s-namespaces makes one; kube-system, kube-public,
  // kube-node-lease and default always exist); deletePolicy Keep leaves the
  // Kubernetes namespace behind, unmanaged.

  const POLICY_RULES = ['AllowAll', 'AllowSameNamespace', 'DenyAll'];
  const ADOPTION = ['Never', 'IfIdentical', 'Always'];
  const DELETE_POLICIES = ['Keep', 'Delete'];
  const SYSTEM_NS = ['kube-system', 'kube-public', 'kube-node-lease', 'default'];
  const K8S_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const QUANTITY_RE = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
  const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
  const LABEL_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
  const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

  function clusterId(segs) {
    return `/subscriptions/${segs[1]}/resourceGroups/${segs[3]}/providers/Microsoft.ContainerService/managedClusters/${segs[7]}`;
  }
  function mnsKey(clusterSegs, name) { return `${clusterId(clusterSegs)}/managedNamespaces/${name}`.toLowerCase(); }
  function mnsId(m) { return `${m.cluster}/managedNamespaces/${m.name}`; }
  function mnsView(m) {
    const p = {
      provisioningState: m.provisioningState,
      labels: m.labels, annotations: m.annotations,
      defaultResourceQuota: m.defaultResourceQuota, defaultNetworkPolicy: m.defaultNetworkPolicy,
      adoptionPolicy: m.adoptionPolicy, deletePolicy: m.deletePolicy,
    };
    const v = { id: mnsId(m), name: m.name, type: 'Microsoft.ContainerService/managedClusters/managedNamespaces', location: m.location, properties: p };
    if (m.tags) v.tags = m.tags;
    return v;
  }
  function k8sKey(cluster, name) { return `${cluster.toLowerCase()}|${name}`; }
  function k8sExists(cluster, name) { return SYSTEM_NS.includes(name) || k8sNs.has(k8sKey(cluster, name)); }

  function badContent(msg) {
    return new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${msg}'.`);
  }
  function stringMap(v, what, checkKey, checkValue) {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw badContent(`${what} must be an object of strings.`);
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') throw badContent(`${what} '${k}' must have a string value.`);
      if (checkKey && !checkKey(k)) throw new ArmError(400, 'InvalidParameter', `The ${what} key '${k}' is not a valid Kubernetes ${what} key.`);
      if (checkValue && !checkValue(x)) throw new ArmError(400, 'InvalidParameter', `The ${what} value '${x}' of '${k}' is not a valid Kubernetes ${what} value.`);
    }
    return { ...v };
  }
  function k8sKeyOk(k) {
    const i = k.indexOf('/');
    const prefix = i >= 0 ? k.slice(0, i) : null;
    const name = i >= 0 ? k.slice(i + 1) : k;
    if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix))) return false;
    return name.length <= 63 && LABEL_NAME_RE.test(name);
  }

  function validateMnsProps(p) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw badContent("Required property 'properties' not found in JSON.");
    const out = {};
    out.labels = stringMap(p.labels, 'label', k8sKeyOk, (x) => x.length <= 63 && LABEL_VALUE_RE.test(x));
    out.annotations = stringMap(p.annotations, 'annotation', k8sKeyOk, null);
    const q = p.defaultResourceQuota ?? {};
    if (typeof q !== 'object' || Array.isArray(q)) throw badContent('defaultResourceQuota must be an object.');
    out.defaultResourceQuota = {};
    for (const [k, x] of Object.entries(q)) {
      if (!['cpuRequest', 'cpuLimit', 'memoryRequest', 'memoryLimit'].includes(k)) throw badContent(`Could not find member '${k}' on object of type 'ResourceQuota'.`);
      if (typeof x !== 'string' || !QUANTITY_RE.test(x)) throw new ArmError(400, 'InvalidParameter', `The value '${x}' of defaultResourceQuota.${k} is not a valid Kubernetes quantity.`);
      out.defaultResourceQuota[k] = x;
    }
    const np = p.defaultNetworkPolicy ?? {};
    if (typeof np !== 'object' || Array.isArray(np)) throw badContent('defaultNetworkPolicy must be an object.');
    out.defaultNetworkPolicy = {};
    for (const [k, x] of Object.entries(np)) {
      if (!['ingress', 'egress'].includes(k)) throw badContent(`Could not find member '${k}' on object of type 'NetworkPolicies'.`);
      if (!POLICY_RULES.includes(x)) throw new ArmError(400, 'InvalidParameter', `The value '${x}' of defaultNetworkPolicy.${k} is not one of ${POLICY_RULES.join(', ')}.`);
      out.defaultNetworkPolicy[k] = x;
    }
    out.adoptionPolicy = p.adoptionPolicy ?? 'Never';
    if (!ADOPTION.includes(out.adoptionPolicy)) throw new ArmError(400, 'InvalidParameter', `The value '${out.adoptionPolicy}' of adoptionPolicy is not one of ${ADOPTION.join(', ')}.`);
    out.deletePolicy = p.deletePolicy ?? 'Keep';
    if (!DELETE_POLICIES.includes(out.deletePolicy)) throw new ArmError(400, 'InvalidParameter', `The value '${out.deletePolicy}' of deletePolicy is not one of ${DELETE_POLICIES.join(', ')}.`);
    return out;
  }

  function newMnsOp(kind, pattern, m, needed, ctx) {
    const id = b64url(JSON.stringify({ jobId: `${kind.toUpperCase()}-${m.name.toUpperCase()}`, n: crypto.randomBytes(6).toString('hex') }));
    const op = {
      id, kind, pattern, sub: m.sub, mnsKey: m.key, rgName: m.rg, name: m.name,
      status: 'InProgress', polls: 0, needed, startTime: new Date().toISOString(), endTime: null,
      fault: null, error: null, apiVersion: ctx.apiVersion,
    };
    op.fault = takeAsyncFault(ctx.req.method, ctx.url.pathname, ctx.kind);
    if (op.fault) ctx.entry.fault = op.fault.id;
    ops.set(id, op);
    return op;
  }

  function removeMns(key) {
    const m = mns.get(key);
    mns.delete(key);
    if (!m) return;
    const prefix = mnsId(m).toLowerCase();
    for (const [k, ra] of ras) if (ra.scope.toLowerCase() === prefix) ras.delete(k);
    if (m.deletePolicy === 'Keep') k8sNs.add(k8sKey(m.cluster, m.name));
  }

  function completeMnsOp(op) {
    const m = mns.get(op.mnsKey);
    let result = 'Succeeded';
    if (op.fault && op.fault.async_result) result = op.fault.async_result;
    op.status = result; op.endTime = new Date().toISOString();
    if (result !== 'Succeeded') {
      const f = op.fault;
      const defCode = result === 'Canceled' ? 'OperationCanceled' : (op.kind === 'mns-delete' ? 'DeleteNamespaceFailed' : 'CreateOrUpdateNamespaceFailed');
      op.error = { code: f?.code ?? defCode, message: f?.message ?? `The operation on managed namespace '${op.name}' ${result === 'Canceled' ? 'was canceled' : 'failed'}.` };
      op.errorStatus = f?.async_status ?? 409;
    }
    if (!m) return;
    if (op.kind === 'mns-delete') {
      if (result === 'Succeeded') removeMns(op.mnsKey);
      else { m.provisioningState = 'Succeeded'; m.deleteOp = null; }
    } else if (m.putOp === op.id) {
      m.provisioningState = result;
      m.putOp = null;
    }
  }

  // GET {cluster}
  function handleCluster(ctx, segs) {
    if (ctx.req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.req.method}'.`);
    return sendJson(ctx, 200, {
      id: clusterId(segs), name: segs[7], type: 'Microsoft.ContainerService/ManagedClusters',
      location: config.aks_location,
      properties: { provisioningState: 'Succeeded', aadProfile: { managed: true, enableAzureRBAC: true } },
    });
  }

  // GET/PUT/DELETE {cluster}/managedNamespaces[/{name}]
  function handleMns(ctx, segs, name, raw) {
    const method = ctx.req.method;
    const cluster = clusterId(segs);
    if (name === null) {
      if (method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
      const pre = cluster.toLowerCase() + '/';
      return sendJson(ctx, 200, { value: [...mns.values()].filter((m) => m.key.startsWith(pre)).map(mnsView) });
    }
    const key = mnsKey(segs, name);
    const m = mns.get(key);
    if (method === 'GET') {
      if (!m) throw new ArmError(404, 'NotFound', `The managed namespace '${name}' was not found in managed cluster '${segs[7]}'.`);
      return sendJson(ctx, 200, mnsView(m));
    }
    if (method === 'DELETE') {
      if (!m) return finish(ctx, 204, armHeaders(ctx), null);
      let op = m.deleteOp ? ops.get(m.deleteOp) : null;
      if (!op || op.status !== 'InProgress') {
        const pop = m.putOp ? ops.get(m.putOp) : null;
        if (pop && pop.status === 'InProgress') {
          pop.status = 'Canceled'; pop.endTime = new Date().toISOString();
          pop.error = { code: 'OperationCanceled', message: `The operation was canceled because managed namespace '${m.name}' is being deleted.` };
        }
        m.putOp = null;
        m.provisioningState = 'Deleting';
        op = newMnsOp('mns-delete', 'location', m, config.delete_polls, ctx);
        m.deleteOp = op.id;
      }
      return finish(ctx, 202, { ...armHeaders(ctx), Location: opUrl(ctx, op), ...retryAfterHeader() }, null);
    }
    if (method !== 'PUT') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
    if (name.length > 63 || !K8S_NAME_RE.test(name)) {
      throw new ArmError(400, 'InvalidParameter', `The managed namespace name '${name}' is invalid: it must be a DNS label (at most 63 lower-case letters, digits and hyphens).`);
    }
    const body = parseJsonBody(ctx, raw, { required: true });
    if (typeof body.location !== 'string' || !body.location) throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
    if (normLocation(body.location) !== config.aks_location) {
      throw new ArmError(400, 'InvalidLocation', `The managed namespace's location '${body.location}' differs from its managed cluster's location '${config.aks_location}'.`);
    }
    const props = validateMnsProps(body.properties);
    const tags = validateTags(body.tags);
    if (m && m.provisioningState === 'Deleting') {
      throw new ArmError(409, 'AnotherOperationInProgress', `Another operation is in progress on managed namespace '${m.name}'. Please retry after it completes.`);
    }
    // A PUT while one runs joins it (as for resource groups): the new
    // definition is taken, and the caller follows the running operation.
    // (Operations here finish only by being polled; a client that died
    // while polling leaves its successor this one to follow.)
    const running = m && m.putOp ? ops.get(m.putOp) : null;
    if (running && running.status === 'InProgress') {
      Object.assign(m, props, { tags });
      return sendJson(ctx, 200, mnsView(m), { 'Azure-AsyncOperation': opUrl(ctx, running), ...retryAfterHeader() });
    }
    if (!m && k8sExists(cluster, name)) {
      if (props.adoptionPolicy !== 'Always' || SYSTEM_NS.includes(name)) {
        throw new ArmError(409, 'NamespaceAlreadyExists',
          `A Kubernetes namespace named '${name}' already exists in managed cluster '${segs[7]}' and adoptionPolicy '${props.adoptionPolicy}' does not allow taking it over.`);
      }
      k8sNs.delete(k8sKey(cluster, name));
    }
    const rec = m || { key, sub: segs[1], rg: segs[3], cluster, name, createdAt: new Date().toISOString(), putOp: null, deleteOp: null };
    Object.assign(rec, props, { location: normLocation(body.location), tags, provisioningState: m ? 'Updating' : 'Creating' });
    mns.set(key, rec);
    const op = newMnsOp('mns-put', 'async', rec, config.put_polls, ctx);
    rec.putOp = op.id;
    return sendJson(ctx, m ? 200 : 201, mnsView(rec), { 'Azure-AsyncOperation': opUrl(ctx, op), ...retryAfterHeader() });
  }

  // ---- ARM dispatch ---------------------------------------------------------------

  function rateClass(method) {
    if (method === 'GET' || method === 'HEAD') return 'reads';
    if (method === 'DELETE') return 'deletes';
    return 'writes';
  }

  function handleArm(ctx, segs, raw) {
    counters.arm_requests++;
    const apiVersion = ctx.url.searchParams.get('api-version');
    if (apiVersion === null || apiVersion === '') {
      throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    }
    if (!API_VERSION_RE.test(apiVersion)) {
      throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${apiVersion}' is invalid. The supported versions are '2021-04-01,2022-04-01,2022-09-01'.`);
    }
    ctx.apiVersion = apiVersion;
    const jwt = authenticate(ctx);

    if (segs.length < 2 || segs[0].toLowerCase() !== 'subscriptions') {
      throw new ArmError(404, 'NotFound', `The path '${ctx.url.pathname}' is not served by fake-arm.`);
    }
    const sub = segs[1];
    if (!GUID_RE.test(sub)) {
      throw new ArmError(400, 'InvalidSubscriptionId', `The provided subscription identifier '${sub}' is malformed or invalid.`);
    }
    if (config.subscription_id && sub.toLowerCase() !== config.subscription_id.toLowerCase()) {
      throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
    }

    const cls = rateClass(ctx.req.method);
    const b = buckets[cls];
    if (b) {
      const t = b.take();
      ctx.rateHeader = [`x-ms-ratelimit-remaining-subscription-${cls}`, t.remaining];
      if (!t.ok) {
        const secs = t.wait ?? config.retry_after;
        throw new ArmError(429, 'TooManyRequests',
          `Number of '${cls.replace(/s$/, '')}' requests for subscription '${sub}' exceeded. Please try again after '${secs}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
          { 'Retry-After': String(secs) });
      }
    }

    const lower = segs.map((s) => s.toLowerCase());
    // role assignments: {scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]
    let raIdx = -1;
    for (let i = lower.length - 2; i >= 0; i--) {
      if (lower[i] === 'providers' && lower[i + 1] === 'microsoft.authorization' && lower[i + 2] === 'roleassignments') { raIdx = i; break; }
    }
    if (raIdx >= 0) {
      const rest = segs.slice(raIdx + 3);
      if (rest.length > 1) throw new ArmError(404, 'NotFound', `The path '${ctx.url.pathname}' is not served by fake-arm.`);
      return handleRoleAssignment(ctx, segs.slice(0, raIdx), rest.length ? rest[0] : null, raw, jwt);
    }
    if (lower.length >= 8 && lower[2] === 'resourcegroups' && lower[4] === 'providers'
        && lower[5] === 'microsoft.containerservice' && lower[6] === 'managedclusters') {
      if (lower.length === 8) return handleCluster(ctx, segs);
      if (lower[8] === 'managednamespaces' && lower.length === 9) return handleMns(ctx, segs, null, raw);
      if (lower[8] === 'managednamespaces' && lower.length === 10) return handleMns(ctx, segs, segs[9], raw);
    }
    if (lower.length === 3 && lower[2] === 'resourcegroups') {
      if (ctx.req.method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.req.method}'.`);
      const value = [...rgs.values()].filter((r) => r.sub.toLowerCase() === sub.toLowerCase()).map(rgView);
      return sendJson(ctx, 200, { value });
    }
    if (lower.length === 4 && lower[2] === 'resourcegroups') return handleRg(ctx, sub, segs[3], raw);
    if (lower.length === 4 && lower[2] === 'operationresults') return handleOperationResult(ctx, sub, segs[3]);
    if (lower.length === 6 && lower[2] === 'providers' && lower[3] === 'microsoft.resources' && lower[4] === 'operationstatuses') {
      return handleOperationStatus(ctx, sub, segs[5]);
    }
    throw new ArmError(404, 'NotFound', `The path '${ctx.url.pathname}' is not served by fake-arm.`);
  }

  // ---- control API -----------------------------------------------------------------

  function controlJson(res, status, obj) {
    const text = obj === undefined ? '' : JSON.stringify(obj, null, 2);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(text);
  }

  function stateView() {
    return {
      resource_groups: [...rgs.values()].map((rg) => ({
        subscription: rg.sub, ...rgView(rg), created_at: rg.createdAt,
        pending_operation: rg.deleteOp || rg.putOp || null,
      })),
      role_assignments: [...ras.values()].map(raView),
      managed_namespaces: [...mns.values()].map((m) => ({ ...mnsView(m), pending_operation: m.deleteOp || m.putOp || null })),
      unmanaged_kubernetes_namespaces: [...k8sNs].map((k) => { const i = k.lastIndexOf('|'); return { cluster_id: k.slice(0, i), name: k.slice(i + 1) }; }),
      operations: [...ops.values()].map((op) => ({
        id: op.id, kind: op.kind, pattern: op.pattern, subscription: op.sub, resource_group: op.rgName, managed_namespace: op.kind.startsWith('mns-') ? op.name : undefined,
        status: op.status, polls: op.polls, polls_needed: op.needed, start_time: op.startTime,
        end_time: op.endTime, error: op.error, fault: op.fault ? op.fault.id : null,
      })),
      counters: { ...counters },
      token_requests: counters.token_requests,
      tokens_issued: counters.tokens_issued,
      faults: faults.map(publicFault),
      config: publicConfig(),
    };
  }

  function publicConfig() {
    const { client_secret, client_certs, ...rest } = config;
    return {
      ...rest, client_secret: client_secret ? '<set>' : null,
      client_certs: client_certs.map((pem) => { const c = certEntry(pem); return { thumbprint_s256: c.thumbprint, subject: c.subject }; }),
    };
  }

  function patchConfig(p) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw new Error('config must be an object');
    const next = structuredClone(config);
    const ints = ['retry_after', 'delete_polls', 'put_polls', 'token_expires_in'];
    for (const [k, v] of Object.entries(p)) {
      if (ints.includes(k)) {
        if (!Number.isInteger(v) || v < 0) throw new Error(`${k} must be a non-negative integer`);
        next[k] = v;
      } else if (k === 'async_put' || k === 'strict_tokens' || k === 'quiet') {
        if (typeof v !== 'boolean') throw new Error(`${k} must be a boolean`);
        next[k] = v;
      } else if (k === 'client_secret') {
        if (typeof v !== 'string' || !v) throw new Error('client_secret must be a non-empty string');
        next[k] = v;
      } else if (k === 'client_certs') {
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error('client_certs must be an array of PEM strings');
        next[k] = v.map((pem) => certEntry(pem).pem);
      } else if (['client_id', 'tenant_id', 'subscription_id', 'public_url', 'federated_jwks_url', 'federated_issuer', 'federated_subject'].includes(k)) {
        if (v !== null && typeof v !== 'string') throw new Error(`${k} must be a string or null`);
        next[k] = k === 'public_url' && v ? v.replace(/\/+$/, '') : v;
      } else if (k === 'aks_location') {
        if (typeof v !== 'string' || !v) throw new Error('aks_location must be a non-empty string');
        next[k] = normLocation(v);
      } else if (k === 'ra_repeat_status') {
        if (v !== 200 && v !== 201) throw new Error('ra_repeat_status must be 200 or 201');
        next[k] = v;
      } else if (k === 'locations') {
        if (v !== '*' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) throw new Error('locations must be "*" or an array of strings');
        next[k] = v === '*' ? '*' : v.map(normLocation);
      } else if (k === 'limits') {
        if (!v || typeof v !== 'object') throw new Error('limits must be an object');
        for (const [cls, l] of Object.entries(v)) {
          if (!['reads', 'writes', 'deletes'].includes(cls)) throw new Error(`unknown limit class ${cls}`);
          if (l === null) { delete next.limits[cls]; continue; }
          const bucket = l.bucket ?? next.limits[cls]?.bucket ?? DEFAULT_LIMITS[cls].bucket;
          const refill = l.refill_per_sec ?? next.limits[cls]?.refill_per_sec ?? DEFAULT_LIMITS[cls].refill_per_sec;
          if (!Number.isInteger(bucket) || bucket < 0 || typeof refill !== 'number' || refill < 0) throw new Error(`bad limits.${cls}`);
          next.limits[cls] = { bucket, refill_per_sec: refill };
        }
      } else {
        throw new Error(`unknown config key '${k}'`);
      }
    }
    config = next;
    if (p.limits) resetBuckets();
  }

  function handleControl(req, res, url, raw) {
    const path = url.pathname.replace(/\/+$/, '');
    const m = req.method;
    let body = null;
    const parse = () => {
      if (!raw || raw.length === 0) return {};
      return JSON.parse(raw.toString('utf8'));
    };
    try {
      if (path === '/_fake/health' && m === 'GET') return controlJson(res, 200, { ok: true });
      if (path === '/_fake/reset' && m === 'POST') { resetAll(); return controlJson(res, 200, { ok: true }); }
      if (path === '/_fake/faults') {
        if (m === 'GET') return controlJson(res, 200, { faults: faults.map(publicFault) });
        if (m === 'DELETE') { faults = []; windows = []; return controlJson(res, 200, { ok: true }); }
        if (m === 'POST') {
          body = parse();
          const specs = Array.isArray(body) ? body : [body];
          const compiled = specs.map(compileFault);
          faults.push(...compiled);
          const view = compiled.map(publicFault);
          return controlJson(res, 201, Array.isArray(body) ? { faults: view } : view[0]);
        }
      }
      const fm = /^\/_fake\/faults\/([^/]+)$/.exec(path);
      if (fm && m === 'DELETE') {
        const before = faults.length;
        faults = faults.filter((f) => f.id !== fm[1]);
        windows = windows.filter((w) => w.fault !== fm[1]);
        return controlJson(res, before === faults.length ? 404 : 200, { ok: before !== faults.length });
      }
      if (path === '/_fake/requests') {
        if (m === 'DELETE') { log = []; return controlJson(res, 200, { ok: true }); }
        if (m === 'GET') {
          const kind = url.searchParams.get('kind');
          const method = url.searchParams.get('method');
          const since = Number(url.searchParams.get('since') || 0);
          const pre = url.searchParams.get('path_regex');
          const re = pre ? new RegExp(pre, 'i') : null;
          const requests = log.filter((e) => e.seq > since && (!kind || e.kind === kind)
            && (!method || e.method === method.toUpperCase()) && (!re || re.test(e.path)));
          return controlJson(res, 200, { count: requests.length, requests });
        }
      }
      if (path === '/_fake/state' && m === 'GET') return controlJson(res, 200, stateView());
      // A Kubernetes namespace that ARM does not manage: {cluster_id, name}.
      if (path === '/_fake/k8s-namespaces' && m === 'POST') {
        body = parse();
        if (typeof body.cluster_id !== 'string' || typeof body.name !== 'string' || !K8S_NAME_RE.test(body.name)) {
          throw new Error('k8s-namespaces needs {cluster_id, name}');
        }
        k8sNs.add(k8sKey(body.cluster_id, body.name));
        return controlJson(res, 201, { ok: true });
      }
      // Changes behind Atrium's back: PATCH a managed namespace's properties
      // ({id, properties}) or DELETE one ({id}) without ARM's protocol.
      if (path === '/_fake/role-assignments' && m === 'DELETE') {
        body = parse();
        const hit = [...ras.entries()].find(([, ra]) => typeof body.id === 'string' && raView(ra).id.toLowerCase() === body.id.toLowerCase());
        if (!hit) return controlJson(res, 404, { error: 'no such role assignment' });
        ras.delete(hit[0]);
        return controlJson(res, 200, { ok: true });
      }
      if (path === '/_fake/managed-namespaces' && (m === 'PATCH' || m === 'DELETE')) {
        body = parse();
        const rec = typeof body.id === 'string' ? mns.get(body.id.toLowerCase()) : null;
        if (!rec) return controlJson(res, 404, { error: 'no such managed namespace' });
        if (m === 'DELETE') { mns.delete(rec.key); return controlJson(res, 200, { ok: true }); }
        Object.assign(rec, validateMnsProps({ ...mnsView(rec).properties, ...(body.properties || {}) }));
        return controlJson(res, 200, mnsView(rec));
      }
      if (path === '/_fake/config') {
        if (m === 'GET') return controlJson(res, 200, publicConfig());
        if (m === 'POST' || m === 'PATCH') { patchConfig(parse()); return controlJson(res, 200, publicConfig()); }
      }
      if (path === '/_fake/expire-tokens' && m === 'POST') {
        const now = Date.now();
        let n = 0;
        for (const t of tokens.values()) if (!t.expired) { t.expired = true; t.expiredAt = now; n++; }
        return controlJson(res, 200, { expired: n });
      }
      return controlJson(res, 404, { error: `no control route ${m} ${path}` });
    } catch (e) {
      return controlJson(res, 400, { error: e.message });
    }
  }

  // ---- main handler ------------------------------------------------------------------

  const TOKEN_PATH_RE = /^\/([^/]+)\/oauth2\/v2\.0\/token\/?$/i;

  async function onRequest(req, res) {
    const started = Date.now();
    let url;
    try { url = new URL(req.url, 'http://fake-arm.invalid'); } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain', Connection: 'close' }); res.end('bad request target'); return;
    }
    const isControl = url.pathname === '/_fake' || url.pathname.startsWith('/_fake/');
    const tokenMatch = TOKEN_PATH_RE.exec(url.pathname);
    const kind = isControl ? 'control' : (tokenMatch ? 'token' : 'arm');
    const clientRequestId = req.headers['x-ms-client-request-id'] || req.headers['client-request-id'] || null;
    const ctx = {
      req, res, url, kind,
      clientRequestId,
      requestId: clientRequestId || uuid(),
      correlationId: req.headers['x-ms-correlation-request-id'] || uuid(),
      entry: { status: null },
      rateHeader: null,
      closeAfter: false,
    };

    res.on('close', () => {
      const e = ctx.entry;
      if (e.duration_ms === undefined) e.duration_ms = Date.now() - started;
      const status = e.status ?? (res.headersSent ? res.statusCode : '-');
      const extra = [];
      if (e.fault) extra.push(`fault=${e.fault}`);
      if (e.error_code) extra.push(`code=${e.error_code}`);
      if (e.throttle_violation) extra.push('EARLY-RETRY');
      if (e.dropped) extra.push('DROPPED');
      if (e.client_gone || (!res.writableFinished && !e.dropped)) extra.push('client-gone');
      out(`${new Date().toISOString()} ${req.method} ${url.pathname}${url.search} -> ${e.dropped ? 'drop' : status} ${Date.now() - started}ms${extra.length ? ' ' + extra.join(' ') : ''}`);
    });

    let raw;
    try {
      raw = await readBody(req);
    } catch (e) {
      if (e.tooLarge) {
        ctx.entry = logEntry(req, url, kind, `<body larger than ${MAX_BODY} bytes>`);
        ctx.closeAfter = true;
        ctx.entry.error_code = 'RequestEntityTooLarge';
        const text = JSON.stringify({ error: { code: 'RequestEntityTooLarge', message: `The request content size exceeds the maximum allowed size of ${MAX_BODY} bytes.` } });
        finish(ctx, 413, kind === 'arm' ? armHeaders(ctx) : {}, text);
        res.on('finish', () => req.socket.destroy());
        return;
      }
      ctx.entry.error = String(e.message);
      try { req.socket.destroy(); } catch { /* ignore */ }
      return;
    }

    if (isControl) {
      ctx.entry.status = null;
      res.on('finish', () => { ctx.entry.status = res.statusCode; });
      return handleControl(req, res, url, raw);
    }

    ctx.entry = logEntry(req, url, kind, logBody(kind, raw, req.headers['content-type']));
    if (kind === 'token') counters.token_requests++;
    ctx.entry.request_id = ctx.requestId;
    ctx.entry.correlation_id = ctx.correlationId;

    try {
      if (checkWindows(ctx)) return;
      const f = takeImmediateFault(req.method, url.pathname, kind);
      if (f && await applyImmediateFault(ctx, f)) return;
      if (res.destroyed) { ctx.entry.client_gone = true; return; }

      if (kind === 'token') {
        if (req.method !== 'POST') {
          return sendEntraError(ctx, 405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
        }
        return await handleToken(ctx, decodeURIComponent(tokenMatch[1]), raw);
      }
      let segs;
      try {
        segs = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
      } catch {
        throw new ArmError(400, 'InvalidRequestUri', 'The request URI is not valid.');
      }
      return handleArm(ctx, segs, raw);
    } catch (e) {
      if (e instanceof ArmError) return sendArmError(ctx, e.status, e.code, e.message, e.headers);
      ctx.entry.exception = String(e && e.stack || e);
      process.stderr.write(`fake-arm: internal error: ${e && e.stack || e}\n`);
      return sendArmError(ctx, 500, 'InternalServerError', `fake-arm internal error: ${e && e.message}`);
    }
  }

  const server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    onRequest(req, res).catch((e) => {
      process.stderr.write(`fake-arm: unhandled: ${e && e.stack || e}\n`);
      try { if (!res.headersSent) { res.writeHead(500); } res.end(); } catch { /* ignore */ }
    });
  });
  // Refuse oversized bodies before sending "100 Continue".
  server.on('checkContinue', (req, res) => {
    const len = Number(req.headers['content-length'] || 0);
    if (len > MAX_BODY) {
      const text = JSON.stringify({ error: { code: 'RequestEntityTooLarge', message: `The request content size exceeds the maximum allowed size of ${MAX_BODY} bytes.` } });
      res.writeHead(413, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), Connection: 'close' });
      res.end(text);
      out(`${new Date().toISOString()} ${req.method} ${req.url} -> 413 (expect-continue refused)`);
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  function close() {
    return new Promise((resolve) => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  return { server, close, reset: resetAll, get config() { return config; } };
}

// ---------------------------------------------------------------------------

async function main() {
  let cfg;
  try { cfg = configFromEnv(process.env); } catch (e) {
    process.stderr.write(`fake-arm: ${e.message}\n`); process.exit(2);
  }
  const port = process.env.FAKE_ARM_PORT === undefined || process.env.FAKE_ARM_PORT === '' ? 28090 : Number(process.env.FAKE_ARM_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) { process.stderr.write('fake-arm: bad FAKE_ARM_PORT\n'); process.exit(2); }
  const host = process.env.FAKE_ARM_HOST || '127.0.0.1';
  const fake = createFakeArm(cfg);
  fake.server.on('error', (e) => { process.stderr.write(`fake-arm: ${e.message}\n`); process.exit(1); });
  fake.server.listen(port, host, () => {
    const a = fake.server.address();
    process.stdout.write(`fake-arm listening on http://${a.address}:${a.port} (retry_after=${cfg.retry_after}s delete_polls=${cfg.delete_polls} async_put=${cfg.async_put})\n`);
  });
  let stopping = false;
  const stop = (sig) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`fake-arm: ${sig}, shutting down\n`);
    const t = setTimeout(() => process.exit(0), 2000);
    t.unref();
    fake.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
