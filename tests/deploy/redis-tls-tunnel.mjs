#!/usr/bin/env node
// Runs the redis-tls sidecar's own script (deploy/k8s/base/redis-tls-sidecar.yaml,
// as kustomize renders it into the dev overlay's atrium-serve) on this
// machine, against local TLS servers, and checks that the tunnel it starts
// works end to end and refuses what it must refuse:
//
//   - a REDIS_TLS_HOST that is not a host name (empty, UNSET(...), a line
//     break that would inject stunnel options) stops the script;
//   - the startupProbe fails before the tunnel listens and passes after;
//   - through the tunnel, plain Redis as Atrium speaks it (AUTH with an
//     access key full of + / =, SELECT, SET, GET, PING) reaches a TLS-only
//     redis-server (when redis-server is installed) and a TLS echo server
//     (openssl s_server -rev);
//   - a certificate for another host name, a certificate from a CA that is
//     not trusted, and a server that offers only TLS 1.1 are refused (no
//     byte passes, stunnel logs why);
//   - SIGTERM ends stunnel with status 0.
//
// The script is the manifest's, with only what must differ on a shared
// machine replaced (each exactly once, or the test fails): the ports
// (127.0.0.1:6379 and :6380 become free ports), the CA bundle (the system
// store becomes a CA made here; the production configuration trusts the
// system store) and the configuration's directory (the emptyDir
// /run/stunnel becomes a temporary directory). The server name is
// "localhost".
//
// Needs stunnel4 (`apt-get install -y stunnel4`: the same Debian package the
// image installs), openssl, bash; redis-server for the Redis part.
// Usage: node tests/deploy/redis-tls-tunnel.mjs
// Prints one line per check and "N passed, M failed"; exits 1 on failure.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { findKustomize, kustomizeBuild } from './tools.mjs';

const ROOT = process.env.ATRIUM_DEPLOY_ROOT || join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = new Set(process.argv.slice(2));

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} - ${name}${detail ? (ok ? ` (${detail})` : `: ${detail}`) : ''}`);
  return ok;
}
const children = new Set();
function finish() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const which = (cmd) => {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};
let tmp = null;

// ------------------------------------------------------------- the script

let sidecar;
try {
  const tool = findKustomize({ log: (s) => console.log(`# ${s}`) });
  const objs = parseAllDocuments(kustomizeBuild(tool, join(ROOT, 'deploy', 'k8s', 'overlays', 'dev'))).map((d) => d.toJS()).filter(Boolean);
  const tunnelOf = (name) => (objs.find((o) => o.kind === 'Deployment' && o.metadata.name === name)?.spec.template.spec.initContainers || [])
    .find((c) => c.restartPolicy === 'Always' && /stunnel/.test((c.args || []).join('\n')));
  const serve = tunnelOf('atrium-serve');
  const worker = tunnelOf('atrium-worker');
  check('the dev overlay renders a redis-tls sidecar in atrium-serve and atrium-worker', !!(serve && worker));
  if (!serve || !worker) finish();
  check('serve\'s and worker\'s sidecars are the same (command, args, probe)',
    JSON.stringify([serve.command, serve.args, serve.startupProbe]) === JSON.stringify([worker.command, worker.args, worker.startupProbe]));
  sidecar = serve;
} catch (e) {
  check('the dev overlay renders', false, e.message.split('\n')[0]);
  finish();
}

const stunnelBin = existsSync('/usr/bin/stunnel4') ? '/usr/bin/stunnel4' : which('stunnel4') || which('stunnel');
const missing = [['stunnel4', stunnelBin], ['openssl', which('openssl')], ['bash', which('bash')]].filter(([, p]) => !p).map(([n]) => n);
if (!check('stunnel4, openssl and bash are installed', missing.length === 0, missing.length ? `missing ${missing.join(', ')} (apt-get install -y stunnel4 openssl)` : stunnelBin)) finish();
console.log(`# ${spawnSync(stunnelBin, ['-version'], { encoding: 'utf8' }).stderr.split('\n').find((l) => /^stunnel /.test(l))}`);

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

tmp = mkdtempSync(join(tmpdir(), 'atrium-redis-tls-'));
const listenPort = await freePort();
const tlsPort = await freePort();
const runDir = join(tmp, 'run');
mkdirSync(runDir);

