/*
 * Integration: one namespace creation followed end to end by its trace.
 * A second `atrium serve` (ATRIUM_TEST_BINARY on ATRIUM_TEST_RL_PORT) and
 * an `atrium worker` run with ATRIUM_OTLP_ENDPOINT pointing to the OTLP
 * collector stand-in (tests/otlp-collector/server.mjs, started here). The
 * request's traceparent reaches the job row, the worker's log lines, the
 * fake ARM's requests and the exported spans of both processes, parented
 * request -> job attempt -> step -> outbound call. A malformed traceparent
 * is ignored (a new trace, the request still served) and a request without
 * one gets a generated trace in its log line and spans.
 */
#include <criterion/criterion.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atrium_build.h"
#include "client.h"
#include "ns_support.h"
#include "server/common/util.h"

static pid_t collector_pid, serve_pid;
static char collector_url[64], serve_base[96], *serve_log;

#define TID "0af7651916cd43dd8448eb211c80319c"
#define PID "b7ad6b7169203331"

static void start_collector(void)
{
	unsigned short port = nst_free_port();
	snprintf(collector_url, sizeof(collector_url), "http://127.0.0.1:%u", port);
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port);
	collector_pid = fork();
	cr_assert(collector_pid >= 0);
	if (collector_pid == 0) {
		test_child_dies_with_parent();
		freopen("/dev/null", "w", stdout);
		execlp("node", "node", ATRIUM_SOURCE_ROOT "/tests/otlp-collector/server.mjs", portstr,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		struct resp *r = http_at(collector_url, "GET", "/received", NULL, NULL, NULL);
		bool up = r->status == 200;
		resp_free(r);
		if (up)
			return;
		usleep(100000);
	}
	cr_assert_fail("the collector stand-in did not start on %s", collector_url);
}

static void start_serve(void)
{
	char otlp[256];
	snprintf(otlp, sizeof(otlp), "ATRIUM_OTLP_ENDPOINT=%s", collector_url);
	const char *env[] = {otlp, NULL};
	serve_log = nst_log_path("serve-traces");
	serve_pid = spawn_serve(0, env, serve_log, serve_base, sizeof(serve_base));
	for (int i = 0; i < 200; i++) {
		struct resp *r = http_at(serve_base, "GET", "/readyz", NULL, NULL, NULL);
		const char *idp = json_string_value(json_object_get(json_object_get(r->json, "checks"),
								     "identity_provider"));
		bool ready = idp && strcmp(idp, "ok") == 0;
		resp_free(r);
		if (ready)
			return;
		usleep(100000);
	}
	cr_assert_fail("the traced serve did not become ready (log %s)", serve_log);
}

static void suite_init(void)
{
	nst_setup();
	start_collector();
	start_serve();
}

static void suite_fini(void)
{
	if (serve_pid > 0)
		nst_stop(serve_pid, SIGTERM, 20);
	if (collector_pid > 0)
		nst_stop(collector_pid, SIGTERM, 5);
	free(serve_log);
	nst_teardown();
}

TestSuite(traces, .init = suite_init, .fini = suite_fini, .timeout = 180);

/* ---- logs ----------------------------------------------------------------- */

/* The JSON log lines of `path` for which match(line) holds, as an array. */
static json_t *log_lines(const char *path, bool (*match)(json_t *line, const char *arg), const char *arg)
{
	json_t *out = json_array();
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return out;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		if (j && match(j, arg))
			json_array_append(out, j);
		json_decref(j);
	}
	free(line);
	fclose(f);
	return out;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

static bool msg_mentions(json_t *line, const char *needle)
{
	return strstr(jstr(line, "msg"), needle) != NULL;
}

static bool request_line_of(json_t *line, const char *request_id)
{
	return strcmp(jstr(line, "msg"), "request") == 0 && strcmp(jstr(line, "request_id"), request_id) == 0;
}

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The serve's log line for request_id (written after the reply is sent). */
static json_t *wait_request_line(const char *request_id)
{
	for (int i = 0; i < 50; i++) {
		json_t *a = log_lines(serve_log, request_line_of, request_id);
		if (json_array_size(a) == 1) {
			json_t *l = json_incref(json_array_get(a, 0));
			json_decref(a);
			return l;
		}
		json_decref(a);
		usleep(100000);
	}
	cr_assert_fail("no request log line for %s in %s", request_id, serve_log);
	return NULL;
}

/* ---- exported spans -------------------------------------------------------- */

