// Self-test of the fake Pax8: node --test tests/fake-pax8/selftest.mjs
import test from 'node:test';
import assert from 'node:assert/strict';
import { createFakePax8, configFromEnv, AUDIENCE } from './server.mjs';

async function start(env = {}) {
  const fake = createFakePax8(configFromEnv({ FAKE_PAX8_QUIET: '1', ...env }));
  await new Promise((r) => fake.server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${fake.server.address().port}`;
  const call = async (method, path, body, headers = {}) => {
    const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
  const token = async () => (await call('POST', '/oauth/token', { client_id: 'fake-pax8-client',
    client_secret: 'fake-pax8-secret', audience: AUDIENCE, grant_type: 'client_credentials' })).body.access_token;
  return { fake, call, token, base };
}

test('the token endpoint grants client credentials for the documented audience only', async (t) => {
  const { fake, call } = await start({ FAKE_PAX8_TOKEN_EXPIRES_IN: '120' });
  t.after(() => fake.close());
  const ok = await call('POST', '/oauth/token', { client_id: 'fake-pax8-client', client_secret: 'fake-pax8-secret',
    audience: AUDIENCE, grant_type: 'client_credentials' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.token_type, 'Bearer');
  assert.equal(ok.body.expires_in, 120);
  assert.ok(ok.body.access_token.length > 20);
  const badSecret = await call('POST', '/oauth/token', { client_id: 'fake-pax8-client', client_secret: 'nope',
    audience: AUDIENCE, grant_type: 'client_credentials' });
  assert.equal(badSecret.status, 401);
  const badAud = await call('POST', '/oauth/token', { client_id: 'fake-pax8-client', client_secret: 'fake-pax8-secret',
    audience: 'https://other', grant_type: 'client_credentials' });
  assert.equal(badAud.status, 403);
  const badGrant = await call('POST', '/oauth/token', { client_id: 'fake-pax8-client', client_secret: 'fake-pax8-secret',
    audience: AUDIENCE, grant_type: 'password' });
  assert.equal(badGrant.status, 403);
});

test('the API answers 401 without a token, with an unknown one and with an expired one', async (t) => {
  const { fake, call, token } = await start();
  t.after(() => fake.close());
  assert.equal((await call('GET', '/v1/companies')).status, 401);
  assert.equal((await call('GET', '/v1/companies', undefined, { authorization: 'Bearer nope' })).status, 401);
  const tok = await token();
  assert.equal((await call('GET', '/v1/companies', undefined, { authorization: `Bearer ${tok}` })).status, 200);
  await call('POST', '/_fake/expire-tokens');
  const r = await call('GET', '/v1/companies', undefined, { authorization: `Bearer ${tok}` });
  assert.equal(r.status, 401);
  assert.equal(r.body.status, 401);
  const fresh = await token();
  assert.equal((await call('GET', '/v1/companies', undefined, { authorization: `Bearer ${fresh}` })).status, 200);
});

test('subscriptions page with page/size and filter by companyId; products and usage summaries by id', async (t) => {
  const { fake, call, token } = await start();
  t.after(() => fake.close());
  const a = (await call('POST', '/_fake/companies', { name: 'A' })).body;
  const b = (await call('POST', '/_fake/companies', { name: 'B' })).body;
  const p = (await call('POST', '/_fake/products', { name: 'M365, "Business"', vendorName: 'Microsoft' })).body;
  for (let i = 0; i < 5; i++)
    await call('POST', '/_fake/subscriptions', { companyId: a.id, productId: p.id, quantity: i + 1, price: 12.5,
      billingTerm: i % 2 ? 'Annual' : 'Monthly' });
  const other = (await call('POST', '/_fake/subscriptions', { companyId: b.id, productId: p.id })).body;
  const h = { authorization: `Bearer ${await token()}` };
  const p0 = await call('GET', `/v1/subscriptions?companyId=${a.id}&page=0&size=2`, undefined, h);
  assert.equal(p0.status, 200);
  assert.deepEqual(p0.body.page, { size: 2, totalElements: 5, totalPages: 3, number: 0 });
  assert.equal(p0.body.content.length, 2);
  const p2 = await call('GET', `/v1/subscriptions?companyId=${a.id}&page=2&size=2`, undefined, h);
  assert.equal(p2.body.content.length, 1);
  assert.ok(p2.body.content.every((s) => s.companyId === a.id));
  assert.equal((await call('GET', '/v1/subscriptions?size=500', undefined, h)).status, 400);
  assert.equal((await call('GET', `/v1/subscriptions/${other.id}`, undefined, h)).body.companyId, b.id);
  assert.equal((await call('GET', `/v1/products/${p.id}`, undefined, h)).body.vendorName, 'Microsoft');
  assert.equal((await call('GET', '/v1/products/nope', undefined, h)).status, 404);
  const u = (await call('POST', '/_fake/usage-summaries', { subscriptionId: other.id, currentCharges: 3.2, partnerTotal: 2.5 })).body;
  const us = await call('GET', `/v1/subscriptions/${other.id}/usage-summaries`, undefined, h);
  assert.equal(us.body.content.length, 1);
  assert.equal(us.body.content[0].id, u.id);
  assert.equal((await call('GET', `/v1/usage-summaries/${u.id}`, undefined, h)).body.currentCharges, 3.2);
  const upd = await call('PATCH', `/_fake/subscriptions/${other.id}`, { quantity: 9 });
  assert.equal(upd.body.quantity, 9);
  assert.ok(upd.body.updatedDate >= other.updatedDate);
});

test('faults: an injected 429 with Retry-After for a count, an outage until removed', async (t) => {
  const { fake, call, token } = await start();
  t.after(() => fake.close());
  const h = { authorization: `Bearer ${await token()}` };
  await call('POST', '/_fake/faults', { path: '^/v1/companies$', status: 429, count: 2, retryAfter: 1 });
  const r1 = await call('GET', '/v1/companies', undefined, h);
  assert.equal(r1.status, 429);
  assert.equal(r1.headers.get('retry-after'), '1');
  assert.equal((await call('GET', '/v1/companies', undefined, h)).status, 429);
  assert.equal((await call('GET', '/v1/companies', undefined, h)).status, 200);
  await call('POST', '/_fake/faults', { path: '^/v1/', status: 503, count: 0 });
  for (let i = 0; i < 3; i++) assert.equal((await call('GET', '/v1/companies', undefined, h)).status, 503);
  await call('DELETE', '/_fake/faults');
  assert.equal((await call('GET', '/v1/companies', undefined, h)).status, 200);
  await call('POST', '/_fake/faults', { path: '^/v1/companies$', query: 'page=7', status: 500, count: 1 });
  assert.equal((await call('GET', '/v1/companies?page=1', undefined, h)).status, 200, 'another query passes');
  assert.equal((await call('GET', '/v1/companies?page=7', undefined, h)).status, 500);
  await call('POST', '/_fake/faults', { path: '^/v1/companies$', status: 0, delayMs: 300, count: 1 });
  const t0 = Date.now();
  assert.equal((await call('GET', '/v1/companies', undefined, h)).status, 200);
  assert.ok(Date.now() - t0 >= 290, 'the slow answer came late');
  const log = (await call('GET', '/_fake/requests')).body.requests;
  assert.ok(log.some((e) => e.status === 503));
});

test('the rate limit answers 429 with Retry-After past its budget', async (t) => {
  const { fake, call, token } = await start({ FAKE_PAX8_RATE_LIMIT: '3' });
  t.after(() => fake.close());
  const h = { authorization: `Bearer ${await token()}` };
  for (let i = 0; i < 3; i++) assert.equal((await call('GET', '/v1/companies', undefined, h)).status, 200);
  const r = await call('GET', '/v1/companies', undefined, h);
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
});
