#!/usr/bin/env node
// OpenAPI conformance check of REAL responses.
//
// Runs a scenario against a live Atrium server (every documented operation
// plus many error paths) and checks every response against
// openapi/openapi.yaml: the route and method are documented, the status is
// documented for the operation, the Content-Type is a documented media type,
// the body validates against the documented schema, and documented required
// headers (X-Request-Id always; ETag, Location, Allow, Retry-After,
// WWW-Authenticate where documented) are present and valid. It also asserts
// the behaviour each step is about (expected status, fields, ordering).
// Finally every documented operation must have been exercised with a
// successful (2xx) response.
//
// Environment (exported by scripts/test):
//   ATRIUM_TEST_BASE_URL    e.g. https://127.0.0.1:28443
//   ATRIUM_TEST_IDP_URL     e.g. http://127.0.0.1:28080 (POST /mint)
//   ATRIUM_HOME_TENANT_ID   the operator directory (only it can be super_admin)
//   ATRIUM_OIDC_AUDIENCE    optional; the first value is used as the token aud
//   ATRIUM_TEST_CA          optional; PEM file (or PEM text) of the server's CA,
//                           otherwise NODE_EXTRA_CA_CERTS / the system store
//   ATRIUM_OPENAPI_PATH     optional; defaults to openapi/openapi.yaml
//   ATRIUM_TEST_OVERSIZE_BYTES optional; body size for the 413 check (4 MiB)
//
// Output: one line per check ("PASS ..." / "FAIL ..."), then exactly
// "N passed, M failed". Exit status 1 if anything failed.

import http from 'node:http';
import https from 'node:https';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';
import { Conformance, loadSpec } from './validator.mjs';

const specPath =
  process.env.ATRIUM_OPENAPI_PATH ?? fileURLToPath(new URL('../../openapi/openapi.yaml', import.meta.url));
const BASE = (process.env.ATRIUM_TEST_BASE_URL ?? '').replace(/\/+$/, '');
const IDP = (process.env.ATRIUM_TEST_IDP_URL ?? '').replace(/\/+$/, '');
const HOME = process.env.ATRIUM_HOME_TENANT_ID ?? '';
const AUD = (process.env.ATRIUM_OIDC_AUDIENCE ?? '').split(',').map((s) => s.trim()).filter(Boolean)[0];
const OVERSIZE = Number(process.env.ATRIUM_TEST_OVERSIZE_BYTES ?? 4 * 1024 * 1024);
const TIMEOUT_MS = 20000;

// ---------------------------------------------------------------- results

let passed = 0;
let failed = 0;
function record(ok, label, what, detail = '') {
  if (ok) passed++;
  else failed++;
  const tail = !ok && detail ? ` -- ${String(detail).replace(/\s+/g, ' ').slice(0, 500)}` : '';
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

// A raw HTTP exchange. Never throws: a transport error comes back as status 0.
// With expectContinue, the body is sent only after "100 Continue", in chunks,
// and no more of it once a response has arrived: a server that refuses an
// oversize body from its Content-Length (the way to answer 413) is never
// made to read it, and one that closes mid-upload still has its answer read.
function rawRequest(url, { method = 'GET', headers = {}, body, expectContinue = false } = {}) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const h = { ...headers };
    if (payload !== undefined) h['Content-Length'] = String(payload.length);
    if (payload !== undefined && expectContinue) h.Expect = '100-continue';
    let settled = false;
    let responded = false;
    const done = (r) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const req = mod.request(
      u,
      { method, headers: h, agent: false, ...(u.protocol === 'https:' && CA ? { ca: CA } : {}) },
      (res) => {
        responded = true;
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          done({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
          req.destroy();
        });
        res.on('error', (e) => done({ status: 0, headers: {}, text: '', error: e.message }));
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`timed out after ${TIMEOUT_MS} ms`)));
    req.on('error', (e) =>
      // Give a response that is already on its way the chance to win.
      setTimeout(() => done({ status: 0, headers: {}, text: '', error: `${e.code ?? ''} ${e.message}`.trim() }), 200),
    );
    if (payload === undefined) {
      req.end();
    } else if (!expectContinue) {
      req.end(payload);
    } else {
      // Servers that ignore Expect get the body after a second anyway.
      let started = false;
      const start = () => {
        if (started || responded || req.destroyed) return;
        started = true;
        let off = 0;
        const pump = () => {
          while (off < payload.length && !responded && !req.destroyed) {
            const chunk = payload.subarray(off, off + 65536);
            off += chunk.length;
            if (!req.write(chunk)) return req.once('drain', pump);
          }
          if (!responded && !req.destroyed) req.end();
        };
        pump();
      };
      req.on('continue', start);
      setTimeout(start, 1000).unref();
    }
  });
}

