// The portal's sign-in: /auth/login -> identity provider -> /auth/callback,
// then cookie-authenticated reads and writes (CSRF), and /auth/logout.
export default async function signIn({ call, expect, HOME, BASE, randomUUID }) {
  const hint = `${HOME}:${randomUUID()}:super_admin`;
  const login = await call('sign-in: login', {
    path: `/auth/login?return_to=/app/tenants&login_hint=${encodeURIComponent(hint)}`,
  }, 302);
  const authorize = login.headers.location;
  // The browser that starts a sign-in gets a pre-auth cookie; the callback
  // must carry it (login CSRF).
  const preAuth = [].concat(login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0])
    .find((c) => c.startsWith('__Host-atrium_login='));
  expect(login, 'sets the __Host- pre-auth cookie', typeof preAuth === 'string'
    && [].concat(login.headers['set-cookie']).some((c) => c.startsWith('__Host-atrium_login=') && /HttpOnly/.test(c) && /Secure/.test(c) && /Path=\//.test(c)));
  expect(login, 'redirects to the authorize endpoint with PKCE S256',
    typeof authorize === 'string' && authorize.includes('code_challenge_method=S256'));
  await call('sign-in: offsite return_to', { path: '/auth/login?return_to=//evil.example/' }, 400);

  // The identity provider answers /authorize with a redirect carrying the code.
  const idp = await fetch(authorize, { redirect: 'manual' });
  const callbackUrl = new URL(idp.headers.get('location'));
  const cb = await call('sign-in: callback', { path: callbackUrl.pathname + callbackUrl.search, headers: { Cookie: preAuth } }, 302);
  expect(cb, 'back to return_to', cb.headers.location === '/app/tenants');
  const setCookie = [].concat(cb.headers['set-cookie'] ?? []);
  const cookie = (name) => setCookie.map((c) => c.split(';')[0]).find((c) => c.startsWith(`${name}=`));
  const session = cookie('atrium_session');
  const csrf = cookie('atrium_csrf')?.split('=')[1];
  expect(cb, 'sets the HttpOnly session cookie', setCookie.some((c) => c.startsWith('atrium_session=') && /HttpOnly/.test(c) && /Secure/.test(c) && /SameSite=Lax/.test(c)));
  await call('sign-in: callback replayed', { path: callbackUrl.pathname + callbackUrl.search, headers: { Cookie: preAuth } }, 400);

  // A callback from a browser that did not start the sign-in is refused.
  const login2 = await call('sign-in: login (another)', {
    path: `/auth/login?login_hint=${encodeURIComponent(hint)}`,
  }, 302);
  const idp2 = await fetch(login2.headers.location, { redirect: 'manual' });
  const cb2 = new URL(idp2.headers.get('location'));
  const refused = await call('sign-in: callback without the pre-auth cookie', { path: cb2.pathname + cb2.search }, 400);
  expect(refused, 'names why', refused.body?.type?.endsWith('sign-in-not-started-here'));

  const headers = { Cookie: `${session}; atrium_csrf=${csrf}` };
  const me = await call('cookie: me', { path: '/v1/me', headers }, 200);
  expect(me, 'auth is cookie', me.body?.auth === 'cookie');
  await call('cookie: write without CSRF token', { method: 'POST', path: '/v1/tenants', headers, json: {} }, 403);
  await call('cookie: write with CSRF token', {
    method: 'POST', path: '/v1/tenants', json: {},
    headers: { ...headers, Origin: BASE, 'X-CSRF-Token': csrf },
  }, 422);
  await call('cookie: logout', { method: 'POST', path: '/auth/logout', headers: { ...headers, Origin: BASE, 'X-CSRF-Token': csrf } }, 204);
  await call('cookie: after logout', { path: '/v1/me', headers }, 401);
}
