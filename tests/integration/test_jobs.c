/*
 * Integration: the job runtime (server/jobs/jobs.c) against the real portal_db —
 * steps run in order and are checkpointed, transient failures retry with
 * backoff, permanent ones fail with the error kept, a job whose lease
 * lapsed is resumed at its next step, and concurrent runners never run a
 * job twice.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server/common/config.h"
#include "server/store/db.h"
#include "server/jobs/jobs.h"
#include "server/common/util.h"
#include <stdint.h>

static atomic_int step_a_runs, step_b_runs, flaky_calls, failed_hooks, succeeded_hooks;
static atomic_int exec_count[400];

static enum job_result step_a(struct job *j)
{
	atomic_fetch_add(&step_a_runs, 1);
	j->output = json_pack("{s:s}", "made", "resource-a");
	return JOB_OK;
}

static enum job_result step_b(struct job *j)
{
	atomic_fetch_add(&step_b_runs, 1);
	json_t *a = job_step_output(j, "a");
	if (!a || strcmp(json_string_value(json_object_get(a, "made")), "resource-a") != 0) {
		job_error(j, "MissingOutput", "step a's output is not visible");
		return JOB_FAIL;
	}
	return JOB_OK;
}

static enum job_result step_flaky(struct job *j)
{
	if (atomic_fetch_add(&flaky_calls, 1) < 2) {
		job_error(j, "ServiceUnavailable", "try again");
		j->retry_after_ms = 1;
		return JOB_RETRY;
	}
	return JOB_OK;
}

static enum job_result step_broken(struct job *j)
{
	job_error(j, "InvalidRequestContent", "the request was refused for good");
	return JOB_FAIL;
}

static enum job_result step_count(struct job *j)
{
	int n = (int)json_integer_value(json_object_get(j->payload, "n"));
	if (n >= 0 && n < 400)
		atomic_fetch_add(&exec_count[n], 1);
	return JOB_OK;
}

static void on_failed(struct job *j) { (void)j; atomic_fetch_add(&failed_hooks, 1); }
static void on_succeeded(struct job *j) { (void)j; atomic_fetch_add(&succeeded_hooks, 1); }

static const struct job_step two_steps[] = {{"a", step_a}, {"b", step_b}};
static const struct job_step flaky_steps[] = {{"a", step_a}, {"flaky", step_flaky}};
static const struct job_step broken_steps[] = {{"a", step_a}, {"broken", step_broken}};
static const struct job_step count_steps[] = {{"count", step_count}};
static const struct job_kind k_two = {"test.two", two_steps, 2, 5, on_failed, on_succeeded};
static const struct job_kind k_flaky = {"test.flaky", flaky_steps, 2, 5, on_failed, on_succeeded};
static const struct job_kind k_broken = {"test.broken", broken_steps, 2, 5, on_failed, on_succeeded};
static const struct job_kind k_count = {"test.count", count_steps, 1, 3, NULL, NULL};

static PGconn *pg;

static void setup(void)
{
	cr_assert(config_load());
	jobs_register();
	jobs_register_kind(&k_two);
	jobs_register_kind(&k_flaky);
	jobs_register_kind(&k_broken);
	jobs_register_kind(&k_count);
	db_start(8);
	pg = db_connect("ATRIUM_DB_PORTAL_URL");
	PQclear(PQexec(pg, "SELECT set_config('atrium.tenant_id', '*', false)"));
	/* Leftovers of earlier runs must not be claimed by these tests. */
	PQclear(PQexec(pg, "UPDATE jobs SET status = 'failed' WHERE kind LIKE 'test.%' AND status <> 'succeeded'"));
	setenv("ATRIUM_JOB_BACKOFF_BASE_MS", "1", 1);
}

static void teardown(void)
{
	PQfinish(pg);
	db_stop();
	config_free();
}

TestSuite(jobs, .init = setup, .fini = teardown, .timeout = 120);

static void enqueue(const char *kind, json_t *payload, char id[37])
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	cr_assert_not_null(c);
	cr_assert(db_scope(c, "*"));
	cr_assert(jobs_enqueue(c, kind, NULL, payload, "test-request", id));
	db_release(c);
}

