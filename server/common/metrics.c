/*
 * metrics.c - counters and latency histograms for /metrics.
 */
#include "server/common/metrics.h"
#include "server/common/util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const int status_codes[] = {200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404,
				   405, 409, 412, 413, 415, 422, 428, 429, 500, 502, 503};
#define N_STATUS (int)(sizeof(status_codes) / sizeof(status_codes[0]))
#define N_SLOTS (N_STATUS + 1) /* last slot: any other status */

static const double buckets_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define N_BUCKETS (int)(sizeof(buckets_s) / sizeof(buckets_s[0]))

struct route_series {
	char method[48];
	char pattern[96];
	_Atomic uint64_t count[N_SLOTS];
	_Atomic uint64_t bucket[N_BUCKETS + 1];
	_Atomic uint64_t sum_us;
};

static struct route_series routes[METRICS_MAX_ROUTES];

/* Outbound calls by target: outcome counts and a latency histogram. */
static const double out_buckets_s[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
				       1.0,   2.5,  5.0,   10.0, 30.0, 60.0};
#define N_OUT_BUCKETS (int)(sizeof(out_buckets_s) / sizeof(out_buckets_s[0]))
struct target_series {
	_Atomic(const char *) name;
	_Atomic uint64_t count[MO_OUTCOME_COUNT];
	_Atomic uint64_t bucket[N_OUT_BUCKETS + 1];
	_Atomic uint64_t sum_us;
};
static struct target_series targets[METRICS_MAX_TARGETS];
static const char *const outbound_outcome_names[MO_OUTCOME_COUNT] = {
	[MO_SUCCESS] = "success",
	[MO_CLIENT_ERROR] = "client_error",
	[MO_THROTTLED] = "throttled",
	[MO_SERVER_ERROR] = "server_error",
	[MO_TIMEOUT] = "timeout",
	[MO_NETWORK_ERROR] = "network_error",
};

/* Job outcomes by kind; kinds are added on first use, under kinds_mu. */
struct kind_series {
	char name[64];
	_Atomic uint64_t count[MJ_OUTCOME_COUNT];
};
static pthread_mutex_t kinds_mu = PTHREAD_MUTEX_INITIALIZER;
static struct kind_series kinds[METRICS_MAX_JOB_KINDS];
static _Atomic int nkinds;
static const char *const job_outcome_names[MJ_OUTCOME_COUNT] = {
	[MJ_SUCCEEDED] = "succeeded",
	[MJ_RETRIED] = "retried",
	[MJ_FAILED] = "failed",
	[MJ_RELEASED] = "released",
};
static _Atomic uint64_t counters[M_COUNTER_MAX];
static metrics_gauge_fn gauge_writer;

static const char *counter_names[M_COUNTER_MAX] = {
	[M_AUTH_FAILURES] = "atrium_auth_failures_total",
	[M_AUTH_CACHE_HITS] = "atrium_auth_cache_hits_total",
	[M_AUTH_CACHE_MISSES] = "atrium_auth_cache_misses_total",
	[M_JWKS_FETCH_OK] = "atrium_jwks_fetch_success_total",
	[M_JWKS_FETCH_FAIL] = "atrium_jwks_fetch_failure_total",
	[M_REDIS_ERRORS] = "atrium_redis_errors_total",
	[M_RATE_LIMITED] = "atrium_rate_limited_total",
	[M_DB_ERRORS] = "atrium_db_errors_total",
	[M_DB_ACQUIRE_TIMEOUTS] = "atrium_db_pool_acquire_timeouts_total",
	[M_NAMESPACE_REPAIRS] = "atrium_namespace_repairs_total",
};

void metrics_set_route_name(int id, const char *method, const char *pattern)
{
	if (id < 0 || id >= METRICS_MAX_ROUTES)
		return;
	snprintf(routes[id].method, sizeof(routes[id].method), "%s", method);
	snprintf(routes[id].pattern, sizeof(routes[id].pattern), "%s", pattern);
}

