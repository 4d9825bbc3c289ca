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
  for (const [name, bodies] of Object.entries(j.provider || {})) cfg.provider[name] = bodies[0];
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
  if (cfg.provider.azurerm) validateBody('provider.azurerm', cfg.provider.azurerm, schema.top, schema, null, problems);
  else problems.push('no provider "azurerm" block');
  check('schema: provider "azurerm"', problems.length === 0, problems.join('; '));
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
  for (const [name, body] of Object.entries(cfg.provider)) scan(`provider.${name}`, body);
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
  check('PostgreSQL databases auth_db, portal_db, betting_db, billing_db',
    ['auth_db', 'portal_db', 'betting_db', 'billing_db'].every((d) => dbs.includes(`"${d}"`)) && R.azurerm_postgresql_flexible_server_database?.service?.for_each === '${local.databases}');
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
  const uamiRole = (role) => ras.some((r) => r.role_definition_name === role && /azurerm_user_assigned_identity\.atrium\.principal_id/.test(r.principal_id ?? ''));
  check('role: Key Vault Secrets User for the workload identity', uamiRole('Key Vault Secrets User'));
  check('role: Storage Blob Data Contributor for the workload identity', uamiRole('Storage Blob Data Contributor'));
  check('role: namespace provisioning (custom role, assignment limited to Contributor by condition)',
    ras.some((r) => /azurerm_role_definition\./.test(r.role_definition_id ?? '') && /GuidEquals/.test(r.condition ?? '') && r.condition_version === '2.0'));
  const outs = Object.keys(cfg.output);
  const needed = ['postgres_host', 'postgres_databases', 'redis_host', 'key_vault_uri', 'key_vault_name', 'storage_blob_url',
    'storage_account_name', 'workload_identity_client_id', 'tenant_id', 'subscription_id', 'acr_login_server'];
  const missing = needed.filter((o) => !outs.includes(o));
  check('outputs: connection settings Atrium needs', missing.length === 0, missing.length ? `missing ${missing.join(', ')}` : needed.join(', '));
  const leaked = Object.entries(cfg.output).filter(([n, o]) => /password|key$|secret/i.test(n) && o.sensitive !== true).map(([n]) => n);
  check('outputs: secret outputs are sensitive', leaked.length === 0, leaked.join(', '));
}

finish();
