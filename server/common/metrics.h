/*
 * metrics.h - Prometheus counters and histograms kept in atomics, so the
 * request path never takes a lock to count.
 *
 * Request series are indexed by route id (assigned by the router) and a
 * status slot; other counters are a fixed enum. metrics_render() writes the
 * text exposition format into a heap string the caller frees.
 */
#ifndef ATRIUM_METRICS_H
#define ATRIUM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_ROUTES 128

enum metric_counter {
	M_AUTH_FAILURES,
	M_AUTH_CACHE_HITS,
	M_AUTH_CACHE_MISSES,
	M_JWKS_FETCH_OK,
	M_JWKS_FETCH_FAIL,
	M_REDIS_ERRORS,
	M_RATE_LIMITED,
	M_DB_ERRORS,
	M_DB_ACQUIRE_TIMEOUTS,
	M_NAMESPACE_REPAIRS,     /* Azure resources the worker put back (drift) */
	M_COUNTER_MAX
};

/* Outcomes of an outbound call (worker -> Azure), by what came back. */
enum metric_outbound_outcome {
	MO_SUCCESS,        /* 2xx */
	MO_CLIENT_ERROR,   /* 4xx other than 429 */
	MO_THROTTLED,      /* 429 */
	MO_SERVER_ERROR,   /* 5xx */
	MO_TIMEOUT,        /* no answer within the timeout */
	MO_NETWORK_ERROR,  /* connection refused, dropped, oversize body */
	MO_OUTCOME_COUNT
};
#define METRICS_MAX_TARGETS 8

/* Outcomes of one run of a job (an attempt), by job kind. */
enum metric_job_outcome {
	MJ_SUCCEEDED,      /* every step done */
	MJ_RETRIED,        /* a step failed transiently: the job is queued again */
	MJ_FAILED,         /* the job failed for good */
	MJ_RELEASED,       /* handed back at shutdown, to resume elsewhere */
	MJ_OUTCOME_COUNT
};
#define METRICS_MAX_JOB_KINDS 32

void metrics_set_route_name(int route_id, const char *method, const char *pattern);
void metrics_observe_request(int route_id, int status, uint64_t duration_ns);
void metrics_inc(enum metric_counter c);
/* One outbound call to target `id` (named `name`, a static string). */
void metrics_observe_outbound(int id, const char *name, enum metric_outbound_outcome o,
			      uint64_t duration_ns);
/* One job run of kind `kind` ended with outcome o. */
void metrics_job_outcome(const char *kind, enum metric_job_outcome o);
/* Gauges are read at scrape time through this callback, set by main. */
typedef void (*metrics_gauge_fn)(char **buf, size_t *len, size_t *cap);
void metrics_set_gauge_writer(metrics_gauge_fn fn);
char *metrics_render(void);
/* Appends printf output to a growing buffer; shared with gauge writers. */
void metrics_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