void metrics_observe_request(int id, int status, uint64_t duration_ns)
{
	if (id < 0 || id >= METRICS_MAX_ROUTES)
		return;
	struct route_series *r = &routes[id];
	int slot = N_STATUS;
	for (int i = 0; i < N_STATUS; i++)
		if (status_codes[i] == status) {
			slot = i;
			break;
		}
	atomic_fetch_add_explicit(&r->count[slot], 1, memory_order_relaxed);
	double s = (double)duration_ns / 1e9;
	int b = 0;
	while (b < N_BUCKETS && s > buckets_s[b])
		b++;
	atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, duration_ns / 1000, memory_order_relaxed);
}

void metrics_inc(enum metric_counter c)
{
	atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
}

void metrics_observe_outbound(int id, const char *name, enum metric_outbound_outcome o,
			      uint64_t duration_ns)
{
	if (id < 0 || id >= METRICS_MAX_TARGETS || o < 0 || o >= MO_OUTCOME_COUNT)
		return;
	struct target_series *t = &targets[id];
	atomic_store_explicit(&t->name, name, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->count[o], 1, memory_order_relaxed);
	double s = (double)duration_ns / 1e9;
	int b = 0;
	while (b < N_OUT_BUCKETS && s > out_buckets_s[b])
		b++;
	atomic_fetch_add_explicit(&t->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->sum_us, duration_ns / 1000, memory_order_relaxed);
}

void metrics_job_outcome(const char *kind, enum metric_job_outcome o)
{
	if (kind == NULL || o < 0 || o >= MJ_OUTCOME_COUNT)
		return;
	pthread_mutex_lock(&kinds_mu);
	int n = atomic_load(&nkinds), i;
	for (i = 0; i < n; i++)
		if (strcmp(kinds[i].name, kind) == 0)
			break;
	if (i == n && n < METRICS_MAX_JOB_KINDS) {
		snprintf(kinds[n].name, sizeof(kinds[n].name), "%s", kind);
		atomic_store(&nkinds, n + 1);
	}
	if (i < METRICS_MAX_JOB_KINDS)
		atomic_fetch_add_explicit(&kinds[i].count[o], 1, memory_order_relaxed);
	pthread_mutex_unlock(&kinds_mu);
}

/* Job outcomes and outbound calls, appended to the exposition. */
static void render_worker_series(char **buf, size_t *len, size_t *cap)
{
	metrics_appendf(buf, len, cap,
		"# HELP atrium_job_runs_total Job runs (attempts) by kind and outcome.\n"
		"# TYPE atrium_job_runs_total counter\n");
	pthread_mutex_lock(&kinds_mu);
	int n = atomic_load(&nkinds);
	for (int i = 0; i < n; i++)
		for (int o = 0; o < MJ_OUTCOME_COUNT; o++)
			metrics_appendf(buf, len, cap, "atrium_job_runs_total{kind=\"%s\",outcome=\"%s\"} %llu\n",
				kinds[i].name, job_outcome_names[o],
				(unsigned long long)atomic_load_explicit(&kinds[i].count[o], memory_order_relaxed));
	pthread_mutex_unlock(&kinds_mu);

	metrics_appendf(buf, len, cap,
		"# HELP atrium_outbound_requests_total Outbound calls to Azure by target and outcome.\n"
		"# TYPE atrium_outbound_requests_total counter\n");
	for (int i = 0; i < METRICS_MAX_TARGETS; i++) {
		const char *name = atomic_load_explicit(&targets[i].name, memory_order_relaxed);
		if (name == NULL)
			continue;
		for (int o = 0; o < MO_OUTCOME_COUNT; o++)
			metrics_appendf(buf, len, cap,
				"atrium_outbound_requests_total{target=\"%s\",outcome=\"%s\"} %llu\n", name,
				outbound_outcome_names[o],
				(unsigned long long)atomic_load_explicit(&targets[i].count[o], memory_order_relaxed));
	}
	metrics_appendf(buf, len, cap,
		"# HELP atrium_outbound_request_duration_seconds Outbound call latency by target.\n"
		"# TYPE atrium_outbound_request_duration_seconds histogram\n");
	for (int i = 0; i < METRICS_MAX_TARGETS; i++) {
		struct target_series *t = &targets[i];
		const char *name = atomic_load_explicit(&t->name, memory_order_relaxed);
		if (name == NULL)
			continue;
		uint64_t cum = 0;
		for (int b = 0; b <= N_OUT_BUCKETS; b++) {
			cum += atomic_load_explicit(&t->bucket[b], memory_order_relaxed);
			if (b < N_OUT_BUCKETS)
				metrics_appendf(buf, len, cap,
					"atrium_outbound_request_duration_seconds_bucket{target=\"%s\",le=\"%g\"} %llu\n",
					name, out_buckets_s[b], (unsigned long long)cum);
			else
				metrics_appendf(buf, len, cap,
					"atrium_outbound_request_duration_seconds_bucket{target=\"%s\",le=\"+Inf\"} %llu\n",
					name, (unsigned long long)cum);
		}
		metrics_appendf(buf, len, cap,
			"atrium_outbound_request_duration_seconds_sum{target=\"%s\"} %.6f\n"
			"atrium_outbound_request_duration_seconds_count{target=\"%s\"} %llu\n",
			name, (double)atomic_load_explicit(&t->sum_us, memory_order_relaxed) / 1e6, name,
			(unsigned long long)cum);
	}
}

