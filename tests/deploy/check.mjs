#!/usr/bin/env node
// Renders deploy/k8s/overlays/{dev,prod} with kustomize (kubectl kustomize,
// pinned in tests/deploy/package.json; tests/deploy/tools.mjs) and checks the
// invariants of Atrium's deployment:
//
//   probes (serve: startup, liveness /healthz, readiness /readyz; worker:
//   liveness), resources (requests and limits, cpu and memory), security
//   (runAsNonRoot, never uid 0, readOnlyRootFilesystem, not privileged, no
//   privilege escalation, ALL capabilities dropped, seccomp RuntimeDefault,
//   no service account token), secrets (no env var that looks secret has a
//   literal value: each comes from the Key Vault-synced Secret; no ConfigMap
//   holds one; no Secret object in the manifests), the SecretProviderClass
//   and its sync, the HPA on serve, the PDBs, default-deny NetworkPolicy and
//   the allowed paths, images pinned (no :latest), zero-downtime rollout
//   settings, the Gateway API entry (Gateway with TLS, HTTPRoutes: HSTS, HTTPS
//   redirect, /metrics and /readyz not forwarded; Gateway API v1 schemas), the
//   PrometheusRule and the Grafana dashboards ConfigMap, the workload identity wiring (serve and the
//   worker on separate service accounts and identities; only the worker's
//   carries ARM rights and the azure.workload.identity/use label), the
//   redis-tls sidecar (stunnel, the TLS tunnel to Azure Cache for Redis: a
//   native sidecar in serve and worker, locked down, its own resources, a
//   verifying TLS 1.2+ client to REDIS_TLS_HOST:6380), and that the names
//   shared with deploy/azure and deploy/docker agree.
//
// Usage: node tests/deploy/check.mjs [--release]
//   --release   also fail while a value still reads UNSET(...), i.e. an
//               environment's parameters have not been filled in from
//               `terraform output` (deploy/README.md); without it those are
//               listed but pass, since the repository's copy is a template.
// Prints one line per check and "N passed, M failed"; exits 1 on failure.

import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { findKustomize, kustomizeBuild, loadK8sModels } from './tools.mjs';
import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';

// ATRIUM_DEPLOY_ROOT: check another copy of the repository (the checker's own tests).
const ROOT = process.env.ATRIUM_DEPLOY_ROOT || join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s');
const argv = new Set(process.argv.slice(2));
const RELEASE = argv.has('--release');
const OVERLAYS = ['dev', 'prod'];

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok   - ${name}${detail ? ` (${detail})` : ''}`);
  } else {
    failed++;
    console.log(`FAIL - ${name}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}
function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// A name that looks like it holds a secret: SECRET, KEY, PASSWORD, TOKEN,
// or a connection URL that carries credentials (the databases; Redis, whose
// URL holds the access key).
const SECRET_NAME = /SECRET|KEY|PASSWORD|TOKEN|CREDENTIAL|^ATRIUM_DB_[A-Z]+_URL$|^ATRIUM_REDIS_URL$/;
// Secret-looking names that are not secrets.
const NOT_SECRET = new Set([]);
const looksSecret = (name) => SECRET_NAME.test(name) && !NOT_SECRET.has(name);

// ------------------------------------------------------------- rendering

let tool;
try {
  tool = findKustomize({ log: (s) => console.log(`# ${s}`) });
  check('kustomize renderer available', true, `${tool.path}: ${tool.version}`);
} catch (e) {
  check('kustomize renderer available', false, e.message);
  finish();
}

const rendered = {};
for (const env of OVERLAYS) {
  const dir = join(K8S, 'overlays', env);
  try {
    const text = kustomizeBuild(tool, dir);
    const docs = parseAllDocuments(text);
    const errors = docs.flatMap((d) => d.errors.map((e) => e.message));
    if (errors.length) throw new Error(errors.join('; '));
    rendered[env] = { text, objs: docs.map((d) => d.toJS()).filter(Boolean) };
    check(`${env}: kustomize renders deploy/k8s/overlays/${env}`, true, `${rendered[env].objs.length} objects`);
  } catch (e) {
    check(`${env}: kustomize renders deploy/k8s/overlays/${env}`, false, e.message.split('\n').slice(0, 3).join(' '));
  }
}

// ------------------------------------------------------------- API schema
// Every field of every built-in object must be a field of the Kubernetes
// API (a misspelt field is silently dropped by a lenient apply), with the
// right JSON type, and every required field present.

const KIND_TYPES = {
  'v1/Namespace': 'V1Namespace', 'v1/ServiceAccount': 'V1ServiceAccount', 'v1/ConfigMap': 'V1ConfigMap',
  'v1/Service': 'V1Service', 'apps/v1/Deployment': 'V1Deployment', 'batch/v1/Job': 'V1Job',
  'autoscaling/v2/HorizontalPodAutoscaler': 'V2HorizontalPodAutoscaler', 'policy/v1/PodDisruptionBudget': 'V1PodDisruptionBudget',
  'networking.k8s.io/v1/Ingress': 'V1Ingress', 'networking.k8s.io/v1/NetworkPolicy': 'V1NetworkPolicy',
};
// Custom resources: their CRDs are not part of the API's OpenAPI document.
// Those with a model (Gateway API v1 and Prometheus Operator CRD schemas,
// pinned npm packages) are validated against it: types, enums, required
// fields, patterns.
const CUSTOM_KINDS = new Set(['secrets-store.csi.x-k8s.io/v1/SecretProviderClass']);
const CRD_MODELS = {
  'gateway.networking.k8s.io/v1/Gateway': Gateway,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function validateAgainst(types, type, v, path, problems) {
  if (v === null || v === undefined) return;
  let m;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (!Array.isArray(v)) { problems.push(`${path}: expected a list`); return; }
    v.forEach((x, i) => validateAgainst(types, m[1], x, `${path}[${i}]`, problems));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (typeof v !== 'object' || Array.isArray(v)) { problems.push(`${path}: expected a map`); return; }
    for (const [k, x] of Object.entries(v)) validateAgainst(types, m[1], x, `${path}.${k}`, problems);
    return;
  }
  if (type === 'string' || type === 'Date') { if (typeof v !== 'string') problems.push(`${path}: expected a string, got ${JSON.stringify(v)}`); return; }
  if (type === 'number') { if (typeof v !== 'number') problems.push(`${path}: expected a number, got ${JSON.stringify(v)}`); return; }
  if (type === 'boolean') { if (typeof v !== 'boolean') problems.push(`${path}: expected true/false, got ${JSON.stringify(v)}`); return; }
  if (type === 'IntOrString') { if (typeof v !== 'string' && typeof v !== 'number') problems.push(`${path}: expected an int or a string`); return; }
  if (type === 'any' || type === 'object') return;
  const t = types.get(type);
  if (!t) return; // a type the models do not describe: nothing to check
  if (typeof v !== 'object' || Array.isArray(v)) { problems.push(`${path}: expected an object (${type})`); return; }
  for (const [k, x] of Object.entries(v)) {
    const ft = t.fields.get(k);
    if (!ft) problems.push(`${path}.${k}: no such field in ${type}`);
    else validateAgainst(types, ft, x, `${path}.${k}`, problems);
  }
  for (const r of t.required) if (!(r in v) && !(type === 'V1ObjectMeta')) problems.push(`${path}: required ${r} missing (${type})`);
}

