#!/usr/bin/env node
// fake-pax8: a fake of the Pax8 Partner API v1 and its client-credentials
// token endpoint, for the worker's Pax8 pulls. Plain node:http, no
// dependencies. See README.md in this directory for what it speaks.
//
// The shapes follow Pax8's documentation:
//  - token: POST https://login.pax8.com/oauth/token with JSON
//    {client_id, client_secret, audience: "api://p8p.client",
//     grant_type: "client_credentials"} -> {access_token, expires_in,
//    token_type} (https://devx.pax8.com/docs/authentication; the Pax8API
//    PowerShell module's Connect-Pax8 sends exactly this body:
//    https://www.powershellgallery.com/packages/Pax8API/0.1/Content/Public%5CConnect-Pax8.ps1);
//  - Partner API base https://api.pax8.com/v1, Bearer JWT, page-number
//    pagination: ?page= (0-based) &size= (default 10, max 200), answers
//    {content: [...], page: {size, totalElements, totalPages, number}}
//    (https://devx.pax8.com/openapi/partner-endpoints.json, summarised in
//    https://raw.githubusercontent.com/api-evangelist/pax8/refs/heads/main/overlays/pax8-partner-endpoints-overlay.yaml);
//  - GET /companies, /companies/{id}, /subscriptions?companyId=&page=&size=,
//    /subscriptions/{id}, /products/{id}, /subscriptions/{id}/usage-summaries,
//    /usage-summaries/{id}
//    (https://www.powershellgallery.com/packages/Pax8API/0.4/Content/Public%5CGet-Pax8UsageSummaries.ps1);
//  - errors: {type, message, instance, status, details}; 401 for a missing,
//    unknown or expired token; 429 with Retry-After past the rate limit.
//
// Run:   node tests/fake-pax8/server.mjs          (127.0.0.1:28120)
// Env:   FAKE_PAX8_PORT, FAKE_PAX8_HOST, FAKE_PAX8_CLIENT_ID,
//        FAKE_PAX8_CLIENT_SECRET, FAKE_PAX8_TOKEN_EXPIRES_IN (86400),
//        FAKE_PAX8_RATE_LIMIT (requests per minute, 1000), FAKE_PAX8_QUIET
//
// Control API (never part of Pax8), under /_fake:
//   GET  /_fake/health               POST /_fake/reset
//   POST /_fake/companies {id?, name}            -> the company
//   POST /_fake/products {id?, name, vendorName} -> the product
//   POST /_fake/subscriptions {companyId, productId, quantity, price,
//        currencyCode, billingTerm, status, startDate, endDate, id?}
//   PATCH /_fake/subscriptions/{id} {...}  (updatedDate moves on)
//   POST /_fake/usage-summaries {subscriptionId, currentCharges,
//        partnerTotal, currencyCode, resourceGroup?, id?}
//   POST /_fake/faults {path (regex), query? (regex on "?a=b..."), method?, status, count (0 = until
//        removed), retryAfter?, delayMs?} (status 0 + delayMs: slow, then
//        the normal answer)   GET/DELETE /_fake/faults
//   POST /_fake/expire-tokens      (every issued token answers 401)
//   GET  /_fake/tokens             (every token issued)
//   GET  /_fake/requests           (method, path, status, token_request)
//   DELETE /_fake/requests

import http from 'node:http';
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';

export const AUDIENCE = 'api://p8p.client';
const MAX_BODY = 256 * 1024;
const MAX_LOG = 5000;
const BILLING_TERMS = ['Monthly', 'Annual', '2-Year', '3-Year', 'One-Time', 'Trial', 'Activation'];
const STATUSES = ['Active', 'Cancelled', 'PendingManual', 'PendingAutomated', 'PendingCancel',
  'WaitingForDetails', 'Trial', 'Converted', 'PendingActivation', 'Activated'];

export function configFromEnv(env) {
  const int = (name, d) => {
    const v = env[name];
    if (v === undefined || v === '') return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
    return n;
  };
  return {
    client_id: env.FAKE_PAX8_CLIENT_ID || 'fake-pax8-client',
    client_secret: env.FAKE_PAX8_CLIENT_SECRET || 'fake-pax8-secret',
    token_expires_in: int('FAKE_PAX8_TOKEN_EXPIRES_IN', 86400),
    rate_limit: int('FAKE_PAX8_RATE_LIMIT', 1000),
    quiet: !!env.FAKE_PAX8_QUIET,
  };
}

