#!/usr/bin/env node
// The PrometheusRule deploy/k8s/components/monitoring/prometheusrule.yaml
// carries exactly the groups of deploy/prometheus/atrium-rules.yaml (the
// file promtool checks and tests), and every alert's runbook_url is a
// section of deploy/RUNBOOK.md. --write regenerates the PrometheusRule.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// yaml is a dependency of tests/deploy (installed by npm ci there).
const { parse, stringify } = createRequire(join(ROOT, 'tests', 'deploy', 'package.json'))('yaml');
const PLAIN = join(ROOT, 'deploy', 'prometheus', 'atrium-rules.yaml');
const CR = join(ROOT, 'deploy', 'k8s', 'components', 'monitoring', 'prometheusrule.yaml');
const plain = parse(readFileSync(PLAIN, 'utf8'));

const HEADER = `# Generated from deploy/prometheus/atrium-rules.yaml by
# node tests/metrics/rules-sync.mjs --write (scripts/test fails when the two
# differ). Edit the plain file, then regenerate.
`;
function render() {
  return HEADER + stringify({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'atrium',
      labels: { 'app.kubernetes.io/name': 'atrium', 'app.kubernetes.io/component': 'monitoring', release: 'kube-prometheus-stack' },
    },
    spec: { groups: plain.groups },
  }, { lineWidth: 0 });
}

if (process.argv.includes('--write')) {
  writeFileSync(CR, render());
  console.log(`wrote ${CR}`);
  process.exit(0);
}
let failed = 0;
const check = (name, ok, detail = '') => {
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} - ${name}${detail ? ` (${detail})` : ''}`);
};
const cr = parse(readFileSync(CR, 'utf8'));
check('the PrometheusRule carries exactly the groups of deploy/prometheus/atrium-rules.yaml',
  JSON.stringify(cr?.spec?.groups) === JSON.stringify(plain.groups), 'node tests/metrics/rules-sync.mjs --write regenerates it');
const runbook = readFileSync(join(ROOT, 'deploy', 'RUNBOOK.md'), 'utf8');
const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
const alerts = plain.groups.flatMap((g) => g.rules.filter((r) => r.alert));
const bad = alerts.filter((a) => {
  const m = /^deploy\/RUNBOOK\.md#(.+)$/.exec(a.annotations?.runbook_url || '');
  return !m || !anchors.has(m[1]);
}).map((a) => `${a.alert}: ${a.annotations?.runbook_url}`);
check(`every alert (${alerts.length}) has a runbook_url to a section of deploy/RUNBOOK.md`, alerts.length > 0 && bad.length === 0, bad.join('; '));
const noSeverity = alerts.filter((a) => !['page', 'ticket'].includes(a.labels?.severity)).map((a) => a.alert);
check('every alert has severity page or ticket', noSeverity.length === 0, noSeverity.join(', '));
process.exit(failed ? 1 : 0);
