#!/usr/bin/env node
// Authorization matrix: every operation of openapi/openapi.yaml, called as
// every kind of caller, against a live Atrium server.
//
// The expected answer of each (operation x caller) pair comes from the
// operation's `security` and its `x-atrium-roles` extension
// (tests/security/README.md describes it):
//
//   - security [] (x-atrium-roles.public): called once without credentials;
//     any answer but a 5xx passes (no role matrix: /healthz, /auth/*, ...).
//   - security without bearerAuth (the signed webhooks): called unsigned,
//     with a bearer token and with a super_admin token; never 2xx.
//   - bearerAuth: no Authorization header and each malformed or forged
//     bearer value answer 401 with problem+json and a Bearer challenge; a
//     member, tenant_admin, billing_viewer, support_user and super_admin of
//     the tenant are refused (403, or the `denied` status) unless listed in
//     `allow`, and are not refused (no 401, 403 or 404) when listed; a
//     tenant_admin of another tenant gets 404 on /v1/tenants/{tenant_id}/...
//     paths (never 2xx or 403); for `own_records_only` roles, a second member
//     asking for the first member's records gets nothing of them.
//
// Any 2xx the spec does not allow, any 5xx, any 401 without problem JSON,
// and any operation without (valid) x-atrium-roles fails. New operations are
// covered by the loop over the spec's paths; a new path parameter needs a
// fixture below (the run fails naming it until it has one).
//
// Environment (as tests/conformance/run.mjs): ATRIUM_TEST_BASE_URL,
// ATRIUM_TEST_IDP_URL, ATRIUM_HOME_TENANT_ID, ATRIUM_OIDC_AUDIENCE (first
// value used), ATRIUM_TEST_CA, ATRIUM_OPENAPI_PATH (optional),
// ATRIUM_AUTHZ_CONCURRENCY (8), ATRIUM_AUTHZ_VERBOSE (1: print passes too).
//
// Output: FAIL lines (and PASS lines when verbose), the number of
// (operation x caller) pairs checked, then exactly "N passed, M failed".
// Exit status 1 if anything failed.

import http from 'node:http';
import https from 'node:https';
import { existsSync, readFileSync } from 'node:fs';
import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign as rsaSign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { HTTP_METHODS, loadSpec } from '../conformance/validator.mjs';

const specPath =
  process.env.ATRIUM_OPENAPI_PATH ?? fileURLToPath(new URL('../../openapi/openapi.yaml', import.meta.url));
const BASE = (process.env.ATRIUM_TEST_BASE_URL ?? '').replace(/\/+$/, '');
const IDP = (process.env.ATRIUM_TEST_IDP_URL ?? '').replace(/\/+$/, '');
const HOME = process.env.ATRIUM_HOME_TENANT_ID ?? '';
const AUD = (process.env.ATRIUM_OIDC_AUDIENCE ?? '').split(',').map((s) => s.trim()).filter(Boolean)[0];
const CONCURRENCY = Math.max(1, Number(process.env.ATRIUM_AUTHZ_CONCURRENCY ?? 8));
const VERBOSE = process.env.ATRIUM_AUTHZ_VERBOSE === '1';
const TIMEOUT_MS = 20000;

const ROLES = ['super_admin', 'tenant_admin', 'billing_viewer', 'support_user', 'member'];

// ---------------------------------------------------------------- results

let passed = 0;
let failed = 0;
const pairs = new Set(); // "operationId x caller"
function record(ok, label, what, detail = '') {
  if (ok) passed++;
  else failed++;
  if (ok && !VERBOSE) return;
  const tail = detail && (!ok || VERBOSE) ? ` -- ${String(detail).replace(/\s+/g, ' ').slice(0, 400)}` : '';
  console.log(`${ok ? 'PASS' : 'FAIL'} ${label}: ${what}${tail}`);
}

// ---------------------------------------------------------------- HTTP

function caOption() {
  const v = process.env.ATRIUM_TEST_CA;
  if (!v) return undefined;
  if (v.includes('-----BEGIN')) return v;
  return existsSync(v) ? readFileSync(v, 'utf8') : undefined;
}
const CA = caOption();
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ...(CA ? { ca: CA } : {}) });
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

