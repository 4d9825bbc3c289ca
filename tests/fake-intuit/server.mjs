#!/usr/bin/env node
// fake-intuit: a fake Intuit OAuth 2.0 server and QuickBooks Online
// Accounting API for Atrium's QuickBooks connection and fetch tests. Plain
// node:http, no dependencies. See README.md in this directory.
//
// Run:   node tests/fake-intuit/server.mjs        (127.0.0.1:28110)
// Env:   FAKE_INTUIT_PORT, FAKE_INTUIT_HOST, FAKE_INTUIT_CLIENT_ID,
//        FAKE_INTUIT_CLIENT_SECRET, FAKE_INTUIT_QUIET
//
// What it follows (Intuit's documentation):
// - OAuth 2.0 authorization code flow: the authorize endpoint redirects the
//   browser back to redirect_uri with code, state and realmId; the token
//   endpoint takes grant_type=authorization_code or refresh_token, the
//   client authenticated with HTTP Basic, and answers JSON with
//   access_token, refresh_token, token_type, expires_in (3600) and
//   x_refresh_token_expires_in; errors are {"error":"invalid_grant"} etc.
//   https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
//   https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq
//   https://oauth-pythonclient.readthedocs.io/en/latest/user-guide.html (callback params, realm_id)
// - Revoke: POST /v2/oauth2/tokens/revoke, JSON {"token": ...}, Basic auth;
//   revoking a refresh token also revokes its access tokens.
// - Accounting API reads: GET /v3/company/{realmId}/{entity}/{id} answering
//   {"Invoice": {...}, "time": ...}; errors as {"Fault": {"Error": [...],
//   "type": ...}}.
//   https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice
// - Change data capture: GET /v3/company/{realmId}/cdc?entities=&changedSince=
//   → {"CDCResponse": [{"QueryResponse": [{"Invoice": [...]}, ...]}]}, deleted
//   entities as {"Id", "status": "Deleted", "MetaData"}; 30 days look-back,
//   at most 1000 objects.
//   https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture
// - Query: GET /v3/company/{realmId}/query?query=SELECT * FROM Invoice WHERE
//   Metadata.LastUpdatedTime > '…' ORDERBY … STARTPOSITION n MAXRESULTS n
//   → {"QueryResponse": {"Invoice": [...], "startPosition", "maxResults"}}.
//   https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
// - Throttling: 500 requests per minute per realm and at most 10 concurrent
//   requests per realm and app, answered 429.
//   https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles
//   https://developer.intuit.com/hub/blog/2016/08/08/idg-concurrent-api-use-changes-coming-soon
//
// Admin API (tests only, /admin/...): reset, config, faults, entities
// (create/modify/void/delete), revoke a realm's tokens, the request log.

import http from 'node:http';
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';

const MAX_BODY = 1024 * 1024;
const MAX_LOG = 5000;
const ENTITIES = { invoice: 'Invoice', payment: 'Payment', customer: 'Customer' };
const CDC_LOOKBACK_MS = 30 * 24 * 3600 * 1000;

