// Self-test for the fake ARM server: node --test tests/fake-arm/selftest.mjs
// Starts server.mjs as a child process on a random free port and checks the
// protocol behaviours the worker relies on.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SUB = '6f1c2a3b-0000-4000-8000-000000000001';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const GROUP = '11111111-2222-4333-8444-555555555555';
const RA1 = '0a1b2c3d-0000-4000-8000-00000000aaaa';
const RA2 = '0a1b2c3d-0000-4000-8000-00000000bbbb';

let child;
let base;
let stdout = '';
let token;

before(async () => {
  child = spawn(process.execPath, [path.join(HERE, 'server.mjs')], {
    env: { ...process.env, FAKE_ARM_PORT: '0', FAKE_ARM_RETRY_AFTER: '0', FAKE_ARM_DELETE_POLLS: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  base = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not start: ' + stdout)), 5000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${stdout}`)));
  });
});

after(() => { if (child && child.exitCode === null) child.kill('SIGKILL'); });

beforeEach(async () => {
  await ctl('POST', '/_fake/reset');
  token = (await getToken()).json.access_token;
});

// ---- helpers -----------------------------------------------------------------

async function call(method, p, { body, headers = {}, raw } = {}) {
  const h = { ...headers };
  let b;
  if (raw !== undefined) b = raw;
  else if (body !== undefined) { b = JSON.stringify(body); h['Content-Type'] ??= 'application/json'; }
  const res = await fetch(base + p, { method, headers: h, body: b });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not json */ }
  return { status: res.status, headers: res.headers, text, json };
}

function arm(method, p, opts = {}) {
  const headers = { Authorization: `Bearer ${token}`, ...(opts.headers || {}) };
  return call(method, p, { ...opts, headers });
}

async function ctl(method, p, body) {
  const r = await call(method, p, { body });
  assert.ok(r.status < 300, `control ${method} ${p} -> ${r.status} ${r.text}`);
  return r.json;
}