void metrics_set_gauge_writer(metrics_gauge_fn fn)
{
	gauge_writer = fn;
}

void metrics_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < *cap - *len) {
			*len += (size_t)n;
			return;
		}
		*cap *= 2;
		*buf = xrealloc(*buf, *cap);
	}
}

char *metrics_render(void)
{
	size_t cap = 16384, len = 0;
	char *buf = xmalloc(cap);
	buf[0] = '\0';

	metrics_appendf(&buf, &len, &cap,
		"# HELP atrium_http_requests_total HTTP requests by route and status.\n"
		"# TYPE atrium_http_requests_total counter\n");
	for (int i = 0; i < METRICS_MAX_ROUTES; i++) {
		struct route_series *r = &routes[i];
		if (r->pattern[0] == '\0')
			continue;
		for (int s = 0; s < N_SLOTS; s++) {
			uint64_t n = atomic_load_explicit(&r->count[s], memory_order_relaxed);
			if (n == 0)
				continue;
			if (s < N_STATUS)
				metrics_appendf(&buf, &len, &cap,
					"atrium_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
					r->method, r->pattern, status_codes[s], (unsigned long long)n);
			else
				metrics_appendf(&buf, &len, &cap,
					"atrium_http_requests_total{method=\"%s\",route=\"%s\",status=\"other\"} %llu\n",
					r->method, r->pattern, (unsigned long long)n);
		}
	}
	metrics_appendf(&buf, &len, &cap,
		"# HELP atrium_http_request_duration_seconds Request latency by route.\n"
		"# TYPE atrium_http_request_duration_seconds histogram\n");
	for (int i = 0; i < METRICS_MAX_ROUTES; i++) {
		struct route_series *r = &routes[i];
		if (r->pattern[0] == '\0')
			continue;
		uint64_t cum = 0;
		for (int b = 0; b <= N_BUCKETS; b++) {
			cum += atomic_load_explicit(&r->bucket[b], memory_order_relaxed);
			if (b < N_BUCKETS)
				metrics_appendf(&buf, &len, &cap,
					"atrium_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
					r->method, r->pattern, buckets_s[b], (unsigned long long)cum);
			else
				metrics_appendf(&buf, &len, &cap,
					"atrium_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n",
					r->method, r->pattern, (unsigned long long)cum);
		}
		metrics_appendf(&buf, &len, &cap,
			"atrium_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
			"atrium_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
			r->method, r->pattern,
			(double)atomic_load_explicit(&r->sum_us, memory_order_relaxed) / 1e6,
			r->method, r->pattern, (unsigned long long)cum);
	}
	for (int c = 0; c < M_COUNTER_MAX; c++)
		metrics_appendf(&buf, &len, &cap, "# TYPE %s counter\n%s %llu\n", counter_names[c],
				counter_names[c],
				(unsigned long long)atomic_load_explicit(&counters[c], memory_order_relaxed));
	render_worker_series(&buf, &len, &cap);
	if (gauge_writer)
		gauge_writer(&buf, &len, &cap);
	return buf;
}