/* Every span the collector received: {service, span} pairs. */
static json_t *received_spans(void)
{
	struct resp *r = http_at(collector_url, "GET", "/received", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	json_t *out = json_array();
	size_t i, j, k, l;
	json_t *req, *rs, *ss, *sp;
	json_array_foreach(json_object_get(r->json, "requests"), i, req) {
		json_array_foreach(json_object_get(json_object_get(req, "body"), "resourceSpans"), j, rs) {
			const char *service = NULL;
			json_t *attr;
			size_t a;
			json_array_foreach(json_object_get(json_object_get(rs, "resource"), "attributes"), a, attr)
				if (strcmp(jstr(attr, "key"), "service.name") == 0)
					service = jstr(json_object_get(attr, "value"), "stringValue");
			json_array_foreach(json_object_get(rs, "scopeSpans"), k, ss)
				json_array_foreach(json_object_get(ss, "spans"), l, sp)
					json_array_append_new(out, json_pack("{s:s, s:O}", "service",
									     service ? service : "", "span", sp));
		}
	}
	resp_free(r);
	return out;
}

/* The spans of trace `tid` (borrowed from all), optionally of one service. */
static json_t *spans_of(json_t *all, const char *tid, const char *service)
{
	json_t *out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(all, i, e) {
		json_t *sp = json_object_get(e, "span");
		if (strcmp(jstr(sp, "traceId"), tid) == 0 && (!service || strcmp(jstr(e, "service"), service) == 0))
			json_array_append(out, sp);
	}
	return out;
}

static const char *attr_str(json_t *span, const char *key)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(span, "attributes"), i, a) {
		if (strcmp(jstr(a, "key"), key) == 0) {
			json_t *v = json_object_get(a, "value");
			return json_object_get(v, "stringValue") ? jstr(v, "stringValue") : jstr(v, "intValue");
		}
	}
	return "";
}

static json_t *span_named(json_t *spans, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(spans, i, s)
		if (strcmp(jstr(s, "name"), name) == 0)
			return s;
	return NULL;
}

static bool has_span_id(json_t *spans, const char *id)
{
	size_t i;
	json_t *s;
	json_array_foreach(spans, i, s)
		if (strcmp(jstr(s, "spanId"), id) == 0)
			return true;
	return false;
}

/* Waits until the collector holds a span of trace tid from `service` that
 * satisfies name (NULL: any). */
static void wait_span(const char *tid, const char *service, const char *name)
{
	for (int i = 0; i < 100; i++) {
		json_t *all = received_spans();
		json_t *s = spans_of(all, tid, service);
		bool found = name ? span_named(s, name) != NULL : json_array_size(s) > 0;
		json_decref(s);
		json_decref(all);
		if (found)
			return;
		usleep(100000);
	}
	cr_assert_fail("no %s span %s of trace %s reached the collector", service, name ? name : "", tid);
}

/* ---- tests ------------------------------------------------------------------ */

