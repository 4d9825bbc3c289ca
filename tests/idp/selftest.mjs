#!/usr/bin/env node
// Checks the local identity provider (tests/idp/idp.mjs) the way Atrium will
// use it: discovery, JWKS, /mint tokens verified with node's crypto against
// the JWKS, and the /token endpoint's client-credentials and
// authorization-code (PKCE, nonce, login_hint) flows.
// Usage: node tests/idp/selftest.mjs [IDP_URL]   (default $ATRIUM_TEST_IDP_URL
// or http://127.0.0.1:28080). Prints "N passed, M failed"; exits 1 on failure.

import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import assert from 'node:assert/strict';

const IDP = (process.argv[2] || process.env.ATRIUM_TEST_IDP_URL || 'http://127.0.0.1:28080').replace(/\/+$/, '');
const TID = '33333333-3333-4333-8333-333333333333';

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
  } catch (err) {
    failed += 1;
    process.stdout.write(`FAIL ${name}: ${err?.stack || err}\n`);
  }
}

async function getJson(url, init) {
  const r = await fetch(url, init);
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: r.status, body, headers: r.headers };
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

let jwks;

function verifyJwt(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, 'compact JWS has three parts');
  const header = b64json(parts[0]);
  const payload = b64json(parts[1]);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.typ, 'JWT');
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is in the JWKS`);
  const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
  const ok = verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], 'base64url'));
  assert.ok(ok, 'signature verifies with the JWKS key');
  return { header, payload };
}

async function mint(body) {
  const r = await getJson(`${IDP}/mint`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const disco = {};

await check('discovery documents', async () => {
  for (const path of ['/.well-known/openid-configuration', '/common/v2.0/.well-known/openid-configuration',
    '/organizations/v2.0/.well-known/openid-configuration']) {
    const r = await getJson(`${IDP}${path}`);
    assert.equal(r.status, 200, path);
    assert.equal(r.body.issuer, `${IDP}/{tenantid}/v2.0`, path);
    for (const f of ['jwks_uri', 'authorization_endpoint', 'token_endpoint', 'end_session_endpoint']) {
      assert.match(r.body[f], /^http:\/\//, `${path} ${f}`);
    }
    assert.deepEqual(r.body.id_token_signing_alg_values_supported, ['RS256']);
    Object.assign(disco, r.body);
  }
  const t = await getJson(`${IDP}/${TID}/v2.0/.well-known/openid-configuration`);
  assert.equal(t.body.issuer, `${IDP}/${TID}/v2.0`);
  const v1 = await getJson(`${IDP}/common/.well-known/openid-configuration`);
  assert.equal(v1.body.issuer, `${IDP}/sts/{tenantid}/`);
});

await check('jwks', async () => {
  const r = await getJson(disco.jwks_uri);
  assert.equal(r.status, 200);
  assert.ok(r.body.keys.length >= 1);
  for (const k of r.body.keys) {
    assert.equal(k.kty, 'RSA');
    assert.equal(k.use, 'sig');
    assert.equal(k.alg, 'RS256');
    assert.ok(k.kid && k.n && k.e);
    assert.equal(k.d, undefined, 'no private parts');
  }
  jwks = r.body;
});

await check('mint v2 token', async () => {
  const oid = '44444444-4444-4444-8444-444444444444';
  const r = await mint({ tid: TID, oid, roles: ['tenant_admin', 'billing_viewer'], scp: 'Bets.Read' });
  assert.equal(r.token_type, 'Bearer');
  assert.equal(r.expires_in, 3600);
  const { payload: p } = verifyJwt(r.access_token);
  assert.equal(p.iss, `${IDP}/${TID}/v2.0`);
  assert.equal(p.tid, TID);
  assert.equal(p.oid, oid);
  assert.equal(p.sub, oid);
  assert.equal(p.aud, 'api://atrium');
  assert.equal(p.ver, '2.0');
  assert.deepEqual(p.roles, ['tenant_admin', 'billing_viewer']);
  assert.equal(p.scp, 'Bets.Read');
  assert.ok(p.azp && p.name && p.preferred_username);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(p.iat - now) < 5 && Math.abs(p.nbf - now) < 5 && Math.abs(p.exp - now - 3600) < 5);
});

await check('mint v1, expired, not-yet-valid, overrides', async () => {
  const v1 = verifyJwt((await mint({ tid: TID, ver: '1.0' })).access_token).payload;
  assert.equal(v1.iss, `${IDP}/sts/${TID}/`);
  assert.equal(v1.ver, '1.0');
  assert.equal(v1.roles, undefined, 'no roles claim by default');
  assert.match(v1.oid, /^[0-9a-f-]{36}$/);
  const now = Math.floor(Date.now() / 1000);
  const ex = verifyJwt((await mint({ tid: TID, exp_in: -600 })).access_token).payload;
  assert.ok(ex.exp < now - 500);
  const nb = verifyJwt((await mint({ tid: TID, nbf_in: 600 })).access_token).payload;
  assert.ok(nb.nbf > now + 500);
  const o = verifyJwt((await mint({ tid: TID, aud: 'other', iss: 'https://evil/', claims: { tid: 'x', name: null } })).access_token).payload;
  assert.equal(o.aud, 'other');
  assert.equal(o.iss, 'https://evil/');
  assert.equal(o.tid, 'x');
  assert.equal(o.name, undefined);
});

await check('mint rejects bad input', async () => {
  for (const body of [{}, { tid: 5 }, { tid: TID, roles: 'x,y', ver: '3' }, { tid: TID, exp_in: 'soon' }]) {
    const r = await getJson(`${IDP}/mint`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error, 'invalid_request');
  }
});

await check('token endpoint: client_credentials', async () => {
  const r = await getJson(disco.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials', client_id: 'ci-client', client_secret: 's',
      scope: 'api://atrium/.default', roles: 'super_admin,support_user',
    }),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const p = verifyJwt(r.body.access_token).payload;
  assert.equal(p.tid, process.env.IDP_DEMO_TID || '11111111-1111-4111-8111-111111111111');
  assert.equal(p.iss, `${IDP}/${p.tid}/v2.0`);
  assert.equal(p.aud, 'api://atrium');
  assert.equal(p.azp, 'ci-client');
  assert.equal(p.idtyp, 'app');
  assert.deepEqual(p.roles, ['super_admin', 'support_user']);
  assert.equal(p.sub, p.oid);
  assert.equal(p.scope, undefined);
});

await check('token endpoint: authorization_code + PKCE + nonce + login_hint', async () => {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const oid = '55555555-5555-4555-8555-555555555555';
  const auth = new URL(disco.authorization_endpoint);
  const q = {
    client_id: 'portal', response_type: 'code', redirect_uri: 'https://localhost:8443/auth/callback',
    scope: 'openid profile api://atrium/Bets.Read', state: 'st-1', nonce: 'n-1',
    code_challenge: challenge, code_challenge_method: 'S256', login_hint: `${TID}:${oid}:tenant_admin,support_user`,
  };
  for (const [k, v] of Object.entries(q)) auth.searchParams.set(k, v);
  const r = await fetch(auth, { redirect: 'manual' });
  assert.equal(r.status, 302);
  const back = new URL(r.headers.get('location'));
  assert.equal(back.origin + back.pathname, q.redirect_uri);
  assert.equal(back.searchParams.get('state'), 'st-1');
  const code = back.searchParams.get('code');
  assert.ok(code);
  const t = await getJson(disco.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'portal',
      redirect_uri: q.redirect_uri,
    }),
  });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  const at = verifyJwt(t.body.access_token).payload;
  const id = verifyJwt(t.body.id_token).payload;
  for (const p of [at, id]) {
    assert.equal(p.tid, TID);
    assert.equal(p.oid, oid);
    assert.equal(p.iss, `${IDP}/${TID}/v2.0`);
    assert.deepEqual(p.roles, ['tenant_admin', 'support_user']);
  }
  assert.equal(at.aud, 'api://atrium');
  assert.equal(at.scp, 'Bets.Read');
  assert.equal(id.aud, 'portal');
  assert.equal(id.nonce, 'n-1');
  // a wrong verifier is refused
  const r2 = await fetch(auth, { redirect: 'manual' });
  const code2 = new URL(r2.headers.get('location')).searchParams.get('code');
  const bad = await getJson(disco.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: code2, code_verifier: 'x'.repeat(43), client_id: 'portal' }),
  });
  assert.equal(bad.status, 400);
});

await check('key rotation', async () => {
  const r = await getJson(`${IDP}/keys/rotate`, { method: 'POST' });
  assert.equal(r.status, 200);
  const k = await getJson(disco.jwks_uri);
  assert.ok(k.body.keys.some((x) => x.kid === r.body.kid));
  jwks = k.body;
  const { header } = verifyJwt((await mint({ tid: TID })).access_token);
  assert.equal(header.kid, r.body.kid, 'newest key signs by default');
  const old = k.body.keys.find((x) => x.kid !== r.body.kid);
  const { header: h2 } = verifyJwt((await mint({ tid: TID, kid: old.kid })).access_token);
  assert.equal(h2.kid, old.kid);
});

process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
