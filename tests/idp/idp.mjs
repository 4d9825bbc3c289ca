#!/usr/bin/env node
// Local Entra ID-shaped OpenID provider for Atrium's local runs and tests.
//
// A thin layer over oauth2-mock-server (from npm) (v8), used as a
// library: its OAuth2Issuer holds the RS256 signing key(s) and signs every
// token (its buildToken), its OAuth2Service serves /token, /authorize,
// /endsession, /userinfo, /revoke, /introspect. This file adds what makes it
// look like Microsoft Entra ID:
//
//   GET  /.well-known/openid-configuration               (= common, v2.0)
//   GET  /{tenant}/v2.0/.well-known/openid-configuration  v2 discovery
//   GET  /{tenant}/.well-known/openid-configuration       v1 discovery
//        issuer: http://HOST:PORT/{tenantid}/v2.0 (v2) or
//                http://HOST:PORT/sts/{tenantid}/ (v1), with the literal
//        text "{tenantid}" for common/organizations/consumers (as Entra does)
//        and the tenant id itself when {tenant} is a GUID.
//   GET  /{tenant}/discovery/v2.0/keys, /{tenant}/discovery/keys, /jwks
//        JWKS (kid, kty, n, e, use "sig", alg "RS256").
//   POST /{tenant}/oauth2/v2.0/token, /{tenant}/oauth2/token, /token
//   GET  /{tenant}/oauth2/v2.0/authorize, /authorize
//   GET  /{tenant}/oauth2/v2.0/logout, /endsession
//   POST /mint      JSON {tid, oid?, roles?, aud?, ver?, exp_in?, nbf_in?,
//                   iss?, name?, preferred_username?, scp?, nonce?, azp?,
//                   kid?, claims?} -> {access_token, token_type, expires_in}
//   POST /keys/rotate   adds a new signing key; returns {kid}; the JWKS then
//                   lists every key and /mint signs with the newest unless
//                   told a kid (tests of key rollover).
//   GET  /healthz
//
// Environment: IDP_HOST (127.0.0.1), IDP_PORT (28080), IDP_PUBLIC_URL
// (http://IDP_HOST:IDP_PORT), IDP_DEFAULT_AUDIENCE (api://atrium),
// IDP_DEFAULT_CLIENT_ID (00000000-0000-4000-8000-00000000a7a1),
// IDP_DEMO_TID (11111111-1111-4111-8111-111111111111),
// IDP_DEMO_OID (22222222-2222-4222-8222-222222222222),
// IDP_DEMO_ROLES (tenant_admin; the roles of a browser sign-in that names no
// login_hint), IDP_KEY_FILE (optional: the signing keys are kept there, so a
// restarted IdP signs with the same kid).

import http from 'node:http';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';

const HOST = process.env.IDP_HOST || '127.0.0.1';
const PORT = Number.parseInt(process.env.IDP_PORT || '28080', 10);
const BASE = (process.env.IDP_PUBLIC_URL || `http://${HOST.includes(':') ? `[${HOST}]` : HOST}:${PORT}`).replace(/\/+$/, '');
const DEFAULT_AUDIENCE = process.env.IDP_DEFAULT_AUDIENCE || 'api://atrium';
const DEFAULT_CLIENT_ID = process.env.IDP_DEFAULT_CLIENT_ID || '00000000-0000-4000-8000-00000000a7a1';
const DEMO_TID = process.env.IDP_DEMO_TID || '11111111-1111-4111-8111-111111111111';
const DEMO_OID = process.env.IDP_DEMO_OID || '22222222-2222-4222-8222-222222222222';
const DEMO_ROLES = splitList(process.env.IDP_DEMO_ROLES ?? 'tenant_admin');
const KEY_FILE = process.env.IDP_KEY_FILE || '';
const MAX_BODY = 64 * 1024;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

// ---------------------------------------------------------------- helpers

function splitList(s) {
  if (s === undefined || s === null) return [];
  return String(s).split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
}

function issuerFor(tid, ver) {
  return ver === '1.0' ? `${BASE}/sts/${tid}/` : `${BASE}/${tid}/v2.0`;
}

function log(line) {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

class HttpError extends Error {
  constructor(status, error, description) {
    super(description);
    this.status = status;
    this.error = error;
  }
}

function sendJson(res, status, body, extraHeaders = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(data),
    'Cache-Control': 'no-store',
    ...extraHeaders,
  });
  res.end(data);
}

async function readJsonBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'invalid_request', 'body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_request', 'body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_request', 'body must be a JSON object');
  }
  return body;
}

function optString(body, field) {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, 'invalid_request', `'${field}' must be a string`);
  return v;
}

function optInt(body, field, dflt) {
  const v = body[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new HttpError(400, 'invalid_request', `'${field}' must be a number (seconds)`);
  }
  return Math.trunc(v);
}

