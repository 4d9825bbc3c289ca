#!/usr/bin/env node
// Self-test of the conformance validator (no server needed):
//   node tests/conformance/selftest.mjs
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Conformance, closeObjects, loadSpec, mediaTypeMatches } from './validator.mjs';

const spec = loadSpec(fileURLToPath(new URL('../../openapi/openapi.yaml', import.meta.url)));
const conf = new Conformance(spec);
const rid = { 'x-request-id': 'r1' };
const failures = (x) => conf.checkExchange(x).checks.filter((c) => !c.ok).map((c) => c.what);
const tenant = {
  id: '3fa85f64-5717-4562-b3fc-2c963f66afa6', slug: 'contoso', name: 'Contoso', aad_tenant_id: '5f2b8c3e-8f7a-4c2e-b1d5-2f6c9e8a7b10',
  aad_admin_group_id: null, status: 'active', tags: {}, quickbooks_realm_id: null, pax8_company_id: null,
  created_at: '2026-11-22T00:25:01.123456Z', updated_at: '2026-11-22T00:25:01.123456Z',
};
const problem = (status) => JSON.stringify({ type: 'about:blank', title: 't', status, detail: 'd', request_id: 'r1' });
const json = { 'content-type': 'application/json; charset=utf-8' };
const pj = { 'content-type': 'application/problem+json' };
const tests = {
  'media types': () => {
    assert.ok(mediaTypeMatches('text/plain; version=0.0.4', 'text/plain; version=0.0.4; charset=utf-8'));
    assert.ok(!mediaTypeMatches('text/plain; version=0.0.4', 'text/plain'));
    assert.ok(mediaTypeMatches('application/json', 'Application/JSON;charset=UTF-8'));
    assert.ok(!mediaTypeMatches('application/json', 'application/problem+json'));
  },
  'path matching': () => {
    assert.equal(conf.matchPath('/v1/tenants/abc/audit?limit=1').template, '/v1/tenants/{tenant_id}/audit');
    assert.equal(conf.matchPath('/v1/tenants').template, '/v1/tenants');
    assert.equal(conf.matchPath('/v1/tenants/a/b'), null);
  },
  'good tenant GET': () => {
    assert.deepEqual(failures({ method: 'GET', path: `/v1/tenants/${tenant.id}`, status: 200,
      headers: { ...rid, ...json, etag: '"1"' }, text: JSON.stringify(tenant) }), []);
  },
  'drift is caught': () => {
    const f = failures({ method: 'GET', path: `/v1/tenants/${tenant.id}`, status: 200,
      headers: { ...json }, text: JSON.stringify({ ...tenant, extra: 1, created_at: '2026-11-22T01:25:01+01:00' }) });
    assert.deepEqual(f, ['required header X-Request-Id present and valid', 'required header ETag present and valid',
      'body is JSON and matches the documented schema']);
  },
  'published response schemas are open, the check is closed': () => {
    // Clients may meet new members: the published Tenant schema allows them...
    assert.equal(spec.components.schemas.Tenant.additionalProperties, undefined);
    // ...but the server must not send any undocumented member.
    const r = conf.checkExchange({ method: 'GET', path: `/v1/tenants/${tenant.id}`, status: 200,
      headers: { ...rid, ...json, etag: '"1"' }, text: JSON.stringify({ ...tenant, undocumented: true }) });
    const bad = r.checks.filter((c) => !c.ok);
    assert.equal(bad.length, 1);
    assert.match(bad[0].detail, /must NOT have additional properties \(undocumented\)/);
    // Nested objects too: an extra member inside an event's selection.
    const event = structuredClone(spec.components.examples.Event.value);
    event.selections[0].colour = 'red';
    const f = failures({ method: 'GET', path: `/v1/tenants/${tenant.id}/events/${event.id}`, status: 200,
      headers: { ...rid, ...json, etag: '"1"' }, text: JSON.stringify(event) });
    assert.deepEqual(f, ['body is JSON and matches the documented schema']);
    delete event.selections[0].colour;
    assert.deepEqual(failures({ method: 'GET', path: `/v1/tenants/${tenant.id}/events/${event.id}`, status: 200,
      headers: { ...rid, ...json, etag: '"1"' }, text: JSON.stringify(event) }), []);
  },
  'closing leaves maps, free-form objects and literals alone': () => {
    const s = closeObjects({ type: 'object', properties: { tags: { type: 'object', additionalProperties: { type: 'string' } },
      any: { type: 'object' }, default: { type: 'object', properties: { a: {} } } }, example: { properties: { x: 1 } } });
    assert.equal(s.additionalProperties, false);
    assert.deepEqual(s.properties.tags.additionalProperties, { type: 'string' });
    assert.equal(s.properties.any.additionalProperties, undefined);
    assert.equal(s.properties.default.additionalProperties, false);
    assert.deepEqual(s.example, { properties: { x: 1 } });
    assert.throws(() => closeObjects({ allOf: [{ properties: {} }] }), /allOf/);
  },
  'undocumented status': () => {
    assert.deepEqual(failures({ method: 'DELETE', path: `/v1/tenants/${tenant.id}`, status: 409, headers: { ...rid, ...pj }, text: problem(409) }),
      ['status 409 is documented for deleteTenant']);
  },
  '204 has no body': () => {
    assert.deepEqual(failures({ method: 'DELETE', path: `/v1/tenants/${tenant.id}`, status: 204, headers: rid, text: '' }), []);
    assert.deepEqual(failures({ method: 'DELETE', path: `/v1/tenants/${tenant.id}`, status: 204, headers: rid, text: '{}' }), ['no body (none documented)']);
  },
  '401 needs WWW-Authenticate, 429 an integer Retry-After': () => {
    assert.deepEqual(failures({ method: 'GET', path: '/v1/me', status: 401, headers: { ...rid, ...pj }, text: problem(401) }),
      ['required header WWW-Authenticate present and valid']);
    assert.deepEqual(failures({ method: 'GET', path: '/v1/me', status: 429, headers: { ...rid, ...pj, 'retry-after': 'soon' }, text: problem(429) }),
      ['required header Retry-After present and valid']);
    assert.deepEqual(failures({ method: 'GET', path: '/v1/me', status: 429, headers: { ...rid, ...pj, 'retry-after': '3' }, text: problem(429) }), []);
  },
  '405 and Allow': () => {
    assert.deepEqual(failures({ method: 'PUT', path: `/v1/tenants/${tenant.id}`, status: 405,
      headers: { ...rid, ...pj, allow: 'GET, PATCH, DELETE, HEAD' }, text: problem(405) }), []);
    assert.equal(failures({ method: 'PUT', path: `/v1/tenants/${tenant.id}`, status: 405,
      headers: { ...rid, ...pj, allow: 'GET' }, text: problem(405) }).length, 1);
    assert.equal(failures({ method: 'PUT', path: `/v1/tenants/${tenant.id}`, status: 404, headers: { ...rid, ...pj }, text: problem(404) }).length, 2);
  },
  'problem must agree with the exchange': () => {
    assert.deepEqual(failures({ method: 'GET', path: '/nowhere', status: 404, headers: { 'x-request-id': 'other', ...pj }, text: problem(400) }),
      ['problem.status equals the HTTP status', 'problem.request_id equals X-Request-Id']);
  },
  'every operation listed': () => {
    // Counted independently of the validator: every method under every path.
    const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
    const expected = Object.values(spec.paths).reduce(
      (n, item) => n + methods.filter((m) => item[m]).length, 0);
    assert.ok(expected > 0);
    assert.equal(conf.operations().length, expected);
    // The foundation's operations, whatever later capabilities add.
    const ids = conf.operations().map((o) => o.operationId);
    for (const id of ['getHealth', 'getReadiness', 'getMetrics', 'getOpenApiDescription', 'getMe', 'createTenant',
      'listTenants', 'getTenant', 'updateTenant', 'deleteTenant', 'listTenantAuditRecords']) {
      assert.ok(ids.includes(id), `${id} is listed`);
    }
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  },
};
let bad = 0;
for (const [name, fn] of Object.entries(tests)) {
  try {
    fn();
    console.log(`PASS ${name}`);
  } catch (e) {
    bad++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
console.log(`${Object.keys(tests).length - bad} passed, ${bad} failed`);
process.exit(bad ? 1 : 0);
