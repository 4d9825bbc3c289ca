// Mints N Entra-shaped tokens for the cold-path benchmark, signed with the
// local identity provider's own key (RUNDIR/idp/keys.json), so every
// request carries a token the server has never seen.
// usage: node bench/tokens.mjs KEYS_JSON N TID AUD IDP_BASE > tokens.txt
import { readFileSync } from 'node:fs';
import { createPrivateKey, createSign, randomUUID } from 'node:crypto';

const [keysPath, nStr, tid, aud, idp] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(keysPath, 'utf8'));
const jwk = (doc.keys ?? doc)[0];
const key = createPrivateKey({ key: jwk, format: 'jwk' });
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const header = b64({ alg: 'RS256', typ: 'JWT', kid: jwk.kid });
const out = [];
for (let i = 0; i < Number(nStr); i++) {
  const oid = randomUUID();
  const payload = b64({ iss: `${idp}/${tid}/v2.0`, aud, tid, oid, sub: oid, ver: '2.0',
    iat: now, nbf: now, exp: now + 3600, roles: ['tenant_admin'], uti: randomUUID() });
  const s = createSign('RSA-SHA256');
  s.update(`${header}.${payload}`);
  out.push(`${header}.${payload}.${s.sign(key).toString('base64url')}`);
}
process.stdout.write(out.join('\n') + '\n');
