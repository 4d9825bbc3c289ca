// Conformance scenario: namespaces and jobs (issue 3). Every operation is
// exercised with a 2xx and its main error paths; with a worker running
// (scripts/test sets ATRIUM_TEST_WORKER_RUNNING=1) the namespace is also
// followed to `ready` and, after DELETE, to `deleted`.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default async function namespaces(ctx) {
  const { call, mustMint, expect, hasField, randomUUID, randomBytes, HOME } = ctx;
  const worker = process.env.ATRIUM_TEST_WORKER_RUNNING === '1';
  const run = randomBytes(4).toString('hex');
  const superToken = await mustMint({ tid: HOME, oid: randomUUID(), roles: ['super_admin'] });

  const aad = randomUUID();
  const adminGroup = randomUUID();
  const t = await call('ns: create tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken,
    json: { slug: `ns-${run}`, name: `Namespaces ${run}`, aad_tenant_id: aad, aad_admin_group_id: adminGroup,
      tags: { Owner: 'conformance@example.test', CostCenter: 'CC-7' } },
  }, 201);
  if (t.status !== 201) throw new Error('tenant creation failed');
  const T = t.body;
  const base = `/v1/tenants/${T.id}/namespaces`;
  const admin = await mustMint({ tid: aad, oid: randomUUID(), roles: ['tenant_admin'] });
  const support = await mustMint({ tid: aad, oid: randomUUID(), roles: ['support_user'] });
  const member = await mustMint({ tid: aad, oid: randomUUID(), roles: [] });

  // -- create
  const key = `ns-${run}-${randomUUID()}`;
  const body = { name: 'web', environment: 'staging', location: 'westeurope', quota: { cpu_cores: 4, memory_gib: 16 } };
  const c = await call('ns: create', { method: 'POST', path: base, token: admin, json: body, headers: { 'Idempotency-Key': key } }, 202);
  const N = c.body;
  if (c.status !== 202 || !N?.id) throw new Error('namespace creation failed');
  expect(c, 'pending, with the request\'s fields', N.status === 'pending' && N.name === 'web' && N.environment === 'staging' &&
    N.location === 'westeurope' && N.quota?.cpu_cores === 4 && N.tenant_id === T.id, JSON.stringify(N));
  expect(c, 'resource group named after tenant and namespace', N.resource_group === `atrium-ns-${run}-web`, N.resource_group);
  expect(c, 'nothing provisioned yet, no error', N.resources?.resource_group_id === null && N.resources?.containers?.length === 0 &&
    N.last_error === null);
  expect(c, 'Location names the namespace', (c.headers.location ?? '').endsWith(`${base}/${N.id}`), c.headers.location);
  const replay = await call('ns: idempotent replay', { method: 'POST', path: base, token: admin, json: body, headers: { 'Idempotency-Key': key } }, 202);
  expect(replay, 'replayed, same namespace and job', replay.headers['idempotent-replayed'] === 'true' &&
    replay.body?.id === N.id && replay.body?.job_id === N.job_id);
  await call('ns: same key, other body', {
    method: 'POST', path: base, token: admin, json: { ...body, name: 'other' }, headers: { 'Idempotency-Key': key },
  }, 422);

  // -- create: errors
  const dup = await call('ns: duplicate name', { method: 'POST', path: base, token: admin, json: { ...body, environment: 'prod' } }, 409);
  expect(dup, 'errors[] names name', hasField(dup, 'name'));
  const bad = await call('ns: invalid fields', {
    method: 'POST', path: base, token: admin,
    json: { name: 'Bad_Name', environment: 'qa', location: 'West Europe', quota: { gpus: 1 }, colour: 'blue' },
  }, 422);
  expect(bad, 'errors[] names every bad field', ['name', 'environment', 'location', 'quota.gpus', 'colour'].every((f) => hasField(bad, f)),
    JSON.stringify(bad.body?.errors));
  await call('ns: missing fields', { method: 'POST', path: base, token: admin, json: {} }, 422);
  await call('ns: uuid-shaped name', { method: 'POST', path: base, token: admin, json: { ...body, name: randomUUID() } }, 422);
  await call('ns: malformed JSON', { method: 'POST', path: base, token: admin, body: '{"name":' }, 400);
  await call('ns: wrong content type', { method: 'POST', path: base, token: admin, body: 'name=web', contentType: 'text/plain' }, 415);
  await call('ns: bad Idempotency-Key', {
    method: 'POST', path: base, token: admin, json: { ...body, name: 'k' }, headers: { 'Idempotency-Key': 'k'.repeat(300) },
  }, 400);

  // -- read
  const byName = await call('ns: get by name', { path: `${base}/web`, token: admin }, 200);
  expect(byName, 'same namespace', byName.body?.id === N.id && typeof byName.headers.etag === 'string');
  const byId = await call('ns: get by id', { path: `${base}/${N.id}`, token: support }, 200);
  expect(byId, 'same namespace', byId.body?.name === 'web');
  await call('ns: unknown name', { path: `${base}/nope-${run}`, token: admin }, 404);
  await call('ns: unknown id', { path: `${base}/${randomUUID()}`, token: admin }, 404);
  await call('ns: malformed key', { path: `${base}/Not_A_Name`, token: admin }, 404);
  const list = await call('ns: list', { path: base, token: admin }, 200);
  expect(list, 'holds the namespace', (list.body?.data ?? []).some((n) => n.id === N.id));
  const filtered = await call('ns: list, filters', { path: `${base}?environment=staging&name=web&limit=5`, token: support }, 200);
  expect(filtered, 'exactly the namespace', filtered.body?.data?.length === 1 && filtered.body.data[0].id === N.id);
  const none = await call('ns: list, other environment', { path: `${base}?environment=prod`, token: admin }, 200);
  expect(none, 'empty', none.body?.data?.length === 0 && none.body?.next_cursor === null);
  await call('ns: list, bad status', { path: `${base}?status=sleeping`, token: admin }, 400);
  await call('ns: list, bad environment', { path: `${base}?environment=qa`, token: admin }, 400);
  await call('ns: list, bad limit', { path: `${base}?limit=0`, token: admin }, 400);

  // -- the job
  const job = await call('ns: get job', { path: `/v1/tenants/${T.id}/jobs/${N.job_id}`, token: admin }, 200);
  expect(job, 'the provisioning job', job.body?.kind === 'namespace.provision' && job.body?.id === N.job_id &&
    Array.isArray(job.body?.steps), JSON.stringify(job.body));
  await call('ns: unknown job', { path: `/v1/tenants/${T.id}/jobs/${randomUUID()}`, token: admin }, 404);
  await call('ns: malformed job id', { path: `/v1/tenants/${T.id}/jobs/not-a-uuid`, token: admin }, 404);
  await call('ns: member reads a job', { path: `/v1/tenants/${T.id}/jobs/${N.job_id}`, token: member }, 403);

  // -- roles and isolation
  await call('ns: member lists', { path: base, token: member }, 403);
  await call('ns: member creates', { method: 'POST', path: base, token: member, json: { ...body, name: 'm' } }, 403);
  await call('ns: support_user creates', { method: 'POST', path: base, token: support, json: { ...body, name: 's' } }, 403);
  await call('ns: support_user deletes', { method: 'DELETE', path: `${base}/web`, token: support }, 403);
  const otherAad = randomUUID();
  await call('ns: other tenant', {
    method: 'POST', path: '/v1/tenants', token: superToken, json: { slug: `ns-o-${run}`, name: 'Other', aad_tenant_id: otherAad },
  }, 201);
  const otherAdmin = await mustMint({ tid: otherAad, oid: randomUUID(), roles: ['tenant_admin'] });
  await call('ns: another tenant\'s admin reads', { path: `${base}/web`, token: otherAdmin }, 404);
  await call('ns: another tenant\'s admin deletes', { method: 'DELETE', path: `${base}/web`, token: otherAdmin }, 404);
  await call('ns: another tenant\'s admin reads the job', { path: `/v1/tenants/${T.id}/jobs/${N.job_id}`, token: otherAdmin }, 404);
  await call('ns: wrong method', { method: 'PUT', path: `${base}/web`, token: admin, json: {} }, 405);

  // -- provisioning (with a worker)
  const waitFor = async (step, want, seconds) => {
    let last;
    for (let i = 0; i < seconds * 2; i++) {
      last = await call(step, { path: `${base}/${N.id}`, token: admin }, 200);
      if (want.includes(last.body?.status)) break;
      await sleep(500);
    }
    return last;
  };
  if (worker) {
    const ready = await waitFor('ns: poll until ready', ['ready', 'failed'], 60);
    expect(ready, 'ready, with its resources', ready.body?.status === 'ready' && ready.body?.last_error === null &&
      ready.body?.resources?.resource_group_id?.endsWith(`/resourceGroups/atrium-ns-${run}-web`) &&
      typeof ready.body?.resources?.role_assignment_id === 'string' && ready.body?.resources?.containers?.length === 3,
    JSON.stringify(ready.body));
    const done = await call('ns: finished job', { path: `/v1/tenants/${T.id}/jobs/${N.job_id}`, token: admin }, 200);
    expect(done, 'succeeded with three steps', done.body?.status === 'succeeded' &&
      done.body?.steps?.map((s) => s.name).join(',') === 'resource_group,role_assignment,containers,aks_namespace,aks_role_assignments',
    JSON.stringify(done.body));
  }

  // -- delete
  const d1 = await call('ns: delete', { method: 'DELETE', path: `${base}/web`, token: admin }, 202);
  expect(d1, 'deprovisioning with a new job', d1.body?.status === 'deprovisioning' && d1.body?.job_id && d1.body.job_id !== N.job_id);
  const d2 = await call('ns: delete again', { method: 'DELETE', path: `${base}/${N.id}`, token: admin }, 202);
  expect(d2, 'same job, nothing new queued', d2.body?.job_id === d1.body?.job_id);
  const dj = await call('ns: deprovision job', { path: `/v1/tenants/${T.id}/jobs/${d1.body?.job_id}`, token: support }, 200);
  expect(dj, 'a namespace.deprovision job', dj.body?.kind === 'namespace.deprovision');
  if (worker) {
    const deleted = await waitFor('ns: poll until deleted', ['deleted', 'failed'], 60);
    expect(deleted, 'deleted, nothing left', deleted.body?.status === 'deleted' && deleted.body?.resources?.resource_group_id === null);
    await call('ns: delete a deleted namespace', { method: 'DELETE', path: `${base}/${N.id}`, token: admin }, 404);
    const hidden = await call('ns: list hides deleted', { path: base, token: admin }, 200);
    expect(hidden, 'not listed', (hidden.body?.data ?? []).every((n) => n.id !== N.id));
    const shown = await call('ns: list status=deleted', { path: `${base}?status=deleted`, token: admin }, 200);
    expect(shown, 'listed', (shown.body?.data ?? []).some((n) => n.id === N.id));
  }

  // -- sizes and approval (issue 14)
  const cluster = process.env.ATRIUM_AKS_CLUSTER_ID || null;
  const prodBody = { name: 'live', environment: 'prod', location: 'westeurope', size: 'medium' };
  const p1 = await call('ns: create prod', { method: 'POST', path: base, token: admin, json: prodBody }, 202);
  const P = p1.body;
  expect(p1, 'prod waits for approval, no job', P?.status === 'pending_approval' && P?.job_id === null && P?.approval === null &&
    P?.size === 'medium', JSON.stringify(P));
  if (cluster) {
    expect(p1, 'its Kubernetes namespace, sized medium', P?.kubernetes?.cluster_id === cluster &&
      P?.kubernetes?.namespace === `ns-${run}-live` && P?.kubernetes?.quota?.cpu_limit === '4' &&
      P?.kubernetes?.network_policy?.ingress === 'AllowSameNamespace' && P?.kubernetes?.adoption_policy === 'Never' &&
      P?.kubernetes?.id === null, JSON.stringify(P?.kubernetes));
  } else {
    expect(p1, 'no cluster: kubernetes is null', P?.kubernetes === null);
  }
  await call('ns: create, bad size', { method: 'POST', path: base, token: admin, json: { ...prodBody, name: 'huge', size: 'huge' } }, 422);
  const resized = await call('ns: size of a waiting namespace', {
    method: 'PATCH', path: `${base}/live`, token: admin, json: { size: 'large' },
  }, 200);
  expect(resized, 'recorded, still waiting', resized.body?.size === 'large' && resized.body?.status === 'pending_approval');
  await call('ns: patch, bad size', { method: 'PATCH', path: `${base}/live`, token: admin, json: { size: 'xl' } }, 422);
  await call('ns: patch, unknown member', { method: 'PATCH', path: `${base}/live`, token: admin, json: { size: 'small', name: 'x' } }, 422);
  await call('ns: patch, stale If-Match', {
    method: 'PATCH', path: `${base}/live`, token: admin, json: { size: 'small' }, headers: { 'If-Match': '"1"' },
  }, 412);
  await call('ns: support_user patches', { method: 'PATCH', path: `${base}/live`, token: support, json: { size: 'small' } }, 403);
  await call('ns: another tenant\'s admin patches', { method: 'PATCH', path: `${base}/live`, token: otherAdmin, json: { size: 'small' } }, 404);
  await call('ns: tenant admin approves', { method: 'POST', path: `${base}/live/approve`, token: admin, json: {} }, 403);
  await call('ns: another tenant\'s admin approves', { method: 'POST', path: `${base}/live/approve`, token: otherAdmin, json: {} }, 404);
  await call('ns: approve, bad body', { method: 'POST', path: `${base}/live/approve`, token: superToken, json: { reason: '' } }, 422);
  await call('ns: approve an unknown namespace', { method: 'POST', path: `${base}/nope-${run}/approve`, token: superToken, json: {} }, 404);
  const ap = await call('ns: approve', {
    method: 'POST', path: `${base}/live/approve`, token: superToken, json: { reason: 'conformance' },
  }, 202);
  expect(ap, 'pending with a provisioning job, decision recorded', ap.body?.status === 'pending' && typeof ap.body?.job_id === 'string' &&
    ap.body?.approval?.decision === 'approved' && ap.body?.approval?.reason === 'conformance', JSON.stringify(ap.body));
  await call('ns: approve twice', { method: 'POST', path: `${base}/live/approve`, token: superToken, json: {} }, 409);

  const r1 = await call('ns: create another prod', { method: 'POST', path: base, token: admin, json: { ...prodBody, name: 'nope' } }, 202);
  await call('ns: reject without a reason', { method: 'POST', path: `${base}/nope/reject`, token: superToken, json: {} }, 422);
  const rj = await call('ns: reject', {
    method: 'POST', path: `${base}/nope/reject`, token: superToken, json: { reason: 'not this quarter' },
  }, 200);
  expect(rj, 'rejected with the reason, no job', rj.body?.status === 'rejected' && rj.body?.job_id === null &&
    rj.body?.approval?.reason === 'not this quarter', JSON.stringify(rj.body));
  await call('ns: size of a rejected namespace', { method: 'PATCH', path: `${base}/nope`, token: admin, json: { size: 'small' } }, 409);
  const gone = await call('ns: delete a rejected namespace', { method: 'DELETE', path: `${base}/${r1.body?.id}`, token: admin }, 200);
  expect(gone, 'deleted at once', gone.body?.status === 'deleted');

  if (worker) {
    let live;
    for (let i = 0; i < 120; i++) {
      live = await call('ns: poll the approved namespace', { path: `${base}/live`, token: admin }, 200);
      if (['ready', 'failed'].includes(live.body?.status)) break;
      await sleep(500);
    }
    expect(live, 'ready', live.body?.status === 'ready', JSON.stringify(live.body));
    if (cluster) {
      expect(live, 'its managed namespace and role assignment', live.body?.kubernetes?.id === `${cluster}/managedNamespaces/ns-${run}-live` &&
        live.body?.kubernetes?.role_assignment_ids?.length === 1, JSON.stringify(live.body?.kubernetes));
    }
    const up = await call('ns: new size', { method: 'PATCH', path: `${base}/live`, token: admin, json: { size: 'small' } }, 202);
    expect(up, 'updating under a namespace.update job', up.body?.status === 'updating' && up.body?.job_id !== live.body?.job_id &&
      (!cluster || up.body?.kubernetes?.quota?.cpu_limit === '1'), JSON.stringify(up.body));
    const uj = await call('ns: the update job', { path: `/v1/tenants/${T.id}/jobs/${up.body?.job_id}`, token: admin }, 200);
    expect(uj, 'a namespace.update job', uj.body?.kind === 'namespace.update');
    await call('ns: new size while updating', { method: 'PATCH', path: `${base}/live`, token: admin, json: { size: 'large' } }, 409);
  }

  // -- audit
  const audit = await call('ns: audit', { path: `/v1/tenants/${T.id}/audit?resource_type=namespace&limit=100`, token: admin }, 200);
  const actions = (audit.body?.data ?? []).filter((r) => r.resource_id === N.id).map((r) => r.action);
  expect(audit, 'create and delete recorded', actions.includes('namespace.create') && actions.includes('namespace.delete'), JSON.stringify(actions));
  const decided = (audit.body?.data ?? []).filter((r) => r.resource_id === P?.id || r.resource_id === r1.body?.id).map((r) => r.action);
  expect(audit, 'approval, rejection and resize recorded', ['namespace.approve', 'namespace.reject', 'namespace.resize'].every((a) => decided.includes(a)),
    JSON.stringify(decided));

  // -- expiry of dev namespaces (issue 14)
  const inDays = (d) => new Date(Date.now() + d * 86400e3).toISOString();
  const devBody = { name: 'tmp', environment: 'dev', location: 'westeurope', expires_at: inDays(1) };
  const e1 = await call('ns: create dev with an expiry', { method: 'POST', path: base, token: admin, json: devBody }, 202);
  expect(e1, 'its expiry', typeof e1.body?.expires_at === 'string' && e1.body.expires_at.slice(0, 16) === devBody.expires_at.slice(0, 16),
    JSON.stringify(e1.body));
  await call('ns: expiry on staging', { method: 'POST', path: base, token: admin, json: { ...devBody, name: 'tmp2', environment: 'staging' } }, 422);
  await call('ns: expiry past 30 days', { method: 'POST', path: base, token: admin, json: { ...devBody, name: 'tmp3', expires_at: inDays(31) } }, 422);
  await call('ns: expiry in the past', { method: 'POST', path: base, token: admin, json: { ...devBody, name: 'tmp4', expires_at: inDays(-1) } }, 422);
  const e2 = await call('ns: extend the expiry', { method: 'PATCH', path: `${base}/tmp`, token: admin, json: { expires_at: inDays(7) } }, 200);
  expect(e2, 'extended', e2.body?.expires_at?.slice(0, 10) === inDays(7).slice(0, 10), JSON.stringify(e2.body));
  await call('ns: extend past 30 days', { method: 'PATCH', path: `${base}/tmp`, token: admin, json: { expires_at: inDays(40) } }, 422);
  await call('ns: empty patch', { method: 'PATCH', path: `${base}/tmp`, token: admin, json: {} }, 422);

  // -- offboarding (issue 14): the tenant still has `live`, so its DELETE
  // is 202 and `deleting`; with a worker, it ends `deleted`.
  const tp = `/v1/tenants/${T.id}`;
  const off = await call('ns: delete the tenant', { method: 'DELETE', path: tp, token: superToken }, 202);
  expect(off, 'deleting, with its offboarding job', off.body?.status === 'deleting' &&
    typeof off.body?.offboard_job_id === 'string', JSON.stringify(off.body));
  await call('ns: its admin, while it is deleted', { path: base, token: admin }, 403);
  await call('ns: a new namespace while it is deleted', { method: 'POST', path: base, token: superToken, json: { ...body, name: 'late' } }, 409);
  await call('ns: a change while it is deleted', { method: 'PATCH', path: tp, token: superToken, json: { name: 'Late' } }, 409);
  const again = await call('ns: delete the tenant again', { method: 'DELETE', path: tp, token: superToken }, 202);
  expect(again, 'the same offboarding job', again.body?.offboard_job_id === off.body?.offboard_job_id);
  const oj = await call('ns: the offboarding job', { path: `${tp}/jobs/${off.body?.offboard_job_id}`, token: superToken }, 200);
  expect(oj, 'a tenant.offboard job', oj.body?.kind === 'tenant.offboard', JSON.stringify(oj.body));
  if (worker) {
    let gone;
    for (let i = 0; i < 240; i++) {
      gone = await call('ns: poll the tenant until deleted', { path: tp, token: superToken }, 200);
      if (gone.body?.status === 'deleted') break;
      await sleep(500);
    }
    expect(gone, 'deleted once its namespaces are', gone.body?.status === 'deleted', JSON.stringify(gone.body));
    await call('ns: delete a deleted tenant', { method: 'DELETE', path: tp, token: superToken }, 204);
  }
}
