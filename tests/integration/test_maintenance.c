/*
 * Integration: housekeeping by the worker — the maintenance.purge job drops
 * Idempotency-Key records past their retention from every service
 * database, keeps younger and unfinished ones, and schedules its next run.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server/common/config.h"
#include "server/store/db.h"
#include "server/store/idempotency.h"
#include "server/jobs/jobs.h"
#include "workers/maintenance_jobs.h"
#include "server/common/util.h"

static const char *dbs[] = {"ATRIUM_DB_PORTAL_URL", "ATRIUM_DB_BETTING_URL", "ATRIUM_DB_BILLING_URL"};

static void setup(void)
{
	cr_assert(config_load());
	jobs_register();
	idem_register();
	maintenance_jobs_register();
	db_start(4);
}

static void teardown(void)
{
	db_stop();
	config_free();
}

TestSuite(maintenance, .init = setup, .fini = teardown, .timeout = 60);

static void exec_ok(PGconn *pg, const char *sql, const char *p1)
{
	const char *v[] = {p1};
	PGresult *res = PQexecParams(pg, sql, p1 ? 1 : 0, NULL, v, NULL, NULL, 0);
	cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
		  PQresultErrorMessage(res));
	PQclear(res);
}

static long count(PGconn *pg, const char *scope)
{
	const char *v[] = {scope};
	PGresult *res = PQexecParams(pg, "SELECT key FROM idempotency_keys WHERE scope = $1 ORDER BY key", 1, NULL, v,
				     NULL, NULL, 0);
	long n = PQntuples(res);
	PQclear(res);
	return n;
}

static bool has(PGconn *pg, const char *scope, const char *key)
{
	const char *v[] = {scope, key};
	PGresult *res = PQexecParams(pg, "SELECT 1 FROM idempotency_keys WHERE scope = $1 AND key = $2", 2, NULL, v,
				     NULL, NULL, 0);
	bool found = PQntuples(res) == 1;
	PQclear(res);
	return found;
}

Test(maintenance, expired_idempotency_keys_are_purged_and_the_next_run_scheduled)
{
	char scope[64];
	char u[37];
	random_uuid(u);
	snprintf(scope, sizeof(scope), "purge-test:%s", u);
	PGconn *pg[3];
	for (int i = 0; i < 3; i++) {
		pg[i] = db_connect(dbs[i]);
		exec_ok(pg[i],
			"INSERT INTO idempotency_keys (scope, key, request_hash, status, response_body, created_at) VALUES "
			"($1, 'old-finished', 'h', 201, '{}', now() - interval '72 hours'), "
			"($1, 'old-unfinished', 'h', NULL, NULL, now() - interval '72 hours'), "
			"($1, 'day-old', 'h', 201, '{}', now() - interval '25 hours'), "
			"($1, 'fresh', 'h', 201, '{}', now())",
			scope);
	}
	PGconn *portal = db_connect("ATRIUM_DB_PORTAL_URL");
	exec_ok(portal, "SELECT set_config('atrium.tenant_id', '*', false)", NULL);
	/* Whatever runs are queued become due now, so this process runs one. */
	maintenance_worker_start();
	exec_ok(portal, "UPDATE jobs SET run_at = now() WHERE kind = 'maintenance.purge' AND status = 'queued'", NULL);
	bool ran = false;
	for (int i = 0; i < 10 && jobs_run_one("purge-test"); i++)
		ran = true;
	cr_assert(ran, "a maintenance.purge job ran");

	for (int i = 0; i < 3; i++) {
		cr_assert_not(has(pg[i], scope, "old-finished"), "%s: a key past retention is purged", dbs[i]);
		cr_assert(has(pg[i], scope, "old-unfinished"), "%s: an unfinished key is kept", dbs[i]);
		cr_assert(has(pg[i], scope, "day-old"), "%s: a 25 h old key is kept (retention 48 h)", dbs[i]);
		cr_assert(has(pg[i], scope, "fresh"), "%s: a fresh key is kept", dbs[i]);
		cr_assert_eq(count(pg[i], scope), 3);
		exec_ok(pg[i], "DELETE FROM idempotency_keys WHERE scope = $1", scope);
		PQfinish(pg[i]);
	}
	PGresult *res = PQexec(portal, "SELECT count(*) FROM jobs WHERE kind = 'maintenance.purge' AND status = 'queued' "
				       "AND run_at > now() + interval '50 minutes'");
	cr_assert_str_eq(PQgetvalue(res, 0, 0), "1", "the next run is queued about an hour later");
	PQclear(res);
	res = PQexec(portal, "SELECT steps->0->'output' FROM jobs WHERE kind = 'maintenance.purge' AND status = 'succeeded' "
			     "ORDER BY updated_at DESC LIMIT 1");
	cr_assert_eq(PQntuples(res), 1);
	cr_assert(strstr(PQgetvalue(res, 0, 0), "portal_db") != NULL, "the run reports what it purged: %s",
		  PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(portal);
}
