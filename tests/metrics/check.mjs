#!/usr/bin/env node
// Checks Atrium's metrics against the real /metrics output of a running serve
// (and worker listener), after the integration tests and the conformance
// scenario filled them.
//
// Usage:
//   node tests/metrics/check.mjs lint URL...        the metric lint
//   node tests/metrics/check.mjs references URL...  dashboards and alert rules
//   node tests/metrics/check.mjs self-test          the lint on planted defects
//
// lint: `promtool check metrics` (Prometheus's own linter) on each output,
// then Atrium's rules: every family has HELP and TYPE; no label value holds a
// joined list ('|'); no state="max" pseudo-series; counters end in _total,
// histograms in a base unit (_seconds, _bytes); no label holds a raw id (a
// UUID) or a raw path (a route label is a router template or "unmatched");
// every family exposed is listed in docs/METRICS.md and every family listed
// there is exposed by serve or the worker.
//
// references: every metric named by a query of a Grafana dashboard
// (deploy/grafana/*.json, each valid JSON) or by an expression of the alert
// rules (deploy/prometheus/atrium-rules.yaml) exists in the outputs.
//
// HTTPS URLs are trusted through ATRIUM_TEST_CA. Prints one line per check
// and "N passed, M failed"; exits 1 on any failure.

import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import https from 'node:https';
import http from 'node:http';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} - ${name}${detail ? (ok ? ` (${detail})` : `: ${detail}`) : ''}`);
  return ok;
}
function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

function fetchText(url) {
  const ca = process.env.ATRIUM_TEST_CA ? readFileSync(process.env.ATRIUM_TEST_CA) : undefined;
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { ca, timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
  });
}

// ------------------------------------------------------------- parsing

// The text format: families (HELP, TYPE) and samples (name, labels).
export function parseExposition(text) {
  const families = new Map(); // name -> {help, type}
  const samples = [];
  const fam = (n) => {
    if (!families.has(n)) families.set(n, { help: null, type: null });
    return families.get(n);
  };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let m;
    if ((m = /^# HELP (\S+) (.*)$/.exec(line))) { fam(m[1]).help = m[2]; continue; }
    if ((m = /^# TYPE (\S+) (\S+)$/.exec(line))) { fam(m[1]).type = m[2]; continue; }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) { samples.push({ name: null, raw: line, labels: {} }); continue; }
    const labels = {};
    for (const l of (m[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, raw: line });
  }
  return { families, samples };
}

// The family a sample belongs to (a histogram's _bucket/_sum/_count).
function familyOf(name, families) {
  if (families.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count|total|created)$/, '');
  if (families.has(base)) return base;
  return name;
}

// The families docs/METRICS.md lists: table rows | `name` | type | ...
export function documentedFamilies(md) {
  const out = new Set();
  for (const m of md.matchAll(/^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(?:counter|gauge|histogram|summary)\s*\|/gm)) out.add(m[1]);
  return out;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

// Atrium's rules on one output; returns a list of problems per rule.
export function lintOutput(text) {
  const { families, samples } = parseExposition(text);
  const problems = { helpType: [], joined: [], stateMax: [], naming: [], rawValues: [], parse: [] };
  for (const s of samples) {
    if (!s.name) { problems.parse.push(s.raw); continue; }
    const f = familyOf(s.name, families);
    const info = families.get(f);
    if (!info || !info.help || !info.type) problems.helpType.push(f);
    for (const [k, v] of Object.entries(s.labels)) {
      if (v.includes('|')) problems.joined.push(`${s.name}{${k}="${v}"}`);
      if (k === 'state' && v === 'max') problems.stateMax.push(s.name);
      if (UUID.test(v)) problems.rawValues.push(`${s.name}{${k}="${v}"}`);
      if (k === 'route' && v !== 'unmatched' && !/^\/[A-Za-z0-9_.{}\/-]*$/.test(v)) problems.rawValues.push(`${s.name}{route="${v}"}`);
    }
  }
  for (const [name, info] of families) {
    if (!info.help || !info.type) problems.helpType.push(name);
    if (info.type === 'counter' && !name.endsWith('_total')) problems.naming.push(`${name}: a counter not ending in _total`);
    if (info.type !== 'counter' && name.endsWith('_total')) problems.naming.push(`${name}: _total on a ${info.type}`);
    if (info.type === 'histogram' && !/_(seconds|bytes)$/.test(name)) problems.naming.push(`${name}: a histogram without a base unit`);
    if (/_(milliseconds|ms|microseconds|us|kb|mb|minutes|hours)(_|$)/.test(name)) problems.naming.push(`${name}: not a base unit`);
  }
  for (const k of Object.keys(problems)) problems[k] = [...new Set(problems[k])];
  return { families, samples, problems };
}

function promtoolCheck(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) return { ok: false, out: `promtool: ${r.error.message}` };
  const out = `${r.stdout}${r.stderr}`.trim();
  return { ok: r.status === 0 && out === '', out };
}

// ------------------------------------------------------------- references

// Metric names in a PromQL expression: Atrium's, the process metrics and
// Atrium's recording rules (atrium:...).
export function metricNames(expr) {
  const clean = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set([...clean.matchAll(/(?<![\w:])((?:atrium|process)_[a-zA-Z0-9_]+|atrium:[a-zA-Z0-9_:]+)(?![\w:])/g)].map((m) => m[1]))];
}

function dashboardExprs(dash) {
  const exprs = [];
  const walk = (panels) => {
    for (const p of panels || []) {
      for (const t of p.targets || []) if (t.expr) exprs.push({ panel: p.title, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating?.list || []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (v.type === 'query' && q) exprs.push({ panel: `variable ${v.name}`, expr: q });
  }
  return exprs;
}

// A name exists when its family is exposed, or it is a histogram's series.
function exists(name, families) {
  if (families.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return !!m && families.get(m[1])?.type === 'histogram';
}

// ------------------------------------------------------------- modes

async function scrapeAll(urls) {
  const outputs = [];
  for (const url of urls) {
    try {
      outputs.push({ url, text: await fetchText(url) });
      check(`scraped ${url}`, true);
    } catch (e) {
      check(`scraped ${url}`, false, e.message);
    }
  }
  return outputs;
}

async function lint(urls) {
  const outputs = await scrapeAll(urls);
  if (!outputs.length) finish();
  const md = readFileSync(join(ROOT, 'docs', 'METRICS.md'), 'utf8');
  const documented = documentedFamilies(md);
  const exposed = new Set();
  for (const { url, text } of outputs) {
    const pt = promtoolCheck(text);
    check(`${url}: promtool check metrics`, pt.ok, pt.out.split('\n').slice(0, 8).join('; '));
    const { families, problems } = lintOutput(text);
    for (const f of families.keys()) exposed.add(f);
    check(`${url}: every family has HELP and TYPE`, problems.helpType.length === 0, problems.helpType.join(', '));
    check(`${url}: no label value holds a joined list ('|')`, problems.joined.length === 0, problems.joined.slice(0, 5).join(', '));
    check(`${url}: no state="max" pseudo-series`, problems.stateMax.length === 0, problems.stateMax.join(', '));
    check(`${url}: counters end in _total, histograms in a base unit`, problems.naming.length === 0, problems.naming.join('; '));
    check(`${url}: no raw id or raw path in a label`, problems.rawValues.length === 0, problems.rawValues.slice(0, 5).join(', '));
    check(`${url}: every line parses`, problems.parse.length === 0, problems.parse.slice(0, 3).join(' / '));
    const undocumented = [...families.keys()].filter((f) => !documented.has(f));
    check(`${url}: every family is listed in docs/METRICS.md`, undocumented.length === 0, undocumented.join(', '));
  }
  const unexposed = [...documented].filter((f) => !exposed.has(f));
  check(`every family docs/METRICS.md lists is exposed (${documented.size} families)`, unexposed.length === 0, unexposed.join(', '));
  finish();
}

async function references(urls) {
  const outputs = await scrapeAll(urls);
  if (!outputs.length) finish();
  const families = new Map();
  for (const { text } of outputs) for (const [k, v] of parseExposition(text).families) families.set(k, v);
  // Recording rules count as existing when the rules define them (and the
  // rules' own expressions are checked below).
  const rules = readFileSync(join(ROOT, 'deploy', 'prometheus', 'atrium-rules.yaml'), 'utf8');
  for (const m of rules.matchAll(/^\s*- record:\s*(\S+)\s*$/gm)) families.set(m[1], { type: 'recording rule' });
  const dir = join(ROOT, 'deploy', 'grafana');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  check('deploy/grafana holds dashboards', files.length > 0, files.join(', '));
  for (const f of files) {
    let dash;
    try {
      dash = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch (e) {
      check(`${f}: valid JSON`, false, e.message);
      continue;
    }
    const exprs = dashboardExprs(dash);
    check(`${f}: valid JSON, a uid and a title, queries`, !!dash.uid && !!dash.title && exprs.length > 0, `${exprs.length} queries`);
    const missing = [];
    const unnamed = [];
    for (const { panel, expr } of exprs) {
      const names = metricNames(expr);
      if (!names.length) unnamed.push(panel);
      for (const n of names) if (!exists(n, families)) missing.push(`${panel}: ${n}`);
    }
    check(`${f}: every metric its queries name exists in /metrics`, missing.length === 0, missing.slice(0, 8).join('; '));
    check(`${f}: every query names an Atrium metric`, unnamed.length === 0, unnamed.join(', '));
  }
  const exprs = [...rules.matchAll(/^\s*expr:\s*(\|[-+]?\s*\n((?:\s{8,}.*\n)+)|.*)$/gm)].map((m) => m[2] ?? m[1]);
  const missing = new Set();
  for (const e of exprs) for (const n of metricNames(e)) if (!exists(n, families)) missing.add(n);
  check(`deploy/prometheus/atrium-rules.yaml: every metric its ${exprs.length} expressions name exists in /metrics`, exprs.length > 0 && missing.size === 0, [...missing].join(', '));
  finish();
}

// The lint must be able to fail: each planted defect is caught by its rule.
function selfTest() {
  const good = [
    '# HELP atrium_x_total X.', '# TYPE atrium_x_total counter', 'atrium_x_total{route="/v1/tenants/{tenant_id}",method="GET"} 1',
    '# HELP atrium_y_seconds Y.', '# TYPE atrium_y_seconds histogram', 'atrium_y_seconds_bucket{le="+Inf"} 1', 'atrium_y_seconds_sum 1', 'atrium_y_seconds_count 1', '',
  ].join('\n');
  const clean = lintOutput(good).problems;
  check('self-test: a clean output has no problems', Object.values(clean).every((p) => p.length === 0), JSON.stringify(clean));
  check('self-test: promtool accepts the clean output', promtoolCheck(good).ok, promtoolCheck(good).out);
  const planted = [
    ['a joined method list', good.replace('method="GET"', 'method="GET|POST"'), 'joined'],
    ['a state="max" pseudo-series', `${good}# HELP atrium_p Pool.\n# TYPE atrium_p gauge\natrium_p{state="max"} 8\n`, 'stateMax'],
    ['a family without HELP', `${good}# TYPE atrium_q gauge\natrium_q 1\n`, 'helpType'],
    ['a counter without _total', `${good}# HELP atrium_r R.\n# TYPE atrium_r counter\natrium_r 1\n`, 'naming'],
    ['a histogram in milliseconds', `${good}# HELP atrium_z_ms Z.\n# TYPE atrium_z_ms histogram\natrium_z_ms_bucket{le="+Inf"} 1\natrium_z_ms_sum 1\natrium_z_ms_count 1\n`, 'naming'],
    ['a raw path in the route label', good.replace('/v1/tenants/{tenant_id}', '/v1/tenants/6d0f4b8e-1c2a-4f57-9a53-0b9d7e2f1a44'), 'rawValues'],
  ];
  for (const [what, text, rule] of planted) {
    const p = lintOutput(text).problems[rule];
    check(`self-test: the lint catches ${what}`, p.length > 0, p.join(', '));
  }
  const badPromtool = `${good}# TYPE atrium_c gauge\natrium_c 1\n`;
  check('self-test: promtool check metrics fails on a family without HELP', !promtoolCheck(badPromtool).ok, promtoolCheck(badPromtool).out);
  const md = '| `atrium_a_total` | counter |\n| `atrium_b` | gauge |\n';
  const doc = documentedFamilies(md);
  check('self-test: docs/METRICS.md rows are read', doc.has('atrium_a_total') && doc.has('atrium_b') && doc.size === 2);
  check('self-test: metric names are read from PromQL (not label values)',
    JSON.stringify(metricNames('sum by (route) (rate(atrium_http_requests_total{route="/atrium_fake"}[5m])) / process_open_fds + atrium:x:ratio_rate5m')) === '["atrium_http_requests_total","process_open_fds","atrium:x:ratio_rate5m"]');
  finish();
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'lint' && rest.length) await lint(rest);
else if (mode === 'references' && rest.length) await references(rest);
else if (mode === 'self-test') selfTest();
else {
  console.error('usage: node tests/metrics/check.mjs lint|references URL... | self-test');
  process.exit(2);
}