function getToken(form = {}) {
  const f = new URLSearchParams({
    grant_type: 'client_credentials', client_id: 'app-1', client_secret: 'fake-secret',
    scope: 'https://management.azure.com/.default', ...form,
  });
  return call('POST', '/tenant-a/oauth2/v2.0/token', {
    raw: f.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
}

const V = 'api-version=2021-04-01';
const RAV = 'api-version=2022-04-01';
const rgPath = (name) => `/subscriptions/${SUB}/resourcegroups/${name}?${V}`;
const raPath = (rg, guid) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Authorization/roleAssignments/${guid}?${RAV}`;
const raBody = (principal = GROUP, role = CONTRIBUTOR) => ({
  properties: {
    roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
    principalId: principal, principalType: 'Group',
  },
});

function relative(url) { const u = new URL(url); return u.pathname + u.search; }

async function createRg(name, location = 'westeurope', tags = { Project: 'atrium' }) {
  const r = await arm('PUT', rgPath(name), { body: { location, tags } });
  assert.equal(r.status, 201, r.text);
  return r;
}

function rawRequest({ method = 'PUT', p, headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const u = new URL(base + p);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: data }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) req.end(body); else req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- Entra token endpoint ------------------------------------------------------

test('token endpoint: client credentials success, Entra-shaped errors, counted', async () => {
  const ok = await getToken();
  assert.equal(ok.status, 200);
  assert.equal(ok.json.token_type, 'Bearer');
  assert.equal(ok.json.expires_in, 3599);
  assert.equal(ok.json.ext_expires_in, 3599);
  assert.match(ok.json.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const payload = JSON.parse(Buffer.from(ok.json.access_token.split('.')[1], 'base64url').toString());
  assert.equal(payload.aud, 'https://management.azure.com');
  assert.equal(payload.tid, 'tenant-a');
  assert.equal(payload.appid, 'app-1');
  assert.ok(payload.exp > Date.now() / 1000);

  const bad = await getToken({ client_secret: 'wrong' });
  assert.equal(bad.status, 401);
  assert.equal(bad.json.error, 'invalid_client');
  assert.match(bad.json.error_description, /^AADSTS7000215: /);
  assert.deepEqual(bad.json.error_codes, [7000215]);
  for (const k of ['timestamp', 'trace_id', 'correlation_id']) assert.ok(bad.json[k], k);

  const scope = await getToken({ scope: 'https://management.azure.com' });
  assert.equal(scope.status, 400);
  assert.equal(scope.json.error, 'invalid_scope');

  const grant = await getToken({ grant_type: 'password' });
  assert.equal(grant.status, 400);
  assert.equal(grant.json.error, 'unsupported_grant_type');

  const log = await ctl('GET', '/_fake/requests?kind=token');
  // beforeEach fetched one, plus the four here
  assert.equal(log.count, 5);
  assert.equal(log.requests[0].body.client_secret, '<redacted>');
  assert.equal(log.requests[0].body.client_id, 'app-1');
  assert.equal(log.requests[2].body.client_secret_ok, false);
  const st = await ctl('GET', '/_fake/state');
  assert.equal(st.token_requests, 5);
  assert.equal(st.tokens_issued, 2);
});

// ---- client assertions (certificate and federated credentials) --------------------

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function signJwt(header, payload, key) {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

// A key and a self-signed certificate made with the openssl command.
function makeCert(dir, name) {
  const key = path.join(dir, `${name}.key`), crt = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-days', '1',
    '-keyout', key, '-out', crt], { stdio: 'ignore' });
  const pem = fs.readFileSync(crt, 'utf8');
  const x = new crypto.X509Certificate(pem);
  return { key: crypto.createPrivateKey(fs.readFileSync(key)), pem, x5t: crypto.createHash('sha256').update(x.raw).digest('base64url') };
}

function assertionToken(assertion, form = {}) {
  return getToken({ client_secret: '', client_assertion_type: JWT_BEARER, client_assertion: assertion, ...form });
}

test('token endpoint: certificate client assertion (x5t#S256, RS256, aud, iss/sub, exp/nbf)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-arm-cert-'));
  try {
    const a = makeCert(dir, 'registered'), b = makeCert(dir, 'stranger');
    const cfg = await ctl('POST', '/_fake/config', { client_certs: [a.pem] });
    assert.equal(cfg.client_certs[0].thumbprint_s256, a.x5t);
    const now = Math.floor(Date.now() / 1000);
    const aud = `${base}/tenant-a/oauth2/v2.0/token`;
    const claims = (o = {}) => ({ aud, iss: 'app-1', sub: 'app-1', jti: crypto.randomUUID(), nbf: now, iat: now, exp: now + 600, ...o });
    const hdr = (x5t) => ({ alg: 'RS256', typ: 'JWT', 'x5t#S256': x5t });

    const ok = await assertionToken(signJwt(hdr(a.x5t), claims(), a.key));
    assert.equal(ok.status, 200, ok.text);
    assert.ok(ok.json.access_token);

    const forged = await assertionToken(signJwt(hdr(a.x5t), claims(), b.key));
    assert.equal(forged.status, 401);
    assert.equal(forged.json.error, 'invalid_client');
    assert.match(forged.json.error_description, /^AADSTS700027: Client assertion failed signature validation/);

    const unknown = await assertionToken(signJwt(hdr(b.x5t), claims(), b.key));
    assert.equal(unknown.status, 401);
    assert.match(unknown.json.error_description, /^AADSTS700027: .*The key was not found/);

    const wrongAud = await assertionToken(signJwt(hdr(a.x5t), claims({ aud: `${base}/other/oauth2/v2.0/token` }), a.key));
    assert.equal(wrongAud.json.error, 'invalid_client');
    assert.deepEqual(wrongAud.json.error_codes, [700212]);

    const expired = await assertionToken(signJwt(hdr(a.x5t), claims({ nbf: now - 4000, iat: now - 4000, exp: now - 3400 }), a.key));
    assert.deepEqual(expired.json.error_codes, [700024]);

    const badSub = await assertionToken(signJwt(hdr(a.x5t), claims({ sub: 'someone' }), a.key));
    assert.deepEqual(badSub.json.error_codes, [700021]);

    const badType = await assertionToken(signJwt(hdr(a.x5t), claims(), a.key), { client_assertion_type: 'password' });
    assert.equal(badType.status, 400);
    assert.equal(badType.json.error, 'invalid_request');

    const both = await assertionToken(signJwt(hdr(a.x5t), claims(), a.key), { client_secret: 'fake-secret' });
    assert.equal(both.status, 400);

    const junk = await assertionToken('not-a-jwt');
    assert.deepEqual(junk.json.error_codes, [50027]);

    const log = await ctl('GET', '/_fake/requests?kind=token');
    const first = log.requests.find((r) => r.body.client_assertion);
    assert.equal(first.body.client_assertion, '<redacted>');
    assert.equal(first.assertion_kind, 'certificate');
  } finally {
    await ctl('POST', '/_fake/config', { client_certs: [] });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('token endpoint: federated credential checked against the JWKS, aud api://AzureADTokenExchange', async () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };
  const idp = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise((r) => idp.listen(0, '127.0.0.1', r));
  const jwks = `http://127.0.0.1:${idp.address().port}/jwks`;
  try {
    const now = Math.floor(Date.now() / 1000);
    const claims = (o = {}) => ({ iss: 'https://oidc.example/issuer', sub: 'system:serviceaccount:atrium:worker', aud: ['api://AzureADTokenExchange'], nbf: now, iat: now, exp: now + 3600, ...o });
    const hdr = { alg: 'RS256', typ: 'JWT', kid: 'k1' };

    const none = await assertionToken(signJwt(hdr, claims(), privateKey));
    assert.deepEqual(none.json.error_codes, [700211], 'no JWKS configured: no federated credential');

    await ctl('POST', '/_fake/config', { federated_jwks_url: jwks, federated_subject: 'system:serviceaccount:atrium:worker' });
    const ok = await assertionToken(signJwt(hdr, claims(), privateKey));
    assert.equal(ok.status, 200, ok.text);

    const forged = await assertionToken(signJwt(hdr, claims(), other));
    assert.equal(forged.status, 401);
    assert.equal(forged.json.error, 'invalid_client');
    assert.deepEqual(forged.json.error_codes, [50013]);

    const wrongAud = await assertionToken(signJwt(hdr, claims({ aud: 'api://something-else' }), privateKey));
    assert.equal(wrongAud.json.error, 'invalid_client');
    assert.deepEqual(wrongAud.json.error_codes, [700212]);

    const wrongSub = await assertionToken(signJwt(hdr, claims({ sub: 'system:serviceaccount:other:sa' }), privateKey));
    assert.deepEqual(wrongSub.json.error_codes, [700213]);

    const expired = await assertionToken(signJwt(hdr, claims({ nbf: now - 7200, iat: now - 7200, exp: now - 3600 }), privateKey));
    assert.deepEqual(expired.json.error_codes, [700024]);

    const log = await ctl('GET', '/_fake/requests?kind=token');
    assert.ok(log.requests.some((r) => r.assertion_kind === 'federated' && r.token_issued));
  } finally {
    await ctl('POST', '/_fake/config', { federated_jwks_url: null, federated_subject: null });
    idp.close();
  }
});

// ---- common ARM front door -------------------------------------------------------

