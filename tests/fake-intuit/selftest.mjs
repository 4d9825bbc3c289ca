// Self-test for the fake Intuit server: node --test tests/fake-intuit/selftest.mjs
// Starts server.mjs on a free port and checks the behaviours Atrium relies on.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ID = 'selftest-client', SECRET = 'selftest-secret';
const REDIRECT = 'https://atrium.example/v1/integrations/quickbooks/callback';
const REALM = '9130357000000001';
let child, base, out = '';

before(async () => {
  child = spawn(process.execPath, [path.join(HERE, 'server.mjs')], {
    env: { ...process.env, FAKE_INTUIT_PORT: '0', FAKE_INTUIT_CLIENT_ID: ID, FAKE_INTUIT_CLIENT_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  base = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('did not start: ' + out)), 5000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    child.on('exit', (c) => reject(new Error('exited ' + c)));
  });
});
after(() => child?.kill('SIGTERM'));
beforeEach(async () => { await post('/admin/reset', {}); });

const basic = (id = ID, s = SECRET) => 'Basic ' + Buffer.from(`${id}:${s}`).toString('base64');
async function post(p, body, headers = {}) {
  return fetch(base + p, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
async function form(p, fields, auth = basic()) {
  return fetch(base + p, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
                           body: new URLSearchParams(fields).toString() });
}
async function consent(state = 'st1', realm = REALM) {
  const q = new URLSearchParams({ client_id: ID, response_type: 'code', scope: 'com.intuit.quickbooks.accounting', redirect_uri: REDIRECT, state });
  const r = await fetch(`${base}/connect/oauth2?${q}`, { redirect: 'manual', headers: { 'x-fake-intuit-realm': realm } });
  assert.equal(r.status, 302);
  return new URL(r.headers.get('location'));
}
async function connect(realm = REALM) {
  const loc = await consent('s', realm);
  const r = await form('/oauth2/v1/tokens/bearer', { grant_type: 'authorization_code', code: loc.searchParams.get('code'), redirect_uri: REDIRECT });
  assert.equal(r.status, 200);
  return r.json();
}
const get = (p, token) => fetch(base + p, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });

test('authorize redirects back to redirect_uri with code, state and realmId', async () => {
  const loc = await consent('abc');
  assert.equal(loc.origin + loc.pathname, REDIRECT);
  assert.equal(loc.searchParams.get('state'), 'abc');
  assert.equal(loc.searchParams.get('realmId'), REALM);
  assert.match(loc.searchParams.get('code'), /^fake-code-/);
});

test('authorize refuses an unknown client or a missing accounting scope', async () => {
  const q = new URLSearchParams({ client_id: 'other', response_type: 'code', scope: 'com.intuit.quickbooks.accounting', redirect_uri: REDIRECT });
  assert.equal((await fetch(`${base}/connect/oauth2?${q}`, { redirect: 'manual' })).status, 400);
  q.set('client_id', ID); q.set('scope', 'openid');
  assert.equal((await fetch(`${base}/connect/oauth2?${q}`, { redirect: 'manual' })).status, 400);
});

