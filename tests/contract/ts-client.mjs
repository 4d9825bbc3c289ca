#!/usr/bin/env node
// A TypeScript client generated from the OpenAPI 3.0 copy
// (openapi/openapi-3.0.yaml) by openapi-typescript-codegen (a generator that
// reads 3.0 only), type-checked with tsc in strict mode, then used against
// the running server: GET /healthz without credentials and GET /v1/me with a
// token from the local identity provider.
//
// Environment (exported by scripts/test): ATRIUM_TEST_BASE_URL,
// ATRIUM_TEST_IDP_URL, ATRIUM_TEST_CA, ATRIUM_HOME_TENANT_ID, optional
// ATRIUM_OIDC_AUDIENCE.
// Without ATRIUM_TEST_BASE_URL only the generation and the type check run.
// Prints "N passed, M failed"; exit status 1 if anything failed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from 'openapi-typescript-codegen';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const BASE = (process.env.ATRIUM_TEST_BASE_URL ?? '').replace(/\/+$/, '');
const IDP = (process.env.ATRIUM_TEST_IDP_URL ?? '').replace(/\/+$/, '');
const AUD = (process.env.ATRIUM_OIDC_AUDIENCE ?? '').split(',').map((s) => s.trim()).filter(Boolean)[0];

let passed = 0;
let failed = 0;
function record(ok, what, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${what}${!ok && detail ? ` -- ${String(detail).slice(0, 2000)}` : ''}`);
}

const dir = mkdtempSync(join(tmpdir(), 'atrium-ts-client-'));
try {
  await generate({ input: join(root, 'openapi/openapi-3.0.yaml'), output: join(dir, 'client'), httpClient: 'fetch', useOptions: true });
  const services = readdirSync(join(dir, 'client/services'));
  record(services.length > 0, `client generated from openapi-3.0.yaml (${services.length} services)`);

  // A program written against the generated API: a change of the
  // description that breaks these calls or types fails the type check.
  writeFileSync(join(dir, 'main.ts'), `
import { ApiError, OpenAPI, OperationsService, SessionService } from './client';
import type { Health, Me } from './client';

async function main(): Promise<void> {
  OpenAPI.BASE = process.env.BASE ?? '';
  const health: Health = await OperationsService.getHealth({});
  if (health.status !== 'ok') throw new Error('healthz: ' + JSON.stringify(health));
  try {
    await SessionService.getMe({});
    throw new Error('GET /v1/me without a token succeeded');
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
  }
  OpenAPI.TOKEN = process.env.TOKEN;
  const me: Me = await SessionService.getMe({});
  const tid: string = me.user.tid;
  const tenant: string | null = me.tenant ? me.tenant.slug : null; // nullable in 3.0 form
  console.log(JSON.stringify({ health: health.status, auth: me.auth, tid, tenant }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'commonjs', lib: ['ES2022', 'DOM'], strict: true,
      outDir: 'out', skipLibCheck: true, types: [],
    },
    files: ['main.ts', 'env.d.ts'],
  }));
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs","private":true}\n');
  // process.env in main.ts without @types/node: declared here.
  writeFileSync(join(dir, 'env.d.ts'), 'declare const process: { env: Record<string, string | undefined>; exit(code: number): never };\n');
  const tc = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { encoding: 'utf8', cwd: dir });
  record(tc.status === 0, 'the generated client type-checks (tsc --strict) and compiles', tc.stdout + tc.stderr);

  if (!BASE) {
    console.log('ATRIUM_TEST_BASE_URL is not set: the generated client was not run against a server');
  } else if (tc.status === 0) {
    const mint = await fetch(`${IDP}/mint`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      // The operator's own directory: /v1/me answers with tenant null.
      body: JSON.stringify({ ...(AUD ? { aud: AUD } : {}), tid: process.env.ATRIUM_HOME_TENANT_ID, oid: randomUUID(), roles: [] }),
    });
    const token = (await mint.json()).access_token;
    record(typeof token === 'string', 'a token from the identity provider');
    const run = spawnSync(process.execPath, [join(dir, 'out/main.js')], {
      encoding: 'utf8',
      env: { ...process.env, BASE, TOKEN: token, NODE_EXTRA_CA_CERTS: process.env.ATRIUM_TEST_CA ?? '' },
      timeout: 30000,
    });
    let out = null;
    try {
      out = JSON.parse(run.stdout.trim().split('\n').pop());
    } catch {
      /* reported below */
    }
    record(run.status === 0 && out?.health === 'ok' && out?.auth === 'bearer',
      'the generated client calls GET /healthz, GET /v1/me (401 without a token, 200 with one)', run.stdout + run.stderr);
  }
} catch (e) {
  record(false, 'generate, type-check and run the TypeScript client', e.stack ?? e);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
