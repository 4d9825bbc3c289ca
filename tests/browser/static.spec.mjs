#!/usr/bin/env node
// The built portal (web/dist) in Debian's headless Chromium, without the
// Atrium server: a tiny static server here serves web/dist with the CSP
// `atrium serve` sends and answers /v1/* with 401 (signed out). Checks the
// signed-out landing page, the trip to sign-in from an app screen, the
// not-found page, and that nothing breaks the CSP. Screenshots go to
// tests/artifacts/browser/static-*.png.
//
//   node tests/browser/static.spec.mjs      (after scripts/test or scripts/up built web/dist)
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { assert, checks, DESKTOP, fatal, launch, PHONE, REPO, screenshot } from './lib.mjs';

const DIST = join(REPO, 'web', 'dist');
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

if (!existsSync(join(DIST, 'index.html'))) fatal(`${DIST}/index.html is missing: scripts/test and scripts/up build the portal (web/dist)`);

function serve() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    const common = {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (url.pathname.startsWith('/v1/') || url.pathname.startsWith('/auth/')) {
      const body = JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'Not signed in.', request_id: 'static-test' });
      res.writeHead(401, { ...common, 'Content-Type': 'application/problem+json' });
      return res.end(body);
    }
    let file = normalize(join(DIST, decodeURIComponent(url.pathname)));
    if (!file.startsWith(DIST + sep) || !existsSync(file) || statSync(file).isDirectory()) {
      if (url.pathname.startsWith('/assets/')) {
        res.writeHead(404, common);
        return res.end();
      }
      file = join(DIST, 'index.html'); // client-side routes
    }
    res.writeHead(200, { ...common, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolveP) => server.listen(0, '127.0.0.1', () => resolveP({ server, seen, base: `http://127.0.0.1:${server.address().port}` })));
}

const { server, seen, base } = await serve();
const { runAll } = { runAll: checks() };
const b = await launch({ viewport: DESKTOP });
const { page, context, problems } = b;

runAll.check('index.html has no inline script or style (CSP)', async () => {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const inlineScript = /<script(?![^>]*\bsrc=)[^>]*>\s*\S/i.test(html);
  const inlineStyle = /<style[\s>]/i.test(html) || /\sstyle=/i.test(html);
  assert(!inlineScript, 'index.html has an inline <script>');
  assert(!inlineStyle, 'index.html has inline style');
  assert(/<script type="module"[^>]*src="\/assets\/[^"]+\.js"/.test(html), 'no hashed module script under /assets/');
});

runAll.check('signed-out landing page offers "Sign in"', async () => {
  await page.goto(`${base}/`);
  await page.getByRole('heading', { name: 'Your platform, one place' }).waitFor();
  const link = page.getByRole('link', { name: 'Sign in' });
  await link.waitFor();
  const href = await link.getAttribute('href');
  assert(href === '/auth/login?return_to=%2Fapp', `Sign in goes to ${href}`);
  assert(page.url() === `${base}/`, `landing page moved to ${page.url()}`);
  assert(seen.includes('GET /v1/me'), 'the portal did not ask /v1/me who is signed in');
  await screenshot(page, 'static-landing-desktop');
});

runAll.check('landing page at phone width', async () => {
  await page.setViewportSize(PHONE);
  await page.goto(`${base}/`);
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  const box = await page.getByRole('link', { name: 'Sign in' }).boundingBox();
  assert(box && box.x >= 0 && box.x + box.width <= PHONE.width, 'Sign in button does not fit the phone width');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert(overflow <= 0, `page scrolls sideways by ${overflow}px`);
  await screenshot(page, 'static-landing-phone');
  await page.setViewportSize(DESKTOP);
});

runAll.check('an app screen while signed out goes to sign-in with return_to', async () => {
  const login = page.waitForRequest((r) => r.url().startsWith(`${base}/auth/login`) && r.isNavigationRequest());
  await page.goto(`${base}/app/tenants?status=suspended`);
  const req = await login;
  await page.waitForURL((url) => url.pathname === '/auth/login');
  const u = new URL(req.url());
  assert(u.searchParams.get('return_to') === '/app/tenants?status=suspended', `return_to=${u.searchParams.get('return_to')}`);
});

runAll.check('a second 401 right after does not loop through sign-in', async () => {
  // The browser came back from "sign-in" (here: the stub's 401) within the
  // loop window: the portal must stop and say so instead of bouncing again.
  await page.goto(`${base}/app`);
  await page.getByRole('heading', { name: 'Sign-in did not complete' }).waitFor();
  await page.evaluate(() => sessionStorage.clear());
});

runAll.check('an unknown address shows "Page not found"', async () => {
  await page.goto(`${base}/no/such/page`);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
});

runAll.check('no CSP violations or script errors', async () => {
  assert(problems.length === 0, problems.join(' | '));
  return `${seen.length} requests served`;
});

await runAll.run(async () => {
  await b.close();
  server.close();
  void context;
});
