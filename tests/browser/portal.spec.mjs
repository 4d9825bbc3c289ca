#!/usr/bin/env node
// Atrium's portal end to end in Debian's headless Chromium (playwright-core),
// against the real stack: `atrium serve` (serving web/dist), `atrium worker`
// (provisioning against the fake ARM and Azurite, bet settlement, webhook
// processing), the local identity provider (tests/idp), PostgreSQL and Redis.
//
// The story: a super admin creates a tenant (with an admin group, a
// QuickBooks realm and a Pax8 company), sees the providers' webhook events;
// the tenant's admin creates namespaces and watches them provision (one
// fails with Azure's error), creates an event; a member deposits, is refused
// a withdrawal too large, places a bet (after being told the odds changed),
// withdraws part; the admin posts the result and the member sees the bet
// settle and the wallet grow; the member is denied admin screens, signs out
// and is refused.
//
// Environment (docs/CONTRACT.md; exported by scripts/test):
//   ATRIUM_TEST_BASE_URL   the portal/API origin (default https://127.0.0.1:28443)
//   ATRIUM_TEST_IDP_URL    the identity provider (default http://127.0.0.1:28080)
//   ATRIUM_HOME_TENANT_ID  the operator's directory (its users may be super_admin)
//   ATRIUM_QUICKBOOKS_VERIFIER_TOKEN, ATRIUM_PAX8_WEBHOOK_SECRET  to sign webhooks
//   ATRIUM_TEST_FAKE_INTUIT_URL   the fake Intuit: the admin connects QuickBooks through it
//   ATRIUM_ARM_URL         the fake ARM: the test throttles one call through its
//                          /_fake/faults so a namespace is seen while it provisions
//   ATRIUM_TEST_WORKER_RUNNING=1 is not required: a worker must run (scripts/test starts one)
//
// Sign-in goes through the real flow: /auth/login -> the IdP's /authorize
// (which redirects straight back with a code for the user named by
// login_hint=tid:oid:roles) -> /auth/callback -> the portal.
// Accessibility: axe-core (tests/browser's lock file) is run in the pages the
// story visits, in the light and the dark colour scheme; any violation of
// impact "serious" or "critical" fails the check. The story also checks the
// document title per screen, the focus after navigation, the progress and
// completion notices of a namespace's provisioning, and the charts.
// One line per check, then "N passed, M failed"; exit status 0 only when all
// passed. Screenshots: tests/artifacts/browser/*.png.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { assert, checks, DESKTOP, eventually, fatal, launch, mint, PHONE, probe, request, screenshot } from './lib.mjs';

const BASE = (process.env.ATRIUM_TEST_BASE_URL || 'https://127.0.0.1:28443').replace(/\/+$/, '');
const IDP = (process.env.ATRIUM_TEST_IDP_URL || 'http://127.0.0.1:28080').replace(/\/+$/, '');
const HOME = process.env.ATRIUM_HOME_TENANT_ID;
if (!HOME) fatal('ATRIUM_HOME_TENANT_ID is not set (the operator directory whose users may be super_admin; see docs/CONTRACT.md)');
const QBO_VERIFIER = process.env.ATRIUM_QUICKBOOKS_VERIFIER_TOKEN || '';
const PAX8_SECRET = process.env.ATRIUM_PAX8_WEBHOOK_SECRET || '';
const FAKE_INTUIT = (process.env.ATRIUM_TEST_FAKE_INTUIT_URL || '').replace(/\/+$/, '');
const ARM = (process.env.ATRIUM_ARM_URL || '').replace(/\/+$/, '');
if (!ARM) fatal('ATRIUM_ARM_URL is not set: the browser test needs the fake ARM (tests/fake-arm) the stack runs');
if (!QBO_VERIFIER || !PAX8_SECRET) fatal('ATRIUM_QUICKBOOKS_VERIFIER_TOKEN and ATRIUM_PAX8_WEBHOOK_SECRET must be set (scripts/lib.sh exports them with the stack)');

let AXE_SOURCE;
try {
  AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
} catch {
  fatal('axe-core is not installed: the install step of scripts/test (npm ci in tests/browser) puts it there');
}

// ------------------------------------------------------------ reachability
try {
  const h = await probe(`${BASE}/healthz`);
  if (h.status !== 200) fatal(`${BASE}/healthz answered ${h.status}, not 200: is atrium serve healthy?`);
} catch (e) {
  fatal(`the Atrium server is unreachable at ${BASE} (${e.message}): start the stack (scripts/up, or scripts/test which runs this) or set ATRIUM_TEST_BASE_URL`);
}
try {
  const h = await probe(`${IDP}/.well-known/openid-configuration`);
  if (h.status !== 200) fatal(`the identity provider at ${IDP} answered ${h.status} for its discovery document`);
} catch (e) {
  fatal(`the identity provider is unreachable at ${IDP} (${e.message}): set ATRIUM_TEST_IDP_URL`);
}
const index = await probe(`${BASE}/`);
if (index.status !== 200 || !/<div id="root">/.test(index.body)) {
  fatal(`${BASE}/ does not serve the portal (status ${index.status}): scripts/test and scripts/up build it (web/dist) before serving`);
}

// ------------------------------------------------------------ the scenario
const run = checks();
const b = await launch({ viewport: DESKTOP });
const { page, context, problems } = b;
const origin = new URL(BASE).origin;
const at = (path) => (url) => url.origin === origin && url.pathname === path;

const suffix = randomUUID().slice(0, 8);
const tenantForm = {
  name: `Browser Test ${suffix}`,
  slug: `browser-test-${suffix}`,
  aad: randomUUID(),
  adminGroup: randomUUID(),
  membersGroup: randomUUID(),
  realm: `9130${Date.now()}`,
  company: randomUUID(),
  renamed: `Browser Test ${suffix} Renamed`,
};
const superOid = randomUUID();
const adminOid = randomUUID();
const memberOid = randomUUID();
let tenantId;
let oldSession;
let memberId;
let eventId;
const EVENT = { name: `Lions v Tigers ${suffix}`, lions: '2.50', lionsNew: '2.40', tigers: '1.80', draw: '3.20' };
const tp = (path) => `/app/tenants/${tenantId}${path}`;

/** A screenshot at desktop width, and one at phone width (which must not
 * scroll sideways), then back to desktop. */
async function shots(name, { phone = true, on = page } = {}) {
  await screenshot(on, `${name}-desktop`);
  if (!phone) return;
  await on.setViewportSize(PHONE);
  await on.waitForTimeout(150);
  const overflow = await on.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await screenshot(on, `${name}-phone`);
  await on.setViewportSize(DESKTOP);
  assert(overflow <= 0, `${name}: the phone page scrolls sideways by ${overflow}px`);
}

/**
 * axe-core in the page as it is now: fails on any violation of impact
 * "serious" or "critical" (lesser ones are reported in the check's note).
 * axe is evaluated through the DevTools protocol, which the portal's CSP
 * (no inline scripts) does not apply to. No rule is disabled.
 */