// Replaces `from` by `to` in s, requiring exactly `n` occurrences.
function replaceExactly(s, from, to, n, what, problems) {
  const parts = s.split(from);
  if (parts.length - 1 !== n) problems.push(`${what}: ${JSON.stringify(from)} occurs ${parts.length - 1} times, expected ${n}`);
  return parts.join(to);
}
const problems = [];
let script = sidecar.args.join('\n');
script = replaceExactly(script, '127.0.0.1:6379', `127.0.0.1:${listenPort}`, 1, 'the listening address', problems);
script = replaceExactly(script, ':6380', `:${tlsPort}`, 1, 'the Redis TLS port', problems);
script = replaceExactly(script, '/etc/ssl/certs/ca-certificates.crt', join(tmp, 'ca.crt'), 1, 'the CA bundle', problems);
script = replaceExactly(script, '/run/stunnel/', `${runDir}/`, 1, 'the configuration directory', problems);
if (stunnelBin !== '/usr/bin/stunnel4') script = replaceExactly(script, '/usr/bin/stunnel4', stunnelBin, 1, 'the stunnel binary', problems);
let probe = sidecar.startupProbe?.exec?.command || [];
probe = probe.map((a) => a.replaceAll('/dev/tcp/127.0.0.1/6379', `/dev/tcp/127.0.0.1/${listenPort}`));
if (!probe.join(' ').includes(`/${listenPort}`)) problems.push('the startupProbe does not test 127.0.0.1:6379');
const shell = sidecar.command || [];
if (JSON.stringify(shell) !== JSON.stringify(['/bin/sh', '-ec'])) problems.push(`command ${JSON.stringify(shell)}, expected ["/bin/sh", "-ec"]`);
if (!check('the script adapts to this machine (ports, CA bundle, directory replaced exactly once each)', problems.length === 0,
  problems.length ? problems.join('; ') : `127.0.0.1:${listenPort} -> localhost:${tlsPort}`)) finish();

// ------------------------------------------------------------- certificates