// ---------------------------------------------------------------- keys

const issuer = new OAuth2Issuer();
issuer.url = BASE; // replaced per token by the Entra-shaped issuer below

function newRsaJwk() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  // kid: the RFC 7638 thumbprint, base64url, like Entra's short key ids.
  const thumb = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return { ...jwk, kid: thumb.slice(0, 27), alg: 'RS256' };
}

let keyOrder = []; // kids, oldest first

function saveKeys() {
  if (!KEY_FILE) return;
  const tmp = `${KEY_FILE}.tmp`;
  writeFileSync(tmp, JSON.stringify({ keys: issuer.keys.toJSON(true) }, null, 1), { mode: 0o600 });
  renameSync(tmp, KEY_FILE);
}

async function addKey(jwk) {
  await issuer.keys.add(jwk);
  keyOrder.push(jwk.kid);
}

async function loadOrCreateKeys() {
  if (KEY_FILE && existsSync(KEY_FILE)) {
    const saved = JSON.parse(readFileSync(KEY_FILE, 'utf8'));
    for (const k of saved.keys ?? []) await addKey(k);
  }
  if (keyOrder.length === 0) {
    await addKey(newRsaJwk());
    saveKeys();
  }
}

function newestKid() {
  return keyOrder[keyOrder.length - 1];
}

function publicJwks() {
  return {
    keys: issuer.keys.toJSON().map((k) => ({
      kty: k.kty,
      use: 'sig',
      kid: k.kid,
      alg: k.alg,
      n: k.n,
      e: k.e,
    })),
  };
}

// The one way a token gets signed: oauth2-mock-server's issuer.buildToken,
// with a transform that writes the Entra-shaped claims. The key used is one of
// the issuer's keys, i.e. one the JWKS lists; the header carries typ, kid and
// alg (the library sets them).
async function signToken(claims, kid) {
  return issuer.buildToken({
    kid: kid ?? newestKid(),
    expiresIn: 3600,
    scopesOrTransform: (header, payload) => {
      for (const k of Object.keys(payload)) delete payload[k];
      Object.assign(payload, claims);
    },
  });
}

// ---------------------------------------------------------------- /mint

function buildClaims(body) {
  const tid = optString(body, 'tid');
  if (!tid) throw new HttpError(400, 'invalid_request', "'tid' is required");
  const oid = optString(body, 'oid') ?? randomUUID();
  const ver = optString(body, 'ver') ?? '2.0';
  if (ver !== '2.0' && ver !== '1.0') throw new HttpError(400, 'invalid_request', "'ver' must be \"2.0\" or \"1.0\"");
  const aud = body.aud ?? DEFAULT_AUDIENCE;
  if (typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) {
    throw new HttpError(400, 'invalid_request', "'aud' must be a string");
  }
  let roles = body.roles;
  if (typeof roles === 'string') roles = splitList(roles);
  if (roles !== undefined && roles !== null
      && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) {
    throw new HttpError(400, 'invalid_request', "'roles' must be an array of strings");
  }
  const expIn = optInt(body, 'exp_in', 3600);
  const nbfIn = optInt(body, 'nbf_in', 0);
  const azp = optString(body, 'azp') ?? DEFAULT_CLIENT_ID;
  const now = Math.floor(Date.now() / 1000);
  const short = oid.slice(0, 8);

  const c = {
    aud,
    iss: optString(body, 'iss') ?? issuerFor(tid, ver),
    iat: now,
    nbf: now + nbfIn,
    exp: now + expIn,
  };
  const name = optString(body, 'name') ?? `Test User ${short}`;
  const upn = optString(body, 'preferred_username') ?? `user-${short}@example.com`;
  c.name = name;
  c.oid = oid;
  if (ver === '2.0') {
    c.azp = azp;
    c.azpacr = '1';
    c.preferred_username = upn;
  } else {
    c.appid = azp;
    c.appidacr = '1';
    c.upn = upn;
    c.unique_name = upn;
  }
  if (roles && roles.length > 0) c.roles = roles;
  const scp = optString(body, 'scp');
  if (scp !== undefined) c.scp = scp;
  const nonce = optString(body, 'nonce');
  if (nonce !== undefined) c.nonce = nonce;
  c.sub = oid;
  c.tid = tid;
  c.uti = randomUUID().replace(/-/g, '').slice(0, 22);
  c.ver = ver;

  // claims: raw overrides, applied last; a null value removes the claim.
  if (body.claims !== undefined) {
    if (body.claims === null || typeof body.claims !== 'object' || Array.isArray(body.claims)) {
      throw new HttpError(400, 'invalid_request', "'claims' must be an object");
    }
    for (const [k, v] of Object.entries(body.claims)) {
      if (v === null) delete c[k];
      else c[k] = v;
    }
  }
  return { claims: c, expiresIn: expIn };
}