async function axe(p, where) {
  const has = await p.evaluate(() => typeof window.axe === 'object');
  if (!has) await p.evaluate(AXE_SOURCE);
  const violations = await p.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert(bad.length === 0, `${where}: ${bad.map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`).join(' | ')}`);
  return violations.length === 0 ? `${where}: clean` : `${where}: minor/moderate ${violations.map((v) => v.id).join(',')}`;
}

/** axe in the light and in the dark colour scheme (emulated), then light again;
 * in the dark one the page's background must be dark. */
async function axeBoth(p, where) {
  const notes = [await axe(p, `${where} (light)`)];
  await p.emulateMedia({ colorScheme: 'dark' });
  try {
    await p.waitForTimeout(100);
    const lum = await bodyLuminance(p);
    assert(lum < 0.1, `${where}: the dark scheme is not dark (background luminance ${lum.toFixed(3)})`);
    notes.push(await axe(p, `${where} (dark)`));
  } finally {
    await p.emulateMedia({ colorScheme: 'light' });
  }
  return notes.join('; ');
}

/** Relative luminance (WCAG) of the page's background colour. */
async function bodyLuminance(p) {
  const rgb = await p.evaluate(() => {
    for (const el of [document.body, document.documentElement]) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
    }
    return 'rgb(255, 255, 255)';
  });
  const [r, g, b] = rgb.match(/[\d.]+/g).slice(0, 3).map((x) => {
    const c = Number(x) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The element that has the focus: its tag, text and id. */
async function focused(p = page) {
  return p.evaluate(() => {
    const a = document.activeElement;
    return a ? { tag: a.tagName, text: (a.textContent || '').trim(), id: a.id } : null;
  });
}

/** A chart: its canvas drawn, its summary (accessible name) and its table. */
async function chart(testId, p = page) {
  const fig = p.getByTestId(testId);
  await fig.locator('canvas').first().waitFor({ state: 'attached' });
  const summary = await fig.locator('[role="img"]').getAttribute('aria-label');
  const rows = await fig.locator('details table tbody tr').count();
  const { width, height } = await fig.locator('canvas').first().evaluate((c) => ({ width: c.width, height: c.height }));
  assert(width > 100 && height > 100, `${testId}: the canvas is ${width}x${height}`);
  assert(summary && summary.length > 10, `${testId}: no text alternative (aria-label "${summary}")`);
  assert(rows > 0, `${testId}: no table of its numbers`);
  return summary;
}

async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(at('/'));
}

function nav() {
  return page.getByRole('navigation', { name: 'Main' });
}

async function navLinks() {
  return (await nav().getByRole('link').allTextContents()).map((t) => t.trim());
}

/** GET/POST from the page, with the cookie session and the CSRF token. */
async function fromPage(method, path, body, p = page) {
  return p.evaluate(
    async ({ method, path, body }) => {
      const csrf = document.cookie.split('; ').find((c) => c.startsWith('atrium_csrf='))?.slice('atrium_csrf='.length) ?? '';
      const r = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: r.status, body: json };
    },
    { method, path, body },
  );
}

async function waitIdle(tableLabel, p = page) {
  await p.waitForFunction((label) => {
    const t = document.querySelector(`table[aria-label="${label}"]`);
    return t && t.getAttribute('aria-busy') !== 'true';
  }, tableLabel);
}

async function signIn(tid, oid, roles, p = page) {
  const hint = `${tid}:${oid}:${roles.join(',')}`;
  await p.goto(`${BASE}/auth/login?return_to=${encodeURIComponent('/app')}&login_hint=${encodeURIComponent(hint)}`);
  await p.waitForURL(at('/app'));
  await p.getByTestId('whoami-name').waitFor();
}

async function me() {
  return page.evaluate(async () => {
    const r = await fetch('/v1/me', { credentials: 'same-origin' });
    return { status: r.status, body: r.status === 200 ? await r.json() : null };
  });
}

function tenantRow() {
  return page.locator(`tr[data-tenant-slug="${tenantForm.slug}"]`);
}

run.check('portal is served with security headers (CSP, nosniff, HSTS, no framing)', async () => {
  const h = index.headers;
  const csp = h['content-security-policy'] || '';
  assert(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `CSP: "${csp}"`);
  assert(/frame-ancestors 'none'/.test(csp), `CSP has no frame-ancestors 'none': "${csp}"`);
  assert(h['x-content-type-options'] === 'nosniff', 'no X-Content-Type-Options: nosniff');
  assert(/max-age=\d+/.test(h['strict-transport-security'] || ''), 'no Strict-Transport-Security');
});

run.check('signed out: the landing page offers "Sign in"', async () => {
  await page.goto(`${BASE}/`);
  await page.getByRole('heading', { name: 'Your platform, one place' }).waitFor();
  const href = await page.getByRole('link', { name: 'Sign in' }).getAttribute('href');
  assert(href === '/auth/login?return_to=%2Fapp', `Sign in links to ${href}`);
  await screenshot(page, 'landing-desktop');
});

run.check('accessibility: the landing page (title, one main landmark, axe in light and dark)', async () => {
  assert((await page.title()) === 'Sign in · Atrium', `title: ${await page.title()}`);
  assert((await page.getByRole('main').count()) === 1, 'not exactly one main landmark');
  const note = await axeBoth(page, 'landing');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'landing-dark-desktop');
  await page.emulateMedia({ colorScheme: 'light' });
  return note;
});

run.check('a page that does not exist has its title and heading, signed out', async () => {
  await page.goto(`${BASE}/no/such/page`);
  await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
  assert((await page.title()) === 'Page not found · Atrium', `title: ${await page.title()}`);
  return axe(page, 'not found');
});

run.check('signed out: /v1/me answers 401', async () => {
  const r = await me();
  assert(r.status === 401, `/v1/me answered ${r.status}`);
});

run.check('super admin signs in through /auth/login and the identity provider', async () => {
  await signIn(HOME, superOid, ['super_admin']);
  const cookies = await context.cookies(BASE);
  const session = cookies.find((c) => c.name === 'atrium_session');
  const csrf = cookies.find((c) => c.name === 'atrium_csrf');
  assert(session, 'no atrium_session cookie');
  assert(session.httpOnly && session.secure && session.sameSite === 'Lax', `atrium_session is not HttpOnly; Secure; SameSite=Lax (${JSON.stringify(session)})`);
  assert(csrf && !csrf.httpOnly && csrf.secure, 'atrium_csrf missing, HttpOnly, or not Secure');
  const jsCookies = await page.evaluate(() => document.cookie);
  assert(!jsCookies.includes('atrium_session'), 'the session cookie is readable by JavaScript');
  oldSession = session.value;
});

run.check('who-am-I: name, tenant and roles in the header; /v1/me says auth "cookie"', async () => {
  const r = await me();
  assert(r.status === 200, `/v1/me answered ${r.status}`);
  assert(r.body.auth === 'cookie', `auth is ${r.body.auth}`);
  assert(r.body.roles.includes('super_admin'), `roles: ${r.body.roles}`);
  assert(r.body.user.oid === superOid, 'another user is signed in');
  const name = (await page.getByTestId('whoami-name').textContent()).trim();
  const tenant = (await page.getByTestId('whoami-tenant').textContent()).trim();
  const roles = (await page.getByTestId('whoami-roles').textContent()).trim();
  assert(name !== '', 'no name shown');
  assert(tenant === (r.body.tenant ? r.body.tenant.name : 'Platform operator'), `tenant shown: ${tenant}`);
  assert(roles.includes('Super admin'), `roles shown: ${roles}`);
  await screenshot(page, 'overview-super-admin-desktop');
  return `${name} · ${tenant} · ${roles}`;
});

run.check('accessibility: overview (landmarks, skip link, axe in light and dark, dark background)', async () => {
  assert((await page.title()) === 'Welcome · Atrium' || /^Welcome, .+ · Atrium$/.test(await page.title()), `title: ${await page.title()}`);
  assert((await page.getByRole('banner').count()) === 1, 'not exactly one banner (header)');
  assert((await page.getByRole('main').count()) === 1, 'not exactly one main landmark');
  assert((await page.getByRole('navigation', { name: 'Main' }).count()) === 1, 'no navigation named Main');
  await page.reload();
  await page.getByTestId('whoami-name').waitFor();
  await page.keyboard.press('Tab');
  const first = await focused();
  assert(first && first.text === 'Skip to content', `the first Tab lands on ${JSON.stringify(first)}`);
  await page.keyboard.press('Enter');
  const then = await focused();
  assert(then && then.id === 'main', `"Skip to content" moves the focus to ${JSON.stringify(then)}`);
  const note = await axeBoth(page, 'overview');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'overview-dark-desktop');
  await page.emulateMedia({ colorScheme: 'light' });
  return note;
});

run.check('navigation: the new screen gets its title, the focus on its heading, and an announcement', async () => {
  await nav().getByRole('link', { name: 'Webhook events' }).click();
  await page.getByRole('heading', { name: 'Webhook events', level: 1 }).waitFor();
  await eventually('the focus on the heading', async () => {
    const f = await focused();
    return f && f.tag === 'H1' && f.text === 'Webhook events';
  }, 5000, 50);
  assert((await page.title()) === 'Webhook events · Atrium', `title: ${await page.title()}`);
  const said = (await page.getByTestId('route-announcer').textContent()).trim();
  assert(said === 'Webhook events · Atrium', `announced: "${said}"`);
  await page.goto(`${BASE}/app/nowhere`);
  await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
  assert((await page.title()) === 'Page not found · Atrium', `not-found title: ${await page.title()}`);
  return 'Webhook events · Atrium; Page not found · Atrium';
});

run.check('Tenants screen opens from the navigation', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tenants' }).click();
  await page.waitForURL(at('/app/tenants'));
  await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
  await page.locator('table[aria-label="Tenants"], p.empty').first().waitFor();
  assert((await page.title()) === 'Tenants · Atrium', `title: ${await page.title()}`);
  const f = await focused();
  assert(f && f.tag === 'H1' && f.text === 'Tenants', `the focus is on ${JSON.stringify(f)}, not the heading`);
});

run.check('create form: problems are shown next to their fields', async () => {
  await page.getByRole('button', { name: 'New tenant' }).click();
  await page.getByRole('button', { name: 'Create tenant' }).click();
  await page.getByText("Enter the organisation's name").waitFor();
  await page.getByText("Enter the tenant's Entra ID directory (tenant) id").waitFor();
  const invalid = await page.locator('input[aria-invalid="true"]').count();
  assert(invalid >= 3, `${invalid} fields marked invalid`);
});

run.check('super admin creates a tenant and sees it in the list', async () => {
  await page.getByLabel('Name', { exact: true }).fill(tenantForm.name);
  const slug = await page.getByLabel('Slug').inputValue();
  assert(slug === tenantForm.slug, `slug suggested from the name: ${slug}`);
  await page.getByLabel('Entra tenant ID').fill(tenantForm.aad);
  await page.getByLabel('Admin group ID (optional)').fill(tenantForm.adminGroup);
  await page.getByLabel('Members group ID (optional)').fill(tenantForm.membersGroup);
  await page.getByLabel('QuickBooks realm ID (optional)').fill(tenantForm.realm);
  await page.getByLabel('Pax8 company ID (optional)').fill(tenantForm.company);
  await page.getByRole('button', { name: 'Add tag' }).click();
  await page.getByLabel('Tag 1 key').fill('suite');
  await page.getByLabel('Tag 1 value').fill('browser');
  const created = page.waitForResponse((r) => r.url() === `${BASE}/v1/tenants` && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Create tenant' }).click();
  const resp = await created;
  assert(resp.status() === 201, `POST /v1/tenants answered ${resp.status()}: ${await resp.text()}`);
  const sent = resp.request().headers();
  assert(sent['x-csrf-token'], 'the POST carried no X-CSRF-Token');
  assert(sent['idempotency-key'], 'the POST carried no Idempotency-Key');
  const t = await resp.json();
  tenantId = t.id;
  assert(t.aad_admin_group_id === tenantForm.adminGroup, `aad_admin_group_id: ${t.aad_admin_group_id}`);
  assert(t.aad_members_group_id === tenantForm.membersGroup, `aad_members_group_id: ${t.aad_members_group_id}`);
  assert(t.quickbooks_realm_id === tenantForm.realm && t.pax8_company_id === tenantForm.company, 'billing ids not saved');
  await page.getByText(`Tenant “${tenantForm.name}” created.`).waitFor();
  await tenantRow().waitFor();
  assert((await tenantRow().locator('.badge').textContent()).trim() === 'active', 'the new tenant is not shown active');
  await screenshot(page, 'tenants-desktop');
  return tenantId;
});

run.check('a conflicting create is explained in words (problem JSON)', async () => {
  await page.getByRole('button', { name: 'New tenant' }).click();
  await page.getByLabel('Name', { exact: true }).fill(tenantForm.name);
  await page.getByLabel('Entra tenant ID').fill(tenantForm.aad);
  await page.getByRole('button', { name: 'Create tenant' }).click();
  const alert = page.locator('.form-card [role="alert"]');
  await alert.waitFor();
  const text = (await alert.locator('.alert-message').textContent()).trim();
  assert(/conflicts with the current state/.test(text), `message: ${text}`);
  // the fields the problem's errors[] names are marked, with its words
  const marked = page.locator('.form-card .field-invalid .field-error');
  await marked.first().waitFor();
  const fieldErrors = (await marked.allTextContents()).map((t) => t.trim());
  await screenshot(page, 'tenant-create-conflict-desktop');
  await page.getByRole('button', { name: 'Cancel' }).click();
  return `${text} ${fieldErrors.join('; ')}`;
});

run.check('super admin suspends the tenant (PATCH with If-Match)', async () => {
  const patched = page.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}` && r.request().method() === 'PATCH');
  await tenantRow().getByRole('button', { name: 'Suspend' }).click();
  const resp = await patched;
  assert(resp.status() === 200, `PATCH answered ${resp.status()}: ${await resp.text()}`);
  const sent = resp.request().headers();
  assert(sent['if-match'], 'the PATCH carried no If-Match');
  assert(sent['x-csrf-token'], 'the PATCH carried no X-CSRF-Token');
  await page.getByText(`Tenant “${tenantForm.name}” suspended.`).waitFor();
  await tenantRow().locator('.badge', { hasText: 'suspended' }).waitFor();
});