function openssl(args) {
  const r = spawnSync('openssl', args, { cwd: tmp, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')}: ${r.stderr.trim().split('\n').at(-1)}`);
}
function makeCa(name, cn) {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}
function makeCert(name, ca, dns) {
  writeFileSync(join(tmp, `${name}.ext`), `subjectAltName=DNS:${dns}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${dns}`]);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`]);
}
try {
  makeCa('ca', 'Atrium redis-tls test CA');
  makeCa('other-ca', 'Some other CA');
  makeCert('good', 'ca', 'localhost');
  makeCert('wrongname', 'ca', 'redis.example.org');
  makeCert('untrusted', 'other-ca', 'localhost');
  check('a test CA and server certificates (localhost; another name; another CA)', true);
} catch (e) {
  check('a test CA and server certificates', false, e.message);
  finish();
}

// ------------------------------------------------------------- helpers

function runScript(host) {
  const child = spawn('/bin/sh', ['-ec', script], {
    env: { PATH: process.env.PATH, ...(host === undefined ? {} : { REDIS_TLS_HOST: host }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.log = '';
  child.stdout.on('data', (d) => { child.log += d; });
  child.stderr.on('data', (d) => { child.log += d; });
  child.exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return child;
}
const probeOk = () => spawnSync(probe[0], probe.slice(1), { timeout: 3000 }).status === 0;
async function until(fn, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await fn()) return true; await sleep(50); }
  return false;
}
function startServer(cmd, args) {
  const child = spawn(cmd, args, { cwd: tmp, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.log = '';
  child.stdout.on('data', (d) => { child.log += d; });
  child.stderr.on('data', (d) => { child.log += d; });
  child.exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return child;
}
async function stop(child) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.race([child.exited, sleep(3000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.delete(child);
}
const tlsUp = () => new Promise((resolve) => {
  const s = connect(tlsPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});
// Sends `data` through the tunnel; resolves with what came back before the
// connection closed or `ms` passed.
function exchange(data, ms = 3000, until = () => false) {
  return new Promise((resolve) => {
    let got = '';
    const s = connect(listenPort, '127.0.0.1', () => s.write(data));
    const done = (why) => { clearTimeout(t); s.destroy(); resolve({ got, why }); };
    const t = setTimeout(() => done('timeout'), ms);
    s.on('data', (d) => { got += d; if (until(got)) done('complete'); });
    s.on('end', () => done('closed'));
    s.on('error', (e) => done(e.code));
  });
}

// ------------------------------------------------------------- the checks

// Host names the script must refuse before writing anything.
{
  const bad = [];
  for (const h of [undefined, '', 'UNSET(terraform output redis_host)', 'a.example\nverifyChain = no', '.example', 'example.', 'host:6380']) {
    const c = runScript(h);
    const { code } = await c.exited;
    children.delete(c);
    if (code !== 1 || !/is not a host name/.test(c.log)) bad.push(`${JSON.stringify(h)}: exit ${code} ${c.log.trim().split('\n')[0]}`);
  }
  check('REDIS_TLS_HOST that is not a host name stops the script (unset, empty, UNSET(...), option injection, dots, port)', bad.length === 0 && !existsSync(join(runDir, 'stunnel.conf')), bad.join('; '));
}

check('the startupProbe fails while nothing listens', !probeOk());

const tunnel = runScript('localhost');
const up = await until(() => probeOk());
check('the tunnel starts and the startupProbe passes', up, up ? '' : tunnel.log.trim().split('\n').slice(-3).join(' | '));
if (!up) finish();
{
  const conf = join(runDir, 'stunnel.conf');
  const mode = statSync(conf).mode & 0o777;
  const text = readFileSync(conf, 'utf8');
  check('the configuration is written where stunnel reads it, mode 0600, the host substituted',
    mode === 0o600 && /^connect = localhost:\d+$/m.test(text) && /^checkHost = localhost$/m.test(text) && /^verifyChain = yes$/m.test(text),
    `mode ${mode.toString(8)}`);
}

// Redis, as Atrium speaks it (server/store/redis.c: AUTH <password>, SELECT <db>, commands).
const redisServer = which('redis-server');
if (redisServer) {
  const key = 'k3Y+with/slash+and=equals/AAAA+0123456789=';
  const confFile = join(tmp, 'redis.conf');
  writeFileSync(confFile, [
    'port 0', `tls-port ${tlsPort}`, 'bind 127.0.0.1', `tls-cert-file ${join(tmp, 'good.crt')}`, `tls-key-file ${join(tmp, 'good.key')}`,
    `tls-ca-cert-file ${join(tmp, 'ca.crt')}`, 'tls-auth-clients no', 'tls-protocols "TLSv1.2 TLSv1.3"', `requirepass "${key}"`,
    'save ""', 'appendonly no', `dir ${tmp}`, 'daemonize no', 'loglevel warning', '',
  ].join('\n'));
  const redis = startServer(redisServer, [confFile]);
  const ready = await until(tlsUp);
  const resp = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const want = ['+OK', '+OK', '+OK', '$5', 'hello', '+PONG'];
  const r = ready ? await exchange(resp('AUTH', key) + resp('SELECT', '1') + resp('SET', 'atrium:redis-tls-test', 'hello') + resp('GET', 'atrium:redis-tls-test') + resp('PING'),
    5000, (got) => got.split('\r\n').length > want.length) : { got: '', why: 'redis-server did not start' };
  const lines = r.got.split('\r\n').slice(0, want.length);
  check('Redis through the tunnel: AUTH with the access key, SELECT, SET, GET, PING (TLS-only redis-server)',
    JSON.stringify(lines) === JSON.stringify(want), `${JSON.stringify(lines)} (${r.why})${ready ? '' : ` ${redis.log.trim().split('\n').at(-1)}`}`);
  const noAuth = ready ? await exchange(resp('PING'), 3000, (got) => got.includes('\r\n')) : { got: '' };
  check('...and Redis still asks the tunnel\'s clients for the password (the tunnel adds no credentials)', /^-NOAUTH/.test(noAuth.got), noAuth.got.trim());
  await stop(redis);
} else {
  console.log('# redis-server not installed: the Redis part is skipped (apt-get install -y redis-server)');
}

// openssl s_server -rev: echoes each line reversed, if the handshake passes.
async function echoThrough(cert, extra = []) {
  const server = startServer('openssl', ['s_server', '-accept', `127.0.0.1:${tlsPort}`, '-cert', `${cert}.crt`, '-key', `${cert}.key`, '-rev', ...extra]);
  const ready = await until(async () => (server.exitCode === null && server.signalCode === null) && tlsUp(), 5000);
  const before = tunnel.log.length;
  const r = ready ? await exchange('atrium\n', 4000, (got) => got.includes('\n')) : { got: '', why: 'not started' };
  await sleep(200);
  await stop(server);
  return { ready, ...r, stunnelLog: tunnel.log.slice(before), serverLog: server.log };
}
{
  const r = await echoThrough('good');
  check('a server with a certificate for the host from the trusted CA: bytes pass both ways', r.got.trim() === 'muirta', `${JSON.stringify(r.got.trim())} (${r.why})`);
}
{
  const r = await echoThrough('wrongname');
  check('a certificate for another host name is refused (checkHost)', r.ready && r.got === '' && /Subject checks failed|Rejected by CERT/.test(r.stunnelLog),
    r.stunnelLog.trim().split('\n').filter((l) => /LOG[34]/.test(l)).map((l) => l.replace(/^.*LOG\d\[\d+\]: /, '')).join(' | ') || r.got);
}
{
  const r = await echoThrough('untrusted');
  check('a certificate from an untrusted CA is refused (verifyChain)', r.ready && r.got === '' && /unable to get local issuer certificate|Rejected by CERT/.test(r.stunnelLog),
    r.stunnelLog.trim().split('\n').filter((l) => /LOG[34]/.test(l)).map((l) => l.replace(/^.*LOG\d\[\d+\]: /, '')).join(' | ') || r.got);
}
{
  const r = await echoThrough('good', ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
  if (!r.ready) console.log(`# this OpenSSL cannot serve TLS 1.1 (${r.serverLog.trim().split('\n').at(-1)}): the protocol check is skipped`);
  else check('a server that offers only TLS 1.1 is refused (sslVersionMin = TLSv1.2)', r.got === '' && /protocol version|unsupported protocol|no protocols available/i.test(r.stunnelLog),
    r.stunnelLog.trim().split('\n').filter((l) => /LOG3/.test(l)).map((l) => l.replace(/^.*LOG\d\[\d+\]: /, '')).join(' | ') || r.got);
}

tunnel.kill('SIGTERM');
const end = await Promise.race([tunnel.exited, sleep(5000).then(() => ({ code: 'still running' }))]);
check('SIGTERM ends stunnel (PID 1 of the container: the script execs it) with status 0', end.code === 0 && /Terminated/.test(tunnel.log), JSON.stringify(end));
children.delete(tunnel);

finish();