async function handleMint(req, res) {
  const body = await readJsonBody(req);
  const { claims, expiresIn } = buildClaims(body);
  const kid = optString(body, 'kid');
  if (kid !== undefined && !keyOrder.includes(kid)) {
    throw new HttpError(400, 'invalid_request', `unknown kid '${kid}'`);
  }
  const token = await signToken(claims, kid);
  sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });
}

async function handleRotate(req, res) {
  await readJsonBody(req);
  const jwk = newRsaJwk();
  await addKey(jwk);
  saveKeys();
  sendJson(res, 200, { kid: jwk.kid, kids: [...keyOrder] });
}

// ---------------------------------------------------------------- discovery

function discovery(tenant, ver) {
  const t = tenant || 'common';
  const isGuid = GUID.test(t);
  const tidPart = isGuid ? t.toLowerCase() : '{tenantid}';
  const v2 = ver === '2.0';
  const oauth = v2 ? `${BASE}/${t}/oauth2/v2.0` : `${BASE}/${t}/oauth2`;
  return {
    token_endpoint: `${oauth}/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    jwks_uri: v2 ? `${BASE}/${t}/discovery/v2.0/keys` : `${BASE}/${t}/discovery/keys`,
    response_modes_supported: ['query'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: issuerFor(tidPart, ver),
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${BASE}/oidc/userinfo`,
    authorization_endpoint: `${oauth}/authorize`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${oauth}/logout`,
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token', 'password'],
    code_challenge_methods_supported: ['plain', 'S256'],
    claims_supported: [
      'sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'auth_time', 'nonce', 'name',
      'preferred_username', 'oid', 'tid', 'roles', 'ver', 'azp',
    ],
    tenant_region_scope: null,
    cloud_instance_name: 'microsoftonline.com',
  };
}

// ---------------------------------------------------------------- /token hooks

const service = new OAuth2Service(issuer);

// code -> {tid, oid, roles, username, scope} from /authorize (login_hint, scope)
const codeHints = new Map();
// token request -> number of tokens signed for it so far (access, then id)
const signCount = new WeakMap();

function parseLoginHint(hint) {
  if (typeof hint !== 'string' || hint === '') return undefined;
  if (!hint.includes(':')) return { username: hint };
  const [tid, oid, roles] = hint.split(':');
  return {
    tid: tid || undefined,
    oid: oid || undefined,
    roles: roles !== undefined ? splitList(roles) : undefined,
  };
}

service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const code = redirect.url.searchParams.get('code');
  const hint = parseLoginHint(req.query?.login_hint) ?? {};
  const scope = typeof req.query?.scope === 'string' ? req.query.scope : undefined;
  if (code) {
    codeHints.set(code, { ...hint, scope, at: Date.now() });
    // forget codes nobody redeemed (10 minutes)
    for (const [c, h] of codeHints) if (Date.now() - h.at > 600_000) codeHints.delete(c);
  }
});

service.on('beforeTokenSigning', (token, req) => {
  const body = req.body ?? {};
  const grant = body.grant_type;
  const n = (signCount.get(req) ?? 0) + 1;
  signCount.set(req, n);
  const isIdToken = grant !== 'client_credentials' && n === 2;

  const hint = body.code ? codeHints.get(body.code) : undefined;
  const pathTid = req.atriumPathTenant && GUID.test(req.atriumPathTenant)
    ? req.atriumPathTenant.toLowerCase() : undefined;
  const userFlow = grant !== 'client_credentials';

  const tid = body.tid || hint?.tid || pathTid || DEMO_TID;
  const oid = body.oid || hint?.oid || (userFlow ? DEMO_OID : randomUUID());
  let roles;
  if (body.roles !== undefined) roles = splitList(body.roles);
  else if (hint?.roles !== undefined) roles = hint.roles;
  else if (grant === 'authorization_code' || grant === 'refresh_token') roles = DEMO_ROLES;
  const ver = body.ver === '1.0' || req.atriumTokenVer === '1.0' ? '1.0' : '2.0';

  const p = token.payload;
  const clientId = body.client_id || DEFAULT_CLIENT_ID;
  // the token request's scope, else the one asked for at /authorize (the
  // library puts "dummy" there for code grants that name none)
  const scope = (typeof body.scope === 'string' && body.scope) || hint?.scope || '';
  delete p.scope;
  delete p.amr;

  if (isIdToken) {
    // ID token: aud is the client, v2.0 claims, nonce kept from the library.
    p.aud = p.aud || clientId;
  } else if (body.aud) {
    p.aud = body.aud;
  } else if (body.resource) {
    p.aud = body.resource; // v1 endpoint style
  } else {
    // Entra derives the audience from the resource in the scope:
    // "api://atrium/.default" or "api://atrium/Bets.Read" -> "api://atrium".
    const resource = splitList(scope).map((s) => s.match(/^(.*)\/[^/]+$/)?.[1]).find(Boolean);
    p.aud = resource || DEFAULT_AUDIENCE;
  }
  p.iss = issuerFor(tid, isIdToken ? '2.0' : ver);
  p.nbf = p.iat;
  p.tid = tid;
  p.oid = oid;
  p.sub = oid;
  if (roles && roles.length > 0) p.roles = roles;
  p.ver = isIdToken ? '2.0' : ver;
  p.uti = randomUUID().replace(/-/g, '').slice(0, 22);
  if (userFlow) {
    const username = hint?.username || body.username || `user-${oid.slice(0, 8)}@example.com`;
    p.name = body.name || `Test User ${oid.slice(0, 8)}`;
    p.preferred_username = username;
    if (!isIdToken) {
      const scp = splitList(scope).filter((s) => !OIDC_SCOPES.has(s)).map((s) => s.replace(/^.*\//, ''));
      if (scp.length > 0) p.scp = scp.join(' ');
    }
  } else {
    p.idtyp = 'app';
  }
  if (!isIdToken) {
    if (ver === '1.0') p.appid = clientId; else p.azp = clientId;
  }
});

service.on('beforeResponse', (_response, req) => {
  const code = req.body?.code;
  if (code) codeHints.delete(code);
});

// ---------------------------------------------------------------- routing

const libHandler = service.requestHandler;

// Entra-shaped paths -> oauth2-mock-server's own endpoints
function rewriteForLibrary(req, path, query) {
  let m;
  if ((m = path.match(/^\/([^/]+)\/oauth2\/(v2\.0\/)?token\/?$/))) {
    req.atriumPathTenant = decodeURIComponent(m[1]);
    req.atriumTokenVer = m[2] ? '2.0' : '1.0';
    return `/token${query}`;
  }
  if ((m = path.match(/^\/([^/]+)\/oauth2\/(v2\.0\/)?authorize\/?$/))) return `/authorize${query}`;
  if ((m = path.match(/^\/([^/]+)\/oauth2\/(v2\.0\/)?logout\/?$/))) return `/endsession${query}`;
  if (path === '/oidc/userinfo') return `/userinfo${query}`;
  return undefined;
}

async function route(req, res) {
  const u = new URL(req.url, 'http://x');
  const path = u.pathname;
  const query = u.search;
  const method = req.method;
  let m;

  if (method === 'GET' || method === 'HEAD') {
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/.well-known/openid-configuration') {
      return sendJson(res, 200, discovery('common', '2.0'), { 'Cache-Control': 'max-age=60' });
    }
    if ((m = path.match(/^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/))) {
      return sendJson(res, 200, discovery(decodeURIComponent(m[1]), '2.0'), { 'Cache-Control': 'max-age=60' });
    }
    if ((m = path.match(/^\/([^/]+)\/\.well-known\/openid-configuration$/))) {
      return sendJson(res, 200, discovery(decodeURIComponent(m[1]), '1.0'), { 'Cache-Control': 'max-age=60' });
    }
    if (path === '/jwks' || /^\/[^/]+\/discovery\/(v2\.0\/)?keys$/.test(path) || path === '/discovery/keys') {
      return sendJson(res, 200, publicJwks(), { 'Cache-Control': 'max-age=60' });
    }
    if (/^\/([^/]+)\/oauth2\/(v2\.0\/)?logout\/?$/.test(path) && !u.searchParams.has('post_logout_redirect_uri')) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end('signed out\n');
    }
  }
  if (method === 'POST' && path === '/mint') return handleMint(req, res);
  if (method === 'POST' && path === '/keys/rotate') return handleRotate(req, res);

  const rewritten = rewriteForLibrary(req, path, query);
  if (rewritten !== undefined) req.url = rewritten;
  return libHandler(req, res);
}

const server = http.createServer((req, res) => {
  const started = process.hrtime.bigint();
  const shownUrl = req.url;
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log(`${req.method} ${shownUrl.split('?')[0]} ${res.statusCode} ${ms.toFixed(1)}ms`);
  });
  route(req, res).catch((err) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      sendJson(res, err.status, { error: err.error, error_description: err.message });
    } else {
      log(`error: ${err?.stack || err}`);
      sendJson(res, 500, { error: 'server_error', error_description: String(err?.message || err) });
    }
  });
});
server.keepAliveTimeout = 5000;

function shutdown(sig) {
  log(`${sig}: stopping`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

await loadOrCreateKeys();
server.on('error', (err) => {
  process.stderr.write(`idp: cannot listen on ${HOST}:${PORT}: ${err.message}\n`);
  process.exit(1);
});
server.listen(PORT, HOST, () => {
  log(`idp listening on ${BASE} (keys: ${keyOrder.join(', ')})`);
});
