// The 3.1 -> 3.0.3 down-conversion (scripts/openapi-3.0.mjs), run by
// scripts/test with node --test: the committed copy is up to date, keeps
// every operation, and uses no 3.1-only construct; each rewrite on a small
// document of its own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { downConvert, render } from '../../scripts/openapi-3.0.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const spec31 = YAML.parse(readFileSync(`${root}openapi/openapi.yaml`, 'utf8'));

function walk(n, path, f) {
  if (Array.isArray(n)) n.forEach((x, i) => walk(x, `${path}/${i}`, f));
  else if (n && typeof n === 'object') {
    f(n, path);
    for (const [k, v] of Object.entries(n)) if (k !== 'example' && k !== 'examples') walk(v, `${path}/${k}`, f);
  }
}

test('the committed openapi-3.0.yaml is what the converter makes of openapi.yaml', () => {
  const committed = readFileSync(`${root}openapi/openapi-3.0.yaml`, 'utf8');
  assert.ok(committed === render(spec31), 'stale: run node scripts/openapi-3.0.mjs and commit openapi/openapi-3.0.yaml');
});

test('the 3.0 copy keeps every operation and uses nothing 3.1-only', () => {
  const spec30 = YAML.parse(readFileSync(`${root}openapi/openapi-3.0.yaml`, 'utf8'));
  assert.equal(spec30.openapi, '3.0.3');
  const ops = (s) => Object.entries(s.paths).flatMap(([p, item]) =>
    ['get', 'put', 'post', 'delete', 'patch'].filter((m) => item[m]).map((m) => `${m} ${p} ${item[m].operationId}`));
  assert.deepEqual(ops(spec30), ops(spec31));
  const bad = [];
  walk(spec30, '#', (n, p) => {
    if (Array.isArray(n.type)) bad.push(`${p}: type array`);
    if (n.type === 'null') bad.push(`${p}: type null`);
    for (const k of ['const', 'unevaluatedProperties', 'prefixItems', '$schema', '$comment', 'contentMediaType']) {
      if (k in n && !p.endsWith('/properties')) bad.push(`${p}: ${k}`);
    }
    if (typeof n.exclusiveMinimum === 'number' || typeof n.exclusiveMaximum === 'number') bad.push(`${p}: numeric exclusive bound`);
    if (typeof n.$ref === 'string' && Object.keys(n).length > 1) bad.push(`${p}: $ref with siblings`);
    if (n.nullable === true && n.type === undefined && !n.oneOf && !n.anyOf) bad.push(`${p}: nullable without type`);
  });
  assert.deepEqual(bad, []);
  for (const k of ['webhooks', 'jsonSchemaDialect']) assert.equal(spec30[k], undefined);
  assert.equal(spec30.info.summary, undefined);
  assert.equal(spec30.info.license.identifier, undefined);
  assert.match(spec30.info.license.url, /^https:\/\//);
});

test('each 3.1 construct becomes its 3.0 form', () => {
  const doc = {
    openapi: '3.1.0',
    info: { title: 't', version: '1', summary: 's', license: { name: 'MIT', identifier: 'MIT' } },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    webhooks: { x: {} },
    paths: {},
    components: {
      schemas: {
        Ref: { type: 'object', properties: { a: { type: 'string' } } },
        S: {
          type: 'object',
          properties: {
            n: { type: ['string', 'null'] },
            c: { const: 'x' },
            e: { type: 'integer', exclusiveMinimum: 0 },
            ex: { type: 'string', examples: ['a', 'b'] },
            r: { oneOf: [{ $ref: '#/components/schemas/Ref' }, { type: 'null' }], description: 'or null' },
            sib: { $ref: '#/components/schemas/Ref', description: 'with a sibling' },
          },
        },
      },
    },
  };
  const out = downConvert(doc);
  assert.equal(out.openapi, '3.0.3');
  assert.equal(out.webhooks, undefined);
  assert.equal(out.jsonSchemaDialect, undefined);
  assert.equal(out.info.summary, undefined);
  assert.equal(out.info.license.url, 'https://spdx.org/licenses/MIT.html');
  const p = out.components.schemas.S.properties;
  assert.deepEqual(p.n, { type: 'string', nullable: true });
  assert.deepEqual(p.c.enum, ['x']);
  assert.deepEqual(p.e, { type: 'integer', minimum: 0, exclusiveMinimum: true });
  assert.equal(p.ex.example, 'a');
  assert.equal(p.ex.examples, undefined);
  assert.deepEqual(p.r, { type: 'object', properties: { a: { type: 'string' } }, nullable: true, description: 'or null' });
  assert.deepEqual(p.sib, { description: 'with a sibling', allOf: [{ $ref: '#/components/schemas/Ref' }] });
  // The input is left as it was.
  assert.deepEqual(doc.components.schemas.S.properties.n.type, ['string', 'null']);
});
