// Conformance scenario: the product and service catalog (issue 17). Every
// catalog operation is exercised with a 2xx (or 304) and its main error
// paths. Media go to Blob Storage (Azurite) through the SAS the API issues;
// with a worker running (ATRIUM_TEST_WORKER_RUNNING=1) the upload is
// followed to `ready` and its download link used.

import { createHash } from 'node:crypto';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default async function catalog(ctx) {
  const { call, mustMint, expect, hasField, randomUUID, randomBytes, HOME } = ctx;
  const worker = process.env.ATRIUM_TEST_WORKER_RUNNING === '1';
  const run = randomBytes(4).toString('hex');
  const superToken = await mustMint({ tid: HOME, oid: randomUUID(), roles: ['super_admin'] });
  const aad = randomUUID();
  const t = await call('cat: create tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    json: { slug: `cat-${run}`, name: `Catalog ${run}`, aad_tenant_id: aad },
  }, 201);
  if (t.status !== 201) throw new Error('tenant creation failed');
  const base = `/v1/tenants/${t.body.id}/catalog`;
  const admin = await mustMint({ tid: aad, oid: randomUUID(), roles: ['tenant_admin'] });
  const member = await mustMint({ tid: aad, oid: randomUUID(), roles: [] });

  // -- categories
  const root = await call('cat: create global category', {
    method: 'POST', path: `${base}/categories`, token: superToken,
    json: { slug: `net-${run}`, name: 'Networking', scope: 'global' },
  }, 201);
  const child = await call('cat: create tenant category', {
    method: 'POST', path: `${base}/categories`, token: admin,
    json: { slug: `poe-${run}`, name: 'PoE switches', parent_id: root.body?.id },
  }, 201);
  await call('cat: global category as tenant admin', {
    method: 'POST', path: `${base}/categories`, token: admin, json: { slug: `x-${run}`, name: 'X', scope: 'global' },
  }, 403);
  const tree = await call('cat: category tree', { path: `${base}/categories`, token: member }, 200);
  expect(tree, 'the child right after its root, depth 1', (() => {
    const d = tree.body?.data ?? [];
    const i = d.findIndex((c) => c.id === root.body?.id);
    return i >= 0 && d[i + 1]?.id === child.body?.id && d[i + 1]?.depth === 1;
  })());
  await call('cat: get category', { path: `${base}/categories/${child.body?.id}`, token: member }, 200);
  const cyc = await call('cat: category cycle', {
    method: 'PATCH', path: `${base}/categories/${child.body?.id}`, token: admin, json: { parent_id: child.body?.id },
  }, 422);
  expect(cyc, 'errors[] names parent_id', hasField(cyc, 'parent_id'));
  await call('cat: rename category', {
    method: 'PATCH', path: `${base}/categories/${child.body?.id}`, token: admin, json: { name: 'PoE switches (managed)' },
  }, 200);
  await call('cat: unknown category', { path: `${base}/categories/${randomUUID()}`, token: member }, 404);

  // -- products
  const swBody = {
    sku: `SW-${run}`, name: 'Switch 8 PoE', description: 'Eight ports, "PoE+", fanless,\nrack mount', manufacturer: 'Netgear',
    model: 'GS308P', unit_price_minor: 12900, currency: 'EUR', category_id: child.body?.id,
    attributes: { ports: [{ count: 8, type: 'rj45', speed_mbps: 1000 }], poe_budget_w: 30 },
  };
  const sw = await call('cat: create product', { method: 'POST', path: `${base}/products`, token: admin, json: swBody }, 201);
  if (sw.status !== 201) throw new Error('product creation failed');
  const ap = await call('cat: create global product', {
    method: 'POST', path: `${base}/products`, token: superToken,
    json: { sku: `AP-${run}`, name: 'Access point', unit_price_minor: 9900, currency: 'EUR', scope: 'global',
      attributes: { ports: [{ count: 1, type: 'rj45', speed_mbps: 1000 }], poe_draw_w: 12.5 } },
  }, 201);
  await call('cat: duplicate SKU', { method: 'POST', path: `${base}/products`, token: admin, json: swBody }, 409);
  const bad = await call('cat: invalid product', {
    method: 'POST', path: `${base}/products`, token: admin,
    json: { sku: 'X', name: 'x', unit_price_minor: -1, currency: 'eur', attributes: { weight: 1 }, colour: 'red' },
  }, 422);
  expect(bad, 'errors[] names every bad field', ['unit_price_minor', 'currency', 'attributes.weight', 'colour'].every((f) => hasField(bad, f)),
    JSON.stringify(bad.body?.errors));
  await call('cat: member cannot create', { method: 'POST', path: `${base}/products`, token: member, json: swBody }, 403);
  const got = await call('cat: get product', { path: `${base}/products/${sw.body.id}`, token: member }, 200);
  const etag = got.headers.etag;
  await call('cat: get product, not modified', {
    path: `${base}/products/${sw.body.id}`, token: member, headers: { 'If-None-Match': etag },
  }, 304);
  await call('cat: stale If-Match', {
    method: 'PATCH', path: `${base}/products/${sw.body.id}`, token: admin, json: { status: 'eol' }, headers: { 'If-Match': '"0.0"' },
  }, 412);
  const upd = await call('cat: update product', {
    method: 'PATCH', path: `${base}/products/${sw.body.id}`, token: admin, json: { status: 'eol' }, headers: { 'If-Match': etag },
  }, 200);
  expect(upd, 'status and version moved', upd.body?.status === 'eol' && upd.body?.version === 2);
  await call('cat: global product as tenant admin', {
    method: 'PATCH', path: `${base}/products/${ap.body?.id}`, token: admin, json: { name: 'Mine' },
  }, 403);

  // -- search, filters, pages, CSV
  const found = await call('cat: search', { path: `${base}/products?q=${encodeURIComponent(`SW-${run}`)}`, token: member }, 200);
  expect(found, 'finds the product by SKU', found.body?.data?.length === 1 && found.body.data[0].id === sw.body.id);
  await call('cat: filters', {
    path: `${base}/products?category=${root.body?.id}&manufacturer=netgear&status=eol&currency=EUR&min_price=100&max_price=20000&limit=1`,
    token: member,
  }, 200);
  await call('cat: price range without currency', { path: `${base}/products?min_price=1`, token: member }, 400);
  const csv = await call('cat: CSV export', {
    path: `${base}/products?q=${encodeURIComponent(`SW-${run}`)}`, token: member, headers: { Accept: 'text/csv' },
  }, 200);
  expect(csv, 'quoted description (quotes doubled, comma and line break kept)',
    csv.text.includes('"Eight ports, ""PoE+"", fanless,\nrack mount"'), csv.text.slice(0, 400));

  // -- price overrides
  const ov = await call('cat: price override', {
    method: 'PUT', path: `${base}/products/${ap.body?.id}/price-override`, token: admin, json: { amount_minor: 8900, currency: 'EUR' },
  }, 200);
  expect(ov, 'price is the override, list_price the product\'s', ov.body?.price?.amount_minor === 8900 && ov.body?.list_price?.amount_minor === 9900);
  await call('cat: override in another currency', {
    method: 'PUT', path: `${base}/products/${ap.body?.id}/price-override`, token: admin, json: { amount_minor: 1, currency: 'USD' },
  }, 422);
  await call('cat: remove override', { method: 'DELETE', path: `${base}/products/${ap.body?.id}/price-override`, token: admin }, 204);
  await call('cat: remove missing override', { method: 'DELETE', path: `${base}/products/${ap.body?.id}/price-override`, token: admin }, 404);

  // -- services
  const svc = await call('cat: create service', {
    method: 'POST', path: `${base}/services`, token: admin,
    json: { sku: `MS-${run}`, name: 'Managed switching', unit_price_minor: 1500, currency: 'EUR', billing: 'monthly', unit: 'switch' },
  }, 201);
  const svcKey = { 'Idempotency-Key': `cat-${run}` };
  const svcBody = { sku: `MS2-${run}`, name: 'Managed routing', unit_price_minor: 900, currency: 'EUR', billing: 'yearly', unit: 'site' };
  const once = await call('cat: create service with a key', { method: 'POST', path: `${base}/services`, token: admin, json: svcBody, headers: svcKey }, 201);
  const again = await call('cat: idempotent replay', { method: 'POST', path: `${base}/services`, token: admin, json: svcBody, headers: svcKey }, 201);
  expect(again, 'replayed, the same service', again.headers['idempotent-replayed'] === 'true' && again.body?.id === once.body?.id);
  await call('cat: list services', { path: `${base}/services`, token: member }, 200);
  await call('cat: get service', { path: `${base}/services/${svc.body?.id}`, token: member }, 200);
  await call('cat: update service', {
    method: 'PATCH', path: `${base}/services/${svc.body?.id}`, token: admin, json: { billing: 'yearly', unit_price_minor: 15000 },
  }, 200);

  // -- relationships
  const rel = await call('cat: relate product', {
    method: 'POST', path: `${base}/products/${sw.body.id}/relationships`, token: admin,
    json: { to_item_id: ap.body?.id, type: 'recommends' },
  }, 201);
  await call('cat: self relation', {
    method: 'POST', path: `${base}/products/${sw.body.id}/relationships`, token: admin,
    json: { to_item_id: sw.body.id, type: 'requires' },
  }, 422);
  await call('cat: list product relationships', { path: `${base}/products/${sw.body.id}/relationships`, token: member }, 200);
  await call('cat: remove product relationship', {
    method: 'DELETE', path: `${base}/products/${sw.body.id}/relationships/${rel.body?.id}`, token: admin,
  }, 204);
  const srel = await call('cat: relate service', {
    method: 'POST', path: `${base}/services/${svc.body?.id}/relationships`, token: admin,
    json: { to_item_id: sw.body.id, type: 'requires' },
  }, 201);
  await call('cat: list service relationships', { path: `${base}/services/${svc.body?.id}/relationships`, token: member }, 200);
  await call('cat: remove service relationship', {
    method: 'DELETE', path: `${base}/services/${svc.body?.id}/relationships/${srel.body?.id}`, token: admin,
  }, 204);

  // -- cable plan
  const plan = await call('cat: cable plan', {
    method: 'POST', path: `${base}/cable-plans`, token: member,
    json: { bom: [{ ref: 'sw', product_id: sw.body.id }, { ref: 'ap', product_id: ap.body?.id, quantity: 3 }],
      links: [1, 2, 3].map((k) => ({ from: 'sw', to: `ap#${k}`, distance_m: 10 })) },
  }, 200);
  expect(plan, '3 x 15 m and PoE over budget (37.5 W of 30 W)', plan.body?.cables?.[0]?.count === 3 &&
    plan.body?.cables?.[0]?.length_m === 15 && plan.body?.problems?.[0]?.code === 'poe_over_budget', JSON.stringify(plan.body));
  await call('cat: cable plan, unknown product', {
    method: 'POST', path: `${base}/cable-plans`, token: member, json: { bom: [{ ref: 'x', product_id: randomUUID() }] },
  }, 422);

  // -- media and stencils
  const data = Buffer.from(`PK\u0003\u0004 stencil ${run}`);
  const sha = createHash('sha256').update(data).digest('hex');
  await call('cat: SVG refused', {
    method: 'POST', path: `${base}/products/${sw.body.id}/media`, token: admin,
    json: { kind: 'image', content_type: 'image/svg+xml', size: 10, sha256: sha },
  }, 422);
  await call('cat: too large', {
    method: 'POST', path: `${base}/products/${sw.body.id}/media`, token: admin,
    json: { kind: 'image', content_type: 'image/png', size: 11 * 1024 * 1024, sha256: sha },
  }, 422);
  const up = await call('cat: ask for an upload', {
    method: 'POST', path: `${base}/products/${sw.body.id}/media`, token: admin,
    json: { kind: 'stencil', content_type: 'application/vnd.ms-visio.stencil', size: data.length, sha256: sha, file_name: 'netgear.vssx' },
  }, 201);
  expect(up, 'a write-only single-blob SAS', /[?&]sp=cw(&|$)/.test(up.body?.upload?.url ?? '') && /[?&]sr=b(&|$)/.test(up.body?.upload?.url ?? ''));
  let uploaded = false;
  for (let i = 0; worker && !uploaded && i < 50; i++) {
    const r = await fetch(up.body.upload.url, { method: 'PUT', headers: up.body.upload.headers, body: data });
    uploaded = r.status === 201;
    if (!uploaded) await sleep(200); // the worker makes the containers when it starts
  }
  await call('cat: list product media', { path: `${base}/products/${sw.body.id}/media`, token: member }, 200);
  await call('cat: confirm upload', { method: 'POST', path: `${base}/media/${up.body?.id}/confirm`, token: admin }, 202);
  await call('cat: confirm twice', { method: 'POST', path: `${base}/media/${up.body?.id}/confirm`, token: admin }, 409);
  let m = await call('cat: get media', { path: `${base}/media/${up.body?.id}`, token: member }, 200);
  for (let i = 0; worker && m.body?.status === 'verifying' && i < 100; i++) {
    await sleep(200);
    m = await call('cat: get media (verifying)', { path: `${base}/media/${up.body?.id}`, token: member }, 200);
  }
  if (worker) {
    expect(m, 'ready after the worker checked the hash', m.body?.status === (uploaded ? 'ready' : 'rejected'), JSON.stringify(m.body));
    if (uploaded && m.body?.download?.url) {
      const dl = await fetch(m.body.download.url);
      const body = Buffer.from(await dl.arrayBuffer());
      expect(m, 'the download link serves the bytes', dl.status === 200 && body.equals(data), `${dl.status}`);
    }
  }
  await call('cat: stencils', { path: `${base}/stencils?manufacturer=netgear`, token: member }, 200);
  await call('cat: product with media cannot go', { method: 'DELETE', path: `${base}/products/${sw.body.id}`, token: admin }, 409);
  await call('cat: delete media', { method: 'DELETE', path: `${base}/media/${up.body?.id}`, token: admin }, 202);

  // -- deletes
  await call('cat: delete service', { method: 'DELETE', path: `${base}/services/${svc.body?.id}`, token: admin }, 204);
  await call('cat: delete global product', { method: 'DELETE', path: `${base}/products/${ap.body?.id}`, token: superToken }, 204);
  await call('cat: non-empty category', { method: 'DELETE', path: `${base}/categories/${root.body?.id}`, token: superToken }, 409);
  const other = await call('cat: another category', {
    method: 'POST', path: `${base}/categories`, token: admin, json: { slug: `empty-${run}`, name: 'Empty' },
  }, 201);
  await call('cat: delete empty category', { method: 'DELETE', path: `${base}/categories/${other.body?.id}`, token: admin }, 204);
}
