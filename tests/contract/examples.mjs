#!/usr/bin/env node
// Every operation of openapi/openapi.yaml shows an example of its success
// response (each 2xx with a body) and of its request body (where it takes
// one), and every example (media-type `example`/`examples`, named
// components/examples) validates against its schema, strictly: objects
// closed as the conformance checker closes them (tests/conformance).
//   node tests/contract/examples.mjs [openapi.yaml]
// Prints "N passed, M failed"; exit status 1 if anything failed.
import { fileURLToPath } from 'node:url';
import { Conformance, HTTP_METHODS, deref, loadSpec } from '../conformance/validator.mjs';

const file = process.argv[2] ?? fileURLToPath(new URL('../../openapi/openapi.yaml', import.meta.url));
const spec = loadSpec(file);
const conf = new Conformance(spec);
let passed = 0;
let failed = 0;
function record(ok, what, detail = '') {
  if (ok) passed++;
  else failed++;
  if (!ok) console.log(`FAIL ${what}${detail ? ` -- ${detail}` : ''}`);
}

// The examples of one media type: [name, value].
function examplesOf(media) {
  const out = [];
  if (media.example !== undefined) out.push(['example', media.example]);
  for (const [name, ex] of Object.entries(media.examples ?? {})) {
    const e = deref(spec, ex);
    if (e && 'value' in e) out.push([name, e.value]);
  }
  return out;
}

function checkMedia(where, media, mustHave) {
  const list = examplesOf(media);
  if (mustHave) record(list.length > 0, `${where} has an example`);
  for (const [name, value] of list) {
    if (!media.schema || typeof value === 'string' && !/json/.test(where)) continue;
    const r = conf.validate(media.schema, value);
    record(r.ok, `${where} example "${name}" matches its schema (closed objects)`, r.errors);
  }
}

for (const [path, item] of Object.entries(spec.paths)) {
  for (const m of HTTP_METHODS) {
    const op = item[m];
    if (!op) continue;
    const key = `${m.toUpperCase()} ${path} (${op.operationId})`;
    const body = deref(spec, op.requestBody);
    for (const [mt, media] of Object.entries(body?.content ?? {})) checkMedia(`${key} request ${mt}`, media, true);
    for (const [status, raw] of Object.entries(op.responses ?? {})) {
      const resp = deref(spec, raw);
      for (const [mt, media] of Object.entries(resp?.content ?? {})) {
        checkMedia(`${key} ${status} ${mt}`, media, /^2/.test(status));
      }
    }
  }
}
for (const [name, resp] of Object.entries(spec.components?.responses ?? {})) {
  for (const [mt, media] of Object.entries(resp.content ?? {})) checkMedia(`components.responses.${name} ${mt}`, media, false);
}
console.log(`examples: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