export function createFake(opts = {}) {
  const clientId = opts.clientId ?? process.env.FAKE_INTUIT_CLIENT_ID ?? 'local-quickbooks-client';
  const clientSecret = opts.clientSecret ?? process.env.FAKE_INTUIT_CLIENT_SECRET ?? 'local-quickbooks-secret';
  const quiet = opts.quiet ?? process.env.FAKE_INTUIT_QUIET === '1';
  let st;

  function reset() {
    st = {
      config: {
        access_ttl: 3600,                 // expires_in
        refresh_ttl: 8726400,             // x_refresh_token_expires_in (101 days)
        code_ttl: 300,
        rate_per_minute: 500,
        max_concurrent: 10,
        latency_ms: 0,
      },
      codes: new Map(),      // code -> {redirect_uri, realmId, exp, used}
      access: new Map(),     // token -> {realmId, exp, revoked, refresh}
      refresh: new Map(),    // token -> {realmId, exp, revoked}
      companies: new Map(),  // realmId -> {seq, entities: {Invoice: Map}, calls: [t], inflight}
      faults: [],            // {method, path (substring), status, count, retry_after, error}
      log: [],
    };
  }
  reset();

  const now = () => Date.now();
  const iso = (t = now()) => new Date(t).toISOString();
  const rand = (n = 24) => crypto.randomBytes(n).toString('base64url');

  function company(realmId) {
    let c = st.companies.get(realmId);
    if (!c) {
      c = { seq: 100, entities: { Invoice: new Map(), Payment: new Map(), Customer: new Map() },
            calls: [], inflight: 0 };
      st.companies.set(realmId, c);
    }
    return c;
  }

  function record(req, url, extra = {}) {
    st.log.push({ at: iso(), method: req.method, path: url.pathname, ...extra });
    if (st.log.length > MAX_LOG) st.log.shift();
  }

  function send(res, status, body, headers = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
    res.end(text);
  }

  function fault(res, status, type, code, message, detail, headers = {}) {
    send(res, status, { Fault: { Error: [{ Message: message, Detail: detail ?? message, code }], type },
                        time: iso() }, headers);
  }

  function takeFault(method, path) {
    const f = st.faults.find((x) => (!x.method || x.method === method) && path.includes(x.path ?? ''));
    if (!f) return null;
    if (--f.count <= 0) st.faults.splice(st.faults.indexOf(f), 1);
    return f;
  }

  function answerFault(res, f) {
    const h = f.retry_after !== undefined ? { 'retry-after': String(f.retry_after) } : {};
    if (f.status === 429)
      return fault(res, 429, 'SERVICE', '003001', 'ThrottleExceeded',
                   'Throttle exceeded. Please retry the request after some time.', h);
    if (f.status === 401)
      return fault(res, 401, 'AUTHENTICATION', '3200',
                   'message=AuthenticationFailed; errorCode=003200; statusCode=401', undefined, h);
    if (f.error) return send(res, f.status, { error: f.error }, h);
    return fault(res, f.status, 'SERVICE', String(f.status), 'Service unavailable', undefined, h);
  }

  async function readBody(req) {
    const chunks = [];
    let n = 0;
    for await (const c of req) {
      n += c.length;
      if (n > MAX_BODY) throw new Error('body too large');
      chunks.push(c);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  function basicClient(req) {
    const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return null;
    const dec = Buffer.from(m[1], 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i < 0) return null;
    return { id: dec.slice(0, i), secret: dec.slice(i + 1) };
  }

  function clientOk(req) {
    const c = basicClient(req);
    return c && c.id === clientId && c.secret === clientSecret;
  }

  function issue(realmId) {
    const access = 'fake-at-' + rand();
    const refresh = 'fake-rt-' + rand();
    const t = now();
    st.refresh.set(refresh, { realmId, exp: t + st.config.refresh_ttl * 1000, revoked: false });
    st.access.set(access, { realmId, exp: t + st.config.access_ttl * 1000, revoked: false, refresh });
    return { token_type: 'bearer', access_token: access, refresh_token: refresh,
             expires_in: st.config.access_ttl, x_refresh_token_expires_in: st.config.refresh_ttl };
  }

  // ---- OAuth ---------------------------------------------------------------

  function authorize(req, res, url) {
    const q = url.searchParams;
    const redirect = q.get('redirect_uri');
    if (q.get('client_id') !== clientId || !redirect || q.get('response_type') !== 'code')
      return send(res, 400, { error: 'invalid_request', error_description: 'client_id, redirect_uri and response_type=code are required' });
    let target;
    try { target = new URL(redirect); } catch { return send(res, 400, { error: 'invalid_request', error_description: 'redirect_uri is not a URL' }); }
    const scope = q.get('scope') ?? '';
    if (!scope.split(' ').includes('com.intuit.quickbooks.accounting'))
      return send(res, 400, { error: 'invalid_scope' });
    // The user picks a company on the consent page; tests say which with a
    // header (the "browser" is the test), else a new realm is made.
    // A browser cannot add a header: POST /admin/consent sets the next one.
    const realmId = req.headers['x-fake-intuit-realm'] ?? st.nextRealm ?? String(9130000000000000 + crypto.randomInt(1e9));
    if (!req.headers['x-fake-intuit-realm']) st.nextRealm = undefined;
    if (req.headers['x-fake-intuit-deny'] === '1') {
      target.searchParams.set('error', 'access_denied');
    } else {
      const code = 'fake-code-' + rand(16);
      st.codes.set(code, { redirect_uri: redirect, realmId, exp: now() + st.config.code_ttl * 1000, used: false });
      target.searchParams.set('code', code);
      target.searchParams.set('realmId', realmId);
    }
    if (q.get('state') !== null) target.searchParams.set('state', q.get('state'));
    company(realmId);
    record(req, url, { realmId });
    res.writeHead(302, { location: target.toString() });
    res.end();
  }

  async function token(req, res, url) {
    const body = new URLSearchParams(await readBody(req));
    const grant = body.get('grant_type');
    const f = takeFault('POST', url.pathname);
    record(req, url, { grant_type: grant, fault: f?.status });
    if (f) return answerFault(res, f);
    if (!clientOk(req)) return send(res, 401, { error: 'invalid_client' });
    if (grant === 'authorization_code') {
      const c = st.codes.get(body.get('code') ?? '');
      if (!c || c.used || c.exp < now() || c.redirect_uri !== body.get('redirect_uri'))
        return send(res, 400, { error: 'invalid_grant' });
      c.used = true;
      return send(res, 200, issue(c.realmId));
    }
    if (grant === 'refresh_token') {
      const old = body.get('refresh_token') ?? '';
      const r = st.refresh.get(old);
      if (!r || r.revoked || r.exp < now()) return send(res, 400, { error: 'invalid_grant' });
      // Intuit rotates refresh tokens: the answer's is the one to keep.
      r.revoked = true;
      return send(res, 200, issue(r.realmId));
    }
    return send(res, 400, { error: 'unsupported_grant_type' });
  }

  function revokeRefresh(rt) {
    const r = st.refresh.get(rt);
    if (r) r.revoked = true;
    for (const a of st.access.values()) if (a.refresh === rt) a.revoked = true;
  }

  async function revoke(req, res, url) {
    let body;
    try { body = JSON.parse(await readBody(req) || '{}'); } catch { body = null; }
    const f = takeFault('POST', url.pathname);
    record(req, url, { fault: f?.status });
    if (f) return answerFault(res, f);
    if (!clientOk(req)) return send(res, 401, { error: 'invalid_client' });
    if (!body || typeof body.token !== 'string') return send(res, 400, { error: 'invalid_request' });
    if (st.refresh.has(body.token)) revokeRefresh(body.token);
    const a = st.access.get(body.token);
    if (a) { a.revoked = true; revokeRefresh(a.refresh); }
    res.writeHead(200);
    res.end();
  }

  // ---- Accounting API ------------------------------------------------------

  function bearer(req, realmId) {
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const a = m && st.access.get(m[1]);
    return a && !a.revoked && a.exp > now() && a.realmId === realmId;
  }

  // Per-realm throttles: a sliding minute of calls and concurrent calls.
  function throttled(c) {
    const t = now();
    while (c.calls.length && c.calls[0] < t - 60000) c.calls.shift();
    if (c.calls.length >= st.config.rate_per_minute || c.inflight >= st.config.max_concurrent) return true;
    c.calls.push(t);
    return false;
  }

  async function api(req, res, url, m) {
    const realmId = m[1];
    const f = takeFault(req.method, url.pathname);
    record(req, url, { realmId, fault: f?.status });
    if (f) return answerFault(res, f);
    if (!bearer(req, realmId))
      return fault(res, 401, 'AUTHENTICATION', '3200', 'message=AuthenticationFailed; errorCode=003200; statusCode=401');
    const c = company(realmId);
    if (throttled(c)) return fault(res, 429, 'SERVICE', '003001', 'ThrottleExceeded', 'Throttle exceeded');
    c.inflight++;
    try {
      if (st.config.latency_ms) await new Promise((r) => setTimeout(r, st.config.latency_ms));
      if (m[2] === 'cdc') return cdc(res, url, c);
      if (m[2].toLowerCase() === 'query' && !m[3]) return query(res, url, c);
      const name = ENTITIES[m[2].toLowerCase()];
      const e = name && c.entities[name].get(m[3]);
      if (!name || !m[3] || !e || e.status === 'Deleted')
        return fault(res, 400, 'ValidationFault', '610', 'Object Not Found',
                     `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.`);
      return send(res, 200, { [name]: e, time: iso() });
    } finally {
      c.inflight--;
    }
  }

  function cdc(res, url, c) {
    const names = (url.searchParams.get('entities') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const since = Date.parse(url.searchParams.get('changedSince') ?? '');
    if (!names.length || Number.isNaN(since))
      return fault(res, 400, 'ValidationFault', '2020', 'Required param missing, need to supply the required value for the API',
                   'entities and changedSince are required');
    if (since < now() - CDC_LOOKBACK_MS)
      return fault(res, 400, 'ValidationFault', '4000', 'Error in the CDC request', 'changedSince must be within the last 30 days');
    const qr = [];
    for (const n of names) {
      const key = Object.values(ENTITIES).find((v) => v.toLowerCase() === n.toLowerCase());
      if (!key) return fault(res, 400, 'ValidationFault', '4000', 'Error in the CDC request', `unsupported entity ${n}`);
      const list = [...c.entities[key].values()]
        .filter((e) => Date.parse(e.MetaData.LastUpdatedTime) > since)
        .slice(0, 1000)
        .map((e) => (e.status === 'Deleted'
          ? { domain: 'QBO', status: 'Deleted', Id: e.Id, MetaData: { LastUpdatedTime: e.MetaData.LastUpdatedTime } }
          : e));
      qr.push({ [key]: list, startPosition: 1, maxResults: list.length, totalCount: list.length });
    }
    return send(res, 200, { CDCResponse: [{ QueryResponse: qr }], time: iso() });
  }

  // The query operation, as much of its grammar as Atrium uses:
  // SELECT * FROM <Entity> [WHERE Metadata.LastUpdatedTime > '<datetime>']
  // [ORDERBY Metadata.LastUpdatedTime [ASC|DESC]] [STARTPOSITION n]
  // [MAXRESULTS n (at most 1000)]; deleted entities are not returned; an
  // empty result is "QueryResponse": {}. Anything else is a parser error.
  // https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
  function query(res, url, c) {
    const q = url.searchParams.get('query') ?? '';
    const m = /^\s*select\s+\*\s+from\s+(\w+)(?:\s+where\s+metadata\.lastupdatedtime\s*>\s*'([^']+)')?(?:\s+orderby\s+metadata\.lastupdatedtime(?:\s+(asc|desc))?)?(?:\s+startposition\s+(\d+))?(?:\s+maxresults\s+(\d+))?\s*$/i.exec(q);
    const key = m && Object.values(ENTITIES).find((v) => v.toLowerCase() === m[1].toLowerCase());
    const since = m?.[2] !== undefined ? Date.parse(m[2]) : -Infinity;
    const start = Number(m?.[4] ?? 1), max = Number(m?.[5] ?? 100);
    if (!m || !key || Number.isNaN(since) || start < 1 || max < 1 || max > 1000)
      return fault(res, 400, 'ValidationFault', '4000', 'Error parsing query', `QueryParserError: could not parse ${q.slice(0, 200)}`);
    const dir = (m[3] ?? 'asc').toLowerCase() === 'desc' ? -1 : 1;
    const list = [...c.entities[key].values()]
      .filter((e) => e.status !== 'Deleted' && Date.parse(e.MetaData.LastUpdatedTime) > since)
      .sort((a, b) => dir * (Date.parse(a.MetaData.LastUpdatedTime) - Date.parse(b.MetaData.LastUpdatedTime)
                             || Number(a.Id) - Number(b.Id)))
      .slice(start - 1, start - 1 + max);
    const qr = list.length ? { [key]: list, startPosition: start, maxResults: list.length } : {};
    return send(res, 200, { QueryResponse: qr, time: iso() });
  }

  // ---- admin ---------------------------------------------------------------

  function money(n) { return Math.round(Number(n) * 100) / 100; }

  function buildInvoice(c, id, b, old) {
    const lines = (b.Line ?? old?.Line ?? [{ Amount: b.TotalAmt ?? 100, Description: 'Services' }])
      .map((l, i) => ({ Id: String(i + 1), LineNum: i + 1, Description: l.Description ?? 'Services',
                        Amount: money(l.Amount), DetailType: 'SalesItemLineDetail',
                        SalesItemLineDetail: { ItemRef: { value: '1', name: l.Item ?? 'Services' },
                                               Qty: l.Qty ?? 1, UnitPrice: money(l.UnitPrice ?? l.Amount) } }));
    const total = money(b.TotalAmt ?? lines.reduce((s, l) => s + l.Amount, 0));
    const t = iso();
    return {
      domain: 'QBO', sparse: false, Id: id,
      SyncToken: old ? String(Number(old.SyncToken) + 1) : '0',
      MetaData: { CreateTime: old?.MetaData.CreateTime ?? t, LastUpdatedTime: t },
      DocNumber: b.DocNumber ?? old?.DocNumber ?? String(1000 + Number(id)),
      TxnDate: b.TxnDate ?? old?.TxnDate ?? t.slice(0, 10),
      DueDate: b.DueDate ?? old?.DueDate ?? new Date(now() + 30 * 86400000).toISOString().slice(0, 10),
      CurrencyRef: { value: b.Currency ?? old?.CurrencyRef.value ?? 'USD', name: 'United States Dollar' },
      CustomerRef: { value: String(b.CustomerId ?? old?.CustomerRef.value ?? '1'),
                     name: b.CustomerName ?? old?.CustomerRef.name ?? 'Customer' },
      Line: [...lines, { Amount: total, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} }],
      TotalAmt: total,
      Balance: money(b.Balance ?? (old ? Math.min(old.Balance, total) : total)),
      ...(b.PrivateNote ?? old?.PrivateNote ? { PrivateNote: b.PrivateNote ?? old.PrivateNote } : {}),
    };
  }

  function buildOther(name, id, b, old) {
    const t = iso();
    const base = { domain: 'QBO', sparse: false, Id: id,
                   SyncToken: old ? String(Number(old.SyncToken) + 1) : '0',
                   MetaData: { CreateTime: old?.MetaData.CreateTime ?? t, LastUpdatedTime: t } };
    if (name === 'Payment')
      return { ...base, TxnDate: b.TxnDate ?? old?.TxnDate ?? t.slice(0, 10),
               TotalAmt: money(b.TotalAmt ?? old?.TotalAmt ?? 0), UnappliedAmt: 0,
               CurrencyRef: { value: b.Currency ?? old?.CurrencyRef.value ?? 'USD' },
               CustomerRef: { value: String(b.CustomerId ?? old?.CustomerRef.value ?? '1') },
               Line: b.Line ?? old?.Line ?? [] };
    return { ...base, DisplayName: b.DisplayName ?? old?.DisplayName ?? `Customer ${id}`,
             Balance: money(b.Balance ?? old?.Balance ?? 0), Active: b.Active ?? old?.Active ?? true,
             CurrencyRef: { value: b.Currency ?? old?.CurrencyRef.value ?? 'USD' } };
  }

  async function admin(req, res, url) {
    const p = url.pathname;
    let body = {};
    if (req.method === 'POST' || req.method === 'PATCH') {
      try { body = JSON.parse(await readBody(req) || '{}'); } catch { return send(res, 400, { error: 'bad json' }); }
    }
    if (p === '/admin/reset' && req.method === 'POST') { reset(); return send(res, 200, { ok: true }); }
    if (p === '/admin/config') {
      if (req.method === 'POST') for (const k of Object.keys(st.config)) if (body[k] !== undefined) st.config[k] = Number(body[k]);
      return send(res, 200, st.config);
    }
    if (p === '/admin/faults') {
      if (req.method === 'POST') {
        const f = { method: body.method, path: body.path ?? '', status: Number(body.status ?? 500),
                    count: Number(body.count ?? 1), retry_after: body.retry_after, error: body.error };
        st.faults.push(f);
        return send(res, 201, f);
      }
      if (req.method === 'DELETE') { st.faults = []; return send(res, 200, { ok: true }); }
      return send(res, 200, st.faults);
    }
    if (p === '/admin/consent' && req.method === 'POST') {
      if (typeof body.realmId !== 'string' || !/^[0-9]{1,32}$/.test(body.realmId)) return send(res, 400, { error: 'realmId: digits' });
      st.nextRealm = body.realmId;
      return send(res, 200, { realmId: body.realmId });
    }
    if (p === '/admin/log') {
      const realm = url.searchParams.get('realmId');
      return send(res, 200, st.log.filter((e) => !realm || e.realmId === realm));
    }
    let m = /^\/admin\/companies\/([^/]+)\/revoke$/.exec(p);
    if (m && req.method === 'POST') {
      // The user disconnected the app in QuickBooks: every token dies.
      for (const [rt, r] of st.refresh) if (r.realmId === m[1]) revokeRefresh(rt);
      return send(res, 200, { ok: true });
    }
    m = /^\/admin\/companies\/([^/]+)\/tokens$/.exec(p);
    if (m && req.method === 'GET') {
      const n = [...st.access.values()].filter((a) => a.realmId === m[1] && !a.revoked && a.exp > now()).length;
      const r = [...st.refresh.values()].filter((a) => a.realmId === m[1] && !a.revoked).length;
      return send(res, 200, { live_access_tokens: n, live_refresh_tokens: r });
    }
    m = /^\/admin\/companies\/([^/]+)\/(invoice|payment|customer)(?:\/([^/]+))?(?:\/(void))?$/.exec(p);
    if (m) {
      const c = company(m[1]);
      const name = ENTITIES[m[2]];
      const map = c.entities[name];
      if (req.method === 'POST' && !m[3]) {
        // ?count=N makes N alike (ids in sequence), for tests of long lists.
        const count = Math.min(Math.max(Number(url.searchParams.get('count') ?? 1) || 1, 1), 5000);
        let e;
        for (let i = 0; i < count; i++) {
          const id = String(count === 1 && body.Id ? body.Id : ++c.seq);
          e = name === 'Invoice' ? buildInvoice(c, id, body) : buildOther(name, id, body);
          map.set(id, e);
        }
        return send(res, 201, { [name]: e, count });
      }
      const old = map.get(m[3] ?? '');
      if (!old || old.status === 'Deleted') return send(res, 404, { error: 'no such entity' });
      if (req.method === 'PATCH') {
        const e = name === 'Invoice' ? buildInvoice(c, old.Id, body, old) : buildOther(name, old.Id, body, old);
        map.set(old.Id, e);
        return send(res, 200, { [name]: e });
      }
      if (req.method === 'POST' && m[4] === 'void' && name === 'Invoice') {
        // A voided invoice keeps its lines with zero amounts and says so.
        const e = buildInvoice(c, old.Id, { TotalAmt: 0, Balance: 0, PrivateNote: 'Voided',
          Line: old.Line.filter((l) => l.DetailType !== 'SubTotalLineDetail').map((l) => ({ ...l, Amount: 0, UnitPrice: 0 })) }, old);
        map.set(old.Id, e);
        return send(res, 200, { [name]: e });
      }
      if (req.method === 'DELETE') {
        map.set(old.Id, { Id: old.Id, status: 'Deleted', MetaData: { LastUpdatedTime: iso() } });
        return send(res, 200, { ok: true });
      }
    }
    return send(res, 404, { error: 'no such admin route' });
  }

  async function handle(req, res) {
    const url = new URL(req.url, 'http://fake');
    try {
      if (url.pathname.startsWith('/admin/')) return await admin(req, res, url);
      if (url.pathname === '/connect/oauth2' && req.method === 'GET') return authorize(req, res, url);
      if (url.pathname === '/oauth2/v1/tokens/bearer' && req.method === 'POST') return await token(req, res, url);
      if (url.pathname === '/v2/oauth2/tokens/revoke' && req.method === 'POST') return await revoke(req, res, url);
      const m = /^\/v3\/company\/([0-9]{1,32})\/(cdc|[a-z]+)(?:\/([0-9]{1,20}))?$/i.exec(url.pathname);
      if (m && req.method === 'GET') return await api(req, res, url, m);
      return send(res, 404, { error: 'not found' });
    } catch (e) {
      if (!quiet) console.error('fake-intuit:', e);
      if (!res.headersSent) send(res, 400, { error: 'invalid_request', error_description: String(e.message) });
    }
  }

  return { handle, reset, state: () => st };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.env.FAKE_INTUIT_PORT ?? 28110);
  const host = process.env.FAKE_INTUIT_HOST ?? '127.0.0.1';
  const fake = createFake();
  const server = http.createServer((req, res) => { fake.handle(req, res); });
  server.listen(port, host, () => {
    console.log(`fake-intuit listening on http://${host}:${server.address().port}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