test('ARM front door: api-version, Authorization, request ids, rate-limit headers', async () => {
  const noVer = await call('GET', `/subscriptions/${SUB}/resourcegroups/x`);
  assert.equal(noVer.status, 400);
  assert.equal(noVer.json.error.code, 'MissingApiVersionParameter');

  const noAuth = await call('GET', rgPath('x'));
  assert.equal(noAuth.status, 401);
  assert.equal(noAuth.json.error.code, 'AuthenticationFailed');
  assert.match(noAuth.headers.get('www-authenticate'), /^Bearer /);

  const badHeader = await call('GET', rgPath('x'), { headers: { Authorization: 'Basic Zm9vOmJhcg==' } });
  assert.equal(badHeader.status, 401);
  assert.equal(badHeader.json.error.code, 'AuthenticationFailedInvalidHeader');

  const notJwt = await call('GET', rgPath('x'), { headers: { Authorization: 'Bearer not-a-jwt' } });
  assert.equal(notJwt.status, 401);
  assert.equal(notJwt.json.error.code, 'InvalidAuthenticationToken');

  // A foreign JWT-looking token is fine...
  const foreign = ['{"alg":"none"}', `{"exp":${Math.floor(Date.now() / 1000) + 600}}`, 'sig']
    .map((s) => Buffer.from(s).toString('base64url')).join('.');
  const ok = await call('GET', rgPath('x'), { headers: { Authorization: `Bearer ${foreign}` } });
  assert.equal(ok.status, 404);
  // ...unless expired.
  const expired = ['{"alg":"none"}', `{"exp":${Math.floor(Date.now() / 1000) - 10}}`, 'sig']
    .map((s) => Buffer.from(s).toString('base64url')).join('.');
  const exp = await call('GET', rgPath('x'), { headers: { Authorization: `Bearer ${expired}` } });
  assert.equal(exp.status, 401);
  assert.equal(exp.json.error.code, 'ExpiredAuthenticationToken');

  // A token this fake issued for another audience is refused.
  const storageTok = (await getToken({ scope: 'https://storage.azure.com/.default' })).json.access_token;
  const aud = await call('GET', rgPath('x'), { headers: { Authorization: `Bearer ${storageTok}` } });
  assert.equal(aud.status, 401);
  assert.equal(aud.json.error.code, 'InvalidAuthenticationTokenAudience');

  // Request ids: client ids echoed, server ids generated otherwise.
  const r = await arm('GET', rgPath('x'), { headers: { 'x-ms-client-request-id': 'cli-123', 'x-ms-correlation-request-id': 'corr-456' } });
  assert.equal(r.headers.get('x-ms-request-id'), 'cli-123');
  assert.equal(r.headers.get('x-ms-client-request-id'), 'cli-123');
  assert.equal(r.headers.get('x-ms-correlation-request-id'), 'corr-456');
  assert.ok(r.headers.get('x-ms-ratelimit-remaining-subscription-reads'));
  const w = await arm('PUT', rgPath('ids'), { body: { location: 'eastus' } });
  assert.match(w.headers.get('x-ms-request-id'), /^[0-9a-f-]{36}$/);
  assert.match(w.headers.get('x-ms-correlation-request-id'), /^[0-9a-f-]{36}$/);
  assert.ok(Number(w.headers.get('x-ms-ratelimit-remaining-subscription-writes')) > 0);

  const sub = await arm('GET', `/subscriptions/not-a-guid/resourcegroups/x?${V}`);
  assert.equal(sub.status, 400);
  assert.equal(sub.json.error.code, 'InvalidSubscriptionId');

  // Force-expired tokens (to test the worker's cache invalidation on 401).
  await ctl('POST', '/_fake/expire-tokens');
  const fe = await arm('GET', rgPath('x'));
  assert.equal(fe.status, 401);
  assert.equal(fe.json.error.code, 'ExpiredAuthenticationToken');
});

// ---- resource groups -------------------------------------------------------------

test('resource groups: create 201, update 200, get, head, validation, conflicts', async () => {
  const c = await createRg('atrium-acme-dev', 'West Europe', { Project: 'atrium', Tenant: 'acme' });
  assert.deepEqual(c.json, {
    id: `/subscriptions/${SUB}/resourceGroups/atrium-acme-dev`,
    name: 'atrium-acme-dev',
    type: 'Microsoft.Resources/resourceGroups',
    location: 'westeurope',
    tags: { Project: 'atrium', Tenant: 'acme' },
    properties: { provisioningState: 'Succeeded' },
  });
  const u = await arm('PUT', rgPath('atrium-acme-dev'), { body: { location: 'westeurope', tags: { Project: 'atrium' } } });
  assert.equal(u.status, 200);
  assert.deepEqual(u.json.tags, { Project: 'atrium' });

  // case-insensitive segment and name
  const g = await arm('GET', `/subscriptions/${SUB}/resourceGroups/ATRIUM-ACME-DEV?${V}`);
  assert.equal(g.status, 200);
  assert.equal(g.json.name, 'atrium-acme-dev');

  assert.equal((await arm('HEAD', rgPath('atrium-acme-dev'))).status, 204);
  assert.equal((await arm('HEAD', rgPath('nope'))).status, 404);

  const nf = await arm('GET', rgPath('nope'));
  assert.equal(nf.status, 404);
  assert.equal(nf.json.error.code, 'ResourceGroupNotFound');
  assert.equal(nf.json.error.message, "Resource group 'nope' could not be found.");

  const conflict = await arm('PUT', rgPath('atrium-acme-dev'), { body: { location: 'eastus' } });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.json.error.code, 'InvalidResourceGroupLocation');

  const noLoc = await arm('PUT', rgPath('x1'), { body: { tags: {} } });
  assert.equal(noLoc.status, 400);
  assert.equal(noLoc.json.error.code, 'LocationRequired');

  const badLoc = await arm('PUT', rgPath('x1'), { body: { location: 'moon-north' } });
  assert.equal(badLoc.status, 400);
  assert.equal(badLoc.json.error.code, 'LocationNotAvailableForResourceGroup');

  for (const bad of ['ends.', 'a'.repeat(91), 'has space', 'semi;colon']) {
    const r = await arm('PUT', `/subscriptions/${SUB}/resourcegroups/${encodeURIComponent(bad)}?${V}`, { body: { location: 'eastus' } });
    assert.equal(r.status, 400, bad);
    assert.equal(r.json.error.code, 'InvalidResourceGroup', bad);
  }
  const okName = await arm('PUT', `/subscriptions/${SUB}/resourcegroups/${encodeURIComponent('a_b-(c).d')}?${V}`, { body: { location: 'eastus' } });
  assert.equal(okName.status, 201);

  const badJson = await arm('PUT', rgPath('x2'), { raw: '{"location":', headers: { 'Content-Type': 'application/json' } });
  assert.equal(badJson.status, 400);
  assert.equal(badJson.json.error.code, 'InvalidRequestContent');

  const form = await arm('PUT', rgPath('x2'), { raw: 'location=eastus', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.status, 415);

  const list = await arm('GET', `/subscriptions/${SUB}/resourcegroups?${V}`);
  assert.equal(list.status, 200);
  assert.equal(list.json.value.length, 2);
});

