// Shared by the browser tests: Debian's Chromium driven by playwright-core
// (no browser download), a check runner that prints one line per check and
// "N passed, M failed", and small helpers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '..', '..');
export const ARTIFACTS = join(REPO, 'tests', 'artifacts', 'browser');

export const CHROMIUM = process.env.ATRIUM_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export function fatal(message) {
  process.stdout.write(`FATAL: ${message}\n0 passed, 1 failed\n`);
  process.exit(2);
}

async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch {
    fatal(`playwright-core is not installed: the install step of scripts/test and scripts/up (npm ci in ${here}) puts it there`);
  }
  return undefined;
}

/** Debian's chromium; installed with apt-get when missing and we are root. */
export function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || process.env.ATRIUM_BROWSER_NO_INSTALL === '1') {
    fatal(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  }
  process.stdout.write(`# ${CHROMIUM} missing: apt-get install -y chromium\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  }
  if (r.status !== 0 || !existsSync(CHROMIUM)) fatal('could not install chromium with apt-get');
}

/**
 * A fresh browser profile (temporary user-data-dir) in Debian's Chromium.
 * Returns { context, page, close }. Console CSP violations and uncaught page
 * errors are collected in `problems`.
 */
export async function launch({ viewport = DESKTOP } = {}) {
  ensureChromium();
  const { chromium } = await loadPlaywright();
  const dir = mkdtempSync(join(tmpdir(), 'atrium-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      ignoreHTTPSErrors: true,
      viewport,
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    fatal(`could not start ${CHROMIUM}: ${e.message.split('\n')[0]}`);
  }
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  const watch = (p) => {
    p.on('console', (msg) => {
      const text = msg.text();
      if (/Content Security Policy|Refused to (load|execute|apply)/i.test(text)) problems.push(`CSP: ${text}`);
    });
    p.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  };
  watch(page);
  context.on('page', watch);
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Sequential checks. Each prints "ok N - name" or "FAIL N - name: why".
 * A failed check stops the scenario (later checks depend on it): the rest
 * are reported as failed, not run. `finish()` prints "N passed, M failed"
 * and exits 0 only when nothing failed.
 */
export function checks() {
  const list = [];
  return {
    check(name, fn) {
      list.push({ name, fn });
    },
    async run(cleanup) {
      let passed = 0;
      let failed = 0;
      let broken;
      let n = 0;
      for (const c of list) {
        n += 1;
        if (broken) {
          failed += 1;
          process.stdout.write(`FAIL ${n} - ${c.name}: not run (check ${broken} failed)\n`);
          continue;
        }
        const t0 = Date.now();
        try {
          const note = await c.fn();
          passed += 1;
          process.stdout.write(`ok ${n} - ${c.name}${note ? ` (${note})` : ''} [${Date.now() - t0} ms]\n`);
        } catch (e) {
          failed += 1;
          broken = n;
          const why = (e && e.message ? e.message : String(e)).split('\n').filter(Boolean).slice(0, 4).join(' | ');
          process.stdout.write(`FAIL ${n} - ${c.name}: ${why}\n`);
        }
      }
      if (cleanup) await cleanup().catch(() => {});
      process.stdout.write(`${passed} passed, ${failed} failed\n`);
      process.exit(failed === 0 ? 0 : 1);
    },
  };
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** GET url without verifying TLS (the local self-signed certificate):
 * resolves to { status, headers, body } or rejects when unreachable. */
export function probe(url, timeoutMs = 5000) {
  return new Promise((resolveP, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(u, { rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveP({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * One API request from the test itself (not the browser), e.g. with a
 * bearer token the identity provider minted: resolves to
 * { status, headers, body (parsed JSON when it is JSON), text }.
 */
export function request(url, { method = 'GET', headers = {}, body } = {}, timeoutMs = 10000) {
  return new Promise((resolveP, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const h = { Accept: 'application/json', ...headers };
    if (data !== undefined) {
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
      h['Content-Length'] = Buffer.byteLength(data);
    }
    const req = mod.request(u, { method, headers: h, rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolveP({ status: res.statusCode, headers: res.headers, body: parsed, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** A bearer token from the local identity provider (tests/idp POST /mint). */
export async function mint(idp, claims) {
  const r = await request(`${idp}/mint`, { method: 'POST', body: claims });
  if (r.status !== 200 || !r.body?.access_token) throw new Error(`the identity provider did not mint a token (${r.status}: ${r.text.slice(0, 200)})`);
  return r.body.access_token;
}

/** Poll `fn` until it returns a truthy value (returned), or fail after `timeoutMs`. */
export async function eventually(what, fn, timeoutMs = 30000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
