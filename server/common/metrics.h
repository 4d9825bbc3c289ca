/*
 * metrics.h - Prometheus counters and histograms kept in atomics, so the
 * request path never takes a lock to count.
 *
 * Every family follows the Prometheus naming conventions (base units in the
 * name, `_total` counters, `_seconds` histograms) and has bounded labels:
 * route templates from the router, one method, a status from a fixed list,
 * database and target names from fixed tables. docs/METRICS.md lists each
 * family; the metric lint in scripts/test checks the two agree.
 *
 * metrics_render() writes the text exposition format (every family with its
 * HELP and TYPE) into a heap string the caller frees.
 */
#ifndef ATRIUM_METRICS_H
#define ATRIUM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_ROUTES 128
#define METRICS_MAX_DBS 8

/* Plain counters without labels. */
enum metric_counter {
	M_REDIS_ERRORS,   /* a Redis command or connection failed */
	M_RATE_LIMITED,   /* a request answered 429 by the rate limiter */
	M_NAMESPACE_REPAIRS, /* Azure resources the worker put back (drift) */
	M_COUNTER_MAX
};

/* How one bearer token authentication ended (outcome, reason). */
enum metric_auth_result {
	MA_ACCEPTED_CACHED,          /* accepted / cache_hit */
	MA_ACCEPTED_VERIFIED,        /* accepted / verified */
	MA_REJECTED_TOO_LONG,        /* rejected / too_long */
	MA_REJECTED_MALFORMED,       /* rejected / malformed (header, algorithm, kid) */
	MA_REJECTED_INVALID,         /* rejected / invalid (signature, claims, expiry) */
	MA_REJECTED_UNKNOWN_DIRECTORY, /* rejected / unknown_directory */
	MA_UNAVAILABLE,              /* unavailable / dependency (keys, directory, user record) */
	MA_RESULT_COUNT
};

/* Per-database events. */
enum metric_db_event {
	MD_ERROR,           /* a statement or connection failed unexpectedly */
	MD_ACQUIRE_TIMEOUT, /* no pool connection within the acquire timeout */
	MD_EVENT_COUNT
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

/* Ledger postings (billing_db rows that move money), by kind. */
enum metric_posting {
	MP_STAKE,
	MP_PAYOUT,
	MP_REFUND,
	MP_DEPOSIT,
	MP_WITHDRAWAL,
	MP_POSTING_COUNT
};

/* Repairs the settlement saga's reconciler made (bets.reconcile). */
enum metric_repair {
	MR_ORPHAN_STAKE_REFUNDED,  /* a stake whose bet was missing or rejected */
	MR_EVENT_RESUMED,          /* a settled/cancelled event whose job was queued again */
	MR_REPAIR_COUNT
};

/* The route template (e.g. "/v1/tenants/{tenant_id}") of route id. */
void metrics_set_route_name(int route_id, const char *pattern);
/* One request on route_id with the request's method (any other than the
 * seven HTTP methods Atrium knows counts as "other"). */
void metrics_observe_request(int route_id, const char *method, int status, uint64_t duration_ns);
void metrics_inc(enum metric_counter c);
void metrics_auth(enum metric_auth_result r);
void metrics_jwks_refresh(bool ok);
/* Database `db` (an index below METRICS_MAX_DBS) is called `name`, a static
 * string; set once at start so every database shows, used or not. */
void metrics_set_db_name(int db, const char *name);
void metrics_db_event(int db, enum metric_db_event e);
void metrics_db_acquire_wait(int db, uint64_t duration_ns);
void metrics_db_query(int db, uint64_t duration_ns);
void metrics_redis_command(uint64_t duration_ns);
/* One outbound call to target `id` (named `name`, a static string). */
void metrics_observe_outbound(int id, const char *name, enum metric_outbound_outcome o,
			      uint64_t duration_ns);
/* One job run of kind `kind` ended with outcome o. */
void metrics_job_outcome(const char *kind, enum metric_job_outcome o);
void metrics_ledger_postings(enum metric_posting kind, int n);
void metrics_saga_repairs(enum metric_repair r, int n);
/* Gauges are read at scrape time through this callback, set by main. */
typedef void (*metrics_gauge_fn)(char **buf, size_t *len, size_t *cap);
void metrics_set_gauge_writer(metrics_gauge_fn fn);
char *metrics_render(void);
/* Appends printf output to a growing buffer; shared with gauge writers. */
void metrics_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "# HELP name help\n# TYPE name type\n", for gauge writers. */
void metrics_family(char **buf, size_t *len, size_t *cap, const char *name, const char *type,
		    const char *help);

#endif
