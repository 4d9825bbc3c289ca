// OpenAPI 3.1 response conformance: given the description and a real HTTP
// exchange, decide whether the response is one the description documents.
//
// Used by run.mjs; kept free of I/O (other than loading the description) so
// it can be exercised on its own.

import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const addFormats = addFormatsModule.default ?? addFormatsModule;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const DOC_ID = 'urn:atrium:openapi';

// Stricter than RFC 3339 alone: the API promises UTC ("Z") timestamps and
// canonical (lower-case, hyphenated) UUIDs.
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DATE_TIME_RE =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?Z$/;

export function loadSpec(file) {
  return YAML.parse(readFileSync(file, 'utf8'));
}

// Resolve a local JSON pointer ("#/components/...") in the description.
export function pointer(spec, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) {
    throw new Error(`unsupported $ref ${JSON.stringify(ref)} (only local refs)`);
  }
  let node = spec;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) {
      throw new Error(`dangling $ref ${ref}`);
    }
    node = node[key];
  }
  return node;
}

// Follow an OpenAPI (non-schema) $ref chain: responses, parameters, headers.
export function deref(spec, obj) {
  const seen = new Set();
  while (obj && typeof obj === 'object' && typeof obj.$ref === 'string') {
    if (seen.has(obj.$ref)) throw new Error(`$ref cycle at ${obj.$ref}`);
    seen.add(obj.$ref);
    obj = pointer(spec, obj.$ref);
  }
  return obj;
}

// Rewrite local "#/..." schema refs so that they point into the description
// registered with Ajv under DOC_ID (inline schemas then resolve too).
function rebase(schema) {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? DOC_ID + v : rebase(v);
  }
  return out;
}

// The published schemas are open to new members (clients must ignore what
// they do not know), but the server must send nothing undocumented: every
// object schema that lists `properties` and says nothing about
// `additionalProperties` is closed here (additionalProperties: false) before
// it is compiled, so an undocumented member fails the check. Free-form
// objects (no `properties`) and maps (their own `additionalProperties`) are
// left as they are. Nothing in the description uses allOf, where closing
// each part would be wrong: closing refuses to go on if it ever does.
export function closeObjects(schema) {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  if ('allOf' in schema) throw new Error('closeObjects: allOf is not supported (each part would be closed)');
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    // Literal values are not schemas: keep them as they are. A member of
    // `properties` is a schema whatever its name.
    if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, closeObjects(sub)]));
      continue;
    }
    out[k] = k === 'example' || k === 'examples' || k === 'const' || k === 'enum' || k === 'default' ? v : closeObjects(v);
  }
  if (out.properties && typeof out.properties === 'object' && !Array.isArray(out.properties) &&
      !('additionalProperties' in out) && !('unevaluatedProperties' in out)) {
    out.additionalProperties = false;
  }
  return out;
}