Test(traces, a_namespace_creation_is_followed_from_its_traceparent_through_the_job_to_arm)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char rid[37];
	random_uuid(rid);
	char rid_h[64];
	snprintf(rid_h, sizeof(rid_h), "X-Request-Id: %s", rid);
	const char *hdrs[] = {"traceparent: 00-" TID "-" PID "-01", "tracestate: atrium=test", rid_h, NULL};
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	struct resp *r = http_at(serve_base, "POST", path, t.admin,
				 "{\"name\":\"traced\",\"environment\":\"dev\",\"location\":\"westeurope\"}", hdrs);
	cr_assert_eq(r->status, 202, "create: %ld %s", r->status, r->body);
	const char *id = json_string_value(json_object_get(r->json, "id"));
	cr_assert_not_null(id);
	char *ns_id = xstrdup(id);
	resp_free(r);

	/* The job row carries the request's trace (and its span as parent). */
	char *tp = nst_job(ns_id, "j.traceparent");
	cr_assert(tp && strncmp(tp, "00-" TID "-", 36) == 0, "job traceparent %s", tp ? tp : "NULL");
	char *ts = nst_job(ns_id, "j.tracestate");
	cr_assert_str_eq(ts, "atrium=test");
	char *job_id = nst_job(ns_id, "j.id");

	/* The serve's log line of the request has the trace and the request's
	 * span, the one stored as the job's parent. */
	char req_span[17];
	snprintf(req_span, sizeof(req_span), "%.16s", tp + 36);
	json_t *line = wait_request_line(rid);
	cr_assert_str_eq(jstr(line, "trace_id"), TID, "serve log: %s", serve_log);
	cr_assert_str_eq(jstr(line, "span_id"), req_span);
	json_decref(line);

	/* A traced worker runs the job. */
	json_decref(fake_call("DELETE", "/_fake/requests", NULL));
	char *wlog = nst_log_path("worker-traces");
	char *otlp_env = xasprintf("ATRIUM_OTLP_ENDPOINT=%s", collector_url);
	const char *env[] = {"ATRIUM_WORKER_POLL_MS=200", "ATRIUM_JOB_BACKOFF_BASE_MS=200",
			     "ATRIUM_JOB_BACKOFF_CAP_MS=2000", "ATRIUM_OUTBOUND_TIMEOUT_MS=10000", otlp_env,
			     NULL};
	pid_t w = spawn_worker(wlog, env);
	char *st = nst_wait(ns_id, ",ready,failed,", 90);
	cr_assert_str_eq(st, "ready", "worker log: %s", wlog);
	/* SIGTERM flushes the exporter's queue before the worker exits. */
	cr_assert_eq(nst_stop(w, SIGTERM, 20), 0, "worker exits 0 (log %s)", wlog);
	cr_assert(nst_log_clean(wlog), "sanitizer report in %s", wlog);

	/* Every worker log line about this job carries the request's trace. */
	json_t *wl = log_lines(wlog, msg_mentions, job_id);
	cr_assert_geq(json_array_size(wl), 1, "no worker log line names job %s (%s)", job_id, wlog);
	size_t i;
	json_t *l;
	json_array_foreach(wl, i, l) {
		cr_assert_str_eq(jstr(l, "trace_id"), TID, "worker line without the trace: %s", jstr(l, "msg"));
		cr_assert(is_hex(jstr(l, "span_id"), 16));
	}
	json_decref(wl);

	/* The fake ARM received the trace on every call of the job: ARM's
	 * resource group and role assignment, and the token request. */
	json_t *fr = fake_call("GET", "/_fake/requests", NULL);
	json_t *reqs = json_object_get(fr, "requests");
	json_t *arm_parents = json_array();
	int arm_calls = 0;
	json_array_foreach(reqs, i, l) {
		const char *h = jstr(json_object_get(l, "headers"), "traceparent");
		const char *p = jstr(l, "path");
		if (strstr(p, "atrium-") == NULL || strstr(p, "-traced") == NULL)
			continue;
		arm_calls++;
		cr_assert(strncmp(h, "00-" TID "-", 36) == 0 && strlen(h) == 55,
			  "%s %s sent traceparent '%s'", jstr(l, "method"), p, h);
		cr_assert_str_eq(jstr(json_object_get(l, "headers"), "tracestate"), "atrium=test");
		char parent[17];
		snprintf(parent, sizeof(parent), "%.16s", h + 36);
		json_array_append_new(arm_parents, json_string(parent));
	}
	cr_assert_geq(arm_calls, 2, "ARM calls of the job seen by the fake: %d", arm_calls);
	json_decref(fr);

	/* The spans: the serve's request span under the caller's parent, the
	 * worker's attempt under the request span, steps under the attempt,
	 * calls under the steps, and each traceparent ARM saw is a call span. */
	wait_span(TID, "atrium-serve", "POST /v1/tenants/{tenant_id}/namespaces");
	wait_span(TID, "atrium-worker", "job namespace.provision");
	json_t *all = received_spans();
	json_t *serve = spans_of(all, TID, "atrium-serve");
	json_t *worker = spans_of(all, TID, "atrium-worker");
	json_t *rs = span_named(serve, "POST /v1/tenants/{tenant_id}/namespaces");
	cr_assert_str_eq(jstr(rs, "spanId"), req_span);
	cr_assert_str_eq(jstr(rs, "parentSpanId"), PID);
	cr_assert_eq(json_integer_value(json_object_get(rs, "kind")), 2);
	cr_assert_str_eq(attr_str(rs, "http.response.status_code"), "202");
	cr_assert_str_eq(attr_str(rs, "http.request.method"), "POST");
	cr_assert_str_eq(attr_str(rs, "http.route"), "/v1/tenants/{tenant_id}/namespaces");
	cr_assert_str_eq(jstr(rs, "traceState"), "atrium=test");
	cr_assert(strlen(jstr(rs, "startTimeUnixNano")) >= 19, "times are unix nanos as strings");

	json_t *attempt = span_named(worker, "job namespace.provision");
	cr_assert_str_eq(jstr(attempt, "parentSpanId"), req_span, "the job continues the request's span");
	cr_assert_str_eq(attr_str(attempt, "atrium.job.id"), job_id);
	const char *steps[] = {"job step resource_group", "job step role_assignment", "job step containers"};
	json_t *step_spans = json_array();
	for (size_t k = 0; k < 3; k++) {
		json_t *s = span_named(worker, steps[k]);
		cr_assert_not_null(s, "no span %s", steps[k]);
	}
	/* Every step (the AKS steps too, when a cluster is configured) is a
	 * span under the attempt. */
	size_t si;
	json_t *sp;
	json_array_foreach(worker, si, sp) {
		const char *name = jstr(sp, "name");
		if (name && strncmp(name, "job step ", 9) == 0) {
			cr_assert_str_eq(jstr(sp, "parentSpanId"), jstr(attempt, "spanId"), "%s under the attempt", name);
			json_array_append(step_spans, sp);
		}
	}
	int calls = 0, arm = 0;
	json_array_foreach(worker, i, l) {
		if (json_integer_value(json_object_get(l, "kind")) != 3)
			continue;
		calls++;
		cr_assert(has_span_id(step_spans, jstr(l, "parentSpanId")), "call %s outside the steps",
			  jstr(l, "name"));
		if (strcmp(attr_str(l, "atrium.outbound.target"), "arm") == 0)
			arm++;
	}
	cr_assert_geq(arm, 2, "ARM call spans: %d of %d calls", arm, calls);
	json_t *parent;
	json_array_foreach(arm_parents, i, parent)
		cr_assert(has_span_id(worker, json_string_value(parent)),
			  "the traceparent ARM saw (span %s) is an exported call span", json_string_value(parent));

	json_decref(step_spans);
	json_decref(serve);
	json_decref(worker);
	json_decref(all);
	json_decref(arm_parents);
	free(st);
	free(wlog);
	free(otlp_env);
	free(path);
	free(tp);
	free(ts);
	free(job_id);
	free(ns_id);
	nst_tenant_free(&t);
}