run.check('super admin reactivates the tenant', async () => {
  await tenantRow().getByRole('button', { name: 'Reactivate' }).click();
  await page.getByText(`Tenant “${tenantForm.name}” reactivated.`).waitFor();
  await tenantRow().locator('.badge', { hasText: 'active' }).waitFor();
});

run.check('tenant settings: rename and tag change saved', async () => {
  await tenantRow().getByRole('link', { name: 'Settings' }).click();
  await page.waitForURL(at(`/app/tenants/${tenantId}/settings`));
  await page.getByLabel('Name', { exact: true }).fill(tenantForm.renamed);
  await page.getByLabel('Tag 1 value').fill('browser-2');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  await page.getByRole('heading', { name: `Settings · ${tenantForm.renamed}` }).waitFor();
  await screenshot(page, 'tenant-settings-desktop');
});

run.check('audit log lists the changes and filters by action', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await page.waitForURL(at(`/app/tenants/${tenantId}/audit`));
  const table = page.locator('table[aria-label="Audit records"]');
  await table.waitFor();
  const actions = await table.locator('tbody tr td:nth-child(2)').allTextContents();
  assert(actions.includes('tenant.update'), `actions: ${actions.join(', ')}`);
  await screenshot(page, 'audit-desktop');
  await page.getByLabel('Action').fill('tenant.update');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL((u) => at(`/app/tenants/${tenantId}/audit`)(u) && u.searchParams.get('action') === 'tenant.update');
  await page.waitForFunction(() => {
    const t = document.querySelector('table[aria-label="Audit records"]');
    return t && t.getAttribute('aria-busy') !== 'true';
  });
  const filtered = await table.locator('tbody tr td:nth-child(2)').allTextContents();
  assert(filtered.length > 0 && filtered.every((a) => a.trim() === 'tenant.update'), `filtered actions: ${filtered.join(', ')}`);
  return `${actions.length} records, ${filtered.length} updates`;
});

run.check('phone width: menu button, navigation on demand, no sideways scroll', async () => {
  await page.setViewportSize(PHONE);
  await page.goto(`${BASE}/app/tenants`);
  await tenantRow().waitFor();
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert(!(await nav.isVisible()), 'the navigation takes the phone screen before asked for');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await screenshot(page, 'tenants-phone');
  await page.getByRole('button', { name: 'Menu' }).click();
  await nav.getByRole('link', { name: 'Tenants' }).waitFor();
  await screenshot(page, 'menu-phone');
  await page.setViewportSize(DESKTOP);
});

run.check('QuickBooks and Pax8 deliver signed webhooks for the tenant; the worker applies them', async () => {
  const run = suffix;
  const invoiceId = `${run}-145`;
  const qbo = JSON.stringify([
    {
      specversion: '1.0', id: `${run}-inv-created`, source: 'intuit.browser-test', type: 'qbo.invoice.created.v1',
      datacontenttype: 'application/json', time: '2026-03-04T15:25:05Z', intuitentityid: invoiceId, intuitaccountid: tenantForm.realm, data: {},
    },
  ]);
  const q = await request(`${BASE}/v1/webhooks/quickbooks`, {
    method: 'POST', body: qbo, headers: { 'intuit-signature': createHmac('sha256', QBO_VERIFIER).update(qbo).digest('base64') },
  });
  assert(q.status === 200, `QuickBooks delivery answered ${q.status}: ${q.text}`);
  const subscription = randomUUID();
  const sub = {
    id: randomUUID(), topic: 'SUBSCRIPTION', action: 'UPDATED', sentAt: '2026-03-10T10:00:05Z',
    payloadData: {
      id: subscription, companyId: tenantForm.company, productId: randomUUID(), productName: 'Microsoft 365 Business Premium',
      quantity: 25, status: 'Active', price: 22.0, currencyCode: 'USD', billingTerm: 'Monthly',
      startDate: '2026-01-02T00:00:00Z', updatedDate: '2026-03-10T10:00:00Z',
    },
  };
  const usage = {
    id: randomUUID(), topic: 'USAGE', action: 'UPDATED', sentAt: '2026-04-02T00:00:05Z',
    payloadData: {
      usageSummaryId: randomUUID(), companyId: tenantForm.company, subscriptionId: subscription, productId: randomUUID(),
      productName: 'Azure plan', usageDate: '2026-03-01', unitOfMeasure: 'Hours', quantity: 744, unitPrice: 0.0416,
      currentCharges: 30.95, partnerTotal: 26.31, currencyCode: 'USD', isTrial: false, updatedDate: '2026-04-02T00:00:00Z',
    },
  };
  for (const body of [sub, usage]) {
    const r = await request(`${BASE}/v1/webhooks/pax8`, { method: 'POST', body, headers: { Authorization: PAX8_SECRET } });
    assert(r.status === 200, `Pax8 delivery answered ${r.status}: ${r.text}`);
  }
  const token = await mint(IDP, { tid: HOME, oid: superOid, roles: ['super_admin'] });
  await eventually('the worker processes the three events', async () => {
    const r = await request(`${BASE}/v1/webhooks/events?tenant_id=${tenantId}&status=processed`, { headers: { Authorization: `Bearer ${token}` } });
    return r.status === 200 && r.body.data.length >= 3;
  });
});

run.check('super admin: Webhook events lists the deliveries and what became of them', async () => {
  await nav().getByRole('link', { name: 'Webhook events' }).click();
  await page.waitForURL(at('/app/webhooks'));
  await page.getByRole('heading', { name: 'Webhook events', level: 1 }).waitFor();
  await page.getByLabel('Tenant id').fill(tenantId);
  await page.waitForURL((u) => at('/app/webhooks')(u) && u.searchParams.get('tenant_id') === tenantId);
  const table = page.locator('table[aria-label="Webhook events"]');
  await eventually('three events of the tenant listed', async () => {
    await waitIdle('Webhook events');
    return (await table.locator('tbody tr').count()) === 3;
  });
  const statuses = (await table.locator('tbody tr td[data-label="Status"] .badge').allTextContents()).map((t) => t.trim());
  assert(statuses.every((s) => s === 'processed'), `statuses: ${statuses.join(', ')}`);
  const text = await table.textContent();
  assert(text.includes('qbo.invoice.created.v1') && text.includes('QuickBooks') && text.includes('Pax8'), 'providers or types missing');
  await shots('webhook-events');
  return statuses.join(', ');
});