// Never throws: a transport error comes back as status 0.
function rawRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const tls = u.protocol === 'https:';
    const payload = body === undefined ? undefined : Buffer.from(body);
    const h = { ...headers };
    if (payload !== undefined) h['Content-Length'] = String(payload.length);
    const req = (tls ? https : http).request(u, { method, headers: h, agent: tls ? httpsAgent : httpAgent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ status: 0, headers: {}, text: '', error: e.message }));
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`timed out after ${TIMEOUT_MS} ms`)));
    req.on('error', (e) => resolve({ status: 0, headers: {}, text: '', error: `${e.code ?? ''} ${e.message}`.trim() }));
    req.end(payload);
  });
}

// authorization: undefined (no header) or the header's whole value.
async function call({ method = 'GET', path, authorization, json, contentType, headers = {} }) {
  const h = { Accept: 'application/json, application/problem+json, */*', ...headers };
  if (authorization !== undefined) h.Authorization = authorization;
  let body;
  if (json !== undefined) {
    body = JSON.stringify(json);
    h['Content-Type'] = contentType ?? 'application/json';
  }
  const r = await rawRequest(BASE + path, { method, headers: h, body });
  try {
    r.body = r.text ? JSON.parse(r.text) : undefined;
  } catch {
    r.body = undefined;
  }
  return r;
}

// A bounded pool: run fn over items, at most CONCURRENCY at a time.
async function pool(items, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

// ---------------------------------------------------------------- tokens

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const b64uJson = (o) => b64u(JSON.stringify(o));
const decodePart = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

async function mint(claims) {
  const r = await rawRequest(`${IDP}/mint`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...(AUD ? { aud: AUD } : {}), ...claims }),
  });
  let token;
  try {
    token = JSON.parse(r.text).access_token;
  } catch {
    /* below */
  }
  if (r.status !== 200 || typeof token !== 'string') {
    throw new Error(`the IdP did not mint a token for ${JSON.stringify(claims)}: ${r.status} ${r.error ?? r.text.slice(0, 200)}`);
  }
  return token;
}

// The forged and malformed bearer values: each must answer 401. Based on a
// super_admin token of the home directory, so an accepted forgery shows as a
// 2xx and not as a mere 403.
async function badBearers({ aadA, tenantA }) {
  const superClaims = { tid: HOME, oid: randomUUID(), roles: ['super_admin'] };
  const good = await mint(superClaims);
  const [h64, p64, s64] = good.split('.');
  const header = decodePart(h64);
  const payload = decodePart(p64);

  const jwksRes = await rawRequest(`${IDP}/jwks`);
  const jwk = (JSON.parse(jwksRes.text).keys ?? []).find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`the IdP's JWKS has no key ${header.kid}`);
  const pub = createPublicKey({ key: jwk, format: 'jwk' });
  const hs256 = (secret) => {
    const si = `${b64uJson({ alg: 'HS256', typ: 'JWT', kid: header.kid })}.${p64}`;
    return `${si}.${b64u(createHmac('sha256', secret).update(si).digest())}`;
  };
  const { privateKey: stranger } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const unknownKid = (() => {
    const si = `${b64uJson({ ...header, kid: `unknown-${randomBytes(6).toString('hex')}` })}.${p64}`;
    return `${si}.${b64u(rsaSign('sha256', Buffer.from(si), stranger))}`;
  })();
  const sigBytes = Buffer.from(s64, 'base64url');
  sigBytes[sigBytes.length >> 1] ^= 0x5a;
  const forgedPayload = b64uJson({ ...payload, oid: randomUUID(), name: 'Forged' });

  const bearer = (t) => `Bearer ${t}`;
  return [
    ['empty bearer', 'Bearer '],
    ['bearer "null"', bearer('null')],
    ['bearer "undefined"', bearer('undefined')],
    ['non-JWT string', bearer('not-a-jwt-at-all')],
    ['cache key tid:<tenant directory>', bearer(`tid:${aadA}`)],
    ['cache key tid:<home directory>', bearer(`tid:${HOME}`)],
    ['the tenant id', bearer(tenantA)],
    ['cache key session:<x>', bearer(`session:${randomBytes(16).toString('hex')}`)],
    ['another audience', bearer(await mint({ ...superClaims, aud: 'api://someone-else' }))],
    ['another issuer', bearer(await mint({ ...superClaims, iss: `https://login.evil.example/${HOME}/v2.0` }))],
    ['a directory that is no tenant', bearer(await mint({ tid: randomUUID(), oid: randomUUID(), roles: ['super_admin'] }))],
    ['expired', bearer(await mint({ ...superClaims, exp_in: -3600 }))],
    ['not yet valid', bearer(await mint({ ...superClaims, nbf_in: 3600 }))],
    ['alg none', bearer(`${b64uJson({ alg: 'none', typ: 'JWT' })}.${p64}.`)],
    ['alg none with kid', bearer(`${b64uJson({ ...header, alg: 'none' })}.${p64}.`)],
    // A non-empty signature part, so the alg check itself is what refuses it.
    ['alg none, original signature kept', bearer(`${b64uJson({ ...header, alg: 'none' })}.${p64}.${s64}`)],
    ['HS256 keyed with the public key (SPKI PEM)', bearer(hs256(pub.export({ type: 'spki', format: 'pem' })))],
    ['HS256 keyed with the public key (PKCS#1 PEM)', bearer(hs256(pub.export({ type: 'pkcs1', format: 'pem' })))],
    ['unknown kid', bearer(unknownKid)],
    ['signature bytes changed', bearer(`${h64}.${p64}.${b64u(sigBytes)}`)],
    ['payload changed, original signature', bearer(`${h64}.${forgedPayload}.${s64}`)],
    ['token without the Bearer scheme', good],
    ['Basic scheme', `Basic ${Buffer.from(`admin:${good}`).toString('base64')}`],
  ];
}