// Essence of a media type ("type/subtype") and its parameters, lower-cased.
export function parseMediaType(value) {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const [essence, ...params] = value.split(';');
  const map = {};
  for (const p of params) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    map[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { essence: essence.trim().toLowerCase(), params: map };
}

// Does a received Content-Type satisfy a documented media-type key? The
// essence must be equal and every documented parameter present with the
// same value (extra received parameters such as charset are fine).
export function mediaTypeMatches(documented, received) {
  const d = parseMediaType(documented);
  const r = parseMediaType(received);
  if (!d || !r) return false;
  if (d.essence !== r.essence) return false;
  for (const [k, v] of Object.entries(d.params)) {
    if (k === 'charset' ? (r.params[k] ?? '').toLowerCase() !== v.toLowerCase() : r.params[k] !== v) return false;
  }
  return true;
}

export function isJsonMediaType(value) {
  const m = parseMediaType(value);
  return !!m && (m.essence === 'application/json' || m.essence.endsWith('+json'));
}

function formatAjvErrors(errors) {
  return (errors ?? [])
    .slice(0, 8)
    .map((e) => {
      const where = e.instancePath || '(root)';
      let extra = '';
      if (e.keyword === 'additionalProperties') extra = ` (${e.params.additionalProperty})`;
      else if (e.keyword === 'enum') extra = ` (${JSON.stringify(e.params.allowedValues)})`;
      else if (e.keyword === 'const') extra = ` (${JSON.stringify(e.params.allowedValue)})`;
      return `${where} ${e.message}${extra}`;
    })
    .join('; ');
}

export class Conformance {
  constructor(spec) {
    this.spec = spec;
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addFormat('uuid', UUID_RE);
    this.ajv.addFormat('date-time', {
      type: 'string',
      validate: (s) => DATE_TIME_RE.test(s) && !Number.isNaN(Date.parse(s)),
    });
    // Only the schemas are a JSON Schema document; register them under DOC_ID
    // so "#/components/schemas/X" refs resolve.
    // Closed (see closeObjects): an undocumented member fails the check.
    this.ajv.addSchema({ $id: DOC_ID, components: { schemas: closeObjects(spec.components?.schemas ?? {}) } });
    this.cache = new WeakMap();
    this.routes = Object.keys(spec.paths ?? {}).map((template) => {
      const names = [];
      const source = template
        .split(/(\{[^}]+\})/)
        .map((part) => {
          const m = /^\{([^}]+)\}$/.exec(part);
          if (m) {
            names.push(m[1]);
            return '([^/]+)';
          }
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { template, re: new RegExp(`^${source}$`), names, literal: names.length === 0 };
    });
    // Literal paths win over templated ones (OpenAPI's matching rule).
    this.routes.sort((a, b) => Number(b.literal) - Number(a.literal));
  }

  validator(schema) {
    let v = this.cache.get(schema);
    if (!v) {
      v = this.ajv.compile(closeObjects(rebase(schema)));
      this.cache.set(schema, v);
    }
    return v;
  }

  // Validate a value against a schema from the description.
  validate(schema, value) {
    const v = this.validator(schema);
    const ok = v(value);
    return { ok, errors: ok ? '' : formatAjvErrors(v.errors) };
  }

  // Which documented path (template) a concrete path belongs to.
  matchPath(path) {
    const bare = path.split('?')[0];
    for (const r of this.routes) {
      const m = r.re.exec(bare);
      if (m) {
        const params = {};
        r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
        return { template: r.template, params, pathItem: this.spec.paths[r.template] };
      }
    }
    return null;
  }

  documentedMethods(pathItem) {
    return HTTP_METHODS.filter((m) => pathItem && pathItem[m]).map((m) => m.toUpperCase());
  }

  operations() {
    const ops = [];
    for (const [template, item] of Object.entries(this.spec.paths ?? {})) {
      for (const m of HTTP_METHODS) {
        if (item[m]) ops.push({ key: `${m.toUpperCase()} ${template}`, operationId: item[m].operationId });
      }
    }
    return ops;
  }

  // The documented response for a status: exact code, then "4XX", then default.
  responseFor(operation, status) {
    const rs = operation.responses ?? {};
    const raw = rs[String(status)] ?? rs[`${String(status)[0]}XX`] ?? rs.default;
    return raw === undefined ? null : deref(this.spec, raw);
  }

  // Header value validated against its schema (header values are strings;
  // integer and number schemas get the text parsed).
  validateHeader(schema, text) {
    const s = deref(this.spec, schema) ?? {};
    let value = text;
    const types = [].concat(s.type ?? []);
    if (types.includes('integer')) {
      if (!/^-?\d+$/.test(text.trim())) return { ok: false, errors: `"${text}" is not an integer` };
      value = Number(text.trim());
    } else if (types.includes('number')) {
      if (text.trim() === '' || Number.isNaN(Number(text))) return { ok: false, errors: `"${text}" is not a number` };
      value = Number(text);
    } else if (types.includes('boolean')) {
      if (!/^(true|false)$/.test(text.trim())) return { ok: false, errors: `"${text}" is not a boolean` };
      value = text.trim() === 'true';
    }
    return this.validate(s, value);
  }

  // Check one exchange. Returns { operationKey, checks: [{ok, what, detail}] }.
  // exchange: { method, path, status, headers (lower-cased names), text }
  checkExchange(exchange) {
    const checks = [];
    const add = (ok, what, detail = '') => checks.push({ ok: !!ok, what, detail });
    const method = exchange.method.toUpperCase();
    const status = exchange.status;
    const headers = exchange.headers;
    const match = this.matchPath(exchange.path);
    let response = null;
    let operationKey = null;
    let operation = null;

    if (!match) {
      // No documented path: only the generic "no such route" answer is valid.
      add(status === 404, 'unknown route answers 404 (path is not in the description)', `got ${status}`);
      response = deref(this.spec, this.spec.components?.responses?.NotFound);
      add(response, 'components.responses.NotFound is documented');
    } else if (!match.pathItem[method.toLowerCase()]) {
      // Documented path, undocumented method: 405 with Allow.
      add(status === 405, `${method} is not documented for ${match.template}: answers 405`, `got ${status}`);
      response = deref(this.spec, this.spec.components?.responses?.MethodNotAllowed);
      add(response, 'components.responses.MethodNotAllowed is documented');
      const allow = headers.allow;
      if (allow !== undefined) {
        const got = allow.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
        const want = this.documentedMethods(match.pathItem);
        const missing = want.filter((m) => !got.includes(m));
        const extra = got.filter((m) => !want.includes(m) && m !== 'HEAD' && m !== 'OPTIONS');
        add(
          missing.length === 0 && extra.length === 0,
          `Allow lists the documented methods of ${match.template} (${want.join(', ')})`,
          `Allow: ${allow}${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; undocumented ${extra.join(', ')}` : ''}`,
        );
      }
    } else {
      operation = match.pathItem[method.toLowerCase()];
      operationKey = `${method} ${match.template}`;
      add(true, `operation ${operationKey} (${operation.operationId}) is documented`);
      response = this.responseFor(operation, status);
      add(response, `status ${status} is documented for ${operation.operationId}`,
        `documented: ${Object.keys(operation.responses ?? {}).join(', ')}`);
    }

    // X-Request-Id is on every response, and documented on every response.
    const documentsRequestId =
      response && Object.keys(response.headers ?? {}).some((h) => h.toLowerCase() === 'x-request-id');
    if (!documentsRequestId) {
      add(typeof headers['x-request-id'] === 'string' && headers['x-request-id'] !== '', 'X-Request-Id header present');
      if (response) add(false, 'X-Request-Id is documented on this response');
    }
    if (!response) return { operationKey: null, checks };

    // Documented headers: required ones present; present ones valid.
    for (const [name, rawHeader] of Object.entries(response.headers ?? {})) {
      if (name.toLowerCase() === 'content-type') continue; // ignored by OpenAPI
      const h = deref(this.spec, rawHeader);
      const value = headers[name.toLowerCase()];
      if (value === undefined) {
        if (h.required) add(false, `required header ${name} present and valid`, 'missing');
        continue;
      }
      // A header sent several times (Set-Cookie) arrives as an array: each
      // occurrence must satisfy the schema.
      const values = Array.isArray(value) ? value : [value];
      const results = values.map((v) => (h.schema ? this.validateHeader(h.schema, v) : { ok: true }));
      const r = results.find((x) => !x.ok) ?? { ok: true };
      add(r.ok, `${h.required ? 'required' : 'optional'} header ${name} present and valid`, r.ok ? '' : `${name}: ${value}: ${r.errors}`);
    }

    // Body.
    const content = response.content ?? {};
    const mediaTypes = Object.keys(content);
    const contentType = headers['content-type'];
    if (mediaTypes.length === 0) {
      add((exchange.text ?? '') === '', 'no body (none documented)', `got ${(exchange.text ?? '').length} bytes`);
      return { operationKey, status, checks, operation };
    }
    const mt = mediaTypes.find((m) => mediaTypeMatches(m, contentType));
    add(mt, 'Content-Type is documented', `Content-Type: ${contentType ?? '(none)'}; documented: ${mediaTypes.join(', ')}`);
    if (!mt) return { operationKey, status, checks, operation };
    const schema = content[mt].schema;
    let body = exchange.text;
    if (isJsonMediaType(mt)) {
      try {
        body = JSON.parse(exchange.text);
      } catch (e) {
        add(false, 'body is JSON and matches the documented schema', `not JSON: ${e.message}`);
        return { operationKey, status, checks, operation };
      }
    }
    if (schema) {
      const r = this.validate(schema, body);
      add(r.ok, `body ${isJsonMediaType(mt) ? 'is JSON and ' : ''}matches the documented schema`, r.errors);
    }
    // Problem details must agree with the exchange.
    if (parseMediaType(mt).essence === 'application/problem+json' && body && typeof body === 'object') {
      add(body.status === status, 'problem.status equals the HTTP status', `problem.status ${body.status}`);
      add(body.request_id === headers['x-request-id'], 'problem.request_id equals X-Request-Id',
        `${body.request_id} vs ${headers['x-request-id']}`);
    }
    return { operationKey, status, checks, operation, body };
  }
}