run.check('sign out: POST /auth/logout, back to the landing page', async () => {
  const out = page.waitForResponse((r) => r.url() === `${BASE}/auth/logout`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  const resp = await out;
  assert(resp.status() === 204, `/auth/logout answered ${resp.status()}`);
  assert(resp.request().headers()['x-csrf-token'], 'logout carried no X-CSRF-Token');
  await page.waitForURL(at('/'));
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  const left = (await context.cookies(BASE)).filter((c) => c.name === 'atrium_session' && c.value !== '');
  assert(left.length === 0, 'the session cookie is still there');
});

run.check('signed out: the API refuses, the old session id included', async () => {
  const r = await me();
  assert(r.status === 401, `/v1/me answered ${r.status}`);
  const replay = await context.request.get(`${BASE}/v1/me`, { headers: { Cookie: `atrium_session=${oldSession}` } });
  assert(replay.status() === 401, `the old session cookie still works (${replay.status()})`);
});

run.check('signed out: an app screen sends the browser to sign in, coming back to it', async () => {
  const seen = [];
  await page.route(`${BASE}/auth/login**`, (route) => {
    seen.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>sign-in</title><p>sign-in intercepted by the test' });
  });
  await page.goto(`${BASE}/app/tenants`);
  await page.waitForURL((u) => u.origin === origin && u.pathname === '/auth/login');
  await page.unroute(`${BASE}/auth/login**`);
  assert(seen.length === 1, `${seen.length} trips to sign-in`);
  const rt = new URL(seen[0]).searchParams.get('return_to');
  assert(rt === '/app/tenants', `return_to=${rt}`);
  await page.evaluate(() => sessionStorage.clear()); // the loop guard's memory
});

run.check('the tenant admin signs in: tenant screens, no platform screens, no wallet', async () => {
  await page.evaluate(() => sessionStorage.clear());
  await signIn(tenantForm.aad, adminOid, ['tenant_admin']);
  const links = (await navLinks()).filter((l) => l !== tenantForm.renamed);
  for (const l of ['Namespaces', 'Events', 'Bets', 'Payments', 'Ledger', 'Billing', 'Audit log', 'Settings']) assert(links.includes(l), `no "${l}" (links: ${links.join(', ')})`);
  for (const l of ['Tenants', 'Webhook events', 'Wallet', 'My bets']) assert(!links.includes(l), `admin sees "${l}"`);
  return links.join(', ');
});

run.check('admin adds a product in the catalog, finds it, and builds a cable plan (tables and a diagram)', async () => {
  const cat = `/v1/tenants/${tenantId}/catalog`;
  const sw = await fromPage('POST', `${cat}/products`, {
    sku: `BR-SW-${suffix}`, name: `Browser switch ${suffix}`, unit_price_minor: 19900, currency: 'EUR',
    attributes: { ports: [{ count: 8, type: 'rj45', speed_mbps: 1000 }], poe_budget_w: 30 },
  });
  const ap = await fromPage('POST', `${cat}/products`, {
    sku: `BR-AP-${suffix}`, name: `Browser AP ${suffix}`, unit_price_minor: 9900, currency: 'EUR',
    attributes: { ports: [{ count: 1, type: 'rj45', speed_mbps: 1000 }], poe_draw_w: 12.5 },
  });
  assert(sw.status === 201 && ap.status === 201, `products: ${sw.status} ${ap.status}`);
  await nav().getByRole('link', { name: 'Catalog' }).click();
  await page.waitForURL(at(tp('/catalog')));
  await page.getByRole('button', { name: 'New product' }).click();
  const form = page.getByRole('form', { name: 'New product' });
  await form.getByLabel('SKU').fill(`BR-P-${suffix}`);
  await form.getByLabel('Name').fill(`Patch box ${suffix}`);
  await form.getByLabel('Price').fill('12.50');
  await form.getByRole('button', { name: 'Add product' }).click();
  await page.getByText(`Product “Patch box ${suffix}” added.`).waitFor();
  await page.getByRole('searchbox').fill(`BR-SW-${suffix}`);
  await page.getByRole('searchbox').press('Enter');
  await page.getByRole('link', { name: `BR-SW-${suffix}` }).click();
  await page.getByRole('heading', { name: `Browser switch ${suffix}` }).waitFor();
  const price = (await page.getByTestId('product-price').textContent()) ?? '';
  assert(price.includes('199'), `price shown: ${price}`);
  await axe(page, 'catalog product');

  await page.getByRole('link', { name: 'Back to the catalog' }).click();
  await page.getByRole('link', { name: 'Cable plan' }).click();
  await page.getByRole('heading', { name: 'Cable plan' }).waitFor();
  const bom = page.getByTestId('bom-row');
  await bom.nth(0).getByLabel('Name').fill('sw');
  await bom.nth(0).getByLabel('Product').locator(`option[value="${sw.body.id}"]`).waitFor({ state: 'attached' });
  await bom.nth(0).getByLabel('Product').selectOption(sw.body.id);
  await page.getByRole('button', { name: 'Add a product' }).click();
  await bom.nth(1).getByLabel('Name').fill('ap');
  await bom.nth(1).getByLabel('Product').selectOption(ap.body.id);
  await bom.nth(1).getByLabel('Quantity').fill('3');
  const links = page.getByTestId('link-row');
  for (let k = 0; k < 3; k++) {
    if (k > 0) await page.getByRole('button', { name: 'Add a link' }).click();
    await links.nth(k).getByLabel('From').selectOption('sw');
    await links.nth(k).getByLabel('To').selectOption(`ap#${k + 1}`);
    await links.nth(k).getByLabel('Distance (m)').fill('10');
  }
  await page.getByRole('button', { name: 'Calculate' }).click();
  await page.getByRole('table', { name: 'Cables' }).waitFor();
  const count = (await page.getByTestId('cable-count').first().textContent())?.trim();
  assert(count === '3', `cables: ${count}`);
  const problems = (await page.getByTestId('plan-problems').textContent()) ?? '';
  assert(problems.includes('poe over budget'), `problems: ${problems}`);
  assert((await page.getByTestId('cable-diagram').locator('rect').count()) === 4, 'the diagram has 4 devices');
  await axe(page, 'cable plan');
  return `3 cables, ${problems.trim()}`;
});

run.check('admin uploads a product image straight to Blob Storage (SAS), with a progress bar; the worker checks it and the page shows it', async () => {
  const found = await fromPage('GET', `/v1/tenants/${tenantId}/catalog/products?q=BR-SW-${suffix}`);
  const id = found.body?.data?.[0]?.id;
  assert(id, `the switch: ${JSON.stringify(found.body)}`);
  await page.goto(`${BASE}${tp(`/catalog/products/${id}`)}`);
  await page.getByRole('heading', { name: `Browser switch ${suffix}` }).waitFor();
  // The bar may come and go quickly: remember that it was there.
  await page.evaluate(() => {
    window.__progressSeen = false;
    new MutationObserver(() => {
      if (document.querySelector('[data-testid="upload-progress"]')) window.__progressSeen = true;
    }).observe(document.body, { childList: true, subtree: true });
  });
  // A 1x1 PNG.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  await page.getByLabel('Add an image').setInputFiles({ name: 'switch.png', mimeType: 'image/png', buffer: png });
  await page.getByText('switch.png is uploaded; it is checked now.').waitFor({ timeout: 20000 });
  assert(await page.evaluate(() => window.__progressSeen), 'no progress bar during the upload');
  await page.locator('[data-testid="media-line"][data-status="ready"]').waitFor({ timeout: 30000 });
  const img = page.locator('img.catalog-image');
  await img.waitFor();
  const loaded = await img.evaluate((el) => el.complete && el.naturalWidth === 1);
  assert(loaded, 'the image from its read SAS link is not shown');
  await axe(page, 'product with an image');
  return 'ready, shown';
});

let progressSeen = '';
run.check('admin creates a namespace and watches it reach "ready" (polled every 2 s), with a progress bar, then a notice', async () => {
  await nav().getByRole('link', { name: 'Namespaces' }).click();
  await page.waitForURL(at(tp('/namespaces')));
  await page.getByText('No namespaces yet.').waitFor();
  const polls = [];
  const seen = new Set();
  const onResponse = async (r) => {
    if (r.request().method() !== 'GET' || !r.url().startsWith(`${BASE}/v1/tenants/${tenantId}/namespaces?`)) return;
    polls.push(Date.now());
    try {
      for (const n of (await r.json()).data) if (n.name === 'web') seen.add(n.status);
    } catch {
      /* a page that went away */
    }
  };
  page.on('response', onResponse);
  // ARM throttles the namespace's first resource-group PUT (429, Retry-After
  // 3 s): the worker retries, so "web" is provisioning for a few seconds
  // however fast the machine, with Azure's error shown while it retries.
  const fault = await request(`${ARM}/_fake/faults`, {
    method: 'POST',
    body: { match: { method: 'PUT', path_regex: `/resourcegroups/atrium-${tenantForm.slug}-web\\b` }, status: 429, retry_after: 3, times: 1 },
  });
  assert(fault.status === 201, `the fake ARM did not take the fault (${fault.status}: ${fault.text})`);
  let retrySeen = false;
  const row = page.locator('tr[data-namespace="web"]');
  const watchRetry = row.getByTestId('azure-error').filter({ hasText: 'TooManyRequests' }).waitFor({ timeout: 60_000 }).then(
    () => {
      retrySeen = true;
      return screenshot(page, 'namespaces-provisioning-desktop').catch(() => {});
    },
    () => {},
  );
  await page.getByRole('button', { name: 'New namespace' }).click();
  const form = page.getByRole('region', { name: 'New namespace' });
  await form.getByLabel('Name', { exact: true }).fill('web');
  await form.getByLabel('Environment').selectOption('staging');
  await form.getByLabel('Location').fill('westeurope');
  await form.getByLabel('CPU cores').fill('4');
  const posted = page.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}/namespaces` && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Create namespace' }).click();
  const resp = await posted;
  assert(resp.status() === 202, `POST namespaces answered ${resp.status()}: ${await resp.text()}`);
  assert(resp.request().headers()['idempotency-key'], 'the POST carried no Idempotency-Key');
  const created = await resp.json();
  seen.add(created.status);
  await page.getByText('Namespace “web” created: its status below follows the provisioning.').waitFor();
  // the job is followed: a progress bar (named after it) while it runs ...
  const bar = page.getByRole('progressbar', { name: 'Provisioning namespace “web”' });
  await bar.waitFor();
  assert((await page.locator('[aria-busy="true"]').filter({ has: bar }).count()) === 1, 'the progress list is not aria-busy');
  progressSeen = (await bar.locator('xpath=..').textContent()).trim();
  await screenshot(page, 'namespace-progress-desktop');
  await row.locator('.badge', { hasText: /^ready$/ }).waitFor({ timeout: 60_000 });
  // ... then a notice in a polite live region
  const notices = page.getByTestId('notices');
  assert((await notices.getAttribute('role')) === 'status' && (await notices.getAttribute('aria-live')) === 'polite', 'the notices are not a polite status region');
  await notices.getByText('Namespace “web” is ready.').waitFor({ timeout: 30_000 });
  await bar.waitFor({ state: 'detached' });
  page.off('response', onResponse);
  const gaps = polls.slice(1).map((t, i) => t - polls[i]);
  assert(polls.length >= 2, `the list was loaded ${polls.length} times: no live polling seen`);
  assert(gaps.some((g) => g >= 1500 && g <= 3500), `poll gaps ${gaps.join(', ')} ms`);
  assert(seen.has('ready') && (seen.has('pending') || seen.has('provisioning')), `statuses seen: ${[...seen].join(', ')}`);
  await shots('namespaces');
  await Promise.race([watchRetry, Promise.resolve()]);
  return `progress: "${progressSeen}"; statuses seen: ${['pending', 'provisioning', 'ready'].filter((x) => seen.has(x)).join(' → ')}; ${polls.length} loads, gaps ${gaps.join('/')} ms; throttling shown while retrying: ${retrySeen ? 'yes' : 'no'}`;
});

run.check("a namespace Azure refuses shows \"failed\" with Azure's error", async () => {
  await page.getByRole('button', { name: 'New namespace' }).click();
  const form = page.getByRole('region', { name: 'New namespace' });
  await form.getByLabel('Name', { exact: true }).fill('moon');
  await form.getByLabel('Location').fill('moonnorth');
  await page.getByRole('button', { name: 'Create namespace' }).click();
  const row = page.locator('tr[data-namespace="moon"]');
  await row.locator('.badge', { hasText: /^failed$/ }).waitFor({ timeout: 60_000 });
  const err = (await row.getByTestId('azure-error').textContent()).trim();
  assert(/LocationNotAvailableForResourceGroup/.test(err) && /moonnorth/.test(err), `error shown: ${err}`);
  await screenshot(page, 'namespaces-failed-desktop');
  return err.slice(0, 120);
});

run.check("the failed provisioning ends in a notice with Azure's error", async () => {
  const n = page.getByTestId('notices').locator('.toast', { hasText: 'Namespace “moon” could not be provisioned.' });
  await n.waitFor({ timeout: 30_000 });
  const text = (await n.textContent()).trim();
  assert(/LocationNotAvailableForResourceGroup/.test(text), `notice: ${text}`);
  return text.slice(0, 120);
});

run.check('namespaces: title, chart of namespaces by state (1 ready, 1 failed) with its text alternative, axe in light and dark', async () => {
  await eventually('the title', async () => (await page.title()) === `Namespaces · ${tenantForm.renamed} · Atrium`, 10_000);
  await eventually('the chart counts web and moon', async () =>
    /1 ready, 1 failed/.test((await page.getByTestId('chart-namespaces').locator('[role="img"]').getAttribute('aria-label')) || ''), 15_000);
  const summary = await chart('chart-namespaces');
  const note = await axeBoth(page, 'namespaces');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, 'namespaces-dark-desktop');
  await page.emulateMedia({ colorScheme: 'light' });
  return `${summary} ${note}`;
});

run.check('namespace detail: its Azure resources, then its job with steps and attempts', async () => {
  await page.locator('tr[data-namespace="web"]').getByRole('link', { name: 'web' }).click();
  await page.waitForURL(at(tp('/namespaces/web')));
  await page.getByRole('heading', { name: 'web', level: 1 }).waitFor();
  await page.getByRole('list', { name: 'Blob containers' }).locator('li').nth(2).waitFor();
  const containers = (await page.getByRole('list', { name: 'Blob containers' }).locator('li').allTextContents()).map((t) => t.trim());
  assert(containers.length === 3 && containers.every((c) => /-(uploads|logs|backups)$/.test(c)), `containers: ${containers.join(', ')}`);
  const facts = await page.locator('section[aria-labelledby="ns-azure"]').textContent();
  assert(/roleAssignments\//.test(facts), 'no Contributor role assignment shown (the tenant has an admin group)');
  await shots('namespace-detail');
  await page.getByRole('link', { name: 'View the job' }).click();
  await page.waitForURL((u) => u.origin === origin && u.pathname.startsWith(tp('/jobs/')));
  await page.getByTestId('job-status').locator('.badge', { hasText: 'succeeded' }).waitFor();
  const steps = await page.locator('.timeline > li .strong').allTextContents();
  assert(steps.join('|') === 'Resource group|Contributor role assignment|Blob containers|Kubernetes namespace (AKS)|AKS admin role assignment',
    `steps: ${steps.join(', ')}`);
  const attempts = await page.locator('section[aria-labelledby="job-facts"] dl').textContent();
  const tries = /Attempts\s*(\d+) of (\d+)/.exec(attempts);
  assert(tries && Number(tries[1]) >= 2, `attempts (one was throttled, so at least 2): ${attempts}`);
  await shots('job');
  return `${steps.join(' → ')}; ${tries[1]} of ${tries[2]} attempts`;
});

run.check('accessibility: namespace detail and its job (axe in light and dark)', async () => {
  const job = await axeBoth(page, 'job');
  await page.getByRole('link', { name: '← Namespace web' }).click();
  await page.getByRole('heading', { name: 'web', level: 1 }).waitFor();
  assert((await page.title()) === `web · ${tenantForm.renamed} · Atrium`, `title: ${await page.title()}`);
  return `${job}; ${await axeBoth(page, 'namespace detail')}`;
});

run.check('admin deletes the failed namespace: deprovisioning, then gone from the list', async () => {
  await page.getByRole('link', { name: '← All namespaces' }).click();
  await page.waitForURL(at(tp('/namespaces')));
  const row = page.locator('tr[data-namespace="moon"]');
  await row.getByRole('button', { name: 'Delete' }).click();
  const del = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().startsWith(`${BASE}/v1/tenants/${tenantId}/namespaces/`));
  await row.getByRole('button', { name: 'Delete' }).click();
  const resp = await del;
  assert(resp.status() === 202, `DELETE answered ${resp.status()}: ${await resp.text()}`);
  await page.getByText('Deleting “moon”').waitFor();
  await row.waitFor({ state: 'detached', timeout: 60_000 });
  await page.getByTestId('notices').getByText('Namespace “moon” is deleted.').waitFor({ timeout: 30_000 });
  await page.getByLabel('Status').selectOption('deleted');
  await page.locator('tr[data-namespace="moon"] .badge', { hasText: 'deleted' }).waitFor();
  await page.getByLabel('Status').selectOption('');
});

// Approval: the admin asks for a production namespace; a super admin, in
// another browser, finds it in the Approvals queue and approves it; the
// admin sees it provisioned with its Kubernetes namespace.
let operator; // { page, problems, close }
let liveK8s; // the Kubernetes namespace's name, from the create answer

run.check('admin asks for a production namespace (size Medium): it waits for approval', async () => {
  await page.getByRole('button', { name: 'New namespace' }).click();
  const form = page.getByRole('region', { name: 'New namespace' });
  await form.getByLabel('Name').fill('live');
  await form.getByLabel('Environment').selectOption('prod');
  await form.getByText("Production waits for a platform operator's approval.").waitFor();
  await form.getByLabel('Size').selectOption('medium');
  const posted = page.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}/namespaces` && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Create namespace' }).click();
  const resp = await posted;
  assert(resp.status() === 202, `POST namespaces answered ${resp.status()}: ${await resp.text()}`);
  const body = await resp.json();
  assert(body.status === 'pending_approval' && body.size === 'medium' && body.job_id === null && body.kubernetes?.namespace,
    `created: ${JSON.stringify(body)}`);
  liveK8s = body.kubernetes.namespace;
  await page.getByText("Namespace “live” waits for a platform operator's approval before anything is made in Azure.").waitFor();
  await page.locator('tr[data-namespace="live"] .badge', { hasText: 'pending_approval' }).waitFor();
});

