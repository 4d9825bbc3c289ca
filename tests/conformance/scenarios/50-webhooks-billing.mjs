// Conformance scenario: billing webhooks (QuickBooks Online, Pax8), the
// operators' event list, and a tenant's invoices, subscriptions and usage.
//
// Deliveries are signed with the test secrets scripts/lib.sh exports
// (ATRIUM_QUICKBOOKS_VERIFIER_TOKEN, ATRIUM_PAX8_WEBHOOK_SECRET). The events
// are processed by the `atrium worker` scripts/test runs; the scenario waits
// for them so the billing lists are checked with real items in them.

import { createHmac } from 'node:crypto';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default async function webhooksAndBilling(ctx) {
  const { call, mustMint, expect, record, randomUUID, randomBytes, HOME } = ctx;
  const verifier = process.env.ATRIUM_QUICKBOOKS_VERIFIER_TOKEN ?? '';
  const pax8Secret = process.env.ATRIUM_PAX8_WEBHOOK_SECRET ?? '';
  record(verifier !== '' && pax8Secret !== '', 'webhooks', 'ATRIUM_QUICKBOOKS_VERIFIER_TOKEN and ATRIUM_PAX8_WEBHOOK_SECRET are set');
  if (!verifier || !pax8Secret) return;
  const sign = (body) => createHmac('sha256', verifier).update(body).digest('base64');
  const run = randomBytes(4).toString('hex');
  const superToken = await mustMint({ tid: HOME, oid: randomUUID(), roles: ['super_admin'] });

  // A tenant billed through a QuickBooks realm and a Pax8 company.
  const realm = `91303486${parseInt(run, 16)}`;
  const company = randomUUID();
  const aad = randomUUID();
  const created = await call('webhooks: billed tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    json: { slug: `conf-wh-${run}`, name: `Webhooks ${run}`, aad_tenant_id: aad, quickbooks_realm_id: realm, pax8_company_id: company },
  }, 201);
  const T = created.body;
  if (!T?.id) throw new Error('cannot create the billed tenant');
  const other = await call('webhooks: another tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    json: { slug: `conf-wh-o-${run}`, name: `Other ${run}`, aad_tenant_id: randomUUID() },
  }, 201);

  // -- QuickBooks: CloudEvents (mixed realms), then legacy
  const invoiceId = `${run}-145`;
  const ce = JSON.stringify([
    {
      specversion: '1.0', id: `${run}-ce-invoice`, source: 'intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=',
      type: 'qbo.invoice.created.v1', datacontenttype: 'application/json', time: '2026-03-04T15:25:05.179Z',
      intuitentityid: invoiceId, intuitaccountid: realm, data: {},
    },
    {
      specversion: '1.0', id: `${run}-ce-unknown`, source: 'intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=',
      type: 'qbo.customer.merged.v1', datacontenttype: 'application/json', time: '2026-03-04T15:27:40Z',
      intuitentityid: '123', intuitaccountid: `unknown-${run}`, data: { deletedid: '27' },
    },
  ]);
  const qbo = (step, body, signature, status) => call(step, {
    method: 'POST', path: '/v1/webhooks/quickbooks', body,
    headers: signature === undefined ? {} : { 'intuit-signature': signature },
  }, status);
  const first = await qbo('quickbooks: CloudEvents delivery', ce, sign(ce), 200);
  expect(first, 'both events received', first.body?.received === 2 && first.body?.duplicates === 0, first.text);
  const again = await qbo('quickbooks: redelivery', ce, sign(ce), 200);
  expect(again, 'acknowledged as duplicates, nothing new', again.body?.received === 0 && again.body?.duplicates === 2, again.text);
  const wrong = await qbo('quickbooks: wrong signature', ce, sign(`${ce} `), 401);
  expect(wrong, 'WWW-Authenticate names the provider', wrong.headers['www-authenticate'] === 'Webhook realm="quickbooks"');
  await qbo('quickbooks: no signature', ce, undefined, 401);
  await qbo('quickbooks: truncated signature', ce, sign(ce).slice(0, 43), 401);
  await qbo('quickbooks: tampered body', ce.replace('15:25:05', '15:25:06'), sign(ce), 401);
  await qbo('quickbooks: malformed JSON, valid signature', '[{"specversion":', sign('[{"specversion":'), 400);
  const neither = `{"hello":"${run}"}`;
  await qbo('quickbooks: neither format', neither, sign(neither), 400);
  const legacy = JSON.stringify({
    eventNotifications: [{
      realmId: realm,
      dataChangeEvent: { entities: [{ name: 'Invoice', id: invoiceId, operation: 'Void', lastUpdated: '2026-03-05T09:12:44-0800' }] },
    }],
  });
  const leg = await qbo('quickbooks: legacy delivery', legacy, sign(legacy), 200);
  expect(leg, 'one event received', leg.body?.received === 1, leg.text);
  await call('quickbooks: oversize body', {
    method: 'POST', path: '/v1/webhooks/quickbooks', body: `[${' '.repeat(300 * 1024)}]`,
    headers: { 'intuit-signature': sign('[]') }, expectContinue: true,
  }, 413);
  await call('quickbooks: GET is not a method here', { path: '/v1/webhooks/quickbooks' }, 405);

  // -- Pax8: a subscription change and a usage line
  const subscriptionId = randomUUID();
  const pax8 = (step, body, auth, status) => call(step, {
    method: 'POST', path: '/v1/webhooks/pax8', body, headers: auth === undefined ? {} : { Authorization: auth },
  }, status);
  const sub = JSON.stringify({
    id: randomUUID(), accountId: randomUUID(), webhookId: randomUUID(), sentAt: '2026-03-10T10:00:05Z',
    topic: 'SUBSCRIPTION', action: 'UPDATED',
    webhookTopic: { id: randomUUID(), topic: 'SUBSCRIPTION', filters: [{ action: 'UPDATED', conditions: [] }] },
    payloadData: {
      id: subscriptionId, companyId: company, productId: randomUUID(), productName: 'Microsoft 365 Business Premium',
      quantity: 25, startDate: '2026-01-02T00:00:00Z', createdDate: '2026-01-02T10:00:00Z',
      updatedDate: '2026-03-10T10:00:00Z', billingStart: '2026-01-02', status: 'Active', price: 22.0,
      currencyCode: 'USD', partnerCost: 18.7, billingTerm: 'Monthly',
    },
  });
  const ps = await pax8('pax8: subscription updated', sub, pax8Secret, 200);
  expect(ps, 'one event received', ps.body?.received === 1, ps.text);
  await pax8('pax8: redelivery', sub, pax8Secret, 200);
  await pax8('pax8: wrong secret', sub, `${pax8Secret}x`, 401);
  await pax8('pax8: no Authorization', sub, undefined, 401);
  await pax8('pax8: not an event', '{"topic":"SUBSCRIPTION"}', pax8Secret, 400);
  const usage = JSON.stringify({
    id: randomUUID(), sentAt: '2026-04-02T00:00:00Z', topic: 'USAGE', action: 'UPDATED',
    payloadData: {
      usageSummaryId: randomUUID(), companyId: company, subscriptionId, productId: randomUUID(), productName: 'Azure plan',
      usageDate: '2026-03-01', unitOfMeasure: 'Hours', quantity: 744, unitPrice: 0.0416, currentCharges: 30.95,
      partnerTotal: 26.31, currencyCode: 'USD', isTrial: false,
    },
  });
  await pax8('pax8: usage updated', usage, pax8Secret, 200);

  // -- wait for the worker to process the tenant's four events
  let processed = [];
  for (let i = 0; i < 120 && processed.length < 4; i++) {
    const page = await call('webhook events: by tenant, processed', {
      path: `/v1/webhooks/events?tenant_id=${T.id}&status=processed&limit=100`, token: superToken,
    });
    processed = page.body?.data ?? [];
    if (processed.length < 4) await sleep(250);
  }
  record(processed.length === 4, 'webhooks', 'the worker processed the tenant\'s 4 events (is `atrium worker` running?)',
    `processed ${processed.length}`);

  // -- the operators' event list
  const all = await call('webhook events: list', { path: '/v1/webhooks/events?limit=5', token: superToken }, 200);
  expect(all, 'at most 5, newest first', (all.body?.data?.length ?? 99) <= 5 &&
    (all.body?.data ?? []).every((e, i, a) => i === 0 || Date.parse(a[i - 1].received_at) >= Date.parse(e.received_at)));
  if (typeof all.body?.next_cursor === 'string') {
    await call('webhook events: next page', {
      path: `/v1/webhooks/events?limit=5&cursor=${encodeURIComponent(all.body.next_cursor)}`, token: superToken,
    }, 200);
  }
  const unmatched = await call('webhook events: unmatched', { path: '/v1/webhooks/events?unmatched=true&provider=quickbooks&limit=100', token: superToken }, 200);
  expect(unmatched, 'holds the unknown realm\'s event', (unmatched.body?.data ?? []).some((e) => e.dedupe_key === `${run}-ce-unknown`) &&
    (unmatched.body?.data ?? []).every((e) => e.status === 'unmatched'));
  const rejected = await call('webhook events: rejected', { path: '/v1/webhooks/events?status=rejected&limit=20', token: superToken }, 200);
  expect(rejected, 'only rejected events', (rejected.body?.data ?? []).length > 0 && rejected.body.data.every((e) => e.status === 'rejected'));
  await call('webhook events: bad provider', { path: '/v1/webhooks/events?provider=stripe', token: superToken }, 400);
  await call('webhook events: bad unmatched', { path: '/v1/webhooks/events?unmatched=yes', token: superToken }, 400);
  const admin = await mustMint({ tid: aad, oid: randomUUID(), roles: ['tenant_admin'] });
  await call('webhook events: tenant admin', { path: '/v1/webhooks/events', token: admin }, 403);
  await call('webhook events: no token', { path: '/v1/webhooks/events' }, 401);

  // -- the tenant's billing data
  const viewer = await mustMint({ tid: aad, oid: randomUUID(), roles: ['billing_viewer'] });
  const member = await mustMint({ tid: aad, oid: randomUUID(), roles: [] });
  const invoices = await call('invoices: tenant admin', { path: `/v1/tenants/${T.id}/invoices`, token: admin }, 200);
  const inv = (invoices.body?.data ?? []).find((i) => i.external_id === invoiceId);
  expect(invoices, 'the invoice is voided (the newer change won)', inv?.status === 'voided' && inv?.realm_id === realm, JSON.stringify(inv));
  await call('invoices: billing viewer, period', { path: `/v1/tenants/${T.id}/invoices?period=2026-03&status=voided`, token: viewer }, 200);
  await call('invoices: member', { path: `/v1/tenants/${T.id}/invoices`, token: member }, 403);
  await call('invoices: another tenant', { path: `/v1/tenants/${other.body?.id}/invoices`, token: admin }, 404);
  await call('invoices: bad period', { path: `/v1/tenants/${T.id}/invoices?period=2026-13`, token: admin }, 400);
  await call('invoices: bad status', { path: `/v1/tenants/${T.id}/invoices?status=paid`, token: admin }, 400);
  const subs = await call('subscriptions: billing viewer', { path: `/v1/tenants/${T.id}/subscriptions?status=active&period=2026-03`, token: viewer }, 200);
  const s0 = (subs.body?.data ?? []).find((s) => s.external_id === subscriptionId);
  expect(subs, 'quantity, price in minor units, status', s0?.quantity === 25 && s0?.price_minor === 2200 && s0?.currency === 'USD' &&
    s0?.status === 'active', JSON.stringify(s0));
  await call('subscriptions: member', { path: `/v1/tenants/${T.id}/subscriptions`, token: member }, 403);
  await call('subscriptions: bad status', { path: `/v1/tenants/${T.id}/subscriptions?status=Active`, token: viewer }, 400);
  const use = await call('usage: tenant admin', { path: `/v1/tenants/${T.id}/usage?period=2026-03&subscription_id=${subscriptionId}`, token: admin }, 200);
  const u0 = use.body?.data?.[0];
  expect(use, 'the usage line, money in minor units', u0?.amount_minor === 3095 && u0?.unit_price === '0.0416' && u0?.usage_date === '2026-03-01',
    JSON.stringify(u0));
  await call('usage: support user', { path: `/v1/tenants/${T.id}/usage`, token: await mustMint({ tid: aad, oid: randomUUID(), roles: ['support_user'] }) }, 403);
  await call('usage: bad limit', { path: `/v1/tenants/${T.id}/usage?limit=0`, token: admin }, 400);

  // -- CSV of the lists (PostgreSQL's quoting), reports, the platform summary
  const csv = { Accept: 'text/csv' };
  for (const list of ['invoices', 'subscriptions', 'usage']) {
    const r = await call(`${list}: CSV`, { path: `/v1/tenants/${T.id}/${list}?period=2026-03`, token: viewer, headers: csv }, 200);
    expect(r, 'text/csv with a header line and a file name', /^text\/csv/.test(r.headers['content-type'] ?? '') &&
      /^id,/.test(r.text) && /attachment; filename="/.test(r.headers['content-disposition'] ?? ''), r.text.slice(0, 200));
    await call(`${list}: not acceptable`, { path: `/v1/tenants/${T.id}/${list}`, token: viewer, headers: { Accept: 'image/png' } }, 406);
  }
  const byProduct = await call('usage by product', { path: `/v1/tenants/${T.id}/usage/by-product?period=2026-03`, token: viewer }, 200);
  const p0 = (byProduct.body?.data ?? []).find((p) => p.product_name === 'Azure plan');
  expect(byProduct, 'the usage summed per product', p0?.amount_minor === 3095 && p0?.currency === 'USD', JSON.stringify(byProduct.body));
  await call('usage by product: CSV', { path: `/v1/tenants/${T.id}/usage/by-product?from=2026-01&to=2026-03`, token: admin, headers: csv }, 200);
  await call('usage by product: bad range', { path: `/v1/tenants/${T.id}/usage/by-product?from=2026-05&to=2026-01`, token: admin }, 400);
  await call('usage by product: member', { path: `/v1/tenants/${T.id}/usage/by-product`, token: member }, 403);
  const totals = await call('billing totals', { path: `/v1/tenants/${T.id}/billing/totals?period=2026-03`, token: viewer }, 200);
  expect(totals, 'invoices without amounts are unsynced, not summed', typeof totals.body?.unsynced_count === 'number', totals.text);
  await call('billing totals: CSV', { path: `/v1/tenants/${T.id}/billing/totals`, token: admin, headers: csv }, 200);
  await call('billing totals: another tenant', { path: `/v1/tenants/${other.body?.id}/billing/totals`, token: admin }, 404);
  await call('billing totals: bad period', { path: `/v1/tenants/${T.id}/billing/totals?period=2026-00`, token: admin }, 400);
  const summary = await call('billing summary: super admin', { path: '/v1/billing/summary?from=2026-01&to=2026-12', token: superToken }, 200);
  expect(summary, 'revenue by month, top tenants, overdue invoices', Array.isArray(summary.body?.revenue_by_month) &&
    Array.isArray(summary.body?.top_tenants) && Array.isArray(summary.body?.overdue_invoices), summary.text.slice(0, 300));
  await call('billing summary: tenant admin', { path: '/v1/billing/summary', token: admin }, 403);
  await call('billing summary: CSV is not offered', { path: '/v1/billing/summary', token: superToken, headers: csv }, 406);
}