test('resource group delete: 202 + Location polling, Deleting state, 404 when missing', async () => {
  await createRg('rg-del');
  await arm('PUT', raPath('rg-del', RA1), { body: raBody() });

  const d = await arm('DELETE', rgPath('rg-del'));
  assert.equal(d.status, 202);
  assert.equal(d.text, '');
  assert.equal(d.headers.get('retry-after'), '0');
  const loc = d.headers.get('location');
  assert.match(loc, new RegExp(`^${base}/subscriptions/${SUB}/operationresults/[A-Za-z0-9_-]+\\?api-version=2021-04-01$`));

  const g = await arm('GET', rgPath('rg-del'));
  assert.equal(g.status, 200);
  assert.equal(g.json.properties.provisioningState, 'Deleting');

  // writes into a deleting group are refused
  const put = await arm('PUT', rgPath('rg-del'), { body: { location: 'westeurope' } });
  assert.equal(put.status, 409);
  assert.equal(put.json.error.code, 'ResourceGroupBeingDeleted');

  // a second DELETE while running points at the same operation
  const d2 = await arm('DELETE', rgPath('rg-del'));
  assert.equal(d2.status, 202);
  assert.equal(d2.headers.get('location'), loc);

  const noAuthPoll = await call('GET', relative(loc));
  assert.equal(noAuthPoll.status, 401);

  const p1 = await arm('GET', relative(loc));
  assert.equal(p1.status, 202);
  assert.equal(p1.headers.get('location'), loc);
  assert.equal(p1.headers.get('retry-after'), '0');
  const p2 = await arm('GET', relative(loc));
  assert.equal(p2.status, 200);
  const p3 = await arm('GET', relative(loc));
  assert.equal(p3.status, 200, 'terminal state is sticky');

  assert.equal((await arm('GET', rgPath('rg-del'))).status, 404);
  const st = await ctl('GET', '/_fake/state');
  assert.equal(st.role_assignments.length, 0, 'role assignments go with the group');
  assert.equal(st.operations[0].status, 'Succeeded');

  const missing = await arm('DELETE', rgPath('rg-del'));
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, 'ResourceGroupNotFound');
});

test('resource group delete can be made to fail (Location pattern)', async () => {
  await createRg('rg-stuck');
  await ctl('POST', '/_fake/faults', {
    match: { method: 'DELETE', path_regex: 'resourcegroups/rg-stuck$' },
    async_result: 'Failed', code: 'ResourceGroupDeletionBlocked', message: 'blocked by test',
  });
  const d = await arm('DELETE', rgPath('rg-stuck'));
  assert.equal(d.status, 202);
  const loc = relative(d.headers.get('location'));
  assert.equal((await arm('GET', loc)).status, 202);
  const end = await arm('GET', loc);
  assert.equal(end.status, 409);
  assert.deepEqual(end.json, { error: { code: 'ResourceGroupDeletionBlocked', message: 'blocked by test' } });
  const g = await arm('GET', rgPath('rg-stuck'));
  assert.equal(g.status, 200);
  assert.equal(g.json.properties.provisioningState, 'Succeeded', 'rolled back');
});