run.check('a super admin, in another browser, approves it from the Approvals queue (axe in light and dark)', async () => {
  operator = await launch({ viewport: DESKTOP });
  const o = operator.page;
  await signIn(HOME, superOid, ['super_admin'], o);
  await o.getByRole('list', { name: 'Platform' }).getByRole('link', { name: 'Approvals' }).click();
  await o.waitForURL(at('/app/approvals'));
  // (other tenants' namespaces may wait too: this tenant's row)
  const row = o.locator(`tr[data-namespace="live"]:has(a[href*="${tenantId}"])`);
  await row.waitFor();
  await axeBoth(o, 'approvals');
  await row.getByRole('link', { name: 'live' }).click();
  await o.waitForURL(at(tp('/namespaces/live')));
  await o.getByTestId('approval-waiting').waitFor();
  await o.getByLabel('Reason').fill('capacity checked');
  const approved = o.waitForResponse((r) => r.url().endsWith('/approve') && r.request().method() === 'POST');
  await o.getByRole('button', { name: 'Approve' }).click();
  const a = await approved;
  assert(a.status() === 202, `approve answered ${a.status()}: ${await a.text()}`);
  await o.getByText('Approved “live”: it is being provisioned.').waitFor();
  await o.getByTestId('approval-decision').getByText(/Approved.*capacity checked/).waitFor();
});

