#!/usr/bin/env node
// Atrium's portal end to end in Debian's headless Chromium (playwright-core),
// against the real stack: `atrium serve` (serving web/dist), the local
// identity provider (tests/idp), PostgreSQL and Redis.
//
// Environment (docs/CONTRACT.md; exported by scripts/test):
//   ATRIUM_TEST_BASE_URL   the portal/API origin (default https://127.0.0.1:28443)
//   ATRIUM_TEST_IDP_URL    the identity provider (default http://127.0.0.1:28080)
//   ATRIUM_HOME_TENANT_ID  the operator's directory (its users may be super_admin)
//
// Sign-in goes through the real flow: /auth/login -> the IdP's /authorize
// (which redirects straight back with a code for the user named by
// login_hint=tid:oid:roles) -> /auth/callback -> the portal.
// One line per check, then "N passed, M failed"; exit status 0 only when all
// passed. Screenshots: tests/artifacts/browser/*.png.
import { randomUUID } from 'node:crypto';
import { assert, checks, DESKTOP, fatal, launch, PHONE, probe, screenshot } from './lib.mjs';

const BASE = (process.env.ATRIUM_TEST_BASE_URL || 'https://127.0.0.1:28443').replace(/\/+$/, '');
const IDP = (process.env.ATRIUM_TEST_IDP_URL || 'http://127.0.0.1:28080').replace(/\/+$/, '');
const HOME = process.env.ATRIUM_HOME_TENANT_ID;
if (!HOME) fatal('ATRIUM_HOME_TENANT_ID is not set (the operator directory whose users may be super_admin; see docs/CONTRACT.md)');

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
  fatal(`${BASE}/ does not serve the portal (status ${index.status}): build it (npm --prefix web ci && npm --prefix web run build) so atrium serve finds web/dist`);
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
  renamed: `Browser Test ${suffix} Renamed`,
};
const superOid = randomUUID();
const memberOid = randomUUID();
let tenantId;
let oldSession;

async function signIn(tid, oid, roles) {
  const hint = `${tid}:${oid}:${roles.join(',')}`;
  await page.goto(`${BASE}/auth/login?return_to=${encodeURIComponent('/app')}&login_hint=${encodeURIComponent(hint)}`);
  await page.waitForURL(at('/app'));
  await page.getByTestId('whoami-name').waitFor();
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

run.check('Tenants screen opens from the navigation', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tenants' }).click();
  await page.waitForURL(at('/app/tenants'));
  await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
  await page.locator('table[aria-label="Tenants"], p.empty').first().waitFor();
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
  tenantId = (await resp.json()).id;
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

run.check('member: no Tenants, Settings or Audit log in the navigation', async () => {
  const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
  for (const admin of ['Tenants', 'Settings', 'Audit log']) assert(!links.includes(admin), `member sees "${admin}" (links: ${links.join(', ')})`);
  assert((await page.getByRole('button', { name: 'New tenant' }).count()) === 0, 'member sees "New tenant"');
  return links.join(', ');
});

run.check("member: the tenants admin URL shows \"You don't have access\"", async () => {
  await page.goto(`${BASE}/app/tenants`);
  await page.getByRole('heading', { name: "You don't have access" }).waitFor();
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

run.check('clean-up: super admin deletes the test tenant', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(at('/'));
  await signIn(HOME, superOid, ['super_admin']);
  await page.goto(`${BASE}/app/tenants`);
  await tenantRow().getByRole('button', { name: 'Delete' }).click();
  await tenantRow().getByRole('button', { name: 'Confirm delete' }).click();
  await page.getByText(`Tenant “${tenantForm.renamed}” deleted.`).waitFor();
  await tenantRow().waitFor({ state: 'detached' });
});

run.check('no CSP violations or script errors in the browser', async () => {
  assert(problems.length === 0, problems.join(' | '));
});

await run.run(() => b.close());