/* GET /v1/me with these extra headers; returns the request's log line. */
static json_t *traced_me(const char *traceparent, char rid[37])
{
	struct tenant t;
	create_tenant(&t);
	char *tok = mint(t.aad, NULL, "tenant_admin", NULL);
	random_uuid(rid);
	char rid_h[64], tp_h[128];
	snprintf(rid_h, sizeof(rid_h), "X-Request-Id: %s", rid);
	const char *hdrs[3] = {rid_h, NULL, NULL};
	if (traceparent) {
		snprintf(tp_h, sizeof(tp_h), "traceparent: %s", traceparent);
		hdrs[1] = tp_h;
	}
	struct resp *r = http_at(serve_base, "GET", "/v1/me", tok, NULL, hdrs);
	cr_assert_eq(r->status, 200, "/v1/me with traceparent '%s': %ld %s", traceparent ? traceparent : "",
		     r->status, r->body);
	resp_free(r);
	free(tok);
	return wait_request_line(rid);
}

/* The exported request span of request rid: its trace must be tid. */
static void assert_request_span(const char *tid, const char *rid, const char *span_id)
{
	wait_span(tid, "atrium-serve", "GET /v1/me");
	json_t *all = received_spans();
	json_t *s = spans_of(all, tid, "atrium-serve");
	json_t *rs = span_named(s, "GET /v1/me");
	cr_assert_str_eq(attr_str(rs, "atrium.request_id"), rid);
	cr_assert_str_eq(jstr(rs, "spanId"), span_id);
	cr_assert_null(json_object_get(rs, "parentSpanId"), "a new trace's request span is a root");
	json_decref(s);
	json_decref(all);
}

Test(traces, a_malformed_traceparent_is_ignored_and_a_new_trace_started)
{
	static const char *const bad[] = {
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",   /* short */
		"00-00000000000000000000000000000000-b7ad6b7169203331-01", /* zero trace id */
		"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", /* forbidden version */
		"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", /* upper case */
		"garbage",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rid[37];
		json_t *line = traced_me(bad[i], rid);
		const char *tid = jstr(line, "trace_id");
		cr_assert(is_hex(tid, 32), "trace_id '%s'", tid);
		cr_assert(strstr(bad[i], tid) == NULL, "kept the malformed trace id of %s", bad[i]);
		cr_assert_str_neq(tid, TID);
		cr_assert(is_hex(jstr(line, "span_id"), 16));
		if (i == 0)
			assert_request_span(tid, rid, jstr(line, "span_id"));
		json_decref(line);
	}
}

Test(traces, a_request_without_traceparent_gets_a_generated_trace_logged_and_exported)
{
	char rid[37], rid2[37];
	json_t *a = traced_me(NULL, rid);
	json_t *b = traced_me(NULL, rid2);
	const char *tid = jstr(a, "trace_id");
	cr_assert(is_hex(tid, 32), "trace_id '%s'", tid);
	cr_assert(is_hex(jstr(a, "span_id"), 16));
	cr_assert_str_neq(tid, jstr(b, "trace_id"), "each request starts its own trace");
	assert_request_span(tid, rid, jstr(a, "span_id"));
	json_decref(a);
	json_decref(b);
}
