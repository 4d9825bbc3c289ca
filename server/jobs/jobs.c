/*
 * jobs.c - claim, lease, heartbeat, steps, retries: the worker runtime.
 *
 * Threads: `concurrency` runners claim and run jobs; one listener holds a
 * LISTEN connection and wakes the runners on NOTIFY; one heartbeat thread
 * renews the lease of every running job. The main thread waits for
 * SIGTERM/SIGINT, then runners finish their current step, release the job
 * (so another worker resumes it at the next step) and exit.
 */
#include "server/jobs/jobs.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/common/trace.h"
#include "server/common/util.h"

#include <errno.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_KINDS 32
#define MAX_RUNNERS 64

static const struct db_stmt stmts[] = {
	{"jobs_enqueue",
	 "INSERT INTO jobs (tenant_id, kind, payload, max_attempts, request_id, traceparent, tracestate) "
	 "VALUES (NULLIF($1, '')::uuid, $2, $3::jsonb, $4::int, NULLIF($5, ''), NULLIF($6, ''), "
	 "        NULLIF($7, '')) RETURNING id"},
	/* Periodic work: the queued job of this kind runs within $3 ms, or a
	 * new one is queued when there is none. */
	{"jobs_schedule",
	 "WITH due AS (UPDATE jobs SET run_at = LEAST(run_at, now() + $3::int * interval '1 millisecond') "
	 "             WHERE kind = $1 AND status = 'queued' AND tenant_id IS NULL RETURNING id) "
	 "INSERT INTO jobs (kind, payload, max_attempts, run_at) "
	 "SELECT $1, '{}'::jsonb, $2::int, now() + $3::int * interval '1 millisecond' "
	 "WHERE NOT EXISTS (SELECT 1 FROM due) RETURNING id"},
	{"jobs_claim",
	 "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, "
	 "  locked_until = now() + make_interval(secs => $2::int), updated_at = now() "
	 "WHERE id = (SELECT id FROM jobs "
	 "  WHERE ((status = 'queued' AND run_at <= now()) "
	 "     OR (status = 'running' AND locked_until < now())) "
	 "    AND kind = ANY($3::text[]) "
	 "  ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
	 "RETURNING id, kind, COALESCE(tenant_id::text, ''), payload::text, steps::text, attempts, "
	 "  max_attempts, COALESCE(request_id, ''), COALESCE(traceparent, ''), COALESCE(tracestate, '')"},
	{"jobs_heartbeat",
	 "UPDATE jobs SET locked_until = now() + make_interval(secs => $3::int) "
	 "WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING 1"},
	{"jobs_checkpoint",
	 "UPDATE jobs SET steps = steps || jsonb_build_array(jsonb_build_object("
	 "  'name', $3::text, 'finished_at', rfc3339(now()), 'output', $4::jsonb)), updated_at = now() "
	 "WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING 1"},
	{"jobs_succeed",
	 "UPDATE jobs SET status = 'succeeded', locked_by = NULL, locked_until = NULL, "
	 "  last_error = NULL, updated_at = now() "
	 "WHERE id = $1 AND locked_by = $2 RETURNING 1"},
	{"jobs_retry",
	 "UPDATE jobs SET status = 'queued', run_at = now() + $3::int * interval '1 millisecond', "
	 "  last_error = $4::jsonb, locked_by = NULL, locked_until = NULL, updated_at = now() "
	 "WHERE id = $1 AND locked_by = $2 RETURNING 1"},
	{"jobs_fail",
	 "UPDATE jobs SET status = 'failed', last_error = $3::jsonb, locked_by = NULL, "
	 "  locked_until = NULL, updated_at = now() "
	 "WHERE id = $1 AND locked_by = $2 RETURNING 1"},
	{"jobs_cancel",
	 "UPDATE jobs SET status = 'failed', last_error = $2::jsonb, updated_at = now() "
	 "WHERE id = $1::uuid AND status = 'queued' RETURNING 1"},
	{"jobs_queue_depth",
	 "SELECT kind, CASE WHEN status = 'running' THEN 'running' "
	 "  WHEN run_at <= now() THEN 'due' ELSE 'scheduled' END AS state, count(*), "
	 "  COALESCE(EXTRACT(EPOCH FROM max(now() - run_at)), 0) "
	 "FROM jobs WHERE status IN ('queued', 'running') GROUP BY 1, 2 ORDER BY 1, 2"},
	{"jobs_release",
	 "UPDATE jobs SET status = 'queued', run_at = now(), attempts = GREATEST(attempts - 1, 0), "
	 "  locked_by = NULL, locked_until = NULL, updated_at = now() "
	 "WHERE id = $1 AND locked_by = $2 RETURNING 1"},
};