run.check('the admin sees it ready with its Kubernetes namespace, quota and network policy', async () => {
  await page.locator('tr[data-namespace="live"]').getByRole('link', { name: 'live' }).click();
  await page.waitForURL(at(tp('/namespaces/live')));
  await page.getByTestId('namespace-status').locator('.badge', { hasText: 'ready' }).waitFor({ timeout: 60_000 });
  const k8s = page.getByTestId('namespace-kubernetes');
  await k8s.getByText(liveK8s, { exact: true }).waitFor();
  const text = await k8s.textContent();
  assert(/CPU 2 \/ 4/.test(text) && /ingress AllowSameNamespace/.test(text) && /managedNamespaces\//.test(text), `kubernetes: ${text}`);
  assert((await page.getByTestId('namespace-size').textContent()).trim() === 'Medium', 'size shown');
  await axeBoth(page, 'namespace-detail-kubernetes');
  await page.getByRole('link', { name: '← All namespaces' }).click();
  await page.waitForURL(at(tp('/namespaces')));
  await operator.close();
  assert(operator.problems.length === 0, `operator browser: ${operator.problems.join('; ')}`);
  return text.replace(/\s+/g, ' ').trim().slice(0, 160);
});

run.check('admin creates an event with three selections, open for betting', async () => {
  await nav().getByRole('link', { name: 'Events' }).click();
  await page.waitForURL(at(tp('/events')));
  await page.getByRole('button', { name: 'New event' }).click();
  await page.getByRole('button', { name: 'Create event' }).click();
  await page.getByText("Enter the event's name").waitFor();
  await page.getByText('An event needs at least two selections').waitFor();
  const form = page.getByRole('region', { name: 'New event' });
  await form.getByLabel('Name', { exact: true }).fill(EVENT.name);
  await page.getByLabel('Selection 1 name').fill('Lions');
  await page.getByLabel('Selection 1 odds').fill(EVENT.lions);
  await page.getByLabel('Selection 2 name').fill('Tigers');
  await page.getByLabel('Selection 2 odds').fill(EVENT.tigers);
  await page.getByLabel('Selection 3 name').fill('Draw');
  await page.getByLabel('Selection 3 odds').fill(EVENT.draw);
  await screenshot(page, 'event-create-desktop');
  const posted = page.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}/events` && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Create event' }).click();
  const resp = await posted;
  assert(resp.status() === 201, `POST events answered ${resp.status()}: ${await resp.text()}`);
  assert(resp.request().headers()['idempotency-key'], 'the POST carried no Idempotency-Key');
  const ev = await resp.json();
  eventId = ev.id;
  assert(ev.status === 'open' && ev.selections.map((x) => x.key).join() === 'lions,tigers,draw', `event: ${JSON.stringify(ev)}`);
  await page.getByText(`Event “${EVENT.name}” created and open for betting.`).waitFor();
  const row = page.locator(`tr[data-event="${EVENT.name}"]`);
  await row.waitFor();
  await shots('events');
  await row.getByRole('link', { name: EVENT.name }).click();
  await page.waitForURL(at(tp(`/events/${eventId}`)));
  await page.getByRole('heading', { name: 'Manage the event' }).waitFor();
  assert((await page.getByRole('heading', { name: 'Place a bet' }).count()) === 0, 'an admin is offered a bet slip');
  await shots('event-admin');
  return eventId;
});

run.check('admin: billing shows the invoice, the subscription and the usage from the webhooks', async () => {
  await nav().getByRole('link', { name: 'Billing' }).click();
  await page.waitForURL(at(tp('/billing')));
  const inv = page.locator('table[aria-label="Invoices"] tbody tr');
  await inv.first().waitFor();
  const invText = await inv.first().textContent();
  assert(invText.includes(`#${suffix}-145`) && /open/.test(invText), `invoice row: ${invText}`);
  await shots('billing-invoices', { phone: false });
  await page.getByRole('tab', { name: 'Subscriptions' }).click();
  const sub = page.locator('table[aria-label="Subscriptions"] tbody tr').first();
  await sub.waitFor();
  const subText = await sub.textContent();
  assert(subText.includes('Microsoft 365 Business Premium') && subText.includes('25') && subText.includes('US$22.00'), `subscription row: ${subText}`);
  await shots('billing-subscriptions', { phone: false });
  await page.getByRole('tab', { name: 'Usage' }).click();
  const use = page.locator('table[aria-label="Usage"] tbody tr').first();
  await use.waitFor();
  const useText = await use.textContent();
  assert(useText.includes('Azure plan') && useText.includes('744 Hours') && useText.includes('US$30.95'), `usage row: ${useText}`);
  await shots('billing-usage');
});

run.check('admin: the billing overview sums usage by product, and a list downloads as CSV', async () => {
  await page.getByRole('tab', { name: 'Overview' }).click();
  const row = page.getByTestId('usage-by-product').locator('tbody tr').first();
  await row.waitFor();
  const rowText = await row.textContent();
  assert(rowText.includes('Azure plan') && rowText.includes('US$30.95'), `usage by product: ${rowText}`);
  await page.getByTestId('monthly-cost').waitFor({ state: 'attached' });
  await shots('billing-overview', { phone: false });
  await page.getByRole('tab', { name: 'Subscriptions' }).click();
  await page.locator('table[aria-label="Subscriptions"] tbody tr').first().waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()]);
  assert(/^subscriptions-[0-9a-f-]{36}\.csv$/.test(download.suggestedFilename()), `file name: ${download.suggestedFilename()}`);
  const csv = readFileSync(await download.path(), 'utf8');
  assert(csv.startsWith('id,external_id,company_id,') && csv.includes('Microsoft 365 Business Premium'), `CSV: ${csv.slice(0, 300)}`);
});

run.check('admin connects QuickBooks through the fake Intuit consent; a notified invoice then shows its amounts', async () => {
  assert(FAKE_INTUIT, 'ATRIUM_TEST_FAKE_INTUIT_URL must name the fake Intuit (scripts/lib.sh)');
  // The user picks the tenant's company on Intuit's consent page.
  const c = await request(`${FAKE_INTUIT}/admin/consent`, { method: 'POST', body: { realmId: tenantForm.realm } });
  assert(c.status === 200, `fake consent: ${c.status} ${c.text}`);
  await page.getByRole('tab', { name: 'Invoices' }).click();
  const card = page.locator('section[data-integration="quickbooks"]');
  await card.getByRole('button', { name: /Connect QuickBooks/ }).click();
  // Intuit's consent redirects to the callback, which sends the browser back here.
  await page.waitForURL((u) => at(tp('/billing'))(u) && u.searchParams.get('quickbooks') === 'connecting', { timeout: 20000 });
  await eventually('the card shows connected', async () => /connected/i.test((await card.textContent()) ?? '') &&
    !/connecting/i.test((await card.textContent()) ?? ''), 30000);
  const text = await card.textContent();
  assert(text.includes(tenantForm.realm), `the card names the company: ${text}`);
  // An invoice in QuickBooks, then its notification: the worker reads it.
  const inv = await request(`${FAKE_INTUIT}/admin/companies/${tenantForm.realm}/invoice`, {
    method: 'POST', body: { Line: [{ Amount: 200, Description: 'Managed services' }, { Amount: 50, Description: 'Licences' }], Balance: 120, CustomerName: 'Contoso' },
  });
  assert(inv.status === 201, `fake invoice: ${inv.status} ${inv.text}`);
  const id = inv.body.Invoice.Id;
  const doc = inv.body.Invoice.DocNumber;
  const body = JSON.stringify([{
    specversion: '1.0', id: `${suffix}-inv-qbo-connected`, source: 'intuit.browser-test', type: 'qbo.invoice.created.v1',
    datacontenttype: 'application/json', time: new Date().toISOString(), intuitentityid: id, intuitaccountid: tenantForm.realm, data: {},
  }]);
  const q = await request(`${BASE}/v1/webhooks/quickbooks`, {
    method: 'POST', body, headers: { 'intuit-signature': createHmac('sha256', QBO_VERIFIER).update(body).digest('base64') },
  });
  assert(q.status === 200, `QuickBooks delivery answered ${q.status}: ${q.text}`);
  const row = page.locator(`table[aria-label="Invoices"] tbody tr[data-invoice="${id}"]`);
  await eventually('the invoice row shows its amounts', async () => {
    await page.reload();
    await row.waitFor({ timeout: 5000 });
    const t = (await row.textContent()) ?? '';
    return t.includes(`#${doc}`) && t.includes('US$250.00') && t.includes('US$120.00') && t.includes('Contoso');
  }, 45000, 1000);
  const totals = (await page.locator('[data-invoice-totals]').textContent()) ?? '';
  assert(totals.includes('US$250.00') && totals.includes('US$120.00'), `totals: ${totals}`);
  await shots('billing-quickbooks-connected', { phone: false });
});

run.check('accessibility: billing (title, axe in light and dark)', async () => {
  assert((await page.title()) === `Billing · ${tenantForm.renamed} · Atrium`, `title: ${await page.title()}`);
  return axeBoth(page, 'billing');
});

run.check('admin signs out', async () => {
  await signOut();
});

run.check("a member of the new tenant signs in (no roles)", async () => {
  await signIn(tenantForm.aad, memberOid, []);
  const r = await me();
  assert(r.status === 200, `/v1/me answered ${r.status}`);
  assert(r.body.tenant && r.body.tenant.id === tenantId, `tenant: ${JSON.stringify(r.body.tenant)}`);
  assert(r.body.roles.length === 1 && r.body.roles[0] === 'member', `roles: ${r.body.roles}`);
  const roles = (await page.getByTestId('whoami-roles').textContent()).trim();
  assert(roles === 'Member', `roles shown: ${roles}`);
  const tenant = (await page.getByTestId('whoami-tenant').textContent()).trim();
  assert(tenant === tenantForm.renamed, `tenant shown: ${tenant}`);
  await screenshot(page, 'overview-member-desktop');
});

run.check('member: Events, My bets and Wallet in the navigation, no admin screens', async () => {
  const links = (await navLinks()).filter((l) => l !== tenantForm.renamed); // the tenant's heading links to its overview
  assert(links.join('|') === 'Overview|Events|My bets|Wallet|Catalog', `links: ${links.join(', ')}`);
  for (const admin of ['Tenants', 'Webhook events', 'Namespaces', 'Payments', 'Ledger', 'Billing', 'Settings', 'Audit log']) {
    assert(!links.includes(admin), `member sees "${admin}" (links: ${links.join(', ')})`);
  }
  assert((await page.getByRole('button', { name: 'New tenant' }).count()) === 0, 'member sees "New tenant"');
  const r = await me();
  memberId = r.body.user.id;
  return links.join(', ');
});