export function createFakePax8(config) {
  let companies, products, subscriptions, summaries, tokens, faults, log, window, nextFault;
  function reset() {
    companies = new Map(); products = new Map(); subscriptions = new Map(); summaries = new Map();
    tokens = new Map(); faults = []; log = []; window = { start: Date.now(), count: 0 }; nextFault = 1;
  }
  reset();
  const uuid = () => crypto.randomUUID();
  const now = () => new Date().toISOString();

  function send(res, status, body, headers = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }
  // Pax8's error envelope.
  function error(res, status, message, instance, headers) {
    send(res, status, { type: status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found'
      : status === 429 ? 'Too Many Requests' : status >= 500 ? 'Internal Server Error' : 'Bad Request',
    message, instance, status, details: [] }, headers);
  }
  function page(res, items, q) {
    const p = q.get('page') === null ? 0 : Number(q.get('page'));
    const size = q.get('size') === null ? 10 : Number(q.get('size'));
    if (!Number.isInteger(p) || p < 0) return error(res, 400, 'page must be a non-negative integer');
    if (!Number.isInteger(size) || size < 1 || size > 200) return error(res, 400, 'size must be between 1 and 200');
    const content = items.slice(p * size, p * size + size);
    return send(res, 200, { content, page: { size, totalElements: items.length,
      totalPages: Math.ceil(items.length / size), number: p } });
  }

  function readBody(req) {
    return new Promise((resolve, reject) => {
      const chunks = []; let n = 0;
      req.on('data', (c) => { n += c.length; if (n > MAX_BODY) { reject(new Error('too large')); req.destroy(); } else chunks.push(c); });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }
  function parseForm(text, type) {
    if ((type || '').startsWith('application/x-www-form-urlencoded'))
      return Object.fromEntries(new URLSearchParams(text));
    return JSON.parse(text || '{}');
  }

  function matchFault(method, path, search) {
    for (const f of faults) {
      if (f.method && f.method !== method) continue;
      if (!f.re.test(path)) continue;
      if (f.qre && !f.qre.test(search)) continue;
      if (f.count > 0) { f.remaining--; if (f.remaining <= 0) faults = faults.filter((x) => x !== f); }
      f.hits++;
      return f;
    }
    return null;
  }
  const publicFault = (f) => ({ id: f.id, path: f.path, query: f.query, method: f.method || null, status: f.status, delayMs: f.delayMs,
    count: f.count, remaining: f.count > 0 ? f.remaining : null, retryAfter: f.retryAfter ?? null, hits: f.hits });

  // ---- the token endpoint (login.pax8.com/oauth/token) -------------------
  async function token(req, res) {
    let b;
    try { b = parseForm(await readBody(req), req.headers['content-type']); } catch {
      return send(res, 400, { error: 'invalid_request', error_description: 'The request body is not valid' });
    }
    if (b.grant_type !== 'client_credentials')
      return send(res, 403, { error: 'unauthorized_client', error_description: 'Grant type not allowed for the client.' });
    if (b.client_id !== config.client_id || b.client_secret !== config.client_secret)
      return send(res, 401, { error: 'access_denied', error_description: 'Unauthorized' });
    if (b.audience !== AUDIENCE)
      return send(res, 403, { error: 'access_denied', error_description: `Service not enabled within domain: ${b.audience}` });
    const t = crypto.randomBytes(24).toString('base64url');
    tokens.set(t, Date.now() + config.token_expires_in * 1000);
    return send(res, 200, { access_token: t, scope: 'partner', expires_in: config.token_expires_in, token_type: 'Bearer' });
  }

  function subscriptionView(s) { return { ...s }; }

  function api(req, res, path, q) {
    const auth = req.headers.authorization || '';
    const m = /^Bearer (.+)$/.exec(auth);
    const exp = m ? tokens.get(m[1]) : undefined;
    if (!m || exp === undefined || exp <= Date.now())
      return error(res, 401, 'Full authentication is required to access this resource', path, { 'WWW-Authenticate': 'Bearer' });
    if (req.method !== 'GET') return error(res, 405, 'Method not allowed', path);
    // Rate limit: a fixed one-minute window per partner.
    if (Date.now() - window.start >= 60000) window = { start: Date.now(), count: 0 };
    if (++window.count > config.rate_limit) {
      const ra = Math.max(1, Math.ceil((window.start + 60000 - Date.now()) / 1000));
      return error(res, 429, 'Rate limit exceeded', path, { 'Retry-After': String(ra) });
    }
    let mm;
    if (path === '/v1/companies') return page(res, [...companies.values()], q);
    if ((mm = /^\/v1\/companies\/([^/]+)$/.exec(path))) {
      const c = companies.get(mm[1]);
      return c ? send(res, 200, c) : error(res, 404, `Company ${mm[1]} not found`, path);
    }
    if (path === '/v1/subscriptions') {
      let list = [...subscriptions.values()];
      for (const k of ['companyId', 'productId', 'status']) {
        const v = q.get(k);
        if (v !== null) list = list.filter((s) => s[k] === v);
      }
      return page(res, list.map(subscriptionView), q);
    }
    if ((mm = /^\/v1\/subscriptions\/([^/]+)\/usage-summaries$/.exec(path))) {
      if (!subscriptions.has(mm[1])) return error(res, 404, `Subscription ${mm[1]} not found`, path);
      return page(res, [...summaries.values()].filter((u) => u.subscriptionId === mm[1]), q);
    }
    if ((mm = /^\/v1\/subscriptions\/([^/]+)$/.exec(path))) {
      const s = subscriptions.get(mm[1]);
      return s ? send(res, 200, subscriptionView(s)) : error(res, 404, `Subscription ${mm[1]} not found`, path);
    }
    if ((mm = /^\/v1\/products\/([^/]+)$/.exec(path))) {
      const p = products.get(mm[1]);
      return p ? send(res, 200, p) : error(res, 404, `Product ${mm[1]} not found`, path);
    }
    if ((mm = /^\/v1\/usage-summaries\/([^/]+)$/.exec(path))) {
      const u = summaries.get(mm[1]);
      return u ? send(res, 200, u) : error(res, 404, `Usage summary ${mm[1]} not found`, path);
    }
    return error(res, 404, 'No such resource', path);
  }

  // ---- control API -------------------------------------------------------
  async function control(req, res, path) {
    const m = req.method;
    let b = {};
    if (m === 'POST' || m === 'PATCH') {
      try { b = JSON.parse((await readBody(req)) || '{}'); } catch { return send(res, 400, { error: 'bad JSON' }); }
    }
    let mm;
    if (path === '/_fake/health') return send(res, 200, { ok: true });
    if (path === '/_fake/reset' && m === 'POST') { reset(); return send(res, 200, { ok: true }); }
    // The tokens issued so far (tests grep logs for them).
    if (path === '/_fake/tokens' && m === 'GET') return send(res, 200, { tokens: [...tokens.keys()] });
    if (path === '/_fake/expire-tokens' && m === 'POST') {
      for (const k of tokens.keys()) tokens.set(k, 0);
      return send(res, 200, { expired: tokens.size });
    }
    if (path === '/_fake/companies' && m === 'POST') {
      const c = { id: b.id || uuid(), name: b.name || 'Company', status: b.status || 'Active',
        billOnBehalfOfEnabled: false, selfServiceAllowed: false, orderApprovalRequired: false,
        updatedDate: now() };
      companies.set(c.id, c); return send(res, 201, c);
    }
    if (path === '/_fake/products' && m === 'POST') {
      const p = { id: b.id || uuid(), name: b.name || 'Product', vendorName: b.vendorName || 'Vendor',
        shortDescription: b.shortDescription || '', sku: b.sku || 'SKU' };
      products.set(p.id, p); return send(res, 201, p);
    }
    if (path === '/_fake/subscriptions' && m === 'POST') {
      if (!companies.has(b.companyId)) return send(res, 400, { error: 'unknown companyId' });
      if (!products.has(b.productId)) return send(res, 400, { error: 'unknown productId' });
      if (b.billingTerm && !BILLING_TERMS.includes(b.billingTerm)) return send(res, 400, { error: 'bad billingTerm' });
      if (b.status && !STATUSES.includes(b.status)) return send(res, 400, { error: 'bad status' });
      const t = now();
      const s = { id: b.id || uuid(), companyId: b.companyId, productId: b.productId,
        quantity: b.quantity ?? 1, startDate: b.startDate || t, endDate: b.endDate ?? null,
        createdDate: t, updatedDate: t, billingStart: b.startDate || t, status: b.status || 'Active',
        price: b.price ?? 0, partnerCost: b.partnerCost ?? null, currencyCode: b.currencyCode || 'USD',
        billingTerm: b.billingTerm || 'Monthly', provisioningDetails: [], commitmentTermId: null };
      subscriptions.set(s.id, s); return send(res, 201, s);
    }
    if ((mm = /^\/_fake\/subscriptions\/([^/]+)$/.exec(path)) && m === 'PATCH') {
      const s = subscriptions.get(mm[1]);
      if (!s) return send(res, 404, { error: 'no such subscription' });
      for (const k of ['quantity', 'price', 'status', 'billingTerm', 'endDate', 'currencyCode', 'productId']) if (k in b) s[k] = b[k];
      s.updatedDate = now();
      return send(res, 200, s);
    }
    if (path === '/_fake/usage-summaries' && m === 'POST') {
      const s = subscriptions.get(b.subscriptionId);
      if (!s) return send(res, 400, { error: 'unknown subscriptionId' });
      const u = { id: b.id || uuid(), subscriptionId: s.id, companyId: s.companyId, productId: s.productId,
        resourceGroup: b.resourceGroup || 'default', vendorName: products.get(s.productId)?.vendorName || '',
        currentCharges: b.currentCharges ?? 0, partnerTotal: b.partnerTotal ?? 0,
        currencyCode: b.currencyCode || s.currencyCode, isTrial: !!b.isTrial };
      summaries.set(u.id, u); return send(res, 201, u);
    }
    if (path === '/_fake/faults') {
      if (m === 'GET') return send(res, 200, { faults: faults.map(publicFault) });
      if (m === 'DELETE') { faults = []; return send(res, 200, { ok: true }); }
      if (m === 'POST') {
        let re, qre = null;
        try { re = new RegExp(b.path || '.*'); } catch { return send(res, 400, { error: 'bad path regex' }); }
        try { if (b.query) qre = new RegExp(b.query); } catch { return send(res, 400, { error: 'bad query regex' }); }
        // status 0 with delayMs: a slow answer, then the normal one.
        const status = Number(b.status ?? 0);
        if (!Number.isInteger(status) || (status !== 0 && (status < 100 || status > 599))) return send(res, 400, { error: 'bad status' });
        const delayMs = Number(b.delayMs ?? 0);
        if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > 60000) return send(res, 400, { error: 'bad delayMs' });
        const count = b.count === undefined ? 1 : Number(b.count);
        const f = { id: String(nextFault++), path: b.path || '.*', re, query: b.query || null, qre, method: b.method, status, count,
          remaining: count, retryAfter: b.retryAfter, delayMs, hits: 0 };
        faults.push(f); return send(res, 201, publicFault(f));
      }
    }
    if (path === '/_fake/requests') {
      if (m === 'GET') return send(res, 200, { requests: log });
      if (m === 'DELETE') { log = []; return send(res, 200, { ok: true }); }
    }
    return send(res, 404, { error: 'no such control endpoint' });
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://fake');
    const path = url.pathname;
    const entry = { time: now(), method: req.method, path, query: url.search, status: 0,
      token_request: path === '/oauth/token' };
    res.on('finish', () => {
      entry.status = res.statusCode;
      if (!path.startsWith('/_fake')) { log.push(entry); if (log.length > MAX_LOG) log.shift(); }
      if (!config.quiet) process.stdout.write(`${entry.time} ${req.method} ${path}${url.search} -> ${res.statusCode}\n`);
    });
    try {
      if (path.startsWith('/_fake/')) return await control(req, res, path);
      const f = matchFault(req.method, path, url.search);
      if (f && f.delayMs > 0) await new Promise((r) => setTimeout(r, f.delayMs));
      if (f && f.status !== 0) {
        const h = f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {};
        return error(res, f.status, 'Injected fault', path, h);
      }
      if (path === '/oauth/token' && req.method === 'POST') return await token(req, res);
      if (path.startsWith('/v1/')) return api(req, res, path, url.searchParams);
      return error(res, 404, 'No such resource', path);
    } catch (e) {
      if (!res.headersSent) error(res, 500, String(e.message || e), path);
    }
  });

  function close() {
    return new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  }
  return { server, close, reset, get config() { return config; } };
}

async function main() {
  let cfg;
  try { cfg = configFromEnv(process.env); } catch (e) { process.stderr.write(`fake-pax8: ${e.message}\n`); process.exit(2); }
  const port = process.env.FAKE_PAX8_PORT ? Number(process.env.FAKE_PAX8_PORT) : 28120;
  const host = process.env.FAKE_PAX8_HOST || '127.0.0.1';
  const fake = createFakePax8(cfg);
  fake.server.on('error', (e) => { process.stderr.write(`fake-pax8: ${e.message}\n`); process.exit(1); });
  fake.server.listen(port, host, () => {
    const a = fake.server.address();
    process.stdout.write(`fake-pax8 listening on http://${a.address}:${a.port}\n`);
  });
  const stop = () => { const t = setTimeout(() => process.exit(0), 2000); t.unref(); fake.close().then(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