static const struct job_kind *kinds[MAX_KINDS];
static int nkinds;
/* "{kind1,kind2}": a worker claims only the kinds it can run, so an older
 * replica never fails a newer kind during a rolling deploy. */
static char kinds_literal[MAX_KINDS * 66 + 3] = "{}";

static atomic_bool stopping;
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;

/* Jobs running in this process, for the heartbeat thread. */
static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static char running_ids[MAX_RUNNERS][37];
static char running_owner[MAX_RUNNERS][96];

static int lease_s = 30;
static int backoff_base_ms = 2000;
static int backoff_cap_ms = 300000;
static int poll_ms = 1000;

void jobs_register(void)
{
	db_register(DB_PORTAL, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

void jobs_register_kind(const struct job_kind *k)
{
	if (nkinds == MAX_KINDS)
		abort();
	kinds[nkinds++] = k;
	size_t off = 0;
	kinds_literal[off++] = '{';
	for (int i = 0; i < nkinds; i++)
		off += (size_t)snprintf(kinds_literal + off, sizeof(kinds_literal) - off, "%s\"%s\"",
					i ? "," : "", kinds[i]->name);
	snprintf(kinds_literal + off, sizeof(kinds_literal) - off, "}");
}

static const struct job_kind *find_kind(const char *name)
{
	for (int i = 0; i < nkinds; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

bool jobs_stopping(void)
{
	return atomic_load(&stopping);
}

bool jobs_enqueue(struct db_conn *portal, const char *kind, const char *tenant_id,
		  json_t *payload, const char *request_id, char id_out[37])
{
	const struct job_kind *k = find_kind(kind);
	char max[12];
	snprintf(max, sizeof(max), "%d", k && k->max_attempts > 0 ? k->max_attempts : 8);
	char *p = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
	/* The job continues the trace of the request (or step) queueing it. */
	char tp[TRACEPARENT_LEN + 1] = "";
	const struct trace_span *sp = trace_current();
	if (sp)
		trace_format_traceparent(sp, tp);
	const char *v[] = {tenant_id ? tenant_id : "", kind, p ? p : "{}", max,
			   request_id ? request_id : "", tp, sp ? sp->tracestate : ""};
	PGresult *res = db_exec(portal, "jobs_enqueue", 7, v);
	free(p);
	bool ok = db_ok(res) && PQntuples(res) == 1;
	if (ok)
		snprintf(id_out, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ok;
}

bool jobs_cancel_if_queued(struct db_conn *portal, const char *id, const char *code,
			   const char *message, bool *canceled)
{
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);
	char *err = e ? json_dumps(e, JSON_COMPACT) : NULL;
	json_decref(e);
	const char *v[] = {id, err ? err : "null"};
	PGresult *res = db_exec(portal, "jobs_cancel", 2, v);
	free(err);
	bool ok = db_ok(res);
	*canceled = ok && PQntuples(res) == 1;
	PQclear(res);
	return ok;
}

bool jobs_schedule(struct db_conn *portal, const char *kind, int delay_ms)
{
	const struct job_kind *k = find_kind(kind);
	char max[12], delay[12];
	snprintf(max, sizeof(max), "%d", k && k->max_attempts > 0 ? k->max_attempts : 8);
	snprintf(delay, sizeof(delay), "%d", delay_ms < 0 ? 0 : delay_ms);
	const char *v[] = {kind, max, delay};
	PGresult *res = db_exec(portal, "jobs_schedule", 3, v);
	bool ok = db_ok(res);
	PQclear(res);
	return ok;
}

int jobs_queue_depth(struct job_depth *out, int max)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return -1;
	int n = -1;
	if (db_scope(c, "*")) {
		PGresult *res = db_exec(c, "jobs_queue_depth", 0, NULL);
		if (db_ok(res)) {
			n = 0;
			for (int i = 0; i < PQntuples(res) && n < max; i++, n++) {
				snprintf(out[n].kind, sizeof(out[n].kind), "%s", PQgetvalue(res, i, 0));
				snprintf(out[n].state, sizeof(out[n].state), "%s", PQgetvalue(res, i, 1));
				out[n].count = atoll(PQgetvalue(res, i, 2));
				out[n].oldest_s = atof(PQgetvalue(res, i, 3));
			}
		}
		PQclear(res);
	}
	db_release(c);
	return n;
}

void job_error(struct job *j, const char *code, const char *message)
{
	json_decref(j->error);
	j->error = json_pack("{s:s, s:s}", "code", code ? code : "Error", "message",
			     message ? message : "");
	if (j->error == NULL) /* message not UTF-8: keep the code */
		j->error = json_pack("{s:s, s:s}", "code", code ? code : "Error", "message",
				     "(unprintable error message)");
}

json_t *job_step_output(struct job *j, const char *step)
{
	size_t i;
	json_t *s;
	json_array_foreach(j->steps, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		if (name && strcmp(name, step) == 0)
			return json_object_get(s, "output");
	}
	return NULL;
}

static bool step_done(struct job *j, const char *step)
{
	size_t i;
	json_t *s;
	json_array_foreach(j->steps, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		if (name && strcmp(name, step) == 0)
			return true;
	}
	return false;
}

int jobs_backoff_ms(int attempt, int base_ms, int cap_ms)
{
	long long ceiling = base_ms;
	for (int i = 1; i < attempt && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	/* Equal jitter: half fixed, half random, so retries spread out but
	 * never hammer at once. */
	unsigned r = 0;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	long long half = ceiling / 2;
	return (int)(half + (half > 0 ? (long long)(r % (unsigned)(half + 1)) : 0));
}

/* Runs one portal statement on a leased connection; true when it touched a row. */
static bool portal_update(const char *stmt, int n, const char *const *v)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return false;
	bool ok = false;
	if (db_scope(c, "*")) {
		PGresult *res = db_exec(c, stmt, n, v);
		ok = db_ok(res) && PQntuples(res) == 1;
		PQclear(res);
	}
	db_release(c);
	return ok;
}

static char *error_text(struct job *j)
{
	if (j->error == NULL)
		job_error(j, "Unknown", "the step failed without saying why");
	return json_dumps(j->error, JSON_COMPACT);
}

static void track(int slot, const char *id, const char *owner)
{
	pthread_mutex_lock(&running_mu);
	snprintf(running_ids[slot], sizeof(running_ids[slot]), "%s", id ? id : "");
	snprintf(running_owner[slot], sizeof(running_owner[slot]), "%s", owner ? owner : "");
	pthread_mutex_unlock(&running_mu);
}

static void finish_failed(const struct job_kind *k, struct job *j, const char *owner)
{
	if (k && k->on_failed)
		k->on_failed(j);
	char *err = error_text(j);
	const char *v[] = {j->id, owner, err};
	portal_update("jobs_fail", 3, v);
	metrics_job_outcome(j->kind, MJ_FAILED);
	log_warn("job %s (%s) failed after %d attempts: %s", j->id, j->kind, j->attempts, err);
	free(err);
}

static const char *const result_names[] = {[JOB_OK] = "ok", [JOB_RETRY] = "retry", [JOB_FAIL] = "fail"};

/* Runs one step as a child span of the attempt's (current) span: its log
 * lines and outbound calls carry the step's span. */
static enum job_result run_step(struct job *j, const struct job_step *st)
{
	const struct trace_span *attempt = trace_current();
	struct trace_span span;
	trace_span_start(&span, attempt, TRACE_INTERNAL);
	trace_set_current(&span);
	enum job_result res = st->run(j);
	trace_set_current(attempt);
	if (trace_exporting()) {
		char name[160];
		snprintf(name, sizeof(name), "job step %s", st->name);
		struct trace_attr a[] = {
			{"atrium.job.id", j->id, 0},
			{"atrium.job.kind", j->kind, 0},
			{"atrium.job.step", st->name, 0},
			{"atrium.job.attempt", NULL, j->attempts},
			{"atrium.job.result", result_names[res], 0},
		};
		trace_span_end(&span, name, res != JOB_OK, a, 5);
	}
	return res;
}

static void run_job(const struct job_kind *k, struct job *j, const char *owner)
{
	if (k == NULL) {
		job_error(j, "UnknownJobKind", "no handler is registered for this job kind");
		finish_failed(NULL, j, owner);
		return;
	}
	if (j->attempts > j->max_attempts) {
		job_error(j, "AttemptsExhausted", "the job was abandoned by crashed workers too often");
		finish_failed(k, j, owner);
		return;
	}
	for (size_t i = 0; i < k->nsteps; i++) {
		const struct job_step *st = &k->steps[i];
		if (step_done(j, st->name))
			continue;
		if (jobs_stopping()) {
			const char *v[] = {j->id, owner};
			portal_update("jobs_release", 2, v);
			metrics_job_outcome(j->kind, MJ_RELEASED);
			log_info("job %s released before step %s (shutting down)", j->id, st->name);
			return;
		}
		json_decref(j->output);
		j->output = NULL;
		j->retry_after_ms = 0;
		enum job_result res = run_step(j, st);
		arena_free(&j->arena);
		if (res == JOB_OK) {
			char *out = j->output ? json_dumps(j->output, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
			const char *v[] = {j->id, owner, st->name, out ? out : "null"};
			bool ok = portal_update("jobs_checkpoint", 4, v);
			free(out);
			if (!ok) {
				log_warn("job %s: lost its lease during step %s", j->id, st->name);
				return;
			}
			json_array_append_new(j->steps, json_pack("{s:s, s:O?}", "name", st->name,
								  "output", j->output));
			continue;
		}
		if (res == JOB_RETRY && j->attempts < j->max_attempts) {
			int delay = j->retry_after_ms > 0 ? j->retry_after_ms
							  : jobs_backoff_ms(j->attempts, backoff_base_ms, backoff_cap_ms);
			char *err = error_text(j);
			char ms[16];
			snprintf(ms, sizeof(ms), "%d", delay);
			const char *v[] = {j->id, owner, ms, err};
			portal_update("jobs_retry", 4, v);
			metrics_job_outcome(j->kind, MJ_RETRIED);
			log_info("job %s (%s) step %s will retry in %d ms: %s", j->id, j->kind, st->name, delay, err);
			free(err);
			return;
		}
		finish_failed(k, j, owner);
		return;
	}
	if (k->on_succeeded)
		k->on_succeeded(j);
	const char *v[] = {j->id, owner};
	portal_update("jobs_succeed", 2, v);
	metrics_job_outcome(j->kind, MJ_SUCCEEDED);
	log_info("job %s (%s) succeeded after %d attempt(s)", j->id, j->kind, j->attempts);
}

/* Claims one due job as `owner` and runs it, tracked in heartbeat slot. */
static bool claim_and_run(const char *owner, int slot)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return false;
	char lease[12];
	snprintf(lease, sizeof(lease), "%d", lease_s);
	struct job j;
	memset(&j, 0, sizeof(j));
	bool got = false;
	if (db_scope(c, "*")) {
		const char *v[] = {owner, lease, kinds_literal};
		PGresult *res = db_exec(c, "jobs_claim", 3, v);
		if (db_ok(res) && PQntuples(res) == 1) {
			snprintf(j.id, sizeof(j.id), "%s", PQgetvalue(res, 0, 0));
			snprintf(j.kind, sizeof(j.kind), "%s", PQgetvalue(res, 0, 1));
			snprintf(j.tenant_id, sizeof(j.tenant_id), "%s", PQgetvalue(res, 0, 2));
			j.payload = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
			j.steps = json_loads(PQgetvalue(res, 0, 4), 0, NULL);
			j.attempts = atoi(PQgetvalue(res, 0, 5));
			j.max_attempts = atoi(PQgetvalue(res, 0, 6));
			snprintf(j.request_id, sizeof(j.request_id), "%s", PQgetvalue(res, 0, 7));
			snprintf(j.traceparent, sizeof(j.traceparent), "%s", PQgetvalue(res, 0, 8));
			snprintf(j.tracestate, sizeof(j.tracestate), "%s", PQgetvalue(res, 0, 9));
			got = true;
		}
		PQclear(res);
	}
	db_release(c);
	if (!got)
		return false;
	if (j.payload == NULL)
		j.payload = json_object();
	if (!json_is_array(j.steps)) {
		json_decref(j.steps);
		j.steps = json_array();
	}
	/* This attempt is a span of the queueing request's trace (a new trace
	 * for jobs queued outside a request); each step is its child. */
	struct trace_span attempt;
	struct trace_parent tp;
	if (trace_parse_traceparent(j.traceparent, &tp))
		trace_span_start_remote(&attempt, &tp, j.tracestate, TRACE_CONSUMER);
	else
		trace_span_start(&attempt, NULL, TRACE_CONSUMER);
	trace_set_current(&attempt);
	track(slot, j.id, owner);
	run_job(find_kind(j.kind), &j, owner);
	track(slot, NULL, NULL);
	if (trace_exporting()) {
		char name[96];
		snprintf(name, sizeof(name), "job %s", j.kind);
		struct trace_attr a[] = {
			{"atrium.job.id", j.id, 0},
			{"atrium.job.kind", j.kind, 0},
			{"atrium.job.attempt", NULL, j.attempts},
			{"atrium.request_id", j.request_id, 0},
		};
		trace_span_end(&attempt, name, j.error != NULL, a, 4);
	}
	trace_set_current(NULL);
	json_decref(j.payload);
	json_decref(j.steps);
	json_decref(j.error);
	json_decref(j.output);
	arena_free(&j.arena);
	return true;
}

bool jobs_run_one(const char *worker_id)
{
	return claim_and_run(worker_id, MAX_RUNNERS - 1);
}

/* ---- threads ---------------------------------------------------------- */

struct runner {
	pthread_t th;
	int slot;
	char owner[96];
};

static void *runner_main(void *arg)
{
	struct runner *r = arg;
	while (!jobs_stopping()) {
		if (claim_and_run(r->owner, r->slot))
			continue;
		pthread_mutex_lock(&wake_mu);
		if (!jobs_stopping()) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += poll_ms / 1000;
			ts.tv_nsec += (long)(poll_ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&wake_cv, &wake_mu, &ts);
		}
		pthread_mutex_unlock(&wake_mu);
	}
	return NULL;
}

static void wake_all(void)
{
	pthread_mutex_lock(&wake_mu);
	pthread_cond_broadcast(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
}

static void *listener_main(void *arg)
{
	(void)arg;
	PGconn *pg = NULL;
	/* Behind a transaction pooler a LISTEN does not stay with us: the
	 * runners' poll (ATRIUM_WORKER_POLL_MS) is then the only wake-up. */
	if (cfg.db_pool_transaction) {
		log_info("worker: ATRIUM_DB_POOL_MODE=transaction: no LISTEN, polling every %d ms",
			 cfg.worker_poll_ms);
		return NULL;
	}
	while (!jobs_stopping()) {
		if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
			if (pg)
				PQfinish(pg);
			pg = db_connect_raw(DB_PORTAL);
			if (pg == NULL) {
				sleep(1);
				continue;
			}
			PGresult *res = PQexec(pg, "LISTEN atrium_jobs");
			PQclear(res);
		}
		struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN};
		int n = poll(&pfd, 1, 500);
		if (n > 0) {
			PQconsumeInput(pg);
			PGnotify *note;
			bool any = false;
			while ((note = PQnotifies(pg)) != NULL) {
				any = true;
				PQfreemem(note);
			}
			if (any)
				wake_all();
		}
	}
	if (pg)
		PQfinish(pg);
	return NULL;
}

static void *heartbeat_main(void *arg)
{
	(void)arg;
	int every_ms = lease_s * 1000 / 3;
	while (!jobs_stopping()) {
		for (int waited = 0; waited < every_ms && !jobs_stopping(); waited += 200)
			usleep(200000);
		char ids[MAX_RUNNERS][37], owners[MAX_RUNNERS][96];
		pthread_mutex_lock(&running_mu);
		memcpy(ids, running_ids, sizeof(ids));
		memcpy(owners, running_owner, sizeof(owners));
		pthread_mutex_unlock(&running_mu);
		char lease[12];
		snprintf(lease, sizeof(lease), "%d", lease_s);
		for (int i = 0; i < MAX_RUNNERS; i++) {
			if (ids[i][0] == '\0')
				continue;
			const char *v[] = {ids[i], owners[i], lease};
			if (!portal_update("jobs_heartbeat", 3, v))
				log_warn("job %s: heartbeat found no lease (taken over or finished)", ids[i]);
		}
	}
	return NULL;
}

int jobs_worker_main(int concurrency)
{
	if (concurrency < 1)
		concurrency = 1;
	if (concurrency > MAX_RUNNERS - 1)
		concurrency = MAX_RUNNERS - 1;
	lease_s = cfg.job_lease_s;
	backoff_base_ms = cfg.job_backoff_base_ms;
	backoff_cap_ms = cfg.job_backoff_cap_ms;
	poll_ms = cfg.worker_poll_ms;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	char host[64] = "worker";
	gethostname(host, sizeof(host) - 1);
	struct runner *runners = xcalloc((size_t)concurrency, sizeof(struct runner));
	for (int i = 0; i < concurrency; i++) {
		runners[i].slot = i;
		snprintf(runners[i].owner, sizeof(runners[i].owner), "%.40s:%d:%d", host, (int)getpid(), i);
		pthread_create(&runners[i].th, NULL, runner_main, &runners[i]);
	}
	pthread_t listener, heart;
	pthread_create(&listener, NULL, listener_main, NULL);
	pthread_create(&heart, NULL, heartbeat_main, NULL);
	log_info("worker: %d runners, lease %d s, backoff %d..%d ms", concurrency, lease_s,
		 backoff_base_ms, backoff_cap_ms);

	int sig = 0;
	sigwait(&set, &sig);
	log_info("worker: %s: finishing the current steps", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	atomic_store(&stopping, true);
	wake_all();
	for (int i = 0; i < concurrency; i++)
		pthread_join(runners[i].th, NULL);
	pthread_join(listener, NULL);
	pthread_join(heart, NULL);
	free(runners);
	log_info("worker: stopped");
	return 0;
}
