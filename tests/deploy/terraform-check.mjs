#!/usr/bin/env node
// Offline validation of deploy/azure (Terraform; there is no Azure access
// and no terraform binary here):
//
//  1. every .tf and .tfvars file parses with HashiCorp's own HCL parser
//     (@cdktf/hcl2json, the Go hcl library compiled to WebAssembly) and is
//     in `terraform fmt` style (@cdktf/hcl-tools: hclwrite.Format);
//  2. every resource, data source and provider block is checked against the
//     azurerm provider's schema (4.55.0, from @cdktf/provider-azurerm, which
//     is generated from `terraform providers schema`): unknown arguments and
//     blocks, missing required ones, at every nesting level, dynamic blocks
//     included;
//  3. every reference (resource.name.attr, data.x.y.attr, var.x, local.x)
//     points at something declared, with an attribute the type has;
//  4. every taggable resource is tagged, every variable without a default is
//     set by each env/*.tfvars and every tfvars name is declared;
//  5. the platform's requirements (SPEC §8 and deploy/README.md) hold:
//     PostgreSQL 15 with the four databases and private access, Redis TLS
//     only, Key Vault RBAC, Storage without public blobs and with TLS 1.2,
//     AKS with workload identity and OIDC issuer, the federated credential,
//     the role assignments, Log Analytics wired to AKS, the outputs.
//
// Usage: node tests/deploy/terraform-check.mjs
// Prints one line per check and "N passed, M failed"; exits 1 on failure.
// The packages it reads (from npm) are pinned in tests/deploy/package.json and
// installed by the install step (tests/deploy/tools.mjs).

import { readFileSync, existsSync } from 'node:fs';
import { join, basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTerraformTools, listFiles } from './tools.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AZ = process.env.ATRIUM_TF_DIR || join(ROOT, 'deploy', 'azure');
const args = new Set(process.argv.slice(2));

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) { passed++; console.log(`ok   - ${name}${detail ? ` (${detail})` : ''}`); } else { failed++; console.log(`FAIL - ${name}${detail ? `: ${detail}` : ''}`); }
  return ok;
}
function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// ------------------------------------------------------------- the schema
// The generated bindings hold, per resource: `synthesizeHclAttributes()`
// (every argument and block, with isBlock and the nested block's converter
// function), per nested block a `<name>ToHclTerraform` function of the same
// shape, the *.d.ts interfaces (a `?` marks an optional argument; the JSDoc
// link's #anchor is the snake_case name), and getters for every attribute.

const ATTR_RE = /(\w+): \{\s*value: ([^\n]*),\s*isBlock: (true|false),\s*type: "(\w+)",\s*storageClassType: "(\w+)",\s*\}/g;

function parseAttrs(body) {
  const out = new Map();
  for (const m of body.matchAll(ATTR_RE)) {
    const [, name, value, isBlock] = m;
    let nested = null;
    if (isBlock === 'true') {
      const fm = /(?<!cdktf\.)\b([a-z]\w*)ToHclTerraform\b/.exec(value);
      nested = fm ? fm[1] : null;
    }
    out.set(name, { block: isBlock === 'true', nested });
  }
  return out;
}

function bodyAfter(text, startIdx) {
  // From the '{' at/after startIdx to its matching '}' (the generated code
  // has no braces in strings inside these bodies that would unbalance it).
  const open = text.indexOf('{', startIdx);
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}') { depth--; if (depth === 0) return text.slice(open, i + 1); }
  }
  return text.slice(open);
}