// Tokens from the local identity provider.
async function mint(claims) {
  const body = JSON.stringify({ ...(AUD ? { aud: AUD } : {}), ...claims });
  const r = await rawRequest(`${IDP}/mint`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
  });
  let token;
  try {
    token = JSON.parse(r.text).access_token;
  } catch {
    /* reported below */
  }
  record(r.status === 200 && typeof token === 'string', 'setup', `mint a token for tid ${claims.tid} roles [${(claims.roles ?? []).join(',')}]`,
    `IdP answered ${r.status} ${r.error ?? r.text.slice(0, 200)}`);
  return typeof token === 'string' ? token : null;
}

// A token the rest of the scenario cannot do without.
async function mustMint(claims) {
  const token = await mint(claims);
  if (!token) throw new Error('cannot mint tokens: is the identity provider up?');
  return token;
}

// ---------------------------------------------------------------- checks

const spec = loadSpec(specPath);
const conf = new Conformance(spec);
const exercised = new Set(); // operation keys answered with a documented 2xx

// Send a request to Atrium, check the response against the description and
// the expected status. Returns { status, headers, text, body }.
async function call(step, { method = 'GET', path, token, headers = {}, json, body, contentType, expectContinue }, expectStatus) {
  const h = { Accept: 'application/json, application/problem+json, */*', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = body;
  if (json !== undefined) payload = JSON.stringify(json);
  // contentType null: send the body without any Content-Type.
  if (payload !== undefined && contentType !== null) h['Content-Type'] = contentType ?? 'application/json';
  const r = await rawRequest(BASE + path, { method, headers: h, body: payload, expectContinue });
  const label = `[${step}] ${method} ${path.length > 90 ? path.slice(0, 90) + '...' : path} -> ${r.status}`;
  if (r.status === 0) {
    record(false, label, 'got a response', r.error + (expectContinue
      ? ' (a server should refuse an oversize body from its Content-Length, before reading it: answer 413 at once, without 100 Continue)'
      : ''));
    return { status: 0, headers: {}, text: '', body: undefined };
  }
  if (expectStatus !== undefined) {
    const want = [].concat(expectStatus);
    record(want.includes(r.status), label, `status is ${want.join(' or ')}`, `got ${r.status}: ${r.text.slice(0, 300)}`);
  }
  const result = conf.checkExchange({ method, path, status: r.status, headers: r.headers, text: r.text });
  for (const c of result.checks) record(c.ok, label, c.what, c.detail);
  if (result.operationKey && r.status >= 200 && r.status < 400 && result.checks.every((c) => c.ok)) {
    exercised.add(result.operationKey);
  }
  let parsed;
  try {
    parsed = r.text ? JSON.parse(r.text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: r.status, headers: r.headers, text: r.text, body: parsed, label };
}

function expect(res, what, ok, detail = '') {
  record(!!ok, res.label ?? '[assert]', what, detail);
}

const fieldNames = (res) => (res.body?.errors ?? []).map((e) => e.field);
const hasField = (res, name) => fieldNames(res).some((f) => f === name || f.startsWith(`${name}.`) || f.endsWith(`/${name}`) || f === `/${name}`);

// ---------------------------------------------------------------- scenario

async function scenario() {
  for (const [name, value] of Object.entries({
    ATRIUM_TEST_BASE_URL: BASE,
    ATRIUM_TEST_IDP_URL: IDP,
    ATRIUM_HOME_TENANT_ID: HOME,
  })) {
    record(!!value, 'setup', `${name} is set`);
    if (!value) throw new Error(`${name} is not set`);
  }

  const run = randomBytes(4).toString('hex');
  const superOid = randomUUID();
  const superToken = await mustMint({
    tid: HOME, oid: superOid, roles: ['super_admin'], name: 'Conformance Operator', preferred_username: `operator-${run}@example.test`,
  });

  // -- operations endpoints (no auth)
  await call('healthz', { path: '/healthz' }, 200);
  await call('readyz', { path: '/readyz' }, 200);
  const metrics = await call('metrics', { path: '/metrics' }, 200);
  expect(metrics, 'exposition has # TYPE lines', /^# TYPE /m.test(metrics.text));
  const served = await call('openapi', { path: '/openapi.yaml' }, 200);
  let servedSpec;
  try {
    servedSpec = YAML.parse(served.text);
  } catch (e) {
    servedSpec = e.message;
  }
  expect(served, 'served description equals openapi/openapi.yaml', isDeepStrictEqual(servedSpec, spec));

  // -- the problem catalogue: every problem's type resolves to its entry
  const catalogue = await call('problem catalogue', { path: '/problems', headers: { Accept: 'application/json' } }, 200);
  const codes = (catalogue.body?.items ?? []).map((e) => e.code);
  expect(catalogue, 'the catalogue lists not-found and validation', codes.includes('not-found') && codes.includes('validation'));
  const html = await call('problem catalogue (HTML)', { path: '/problems', headers: { Accept: 'text/html' } }, 200);
  expect(html, 'the HTML catalogue has a section per code', codes.every((c) => html.text.includes(`id="${c}"`)));
  const lost = await call('a 404 whose type resolves', { path: `/nope-${run}` }, 404);
  const typePath = new URL(lost.body?.type ?? 'about:blank', BASE).pathname;
  const entry = await call('the type of a real problem', { path: typePath, headers: { Accept: 'application/json' } }, 200);
  expect(entry, 'the entry is the problem\'s', entry.body?.code === 'not-found' && entry.body?.type === lost.body?.type);
  await call('problem type (HTML)', { path: '/problems/validation', headers: { Accept: 'text/html' } }, 200);
  await call('unknown problem type', { path: `/problems/no-such-${run}` }, 404);

  // -- generic errors
  await call('unknown route', { path: `/v1/no-such-thing-${run}`, token: superToken }, 404);
  await call('unknown route (no auth)', { path: '/nope' }, 404);
  await call('wrong method', { method: 'POST', path: '/healthz' }, 405);
  await call('wrong method', { method: 'PUT', path: '/v1/tenants', token: superToken, json: {} }, 405);

  // -- authentication
  const noAuth = await call('no token', { path: '/v1/me' }, 401);
  expect(noAuth, 'WWW-Authenticate is a Bearer challenge', /^Bearer\b/.test(noAuth.headers['www-authenticate'] ?? ''));
  await call('garbage token', { path: '/v1/me', token: 'not.a.jwt' }, 401);
  await call('no token', { path: '/v1/tenants' }, 401);
  const expired = await mint({ tid: HOME, oid: superOid, roles: ['super_admin'], exp_in: -3600 });
  if (expired) await call('expired token', { path: '/v1/me', token: expired }, 401);

  const sentId = `conformance-${run}`;
  const me = await call('me (super admin)', { path: '/v1/me', token: superToken, headers: { 'X-Request-Id': sentId } }, 200);
  expect(me, 'incoming X-Request-Id is echoed', me.headers['x-request-id'] === sentId, me.headers['x-request-id']);
  expect(me, 'roles include super_admin', me.body?.roles?.includes('super_admin'), JSON.stringify(me.body?.roles));
  expect(me, 'user.tid/oid are the token\'s', me.body?.user?.tid === HOME && me.body?.user?.oid === superOid);
  expect(me, 'auth is bearer', me.body?.auth === 'bearer');

  // -- create
  const slugA = `conf-a-${run}`;
  const slugB = `conf-b-${run}`;
  const aadA = randomUUID();
  const aadB = randomUUID();
  const createA = {
    slug: slugA,
    name: `Conformance A ${run}`,
    aad_tenant_id: aadA,
    aad_admin_group_id: randomUUID(),
    tags: { suite: 'conformance', run },
    quickbooks_realm_id: `realm-${run}`,
  };
  const idemKey = `conformance-${run}-${randomUUID()}`;
  const a = await call('create tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken, json: createA, headers: { 'Idempotency-Key': idemKey },
  }, 201);
  const A = a.body;
  if (a.status !== 201 || !A?.id) throw new Error('tenant creation failed; the rest of the scenario depends on it');
  expect(a, 'fields echo the request', A.slug === slugA && A.name === createA.name && A.aad_tenant_id === aadA &&
    A.aad_admin_group_id === createA.aad_admin_group_id && isDeepStrictEqual(A.tags, createA.tags) &&
    A.quickbooks_realm_id === createA.quickbooks_realm_id && A.pax8_company_id === null, JSON.stringify(A));
  expect(a, 'status is active', A.status === 'active');
  expect(a, 'Location names the tenant', (a.headers.location ?? '').endsWith(`/v1/tenants/${A.id}`), a.headers.location);
  expect(a, 'not marked as a replay', a.headers['idempotent-replayed'] === undefined);
  const etagA0 = a.headers.etag;

  const replay = await call('idempotent replay', {
    method: 'POST', path: '/v1/tenants', token: superToken, json: createA, headers: { 'Idempotency-Key': idemKey },
  }, 201);
  expect(replay, 'Idempotent-Replayed: true', replay.headers['idempotent-replayed'] === 'true', replay.headers['idempotent-replayed']);
  expect(replay, 'replays the original body', isDeepStrictEqual(replay.body, A));
  await call('idempotency key, other body', {
    method: 'POST', path: '/v1/tenants', token: superToken, json: { ...createA, name: 'Something else' },
    headers: { 'Idempotency-Key': idemKey },
  }, 422);

  const b = await call('create second tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken, json: { slug: slugB, name: `Conformance B ${run}`, aad_tenant_id: aadB },
  }, 201);
  const B = b.body;
  if (b.status !== 201 || !B?.id) throw new Error('second tenant creation failed');
  expect(b, 'optional fields default (null / {})', B.aad_admin_group_id === null && B.quickbooks_realm_id === null &&
    B.pax8_company_id === null && isDeepStrictEqual(B.tags, {}), JSON.stringify(B));

  // -- create: errors
  await call('duplicate slug', {
    method: 'POST', path: '/v1/tenants', token: superToken, json: { slug: slugA, name: 'Dup', aad_tenant_id: randomUUID() },
  }, 409);
  await call('duplicate aad_tenant_id', {
    method: 'POST', path: '/v1/tenants', token: superToken, json: { slug: `conf-c-${run}`, name: 'Dup', aad_tenant_id: aadA },
  }, 409);
  const unknownField = await call('unknown field', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    json: { slug: `conf-d-${run}`, name: 'X', aad_tenant_id: randomUUID(), colour: 'blue' },
  }, 422);
  expect(unknownField, 'errors[] names the unknown field', hasField(unknownField, 'colour'), JSON.stringify(fieldNames(unknownField)));
  const badValues = await call('invalid values', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    json: { slug: 'Not_A_Label', name: 5, aad_tenant_id: 'nope' },
  }, 422);
  for (const f of ['slug', 'name', 'aad_tenant_id']) {
    expect(badValues, `errors[] names ${f}`, hasField(badValues, f), JSON.stringify(fieldNames(badValues)));
  }
  const missing = await call('missing required', { method: 'POST', path: '/v1/tenants', token: superToken, json: { name: 'X' } }, 422);
  expect(missing, 'errors[] names slug and aad_tenant_id', hasField(missing, 'slug') && hasField(missing, 'aad_tenant_id'),
    JSON.stringify(fieldNames(missing)));
  await call('read-only field', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    json: { slug: `conf-e-${run}`, name: 'X', aad_tenant_id: randomUUID(), id: randomUUID() },
  }, 422);
  await call('too many tags', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    json: { slug: `conf-f-${run}`, name: 'X', aad_tenant_id: randomUUID(), tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
  }, 422);
  await call('malformed JSON', { method: 'POST', path: '/v1/tenants', token: superToken, body: '{"slug": "x", ' }, 400);
  await call('body not an object', { method: 'POST', path: '/v1/tenants', token: superToken, body: '[1, 2]' }, 400);
  await call('wrong content type', {
    method: 'POST', path: '/v1/tenants', token: superToken, body: 'slug=x', contentType: 'application/x-www-form-urlencoded',
  }, 415);
  await call('body too large', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    body: `{"slug":"conf-g-${run}","name":"${'x'.repeat(OVERSIZE)}","aad_tenant_id":"${randomUUID()}"}`,
    expectContinue: true,
  }, 413);
  await call('no Content-Type', { method: 'POST', path: '/v1/tenants', token: superToken, body: JSON.stringify({ slug: 'x' }), contentType: null }, 415);

  // -- read
  const getA = await call('get tenant', { path: `/v1/tenants/${A.id}`, token: superToken }, 200);
  expect(getA, 'same tenant as created', isDeepStrictEqual(getA.body, A));
  expect(getA, 'ETag equals the one from create', getA.headers.etag === etagA0, `${getA.headers.etag} vs ${etagA0}`);
  await call('unknown tenant id', { path: `/v1/tenants/${randomUUID()}`, token: superToken }, 404);
  await call('malformed tenant id', { path: '/v1/tenants/not-a-uuid', token: superToken }, 404);

  // -- list and paginate
  const page1 = await call('list, limit=1', { path: '/v1/tenants?limit=1', token: superToken }, 200);
  expect(page1, 'one item and a next_cursor', page1.body?.data?.length === 1 && typeof page1.body?.next_cursor === 'string');
  if (typeof page1.body?.next_cursor === 'string') {
    const page2 = await call('list, next page', {
      path: `/v1/tenants?limit=1&cursor=${encodeURIComponent(page1.body.next_cursor)}`, token: superToken,
    }, 200);
    const [p1, p2] = [page1.body.data[0], page2.body?.data?.[0]];
    expect(page2, 'next page holds a different, older (or equal-time) tenant',
      p2 && p2.id !== p1.id && Date.parse(p2.created_at) <= Date.parse(p1.created_at), JSON.stringify([p1?.created_at, p2?.created_at]));
  }
  const bySlug = await call('list, slug filter', { path: `/v1/tenants?slug=${slugA}`, token: superToken }, 200);
  expect(bySlug, 'exactly tenant A', bySlug.body?.data?.length === 1 && bySlug.body.data[0].id === A.id && bySlug.body.next_cursor === null);
  const active = await call('list, status=active', { path: '/v1/tenants?status=active&limit=100', token: superToken }, 200);
  expect(active, 'only active tenants', (active.body?.data ?? []).every((t) => t.status === 'active'));
  const newest = active.body?.data ?? [];
  expect(active, 'newest first', newest.every((t, i) => i === 0 || Date.parse(newest[i - 1].created_at) >= Date.parse(t.created_at)));
  await call('list, limit=0', { path: '/v1/tenants?limit=0', token: superToken }, 400);
  await call('list, limit=101', { path: '/v1/tenants?limit=101', token: superToken }, 400);
  await call('list, limit=abc', { path: '/v1/tenants?limit=abc', token: superToken }, 400);
  await call('list, bad cursor', { path: '/v1/tenants?cursor=%21%21not-a-cursor%21%21', token: superToken }, 400);
  await call('list, bad status', { path: '/v1/tenants?status=sleeping', token: superToken }, 400);

  // -- update
  const patched = await call('patch with If-Match', {
    method: 'PATCH', path: `/v1/tenants/${A.id}`, token: superToken, contentType: 'application/merge-patch+json',
    headers: { 'If-Match': etagA0 }, json: { name: `Conformance A2 ${run}`, tags: { run: null, tier: 'gold' }, pax8_company_id: `pax8-${run}` },
  }, 200);
  expect(patched, 'merge patch applied', patched.body?.name === `Conformance A2 ${run}` &&
    isDeepStrictEqual(patched.body?.tags, { suite: 'conformance', tier: 'gold' }) && patched.body?.pax8_company_id === `pax8-${run}` &&
    patched.body?.slug === slugA && patched.body?.quickbooks_realm_id === createA.quickbooks_realm_id, JSON.stringify(patched.body));
  expect(patched, 'ETag changed', patched.headers.etag && patched.headers.etag !== etagA0, patched.headers.etag);
  expect(patched, 'updated_at advanced', Date.parse(patched.body?.updated_at) > Date.parse(A.updated_at));
  await call('patch with stale If-Match', {
    method: 'PATCH', path: `/v1/tenants/${A.id}`, token: superToken, headers: { 'If-Match': etagA0 }, json: { name: 'stale' },
  }, 412);
  await call('patch, null clears', {
    method: 'PATCH', path: `/v1/tenants/${A.id}`, token: superToken, json: { quickbooks_realm_id: null },
  }, 200);
  const roPatch = await call('patch read-only field', { method: 'PATCH', path: `/v1/tenants/${A.id}`, token: superToken, json: { slug: 'renamed' } }, 422);
  expect(roPatch, 'errors[] names slug', hasField(roPatch, 'slug'), JSON.stringify(fieldNames(roPatch)));
  await call('patch unknown field', { method: 'PATCH', path: `/v1/tenants/${A.id}`, token: superToken, json: { colour: 'red' } }, 422);
  await call('patch empty object', { method: 'PATCH', path: `/v1/tenants/${A.id}`, token: superToken, json: {} }, 422);
  await call('patch status=deleted', { method: 'PATCH', path: `/v1/tenants/${A.id}`, token: superToken, json: { status: 'deleted' } }, 422);
  await call('patch malformed JSON', { method: 'PATCH', path: `/v1/tenants/${A.id}`, token: superToken, body: '{"name":' }, 400);
  await call('patch wrong content type', {
    method: 'PATCH', path: `/v1/tenants/${A.id}`, token: superToken, body: 'name: x', contentType: 'text/plain',
  }, 415);
  await call('patch unknown tenant', { method: 'PATCH', path: `/v1/tenants/${randomUUID()}`, token: superToken, json: { name: 'x' } }, 404);

  // -- a member of tenant A (token from A's directory, no roles)
  const memberOid = randomUUID();
  const member = await mustMint({ tid: aadA, oid: memberOid, roles: [], name: 'Member A', preferred_username: `member-${run}@a.example.test` });
  const meMember = await call('me (member)', { path: '/v1/me', token: member }, 200);
  expect(meMember, 'tenant is A', meMember.body?.tenant?.id === A.id && meMember.body?.tenant?.slug === slugA, JSON.stringify(meMember.body?.tenant));
  expect(meMember, 'roles are [member]', isDeepStrictEqual(meMember.body?.roles, ['member']), JSON.stringify(meMember.body?.roles));
  expect(meMember, 'user claims', meMember.body?.user?.tid === aadA && meMember.body?.user?.oid === memberOid &&
    meMember.body?.user?.name === 'Member A');
  const memberGet = await call('member reads its tenant', { path: `/v1/tenants/${A.id}`, token: member }, 200);
  expect(memberGet, 'tenant A', memberGet.body?.id === A.id);
  const memberList = await call('member lists tenants', { path: '/v1/tenants', token: member }, 200);
  expect(memberList, 'sees only its own tenant', (memberList.body?.data ?? []).length === 1 && memberList.body.data[0].id === A.id,
    JSON.stringify((memberList.body?.data ?? []).map((t) => t.id)));
  await call('member patches', { method: 'PATCH', path: `/v1/tenants/${A.id}`, token: member, json: { name: 'mine now' } }, 403);
  await call('member reads another tenant', { path: `/v1/tenants/${B.id}`, token: member }, 404);
  await call('member patches another tenant', { method: 'PATCH', path: `/v1/tenants/${B.id}`, token: member, json: { name: 'x' } }, 404);
  await call('member deletes', { method: 'DELETE', path: `/v1/tenants/${A.id}`, token: member }, 403);
  await call('member creates', {
    method: 'POST', path: '/v1/tenants', token: member, json: { slug: `conf-h-${run}`, name: 'X', aad_tenant_id: randomUUID() },
  }, 403);
  await call('member reads audit', { path: `/v1/tenants/${A.id}/audit`, token: member }, 403);
  await call('member reads other audit', { path: `/v1/tenants/${B.id}/audit`, token: member }, 404);
  const memberAsSuper = await mustMint({ tid: aadA, oid: randomUUID(), roles: ['super_admin'] });
  await call('super_admin role from a tenant directory', { method: 'POST', path: '/v1/tenants', token: memberAsSuper,
    json: { slug: `conf-i-${run}`, name: 'X', aad_tenant_id: randomUUID() } }, 403);

  // -- a tenant_admin of A
  const admin = await mustMint({ tid: aadA, oid: randomUUID(), roles: ['tenant_admin'] });
  const adminPatch = await call('tenant_admin patches', {
    method: 'PATCH', path: `/v1/tenants/${A.id}`, token: admin, json: { name: `Conformance A3 ${run}` },
  }, 200);
  expect(adminPatch, 'name changed', adminPatch.body?.name === `Conformance A3 ${run}`);
  await call('tenant_admin changes status', { method: 'PATCH', path: `/v1/tenants/${A.id}`, token: admin, json: { status: 'suspended' } }, 403);
  const adminAudit = await call('tenant_admin reads audit', { path: `/v1/tenants/${A.id}/audit`, token: admin }, 200);
  expect(adminAudit, 'only tenant A records', (adminAudit.body?.data ?? []).every((r) => r.tenant_id === A.id));
  const support = await mustMint({ tid: aadA, oid: randomUUID(), roles: ['support_user'] });
  await call('support_user reads audit', { path: `/v1/tenants/${A.id}/audit`, token: support }, 200);
  await call('support_user patches', { method: 'PATCH', path: `/v1/tenants/${A.id}`, token: support, json: { name: 'x' } }, 403);

  // -- audit
  const audit = await call('audit log', { path: `/v1/tenants/${A.id}/audit?limit=100`, token: superToken }, 200);
  const records = audit.body?.data ?? [];
  const actions = records.filter((r) => r.resource_id === A.id).map((r) => r.action);
  expect(audit, 'records tenant.create and tenant.update', actions.includes('tenant.create') && actions.includes('tenant.update'), JSON.stringify(actions));
  const createRec = records.find((r) => r.action === 'tenant.create' && r.resource_id === A.id);
  expect(audit, 'create record names the actor, resource and request', createRec && createRec.actor?.kind === 'user' &&
    createRec.actor?.tid === HOME && createRec.actor?.oid === superOid && createRec.resource_type === 'tenant' &&
    createRec.request_id === a.headers['x-request-id'], JSON.stringify(createRec));
  expect(audit, 'newest first', records.every((r, i) => i === 0 || Date.parse(records[i - 1].created_at) >= Date.parse(r.created_at)));
  const updates = await call('audit, action filter', { path: `/v1/tenants/${A.id}/audit?action=tenant.update`, token: superToken }, 200);
  expect(updates, 'only tenant.update', (updates.body?.data ?? []).length > 0 && updates.body.data.every((r) => r.action === 'tenant.update'));
  const byType = await call('audit, resource_type filter', { path: `/v1/tenants/${A.id}/audit?resource_type=tenant`, token: superToken }, 200);
  expect(byType, 'only tenant records', (byType.body?.data ?? []).length > 0 && byType.body.data.every((r) => r.resource_type === 'tenant'));
  const auditPage = await call('audit, limit=1', { path: `/v1/tenants/${A.id}/audit?limit=1`, token: superToken }, 200);
  expect(auditPage, 'one record and a next_cursor', auditPage.body?.data?.length === 1 && typeof auditPage.body?.next_cursor === 'string');
  if (typeof auditPage.body?.next_cursor === 'string') {
    const next = await call('audit, next page', {
      path: `/v1/tenants/${A.id}/audit?limit=1&cursor=${encodeURIComponent(auditPage.body.next_cursor)}`, token: superToken,
    }, 200);
    expect(next, 'a different record', next.body?.data?.[0] && next.body.data[0].id !== auditPage.body.data[0].id);
  }
  await call('audit, limit=abc', { path: `/v1/tenants/${A.id}/audit?limit=abc`, token: superToken }, 400);
  await call('audit, unknown tenant', { path: `/v1/tenants/${randomUUID()}/audit`, token: superToken }, 404);

  // -- wrong method on a tenant
  await call('wrong method', { method: 'PUT', path: `/v1/tenants/${A.id}`, token: superToken, json: { name: 'x' } }, 405);
  await call('wrong method', { method: 'POST', path: `/v1/tenants/${A.id}/audit`, token: superToken, json: {} }, 405);

  // -- suspension: the tenant's users are refused
  const suspended = await call('suspend tenant B', { method: 'PATCH', path: `/v1/tenants/${B.id}`, token: superToken, json: { status: 'suspended' } }, 200);
  expect(suspended, 'status suspended', suspended.body?.status === 'suspended');
  const memberB = await mustMint({ tid: aadB, oid: randomUUID(), roles: ['tenant_admin'] });
  await call('user of a suspended tenant', { path: '/v1/me', token: memberB }, 403);
  await call('user of a suspended tenant', { path: `/v1/tenants/${B.id}`, token: memberB }, 403);
  const listSusp = await call('list, status=suspended', { path: `/v1/tenants?status=suspended&slug=${slugB}`, token: superToken }, 200);
  expect(listSusp, 'holds tenant B', (listSusp.body?.data ?? []).some((t) => t.id === B.id));

  // -- delete (soft)
  await call('delete tenant A', { method: 'DELETE', path: `/v1/tenants/${A.id}`, token: superToken }, 204);
  const gone = await call('get deleted tenant', { path: `/v1/tenants/${A.id}`, token: superToken }, 200);
  expect(gone, 'status deleted', gone.body?.status === 'deleted');
  const hidden = await call('list hides deleted', { path: `/v1/tenants?slug=${slugA}`, token: superToken }, 200);
  expect(hidden, 'tenant A not listed', (hidden.body?.data ?? []).every((t) => t.id !== A.id));
  const shown = await call('list status=deleted', { path: `/v1/tenants?status=deleted&slug=${slugA}`, token: superToken }, 200);
  expect(shown, 'tenant A listed', (shown.body?.data ?? []).some((t) => t.id === A.id));
  const delAudit = await call('audit after delete', { path: `/v1/tenants/${A.id}/audit?action=tenant.delete`, token: superToken }, 200);
  expect(delAudit, 'tenant.delete recorded', (delAudit.body?.data ?? []).some((r) => r.resource_id === A.id));
  await call('delete unknown tenant', { method: 'DELETE', path: `/v1/tenants/${randomUUID()}`, token: superToken }, 404);
  await call('delete tenant B', { method: 'DELETE', path: `/v1/tenants/${B.id}`, token: superToken }, 204);
}

// ---------------------------------------------------------------- main

try {
  await scenario();
} catch (e) {
  record(false, 'scenario', 'ran to the end', e?.stack ?? String(e));
}

// Each capability adds its own scenario in tests/conformance/scenarios/*.mjs:
// `export default async function (ctx)` with the helpers below.
const scenariosDir = fileURLToPath(new URL('./scenarios/', import.meta.url));
if (existsSync(scenariosDir)) {
  const { readdirSync } = await import('node:fs');
  const ctx = { call, mint, mustMint, expect, record, hasField, randomUUID, randomBytes, HOME, BASE, IDP };
  for (const f of readdirSync(scenariosDir).filter((n) => n.endsWith('.mjs')).sort()) {
    try {
      const mod = await import(new URL(`./scenarios/${f}`, import.meta.url));
      await mod.default(ctx);
    } catch (e) {
      record(false, `scenario ${f}`, 'ran to the end', e?.stack ?? String(e));
    }
  }
}

for (const op of conf.operations()) {
  record(exercised.has(op.key), 'coverage', `${op.key} (${op.operationId}) exercised with a conforming 2xx/3xx response`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