test('Azure-AsyncOperation: async resource group PUT, InProgress then Succeeded/Failed', async () => {
  await ctl('POST', '/_fake/config', { async_put: true, put_polls: 2 });
  const c = await arm('PUT', rgPath('rg-async'), { body: { location: 'northeurope' } });
  assert.equal(c.status, 201);
  assert.equal(c.json.properties.provisioningState, 'Accepted');
  assert.equal(c.headers.get('location'), null);
  const aao = c.headers.get('azure-asyncoperation');
  assert.match(aao, /\/subscriptions\/.+\/providers\/Microsoft\.Resources\/operationStatuses\/[A-Za-z0-9_-]+\?api-version=2021-04-01$/);
  assert.equal(c.headers.get('retry-after'), '0');

  const s1 = await arm('GET', relative(aao));
  assert.equal(s1.status, 200);
  assert.equal(s1.json.status, 'InProgress');
  assert.equal((await arm('GET', rgPath('rg-async'))).json.properties.provisioningState, 'Accepted');
  const s2 = await arm('GET', relative(aao));
  assert.equal(s2.status, 200);
  assert.equal(s2.json.status, 'Succeeded');
  assert.ok(s2.json.endTime);
  assert.equal((await arm('GET', rgPath('rg-async'))).json.properties.provisioningState, 'Succeeded');

  // Failure path
  await ctl('POST', '/_fake/faults', {
    match: { method: 'PUT', path_regex: 'rg-async-bad' }, async_result: 'Failed',
    code: 'RequestDisallowedByPolicy', message: 'Resource was disallowed by policy.',
  });
  const b = await arm('PUT', rgPath('rg-async-bad'), { body: { location: 'northeurope' } });
  assert.equal(b.status, 201);
  const url = relative(b.headers.get('azure-asyncoperation'));
  assert.equal((await arm('GET', url)).json.status, 'InProgress');
  const f = await arm('GET', url);
  assert.equal(f.status, 200);
  assert.equal(f.json.status, 'Failed');
  assert.deepEqual(f.json.error, { code: 'RequestDisallowedByPolicy', message: 'Resource was disallowed by policy.' });
  assert.equal((await arm('GET', rgPath('rg-async-bad'))).json.properties.provisioningState, 'Failed');

  // Canceled
  await ctl('POST', '/_fake/faults', { match: { method: 'PUT' }, async_result: 'Canceled' });
  const k = await arm('PUT', rgPath('rg-async-cancel'), { body: { location: 'northeurope' } });
  const kurl = relative(k.headers.get('azure-asyncoperation'));
  await arm('GET', kurl);
  const kc = await arm('GET', kurl);
  assert.equal(kc.json.status, 'Canceled');
  assert.equal(kc.json.error.code, 'OperationCanceled');
});

// ---- role assignments ------------------------------------------------------------

test('role assignments: create 201, idempotent re-PUT 200, conflict 409, validation, get, delete', async () => {
  await createRg('rg-ra');
  const c = await arm('PUT', raPath('rg-ra', RA1), { body: raBody() });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.json.id, `/subscriptions/${SUB}/resourceGroups/rg-ra/providers/Microsoft.Authorization/roleAssignments/${RA1}`);
  assert.equal(c.json.name, RA1);
  assert.equal(c.json.type, 'Microsoft.Authorization/roleAssignments');
  assert.equal(c.json.properties.roleDefinitionId, `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR}`);
  assert.equal(c.json.properties.principalId, GROUP);
  assert.equal(c.json.properties.principalType, 'Group');
  assert.equal(c.json.properties.scope, `/subscriptions/${SUB}/resourceGroups/rg-ra`);

  const again = await arm('PUT', raPath('rg-ra', RA1), { body: raBody() });
  assert.equal(again.status, 200, 'same name, same content: success');
  assert.equal(again.json.id, c.json.id);

  await ctl('POST', '/_fake/config', { ra_repeat_status: 201 });
  assert.equal((await arm('PUT', raPath('rg-ra', RA1), { body: raBody() })).status, 201);

  const dup = await arm('PUT', raPath('rg-ra', RA2), { body: raBody() });
  assert.equal(dup.status, 409);
  assert.equal(dup.json.error.code, 'RoleAssignmentExists');
  assert.match(dup.json.error.message, new RegExp(RA1.replace(/-/g, '')));

  const other = await arm('PUT', raPath('rg-ra', RA2), { body: raBody(GROUP, READER) });
  assert.equal(other.status, 201, 'different role is a different assignment');

  const change = await arm('PUT', raPath('rg-ra', RA1), { body: raBody('99999999-2222-4333-8444-555555555555') });
  assert.equal(change.status, 400);
  assert.equal(change.json.error.code, 'RoleAssignmentUpdateNotPermitted');

  const badName = await arm('PUT', raPath('rg-ra', 'not-a-guid'), { body: raBody() });
  assert.equal(badName.status, 400);
  assert.equal(badName.json.error.code, 'InvalidRoleAssignmentId');

  const noRg = await arm('PUT', raPath('rg-missing', RA1), { body: raBody() });
  assert.equal(noRg.status, 404);
  assert.equal(noRg.json.error.code, 'ResourceGroupNotFound');

  const badPrincipal = await arm('PUT', raPath('rg-ra', '0a1b2c3d-0000-4000-8000-00000000cccc'), { body: raBody('nobody') });
  assert.equal(badPrincipal.status, 400);
  assert.equal(badPrincipal.json.error.code, 'InvalidPrincipalId');

  const g = await arm('GET', raPath('rg-ra', RA1));
  assert.equal(g.status, 200);
  assert.equal(g.json.name, RA1);
  const list = await arm('GET', `/subscriptions/${SUB}/resourceGroups/rg-ra/providers/Microsoft.Authorization/roleAssignments?${RAV}&$filter=${encodeURIComponent(`principalId eq '${GROUP}'`)}`);
  assert.equal(list.status, 200);
  assert.equal(list.json.value.length, 2);

  const d = await arm('DELETE', raPath('rg-ra', RA1));
  assert.equal(d.status, 200);
  assert.equal(d.json.name, RA1);
  const d2 = await arm('DELETE', raPath('rg-ra', RA1));
  assert.equal(d2.status, 204);
  assert.equal(d2.text, '');
  const g2 = await arm('GET', raPath('rg-ra', RA1));
  assert.equal(g2.status, 404);
  assert.equal(g2.json.error.code, 'RoleAssignmentNotFound');
});

// ---- fault injection ---------------------------------------------------------------