function parseInterfaces(dts) {
  // interface name -> Map(snake name -> required?)
  const out = new Map();
  const re = /export interface (\w+)(?: extends [\w.]+)? \{/g;
  for (const m of dts.matchAll(re)) {
    const body = bodyAfter(dts, m.index + m[0].length - 1);
    const fields = new Map();
    const fre = /#(\w+) [^}]*\}\s*\*\/\s*readonly (\w+)(\??):/g;
    for (const f of body.matchAll(fre)) fields.set(f[1], f[3] !== '?');
    out.set(m[1], fields);
  }
  return out;
}

const schemaCache = new Map();
function loadSchema(azurermDir, dirName, configInterface) {
  if (schemaCache.has(dirName)) return schemaCache.get(dirName);
  const js = join(azurermDir, 'lib', dirName, 'index.js');
  const dts = join(azurermDir, 'lib', dirName, 'index.d.ts');
  if (!existsSync(js)) { schemaCache.set(dirName, null); return null; }
  const text = readFileSync(js, 'utf8');
  const ifaces = parseInterfaces(readFileSync(dts, 'utf8'));
  const fns = new Map();
  for (const m of text.matchAll(/function (\w+)ToHclTerraform\(struct\) \{/g)) {
    fns.set(m[1], parseAttrs(bodyAfter(text, m.index + m[0].length - 1)));
  }
  const top = text.indexOf('synthesizeHclAttributes() {');
  const topAttrs = top >= 0 ? parseAttrs(bodyAfter(text, top + 'synthesizeHclAttributes() '.length)) : new Map();
  // Every attribute name the type exposes (arguments and computed ones).
  const readable = new Set(topAttrs.keys());
  for (const m of text.matchAll(/this\.get\w*Attribute\('(\w+)'\)/g)) readable.add(m[1]);
  for (const m of text.matchAll(/new \w+(?:OutputReference|List|Map)\(this, "(\w+)"/g)) readable.add(m[1]);
  readable.add('id');
  const schema = { top: topAttrs, fns, ifaces, configInterface, readable };
  schemaCache.set(dirName, schema);
  return schema;
}

function requiredOf(schema, fnName) {
  const iname = fnName ? fnName[0].toUpperCase() + fnName.slice(1) : schema.configInterface;
  const fields = schema.ifaces.get(iname);
  if (!fields) return [];
  return [...fields].filter(([, req]) => req).map(([n]) => n);
}

// The random provider is not in the azurerm bindings; the one resource used.
const RANDOM_PASSWORD_ARGS = new Set(['length', 'keepers', 'lower', 'min_lower', 'min_numeric', 'min_special',
  'min_upper', 'number', 'numeric', 'override_special', 'special', 'upper']);
const RANDOM_PASSWORD_ATTRS = new Set([...RANDOM_PASSWORD_ARGS, 'id', 'result', 'bcrypt_hash']);

const META = new Set(['count', 'for_each', 'depends_on', 'lifecycle', 'provider', 'provisioner', 'connection']);

function validateBody(where, body, attrs, schema, fnName, problems) {
  for (const [key, val] of Object.entries(body)) {
    if (META.has(key)) continue;
    if (key === 'dynamic') {
      for (const [blockName, dyns] of Object.entries(val)) {
        const a = attrs.get(blockName);
        if (!a || !a.block) { problems.push(`${where}: dynamic "${blockName}" is not a block of this type`); continue; }
        for (const d of dyns) {
          if (!('for_each' in d)) problems.push(`${where}.${blockName}: dynamic block without for_each`);
          for (const c of d.content || []) validateBlock(`${where}.${blockName}`, c, a.nested, schema, problems);
        }
      }
      continue;
    }
    const a = attrs.get(key);
    if (!a) { problems.push(`${where}: unknown argument or block "${key}"`); continue; }
    if (a.block) {
      const items = Array.isArray(val) ? val : [val];
      for (const it of items) {
        if (it && typeof it === 'object' && !Array.isArray(it)) validateBlock(`${where}.${key}`, it, a.nested, schema, problems);
      }
    }
  }
  const present = new Set(Object.keys(body));
  if (body.dynamic) for (const k of Object.keys(body.dynamic)) present.add(k);
  for (const req of requiredOf(schema, fnName)) {
    if (!present.has(req)) problems.push(`${where}: required "${req}" is missing`);
  }
}

function validateBlock(where, body, fnName, schema, problems) {
  const attrs = fnName ? schema.fns.get(fnName) : null;
  if (!attrs) { problems.push(`${where}: no schema for nested block (${fnName})`); return; }
  validateBody(where, body, attrs, schema, fnName, problems);
}

// ------------------------------------------------------------- references

function* strings(v) {
  if (typeof v === 'string') yield v;
  else if (Array.isArray(v)) for (const x of v) yield* strings(x);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) yield* strings(x);
}

function stripLiterals(expr) {
  // Drop quoted string literals inside ${...} (role names, conditions) so
  // words in them are not taken for references.
  return expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
}

function references(v) {
  const refs = [];
  for (const s of strings(v)) {
    for (const m of s.matchAll(/\$\{([\s\S]*?)\}/g)) {
      const e = stripLiterals(m[1]);
      for (const r of e.matchAll(/(?<![\w.])(data\.[a-z0-9_]+\.[a-z0-9_]+|var|local|azurerm_[a-z0-9_]+|random_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?(?:\.([a-z0-9_]+))?/g)) {
        refs.push({ head: r[1], name: r[2], attr: r[3] });
      }
    }
  }
  return refs;
}

// ------------------------------------------------------------- main

const { hcl2json, hclTools, azurermDir } = findTerraformTools();
const pkg = JSON.parse(readFileSync(join(azurermDir, 'package.json'), 'utf8'));
console.log(`# schema: @cdktf/provider-azurerm ${pkg.version} (azurerm ${JSON.parse(readFileSync(join(azurermDir, '.jsii'), 'utf8')).metadata?.['jsii:providerVersion'] ?? '4.55.0'})`);

const tfFiles = listFiles(AZ, '.tf');
const varFiles = listFiles(join(AZ, 'env'), '.tfvars');
const hclFiles = [...tfFiles, ...varFiles, ...listFiles(join(AZ, 'env'), '.hcl')];
const parsed = new Map();
for (const f of hclFiles) {
  try {
    parsed.set(f, await hcl2json.parse(basename(f), readFileSync(f, 'utf8')));
    check(`HCL syntax: ${f.slice(ROOT.length + 1)}`, true);
  } catch (e) {
    check(`HCL syntax: ${f.slice(ROOT.length + 1)}`, false, String(e.message || e).split('\n')[0]);
  }
}
if (failed) finish();
{
  const unformatted = [];
  for (const f of hclFiles) {
    const src = readFileSync(f, 'utf8');
    if ((await hclTools.format(src)) !== src) unformatted.push(f.slice(ROOT.length + 1));
  }
  check('terraform fmt style (hclwrite.Format) for every file', unformatted.length === 0, unformatted.join(', '));
}

// Merge the .tf files into one configuration.
const cfg = { resource: {}, data: {}, variable: {}, locals: {}, output: {}, provider: {}, terraform: [] };
for (const f of tfFiles) {
  const j = parsed.get(f);
  for (const [type, byName] of Object.entries(j.resource || {})) {
    cfg.resource[type] ??= {};
    for (const [name, bodies] of Object.entries(byName)) {
      if (cfg.resource[type][name]) check(`unique resource ${type}.${name}`, false, `declared twice (${basename(f)})`);
      cfg.resource[type][name] = bodies[0];
    }
  }
  for (const [type, byName] of Object.entries(j.data || {})) {
    cfg.data[type] ??= {};
    for (const [name, bodies] of Object.entries(byName)) cfg.data[type][name] = bodies[0];
  }
  for (const [name, bodies] of Object.entries(j.variable || {})) cfg.variable[name] = bodies[0];
  for (const l of j.locals || []) Object.assign(cfg.locals, l);
  for (const [name, bodies] of Object.entries(j.output || {})) cfg.output[name] = bodies[0];
  // Every provider block, the aliased ones (azurerm.workload) included.
  for (const [name, bodies] of Object.entries(j.provider || {})) (cfg.provider[name] ??= []).push(...bodies);
  cfg.terraform.push(...(j.terraform || []));
}

// 2. schema
const typeSchema = (type, data = false) => {
  const dir = (data ? 'data-' : '') + (data ? type : type.replace(/^azurerm_/, '')).replace(/_/g, '-');
  const cls = type.replace(/^azurerm_/, '').split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return loadSchema(azurermDir, dir, `${data ? 'DataAzurerm' : ''}${cls}Config`);
};

const taggable = [];
for (const [type, byName] of Object.entries(cfg.resource)) {
  for (const [name, body] of Object.entries(byName)) {
    const where = `${type}.${name}`;
    const problems = [];
    if (type === 'random_password') {
      for (const k of Object.keys(body)) if (!META.has(k) && !RANDOM_PASSWORD_ARGS.has(k)) problems.push(`unknown argument "${k}"`);
      if (!('length' in body)) problems.push('required "length" is missing');
    } else {
      const schema = typeSchema(type);
      if (!schema) { check(`schema: ${where}`, false, `no resource type ${type} in azurerm 4.x`); continue; }
      validateBody(where, body, schema.top, schema, null, problems);
      if (schema.top.has('tags')) taggable.push([where, body]);
    }
    check(`schema: ${where}`, problems.length === 0, problems.join('; '));
  }
}
for (const [type, byName] of Object.entries(cfg.data)) {
  for (const [name, body] of Object.entries(byName)) {
    const schema = typeSchema(type, true);
    const problems = [];
    if (!schema) problems.push(`no data source ${type}`);
    else validateBody(`data.${type}.${name}`, body, schema.top, schema, null, problems);
    check(`schema: data.${type}.${name}`, problems.length === 0, problems.join('; '));
  }
}
{
  const schema = loadSchema(azurermDir, 'provider', 'AzurermProviderConfig');
  const problems = [];
  const blocks = cfg.provider.azurerm || [];
  for (const b of blocks) {
    const { alias, ...body } = b;
    validateBody(`provider.azurerm${alias ? `.${alias}` : ''}`, body, schema.top, schema, null, problems);
  }
  if (!blocks.some((b) => !b.alias)) problems.push('no default provider "azurerm" block');
  const aliases = blocks.map((b) => b.alias).filter(Boolean);
  if (new Set(aliases).size !== aliases.length) problems.push('an azurerm alias is declared twice');
  check('schema: provider "azurerm" (every block, aliases included)', problems.length === 0, problems.length ? problems.join('; ') : `${blocks.length} blocks${aliases.length ? `, aliases ${aliases.join(', ')}` : ''}`);
  const req = cfg.terraform.flatMap((t) => t.required_providers || []).reduce((a, b) => Object.assign(a, b), {});
  check('terraform.required_providers pins azurerm 4.x', /hashicorp\/azurerm/.test(req.azurerm?.source ?? '') && /<\s*5\.0\.0/.test(req.azurerm?.version ?? ''), req.azurerm?.version);
  check('terraform backend "azurerm" (state in Azure Storage)', cfg.terraform.some((t) => t.backend && t.backend.azurerm));
}

// 3. references
{
  const problems = [];
  const scan = (where, v) => {
    for (const r of references(v)) {
      if (r.head === 'var') {
        if (!(r.name in cfg.variable)) problems.push(`${where}: var.${r.name} is not declared`);
      } else if (r.head === 'local') {
        if (!(r.name in cfg.locals)) problems.push(`${where}: local.${r.name} is not defined`);
      } else if (r.head.startsWith('data.')) {
        const type = r.head.split('.')[1];
        const dname = r.head.split('.')[2];
        if (!cfg.data[type]?.[dname]) problems.push(`${where}: data.${type}.${dname} is not declared`);
        else if (r.name && !typeSchema(type, true)?.readable.has(r.name)) problems.push(`${where}: data.${type} has no attribute ${r.name}`);
      } else {
        const type = r.head;
        if (!cfg.resource[type]?.[r.name]) { problems.push(`${where}: ${type}.${r.name} is not declared`); continue; }
        if (!r.attr) continue;
        const readable = type === 'random_password' ? RANDOM_PASSWORD_ATTRS : typeSchema(type)?.readable;
        if (readable && !readable.has(r.attr)) problems.push(`${where}: ${type} has no attribute ${r.attr}`);
      }
    }
  };
  for (const [type, byName] of Object.entries(cfg.resource)) for (const [name, body] of Object.entries(byName)) scan(`${type}.${name}`, body);
  for (const [name, body] of Object.entries(cfg.output)) scan(`output.${name}`, body);
  for (const [name, v] of Object.entries(cfg.locals)) scan(`local.${name}`, v);
  for (const [name, bodies] of Object.entries(cfg.provider)) bodies.forEach((b) => scan(`provider.${name}${b.alias ? `.${b.alias}` : ''}`, b));
  check('references: every var/local/resource/data reference resolves to an existing attribute', problems.length === 0, problems.join('; '));
}

// 4. tags, variables
{
  const untagged = taggable.filter(([, b]) => !('tags' in b)).map(([w]) => w);
  check(`tags: every taggable resource (${taggable.length}) is tagged`, untagged.length === 0, untagged.join(', '));
  const t = cfg.locals.tags ?? '';
  const tagText = JSON.stringify(t);
  check('tags: Project, Environment, Owner, CostCenter on every resource (local.tags)',
    ['Project', 'Environment', 'Owner', 'CostCenter'].every((k) => tagText.includes(k)));
  const rgTags = cfg.resource.azurerm_resource_group?.main?.tags;
  check('tags: the resource group carries local.tags', rgTags === '${local.tags}');
}
for (const f of varFiles) {
  const vals = parsed.get(f);
  const rel = f.slice(ROOT.length + 1);
  const undeclared = Object.keys(vals).filter((k) => !(k in cfg.variable));
  check(`${rel}: every name is a declared variable`, undeclared.length === 0, undeclared.join(', '));
  const missing = Object.entries(cfg.variable).filter(([k, v]) => !('default' in v) && !(k in vals)).map(([k]) => k);
  check(`${rel}: sets every variable that has no default`, missing.length === 0, missing.join(', '));
  const env = basename(f, '.tfvars');
  check(`${rel}: environment = "${env}"`, vals.environment === env, vals.environment);
}

// 5. requirements
const R = cfg.resource;
const one = (type) => Object.values(R[type] || {})[0] || {};
{
  const pg = one('azurerm_postgresql_flexible_server');
  check('PostgreSQL Flexible Server version 15', pg.version === '15', pg.version);
  check('PostgreSQL private access (delegated subnet + private DNS zone, no public access)',
    pg.public_network_access_enabled === false && /azurerm_subnet\.postgres\.id/.test(pg.delegated_subnet_id ?? '') && /azurerm_private_dns_zone\.postgres\.id/.test(pg.private_dns_zone_id ?? ''));
  const dbs = JSON.stringify(cfg.locals.databases ?? {});
  check('PostgreSQL databases auth_db, portal_db, betting_db, billing_db, catalog_db',
    ['auth_db', 'portal_db', 'betting_db', 'billing_db', 'catalog_db'].every((d) => dbs.includes(`"${d}"`)) && R.azurerm_postgresql_flexible_server_database?.service?.for_each === '${local.databases}');
  const sub = R.azurerm_subnet?.postgres;
  check('PostgreSQL subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers',
    sub?.delegation?.[0]?.service_delegation?.[0]?.name === 'Microsoft.DBforPostgreSQL/flexibleServers');
  const redis = one('azurerm_redis_cache');
  check('Redis: TLS only (non_ssl_port_enabled = false, minimum_tls_version = "1.2")', redis.non_ssl_port_enabled === false && redis.minimum_tls_version === '1.2');
  check('Redis: no public network access, private endpoint', redis.public_network_access_enabled === false
    && Object.values(R.azurerm_private_endpoint || {}).some((pe) => /azurerm_redis_cache\./.test(pe.private_service_connection?.[0]?.private_connection_resource_id ?? '')));
  const kv = one('azurerm_key_vault');
  check('Key Vault: RBAC authorization', kv.rbac_authorization_enabled === true);
  const st = one('azurerm_storage_account');
  check('Storage: no public blob access, TLS 1.2, HTTPS only', st.allow_nested_items_to_be_public === false && st.min_tls_version === 'TLS1_2' && st.https_traffic_only_enabled === true);
  const aks = one('azurerm_kubernetes_cluster');
  check('AKS: workload identity and OIDC issuer', aks.workload_identity_enabled === true && aks.oidc_issuer_enabled === true);
  check('AKS: NetworkPolicy enforcement (network_policy set)', !!aks.network_profile?.[0]?.network_policy, aks.network_profile?.[0]?.network_policy);
  check('AKS: Key Vault Secrets Store CSI driver add-on', Array.isArray(aks.key_vault_secrets_provider));
  check('AKS: Log Analytics wired (oms_agent + diagnostic setting)',
    /azurerm_log_analytics_workspace\.main\.id/.test(aks.oms_agent?.[0]?.log_analytics_workspace_id ?? '')
    && Object.values(R.azurerm_monitor_diagnostic_setting || {}).some((d) => /azurerm_kubernetes_cluster\./.test(d.target_resource_id ?? '')));
  const fic = one('azurerm_federated_identity_credential');
  check('federated credential: AKS OIDC issuer -> system:serviceaccount:<ns>:<sa>',
    /oidc_issuer_url/.test(fic.issuer ?? '') && /system:serviceaccount:/.test(fic.subject ?? '') && JSON.stringify(fic.audience) === '["api://AzureADTokenExchange"]');
  const ras = Object.values(R.azurerm_role_assignment || {});
  const uamiRole = (identity, role) => ras.some((r) => r.role_definition_name === role && r.principal_id === `\${azurerm_user_assigned_identity.${identity}.principal_id}`);
  check('role: Key Vault Secrets User for serve\'s and the worker\'s identities (the CSI driver reads each one\'s secrets)', uamiRole('serve', 'Key Vault Secrets User') && uamiRole('worker', 'Key Vault Secrets User'));
  check('role: Storage Blob Data Contributor for the worker\'s identity', uamiRole('worker', 'Storage Blob Data Contributor'));
  check('role: namespace provisioning (custom role, assignment limited by condition)',
    ras.some((r) => /azurerm_role_definition\./.test(r.role_definition_id ?? '') && /GuidEquals/.test(r.condition ?? '') && r.condition_version === '2.0'));
  const outs = Object.keys(cfg.output);
  const needed = ['postgres_host', 'postgres_databases', 'redis_host', 'key_vault_uri', 'key_vault_name', 'storage_blob_url',
    'storage_account_name', 'worker_identity_client_id', 'serve_identity_client_id', 'tenant_id', 'workload_subscription_id', 'acr_login_server'];
  const missing = needed.filter((o) => !outs.includes(o));
  check('outputs: connection settings Atrium needs', missing.length === 0, missing.length ? `missing ${missing.join(', ')}` : needed.join(', '));
  const leaked = Object.entries(cfg.output).filter(([n, o]) => /password|key$|secret/i.test(n) && o.sensitive !== true).map(([n]) => n);
  check('outputs: secret outputs are sensitive', leaked.length === 0, leaked.join(', '));
}


// 6. least privilege (deploy/azure/README.md, "Who may do what in Azure"):
// serve and the worker are separate identities federated with separate
// service accounts; serve holds no ARM role; the worker's role-assignment
// right is conditioned to the allowed role definitions and lives in the
// workload subscription (provider azurerm.workload), never the platform's.
{
  const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
  const UAA = '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9';
  const RBAC_ADMIN = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168';
  const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
  const ras = Object.entries(R.azurerm_role_assignment || {});
  const defs = R.azurerm_role_definition || {};
  const uamis = R.azurerm_user_assigned_identity || {};
  const fics = Object.values(R.azurerm_federated_identity_credential || {});
  const vars = cfg.variable;
  // ${local.x} -> its expression; ${var.x} -> its default.
  const expand = (text) => String(text ?? '').replace(/\$\{local\.([a-z0-9_]+)\}/g, (m, n) => (typeof cfg.locals[n] === 'string' ? cfg.locals[n] : m));
  const varDefault = (n) => vars[n]?.default;

  // Two identities, each federated with its own service account.
  const sa = (v) => varDefault(v);
  const ficFor = (identity) => fics.filter((f) => f.parent_id === `\${azurerm_user_assigned_identity.${identity}.id}`);
  const subj = (f) => String(f.subject ?? '').replace(/\$\{var\.([a-z0-9_]+)\}/g, (m, n) => varDefault(n) ?? m);
  check('identities: serve and worker have user-assigned identities of their own (no shared one)',
    !!uamis.serve && !!uamis.worker && Object.keys(uamis).length === 2, Object.keys(uamis).join(', '));
  const serveSubjects = ficFor('serve').map(subj);
  const workerSubjects = ficFor('worker').map(subj);
  check('federated credentials: serve <- system:serviceaccount:atrium:atrium-serve, worker <- system:serviceaccount:atrium:atrium-worker, nothing else',
    serveSubjects.length === 1 && workerSubjects.length === 1 && fics.length === 2
    && serveSubjects[0] === 'system:serviceaccount:atrium:atrium-serve' && workerSubjects[0] === 'system:serviceaccount:atrium:atrium-worker'
    && sa('k8s_serve_service_account') === 'atrium-serve' && sa('k8s_worker_service_account') === 'atrium-worker',
    `serve: ${serveSubjects.join(', ')}; worker: ${workerSubjects.join(', ')}`);

  // serve: nothing but Key Vault Secrets User on the vault.
  const toServe = ras.filter(([, r]) => /azurerm_user_assigned_identity\.serve\./.test(r.principal_id ?? ''));
  const serveBad = toServe.filter(([, r]) => !(r.role_definition_name === 'Key Vault Secrets User' && /^\$\{azurerm_key_vault\.[a-z0-9_]+\.id\}$/.test(r.scope ?? '') && !r.role_definition_id))
    .map(([n, r]) => `${n}: ${r.role_definition_name ?? r.role_definition_id} on ${r.scope}`);
  check('serve\'s identity holds no ARM role: its only assignment is Key Vault Secrets User on the vault (no subscription, resource group or other scope)',
    toServe.length > 0 && serveBad.length === 0, serveBad.join('; ') || toServe.map(([n]) => n).join(', '));
  const atSubOrRg = (scope) => /^\/subscriptions\/|local\.[a-z_]*subscription[a-z_]*scope|azurerm_resource_group\.|data\.azurerm_subscription|\/resourceGroups\//.test(expand(scope));
  const serveWide = ras.filter(([, r]) => atSubOrRg(r.scope) && /\.serve\./.test(r.principal_id ?? '')).map(([n]) => n);
  check('no role assignment grants anything to serve\'s identity at subscription or resource group scope', serveWide.length === 0, serveWide.join(', '));

  // No Owner, User Access Administrator or RBAC Administrator anywhere; no
  // custom role with wildcard authorization rights.
  const highRoles = ['Owner', 'User Access Administrator', 'Role Based Access Control Administrator'];
  const high = ras.filter(([, r]) => highRoles.includes(r.role_definition_name) || [OWNER, UAA, RBAC_ADMIN].some((g) => String(r.role_definition_id ?? '').toLowerCase().includes(g)))
    .map(([n]) => n);
  const wild = Object.entries(defs).filter(([, d]) => (d.permissions || []).some((p) => (p.actions || []).some((a) => a === '*' || /^Microsoft\.Authorization\/\*/i.test(a) || /roleDefinitions\/write/i.test(a))))
    .map(([n]) => n);
  check('no Owner, User Access Administrator or RBAC Administrator assignment; no custom role with "*" or Microsoft.Authorization/* or roleDefinitions/write',
    high.length === 0 && wild.length === 0, [...high, ...wild].join(', '));

  // Every assignment that can write role assignments carries an ABAC
  // condition (2.0) naming only the allowed role definition ids, for write
  // (@Request) and for delete (@Resource).
  const canAssign = (r) => {
    if (highRoles.includes(r.role_definition_name)) return true;
    const m = /^\$\{azurerm_role_definition\.([a-z0-9_]+)\./.exec(r.role_definition_id ?? '');
    const d = m && defs[m[1]];
    return !!d && (d.permissions || []).some((p) => (p.actions || []).some((a) => /^(\*|Microsoft\.Authorization\/(\*|roleAssignments\/(\*|write)))$/i.test(a)));
  };
  const allowed = varDefault('worker_assignable_role_definition_ids');
  const assigners = ras.filter(([, r]) => canAssign(r));
  const condBad = [];
  for (const [n, r] of assigners) {
    const cond = expand(r.condition).replace(/\$\{join\(", ", var\.([a-z0-9_]+)\)\}/g, (m, v) => (Array.isArray(varDefault(v)) ? varDefault(v).join(', ') : m));
    if (r.condition_version !== '2.0') condBad.push(`${n}: condition_version ${r.condition_version}`);
    const sets = [...cond.matchAll(/@(Request|Resource)\[Microsoft\.Authorization\/roleAssignments:RoleDefinitionId\]\s+ForAnyOfAnyValues:GuidEquals\s*\{([^}]*)\}/g)];
    if (!sets.some((m) => m[1] === 'Request')) condBad.push(`${n}: no @Request RoleDefinitionId restriction (write)`);
    if (!sets.some((m) => m[1] === 'Resource')) condBad.push(`${n}: no @Resource RoleDefinitionId restriction (delete)`);
    if (!/!\(ActionMatches\{'Microsoft\.Authorization\/roleAssignments\/write'\}\)/.test(cond) || !/!\(ActionMatches\{'Microsoft\.Authorization\/roleAssignments\/delete'\}\)/.test(cond)) condBad.push(`${n}: does not target both write and delete`);
    for (const m of sets) {
      const ids = m[2].split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
      if (!ids.length || !ids.every((x) => (allowed || []).includes(x))) condBad.push(`${n}: ${m[1]} names ${ids.join(', ')}, not only var.worker_assignable_role_definition_ids`);
      if (ids.some((x) => [OWNER, UAA, RBAC_ADMIN].includes(x))) condBad.push(`${n}: lets it grant a role that grants roles`);
    }
    if (!/@Request\[Microsoft\.Authorization\/roleAssignments:PrincipalType\]\s+ForAnyOfAnyValues:StringEqualsIgnoreCase\s*\{'Group'\}/.test(cond)) condBad.push(`${n}: does not restrict the principal type to Group`);
  }
  check('the worker\'s role-assignment right carries an ABAC condition (2.0): write only of the allowed role definitions to groups, delete only of them',
    assigners.length > 0 && condBad.length === 0, condBad.join('; ') || assigners.map(([n]) => n).join(', '));
  check('worker_assignable_role_definition_ids defaults to Contributor only, and refuses Owner, User Access Administrator and RBAC Administrator',
    JSON.stringify(allowed) === JSON.stringify([CONTRIBUTOR])
    && [OWNER, UAA, RBAC_ADMIN].every((g) => (vars.worker_assignable_role_definition_ids?.validation || []).some((v) => String(v.condition).includes(g))),
    JSON.stringify(allowed));
  const toWorkerAssign = assigners.filter(([, r]) => !/azurerm_user_assigned_identity\.worker\./.test(r.principal_id ?? '')).map(([n]) => n);
  check('only the worker\'s identity may assign roles', toWorkerAssign.length === 0, toWorkerAssign.join(', '));

  // The workload subscription: its own variable (no default), its own
  // provider alias; the worker's namespace rights live only there.
  const wl = (cfg.provider.azurerm || []).find((b) => b.alias === 'workload');
  check('provider azurerm.workload targets var.workload_subscription_id', wl?.subscription_id === '${var.workload_subscription_id}', wl?.subscription_id);
  const wv = vars.workload_subscription_id;
  check('workload_subscription_id has no default (plan refuses until it is chosen) and each env/*.tfvars leaves it UNSET(...) for the operator',
    !!wv && !('default' in wv) && varFiles.every((f) => String(parsed.get(f).workload_subscription_id ?? '').startsWith('UNSET(')),
    varFiles.map((f) => `${basename(f)}: ${parsed.get(f).workload_subscription_id}`).join('; '));
  check('sharing the platform\'s subscription is refused unless allow_shared_workload_subscription (default false)',
    vars.allow_shared_workload_subscription?.default === false
    && Object.values(defs).some((d) => (d.lifecycle || []).some((l) => (l.precondition || []).some((p) => /var\.workload_subscription_id != var\.subscription_id/.test(p.condition) && /allow_shared_workload_subscription/.test(p.condition)))));
  const inWorkload = (body) => body.provider === '${azurerm.workload}';
  const wsScope = (scope) => /^\/subscriptions\/\$\{var\.workload_subscription_id\}$/.test(expand(scope));
  const wlBad = [];
  for (const [n, d] of Object.entries(defs)) {
    if (!inWorkload(d)) wlBad.push(`role definition ${n}: not provider azurerm.workload`);
    if (!wsScope(d.scope)) wlBad.push(`role definition ${n}: scope ${d.scope}`);
    const as = d.assignable_scopes || [];
    if (as.length !== 1 || !wsScope(as[0])) wlBad.push(`role definition ${n}: assignable_scopes ${JSON.stringify(as)}`);
  }
  for (const [n, r] of assigners) {
    if (!inWorkload(r)) wlBad.push(`${n}: not provider azurerm.workload`);
    if (!wsScope(r.scope)) wlBad.push(`${n}: scope ${r.scope}, not the workload subscription`);
  }
  const platformSub = ras.filter(([, r]) => /var\.subscription_id\b|data\.azurerm_subscription/.test(expand(r.scope))).map(([n]) => n);
  if (platformSub.length) wlBad.push(`assigned at the platform subscription: ${platformSub.join(', ')}`);
  check('the worker\'s custom role is defined, assignable and assigned only in the workload subscription (provider azurerm.workload), never the platform\'s',
    Object.keys(defs).length > 0 && wlBad.length === 0, wlBad.join('; '));
  const notActions = Object.values(defs).flatMap((d) => (d.permissions || []).flatMap((p) => p.not_actions || []));
  check('the custom role cannot remove its guard rails (locks, policy assignments/definitions/exemptions, role definitions are not_actions)',
    ['Microsoft.Authorization/locks/delete', 'Microsoft.Authorization/policyAssignments/delete', 'Microsoft.Authorization/policyExemptions/delete'].every((a) => notActions.includes(a)));

  // What the condition cannot restrict (the scope): an Azure Policy in the
  // workload subscription.
  const pd = Object.values(R.azurerm_policy_definition || {}).find((p) => inWorkload(p));
  const rule = String(pd?.policy_rule ?? '');
  const pa = Object.values(R.azurerm_subscription_policy_assignment || {}).find((a) => inWorkload(a) && /azurerm_policy_definition\./.test(a.policy_definition_id ?? ''));
  check('Azure Policy in the workload subscription: resource groups must be named atrium-*, the worker\'s roles granted only inside them',
    !!pd && pd.mode === 'All' && /Microsoft\.Resources\/subscriptions\/resourceGroups/.test(rule) && /notLike\s*=\s*"atrium-\*"/.test(rule)
    && /Microsoft\.Authorization\/roleAssignments\/roleDefinitionId/.test(rule) && /resourceGroups\/atrium-\*/.test(rule)
    && !!pa && wsScope(pa.subscription_id) && /worker_assignable_role_definition_ids/.test(pa.parameters ?? ''));
}

finish();
