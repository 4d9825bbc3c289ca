// A stand-in for an OpenTelemetry collector, for tests: it accepts OTLP/HTTP
// JSON on POST /v1/traces, keeps each request's JSON, and serves what it
// received on GET /received ({count, requests: [{time, contentType, body}]}).
// DELETE /received forgets it. Anything else is a 404. It binds 127.0.0.1
// only. Usage: node tests/otlp-collector/server.mjs PORT
import http from 'node:http';

const port = Number(process.argv[2] || process.env.OTLP_COLLECTOR_PORT || 4318);
const MAX_BODY = 8 * 1024 * 1024;
const MAX_KEPT = 1000;
let received = [];

function send(res, status, obj) {
  const text = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/received' && req.method === 'GET') return send(res, 200, { count: received.length, requests: received });
  if (path === '/received' && req.method === 'DELETE') { received = []; return send(res, 200, { ok: true }); }
  if (path !== '/v1/traces' || req.method !== 'POST') return send(res, 404, { error: 'not found' });
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on('end', () => {
    if (size > MAX_BODY) return send(res, 413, { error: 'too large' });
    const ct = req.headers['content-type'] || '';
    if (!ct.startsWith('application/json')) return send(res, 415, { error: 'OTLP/HTTP JSON only' });
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { return send(res, 400, { error: 'bad JSON' }); }
    if (!Array.isArray(body.resourceSpans)) return send(res, 400, { error: 'no resourceSpans' });
    received.push({ time: new Date().toISOString(), contentType: ct, body });
    if (received.length > MAX_KEPT) received.splice(0, received.length - MAX_KEPT);
    send(res, 200, { partialSuccess: {} });
  });
});

server.listen(port, '127.0.0.1', () => console.log(`otlp collector stand-in on 127.0.0.1:${port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