test('fault: 429 with Retry-After, early retry is throttled again, then success', async () => {
  const f = await ctl('POST', '/_fake/faults', { match: { method: 'PUT', path_regex: '/resourcegroups/' }, status: 429, retry_after: 1 });
  assert.equal(f.id, 'f1');
  const r1 = await arm('PUT', rgPath('rg-429'), { body: { location: 'eastus' } });
  assert.equal(r1.status, 429);
  assert.equal(r1.headers.get('retry-after'), '1');
  assert.equal(r1.json.error.code, 'TooManyRequests');

  const early = await arm('PUT', rgPath('rg-429'), { body: { location: 'eastus' } });
  assert.equal(early.status, 429, 'retrying before Retry-After elapsed is refused');
  await sleep(1050);
  const r2 = await arm('PUT', rgPath('rg-429'), { body: { location: 'eastus' } });
  assert.equal(r2.status, 201);
  const log = await ctl('GET', '/_fake/requests?kind=arm&method=PUT');
  assert.deepEqual(log.requests.map((e) => e.status), [429, 429, 201]);
  assert.equal(log.requests[0].fault, 'f1');
  assert.equal(log.requests[1].throttle_violation, true);
  assert.equal((await ctl('GET', '/_fake/state')).counters.throttle_violations, 1);
});

test('fault: 500 and 503 for N requests, then normal service', async () => {
  await ctl('POST', '/_fake/faults', [
    { match: { method: 'PUT' }, status: 500, times: 2 },
    { match: { method: 'GET', path_regex: 'operationresults' }, status: 503, retry_after: 0 },
  ]);
  const a = await arm('PUT', rgPath('rg-500'), { body: { location: 'eastus' } });
  assert.equal(a.status, 500);
  assert.equal(a.json.error.code, 'InternalServerError');
  assert.equal((await arm('PUT', rgPath('rg-500'), { body: { location: 'eastus' } })).status, 500);
  assert.equal((await arm('PUT', rgPath('rg-500'), { body: { location: 'eastus' } })).status, 201);

  const d = await arm('DELETE', rgPath('rg-500'));
  const loc = relative(d.headers.get('location'));
  const p = await arm('GET', loc);
  assert.equal(p.status, 503);
  assert.equal(p.json.error.code, 'ServiceUnavailable');
  assert.equal(p.headers.get('retry-after'), '0');
  // the failed poll did not advance the operation
  assert.equal((await arm('GET', loc)).status, 202);
  assert.equal((await arm('GET', loc)).status, 200);
});

test('fault: custom code (400 PrincipalNotFound), headers, after/skip', async () => {
  await createRg('rg-pnf');
  await ctl('POST', '/_fake/faults', {
    match: { method: 'PUT', path_regex: 'roleAssignments' }, status: 400, code: 'PrincipalNotFound',
    message: `Principal ${GROUP.replace(/-/g, '')} does not exist in the directory.`, headers: { 'x-test': 'yes' },
    after: 1,
  });
  const first = await arm('PUT', raPath('rg-pnf', RA1), { body: raBody() });
  assert.equal(first.status, 201, 'after:1 lets the first matching request through');
  const second = await arm('PUT', raPath('rg-pnf', RA1), { body: raBody() });
  assert.equal(second.status, 400);
  assert.equal(second.json.error.code, 'PrincipalNotFound');
  assert.equal(second.headers.get('x-test'), 'yes');
});

test('fault: dropped connection, truncated body, delay', async () => {
  await ctl('POST', '/_fake/faults', { match: { method: 'GET' }, drop_connection: true });
  await assert.rejects(arm('GET', rgPath('x')), /fetch failed/);
  assert.equal((await arm('GET', rgPath('x'))).status, 404, 'only once by default');

  await ctl('POST', '/_fake/faults', { match: { method: 'GET' }, drop_connection: 'mid_body', status: 200 });
  await assert.rejects(arm('GET', rgPath('x')));

  await ctl('POST', '/_fake/faults', { match: { method: 'GET' }, delay_ms: 300 });
  const t0 = Date.now();
  const slow = await arm('GET', rgPath('x'));
  assert.ok(Date.now() - t0 >= 290);
  assert.equal(slow.status, 404, 'delay-only fault then normal handling');

  // Client gives up before the delayed answer.
  await ctl('POST', '/_fake/faults', { match: { method: 'GET' }, delay_ms: 1500, status: 200 });
  await assert.rejects(fetch(base + rgPath('x'), { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(200) }));

  const log = await ctl('GET', '/_fake/requests?kind=arm');
  assert.equal(log.requests[0].dropped, true);

  await ctl('DELETE', '/_fake/faults');
  assert.equal((await ctl('GET', '/_fake/faults')).faults.length, 0);
});

test('fault on the token endpoint and token-call counting', async () => {
  await ctl('POST', '/_fake/faults', { match: { kind: 'token' }, status: 503 });
  const r = await getToken();
  assert.equal(r.status, 503);
  assert.equal(r.json.error, 'temporarily_unavailable');
  assert.equal((await getToken()).status, 200);
  const st = await ctl('GET', '/_fake/state');
  assert.equal(st.token_requests, 3);
});

// ---- limits, control API ------------------------------------------------------------

test('body over 1 MiB is refused with 413', async () => {
  const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
  const viaContinue = await rawRequest({
    p: rgPath('big'), body: big,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': big.length, Expect: '100-continue' },
  });
  assert.equal(viaContinue.status, 413);
  const streamed = await rawRequest({
    p: rgPath('big'), body: big,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': big.length },
  });
  assert.equal(streamed.status, 413);
  assert.equal(JSON.parse(streamed.text).error.code, 'RequestEntityTooLarge');
});

test('subscription rate-limit bucket answers 429 when exhausted', async () => {
  await ctl('POST', '/_fake/config', { limits: { writes: { bucket: 2, refill_per_sec: 0 } } });
  const a = await arm('PUT', rgPath('l1'), { body: { location: 'eastus' } });
  assert.equal(a.headers.get('x-ms-ratelimit-remaining-subscription-writes'), '1');
  const b = await arm('PUT', rgPath('l2'), { body: { location: 'eastus' } });
  assert.equal(b.headers.get('x-ms-ratelimit-remaining-subscription-writes'), '0');
  const c = await arm('PUT', rgPath('l3'), { body: { location: 'eastus' } });
  assert.equal(c.status, 429);
  assert.equal(c.json.error.code, 'TooManyRequests');
  assert.ok(c.headers.get('retry-after') !== null);
  assert.equal((await arm('GET', rgPath('l1'))).status, 200, 'reads have their own bucket');
});