run.check('member deposits €50.00 (Idempotency-Key, CSRF) and sees the balance and the payment', async () => {
  await nav().getByRole('link', { name: 'Wallet' }).click();
  await page.waitForURL(at(tp('/wallet')));
  await page.getByText('No money yet. Make a deposit to start.').waitFor();
  await page.getByLabel('Amount').fill('50');
  const posted = page.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}/payments` && r.request().method() === 'POST');
  await page.locator('form').getByRole('button', { name: 'Deposit' }).click();
  const resp = await posted;
  assert(resp.status() === 201, `POST payments answered ${resp.status()}: ${await resp.text()}`);
  const sent = resp.request().headers();
  assert(sent['idempotency-key'] && sent['x-csrf-token'], 'the deposit carried no Idempotency-Key or X-CSRF-Token');
  assert(JSON.stringify(resp.request().postDataJSON()) === JSON.stringify({ direction: 'deposit', amount_minor: 5000, currency: 'EUR' }), `body: ${resp.request().postData()}`);
  await page.getByText('Deposited €50.00.').waitFor();
  await page.getByTestId('balance-EUR').filter({ hasText: '€50.00' }).waitFor();
  await page.locator('table[aria-label="Payments"] tbody tr').first().filter({ hasText: '+€50.00' }).waitFor();
});

run.check('member: a withdrawal larger than the balance is refused in words (422), nothing moves', async () => {
  await page.getByRole('group', { name: 'Deposit or withdraw' }).getByRole('button', { name: 'Withdraw' }).click();
  await page.getByLabel('Amount').fill('500');
  const posted = page.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}/payments` && r.request().method() === 'POST');
  await page.locator('form').getByRole('button', { name: 'Withdraw' }).click();
  const resp = await posted;
  assert(resp.status() === 422, `POST payments answered ${resp.status()}`);
  const alert = page.locator('form [role="alert"] .alert-message');
  await alert.waitFor();
  const text = (await alert.textContent()).trim();
  assert(text === "You can't withdraw €500.00: your EUR balance is €50.00. Nothing was moved.", `message: ${text}`);
  await shots('wallet-refused', { phone: false });
  const w = await fromPage('GET', `/v1/tenants/${tenantId}/wallet`);
  assert(w.body.balances[0].available_minor === 5000, `balance after the refusal: ${JSON.stringify(w.body)}`);
  return text;
});

run.check('member opens the event: current odds and a bet slip with what a win returns', async () => {
  await nav().getByRole('link', { name: 'Events' }).click();
  await page.locator(`tr[data-event="${EVENT.name}"]`).getByRole('link', { name: EVENT.name }).click();
  await page.waitForURL(at(tp(`/events/${eventId}`)));
  await page.getByRole('heading', { name: 'Place a bet' }).waitFor();
  assert((await page.getByRole('heading', { name: 'Manage the event' }).count()) === 0, 'a member is offered event management');
  assert((await page.getByTestId('odds-lions').textContent()).trim() === EVENT.lions, 'odds of Lions not shown');
  await page.locator('label.pick-option', { hasText: 'Lions' }).click();
  await page.getByLabel('Stake').fill('10');
  const returns = (await page.getByTestId('bet-returns').textContent()).trim();
  assert(returns === `At odds ${EVENT.lions} a win returns €25.00 (your stake included).`, `returns: ${returns}`);
  await shots('event-member');
});

run.check('member: odds changed meanwhile -> 409 explained in words, new odds shown; the bet is placed at them', async () => {
  // The admin changes the odds through the API (bearer token) while the
  // member's page still shows the old ones: its refreshes are held back
  // until the bet has been tried, so the 409 is certain.
  const eventPath = `/v1/tenants/${tenantId}/events/${eventId}`;
  const held = [];
  await page.route(`${BASE}${eventPath}`, (route) => {
    if (route.request().method() === 'GET') held.push(route);
    else route.continue();
  });
  const adminToken = await mint(IDP, { tid: tenantForm.aad, oid: adminOid, roles: ['tenant_admin'] });
  const auth = { Authorization: `Bearer ${adminToken}` };
  const cur = await request(`${BASE}${eventPath}`, { headers: auth });
  const patched = await request(`${BASE}${eventPath}`, {
    method: 'PATCH', headers: { ...auth, 'If-Match': cur.headers.etag }, body: { selections: [{ key: 'lions', odds: EVENT.lionsNew }] },
  });
  assert(patched.status === 200, `PATCH odds answered ${patched.status}: ${patched.text}`);
  const bets = `${BASE}/v1/tenants/${tenantId}/bets`;
  const first = page.waitForResponse((r) => r.url() === bets && r.request().method() === 'POST');
  await page.getByRole('button', { name: `Place bet on Lions at ${EVENT.lions}` }).click();
  const r1 = await first;
  assert(r1.status() === 409, `the bet at stale odds answered ${r1.status()}`);
  assert(r1.request().postDataJSON().odds === EVENT.lions, 'the bet did not carry the odds shown');
  const alert = page.locator('form [role="alert"] .alert-message');
  await alert.waitFor();
  const text = (await alert.textContent()).trim();
  assert(text.startsWith(`The odds changed while you were deciding: they are now ${EVENT.lionsNew}. Nothing was staked.`), `message: ${text}`);
  await page.unroute(`${BASE}${eventPath}`);
  for (const h of held) await h.continue().catch(() => {});
  await page.getByTestId('odds-lions').filter({ hasText: EVENT.lionsNew }).waitFor();
  await shots('event-odds-changed', { phone: false });
  const second = page.waitForResponse((r) => r.url() === bets && r.request().method() === 'POST');
  await page.getByRole('button', { name: `Place bet on Lions at ${EVENT.lionsNew}` }).click();
  const r2 = await second;
  assert(r2.status() === 201, `the bet at the new odds answered ${r2.status()}: ${await r2.text()}`);
  const k1 = r1.request().headers()['idempotency-key'];
  const k2 = r2.request().headers()['idempotency-key'];
  assert(k1 && k2 && k1 !== k2, 'each bet attempt with other odds needs its own Idempotency-Key');
  const bet = await r2.json();
  assert(bet.status === 'accepted' && bet.odds === EVENT.lionsNew && bet.potential_payout_minor === 2400, `bet: ${JSON.stringify(bet)}`);
  await page.getByText(`Bet placed: €10.00 on Lions at ${EVENT.lionsNew}. It returns €24.00 if Lions wins.`).waitFor();
  await page.locator('table[aria-label="Bets on this event"] tbody tr').filter({ hasText: 'accepted' }).waitFor();
  return text;
});

run.check('member: My bets lists the bet, accepted', async () => {
  await nav().getByRole('link', { name: 'My bets' }).click();
  await page.waitForURL(at(tp('/bets')));
  const row = page.locator('table[aria-label="Bets"] tbody tr').first();
  await row.getByRole('link', { name: EVENT.name }).waitFor();
  const text = await row.textContent();
  assert(/accepted/.test(text) && text.includes('€10.00') && text.includes('up to €24.00'), `row: ${text}`);
  await shots('bets-accepted', { phone: false });
});

run.check('my bets: chart of bets by status (1 accepted) with its text alternative; axe in light and dark', async () => {
  assert((await page.title()) === `My bets · ${tenantForm.renamed} · Atrium`, `title: ${await page.title()}`);
  await eventually('the chart counts the bet', async () =>
    /: 1 accepted\./.test((await page.getByTestId('chart-bets').locator('[role="img"]').getAttribute('aria-label')) || ''), 15_000);
  const summary = await chart('chart-bets');
  return `${summary} ${await axeBoth(page, 'bets')}`;
});

run.check('member withdraws €15.00 of the rest', async () => {
  await nav().getByRole('link', { name: 'Wallet' }).click();
  await page.getByTestId('balance-EUR').filter({ hasText: '€40.00' }).waitFor();
  await page.getByRole('group', { name: 'Deposit or withdraw' }).getByRole('button', { name: 'Withdraw' }).click();
  await page.getByLabel('Amount').fill('15');
  await page.locator('form').getByRole('button', { name: 'Withdraw' }).click();
  await page.getByText('Withdrew €15.00.').waitFor();
  await page.getByTestId('balance-EUR').filter({ hasText: '€25.00' }).waitFor();
  await page.locator('table[aria-label="Payments"] tbody tr').first().filter({ hasText: '-€15.00' }).waitFor();
  await shots('wallet');
});

run.check('accessibility: wallet (title, axe in light and dark)', async () => {
  assert((await page.title()) === `Wallet · ${tenantForm.renamed} · Atrium`, `title: ${await page.title()}`);
  return axeBoth(page, 'wallet');
});

run.check("member: the tenants admin URL shows \"You don't have access\"", async () => {
  await page.goto(`${BASE}/app/tenants`);
  await page.getByRole('heading', { name: "You don't have access" }).waitFor();
  assert((await page.title()) === 'No access · Atrium', `title: ${await page.title()}`);
  assert((await page.locator('table[aria-label="Tenants"]').count()) === 0, 'the tenants table is shown');
  await screenshot(page, 'access-denied-desktop');
  await page.setViewportSize(PHONE);
  await screenshot(page, 'access-denied-phone');
  await page.setViewportSize(DESKTOP);
  await page.goto(`${BASE}/app/tenants/${tenantId}/audit`);
  await page.getByRole('heading', { name: "You don't have access" }).waitFor();
});

run.check('member: the API refuses tenant administration with 403', async () => {
  const r = await page.evaluate(async () => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('atrium_csrf='))?.slice('atrium_csrf='.length) ?? '';
    const post = await fetch('/v1/tenants', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf) },
      body: JSON.stringify({ slug: 'never-made', name: 'Never', aad_tenant_id: crypto.randomUUID() }),
    });
    return post.status;
  });
  assert(r === 403, `POST /v1/tenants as a member answered ${r}`);
});

run.check('member: admin screens are refused, in the portal and by the API', async () => {
  for (const path of ['/namespaces', '/ledger', '/billing', '/payments', '/settings']) {
    await page.goto(`${BASE}${tp(path)}`);
    await page.getByRole('heading', { name: "You don't have access" }).waitFor();
  }
  const ledger = await fromPage('GET', `/v1/tenants/${tenantId}/ledger`);
  assert(ledger.status === 403, `GET ledger as a member answered ${ledger.status}`);
  const ev = await fromPage('POST', `/v1/tenants/${tenantId}/events/${eventId}/result`, { winning_selection: 'tigers' });
  assert(ev.status === 403, `POST result as a member answered ${ev.status}`);
});

// From here the tenant admin works in a second browser (its own profile and
// session) while the member's page stays open on "My bets".
let admin; // { page, problems, close }

