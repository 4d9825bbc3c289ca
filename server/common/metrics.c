/*
 * metrics.c - counters, latency histograms and process metrics for
 * /metrics (serve) and the worker's listener. See metrics.h.
 *
 * Everything is a fixed array of atomics indexed by small ids (route id,
 * method, status slot, database, target, job kind), so counting never
 * allocates and never locks, except the first run of a new job kind.
 * Histogram buckets are chosen per family for what this service does (see
 * docs/METRICS.md): each SLO threshold is a bucket boundary.
 */
#include "server/common/metrics.h"
#include "server/common/util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_BUCKETS 16

/* A histogram's counts: bucket[i] counts observations in (le[i-1], le[i]],
 * the last one those above every bound; rendered cumulative. */
struct hist {
	_Atomic uint64_t bucket[MAX_BUCKETS + 1];
	_Atomic uint64_t sum_ns;
};

struct bounds {
	const double *le;
	int n;
};
#define BOUNDS(a) {(a), (int)(sizeof(a) / sizeof((a)[0]))}

/* Requests: 0.25 s is the latency SLO's threshold, 1 s the "slow" line. */
static const double http_le[] = {0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
/* Pool waits: usually zero; the acquire timeout is 5 s. */
static const double acquire_le[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5};
/* Prepared statements: point reads are sub-millisecond, ledger postings and
 * listings a few ms, a reconcile batch can take a second. */
static const double query_le[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
/* Redis: sessions and rate-limit leases, 0.5 s is the command timeout. */
static const double redis_le[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5};
/* Azure: ARM answers in 0.1-2 s, long-running operations poll; 60 s is the
 * outbound timeout. */
static const double out_le[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
static const struct bounds http_b = BOUNDS(http_le), acquire_b = BOUNDS(acquire_le),
			   query_b = BOUNDS(query_le), redis_b = BOUNDS(redis_le), out_b = BOUNDS(out_le);

static void observe(struct hist *h, const struct bounds *b, uint64_t duration_ns)
{
	double s = (double)duration_ns / 1e9;
	int i = 0;
	while (i < b->n && s > b->le[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, duration_ns, memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static uint64_t hist_count(struct hist *h, const struct bounds *b)
{
	uint64_t n = 0;
	for (int i = 0; i <= b->n; i++)
		n += load(&h->bucket[i]);
	return n;
}

/* One histogram series; labels is `a="x",b="y"` or "". */
static void render_hist(char **buf, size_t *len, size_t *cap, const char *name,
			const char *labels, const struct bounds *b, struct hist *h)
{
	const char *sep = labels[0] ? "," : "";
	uint64_t cum = 0;
	for (int i = 0; i <= b->n; i++) {
		cum += load(&h->bucket[i]);
		if (i < b->n)
			metrics_appendf(buf, len, cap, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
					b->le[i], (unsigned long long)cum);
		else
			metrics_appendf(buf, len, cap, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels,
					sep, (unsigned long long)cum);
	}
	const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
	metrics_appendf(buf, len, cap, "%s_sum%s%s%s %.9g\n%s_count%s%s%s %llu\n", name, open, labels,
			close, (double)load(&h->sum_ns) / 1e9, name, open, labels, close,
			(unsigned long long)cum);
}

/* ---- HTTP ------------------------------------------------------------------- */

static const int status_codes[] = {200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404,
				   405, 409, 412, 413, 415, 422, 428, 429, 500, 502, 503};
#define N_STATUS (int)(sizeof(status_codes) / sizeof(status_codes[0]))
#define N_SLOTS (N_STATUS + 1) /* last slot: any other status */
static const char *const method_names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
					   "OPTIONS", "other"};
#define N_METHODS (int)(sizeof(method_names) / sizeof(method_names[0]))

struct route_series {
	char pattern[96];
	_Atomic uint64_t count[N_METHODS][N_SLOTS];
	struct hist latency[N_METHODS];
};
static struct route_series routes[METRICS_MAX_ROUTES];

void metrics_set_route_name(int id, const char *pattern)
{
	if (id < 0 || id >= METRICS_MAX_ROUTES)
		return;
	snprintf(routes[id].pattern, sizeof(routes[id].pattern), "%s", pattern);
}

static int method_slot(const char *method)
{
	for (int i = 0; method && i < N_METHODS - 1; i++)
		if (strcmp(method, method_names[i]) == 0)
			return i;
	return N_METHODS - 1;
}

void metrics_observe_request(int id, const char *method, int status, uint64_t duration_ns)
{
	if (id < 0 || id >= METRICS_MAX_ROUTES)
		return;
	struct route_series *r = &routes[id];
	int m = method_slot(method), slot = N_STATUS;
	for (int i = 0; i < N_STATUS; i++)
		if (status_codes[i] == status) {
			slot = i;
			break;
		}
	atomic_fetch_add_explicit(&r->count[m][slot], 1, memory_order_relaxed);
	observe(&r->latency[m], &http_b, duration_ns);
}

static void render_http(char **buf, size_t *len, size_t *cap)
{
	metrics_family(buf, len, cap, "atrium_http_requests_total", "counter",
		       "HTTP requests by route template, method and status.");
	for (int i = 0; i < METRICS_MAX_ROUTES; i++) {
		struct route_series *r = &routes[i];
		if (r->pattern[0] == '\0')
			continue;
		for (int m = 0; m < N_METHODS; m++)
			for (int s = 0; s < N_SLOTS; s++) {
				uint64_t n = load(&r->count[m][s]);
				if (n == 0)
					continue;
				char st[8];
				if (s < N_STATUS)
					snprintf(st, sizeof(st), "%d", status_codes[s]);
				else
					snprintf(st, sizeof(st), "other");
				metrics_appendf(buf, len, cap,
					"atrium_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %llu\n",
					r->pattern, method_names[m], st, (unsigned long long)n);
			}
	}
	metrics_family(buf, len, cap, "atrium_http_request_duration_seconds", "histogram",
		       "HTTP request latency (arrival to the last byte queued) by route template and method.");
	for (int i = 0; i < METRICS_MAX_ROUTES; i++) {
		struct route_series *r = &routes[i];
		if (r->pattern[0] == '\0')
			continue;
		for (int m = 0; m < N_METHODS; m++) {
			if (hist_count(&r->latency[m], &http_b) == 0)
				continue;
			char labels[160];
			/* Bounded: a pattern is at most 95 characters. */
			snprintf(labels, sizeof(labels), "route=\"%.95s\",method=\"%.15s\"", r->pattern,
				 method_names[m]);
			render_hist(buf, len, cap, "atrium_http_request_duration_seconds", labels,
				    &http_b, &r->latency[m]);
		}
	}
}

/* ---- plain and fixed-label counters --------------------------------------------- */

static _Atomic uint64_t counters[M_COUNTER_MAX];
static const struct {
	const char *name, *help;
} counter_info[M_COUNTER_MAX] = {
	[M_REDIS_ERRORS] = {"atrium_redis_errors_total",
			    "Redis commands or connections that failed."},
	[M_RATE_LIMITED] = {"atrium_rate_limited_requests_total",
			    "Requests refused with 429 by the per-address or per-tenant rate limit."},
	[M_NAMESPACE_REPAIRS] = {"atrium_namespace_repairs_total",
				 "Azure resources of ready namespaces the worker found missing or changed and put back."},
};

void metrics_inc(enum metric_counter c)
{
	if (c >= 0 && c < M_COUNTER_MAX)
		atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
}

static _Atomic uint64_t auth_results[MA_RESULT_COUNT];
static const char *const auth_labels[MA_RESULT_COUNT][2] = {
	[MA_ACCEPTED_CACHED] = {"accepted", "cache_hit"},
	[MA_ACCEPTED_VERIFIED] = {"accepted", "verified"},
	[MA_REJECTED_TOO_LONG] = {"rejected", "too_long"},
	[MA_REJECTED_MALFORMED] = {"rejected", "malformed"},
	[MA_REJECTED_INVALID] = {"rejected", "invalid"},
	[MA_REJECTED_UNKNOWN_DIRECTORY] = {"rejected", "unknown_directory"},
	[MA_UNAVAILABLE] = {"unavailable", "dependency"},
};

void metrics_auth(enum metric_auth_result r)
{
	if (r >= 0 && r < MA_RESULT_COUNT)
		atomic_fetch_add_explicit(&auth_results[r], 1, memory_order_relaxed);
}

static _Atomic uint64_t jwks[2]; /* [0] success, [1] failure */

void metrics_jwks_refresh(bool ok)
{
	atomic_fetch_add_explicit(&jwks[ok ? 0 : 1], 1, memory_order_relaxed);
}

static _Atomic uint64_t postings[MP_POSTING_COUNT];
static const char *const posting_names[MP_POSTING_COUNT] = {
	[MP_STAKE] = "stake", [MP_PAYOUT] = "payout", [MP_REFUND] = "refund",
	[MP_DEPOSIT] = "deposit", [MP_WITHDRAWAL] = "withdrawal",
};

void metrics_ledger_postings(enum metric_posting kind, int n)
{
	if (kind >= 0 && kind < MP_POSTING_COUNT && n > 0)
		atomic_fetch_add_explicit(&postings[kind], (uint64_t)n, memory_order_relaxed);
}

static _Atomic uint64_t repairs[MR_REPAIR_COUNT];
static const char *const repair_names[MR_REPAIR_COUNT] = {
	[MR_ORPHAN_STAKE_REFUNDED] = "orphan_stake_refunded",
	[MR_EVENT_RESUMED] = "event_settlement_resumed",
};

void metrics_saga_repairs(enum metric_repair r, int n)
{
	if (r >= 0 && r < MR_REPAIR_COUNT && n > 0)
		atomic_fetch_add_explicit(&repairs[r], (uint64_t)n, memory_order_relaxed);
}

static void render_counters(char **buf, size_t *len, size_t *cap)
{
	for (int c = 0; c < M_COUNTER_MAX; c++) {
		metrics_family(buf, len, cap, counter_info[c].name, "counter", counter_info[c].help);
		metrics_appendf(buf, len, cap, "%s %llu\n", counter_info[c].name,
				(unsigned long long)load(&counters[c]));
	}
	metrics_family(buf, len, cap, "atrium_auth_attempts_total", "counter",
		       "Bearer token authentications by outcome and reason.");
	for (int r = 0; r < MA_RESULT_COUNT; r++)
		metrics_appendf(buf, len, cap, "atrium_auth_attempts_total{outcome=\"%s\",reason=\"%s\"} %llu\n",
				auth_labels[r][0], auth_labels[r][1], (unsigned long long)load(&auth_results[r]));
	metrics_family(buf, len, cap, "atrium_jwks_refreshes_total", "counter",
		       "Fetches of the identity provider's signing keys (JWKS) by outcome.");
	metrics_appendf(buf, len, cap,
			"atrium_jwks_refreshes_total{outcome=\"success\"} %llu\n"
			"atrium_jwks_refreshes_total{outcome=\"failure\"} %llu\n",
			(unsigned long long)load(&jwks[0]), (unsigned long long)load(&jwks[1]));
	metrics_family(buf, len, cap, "atrium_ledger_postings_total", "counter",
		       "Ledger postings written to billing_db by this process, by kind.");
	for (int k = 0; k < MP_POSTING_COUNT; k++)
		metrics_appendf(buf, len, cap, "atrium_ledger_postings_total{kind=\"%s\"} %llu\n",
				posting_names[k], (unsigned long long)load(&postings[k]));
	metrics_family(buf, len, cap, "atrium_saga_repairs_total", "counter",
		       "Repairs the settlement reconciler (bets.reconcile) made, by repair.");
	for (int r = 0; r < MR_REPAIR_COUNT; r++)
		metrics_appendf(buf, len, cap, "atrium_saga_repairs_total{repair=\"%s\"} %llu\n",
				repair_names[r], (unsigned long long)load(&repairs[r]));
}

/* ---- databases and Redis ------------------------------------------------------- */

struct db_series {
	_Atomic(const char *) name;
	_Atomic uint64_t events[MD_EVENT_COUNT];
	struct hist acquire;
	struct hist query;
};
static struct db_series dbs[METRICS_MAX_DBS];

/* One histogram family with a series per database: the struct hist at
 * `field` of each database's series. */
static void render_db_hists(char **buf, size_t *len, size_t *cap, const char *family,
			    const char *help, const struct bounds *b, size_t field)
{
	metrics_family(buf, len, cap, family, "histogram", help);
	for (int d = 0; d < METRICS_MAX_DBS; d++) {
		const char *name = atomic_load_explicit(&dbs[d].name, memory_order_relaxed);
		char labels[64];
		if (name == NULL)
			continue;
		snprintf(labels, sizeof(labels), "db=\"%.50s\"", name);
		render_hist(buf, len, cap, family, labels, b,
			    (struct hist *)((char *)&dbs[d] + field));
	}
}
static struct hist redis_latency;

void metrics_set_db_name(int db, const char *name)
{
	if (db >= 0 && db < METRICS_MAX_DBS)
		atomic_store_explicit(&dbs[db].name, name, memory_order_relaxed);
}

void metrics_db_event(int db, enum metric_db_event e)
{
	if (db >= 0 && db < METRICS_MAX_DBS && e >= 0 && e < MD_EVENT_COUNT)
		atomic_fetch_add_explicit(&dbs[db].events[e], 1, memory_order_relaxed);
}

void metrics_db_acquire_wait(int db, uint64_t duration_ns)
{
	if (db >= 0 && db < METRICS_MAX_DBS)
		observe(&dbs[db].acquire, &acquire_b, duration_ns);
}

void metrics_db_query(int db, uint64_t duration_ns)
{
	if (db >= 0 && db < METRICS_MAX_DBS)
		observe(&dbs[db].query, &query_b, duration_ns);
}

void metrics_redis_command(uint64_t duration_ns)
{
	observe(&redis_latency, &redis_b, duration_ns);
}

static void render_stores(char **buf, size_t *len, size_t *cap)
{
	static const struct {
		const char *name, *help;
	} ev[MD_EVENT_COUNT] = {
		[MD_ERROR] = {"atrium_db_errors_total",
			      "Statements or connections that failed unexpectedly (constraint violations, serialization failures and lock timeouts are answers, not errors), by database."},
		[MD_ACQUIRE_TIMEOUT] = {"atrium_db_pool_acquire_timeouts_total",
					"Pool leases that found no free connection within the acquire timeout (5 s), by database."},
	};
	for (int e = 0; e < MD_EVENT_COUNT; e++) {
		metrics_family(buf, len, cap, ev[e].name, "counter", ev[e].help);
		for (int d = 0; d < METRICS_MAX_DBS; d++) {
			const char *name = atomic_load_explicit(&dbs[d].name, memory_order_relaxed);
			if (name)
				metrics_appendf(buf, len, cap, "%s{db=\"%s\"} %llu\n", ev[e].name, name,
						(unsigned long long)load(&dbs[d].events[e]));
		}
	}
	render_db_hists(buf, len, cap, "atrium_db_pool_acquire_wait_seconds",
			"Time a caller waited for a pool connection (including opening one), by database.",
			&acquire_b, offsetof(struct db_series, acquire));
	render_db_hists(buf, len, cap, "atrium_db_query_duration_seconds",
			"Prepared statement latency (send to result), by database.", &query_b,
			offsetof(struct db_series, query));
	metrics_family(buf, len, cap, "atrium_redis_command_duration_seconds", "histogram",
		       "Redis command latency (including a reconnect and retry).");
	render_hist(buf, len, cap, "atrium_redis_command_duration_seconds", "", &redis_b, &redis_latency);
}

/* ---- outbound calls and jobs ---------------------------------------------------- */

struct target_series {
	_Atomic(const char *) name;
	_Atomic uint64_t count[MO_OUTCOME_COUNT];
	struct hist latency;
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

void metrics_observe_outbound(int id, const char *name, enum metric_outbound_outcome o,
			      uint64_t duration_ns)
{
	if (id < 0 || id >= METRICS_MAX_TARGETS || o < 0 || o >= MO_OUTCOME_COUNT)
		return;
	struct target_series *t = &targets[id];
	atomic_store_explicit(&t->name, name, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->count[o], 1, memory_order_relaxed);
	observe(&t->latency, &out_b, duration_ns);
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

static void render_worker_series(char **buf, size_t *len, size_t *cap)
{
	metrics_family(buf, len, cap, "atrium_job_runs_total", "counter",
		       "Job runs (attempts) this process made, by kind and outcome.");
	pthread_mutex_lock(&kinds_mu);
	int n = atomic_load(&nkinds);
	for (int i = 0; i < n; i++)
		for (int o = 0; o < MJ_OUTCOME_COUNT; o++)
			metrics_appendf(buf, len, cap, "atrium_job_runs_total{kind=\"%s\",outcome=\"%s\"} %llu\n",
				kinds[i].name, job_outcome_names[o],
				(unsigned long long)load(&kinds[i].count[o]));
	pthread_mutex_unlock(&kinds_mu);

	metrics_family(buf, len, cap, "atrium_outbound_requests_total", "counter",
		       "Outbound calls to Azure (Entra ID, ARM, Blob) by target and outcome.");
	for (int i = 0; i < METRICS_MAX_TARGETS; i++) {
		const char *name = atomic_load_explicit(&targets[i].name, memory_order_relaxed);
		if (name == NULL)
			continue;
		for (int o = 0; o < MO_OUTCOME_COUNT; o++)
			metrics_appendf(buf, len, cap,
				"atrium_outbound_requests_total{target=\"%s\",outcome=\"%s\"} %llu\n", name,
				outbound_outcome_names[o], (unsigned long long)load(&targets[i].count[o]));
	}
	metrics_family(buf, len, cap, "atrium_outbound_request_duration_seconds", "histogram",
		       "Outbound call latency by target.");
	for (int i = 0; i < METRICS_MAX_TARGETS; i++) {
		const char *name = atomic_load_explicit(&targets[i].name, memory_order_relaxed);
		char labels[64];
		if (name == NULL)
			continue;
		snprintf(labels, sizeof(labels), "target=\"%s\"", name);
		render_hist(buf, len, cap, "atrium_outbound_request_duration_seconds", labels, &out_b,
			    &targets[i].latency);
	}
}

/* ---- the process (/proc), as Prometheus client libraries name it ----------------- */

static void render_process(char **buf, size_t *len, size_t *cap)
{
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
	long long rss = 0, btime = 0;
	char line[1024];
	bool stat_ok = false;

	FILE *f = fopen("/proc/self/stat", "r");
	if (f) {
		/* Fields after the command name, which may hold spaces: find
		 * its closing parenthesis first. */
		if (fgets(line, sizeof(line), f)) {
			char *p = strrchr(line, ')');
			stat_ok = p && sscanf(p + 2,
					      "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
					      "%*d %*d %*d %*d %*d %*d %llu %llu %lld",
					      &utime, &stime, &start, &vsize, &rss) == 5;
		}
		fclose(f);
	}
	f = fopen("/proc/stat", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "btime %lld", &btime) == 1)
				break;
		fclose(f);
	}
	int fds = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				fds++;
		closedir(d);
		fds--; /* the directory stream's own descriptor */
	}
	struct rlimit rl;
	bool rl_ok = getrlimit(RLIMIT_NOFILE, &rl) == 0;

	if (stat_ok && tick > 0) {
		metrics_family(buf, len, cap, "process_cpu_seconds_total", "counter",
			       "Total user and system CPU time spent in seconds.");
		metrics_appendf(buf, len, cap, "process_cpu_seconds_total %.2f\n",
				(double)(utime + stime) / (double)tick);
		metrics_family(buf, len, cap, "process_resident_memory_bytes", "gauge",
			       "Resident memory size in bytes.");
		metrics_appendf(buf, len, cap, "process_resident_memory_bytes %lld\n", rss * (long long)page);
		metrics_family(buf, len, cap, "process_virtual_memory_bytes", "gauge",
			       "Virtual memory size in bytes.");
		metrics_appendf(buf, len, cap, "process_virtual_memory_bytes %llu\n", vsize);
		if (btime > 0) {
			metrics_family(buf, len, cap, "process_start_time_seconds", "gauge",
				       "Start time of the process since unix epoch in seconds.");
			metrics_appendf(buf, len, cap, "process_start_time_seconds %.2f\n",
					(double)btime + (double)start / (double)tick);
		}
	}
	if (d) {
		metrics_family(buf, len, cap, "process_open_fds", "gauge", "Number of open file descriptors.");
		metrics_appendf(buf, len, cap, "process_open_fds %d\n", fds);
	}
	if (rl_ok) {
		metrics_family(buf, len, cap, "process_max_fds", "gauge",
			       "Maximum number of open file descriptors.");
		metrics_appendf(buf, len, cap, "process_max_fds %lld\n",
				rl.rlim_cur == RLIM_INFINITY ? -1LL : (long long)rl.rlim_cur);
	}
}

/* ---- rendering ------------------------------------------------------------------ */

static metrics_gauge_fn gauge_writer;

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

void metrics_family(char **buf, size_t *len, size_t *cap, const char *name, const char *type,
		    const char *help)
{
	metrics_appendf(buf, len, cap, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *metrics_render(void)
{
	size_t cap = 65536, len = 0;
	char *buf = xmalloc(cap);
	buf[0] = '\0';
	render_http(&buf, &len, &cap);
	render_counters(&buf, &len, &cap);
	render_stores(&buf, &len, &cap);
	render_worker_series(&buf, &len, &cap);
	render_process(&buf, &len, &cap);
	if (gauge_writer)
		gauge_writer(&buf, &len, &cap);
	return buf;
}