// ---- AKS managed namespaces -------------------------------------------------------

const MNV = 'api-version=2025-09-01';
const CLUSTER = `/subscriptions/${SUB}/resourceGroups/platform/providers/Microsoft.ContainerService/managedClusters/aks1`;
const mnsPath = (name) => `${CLUSTER}/managedNamespaces/${name}?${MNV}`;
const AKS_ADMIN = '3498e952-d568-435e-9b2c-8d77e338d7f7';
const mnsBody = (over = {}) => ({
  location: 'westeurope',
  properties: {
    labels: { 'atrium.dev/tenant': 'acme' },
    defaultResourceQuota: { cpuRequest: '500m', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '2Gi' },
    defaultNetworkPolicy: { ingress: 'AllowSameNamespace', egress: 'AllowAll' },
    adoptionPolicy: 'Never', deletePolicy: 'Delete',
    ...over,
  },
});

async function followAsync(r) {
  const url = r.headers.get('azure-asyncoperation');
  assert.ok(url, 'Azure-AsyncOperation header');
  for (let i = 0; i < 10; i++) {
    const s = await arm('GET', relative(url));
    assert.equal(s.status, 200, s.text);
    if (s.json.status !== 'InProgress') return s.json;
  }
  throw new Error('operation never ended');
}

test('managed namespace: the cluster is known, PUT is an async create then update, GET reads it back', async () => {
  const c = await arm('GET', `${CLUSTER}?${MNV}`);
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.location, 'westeurope');
  const missing = await arm('GET', mnsPath('team-a'));
  assert.equal(missing.status, 404);
  const r = await arm('PUT', mnsPath('team-a'), { body: mnsBody() });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.properties.provisioningState, 'Creating');
  assert.equal((await followAsync(r)).status, 'Succeeded');
  const g = await arm('GET', mnsPath('team-a'));
  assert.equal(g.status, 200);
  assert.equal(g.json.id, `${CLUSTER}/managedNamespaces/team-a`);
  assert.equal(g.json.type, 'Microsoft.ContainerService/managedClusters/managedNamespaces');
  assert.equal(g.json.properties.provisioningState, 'Succeeded');
  assert.deepEqual(g.json.properties.defaultResourceQuota, mnsBody().properties.defaultResourceQuota);
  assert.equal(g.json.properties.labels['atrium.dev/tenant'], 'acme');
  const u = await arm('PUT', mnsPath('team-a'), { body: mnsBody({ defaultResourceQuota: { cpuRequest: '8', cpuLimit: '16' } }) });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.properties.provisioningState, 'Updating');
  // A PUT while the update runs joins it: same operation, new definition.
  const again = await arm('PUT', mnsPath('team-a'), { body: mnsBody({ defaultResourceQuota: { cpuRequest: '8', cpuLimit: '16' } }) });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.headers.get('azure-asyncoperation'), u.headers.get('azure-asyncoperation'));
  await followAsync(u);
  const del = await arm('DELETE', mnsPath('team-a'));
  assert.equal(del.status, 202);
  const busy = await arm('PUT', mnsPath('team-a'), { body: mnsBody() });
  assert.equal(busy.status, 409, 'a PUT while it is deleted');
  assert.equal(busy.json.error.code, 'AnotherOperationInProgress');
  const st = await ctl('GET', '/_fake/state');
  assert.equal(st.managed_namespaces.length, 1);
  assert.equal(st.managed_namespaces[0].properties.defaultResourceQuota.cpuLimit, '16');
  assert.equal(st.managed_namespaces[0].properties.provisioningState, 'Deleting');
});

test('managed namespace: invalid names, bodies and policies are 400s; location must be the cluster\'s', async () => {
  const cases = [
    ['Team_A', mnsBody(), 'InvalidParameter'],
    ['ok', { location: 'westeurope' }, 'InvalidRequestContent'],
    ['ok', { properties: mnsBody().properties }, 'LocationRequired'],
    ['ok', { ...mnsBody(), location: 'eastus' }, 'InvalidLocation'],
    ['ok', mnsBody({ defaultNetworkPolicy: { ingress: 'AllowSome' } }), 'InvalidParameter'],
    ['ok', mnsBody({ defaultResourceQuota: { cpuRequest: 'lots' } }), 'InvalidParameter'],
    ['ok', mnsBody({ defaultResourceQuota: { pods: '10' } }), 'InvalidRequestContent'],
    ['ok', mnsBody({ adoptionPolicy: 'Sometimes' }), 'InvalidParameter'],
    ['ok', mnsBody({ deletePolicy: 'Maybe' }), 'InvalidParameter'],
    ['ok', mnsBody({ labels: { 'bad key!': 'x' } }), 'InvalidParameter'],
    ['ok', mnsBody({ labels: { ok: 'x'.repeat(64) } }), 'InvalidParameter'],
  ];
  for (const [name, body, code] of cases) {
    const r = await arm('PUT', mnsPath(name), { body });
    assert.equal(r.status, 400, `${name} ${JSON.stringify(body)} -> ${r.text}`);
    assert.equal(r.json.error.code, code, r.text);
  }
  assert.equal((await ctl('GET', '/_fake/state')).managed_namespaces.length, 0);
});