let k8sModels = null;
try {
  k8sModels = loadK8sModels();
} catch (e) {
  check('Kubernetes API models available', false, e.message);
}
if (k8sModels) {
  for (const env of OVERLAYS) {
    if (!rendered[env]) continue;
    const problems = [];
    const unknown = [];
    for (const o of rendered[env].objs) {
      const key = `${o.apiVersion}/${o.kind}`;
      if (CUSTOM_KINDS.has(key)) continue;
      if (CRD_MODELS[key]) {
        try {
          // A template's UNSET(...) host is no DNS name; without --release
          // it stands in as one, so the rest of the object is still checked.
          const v = RELEASE ? o : JSON.parse(JSON.stringify(o), (k, x) => (typeof x === 'string' && x.includes('UNSET(') ? 'unset.example.invalid' : x));
          new CRD_MODELS[key](v).validate();
        } catch (e) {
          problems.push(`${o.kind}/${o.metadata?.name}: ${e.message.split(', ').slice(0, 3).join(', ')}`);
        }
        continue;
      }
      const type = KIND_TYPES[key];
      if (!type) { unknown.push(key); continue; }
      validateAgainst(k8sModels.types, type, o, `${o.kind}/${o.metadata?.name}`, problems);
    }
    check(`${env}: every object is valid against the Kubernetes API (${k8sModels.api}, client-node ${k8sModels.version} models; Gateway, HTTPRoute, PrometheusRule against their CRD schemas)`,
      problems.length === 0 && unknown.length === 0, [...unknown.map((u) => `no schema for ${u}`), ...problems].slice(0, 8).join('; '));
  }
}

// ------------------------------------------------------------- helpers