run.check('member keeps "My bets" open; the admin, in another browser, closes betting and posts the result', async () => {
  await nav().getByRole('link', { name: 'My bets' }).click();
  await page.waitForURL(at(tp('/bets')));
  await page.locator('table[aria-label="Bets"] tbody tr').first().getByTestId('bet-status').locator('.badge', { hasText: 'accepted' }).waitFor();
  admin = await launch({ viewport: DESKTOP });
  const a = admin.page;
  await signIn(tenantForm.aad, adminOid, ['tenant_admin'], a);
  await a.goto(`${BASE}${tp(`/events/${eventId}`)}`);
  await a.getByRole('heading', { name: 'Manage the event' }).waitFor();
  await a.locator('tr[data-bet]').filter({ hasText: 'accepted' }).waitFor();
  const closed = a.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}/events/${eventId}` && r.request().method() === 'PATCH');
  await a.getByRole('button', { name: 'Close betting' }).click();
  const c = await closed;
  assert(c.status() === 200 && c.request().headers()['if-match'], `PATCH status answered ${c.status()} (If-Match: ${c.request().headers()['if-match']})`);
  await a.getByText('Betting is closed.').waitFor();
  await a.getByRole('heading', { level: 1 }).locator('..').locator('.badge', { hasText: 'closed' }).waitFor();
  await a.getByLabel('Winner').selectOption('lions');
  await a.getByRole('button', { name: 'Post result' }).click();
  const posted = a.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}/events/${eventId}/result`);
  await a.getByRole('button', { name: 'Post result' }).click();
  const resp = await posted;
  assert(resp.status() === 202, `POST result answered ${resp.status()}: ${await resp.text()}`);
  const sent = resp.request().headers();
  assert(sent['if-match'] && sent['idempotency-key'], 'the result carried no If-Match or Idempotency-Key');
  await a.getByTestId('event-result').filter({ hasText: 'Every bet was settled' }).waitFor({ timeout: 60_000 });
  await a.getByTestId('notices').getByText(`All bets on “${EVENT.name}” are settled.`).waitFor({ timeout: 30_000 });
  await a.locator('tr[data-bet]').filter({ hasText: 'won' }).waitFor();
  await shots('event-settled', { on: a });
});

run.check('member sees the bet settle as won, live, with its payout; the wallet grew by it', async () => {
  const row = page.locator('table[aria-label="Bets"] tbody tr').first();
  await row.getByTestId('bet-status').locator('.badge', { hasText: 'won' }).waitFor({ timeout: 30_000 });
  const text = await row.textContent();
  assert(text.includes('€24.00') && !text.includes('up to'), `row: ${text}`);
  await shots('bets');
  await nav().getByRole('link', { name: 'Wallet' }).click();
  await page.getByTestId('balance-EUR').filter({ hasText: '€49.00' }).waitFor();
  const w = await fromPage('GET', `/v1/tenants/${tenantId}/wallet`);
  assert(w.body.balances.length === 1 && w.body.balances[0].available_minor === 5000 - 1000 - 1500 + 2400, `wallet: ${JSON.stringify(w.body)}`);
  return '€50.00 − €10.00 − €15.00 + €24.00 = €49.00, seen without reloading';
});

run.check('admin: the ledger has the deposit, stake, withdrawal and payout; entries sum to zero', async () => {
  const a = admin.page;
  await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ledger' }).click();
  await a.waitForURL(at(tp('/ledger')));
  const table = a.locator('table[aria-label="Ledger transactions"]');
  await table.locator('tbody tr[data-kind="payout"]').waitFor();
  const kinds = await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
  assert(kinds.join() === 'payout,withdrawal,stake,deposit', `kinds, newest first: ${kinds.join(', ')}`);
  const api = await fromPage('GET', `/v1/tenants/${tenantId}/ledger`, undefined, a);
  for (const t of api.body.data) {
    const sum = t.entries.reduce((x, e) => x + e.amount_minor, 0);
    assert(sum === 0 && t.user_id === memberId, `transaction ${t.kind} sums to ${sum}, member ${t.user_id}`);
  }
  await shots('ledger', { on: a });
  await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments' }).click();
  await a.locator('table[aria-label="Payments"] tbody tr').nth(1).waitFor();
  await a.locator('table[aria-label="Payments"] tbody tr').first().getByRole('button').click();
  await a.getByRole('heading', { name: /Wallet of member/ }).waitFor();
  await a.getByTestId('balance-EUR').filter({ hasText: '€49.00' }).waitFor();
  await shots('payments', { phone: false, on: a });
  return kinds.join(', ');
});

run.check("ledger: chart of the members' wallets over time (€50.00, €40.00, €25.00, €49.00) with its text alternative; axe", async () => {
  const a = admin.page;
  await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ledger' }).click();
  await a.waitForURL(at(tp('/ledger')));
  const summary = await chart('chart-balance-EUR', a);
  assert(/€49\.00 now/.test(summary) && /lowest €25\.00/.test(summary) && /highest €50\.00/.test(summary), `summary: ${summary}`);
  const cells = (await a.getByTestId('chart-balance-EUR').locator('details table tbody td.num').allTextContents()).map((t) => t.trim());
  assert(cells.join('|') === '€50.00|€40.00|€25.00|€49.00', `balances in the table: ${cells.join(', ')}`);
  await shots('ledger-chart', { on: a, phone: false });
  return `${summary} ${await axeBoth(a, 'ledger')}`;
});

run.check('admin changes odds (PATCH, If-Match) and cancels another event (If-Match, Idempotency-Key)', async () => {
  const a = admin.page;
  const token = await mint(IDP, { tid: tenantForm.aad, oid: adminOid, roles: ['tenant_admin'] });
  const starts = new Date(Date.now() + 86_400_000).toISOString();
  const made = await request(`${BASE}/v1/tenants/${tenantId}/events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Idempotency-Key': randomUUID() },
    body: { name: `Rained off ${suffix}`, sport: 'cricket', starts_at: starts, status: 'open', selections: [{ key: 'home', name: 'Home', odds: '1.90' }, { key: 'away', name: 'Away', odds: '1.95' }] },
  });
  assert(made.status === 201, `POST events answered ${made.status}: ${made.text}`);
  await a.goto(`${BASE}${tp(`/events/${made.body.id}`)}`);
  await a.getByRole('button', { name: 'Change odds' }).click();
  await a.getByLabel('Odds of Away').fill('2.05');
  const patched = a.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}/events/${made.body.id}` && r.request().method() === 'PATCH');
  await a.getByRole('button', { name: 'Save odds' }).click();
  const p = await patched;
  assert(p.status() === 200 && JSON.stringify(p.request().postDataJSON()) === JSON.stringify({ selections: [{ key: 'away', odds: '2.05' }] }), `PATCH odds: ${p.status()} ${p.request().postData()}`);
  await a.getByTestId('odds-away').filter({ hasText: '2.05' }).waitFor();
  await a.getByRole('button', { name: 'Cancel event' }).click();
  const cancelled = a.waitForResponse((r) => r.url() === `${BASE}/v1/tenants/${tenantId}/events/${made.body.id}/cancel`);
  await a.getByRole('button', { name: 'Cancel event' }).click();
  const c = await cancelled;
  assert(c.status() === 202 && c.request().headers()['if-match'] && c.request().headers()['idempotency-key'], `cancel answered ${c.status()}`);
  await a.getByText('This event was cancelled.').waitFor();
  await a.getByText('Every stake was refunded.').waitFor({ timeout: 30_000 });
});

run.check('member signs out and is refused: old session, API and portal', async () => {
  const session = (await context.cookies(BASE)).find((c) => c.name === 'atrium_session')?.value;
  await signOut();
  const r = await fromPage('GET', `/v1/tenants/${tenantId}/wallet`);
  assert(r.status === 401, `GET wallet after sign-out answered ${r.status}`);
  const replay = await request(`${BASE}/v1/tenants/${tenantId}/wallet`, { headers: { Cookie: `atrium_session=${session}` } });
  assert(replay.status === 401, `the old session cookie still works (${replay.status})`);
  await page.route(`${BASE}/auth/login**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>sign-in</title><p>sign-in intercepted by the test' }),
  );
  await page.goto(`${BASE}${tp('/wallet')}`);
  await page.waitForURL((u) => u.origin === origin && u.pathname === '/auth/login' && u.searchParams.get('return_to') === tp('/wallet'));
  await page.unroute(`${BASE}/auth/login**`);
  await page.evaluate(() => sessionStorage.clear());
});

run.check('clean-up: super admin deletes the test tenant', async () => {
  await page.goto(`${BASE}/`);
  await signIn(HOME, superOid, ['super_admin']);
  await page.goto(`${BASE}/app/tenants`);
  await tenantRow().getByRole('button', { name: 'Delete' }).click();
  await tenantRow().getByRole('button', { name: 'Confirm delete' }).click();
  // It still has its approved prod namespace: offboarding (202, `deleting`)
  // deprovisions that first, and only then is the tenant deleted.
  await page.getByText(`Tenant “${tenantForm.renamed}” is being deleted`, { exact: false }).waitFor();
  await tenantRow().locator('.badge', { hasText: 'deleting' }).waitFor();
  assert((await tenantRow().getByRole('button', { name: 'Delete' }).count()) === 0, 'a tenant being deleted offers Delete again');
  let status;
  for (let i = 0; i < 240 && status !== 'deleted'; i++) {
    status = (await fromPage('GET', `/v1/tenants/${tenantId}`)).body?.status;
    if (status !== 'deleted') await new Promise((r) => setTimeout(r, 500));
  }
  assert(status === 'deleted', `the tenant is ${status} after its offboarding`);
  await page.reload();
  await tenantRow().waitFor({ state: 'detached' });
});

run.check('no CSP violations or script errors in the browsers', async () => {
  const all = [...problems, ...(admin ? admin.problems : [])];
  assert(all.length === 0, all.join(' | '));
});

await run.run(() => Promise.all([b.close(), admin ? admin.close() : undefined]));
