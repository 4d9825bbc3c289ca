#!/usr/bin/env node
// Writes openapi/openapi-3.0.yaml, an OpenAPI 3.0.3 copy of
// openapi/openapi.yaml (3.1) for SDK generators that do not read 3.1.
//
//   node scripts/openapi-3.0.mjs           regenerate the committed copy
//   node scripts/openapi-3.0.mjs --check   fail (exit 1) if it is not up to date
//   node scripts/openapi-3.0.mjs IN OUT    convert IN into OUT
//
// @apiture/openapi-down-convert does most of it (type: [x, 'null'] to
// nullable, const to a one-value enum, JSON Schema examples to example,
// webhooks, $comment, license.identifier, ...). What it leaves 3.1-only is
// finished here (downConvert below): oneOf/anyOf with a {type: 'null'}
// member, $ref with sibling keywords, numeric exclusiveMinimum/Maximum,
// jsonSchemaDialect, info.summary, a license url.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Converter } from '@apiture/openapi-down-convert';
import YAML from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const HEADER =
  '# GENERATED from openapi/openapi.yaml by scripts/openapi-3.0.mjs: do not edit.\n' +
  '# OpenAPI 3.0.3 for SDK generators that do not read 3.1; openapi.yaml is the source of truth.\n';

let SCHEMAS = {};
function refTarget(ref) {
  const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
  if (!m || !SCHEMAS[m[1]]) throw new Error(`cannot resolve ${ref}`);
  return SCHEMAS[m[1]];
}

const isNull = (s) => s && typeof s === 'object' && s.type === 'null' && Object.keys(s).length === 1;

// One schema node (already converted below it): fix what 3.0 cannot say.
function fixSchema(node) {
  for (const key of ['oneOf', 'anyOf']) {
    const list = node[key];
    if (!Array.isArray(list) || !list.some(isNull)) continue;
    const rest = list.filter((s) => !isNull(s));
    delete node[key];
    if (rest.length === 1 && rest[0].$ref) {
      // 3.0.3 has no "this schema or null" for a $ref (nullable next to an
      // allOf does not let null through the referenced schema): the
      // referenced schema is copied here, with nullable.
      const { description } = node;
      Object.assign(node, structuredClone(refTarget(rest[0].$ref)));
      if (description !== undefined) node.description = description;
    } else if (rest.length === 1) {
      Object.assign(node, rest[0]);
    } else {
      node[key] = rest;
    }
    node.nullable = true;
  }
  // Numeric exclusive bounds (3.1) are a bound and a boolean in 3.0.
  for (const [ex, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']]) {
    if (typeof node[ex] === 'number') {
      node[bound] = node[ex];
      node[ex] = true;
    }
  }
  // A $ref's siblings are ignored in 3.0: keep them by wrapping the $ref.
  if (typeof node.$ref === 'string' && Object.keys(node).length > 1) {
    const ref = node.$ref;
    delete node.$ref;
    node.allOf = [{ $ref: ref }, ...(node.allOf ?? [])];
  }
  return node;
}

// Every schema object: components.schemas, and the `schema` of parameters,
// headers and media types, walked depth first.
const SCHEMA_LISTS = ['allOf', 'oneOf', 'anyOf'];
const SCHEMA_ONE = ['items', 'not', 'additionalProperties'];
function walkSchema(s) {
  if (!s || typeof s !== 'object' || Array.isArray(s)) return s;
  for (const k of SCHEMA_LISTS) if (Array.isArray(s[k])) s[k] = s[k].map(walkSchema);
  for (const k of SCHEMA_ONE) if (s[k] && typeof s[k] === 'object') s[k] = walkSchema(s[k]);
  if (s.properties) for (const p of Object.keys(s.properties)) s.properties[p] = walkSchema(s.properties[p]);
  return fixSchema(s);
}
function walkDoc(node, parentKey) {
  if (Array.isArray(node)) return node.forEach((x) => walkDoc(x, parentKey));
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'example' || k === 'examples') continue; // literal values
    if (k === 'schema' && v && typeof v === 'object') node[k] = walkSchema(v);
    else walkDoc(v, k);
  }
}

export function downConvert(spec31) {
  const spec = new Converter(structuredClone(spec31), { verbose: false }).convert();
  delete spec.jsonSchemaDialect;
  delete spec.webhooks;
  if (spec.info) delete spec.info.summary;
  // 3.0 has no license.identifier (the converter drops it) and needs a url.
  if (spec.info?.license && !spec.info.license.url && spec31.info?.license?.identifier) {
    spec.info.license.url = `https://spdx.org/licenses/${spec31.info.license.identifier}.html`;
  }
  const schemas = spec.components?.schemas ?? {};
  SCHEMAS = schemas;
  for (const name of Object.keys(schemas)) schemas[name] = walkSchema(schemas[name]);
  walkDoc(spec.paths);
  for (const k of ['parameters', 'headers', 'responses', 'requestBodies']) walkDoc(spec.components?.[k]);
  return spec;
}

export function render(spec31) {
  return HEADER + YAML.stringify(downConvert(spec31), { lineWidth: 0, aliasDuplicateObjects: false });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args[0] === '--check';
  const files = args.filter((a) => !a.startsWith('--'));
  const input = files[0] ?? `${root}openapi/openapi.yaml`;
  const output = files[1] ?? `${root}openapi/openapi-3.0.yaml`;
  const text = render(YAML.parse(readFileSync(input, 'utf8')));
  if (check) {
    let current = '';
    try {
      current = readFileSync(output, 'utf8');
    } catch {
      /* missing: reported below */
    }
    if (current !== text) {
      console.error(`${output} is not up to date with ${input}: run node scripts/openapi-3.0.mjs and commit it`);
      process.exit(1);
    }
    console.log(`${output} is up to date`);
  } else {
    writeFileSync(output, text);
    console.log(`wrote ${output}`);
  }
}