// ---------------------------------------------------------------- spec

const spec = loadSpec(specPath);
const schemes = spec.components?.securitySchemes ?? {};

function operations() {
  const ops = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      const security = op.security ?? spec.security ?? [];
      const names = new Set(security.flatMap((req) => Object.keys(req)));
      let kind;
      if (security.length === 0 || security.some((req) => Object.keys(req).length === 0)) kind = 'public';
      else if (names.has('bearerAuth')) kind = 'bearer';
      else kind = 'signed';
      const reqBody = op.requestBody?.content ? Object.entries(op.requestBody.content)[0] : undefined;
      let example;
      if (reqBody) {
        const [, media] = reqBody;
        example = media.example ?? (media.examples ? Object.values(media.examples)[0]?.value : undefined) ?? {};
      }
      ops.push({
        id: op.operationId ?? `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        kind,
        schemes: [...names].map((n) => schemes[n]),
        roles: op['x-atrium-roles'],
        responses: Object.keys(op.responses ?? {}),
        contentType: reqBody?.[0],
        example,
        params: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
      });
    }
  }
  return ops;
}

// x-atrium-roles must be there and make sense for the operation's security.
function checkExtension(op) {
  const x = op.roles;
  const label = `[spec] ${op.method} ${op.path} (${op.id})`;
  if (!x || typeof x !== 'object' || Array.isArray(x)) {
    record(false, label, 'has x-atrium-roles', 'missing (add allow: [roles] or public: true)');
    return false;
  }
  const problems = [];
  if (op.kind === 'public') {
    if (x.public !== true) problems.push('security is [] but public is not true');
  } else {
    if (x.public) problems.push('public: true but the operation has security');
    if (!Array.isArray(x.allow)) problems.push('allow is not a list');
    for (const r of x.allow ?? []) if (!ROLES.includes(r)) problems.push(`unknown role ${r}`);
    if (op.kind === 'signed' && (x.allow ?? []).length) problems.push('a signature-checked operation lets in no bearer role');
    for (const r of x.own_records_only ?? []) if (!(x.allow ?? []).includes(r)) problems.push(`own_records_only role ${r} is not allowed`);
    if (x.denied !== undefined && ![403, 404].includes(x.denied)) problems.push('denied must be 403 or 404');
  }
  for (const k of Object.keys(x)) {
    if (!['public', 'allow', 'own_records_only', 'denied', 'note'].includes(k)) problems.push(`unknown member ${k}`);
  }
  record(problems.length === 0, label, 'x-atrium-roles is well-formed', problems.join('; '));
  return problems.length === 0;
}

// ---------------------------------------------------------------- checks

const is2xx = (s) => s >= 200 && s < 300;
const short = (r) => `${r.status} ${r.error ?? r.text.slice(0, 200)}`;

function isProblem(r) {
  const ct = String(r.headers['content-type'] ?? '');
  return /^application\/problem\+json\b/i.test(ct) && r.body && typeof r.body === 'object' && typeof r.body.title === 'string' &&
    r.body.status === r.status;
}

// Checks every answer must pass, whoever asked.
function checkCommon(label, op, r) {
  if (r.status === 0) return record(false, label, 'got a response', r.error);
  if (r.status >= 500) return record(false, label, 'no 5xx', short(r));
  if (r.status === 401 && !isProblem(r)) return record(false, label, '401 is problem+json', short(r));
  if (!op.responses.includes(String(r.status)) && !(r.status === 404 && op.kind === 'bearer')) {
    return record(false, label, `${r.status} is documented for the operation`, `documented: ${op.responses.join(',')}`);
  }
  return true;
}

function expectUnauthorized(label, op, r) {
  if (checkCommon(label, op, r) !== true) return;
  const www = String(r.headers['www-authenticate'] ?? '');
  record(r.status === 401 && /^Bearer\b/.test(www), label, '401 with a Bearer challenge',
    `${short(r)} (WWW-Authenticate: ${www || 'none'})`);
}

function expectDenied(label, op, r, statuses) {
  if (checkCommon(label, op, r) !== true) return;
  record(statuses.includes(r.status), label, `refused with ${statuses.join(' or ')}`, short(r));
}

function expectAllowed(label, op, r) {
  if (checkCommon(label, op, r) !== true) return;
  record(![401, 403, 404].includes(r.status), label, 'not refused (no 401, 403 or 404)', short(r));
}

// ---------------------------------------------------------------- fixtures

const run = randomBytes(4).toString('hex');
let seq = 0;
const unique = () => `${run}${(seq++).toString(36)}`;

class Fixtures {
  constructor(tokens, ops) {
    this.t = tokens;
    this.ops = ops;
  }

  example(opId) {
    return structuredClone(this.ops.find((o) => o.id === opId)?.example ?? {});
  }

  // A request body for op: its documented example, made unique where it
  // must be and pointed at this run's fixtures.
  body(op) {
    if (op.example === undefined) return undefined;
    const b = structuredClone(op.example);
    if (b && typeof b === 'object' && !Array.isArray(b) && op.method === 'POST') {
      if ('slug' in b) b.slug = `authz-${unique()}`;
      if ('aad_tenant_id' in b) b.aad_tenant_id = randomUUID();
      if ('aad_admin_group_id' in b) b.aad_admin_group_id = randomUUID();
      if (typeof b.name === 'string') b.name = /^[a-z0-9-]+$/.test(b.name) ? `${b.name}-${unique()}` : `${b.name} ${unique()}`;
      if ('event_id' in b && this.event) b.event_id = this.event;
      if ('starts_at' in b) b.starts_at = new Date(Date.now() + 7 * 86400e3).toISOString();
      // The catalog (issue 17): unique SKUs, this run's items and categories.
      if (typeof b.sku === 'string') b.sku = `${b.sku}-${unique()}`;
      if ('to_item_id' in b && this.product2) b.to_item_id = this.product2;
      if ('parent_id' in b && this.category) b.parent_id = this.category;
    }
    return b;
  }

  async must(what, req, statuses) {
    const r = await call(req);
    if (!statuses.includes(r.status)) throw new Error(`setup: ${what} answered ${short(r)}`);
    return r.body;
  }

  async createTenant() {
    const t = await this.must('create a tenant', {
      method: 'POST', path: '/v1/tenants', authorization: this.t.super,
      json: { slug: `authz-${unique()}`, name: `Authz ${run}`, aad_tenant_id: randomUUID() },
    }, [201]);
    return t;
  }

  async createEvent() {
    const e = await this.must('create an event', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/events`, authorization: this.t.tenant_admin,
      json: { ...this.example('createEvent'), name: `Authz ${unique()}`, status: 'open',
        starts_at: new Date(Date.now() + 7 * 86400e3).toISOString() },
    }, [201]);
    return e.id;
  }

  async createNamespace() {
    const n = await this.must('create a namespace', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/namespaces`, authorization: this.t.tenant_admin,
      json: { ...this.example('createNamespace'), name: `authz-${unique()}` },
    }, [202]);
    return n;
  }

  // ---- the catalog (issue 17): tenant A's private rows
  async createProduct() {
    const p = await this.must('create a product', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/catalog/products`, authorization: this.t.tenant_admin,
      json: { sku: `AUTHZ-${unique()}`, name: `Authz product ${run}`, unit_price_minor: 1000, currency: 'EUR' },
    }, [201]);
    return p.id;
  }

  async createService() {
    const p = await this.must('create a service', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/catalog/services`, authorization: this.t.tenant_admin,
      json: { sku: `AUTHZ-S-${unique()}`, name: `Authz service ${run}`, unit_price_minor: 100, currency: 'EUR',
        billing: 'monthly', unit: 'user' },
    }, [201]);
    return p.id;
  }

  async createCategory() {
    const c = await this.must('create a category', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/catalog/categories`, authorization: this.t.tenant_admin,
      json: { slug: `authz-${unique()}`, name: `Authz ${run}` },
    }, [201]);
    return c.id;
  }

  async createRelationship(kind, from) {
    const to = await this.createProduct();
    const r = await this.must('relate two items', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/catalog/${kind}/${from}/relationships`,
      authorization: this.t.tenant_admin, json: { to_item_id: to, type: 'requires' },
    }, [201]);
    return r.id;
  }

  async createMedia() {
    const m = await this.must('ask for an upload', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/catalog/products/${this.product}/media`,
      authorization: this.t.tenant_admin,
      json: { kind: 'image', content_type: 'image/png', size: 10, sha256: 'a'.repeat(64) },
    }, [201]);
    return m.id;
  }

  async productWithOverride() {
    const id = await this.createProduct();
    await this.must('set a price override', {
      method: 'PUT', path: `/v1/tenants/${this.tenant}/catalog/products/${id}/price-override`,
      authorization: this.t.tenant_admin, json: { amount_minor: 900, currency: 'EUR' },
    }, [200]);
    return id;
  }

  async setup() {
    const me = await this.must('GET /v1/me as the member', { path: '/v1/me', authorization: this.t.member }, [200]);
    this.memberId = me.user.id;
    this.event = await this.createEvent();
    await this.must('deposit', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/payments`, authorization: this.t.member,
      json: { direction: 'deposit', amount_minor: 100000, currency: 'EUR' },
    }, [201]);
    const pay = await this.must('withdraw', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/payments`, authorization: this.t.member,
      json: { direction: 'withdrawal', amount_minor: 100, currency: 'EUR' },
    }, [201]);
    this.payment = pay.id;
    const ev = await this.must('read the event', {
      path: `/v1/tenants/${this.tenant}/events/${this.event}`, authorization: this.t.member,
    }, [200]);
    const sel = ev.selections[0];
    const bet = await this.must('place a bet', {
      method: 'POST', path: `/v1/tenants/${this.tenant}/bets`, authorization: this.t.member,
      json: { event_id: this.event, selection: sel.key, stake_minor: 100, currency: 'EUR', odds: sel.odds },
    }, [201]);
    this.bet = bet.id;
    const ns = await this.createNamespace();
    this.namespace = ns.name;
    this.job = ns.job_id;
    this.product = await this.createProduct();
    this.product2 = await this.createProduct();
    this.service = await this.createService();
    this.category = await this.createCategory();
    this.productRelationship = await this.createRelationship('products', this.product);
    this.serviceRelationship = await this.createRelationship('services', this.service);
    this.media = await this.createMedia();
  }

  // The shared value of a path parameter (tenant A's resources).
  shared(param, op) {
    if (param === 'relationship_id') return op?.path.includes('/services/') ? this.serviceRelationship : this.productRelationship;
    const v = {
      tenant_id: this.tenant, event_id: this.event, bet_id: this.bet, payment_id: this.payment,
      namespace: this.namespace, job_id: this.job, code: 'not-found',
      product_id: this.product, service_id: this.service, category_id: this.category, media_id: this.media,
    }[param];
    if (v === undefined) throw new Error(`no fixture for path parameter {${param}}: add one to tests/security/authz-matrix.mjs`);
    return v;
  }

  // A fresh value, for a call that may use the resource up (DELETE, or a
  // POST action such as /result or /cancel).
  async fresh(param, op) {
    switch (param) {
      case 'product_id': return op?.path.endsWith('/price-override') ? this.productWithOverride() : this.createProduct();
      case 'service_id': return this.createService();
      case 'category_id': return this.createCategory();
      case 'media_id': return this.createMedia();
      case 'relationship_id': return op?.path.includes('/services/')
        ? this.createRelationship('services', this.service) : this.createRelationship('products', this.product);
      case 'tenant_id': return (await this.createTenant()).id;
      case 'event_id': return this.createEvent();
      case 'namespace': return (await this.createNamespace()).name;
      default: return this.shared(param);
    }
  }

  async path(op, { fresh = false } = {}) {
    const values = {};
    const last = op.params[op.params.length - 1];
    for (const p of op.params) values[p] = fresh && p === last ? await this.fresh(p, op) : this.shared(p, op);
    return op.path.replace(/\{([^}]+)\}/g, (_, p) => encodeURIComponent(values[p]));
  }
}