const kindOf = (objs, kind) => objs.filter((o) => o.kind === kind);
const named = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata?.name === name);
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod']);
function podSpecOf(o) {
  if (o.kind === 'Pod') return o.spec;
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template?.spec;
  return o.spec?.template?.spec;
}
function podLabelsOf(o) {
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template?.metadata?.labels || {};
  return o.spec?.template?.metadata?.labels || {};
}
function containersOf(spec) {
  return [...(spec?.initContainers || []), ...(spec?.containers || []), ...(spec?.ephemeralContainers || [])];
}
const matches = (selector, labels) => Object.entries(selector || {}).every(([k, v]) => labels[k] === v);
function selectorMatches(sel, labels) {
  if (!sel) return false;
  if (!matches(sel.matchLabels, labels)) return false;
  for (const e of sel.matchExpressions || []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
function* walk(v, path = '') {
  if (typeof v === 'string') yield [path, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* walk(v[i], `${path}[${i}]`);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) yield* walk(x, path ? `${path}.${k}` : k);
}
const id = (o) => `${o.kind}/${o.metadata?.name}`;

// The redis-tls sidecar (deploy/k8s/base/redis-tls-sidecar.yaml): a shell
// script that writes stunnel's configuration with a heredoc and execs
// stunnel on it. Returns the script's variables, the file the heredoc
// writes, the stunnel binary and configuration it execs, and the parsed
// configuration (global options; services, each a map of option -> list of
// values), with every reference to REDIS_TLS_HOST (directly or through a
// script variable) written as {REDIS_TLS_HOST}; null when it is not such a
// script.
function parseTunnelScript(c) {
  const script = [...(c.command || []), ...(c.args || [])].join('\n');
  const vars = {};
  for (const m of script.matchAll(/^\s*([A-Za-z_]\w*)=(\S*)\s*$/gm)) vars[m[1]] = m[2];
  const doc = /cat\s*>\s*"?\$\{?(\w+)\}?"?\s*<<\s*(['"]?)(\w+)\2[^\n]*\n([\s\S]*?)\n\s*\3\s*$/m.exec(script);
  const ex = /^\s*exec\s+(\S*stunnel\S*)\s+"?\$\{?(\w+)\}?"?\s*$/m.exec(script);
  if (!doc || !ex) return null;
  const hostVars = new Set(['REDIS_TLS_HOST', ...Object.keys(vars).filter((k) => /^"?\$\{?REDIS_TLS_HOST\b/.test(vars[k]))]);
  const expand = (v) => (doc[2] ? v : v.replace(/\$\{?([A-Za-z_]\w*)\}?/g, (all, n) => (hostVars.has(n) ? '{REDIS_TLS_HOST}' : all)));
  const globals = new Map();
  const services = {};
  let cur = globals;
  for (const raw of doc[4].split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) { cur = services[sec[1]] = new Map(); continue; }
    const kv = /^([A-Za-z][\w.]*)\s*=\s*(.*)$/.exec(line);
    if (!kv) return null;
    if (!cur.has(kv[1])) cur.set(kv[1], []);
    cur.get(kv[1]).push(expand(kv[2]));
  }
  return {
    vars, writes: doc[1], quotedHeredoc: !!doc[2], binary: ex[1], reads: ex[2],
    confPath: vars[doc[1]], globals, services,
  };
}

// "64Mi" -> bytes.
function quantityBytes(q) {
  const m = /^(\d+(?:\.\d+)?)([KMGT]i?|[kmgt])?$/.exec(String(q ?? ''));
  if (!m) return NaN;
  const units = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (units[m[2]] ?? 1);
}

// Simple KEY = "value" lines of a .tfvars file.
function tfvars(env) {
  const f = join(ROOT, 'deploy', 'azure', 'env', `${env}.tfvars`);
  const out = {};
  if (!existsSync(f)) return out;
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const m = /^\s*([a-z_][a-z0-9_]*)\s*=\s*"([^"]*)"/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

// ------------------------------------------------------------- the checks

for (const env of OVERLAYS) {
  if (!rendered[env]) continue;
  const { objs } = rendered[env];
  const P = `${env}: `;
  const workloads = objs.filter((o) => WORKLOAD_KINDS.has(o.kind));
  const serve = named(objs, 'Deployment', 'atrium-serve');
  const worker = named(objs, 'Deployment', 'atrium-worker');
  const migrate = named(objs, 'Job', 'atrium-migrate');
  check(`${P}Deployments atrium-serve and atrium-worker and Job atrium-migrate exist`, !!(serve && worker && migrate));
  if (!(serve && worker && migrate)) continue;

  // --- probes
  {
    const bad = [];
    for (const c of podSpecOf(serve).containers) {
      if (c.livenessProbe?.httpGet?.path !== '/healthz') bad.push(`${c.name}: liveness is not GET /healthz`);
      if (c.readinessProbe?.httpGet?.path !== '/readyz') bad.push(`${c.name}: readiness is not GET /readyz`);
      if (!c.startupProbe) bad.push(`${c.name}: no startupProbe`);
    }
    check(`${P}serve: startup, liveness (/healthz) and readiness (/readyz) probes`, bad.length === 0, bad.join('; '));
    const wbad = podSpecOf(worker).containers.filter((c) => !c.livenessProbe).map((c) => c.name);
    check(`${P}worker: liveness probe`, wbad.length === 0, wbad.length ? `missing on ${wbad.join(', ')}` : podSpecOf(worker).containers.map((c) => `${c.livenessProbe.httpGet?.path ?? 'exec'}`).join(', '));
    const ports = new Set(podSpecOf(serve).containers.flatMap((c) => (c.ports || []).flatMap((p) => [p.name, p.containerPort])));
    const probePorts = podSpecOf(serve).containers.flatMap((c) => [c.livenessProbe, c.readinessProbe, c.startupProbe]).map((p) => p?.httpGet?.port);
    check(`${P}serve: probes target a declared container port`, probePorts.every((p) => ports.has(p)), probePorts.join(', '));
  }

  // --- resources
  {
    const bad = [];
    for (const w of workloads) {
      for (const c of containersOf(podSpecOf(w))) {
        for (const k of ['requests', 'limits']) {
          for (const r of ['cpu', 'memory']) {
            if (!c.resources?.[k]?.[r]) bad.push(`${id(w)}/${c.name}: no ${k}.${r}`);
          }
        }
      }
    }
    check(`${P}every container has cpu and memory requests and limits`, bad.length === 0, bad.join('; '));
  }

  // --- security
  {
    const nonRoot = [];
    const uid0 = [];
    const rofs = [];
    const priv = [];
    const esc = [];
    const caps = [];
    const seccomp = [];
    const sa = [];
    for (const w of workloads) {
      const spec = podSpecOf(w);
      const psc = spec.securityContext || {};
      if (psc.runAsUser === 0 || psc.runAsGroup === 0) uid0.push(id(w));
      if (spec.hostNetwork || spec.hostPID || spec.hostIPC) priv.push(`${id(w)}: host namespaces`);
      if (spec.automountServiceAccountToken !== false) sa.push(id(w));
      for (const c of containersOf(spec)) {
        const csc = c.securityContext || {};
        const where = `${id(w)}/${c.name}`;
        if ((csc.runAsNonRoot ?? psc.runAsNonRoot) !== true) nonRoot.push(where);
        if (csc.runAsUser === 0 || csc.runAsGroup === 0) uid0.push(where);
        if (csc.readOnlyRootFilesystem !== true) rofs.push(where);
        if (csc.privileged === true) priv.push(where);
        if (csc.allowPrivilegeEscalation !== false) esc.push(where);
        const drop = csc.capabilities?.drop || [];
        if (!drop.includes('ALL') || (csc.capabilities?.add || []).length) caps.push(where);
        if ((csc.seccompProfile?.type ?? psc.seccompProfile?.type) !== 'RuntimeDefault') seccomp.push(where);
      }
    }
    check(`${P}runAsNonRoot: true for every container`, nonRoot.length === 0, nonRoot.join(', '));
    check(`${P}no runAsUser/runAsGroup 0`, uid0.length === 0, uid0.join(', '));
    check(`${P}readOnlyRootFilesystem: true for every container`, rofs.length === 0, rofs.join(', '));
    check(`${P}nothing privileged (no privileged container, no host namespaces)`, priv.length === 0, priv.join(', '));
    check(`${P}allowPrivilegeEscalation: false for every container`, esc.length === 0, esc.join(', '));
    check(`${P}capabilities: drop ALL, add none`, caps.length === 0, caps.join(', '));
    check(`${P}seccompProfile RuntimeDefault`, seccomp.length === 0, seccomp.join(', '));
    check(`${P}no Kubernetes API token mounted (automountServiceAccountToken: false)`, sa.length === 0, sa.join(', '));
    const ns = kindOf(objs, 'Namespace')[0];
    check(`${P}namespace enforces Pod Security "restricted"`, ns?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] === 'restricted');
  }

  // --- secrets
  // One SecretProviderClass per identity (deploy/k8s/base/secretproviderclass.yaml).
  const SPC_NAMES = { serve: 'atrium-keyvault-serve', worker: 'atrium-keyvault-worker' };
  const spcs = kindOf(objs, 'SecretProviderClass');
  const spcServe = named(objs, 'SecretProviderClass', SPC_NAMES.serve);
  const spcWorker = named(objs, 'SecretProviderClass', SPC_NAMES.worker);
  // The SecretProviderClass a pod mounts through the CSI driver.
  const spcOfPod = (w) => {
    const v = (podSpecOf(w).volumes || []).find((x) => x.csi?.driver === 'secrets-store.csi.k8s.io');
    return v && named(objs, 'SecretProviderClass', v.csi.volumeAttributes?.secretProviderClass);
  };
  const spcObjects = (c) => parseAllDocuments(c.spec.parameters.objects || '')[0]?.toJS()?.array?.map((x) => parseAllDocuments(x)[0].toJS()) || [];
  // Secret/key -> [class, Key Vault object alias].
  const syncedBy = new Map();
  for (const c of spcs) for (const so of c.spec.secretObjects || []) for (const d of so.data || []) syncedBy.set(`${so.secretName}/${d.key}`, [c, d.objectName]);
  {
    const literal = [];
    const refs = [];
    for (const w of workloads) {
      for (const c of containersOf(podSpecOf(w))) {
        for (const e of c.env || []) {
          if (!looksSecret(e.name)) continue;
          if ('value' in e) literal.push(`${id(w)}/${c.name}: ${e.name}`);
          else if (e.valueFrom?.secretKeyRef) refs.push({ w, c, e, ref: e.valueFrom.secretKeyRef });
          else literal.push(`${id(w)}/${c.name}: ${e.name} is not from a Secret`);
        }
        for (const ef of c.envFrom || []) {
          if (ef.configMapRef) {
            const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ef.configMapRef.name);
            if (!cm) literal.push(`${id(w)}/${c.name}: envFrom ConfigMap ${ef.configMapRef.name} is not in the manifests`);
          }
        }
      }
    }
    check(`${P}no secret-looking env var has a literal value (each is a secretKeyRef)`, literal.length === 0, literal.join('; '));
    const cmSecrets = kindOf(objs, 'ConfigMap').flatMap((cm) => Object.keys(cm.data || {}).filter(looksSecret).map((k) => `${cm.metadata.name}.${k}`));
    check(`${P}no ConfigMap holds a secret-looking key`, cmSecrets.length === 0, cmSecrets.join(', '));
    check(`${P}no Secret object in the manifests (secrets come from Key Vault)`, kindOf(objs, 'Secret').length === 0);
    const badSpc = Object.values(SPC_NAMES).filter((n) => {
      const c = named(objs, 'SecretProviderClass', n);
      return !(c && c.spec?.provider === 'azure' && c.spec?.parameters?.usePodIdentity === 'false' && c.spec?.parameters?.useVMManagedIdentity === 'false'
        && !!c.spec?.parameters?.clientID && !!c.spec?.parameters?.keyvaultName);
    });
    check(`${P}SecretProviderClasses ${Object.values(SPC_NAMES).join(' and ')} exist (provider azure, workload identity, not the node's identity)`, badSpc.length === 0, badSpc.join(', '));
    {
      const unsynced = refs.filter(({ w, ref }) => {
        const c = spcOfPod(w);
        return !c || syncedBy.get(`${ref.name}/${ref.key}`)?.[0] !== c;
      }).map(({ w, e }) => `${id(w)}: ${e.name}`);
      check(`${P}every secretKeyRef is a key that the SecretProviderClass its pod mounts syncs (which makes the driver sync it)`, refs.length > 0 && unsynced.length === 0,
        unsynced.length ? `not synced by the pod's class: ${[...new Set(unsynced)].join(', ')}` : `${new Set(refs.map((r) => `${r.ref.name}/${r.ref.key}`)).size} keys`);
      const dangling = [];
      for (const c of spcs) {
        const aliases = new Set(spcObjects(c).map((o) => o.objectAlias || o.objectName));
        for (const so of c.spec.secretObjects || []) for (const d of so.data || []) if (!aliases.has(d.objectName)) dangling.push(`${c.metadata.name}: ${d.objectName}`);
      }
      check(`${P}every synced key is a Key Vault object of its SecretProviderClass`, dangling.length === 0, dangling.join(', '));
      const secretNames = spcs.flatMap((c) => (c.spec.secretObjects || []).map((so) => so.secretName));
      check(`${P}each SecretProviderClass syncs a Secret of its own (two classes never write one Secret)`, secretNames.length > 0 && new Set(secretNames).size === secretNames.length, secretNames.join(', '));
      const script = join(ROOT, 'deploy', 'azure', 'scripts', 'put-secrets.sh');
      if (existsSync(script)) {
        const written = new Set(readFileSync(script, 'utf8').match(/\batrium-[a-z0-9-]+(?=["' ])/g) || []);
        const all = [...new Set(spcs.flatMap((c) => spcObjects(c).map((o) => o.objectName)))];
        const missing = all.filter((n) => !written.has(n));
        check(`${P}deploy/azure/scripts/put-secrets.sh writes every Key Vault secret the SecretProviderClasses read`, all.length > 0 && missing.length === 0, missing.length ? `missing ${missing.join(', ')}` : `${all.length} secrets`);
      }
      // Least privilege inside the cluster: serve's Secret has no storage
      // key, the worker's none of serve's sign-in and webhook secrets.
      const keysOf = (c) => new Set((c?.spec?.secretObjects || []).flatMap((so) => (so.data || []).map((d) => d.key)));
      const sk = keysOf(spcServe);
      const wk = keysOf(spcWorker);
      check(`${P}serve's secrets hold no storage key; the worker's no OIDC client secret or webhook secrets`,
        !!spcServe && !!spcWorker && !sk.has('ATRIUM_STORAGE_KEY') && !['ATRIUM_OIDC_CLIENT_SECRET', 'ATRIUM_QUICKBOOKS_VERIFIER_TOKEN', 'ATRIUM_PAX8_WEBHOOK_SECRET'].some((k) => wk.has(k)),
        `serve: ${[...sk].join(', ')}; worker: ${[...wk].join(', ')}`);
    }
  }

  // --- HPA, PDB
  {
    const hpas = kindOf(objs, 'HorizontalPodAutoscaler');
    const h = hpas.find((x) => x.spec?.scaleTargetRef?.kind === 'Deployment' && x.spec?.scaleTargetRef?.name === 'atrium-serve');
    check(`${P}HorizontalPodAutoscaler targets Deployment atrium-serve on CPU`,
      !!h && (h.spec.metrics || []).some((m) => m.type === 'Resource' && m.resource?.name === 'cpu'),
      h ? `min ${h.spec.minReplicas}, max ${h.spec.maxReplicas}` : '');
    check(`${P}serve's replica count is left to the HPA (no spec.replicas to fight it)`, serve.spec.replicas === undefined);
    const pdbFor = (d) => kindOf(objs, 'PodDisruptionBudget').find((p) => selectorMatches(p.spec?.selector, podLabelsOf(d)));
    check(`${P}PodDisruptionBudget selects serve's pods`, !!pdbFor(serve), pdbFor(serve)?.metadata?.name);
    check(`${P}PodDisruptionBudget selects worker's pods`, !!pdbFor(worker), pdbFor(worker)?.metadata?.name);
    const svc = named(objs, 'Service', 'atrium-serve');
    check(`${P}Service atrium-serve selects serve's pods on 8443`, !!svc && matches(svc.spec.selector, podLabelsOf(serve)) && svc.spec.ports?.some((p) => p.port === 8443));
  }

  // --- rollout
  {
    const bad = [];
    for (const d of [serve, worker]) {
      if (d.spec.strategy?.rollingUpdate?.maxUnavailable !== 0) bad.push(`${id(d)}: maxUnavailable is not 0`);
      if (!(podSpecOf(d).terminationGracePeriodSeconds > 0)) bad.push(`${id(d)}: no terminationGracePeriodSeconds`);
    }
    const pre = podSpecOf(serve).containers[0].lifecycle?.preStop;
    if (!(pre?.sleep || pre?.exec)) bad.push('serve: no preStop delay');
    check(`${P}zero-downtime rollout (maxUnavailable 0, grace period, serve preStop sleep)`, bad.length === 0, bad.join('; '));
    const grace = podSpecOf(serve).terminationGracePeriodSeconds;
    const sleep = Number(pre?.sleep?.seconds ?? pre?.exec?.command?.at(-1) ?? 0);
    const cmData = kindOf(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('atrium-config'))?.data || {};
    const drain = Number(cmData.ATRIUM_DRAIN_SECONDS ?? 20);
    check(`${P}serve: preStop sleep (${sleep}s) + drain (ATRIUM_DRAIN_SECONDS ${drain}s) fit the grace period (${grace}s)`, sleep > 0 && grace >= sleep + drain + 5);
  }

  // --- network policies
  {
    const nps = kindOf(objs, 'NetworkPolicy');
    const deny = nps.find((n) => Object.keys(n.spec?.podSelector || {}).length === 0
      && ['Ingress', 'Egress'].every((t) => (n.spec.policyTypes || []).includes(t))
      && !(n.spec.ingress?.length) && !(n.spec.egress?.length));
    check(`${P}NetworkPolicy default-deny (all pods, Ingress and Egress)`, !!deny, deny?.metadata?.name);
    const serveLabels = podLabelsOf(serve);
    const serveIngress = nps.filter((n) => (n.spec.policyTypes || []).includes('Ingress') && selectorMatches(n.spec.podSelector, serveLabels)).flatMap((n) => n.spec.ingress || []);
    const fromGateway = serveIngress.some((r) => (r.from || []).some((f) => f.podSelector?.matchLabels?.['gateway.networking.k8s.io/gateway-name'] === 'atrium' && !f.namespaceSelector)
      && (r.ports || []).some((p) => p.port === 8443));
    check(`${P}the Gateway's pods (gateway.networking.k8s.io/gateway-name: atrium) reach serve on 8443`, fromGateway);
    const open = serveIngress.filter((r) => !r.from || r.from.length === 0 || r.from.some((f) => f.ipBlock || (!f.namespaceSelector && !f.podSelector)));
    check(`${P}no rule opens serve to any source (every ingress rule names a namespace or pods)`, open.length === 0);
    const otherSources = serveIngress.flatMap((r) => (r.from || []).map((f) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'])).filter(Boolean);
    console.log(`# ${env}: namespaces that reach serve besides the Gateway: ${[...new Set(otherSources)].join(', ') || 'none'} (metrics scraping)`);
    const gwPods = { 'gateway.networking.k8s.io/gateway-name': 'atrium' };
    const gwEgress = nps.filter((n) => (n.spec.policyTypes || []).includes('Egress') && selectorMatches(n.spec.podSelector, gwPods)).flatMap((n) => n.spec.egress || []);
    check(`${P}the Gateway's pods may reach serve on 8443 (default-deny covers them)`, gwEgress.some((r) => (r.to || []).some((t) => selectorMatches(t.podSelector, serveLabels)) && (r.ports || []).some((p) => p.port === 8443)));
    const egressOf = (labels) => nps.filter((n) => (n.spec.policyTypes || []).includes('Egress') && selectorMatches(n.spec.podSelector, labels)).flatMap((n) => n.spec.egress || []);
    for (const [d, name] of [[serve, 'serve'], [worker, 'worker']]) {
      const eg = egressOf(podLabelsOf(d));
      const ports = (port, proto = 'TCP') => eg.some((r) => (r.ports || []).some((p) => p.port === port && (p.protocol || 'TCP') === proto));
      const missing = [[5432, 'PostgreSQL 5432'], [6380, 'Redis 6380'], [443, 'HTTPS 443']].filter(([p]) => !ports(p)).map(([, n]) => n);
      if (!ports(53, 'UDP')) missing.push('DNS 53/UDP');
      check(`${P}${name} may egress to PostgreSQL 5432, Redis 6380, DNS 53 and HTTPS 443`, missing.length === 0, missing.length ? `missing ${missing.join(', ')}` : '');
    }
    const migEg = egressOf(podLabelsOf(migrate));
    check(`${P}migrate Job may egress to PostgreSQL and DNS`, migEg.some((r) => (r.ports || []).some((p) => p.port === 5432)) && migEg.some((r) => (r.ports || []).some((p) => p.port === 53)));
    const any = nps.flatMap((n) => n.spec.egress || []).filter((r) => !r.ports || r.ports.length === 0);
    check(`${P}no egress rule allows every port`, any.length === 0);
    // The CIDRs agree with the subnets deploy/azure makes.
    const tv = tfvars(env);
    const cidrFor = (port) => [...new Set(nps.flatMap((n) => n.spec.egress || []).filter((r) => (r.ports || []).some((p) => p.port === port)).flatMap((r) => (r.to || []).map((t) => t.ipBlock?.cidr)).filter(Boolean))];
    check(`${P}PostgreSQL egress CIDR = deploy/azure postgres_subnet_cidr`, JSON.stringify(cidrFor(5432)) === JSON.stringify([tv.postgres_subnet_cidr]), `${cidrFor(5432)} vs ${tv.postgres_subnet_cidr}`);
    check(`${P}Redis egress CIDR = deploy/azure private_endpoints_subnet_cidr`, JSON.stringify(cidrFor(6380)) === JSON.stringify([tv.private_endpoints_subnet_cidr]), `${cidrFor(6380)} vs ${tv.private_endpoints_subnet_cidr}`);
  }

  // --- the Redis TLS sidecar
  // Azure Cache for Redis speaks only TLS (6380); Atrium (hiredis 0.14) only
  // plain Redis. Each pod that uses Redis runs stunnel as a native sidecar:
  // 127.0.0.1:6379 in the pod -> REDIS_TLS_HOST:6380 with TLS, verified.
  {
    const cmData = kindOf(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('atrium-config'))?.data || {};
    const tv = tfvars(env);
    const tunnels = [];
    const shape = [];
    for (const [d, name] of [[serve, 'serve'], [worker, 'worker']]) {
      const spec = podSpecOf(d);
      const main = spec.containers[0];
      const side = (spec.initContainers || []).filter((c) => c.restartPolicy === 'Always' && parseTunnelScript(c));
      if (side.length !== 1) { shape.push(`${name}: ${side.length} redis-tls sidecars (init containers with restartPolicy Always running stunnel)`); continue; }
      const c = side[0];
      if (c.image !== main.image) shape.push(`${name}/${c.name}: image ${c.image}, not the main container's ${main.image}`);
      tunnels.push({ d, name, spec, main, c, conf: parseTunnelScript(c) });
    }
    check(`${P}serve and worker run the redis-tls sidecar: a native sidecar (init container, restartPolicy Always) from the Atrium image`,
      shape.length === 0, shape.length ? shape.join('; ') : tunnels.map((t) => `${t.name}/${t.c.name}: ${t.conf.binary}`).join(', '));
    const users = workloads.filter((w) => podSpecOf(w).containers.some((c) => (c.env || []).some((e) => e.name === 'ATRIUM_REDIS_URL')));
    const without = users.filter((w) => !(podSpecOf(w).initContainers || []).some((c) => c.restartPolicy === 'Always' && parseTunnelScript(c))).map(id);
    check(`${P}every pod whose container gets ATRIUM_REDIS_URL has the redis-tls sidecar`, users.length > 0 && without.length === 0, without.length ? without.join(', ') : users.map(id).join(', '));

    const sec = [];
    const res = [];
    const cfg = [];
    const run = [];
    const envBad = [];
    for (const { name, spec, c, conf } of tunnels) {
      const w = `${name}/${c.name}`;
      const psc = spec.securityContext || {};
      const csc = c.securityContext || {};
      if ((csc.runAsNonRoot ?? psc.runAsNonRoot) !== true) sec.push(`${w}: not runAsNonRoot`);
      if (!((csc.runAsUser ?? psc.runAsUser) > 0)) sec.push(`${w}: no non-zero runAsUser`);
      if (csc.readOnlyRootFilesystem !== true) sec.push(`${w}: root filesystem writable`);
      if (!(csc.capabilities?.drop || []).includes('ALL') || (csc.capabilities?.add || []).length) sec.push(`${w}: capabilities not dropped (ALL)`);
      if (csc.allowPrivilegeEscalation !== false || csc.privileged === true) sec.push(`${w}: privilege escalation or privileged`);

      const r = c.resources || {};
      const missing = ['requests', 'limits'].flatMap((k) => ['cpu', 'memory'].filter((x) => !r[k]?.[x]).map((x) => `${k}.${x}`));
      if (missing.length) res.push(`${w}: no ${missing.join(', ')}`);
      else if (!(quantityBytes(r.limits.memory) <= 128 * 1024 ** 2)) res.push(`${w}: memory limit ${r.limits.memory} is not small (<= 128Mi)`);
      if (r === spec.containers[0].resources || JSON.stringify(r) === JSON.stringify(spec.containers[0].resources)) res.push(`${w}: the main container's resources, not its own`);

      const names = Object.keys(conf.services);
      const svc = conf.services[names[0]] || new Map();
      const one = (m, k) => (m.get(k)?.length === 1 ? m.get(k)[0] : undefined);
      const all = [conf.globals, ...Object.values(conf.services)];
      const want = [
        [names.length === 1, `one service, not ${names.length}`],
        [one(svc, 'client') === 'yes', 'client = yes'],
        [one(svc, 'accept') === '127.0.0.1:6379', `accept = 127.0.0.1:6379 (loopback only), not ${svc.get('accept')}`],
        [one(svc, 'connect') === '{REDIS_TLS_HOST}:6380', `connect = $REDIS_TLS_HOST:6380, not ${svc.get('connect')}`],
        [one(svc, 'verifyChain') === 'yes', 'verifyChain = yes'],
        [one(svc, 'CAfile') === '/etc/ssl/certs/ca-certificates.crt' || one(svc, 'CApath') === '/etc/ssl/certs', 'the system CA store (CAfile = /etc/ssl/certs/ca-certificates.crt)'],
        [JSON.stringify(svc.get('checkHost')) === JSON.stringify(['{REDIS_TLS_HOST}']), `checkHost = $REDIS_TLS_HOST (the host connected to), not ${svc.get('checkHost')}`],
        [['TLSv1.2', 'TLSv1.3'].includes(one(svc, 'sslVersionMin') ?? one(conf.globals, 'sslVersionMin')), 'sslVersionMin = TLSv1.2 (or TLSv1.3)'],
        [!all.some((m) => (m.get('sslVersion') || []).some((v) => !['TLSv1.2', 'TLSv1.3'].includes(v))), 'no sslVersion below TLSv1.2'],
        [!all.some((m) => ['verifyChain', 'verifyPeer'].some((k) => (m.get(k) || []).includes('no'))), 'no verification turned off'],
        [!all.some((m) => m.has('verify') || m.has('checkIP') || m.has('securityLevel')), 'no legacy verify, checkIP or securityLevel override'],
        [!conf.quotedHeredoc, "the heredoc is unquoted (so $host is substituted)"],
      ];
      for (const [ok, what] of want) if (!ok) cfg.push(`${w}: ${what}`);

      // foreground, no pid file, the configuration in an emptyDir.
      const mounts = c.volumeMounts || [];
      const dir = (conf.confPath || '').replace(/\/[^/]*$/, '');
      const mount = mounts.find((m) => m.mountPath === dir);
      const vol = mount && (spec.volumes || []).find((v) => v.name === mount.name);
      if (one(conf.globals, 'foreground') !== 'yes') run.push(`${w}: not foreground = yes`);
      if (one(conf.globals, 'pid') !== '') run.push(`${w}: pid is not empty (stunnel would write a pid file)`);
      if (conf.writes !== conf.reads) run.push(`${w}: execs stunnel on $${conf.reads}, writes $${conf.writes}`);
      if (!vol?.emptyDir || mount.readOnly) run.push(`${w}: ${conf.confPath} is not in a writable emptyDir of its own`);
      if (vol && spec.containers.some((m) => (m.volumeMounts || []).some((x) => x.name === vol.name))) run.push(`${w}: its emptyDir is shared with the main container`);
      if (!/^\/usr\/bin\/stunnel4?$/.test(conf.binary)) run.push(`${w}: runs ${conf.binary}, not Debian's /usr/bin/stunnel4`);
      if (!c.startupProbe) run.push(`${w}: no startupProbe (the main container would start before the tunnel listens)`);
      if (c.livenessProbe || c.readinessProbe) { /* allowed */ }

      // Its environment: REDIS_TLS_HOST from atrium-config, and no secret.
      const hostEnv = (c.env || []).find((e) => e.name === 'REDIS_TLS_HOST');
      const ref = hostEnv?.valueFrom?.configMapKeyRef;
      if (!ref || !ref.name?.startsWith('atrium-config') || ref.key !== 'REDIS_TLS_HOST') envBad.push(`${w}: REDIS_TLS_HOST is not from ConfigMap atrium-config`);
      const secretRefs = (c.env || []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name)
        .concat((c.envFrom || []).filter((e) => e.secretRef).map((e) => `envFrom ${e.secretRef.name}`));
      if (secretRefs.length) envBad.push(`${w}: gets secrets (${secretRefs.join(', ')})`);
      if (mounts.some((m) => (spec.volumes || []).find((v) => v.name === m.name)?.csi)) envBad.push(`${w}: mounts the secrets volume`);
    }
    check(`${P}redis-tls sidecar: non-root, read-only root filesystem, ALL capabilities dropped, no privilege escalation`, tunnels.length > 0 && sec.length === 0, sec.join('; '));
    check(`${P}redis-tls sidecar: its own small cpu and memory requests and limits`, tunnels.length > 0 && res.length === 0,
      res.length ? res.join('; ') : tunnels.map((t) => `${t.name}: ${t.c.resources.requests.memory}/${t.c.resources.limits.memory}`).join(', '));
    check(`${P}redis-tls sidecar: stunnel client 127.0.0.1:6379 -> REDIS_TLS_HOST:6380, TLS 1.2+, chain verified against the system CA store, checkHost = that host`,
      tunnels.length > 0 && cfg.length === 0, cfg.join('; '));
    check(`${P}redis-tls sidecar: foreground, no pid file, configuration in its own emptyDir, startupProbe`, tunnels.length > 0 && run.length === 0, run.join('; '));
    check(`${P}redis-tls sidecar: REDIS_TLS_HOST from ConfigMap atrium-config, no secret in its environment or mounts`, tunnels.length > 0 && envBad.length === 0, envBad.join('; '));
    const host = cmData.REDIS_TLS_HOST || '';
    check(`${P}REDIS_TLS_HOST = deploy/azure redis_name.redis.cache.windows.net (the certificate's name)`,
      host === `${tv.redis_name}.redis.cache.windows.net` || (host.includes('UNSET(') && !RELEASE), `${host} vs ${tv.redis_name}.redis.cache.windows.net`);
    check(`${P}ATRIUM_REDIS_URL is not in a ConfigMap (it carries the access key; Key Vault holds redis://:<key>@127.0.0.1:6379/0)`,
      !kindOf(objs, 'ConfigMap').some((cm) => 'ATRIUM_REDIS_URL' in (cm.data || {})));
  }

  // --- images
  {
    const bad = [];
    const images = new Set();
    for (const w of workloads) {
      for (const c of containersOf(podSpecOf(w))) {
        const img = c.image || '';
        images.add(img);
        const digest = img.includes('@sha256:');
        const tag = /:([^:/@]+)$/.exec(img.split('@')[0])?.[1];
        if (!digest && (!tag || tag === 'latest')) bad.push(`${id(w)}/${c.name}: ${img}`);
        if (c.imagePullPolicy === 'Always' && !digest) { /* allowed */ }
      }
    }
    check(`${P}images pinned to a version tag or digest (never :latest or untagged)`, bad.length === 0, bad.length ? bad.join('; ') : [...images].join(', '));
    const tv = tfvars(env);
    const registry = [...images][0]?.split('/')[0];
    check(`${P}image registry = deploy/azure acr_name.azurecr.io`, registry === `${tv.acr_name}.azurecr.io`, `${registry} vs ${tv.acr_name}.azurecr.io`);
    const cmds = workloads.map((w) => `${w.metadata.name}:${podSpecOf(w).containers[0].args?.[0]}`);
    check(`${P}serve, worker and migrate run the image's subcommands`, cmds.includes('atrium-serve:serve') && cmds.includes('atrium-worker:worker') && cmds.includes('atrium-migrate:migrate'), cmds.join(', '));
  }

  // --- configuration
  {
    const cm = kindOf(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('atrium-config'));
    const data = cm?.data || {};
    const need = ['ATRIUM_LISTEN', 'ATRIUM_PUBLIC_URL', 'ATRIUM_OIDC_METADATA_URL', 'ATRIUM_OIDC_AUDIENCE', 'ATRIUM_OIDC_CLIENT_ID', 'ATRIUM_HOME_TENANT_ID',
      'ATRIUM_AZURE_AUTHORITY', 'ATRIUM_AZURE_TENANT_ID', 'ATRIUM_AZURE_CLIENT_ID', 'ATRIUM_ARM_URL', 'ATRIUM_AZURE_SUBSCRIPTION_ID',
      'ATRIUM_STORAGE_BLOB_URL', 'ATRIUM_STORAGE_ACCOUNT', 'ATRIUM_THREADS', 'ATRIUM_DB_POOL_SIZE',
      'ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE', 'ATRIUM_RATE_LIMIT_IP_PER_MINUTE', 'ATRIUM_LOG_LEVEL'];
    const missing = need.filter((k) => !(k in data));
    check(`${P}ConfigMap atrium-config sets the non-secret ATRIUM_* settings`, !!cm && missing.length === 0, missing.join(', '));
    check(`${P}ATRIUM_LISTEN binds 0.0.0.0:8443 (the container port)`, data.ATRIUM_LISTEN === '0.0.0.0:8443');
    const host = named(objs, 'HTTPRoute', 'atrium')?.spec?.hostnames?.[0] || '';
    const pub = data.ATRIUM_PUBLIC_URL || '';
    check(`${P}ATRIUM_PUBLIC_URL is https:// and the HTTPRoute's host (sign-in redirect, CSRF origin)`,
      pub === `https://${host}` || (pub.includes('UNSET(') && host.includes('UNSET(')), `${pub} vs ${host}`);
    check(`${P}the ConfigMap name carries a content hash (a changed value rolls the pods)`, /^atrium-config-[a-z0-9]{6,}$/.test(cm?.metadata?.name || ''), cm?.metadata?.name);
    const tv = tfvars(env);
    check(`${P}ATRIUM_STORAGE_ACCOUNT = deploy/azure storage_account_name`, data.ATRIUM_STORAGE_ACCOUNT === tv.storage_account_name, `${data.ATRIUM_STORAGE_ACCOUNT} vs ${tv.storage_account_name}`);
    check(`${P}ATRIUM_STORAGE_BLOB_URL is that account's blob endpoint`, data.ATRIUM_STORAGE_BLOB_URL === `https://${tv.storage_account_name}.blob.core.windows.net`, data.ATRIUM_STORAGE_BLOB_URL);
    check(`${P}every SecretProviderClass's keyvaultName = deploy/azure key_vault_name`, spcs.length > 0 && spcs.every((c) => c.spec.parameters.keyvaultName === tv.key_vault_name), `${spcs.map((c) => c.spec.parameters.keyvaultName).join(', ')} vs ${tv.key_vault_name}`);
  }

  // --- identity: serve and the worker are separate identities
  // (deploy/azure/identity.tf). The worker's service account carries the
  // worker's identity (ARM rights in the workload subscription); serve's
  // carries serve's (Key Vault secrets only), and serve's and migrate's
  // containers get no Azure token at all.
  {
    const cm = kindOf(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('atrium-config'));
    const workerCid = cm?.data?.ATRIUM_AZURE_CLIENT_ID;
    const saServe = named(objs, 'ServiceAccount', 'atrium-serve');
    const saWorker = named(objs, 'ServiceAccount', 'atrium-worker');
    const cidOf = (sa) => sa?.metadata?.annotations?.['azure.workload.identity/client-id'];
    const saOf = (w) => podSpecOf(w).serviceAccountName;
    const usesWi = (w) => podLabelsOf(w)['azure.workload.identity/use'] === 'true';
    check(`${P}serve and worker pods run as different service accounts (atrium-serve, atrium-worker), both in the manifests`,
      saOf(serve) === 'atrium-serve' && saOf(worker) === 'atrium-worker' && !!saServe && !!saWorker, `serve: ${saOf(serve)}, worker: ${saOf(worker)}`);
    check(`${P}migrate runs as atrium-serve (databases only), never as the worker`, saOf(migrate) === 'atrium-serve', saOf(migrate));
    const others = workloads.filter((w) => w !== worker && saOf(w) === 'atrium-worker').map(id);
    check(`${P}only the worker runs as ServiceAccount atrium-worker`, others.length === 0, others.join(', '));
    check(`${P}ServiceAccount atrium-worker carries the worker's identity (client-id = ATRIUM_AZURE_CLIENT_ID = SecretProviderClass ${SPC_NAMES.worker} clientID)`,
      !!workerCid && cidOf(saWorker) === workerCid && spcWorker?.spec?.parameters?.clientID === workerCid, cidOf(saWorker));
    const carrying = kindOf(objs, 'ServiceAccount').filter((sa) => sa !== saWorker && cidOf(sa) === workerCid).map(id);
    const spcCarrying = spcs.filter((c) => c !== spcWorker && c.spec?.parameters?.clientID === workerCid).map(id);
    check(`${P}no other ServiceAccount or SecretProviderClass carries the worker's identity`, !!workerCid && carrying.length === 0 && spcCarrying.length === 0, [...carrying, ...spcCarrying].join(', '));
    check(`${P}ServiceAccount atrium-serve carries serve's identity (client-id = SecretProviderClass ${SPC_NAMES.serve} clientID, not ATRIUM_AZURE_CLIENT_ID)`,
      !!cidOf(saServe) && cidOf(saServe) !== workerCid && spcServe?.spec?.parameters?.clientID === cidOf(saServe), cidOf(saServe));
    check(`${P}serve and migrate pods mount ${SPC_NAMES.serve}, the worker's ${SPC_NAMES.worker}`,
      spcOfPod(serve) === spcServe && spcOfPod(migrate) === spcServe && spcOfPod(worker) === spcWorker && !!spcServe && !!spcWorker);
    check(`${P}only the worker's pods carry azure.workload.identity/use: "true" (serve's and migrate's containers get no Azure token)`,
      usesWi(worker) && !usesWi(serve) && !usesWi(migrate), workloads.filter(usesWi).map(id).join(', '));
    const tenant = cm?.data?.ATRIUM_AZURE_TENANT_ID;
    check(`${P}every ServiceAccount's tenant-id and SecretProviderClass's tenantId = ATRIUM_AZURE_TENANT_ID`,
      !!tenant && [saServe, saWorker].every((sa) => sa?.metadata?.annotations?.['azure.workload.identity/tenant-id'] === tenant) && spcs.every((c) => c.spec.parameters.tenantId === tenant));
    const vars = existsSync(join(ROOT, 'deploy', 'azure', 'variables.tf')) ? readFileSync(join(ROOT, 'deploy', 'azure', 'variables.tf'), 'utf8') : '';
    const tfDefault = (v) => new RegExp(`variable "${v}" \\{[^}]*?default\\s*=\\s*"([^"]*)"`).exec(vars)?.[1];
    check(`${P}service account names = deploy/azure k8s_serve_service_account / k8s_worker_service_account (the federated credentials' subjects)`,
      tfDefault('k8s_serve_service_account') === 'atrium-serve' && tfDefault('k8s_worker_service_account') === 'atrium-worker'
      && objs.find((o) => o.kind === 'Namespace')?.metadata?.name === (tfDefault('k8s_namespace') ?? 'atrium'),
      `${tfDefault('k8s_serve_service_account')}, ${tfDefault('k8s_worker_service_account')}`);
  }

  // --- Gateway API entry (ingress-nginx is retired)
  {
    const gw = named(objs, 'Gateway', 'atrium');
    const route = named(objs, 'HTTPRoute', 'atrium');
    const redirect = named(objs, 'HTTPRoute', 'atrium-https-redirect');
    check(`${P}no Ingress objects (the entry is the Gateway API)`, kindOf(objs, 'Ingress').length === 0);
    const https = (gw?.spec?.listeners || []).find((l) => l.protocol === 'HTTPS');
    const plain = (gw?.spec?.listeners || []).find((l) => l.protocol === 'HTTP');
    const hosts = route?.spec?.hostnames || [];
    check(`${P}Gateway atrium: an HTTPS listener on 443 terminating TLS with Secret atrium-tls, for the HTTPRoute's host`,
      !!https && https.port === 443 && https.tls?.mode === 'Terminate' && (https.tls?.certificateRefs || []).some((r) => r.name === 'atrium-tls' && (r.kind ?? 'Secret') === 'Secret')
      && hosts.length > 0 && hosts.every((h) => h === https.hostname), `${https?.hostname} / ${hosts.join(', ')}`);
    check(`${P}Gateway: a class from the overlay and a cert-manager issuer`, !!gw?.spec?.gatewayClassName && gw.spec.gatewayClassName !== 'set-by-overlay'
      && !!gw?.metadata?.annotations?.['cert-manager.io/cluster-issuer'], gw?.spec?.gatewayClassName);
    const parent = (r, section) => (r?.spec?.parentRefs || []).some((p) => p.name === 'atrium' && p.sectionName === section);
    const rules = route?.spec?.rules || [];
    const prefix = rules.find((r) => (r.matches || []).some((m) => m.path?.type === 'PathPrefix' && m.path.value === '/'));
    check(`${P}HTTPRoute atrium: attached to the HTTPS listener, / to atrium-serve:8443`, parent(route, 'https')
      && !!prefix && (prefix.backendRefs || []).length === 1 && prefix.backendRefs[0].name === 'atrium-serve' && prefix.backendRefs[0].port === 8443);
    const svc = named(objs, 'Service', 'atrium-serve');
    check(`${P}the backend port is a port of Service atrium-serve`, (svc?.spec?.ports || []).some((p) => p.port === prefix?.backendRefs?.[0]?.port));
    const hsts = (prefix?.filters || []).find((f) => f.type === 'ResponseHeaderModifier')?.responseHeaderModifier?.set?.find((h) => h.name === 'Strict-Transport-Security');
    check(`${P}HTTPRoute: HSTS on every response (ResponseHeaderModifier, max-age of a year or more)`, /max-age=(\d+)/.test(hsts?.value || '') && Number(/max-age=(\d+)/.exec(hsts.value)[1]) >= 31536000, hsts?.value);
    const redir = (redirect?.spec?.rules || []).flatMap((r) => r.filters || []).find((f) => f.type === 'RequestRedirect');
    check(`${P}HTTP is redirected to HTTPS (HTTPRoute on the HTTP listener, 301, no backend)`, parent(redirect, 'http') && !!plain
      && redir?.requestRedirect?.scheme === 'https' && redir.requestRedirect.statusCode === 301
      && (redirect.spec.rules || []).every((r) => !(r.backendRefs || []).length));
    const internal = rules.filter((r) => !(r.backendRefs || []).length).flatMap((r) => (r.matches || []).filter((m) => m.path?.type === 'Exact').map((m) => m.path.value));
    const forwardedExact = rules.filter((r) => (r.backendRefs || []).length).flatMap((r) => (r.matches || []).map((m) => m.path?.value));
    check(`${P}/metrics and /readyz are not forwarded through the Gateway (Exact matches without a backend)`,
      internal.includes('/metrics') && internal.includes('/readyz') && !forwardedExact.includes('/metrics') && !forwardedExact.includes('/readyz'), internal.join(', '));
    const others = kindOf(objs, 'HTTPRoute').filter((r) => (r.spec.parentRefs || []).some((p) => p.name !== 'atrium')).map(id);
    check(`${P}every HTTPRoute attaches to Gateway atrium`, others.length === 0, others.join(', '));
  }

  // --- monitoring: PrometheusRule and the Grafana dashboards ConfigMap
  {
    const pr = named(objs, 'PrometheusRule', 'atrium');
    const alerts = (pr?.spec?.groups || []).flatMap((g) => g.rules || []).filter((r) => r.alert);
    check(`${P}PrometheusRule atrium: alerts, each with a runbook_url into deploy/RUNBOOK.md`, alerts.length > 0
      && alerts.every((a) => /^deploy\/RUNBOOK\.md#[a-z0-9-]+$/.test(a.annotations?.runbook_url || '')), `${alerts.length} alerts`);
    const cm = named(objs, 'ConfigMap', 'atrium-grafana-dashboards');
    const files = Object.keys(cm?.data || {});
    let parsed = 0;
    for (const f of files) { try { JSON.parse(cm.data[f]); parsed++; } catch { /* counted below */ } }
    check(`${P}ConfigMap atrium-grafana-dashboards: label grafana_dashboard "1", every dashboard of deploy/grafana as valid JSON`,
      cm?.metadata?.labels?.grafana_dashboard === '1' && files.length >= 5 && parsed === files.length, files.join(', '));
  }

  // --- no leftovers
  {
    const leftovers = [...walk(objs)].filter(([, v]) => v.includes('set-by-overlay')).map(([p]) => p);
    check(`${P}every base placeholder was replaced by the overlay`, leftovers.length === 0, leftovers.slice(0, 5).join(', '));
    const unset = [...new Set([...walk(objs)].filter(([, v]) => v.includes('UNSET(')).map(([, v]) => v))];
    if (RELEASE) check(`${P}release: every environment parameter is filled in (no UNSET(...))`, unset.length === 0, unset.join('; '));
    else check(`${P}parameters still to fill before a release (--release fails on them)`, true, unset.length ? `${unset.length}: ${unset.join('; ')}` : 'none');
  }
}

// ------------------------------------------------------------- cross-file

{
  const df = join(ROOT, 'deploy', 'docker', 'Dockerfile');
  const t = readFileSync(df, 'utf8');
  const lines = t.split('\n').filter((l) => !/^\s*#/.test(l));
  const froms = lines.filter((l) => /^FROM /i.test(l));
  const user = lines.filter((l) => /^USER /i.test(l)).at(-1) || '';
  check('Dockerfile: multi-stage, runtime on debian:bookworm-slim', froms.length >= 3 && /DEBIAN_SLIM_IMAGE=debian:bookworm-slim/.test(t) && /^FROM \$\{DEBIAN_SLIM_IMAGE\} AS runtime/m.test(t) && froms.at(-1).includes('runtime'));
  check('Dockerfile: runs as a numeric non-root user', /^USER ([1-9]\d*)(:[1-9]\d*)?\s*$/.test(user), user);
  const uid = /^USER (\d+)/.exec(user)?.[1];
  const k8sUids = Object.values(rendered).flatMap(({ objs }) => objs.filter((o) => WORKLOAD_KINDS.has(o.kind)).map((o) => String(podSpecOf(o).securityContext?.runAsUser)));
  check('Dockerfile USER uid = the pods\' runAsUser', k8sUids.length > 0 && k8sUids.every((u) => u === uid), `${uid} vs ${[...new Set(k8sUids)].join(',')}`);
  check('Dockerfile: ENTRYPOINT atrium, CMD serve, no HEALTHCHECK',
    /^ENTRYPOINT \["\/usr\/local\/bin\/atrium"\]/m.test(t) && /^CMD \["serve"\]/m.test(t) && !/^HEALTHCHECK/m.test(t));
  check('Dockerfile: ships web/dist, db/migrations, openapi.yaml where ATRIUM_* points',
    /COPY --from=portal \/src\/web\/dist\/ \/app\/web\/dist\//.test(t) && /COPY db\/migrations\/ \/app\/db\/migrations\//.test(t)
    && /COPY openapi\/openapi\.yaml \/app\/openapi\/openapi\.yaml/.test(t) && /ATRIUM_MIGRATIONS_DIR=\/app\/db\/migrations/.test(t)
    && /ATRIUM_OPENAPI_PATH=\/app\/openapi\/openapi\.yaml/.test(t) && /ATRIUM_WEB_DIR=\/app\/web\/dist/.test(t));
  check('Dockerfile: its ignore file sits next to it', existsSync(`${df}.dockerignore`));

  const runtime = t.slice(t.search(/^FROM \$\{DEBIAN_SLIM_IMAGE\} AS runtime/m));
  const installs = (runtime.match(/apt-get install(?:[^\n\\]|\\\n)*/g) || []).join(' ');
  check('Dockerfile: the runtime stage installs Debian\'s stunnel4 (the redis-tls sidecar) without systemd (systemd-standalone-sysusers)',
    /\bstunnel4\b/.test(installs) && /\bsystemd-standalone-sysusers\b/.test(installs) && /\bca-certificates\b/.test(installs));
  const putSecrets = readFileSync(join(ROOT, 'deploy', 'azure', 'scripts', 'put-secrets.sh'), 'utf8');
  const redisUrl = /^\s*secret atrium-redis-url "([^"]*)"/m.exec(putSecrets)?.[1] || '';
  check('put-secrets.sh: atrium-redis-url is redis://:<access key>@127.0.0.1:6379/0, the redis-tls sidecar (Atrium has no TLS to Redis)',
    /^redis:\/\/:\$\{?\w+\}?@127\.0\.0\.1:6379\/0$/.test(redisUrl), redisUrl);
  const k8sEnv = readFileSync(join(ROOT, 'deploy', 'azure', 'scripts', 'k8s-env.sh'), 'utf8');
  check('k8s-env.sh: REDIS_TLS_HOST from terraform output redis_host', /set_kv "\$OVERLAY\/config\.env" REDIS_TLS_HOST "\$\(out redis_host\)"/.test(k8sEnv));

  const compose = parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'docker', 'compose.yaml'), 'utf8'), { merge: true })[0].toJS({ maxAliasCount: 1000 });
  const svcs = compose.services || {};
  const need = ['postgres', 'redis', 'azurite', 'idp', 'migrate', 'serve', 'worker'];
  check('compose: postgres, redis, azurite, idp, migrate, serve, worker', need.every((s) => s in svcs), Object.keys(svcs).join(', '));
  check('compose: PostgreSQL 15 with the init script for the four databases', /^postgres:15/.test(svcs.postgres?.image || '')
    && (svcs.postgres?.volumes || []).some((v) => v.includes('docker-entrypoint-initdb.d'))
    && ['auth_db', 'portal_db', 'betting_db', 'billing_db', 'catalog_db'].every((d) => readFileSync(join(ROOT, 'deploy', 'docker', 'postgres-init', '10-atrium.sh'), 'utf8').includes(d)));
  check('compose: the identity provider is node tests/idp/idp.mjs on 28080', (svcs.idp?.command || []).join(' ') === 'node tests/idp/idp.mjs' && svcs.idp?.environment?.IDP_PORT === '28080');
  check('compose: serve and worker wait for a successful migrate', ['serve', 'worker'].every((s) => svcs[s]?.depends_on?.migrate?.condition === 'service_completed_successfully'));
  check('compose: migrate, serve and worker run the Dockerfile\'s image', ['migrate', 'serve', 'worker'].every((s) => svcs[s]?.build?.dockerfile === 'deploy/docker/Dockerfile'));
  const composeRedis = compose['x-atrium-env']?.ATRIUM_REDIS_URL ?? svcs.serve?.environment?.ATRIUM_REDIS_URL;
  check('compose: plain redis:// to its own Redis (no TLS locally, so no redis-tls sidecar)', /^redis:\/\/redis:6379\//.test(composeRedis || ''), composeRedis);
}

finish();
