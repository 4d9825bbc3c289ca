// Conformance scenario: events, bets, wallets, payments and the ledger.
// Every operation is exercised with a 2xx and its key error paths; money
// assertions check balances after each movement. Settlement runs in the
// worker: when none is running the scenario says so and skips the
// post-settlement balance checks (scripts/test runs one).

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default async function betting(ctx) {
  const { call, mustMint, expect, record, hasField, randomUUID, randomBytes, HOME } = ctx;
  const run = randomBytes(4).toString('hex');
  const superToken = await mustMint({ tid: HOME, oid: randomUUID(), roles: ['super_admin'] });

  const aadA = randomUUID();
  const aadB = randomUUID();
  const tA = await call('money: create tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken, json: { slug: `money-a-${run}`, name: `Money A ${run}`, aad_tenant_id: aadA },
  }, 201);
  const tB = await call('money: create tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken, json: { slug: `money-b-${run}`, name: `Money B ${run}`, aad_tenant_id: aadB },
  }, 201);
  if (!tA.body?.id || !tB.body?.id) throw new Error('tenant creation failed');
  const A = `/v1/tenants/${tA.body.id}`;
  const B = `/v1/tenants/${tB.body.id}`;

  const admin = await mustMint({ tid: aadA, oid: randomUUID(), roles: ['tenant_admin'] });
  const member = await mustMint({ tid: aadA, oid: randomUUID(), roles: [] });
  const other = await mustMint({ tid: aadA, oid: randomUUID(), roles: [] });
  const viewer = await mustMint({ tid: aadA, oid: randomUUID(), roles: ['billing_viewer'] });
  const support = await mustMint({ tid: aadA, oid: randomUUID(), roles: ['support_user'] });
  const memberB = await mustMint({ tid: aadB, oid: randomUUID(), roles: [] });
  const meM = await call('money: member me', { path: '/v1/me', token: member }, 200);
  const memberId = meM.body?.user?.id;

  // ---- events
  const starts = new Date(Date.now() + 7 * 86400e3).toISOString();
  const eventBody = {
    name: `Final ${run}`, sport: 'football', starts_at: starts, status: 'open',
    selections: [{ key: 'home', name: 'Home', odds: '2.50' }, { key: 'away', name: 'Away', odds: '1.75' }],
  };
  const evKey = `ev-${run}`;
  const ev = await call('events: create', {
    method: 'POST', path: `${A}/events`, token: admin, json: eventBody, headers: { 'Idempotency-Key': evKey },
  }, 201);
  const E = ev.body;
  if (!E?.id) throw new Error('event creation failed');
  expect(ev, 'event is open with its selections and odds as given', E.status === 'open' &&
    E.selections.length === 2 && E.selections[0].odds === '2.50' && E.result === null && E.bets_settled_at === null, JSON.stringify(E));
  expect(ev, 'Location names the event', (ev.headers.location ?? '').endsWith(`${A}/events/${E.id}`), ev.headers.location);
  const evReplay = await call('events: idempotent replay', {
    method: 'POST', path: `${A}/events`, token: admin, json: eventBody, headers: { 'Idempotency-Key': evKey },
  }, 201);
  expect(evReplay, 'replay returns the same event', evReplay.body?.id === E.id && evReplay.headers['idempotent-replayed'] === 'true');
  await call('events: same key, other body', {
    method: 'POST', path: `${A}/events`, token: admin, json: { ...eventBody, name: 'other' }, headers: { 'Idempotency-Key': evKey },
  }, 422);
  const badSel = await call('events: odds not above 1', {
    method: 'POST', path: `${A}/events`, token: admin,
    json: { ...eventBody, selections: [{ key: 'a', name: 'A', odds: '1.00' }, { key: 'a', name: 'B', odds: 'x' }] },
  }, 422);
  expect(badSel, 'errors[] names each bad selection member',
    hasField(badSel, 'selections[0].odds') && hasField(badSel, 'selections[1].odds') && hasField(badSel, 'selections[1].key'),
    JSON.stringify(badSel.body?.errors));
  const badTime = await call('events: starts_at not RFC 3339', {
    method: 'POST', path: `${A}/events`, token: admin, json: { ...eventBody, starts_at: '2026-02-30T10:00:00Z' },
  }, 422);
  expect(badTime, 'errors[] names starts_at', hasField(badTime, 'starts_at'));
  await call('events: one selection only', {
    method: 'POST', path: `${A}/events`, token: admin, json: { ...eventBody, selections: [eventBody.selections[0]] },
  }, 422);
  await call('events: member creates', { method: 'POST', path: `${A}/events`, token: member, json: eventBody }, 403);
  await call('events: other tenant', { method: 'POST', path: `${B}/events`, token: admin, json: eventBody }, 404);

  const got = await call('events: get', { path: `${A}/events/${E.id}`, token: member }, 200);
  expect(got, 'same event', got.body?.id === E.id && got.headers.etag === ev.headers.etag);
  await call('events: get unknown', { path: `${A}/events/${randomUUID()}`, token: member }, 404);
  await call('events: get malformed id', { path: `${A}/events/nope`, token: member }, 404);
  await call('events: get from another tenant', { path: `${A}/events/${E.id}`, token: memberB }, 404);
  const list = await call('events: list open football', {
    path: `${A}/events?status=open&sport=football&starts_after=${encodeURIComponent(new Date().toISOString())}`, token: member,
  }, 200);
  expect(list, 'holds the event', (list.body?.data ?? []).some((e) => e.id === E.id));
  const none = await call('events: list, starts_before now', {
    path: `${A}/events?starts_before=${encodeURIComponent(new Date().toISOString())}`, token: member,
  }, 200);
  expect(none, 'does not hold the future event', (none.body?.data ?? []).every((e) => e.id !== E.id));
  await call('events: list, bad status', { path: `${A}/events?status=live`, token: member }, 400);
  await call('events: list, bad starts_after', { path: `${A}/events?starts_after=yesterday`, token: member }, 400);

  const patched = await call('events: change odds with If-Match', {
    method: 'PATCH', path: `${A}/events/${E.id}`, token: admin, headers: { 'If-Match': ev.headers.etag },
    contentType: 'application/merge-patch+json', json: { selections: [{ key: 'home', odds: '2.40' }, { key: 'draw', name: 'Draw', odds: '3.1' }] },
  }, 200);
  expect(patched, 'odds changed and a selection added', patched.body?.selections?.length === 3 &&
    patched.body.selections[0].odds === '2.40' && patched.body.selections[2].key === 'draw', JSON.stringify(patched.body?.selections));
  await call('events: stale If-Match', {
    method: 'PATCH', path: `${A}/events/${E.id}`, token: admin, headers: { 'If-Match': ev.headers.etag }, json: { name: 'x' },
  }, 412);
  await call('events: new selection without odds', {
    method: 'PATCH', path: `${A}/events/${E.id}`, token: admin, json: { selections: [{ key: 'other', name: 'Other' }] },
  }, 422);
  await call('events: patch read-only result', { method: 'PATCH', path: `${A}/events/${E.id}`, token: admin, json: { result: 'home' } }, 422);
  await call('events: member patches', { method: 'PATCH', path: `${A}/events/${E.id}`, token: member, json: { name: 'x' } }, 403);

  // ---- wallet and payments
  const w0 = await call('wallet: empty', { path: `${A}/wallet`, token: member }, 200);
  expect(w0, 'no balances yet', Array.isArray(w0.body?.balances) && w0.body.balances.length === 0 && w0.body.user_id === memberId);
  const depKey = `dep-${run}`;
  const dep = await call('payments: deposit', {
    method: 'POST', path: `${A}/payments`, token: member, json: { direction: 'deposit', amount_minor: 1000, currency: 'EUR' },
    headers: { 'Idempotency-Key': depKey },
  }, 201);
  expect(dep, 'succeeded', dep.body?.status === 'succeeded' && dep.body?.amount_minor === 1000 && dep.body?.user_id === memberId);
  const depReplay = await call('payments: deposit replayed', {
    method: 'POST', path: `${A}/payments`, token: member, json: { direction: 'deposit', amount_minor: 1000, currency: 'EUR' },
    headers: { 'Idempotency-Key': depKey },
  }, 201);
  expect(depReplay, 'same payment, marked as a replay', depReplay.body?.id === dep.body?.id && depReplay.headers['idempotent-replayed'] === 'true');
  await call('payments: same key, other amount', {
    method: 'POST', path: `${A}/payments`, token: member, json: { direction: 'deposit', amount_minor: 999, currency: 'EUR' },
    headers: { 'Idempotency-Key': depKey },
  }, 422);
  const tooMuch = await call('payments: withdrawal over the balance', {
    method: 'POST', path: `${A}/payments`, token: member, json: { direction: 'withdrawal', amount_minor: 1001, currency: 'EUR' },
  }, 422);
  expect(tooMuch, 'problem type insufficient-funds', /insufficient-funds$/.test(tooMuch.body?.type ?? ''));
  const wd = await call('payments: withdrawal', {
    method: 'POST', path: `${A}/payments`, token: member, json: { direction: 'withdrawal', amount_minor: 100, currency: 'EUR' },
  }, 201);
  const w1 = await call('wallet: after deposit and withdrawal', { path: `${A}/wallet`, token: member }, 200);
  expect(w1, 'balance is 900 EUR (the replay moved nothing)',
    w1.body?.balances?.length === 1 && w1.body.balances[0].currency === 'EUR' && w1.body.balances[0].available_minor === 900, JSON.stringify(w1.body));
  const badPay = await call('payments: invalid body', {
    method: 'POST', path: `${A}/payments`, token: member, json: { direction: 'gift', amount_minor: 0, currency: 'eur', note: 'x' },
  }, 422);
  expect(badPay, 'errors[] names each field', ['direction', 'amount_minor', 'currency', 'note'].every((f) => hasField(badPay, f)),
    JSON.stringify(badPay.body?.errors));
  await call('payments: billing viewer moves money', {
    method: 'POST', path: `${A}/payments`, token: viewer, json: { direction: 'deposit', amount_minor: 1, currency: 'EUR' },
  }, 403);
  await call('payments: support user moves money', {
    method: 'POST', path: `${A}/payments`, token: support, json: { direction: 'deposit', amount_minor: 1, currency: 'EUR' },
  }, 403);
  await call('payments: super admin moves money', {
    method: 'POST', path: `${A}/payments`, token: superToken, json: { direction: 'deposit', amount_minor: 1, currency: 'EUR' },
  }, 403);
  await call('payments: bad Idempotency-Key', {
    method: 'POST', path: `${A}/payments`, token: member, json: { direction: 'deposit', amount_minor: 1, currency: 'EUR' },
    headers: { 'Idempotency-Key': 'has space' },
  }, 400);
  const pay = await call('payments: get own', { path: `${A}/payments/${dep.body?.id}`, token: member }, 200);
  expect(pay, 'the deposit', pay.body?.id === dep.body?.id);
  await call('payments: another member\'s', { path: `${A}/payments/${dep.body?.id}`, token: other }, 404);
  await call('payments: another tenant\'s', { path: `${B}/payments/${dep.body?.id}`, token: memberB }, 404);
  const viewerPay = await call('payments: billing viewer reads', { path: `${A}/payments/${wd.body?.id}`, token: viewer }, 200);
  expect(viewerPay, 'the withdrawal', viewerPay.body?.direction === 'withdrawal');
  const mine = await call('payments: list own', { path: `${A}/payments?direction=deposit`, token: member }, 200);
  expect(mine, 'one deposit', mine.body?.data?.length === 1 && mine.body.data[0].id === dep.body?.id);
  const othersList = await call('payments: other member lists', { path: `${A}/payments`, token: other }, 200);
  expect(othersList, 'sees none of the first member\'s', (othersList.body?.data ?? []).length === 0);
  const all = await call('payments: admin lists by user', { path: `${A}/payments?user_id=${memberId}&currency=EUR&status=succeeded`, token: admin }, 200);
  expect(all, 'both payments', all.body?.data?.length === 2);
  await call('payments: bad filter', { path: `${A}/payments?direction=sideways`, token: admin }, 400);
  await call('payments: bad currency filter', { path: `${A}/payments?currency=euro`, token: admin }, 400);
  const vw = await call('wallet: admin reads a member\'s', { path: `${A}/wallet?user_id=${memberId}`, token: admin }, 200);
  expect(vw, 'the member\'s balance', vw.body?.balances?.[0]?.available_minor === 900);
  await call('wallet: member reads another\'s', { path: `${A}/wallet?user_id=${memberId}`, token: other }, 404);

  // ---- bets
  const betBody = { event_id: E.id, selection: 'home', stake_minor: 300, currency: 'EUR', odds: '2.50' };
  const stale = await call('bets: stale odds', { method: 'POST', path: `${A}/bets`, token: member, json: betBody }, 409);
  expect(stale, 'names the current odds', /2\.40/.test(stale.body?.detail ?? '') && hasField(stale, 'odds'), stale.body?.detail);
  const betKey = `bet-${run}`;
  const bet = await call('bets: place', {
    method: 'POST', path: `${A}/bets`, token: member, json: { ...betBody, odds: '2.4' }, headers: { 'Idempotency-Key': betKey },
  }, 201);
  expect(bet, 'accepted with floor(300 x 2.40) = 720 potential payout', bet.body?.status === 'accepted' &&
    bet.body?.potential_payout_minor === 720 && bet.body?.odds === '2.40' && bet.body?.payout_minor === null, JSON.stringify(bet.body));
  const betReplay = await call('bets: replay', {
    method: 'POST', path: `${A}/bets`, token: member, json: { ...betBody, odds: '2.4' }, headers: { 'Idempotency-Key': betKey },
  }, 201);
  expect(betReplay, 'same bet, replayed', betReplay.body?.id === bet.body?.id && betReplay.headers['idempotent-replayed'] === 'true');
  const lose = await call('bets: place on away', {
    method: 'POST', path: `${A}/bets`, token: member, json: { ...betBody, selection: 'away', stake_minor: 200, odds: '1.75' },
  }, 201);
  const broke = await call('bets: stake over the balance', {
    method: 'POST', path: `${A}/bets`, token: member, json: { ...betBody, stake_minor: 5000, odds: '2.40' },
  }, 422);
  expect(broke, 'problem type insufficient-funds', /insufficient-funds$/.test(broke.body?.type ?? ''));
  await call('bets: unknown selection', { method: 'POST', path: `${A}/bets`, token: member, json: { ...betBody, selection: 'nope' } }, 422);
  await call('bets: another tenant\'s event', {
    method: 'POST', path: `${B}/bets`, token: memberB, json: { ...betBody, odds: '2.40' },
  }, 422);
  await call('bets: billing viewer bets', { method: 'POST', path: `${A}/bets`, token: viewer, json: betBody }, 403);
  await call('bets: admin bets', { method: 'POST', path: `${A}/bets`, token: admin, json: betBody }, 403);
  const w2 = await call('wallet: after two bets', { path: `${A}/wallet`, token: member }, 200);
  expect(w2, 'balance is 900 - 300 - 200 = 400', w2.body?.balances?.[0]?.available_minor === 400, JSON.stringify(w2.body));
  const b1 = await call('bets: get own', { path: `${A}/bets/${bet.body?.id}`, token: member }, 200);
  expect(b1, 'the bet', b1.body?.id === bet.body?.id);
  await call('bets: another member\'s', { path: `${A}/bets/${bet.body?.id}`, token: other }, 404);
  await call('bets: another tenant', { path: `${B}/bets/${bet.body?.id}`, token: memberB }, 404);
  await call('bets: support reads', { path: `${A}/bets/${bet.body?.id}`, token: support }, 200);
  const myBets = await call('bets: list own', { path: `${A}/bets?event_id=${E.id}`, token: member }, 200);
  expect(myBets, 'three bets (one rejected)', myBets.body?.data?.length === 3 &&
    myBets.body.data.filter((b) => b.status === 'rejected').length === 1, JSON.stringify((myBets.body?.data ?? []).map((b) => b.status)));
  const otherBets = await call('bets: other member lists', { path: `${A}/bets?user_id=${memberId}`, token: other }, 200);
  expect(otherBets, 'sees nothing', (otherBets.body?.data ?? []).length === 0);
  const adminBets = await call('bets: admin lists accepted', { path: `${A}/bets?status=accepted&limit=1`, token: admin }, 200);
  expect(adminBets, 'one per page with a cursor', adminBets.body?.data?.length === 1 && typeof adminBets.body?.next_cursor === 'string');
  await call('bets: bad status filter', { path: `${A}/bets?status=winning`, token: admin }, 400);
  await call('bets: bad event_id filter', { path: `${A}/bets?event_id=x`, token: admin }, 400);

  // ---- ledger
  const ledger = await call('ledger: admin', { path: `${A}/ledger?limit=100`, token: admin }, 200);
  const txs = ledger.body?.data ?? [];
  expect(ledger, 'deposit, withdrawal and two stakes', ['deposit', 'withdrawal', 'stake'].every((k) => txs.some((t) => t.kind === k)) &&
    txs.filter((t) => t.kind === 'stake').length === 2, JSON.stringify(txs.map((t) => t.kind)));
  expect(ledger, 'every transaction sums to zero', txs.every((t) => t.entries.reduce((s, e) => s + e.amount_minor, 0) === 0));
  await call('ledger: billing viewer', { path: `${A}/ledger?kind=stake&reference=${bet.body?.id}`, token: viewer }, 200);
  await call('ledger: member', { path: `${A}/ledger`, token: member }, 403);
  await call('ledger: support user', { path: `${A}/ledger`, token: support }, 403);
  await call('ledger: bad kind', { path: `${A}/ledger?kind=gift`, token: admin }, 400);

  // ---- result and cancel
  await call('events: member posts a result', {
    method: 'POST', path: `${A}/events/${E.id}/result`, token: member, json: { winning_selection: 'home' },
  }, 403);
  await call('events: result for an unknown selection', {
    method: 'POST', path: `${A}/events/${E.id}/result`, token: admin, json: { winning_selection: 'nope' },
  }, 422);
  const settled = await call('events: post result', {
    method: 'POST', path: `${A}/events/${E.id}/result`, token: admin, json: { winning_selection: 'home' },
  }, 202);
  expect(settled, 'event settled with its result', settled.body?.status === 'settled' && settled.body?.result === 'home');
  await call('events: result again', {
    method: 'POST', path: `${A}/events/${E.id}/result`, token: admin, json: { winning_selection: 'away' },
  }, 409);
  await call('events: cancel a settled event', { method: 'POST', path: `${A}/events/${E.id}/cancel`, token: admin }, 409);
  await call('events: patch a settled event', { method: 'PATCH', path: `${A}/events/${E.id}`, token: admin, json: { name: 'x' } }, 409);
  await call('bets: on a settled event', { method: 'POST', path: `${A}/bets`, token: member, json: { ...betBody, odds: '2.40' } }, 409);

  const ev2 = await call('events: create a second', { method: 'POST', path: `${A}/events`, token: admin, json: eventBody }, 201);
  await call('bets: on the second', {
    method: 'POST', path: `${A}/bets`, token: member, json: { ...betBody, event_id: ev2.body?.id, stake_minor: 100 },
  }, 201);
  const cancelled = await call('events: cancel', { method: 'POST', path: `${A}/events/${ev2.body?.id}/cancel`, token: admin }, 202);
  expect(cancelled, 'event cancelled', cancelled.body?.status === 'cancelled' && cancelled.body?.result === null);

  // Settlement is the worker's: wait for it (when a worker runs).
  let done = false;
  for (let i = 0; i < 60 && !done; i++) {
    const a1 = await call('events: poll settlement', { path: `${A}/events/${E.id}`, token: member });
    const a2 = await call('events: poll cancellation', { path: `${A}/events/${ev2.body?.id}`, token: member });
    done = a1.body?.bets_settled_at && a2.body?.bets_settled_at;
    if (!done) await sleep(500);
  }
  if (!done) {
    record(true, 'money', 'settlement not observed within 30 s (no worker running?): post-settlement checks skipped');
    return;
  }
  const won = await call('bets: the winning bet', { path: `${A}/bets/${bet.body?.id}`, token: member }, 200);
  expect(won, 'won and paid 720', won.body?.status === 'won' && won.body?.payout_minor === 720 && won.body?.settled_at);
  const lost = await call('bets: the losing bet', { path: `${A}/bets/${lose.body?.id}`, token: member }, 200);
  expect(lost, 'lost, paid 0', lost.body?.status === 'lost' && lost.body?.payout_minor === 0);
  const w3 = await call('wallet: after settlement and cancellation', { path: `${A}/wallet`, token: member }, 200);
  expect(w3, 'balance is 400 - 100 + 720 + 100 (refund) = 1120', w3.body?.balances?.[0]?.available_minor === 1120, JSON.stringify(w3.body));
  const payouts = await call('ledger: payouts and refunds', { path: `${A}/ledger?kind=payout`, token: viewer }, 200);
  expect(payouts, 'exactly one payout', payouts.body?.data?.length === 1 && payouts.body.data[0].reference === bet.body?.id);
}