// Does an allowed call of op use up its resource? A DELETE, or a POST
// action on a resource (/events/{event_id}/cancel); not a POST that creates
// in a tenant's collection (/tenants/{tenant_id}/events).
const consumes = (op) => {
  const last = op.params[op.params.length - 1];
  if (last === undefined) return false;
  // A DELETE of a singleton under the tenant (/tenants/{tenant_id}/integrations/quickbooks)
  // uses up that singleton, not the tenant: it runs on the shared tenant. One under another
  // resource (/products/{product_id}/price-override) gets a fresh parent with the singleton
  // made (fresh()), so callers do not race for one override.
  if (op.method === 'DELETE') return last !== 'tenant_id' || new RegExp(`\\{${last}\\}$`).test(op.path);
  return op.method === 'POST' && last !== 'tenant_id' && new RegExp(`\\{${last}\\}/[^/{}]+$`).test(op.path);
};

// ---------------------------------------------------------------- matrix

async function main() {
  for (const [name, value] of Object.entries({ ATRIUM_TEST_BASE_URL: BASE, ATRIUM_TEST_IDP_URL: IDP, ATRIUM_HOME_TENANT_ID: HOME })) {
    if (!value) throw new Error(`${name} is not set`);
  }
  const started = Date.now();
  const ops = operations();
  const valid = ops.filter(checkExtension);

  // Tenants and callers.
  const bearer = (t) => `Bearer ${t}`;
  const superTok = bearer(await mint({ tid: HOME, oid: randomUUID(), roles: ['super_admin'], name: 'Authz Operator' }));
  const fx = new Fixtures({ super: superTok }, ops);
  const aadA = randomUUID();
  const aadB = randomUUID();
  const A = await fx.must('create tenant A', {
    method: 'POST', path: '/v1/tenants', authorization: superTok,
    json: { slug: `authz-a-${run}`, name: `Authz A ${run}`, aad_tenant_id: aadA },
  }, [201]);
  await fx.must('create tenant B', {
    method: 'POST', path: '/v1/tenants', authorization: superTok,
    json: { slug: `authz-b-${run}`, name: `Authz B ${run}`, aad_tenant_id: aadB },
  }, [201]);
  fx.tenant = A.id;
  const callers = {
    super_admin: superTok,
    tenant_admin: bearer(await mint({ tid: aadA, oid: randomUUID(), roles: ['tenant_admin'] })),
    billing_viewer: bearer(await mint({ tid: aadA, oid: randomUUID(), roles: ['billing_viewer'] })),
    support_user: bearer(await mint({ tid: aadA, oid: randomUUID(), roles: ['support_user'] })),
    member: bearer(await mint({ tid: aadA, oid: randomUUID(), roles: [] })),
  };
  const otherMember = bearer(await mint({ tid: aadA, oid: randomUUID(), roles: [] }));
  const otherAdmin = bearer(await mint({ tid: aadB, oid: randomUUID(), roles: ['tenant_admin'] }));
  Object.assign(fx.t, callers);
  await fx.setup();
  const bad = await badBearers({ aadA, tenantA: A.id });

  // Every (operation x caller) pair, as a job.
  const jobs = [];
  const pair = (op, caller) => pairs.add(`${op.id} x ${caller}`);
  for (const op of valid) {
    const x = op.roles;
    const sharedPath = await fx.path(op);
    const body = fx.body(op);
    const req = { method: op.method, path: sharedPath, json: body, contentType: op.contentType };
    const label = (who) => `[${op.id}] ${op.method} ${op.path} as ${who}`;

    if (op.kind === 'public') {
      jobs.push(async () => {
        pair(op, 'anonymous');
        const r = await call(req);
        checkCommon(label('anonymous'), op, r);
      });
      continue;
    }

    if (op.kind === 'signed') {
      // Unsigned, and with bearer tokens where the signature belongs: never 2xx.
      const tries = [['anonymous', undefined], ['super_admin bearer', superTok], ['tenant_admin bearer', callers.tenant_admin],
        ['forged: token without the Bearer scheme', bad.find(([n]) => n === 'token without the Bearer scheme')[1]]];
      for (const [who, authorization] of tries) {
        jobs.push(async () => {
          pair(op, who);
          const r = await call({ ...req, authorization });
          if (checkCommon(label(who), op, r) !== true) return;
          record(!is2xx(r.status), label(who), 'an unsigned delivery is not accepted', short(r));
        });
      }
      continue;
    }

    // bearer: 1. no credentials; 2. malformed and forged tokens.
    jobs.push(async () => {
      pair(op, 'anonymous');
      expectUnauthorized(label('anonymous'), op, await call(req));
    });
    for (const [name, authorization] of bad) {
      jobs.push(async () => {
        pair(op, `forged: ${name}`);
        expectUnauthorized(label(`forged: ${name}`), op, await call({ ...req, authorization }));
      });
    }

    // 3 and 5. each role of the tenant, and super_admin.
    const denied = x.denied ? [x.denied] : [403];
    for (const role of ROLES) {
      const allowed = x.allow.includes(role);
      jobs.push(async () => {
        pair(op, role);
        if (!allowed) {
          expectDenied(label(role), op, await call({ ...req, authorization: callers[role] }), denied);
          return;
        }
        const path = consumes(op) ? await fx.path(op, { fresh: true }) : sharedPath;
        expectAllowed(label(role), op, await call({ ...req, path, json: fx.body(op), authorization: callers[role] }));
      });
    }

    // 4. a tenant_admin of another tenant.
    jobs.push(async () => {
      pair(op, 'tenant_admin of another tenant');
      const r = await call({ ...req, authorization: otherAdmin });
      const who = label('tenant_admin of another tenant');
      if (op.params.includes('tenant_id')) {
        expectDenied(who, op, r, [404]);
      } else if (x.allow.includes('tenant_admin')) {
        // Not tenant-scoped: its own tenant's view; it must show nothing of tenant A.
        if (checkCommon(who, op, r) !== true) return;
        record(![401, 403, 404].includes(r.status) && !r.text.includes(A.id), who, "not refused, and shows nothing of tenant A", short(r));
      } else {
        expectDenied(who, op, r, denied);
      }
    });

    // Records of one member are not another member's.
    for (const role of x.own_records_only ?? []) {
      if (role !== 'member' || op.method !== 'GET') continue;
      jobs.push(async () => {
        pair(op, 'another member');
        const who = label("another member, asking for the first member's records");
        const path = op.params.length > 1 ? sharedPath : `${sharedPath}?user_id=${fx.memberId}`;
        const r = await call({ ...req, path, authorization: otherMember });
        if (checkCommon(who, op, r) !== true) return;
        // A refusal's problem names the request path (instance); only an
        // answer with data can leak.
        const leaks = is2xx(r.status) ? [fx.memberId, fx.bet, fx.payment].filter((id) => r.text.includes(id)) : [];
        record([200, 404].includes(r.status) && leaks.length === 0, who,
          "gets none of them (404, or an answer without the first member's records)", `${short(r)} leaks ${leaks.join(',')}`);
      });
    }
  }

  await pool(jobs, (job) => job());

  console.log(`${ops.length} operations, ${pairs.size} (operation x caller) pairs checked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

try {
  await main();
} catch (e) {
  record(false, 'setup', 'the matrix ran', e.stack ?? e.message);
} finally {
  httpsAgent.destroy();
  httpAgent.destroy();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