static char *job_field(const char *id, const char *expr)
{
	char *sql = xasprintf("SELECT (%s)::text FROM jobs WHERE id = $1", expr);
	const char *v[] = {id};
	PGresult *res = PQexecParams(pg, sql, 1, NULL, v, NULL, NULL, 0);
	free(sql);
	cr_assert_eq(PQntuples(res), 1, "%s", PQresultErrorMessage(res));
	char *out = PQgetisnull(res, 0, 0) ? NULL : xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

/* Makes every queued test job due now (retries are scheduled later). */
static void make_due(void)
{
	PQclear(PQexec(pg, "UPDATE jobs SET run_at = now() WHERE kind LIKE 'test.%' AND status = 'queued'"));
}

Test(jobs, steps_run_in_order_and_are_checkpointed_with_output)
{
	char id[37];
	enqueue("test.two", NULL, id);
	cr_assert(jobs_run_one("test-worker"));
	char *status = job_field(id, "status");
	cr_assert_str_eq(status, "succeeded");
	char *steps = job_field(id, "jsonb_array_length(steps)");
	cr_assert_str_eq(steps, "2");
	char *out = job_field(id, "steps->0->'output'->>'made'");
	cr_assert_str_eq(out, "resource-a");
	char *attempts = job_field(id, "attempts");
	cr_assert_str_eq(attempts, "1");
	cr_assert_eq(atomic_load(&succeeded_hooks), 1);
	free(status); free(steps); free(out); free(attempts);
}

Test(jobs, transient_failures_retry_and_skip_finished_steps)
{
	char id[37];
	enqueue("test.flaky", NULL, id);
	for (int i = 0; i < 3; i++) {
		make_due();
		cr_assert(jobs_run_one("test-worker"), "run %d", i);
	}
	char *status = job_field(id, "status");
	cr_assert_str_eq(status, "succeeded");
	char *attempts = job_field(id, "attempts");
	cr_assert_str_eq(attempts, "3");
	cr_assert_eq(atomic_load(&step_a_runs), 1, "step a ran once across three attempts");
	cr_assert_eq(atomic_load(&flaky_calls), 3);
	char *err = job_field(id, "last_error");
	cr_assert_null(err, "a success clears last_error");
	free(status); free(attempts);
}

Test(jobs, retry_is_scheduled_with_backoff_and_error_kept)
{
	char id[37];
	enqueue("test.flaky", NULL, id);
	cr_assert(jobs_run_one("test-worker"));
	char *status = job_field(id, "status");
	cr_assert_str_eq(status, "queued");
	char *code = job_field(id, "last_error->>'code'");
	cr_assert_str_eq(code, "ServiceUnavailable");
	free(status); free(code);
}

Test(jobs, permanent_failure_fails_the_job_with_its_error)
{
	char id[37];
	enqueue("test.broken", NULL, id);
	cr_assert(jobs_run_one("test-worker"));
	char *status = job_field(id, "status");
	cr_assert_str_eq(status, "failed");
	char *code = job_field(id, "last_error->>'code'");
	cr_assert_str_eq(code, "InvalidRequestContent");
	char *msg = job_field(id, "last_error->>'message'");
	cr_assert_str_eq(msg, "the request was refused for good");
	cr_assert_eq(atomic_load(&failed_hooks), 1);
	free(status); free(code); free(msg);
}

Test(jobs, a_lapsed_lease_is_taken_over_at_the_next_step)
{
	char id[37];
	enqueue("test.two", NULL, id);
	/* A worker that died after step a: its lease has lapsed. */
	const char *v[] = {id};
	PGresult *res = PQexecParams(pg,
		"UPDATE jobs SET status = 'running', attempts = 1, locked_by = 'dead-worker', "
		"locked_until = now() - interval '1 second', "
		"steps = '[{\"name\":\"a\",\"output\":{\"made\":\"resource-a\"}}]' WHERE id = $1",
		1, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
	PQclear(res);
	cr_assert(jobs_run_one("test-worker"));
	char *status = job_field(id, "status");
	cr_assert_str_eq(status, "succeeded");
	cr_assert_eq(atomic_load(&step_a_runs), 0, "step a was not repeated");
	cr_assert_eq(atomic_load(&step_b_runs), 1);
	char *attempts = job_field(id, "attempts");
	cr_assert_str_eq(attempts, "2");
	free(status); free(attempts);
}

Test(jobs, a_live_lease_is_not_taken_over)
{
	char id[37];
	enqueue("test.two", NULL, id);
	const char *v[] = {id};
	PQclear(PQexecParams(pg, "UPDATE jobs SET status = 'running', locked_by = 'alive', "
				 "locked_until = now() + interval '1 minute' WHERE id = $1",
			     1, NULL, v, NULL, NULL, 0));
	cr_assert_not(jobs_run_one("test-worker"));
	PQclear(PQexecParams(pg, "UPDATE jobs SET status = 'failed' WHERE id = $1", 1, NULL, v, NULL, NULL, 0));
}

static void *drain(void *arg)
{
	char owner[32];
	snprintf(owner, sizeof(owner), "racer-%ld", (long)(intptr_t)arg);
	int idle = 0;
	while (idle < 3) {
		if (jobs_run_one(owner))
			idle = 0;
		else
			idle++;
	}
	return NULL;
}

Test(jobs, concurrent_runners_run_each_job_exactly_once)
{
	enum { N = 200 };
	for (int i = 0; i < N; i++) {
		char id[37];
		json_t *p = json_pack("{s:i}", "n", i);
		enqueue("test.count", p, id);
		json_decref(p);
	}
	pthread_t th[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, drain, (void *)(intptr_t)i);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++)
		cr_assert_eq(atomic_load(&exec_count[i]), 1, "job %d ran %d times", i, atomic_load(&exec_count[i]));
}

Test(jobs, backoff_grows_and_is_capped)
{
	for (int attempt = 1; attempt <= 12; attempt++) {
		long long ceiling = 1000LL << (attempt - 1);
		if (ceiling > 60000)
			ceiling = 60000;
		for (int k = 0; k < 20; k++) {
			int d = jobs_backoff_ms(attempt, 1000, 60000);
			cr_assert(d >= ceiling / 2 && d <= ceiling, "attempt %d: %d not in [%lld, %lld]", attempt, d,
				  ceiling / 2, ceiling);
		}
	}
}
