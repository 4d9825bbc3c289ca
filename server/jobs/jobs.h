/*
 * jobs.h - the durable job runtime shared by every kind of background work
 * (provisioning, settlement, webhook processing, reconciliation).
 *
 * A job kind is data: a name and a table of steps. The runtime claims a due
 * job (FOR UPDATE SKIP LOCKED, with a lease), runs the steps not yet
 * checkpointed, records each finished step, retries transient failures with
 * capped exponential backoff and full jitter up to max_attempts, and marks
 * permanent failures failed with the error kept. Adding a kind never touches
 * this file: call jobs_register_kind() from main().
 */
#ifndef ATRIUM_JOBS_H
#define ATRIUM_JOBS_H

#include <jansson.h>
#include <stdbool.h>

#include "server/store/db.h"

enum job_result {
	JOB_OK,        /* the step is done: checkpoint it */
	JOB_RETRY,     /* transient failure: try the job again later */
	JOB_FAIL,      /* permanent failure: the job fails now */
};

struct job {
	char id[37];
	char kind[64];
	char tenant_id[37];      /* "" when none */
	char request_id[129];
	/* The trace of the request that queued it ("" when none), and the
	 * span of the step now running (current on the runner's thread). */
	char traceparent[56];
	char tracestate[513];
	json_t *payload;         /* owned by the runtime */
	json_t *steps;           /* finished steps [{name, finished_at, output}] */
	int attempts;            /* including this one */
	int max_attempts;
	/* Set by a step that fails: {code, message} (owned by the runtime). */
	json_t *error;
	/* A step may ask for a specific delay before the retry (Retry-After). */
	int retry_after_ms;
	/* Output of the step now running, stored with its checkpoint. */
	json_t *output;
	/* Strings and temporaries of the step now running: cleared after
	 * every step, so steps never free what they put here. */
	struct arena arena;
};

struct job_step {
	const char *name;
	enum job_result (*run)(struct job *j);
};

struct job_kind {
	const char *name;
	const struct job_step *steps;
	size_t nsteps;
	int max_attempts;                 /* default for new jobs of this kind */
	/* Called once when the job ends failed (after the last attempt or a
	 * permanent error), e.g. to mark the namespace failed. May be NULL. */
	void (*on_failed)(struct job *j);
	/* Called once when every step has succeeded. May be NULL. */
	void (*on_succeeded)(struct job *j);
};

void jobs_register(void);                     /* statements */
void jobs_register_kind(const struct job_kind *k);

/*
 * Queues a job in portal_db on the caller's connection (inside its
 * transaction, so the job exists exactly when the change that needs it
 * commits). payload is borrowed. Fills id_out. False on database failure.
 * The thread's current span (trace_current(): the request's) is stored
 * with the job, and the worker continues its trace.
 */
bool jobs_enqueue(struct db_conn *portal, const char *kind, const char *tenant_id,
		  json_t *payload, const char *request_id, char id_out[37]);

/*
 * Cancels job `id` if it is still queued (not running): it ends failed
 * with {code, message}, on the caller's connection and transaction.
 * *canceled says whether it was. False on database failure.
 */
bool jobs_cancel_if_queued(struct db_conn *portal, const char *id, const char *code,
			   const char *message, bool *canceled);

/* Jobs waiting or running, by kind and state (due, scheduled, running),
 * read at scrape time. Returns the number of rows, -1 on failure. */
struct job_depth {
	char kind[64];
	char state[16];
	long long count;
	double oldest_s; /* seconds since the oldest one's run_at */
};
int jobs_queue_depth(struct job_depth *out, int max);

/*
 * Periodic, platform-wide work (no tenant): makes sure a queued job of
 * `kind` runs within delay_ms, queueing one when none is queued (a job
 * that schedules its own next run from on_succeeded/on_failed makes a
 * cycle; cycles started by several workers merge). portal is scoped "*".
 */
bool jobs_schedule(struct db_conn *portal, const char *kind, int delay_ms);

/* Records a step failure on the job: code and message are copied. */
void job_error(struct job *j, const char *code, const char *message);
/* The output an earlier finished step recorded, or NULL (borrowed). */
json_t *job_step_output(struct job *j, const char *step);
/* True once SIGTERM asked the worker to stop: long steps return early. */
bool jobs_stopping(void);

/*
 * Runs the worker until SIGTERM/SIGINT: `concurrency` threads claim and
 * run jobs; LISTEN/NOTIFY wakes them, a slow poll is the backstop.
 * Returns the process exit status.
 */
int jobs_worker_main(int concurrency);

/* Claims and runs at most one due job; for tests. Returns true if one ran. */
bool jobs_run_one(const char *worker_id);

/* Delay before retry n (1-based) with full jitter, in ms. */
int jobs_backoff_ms(int attempt, int base_ms, int cap_ms);

#endif