test('managed namespace: adoptionPolicy Never refuses an existing Kubernetes namespace; Always adopts it', async () => {
  const sys = await arm('PUT', mnsPath('kube-system'), { body: mnsBody() });
  assert.equal(sys.status, 409);
  assert.equal(sys.json.error.code, 'NamespaceAlreadyExists');
  await ctl('POST', '/_fake/k8s-namespaces', { cluster_id: CLUSTER, name: 'legacy' });
  const never = await arm('PUT', mnsPath('legacy'), { body: mnsBody() });
  assert.equal(never.status, 409, never.text);
  const always = await arm('PUT', mnsPath('legacy'), { body: mnsBody({ adoptionPolicy: 'Always' }) });
  assert.equal(always.status, 201, always.text);
  await followAsync(always);
  assert.equal((await ctl('GET', '/_fake/state')).unmanaged_kubernetes_namespaces.length, 0);
});

test('managed namespace: scoped role assignments need it; DELETE follows Location and takes them along', async () => {
  const scope = `${CLUSTER}/managedNamespaces/team-b`;
  const raAt = `${scope}/providers/Microsoft.Authorization/roleAssignments/${RA1}?${RAV}`;
  const early = await arm('PUT', raAt, { body: raBody(GROUP, AKS_ADMIN) });
  assert.equal(early.status, 404, early.text);
  await followAsync(await arm('PUT', mnsPath('team-b'), { body: mnsBody({ deletePolicy: 'Keep' }) }));
  const ra = await arm('PUT', raAt, { body: raBody(GROUP, AKS_ADMIN) });
  assert.equal(ra.status, 201, ra.text);
  assert.equal(ra.json.properties.scope, scope);
  const d = await arm('DELETE', mnsPath('team-b'));
  assert.equal(d.status, 202);
  const loc = d.headers.get('location');
  let done;
  for (let i = 0; i < 5 && !done; i++) {
    const p = await arm('GET', relative(loc));
    if (p.status === 200) done = p;
  }
  assert.ok(done, 'the delete finished');
  assert.equal((await arm('GET', mnsPath('team-b'))).status, 404);
  const st = await ctl('GET', '/_fake/state');
  assert.equal(st.role_assignments.length, 0, 'assignments at its scope went with it');
  assert.deepEqual(st.unmanaged_kubernetes_namespaces.map((x) => x.name), ['team-b'], 'Keep leaves the Kubernetes namespace');
  assert.equal((await arm('DELETE', mnsPath('team-b'))).status, 204, 'an absent one is 204');
});

test('managed namespace: an injected async failure ends the PUT Failed with its error', async () => {
  await ctl('POST', '/_fake/faults', { match: { method: 'PUT', path_regex: 'managedNamespaces/team-c$' }, async_result: 'Failed', code: 'QuotaExceeded', message: 'No room.' });
  const r = await arm('PUT', mnsPath('team-c'), { body: mnsBody() });
  assert.equal(r.status, 201, r.text);
  const end = await followAsync(r);
  assert.equal(end.status, 'Failed');
  assert.equal(end.error.code, 'QuotaExceeded');
});

test('control API: drift behind the client\'s back (managed namespace quota, deletions)', async () => {
  await followAsync(await arm('PUT', mnsPath('team-d'), { body: mnsBody() }));
  const id = `${CLUSTER}/managedNamespaces/team-d`;
  const raAt = `${id}/providers/Microsoft.Authorization/roleAssignments/${RA2}?${RAV}`;
  assert.equal((await arm('PUT', raAt, { body: raBody(GROUP, AKS_ADMIN) })).status, 201);
  const bad = await call('PATCH', '/_fake/managed-namespaces', { body: { id, properties: { defaultNetworkPolicy: { egress: 'Nope' } } } });
  assert.equal(bad.status, 400);
  const p = await ctl('PATCH', '/_fake/managed-namespaces', { id, properties: { defaultResourceQuota: { cpuLimit: '99' } } });
  assert.equal(p.properties.defaultResourceQuota.cpuLimit, '99');
  assert.equal((await arm('GET', mnsPath('team-d'))).json.properties.defaultResourceQuota.cpuLimit, '99');
  await ctl('DELETE', '/_fake/role-assignments', { id: `${id}/providers/Microsoft.Authorization/roleAssignments/${RA2}` });
  assert.equal((await arm('GET', raAt)).status, 404);
  assert.equal((await call('DELETE', '/_fake/role-assignments', { body: { id: 'nope' } })).status, 404);
  await ctl('DELETE', '/_fake/managed-namespaces', { id });
  assert.equal((await arm('GET', mnsPath('team-d'))).status, 404);
});

test('control API: requests log, state, reset', async () => {
  await createRg('rg-ctl');
  const log = await ctl('GET', '/_fake/requests');
  const e = log.requests.find((x) => x.method === 'PUT');
  assert.equal(e.kind, 'arm');
  assert.equal(e.path, `/subscriptions/${SUB}/resourcegroups/rg-ctl`);
  assert.deepEqual(e.query, { 'api-version': '2021-04-01' });
  assert.deepEqual(e.body, { location: 'westeurope', tags: { Project: 'atrium' } });
  assert.equal(e.status, 201);
  assert.match(e.headers.authorization, /^Bearer /);
  assert.ok(e.time);

  const st = await ctl('GET', '/_fake/state');
  assert.equal(st.resource_groups.length, 1);
  assert.equal(st.resource_groups[0].name, 'rg-ctl');

  await ctl('DELETE', '/_fake/requests');
  assert.equal((await ctl('GET', '/_fake/requests')).count, 0);
  await ctl('POST', '/_fake/reset');
  assert.equal((await ctl('GET', '/_fake/state')).resource_groups.length, 0);

  const bad = await call('POST', '/_fake/faults', { body: { match: {} } });
  assert.equal(bad.status, 400);
});

test('one log line per request on stdout, clean exit on SIGTERM', async () => {
  assert.match(stdout, /PUT \/subscriptions\/[^ ]+\/resourcegroups\/rg-ctl\?api-version=2021-04-01 -> 201/);
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  child.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 0);
});