test('code exchange answers Intuit token JSON; the code is single-use and bound to redirect_uri', async () => {
  const loc = await consent();
  const code = loc.searchParams.get('code');
  assert.equal((await form('/oauth2/v1/tokens/bearer', { grant_type: 'authorization_code', code, redirect_uri: 'https://evil.example/' })).status, 400);
  const r = await form('/oauth2/v1/tokens/bearer', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
  assert.equal(r.status, 200);
  const t = await r.json();
  assert.equal(t.token_type, 'bearer');
  assert.equal(t.expires_in, 3600);
  assert.equal(typeof t.x_refresh_token_expires_in, 'number');
  assert.ok(t.access_token && t.refresh_token);
  const again = await form('/oauth2/v1/tokens/bearer', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
  assert.equal(again.status, 400);
  assert.deepEqual(await again.json(), { error: 'invalid_grant' });
});

test('token endpoint requires HTTP Basic client authentication', async () => {
  const r = await form('/oauth2/v1/tokens/bearer', { grant_type: 'refresh_token', refresh_token: 'x' }, basic(ID, 'wrong'));
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error, 'invalid_client');
});

test('refresh rotates the refresh token; the old one then answers invalid_grant', async () => {
  const t = await connect();
  const r = await form('/oauth2/v1/tokens/bearer', { grant_type: 'refresh_token', refresh_token: t.refresh_token });
  assert.equal(r.status, 200);
  const t2 = await r.json();
  assert.notEqual(t2.refresh_token, t.refresh_token);
  const old = await form('/oauth2/v1/tokens/bearer', { grant_type: 'refresh_token', refresh_token: t.refresh_token });
  assert.equal((await old.json()).error, 'invalid_grant');
});

test('revoke kills the refresh token and its access tokens', async () => {
  const t = await connect();
  const r = await post('/v2/oauth2/tokens/revoke', { token: t.refresh_token }, { authorization: basic() });
  assert.equal(r.status, 200);
  assert.equal((await get(`/v3/company/${REALM}/invoice/1`, t.access_token)).status, 401);
  const rr = await form('/oauth2/v1/tokens/bearer', { grant_type: 'refresh_token', refresh_token: t.refresh_token });
  assert.equal((await rr.json()).error, 'invalid_grant');
});

test('reads an invoice by id in the Accounting API shape; other realms and expired tokens get 401', async () => {
  const t = await connect();
  const c = await (await post(`/admin/companies/${REALM}/invoice`, { Line: [{ Amount: 120.5 }, { Amount: 30 }], Currency: 'USD', CustomerId: 7 })).json();
  const id = c.Invoice.Id;
  const r = await get(`/v3/company/${REALM}/invoice/${id}?minorversion=75`, t.access_token);
  assert.equal(r.status, 200);
  const b = await r.json();
  assert.ok(b.time);
  for (const k of ['Id', 'SyncToken', 'TotalAmt', 'Balance', 'DueDate', 'TxnDate', 'CurrencyRef', 'CustomerRef', 'Line'])
    assert.ok(k in b.Invoice, k);
  assert.equal(b.Invoice.TotalAmt, 150.5);
  assert.equal(b.Invoice.CustomerRef.value, '7');
  assert.equal((await get(`/v3/company/9130357000000999/invoice/${id}`, t.access_token)).status, 401);
  await post('/admin/config', { access_ttl: 0 });
  const t2 = await connect();
  assert.equal((await get(`/v3/company/${REALM}/invoice/${id}`, t2.access_token)).status, 401);
});

test('an unknown or deleted entity is a 400 Object Not Found fault', async () => {
  const t = await connect();
  const id = (await (await post(`/admin/companies/${REALM}/invoice`, {})).json()).Invoice.Id;
  await fetch(`${base}/admin/companies/${REALM}/invoice/${id}`, { method: 'DELETE' });
  const r = await get(`/v3/company/${REALM}/invoice/${id}`, t.access_token);
  assert.equal(r.status, 400);
  assert.equal((await r.json()).Fault.Error[0].code, '610');
});

test('modify bumps SyncToken; void zeroes the amounts', async () => {
  const t = await connect();
  const id = (await (await post(`/admin/companies/${REALM}/invoice`, { TotalAmt: 50 })).json()).Invoice.Id;
  const m = await (await fetch(`${base}/admin/companies/${REALM}/invoice/${id}`, { method: 'PATCH', body: JSON.stringify({ Balance: 20 }) })).json();
  assert.equal(m.Invoice.SyncToken, '1');
  assert.equal(m.Invoice.Balance, 20);
  await post(`/admin/companies/${REALM}/invoice/${id}/void`, {});
  const v = (await (await get(`/v3/company/${REALM}/invoice/${id}`, t.access_token)).json()).Invoice;
  assert.equal(v.TotalAmt, 0);
  assert.equal(v.PrivateNote, 'Voided');
});

test('CDC returns changes since a time in CDCResponse/QueryResponse, deleted ones with status Deleted', async () => {
  const t = await connect();
  const since = new Date(Date.now() - 1000).toISOString();
  const a = (await (await post(`/admin/companies/${REALM}/invoice`, { TotalAmt: 10 })).json()).Invoice.Id;
  const b = (await (await post(`/admin/companies/${REALM}/invoice`, { TotalAmt: 20 })).json()).Invoice.Id;
  await post(`/admin/companies/${REALM}/payment`, { TotalAmt: 5 });
  await fetch(`${base}/admin/companies/${REALM}/invoice/${b}`, { method: 'DELETE' });
  const r = await get(`/v3/company/${REALM}/cdc?entities=Invoice,Payment&changedSince=${encodeURIComponent(since)}`, t.access_token);
  assert.equal(r.status, 200);
  const qr = (await r.json()).CDCResponse[0].QueryResponse;
  const inv = qr.find((x) => x.Invoice).Invoice;
  assert.equal(inv.find((x) => x.Id === a).TotalAmt, 10);
  assert.equal(inv.find((x) => x.Id === b).status, 'Deleted');
  assert.equal(qr.find((x) => x.Payment).Payment.length, 1);
  const later = await get(`/v3/company/${REALM}/cdc?entities=Invoice&changedSince=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}`, t.access_token);
  assert.equal((await later.json()).CDCResponse[0].QueryResponse[0].Invoice.length, 0);
});

test('CDC answers at most 1000 objects an entity; the query operation pages through the rest, deleted ones left out', async () => {
  const t = await connect();
  const since = new Date(Date.now() - 1000).toISOString();
  const made = await (await post(`/admin/companies/${REALM}/invoice?count=1005`, { TotalAmt: 1 })).json();
  assert.equal(made.count, 1005);
  const gone = made.Invoice.Id;
  await fetch(`${base}/admin/companies/${REALM}/invoice/${gone}`, { method: 'DELETE' });
  const c = await get(`/v3/company/${REALM}/cdc?entities=Invoice&changedSince=${encodeURIComponent(since)}`, t.access_token);
  assert.equal((await c.json()).CDCResponse[0].QueryResponse[0].Invoice.length, 1000);
  const q = (start) => get(`/v3/company/${REALM}/query?query=${encodeURIComponent(
    `SELECT * FROM Invoice WHERE Metadata.LastUpdatedTime > '${since}' ORDERBY Metadata.LastUpdatedTime STARTPOSITION ${start} MAXRESULTS 1000`)}`, t.access_token);
  const p1 = (await (await q(1)).json()).QueryResponse;
  const p2 = (await (await q(1001)).json()).QueryResponse;
  assert.equal(p1.Invoice.length, 1000);
  assert.equal(p1.startPosition, 1);
  assert.equal(p2.Invoice.length + p1.Invoice.length >= 1004, true);
  assert.equal([...p1.Invoice, ...p2.Invoice].some((x) => x.Id === gone), false);
  const empty = await (await q(5000)).json();
  assert.deepEqual(empty.QueryResponse, {});
  const bad = await get(`/v3/company/${REALM}/query?query=${encodeURIComponent('SELECT * FROM Invoice MAXRESULTS 5000')}`, t.access_token);
  assert.equal(bad.status, 400);
});

test('CDC refuses a look-back older than 30 days', async () => {
  const t = await connect();
  const old = new Date(Date.now() - 31 * 86400000).toISOString();
  assert.equal((await get(`/v3/company/${REALM}/cdc?entities=Invoice&changedSince=${old}`, t.access_token)).status, 400);
});

test('throttling: more than rate_per_minute calls per realm answer 429', async () => {
  const t = await connect();
  await post('/admin/config', { rate_per_minute: 3 });
  const codes = [];
  for (let i = 0; i < 5; i++) codes.push((await get(`/v3/company/${REALM}/invoice/1`, t.access_token)).status);
  assert.deepEqual(codes.slice(3), [429, 429]);
});

test('injected faults: 429 with Retry-After, then 503, then normal answers', async () => {
  const t = await connect();
  const id = (await (await post(`/admin/companies/${REALM}/invoice`, {})).json()).Invoice.Id;
  await post('/admin/faults', { path: '/invoice/', status: 429, retry_after: 2, count: 1 });
  await post('/admin/faults', { path: '/invoice/', status: 503, count: 1 });
  const r1 = await get(`/v3/company/${REALM}/invoice/${id}`, t.access_token);
  assert.equal(r1.status, 429);
  assert.equal(r1.headers.get('retry-after'), '2');
  assert.equal((await get(`/v3/company/${REALM}/invoice/${id}`, t.access_token)).status, 503);
  assert.equal((await get(`/v3/company/${REALM}/invoice/${id}`, t.access_token)).status, 200);
});

test('a realm revoked from QuickBooks makes refresh answer invalid_grant', async () => {
  const t = await connect();
  await post(`/admin/companies/${REALM}/revoke`, {});
  const r = await form('/oauth2/v1/tokens/bearer', { grant_type: 'refresh_token', refresh_token: t.refresh_token });
  assert.equal((await r.json()).error, 'invalid_grant');
});

test('the request log records grants without token values', async () => {
  const t = await connect();
  await form('/oauth2/v1/tokens/bearer', { grant_type: 'refresh_token', refresh_token: t.refresh_token });
  const log = await (await fetch(`${base}/admin/log`)).json();
  assert.deepEqual(log.filter((e) => e.grant_type).map((e) => e.grant_type), ['authorization_code', 'refresh_token']);
  assert.ok(!JSON.stringify(log).includes(t.refresh_token));
});

test('POST /admin/consent picks the company of the next consent that names none (browsers)', async () => {
  assert.equal((await post('/admin/consent', { realmId: 'abc' })).status, 400);
  await post('/admin/consent', { realmId: '9130357000000777' });
  const q = new URLSearchParams({ client_id: ID, response_type: 'code', scope: 'com.intuit.quickbooks.accounting', redirect_uri: REDIRECT, state: 's' });
  const first = await fetch(`${base}/connect/oauth2?${q}`, { redirect: 'manual' });
  assert.equal(new URL(first.headers.get('location')).searchParams.get('realmId'), '9130357000000777');
  const second = await fetch(`${base}/connect/oauth2?${q}`, { redirect: 'manual' });
  assert.notEqual(new URL(second.headers.get('location')).searchParams.get('realmId'), '9130357000000777', 'used once');
});
