// Conformance scenario: a tenant's QuickBooks Online connection (issue 15):
// connect → the fake Intuit's consent redirect → callback → connected (the
// worker scripts/test runs exchanges the code), the integrations list, a
// webhook-named invoice read with its amounts, and disconnect. Needs the
// fake Intuit (ATRIUM_TEST_FAKE_INTUIT_URL, scripts/lib.sh).

import { createHmac } from 'node:crypto';
import http from 'node:http';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A plain-HTTP request to the fake (no redirects followed).
function fake(method, url, { headers = {}, json } = {}) {
  return new Promise((resolve, reject) => {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const req = http.request(url, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export default async function quickbooks(ctx) {
  const { call, mustMint, expect, record, randomUUID, randomBytes, HOME } = ctx;
  const intuit = process.env.ATRIUM_TEST_FAKE_INTUIT_URL ?? '';
  const verifier = process.env.ATRIUM_QUICKBOOKS_VERIFIER_TOKEN ?? '';
  record(intuit !== '' && verifier !== '', 'quickbooks', 'ATRIUM_TEST_FAKE_INTUIT_URL and ATRIUM_QUICKBOOKS_VERIFIER_TOKEN are set');
  if (!intuit || !verifier) return;
  const run = randomBytes(4).toString('hex');
  const realm = `9131${String(parseInt(run, 16)).padStart(12, '0')}`;
  const superToken = await mustMint({ tid: HOME, oid: randomUUID(), roles: ['super_admin'] });
  const aad = randomUUID();
  const created = await call('quickbooks: tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    json: { slug: `conf-qbo-${run}`, name: `QuickBooks ${run}`, aad_tenant_id: aad },
  }, 201);
  const T = created.body;
  if (!T?.id) throw new Error('cannot create the tenant');
  const admin = await mustMint({ tid: aad, oid: randomUUID(), roles: ['tenant_admin'] });

  const before = await call('quickbooks: integrations, never connected', { path: `/v1/tenants/${T.id}/integrations`, token: admin }, 200);
  expect(before, 'disconnected', before.body?.data?.[0]?.status === 'disconnected', before.text);

  const start = await call('quickbooks: connect', { method: 'POST', path: `/v1/tenants/${T.id}/integrations/quickbooks/connect`, token: admin }, 200);
  const url = start.body?.authorize_url ?? '';
  expect(start, 'the consent page is the fake Intuit', url.startsWith(intuit), url);
  const consent = await fake('GET', url, { headers: { 'x-fake-intuit-realm': realm } });
  const loc = new URL(consent.headers.location ?? 'http://invalid/');
  record(consent.status === 302 && loc.pathname === '/v1/integrations/quickbooks/callback', 'quickbooks', 'the fake redirects back to the callback',
    `${consent.status} ${consent.headers.location}`);
  const back = await call('quickbooks: callback', { path: `${loc.pathname}${loc.search}`, token: admin }, 303);
  expect(back, 'to the portal billing page', String(back.headers.location ?? '').includes(`/app/tenants/${T.id}/billing`), back.headers.location);
  await call('quickbooks: callback again (state used)', { path: `${loc.pathname}${loc.search}`, token: admin }, 400);

  let status = '';
  for (let i = 0; i < 100 && status !== 'connected'; i++) {
    const r = await call('quickbooks: integrations', { path: `/v1/tenants/${T.id}/integrations`, token: admin }, 200);
    status = r.body?.data?.[0]?.status;
    if (status !== 'connected') await sleep(200);
  }
  record(status === 'connected', 'quickbooks', 'the worker connects', status);

  // A notification names an invoice; the worker reads its amounts.
  const inv = await fake('POST', `${intuit}/admin/companies/${realm}/invoice`, { json: { TotalAmt: 99.5, DueDate: '2027-03-01' } });
  const id = inv.body?.Invoice?.Id;
  const body = JSON.stringify([{
    specversion: '1.0', id: `${run}-qbo-conf`, source: 'intuit.conformance', type: 'qbo.invoice.created.v1',
    datacontenttype: 'application/json', time: new Date().toISOString(), intuitentityid: id, intuitaccountid: realm, data: {},
  }]);
  await call('quickbooks: notification', {
    method: 'POST', path: '/v1/webhooks/quickbooks', body,
    headers: { 'intuit-signature': createHmac('sha256', verifier).update(body).digest('base64') },
  }, 200);
  let invoice;
  for (let i = 0; i < 100 && !(invoice && invoice.needs_sync === false); i++) {
    const r = await call('quickbooks: invoices', { path: `/v1/tenants/${T.id}/invoices`, token: admin }, 200);
    invoice = (r.body?.data ?? []).find((x) => x.external_id === id);
    if (!(invoice && invoice.needs_sync === false)) await sleep(200);
  }
  record(invoice?.total_minor === 9950 && invoice?.due_date === '2027-03-01', 'quickbooks', 'the invoice has its amounts', JSON.stringify(invoice));

  const gone = await call('quickbooks: disconnect', { method: 'DELETE', path: `/v1/tenants/${T.id}/integrations/quickbooks`, token: admin }, 200);
  expect(gone, 'disconnected', gone.body?.status === 'disconnected', gone.text);
  const noToken = !/fake-(at|rt|code)-/.test(start.text + before.text + gone.text);
  record(noToken, 'quickbooks', 'no token in any answer');
}
