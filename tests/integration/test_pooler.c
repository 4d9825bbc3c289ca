/*
 * Integration: the tenant scope behind PgBouncer in transaction mode
 * (scripts/lib.sh starts one with two server connections per database in
 * front of the test PostgreSQL; ATRIUM_TEST_PGBOUNCER_PORT).
 *
 * A transaction pooler hands consecutive transactions of one client to
 * whichever server connection is free, shared with every other client. A
 * scope left on a session would then guard another client's queries. With
 * ATRIUM_DB_POOL_MODE=transaction the pool sets the scope inside each
 * transaction instead (server/store/db.c). These tests interleave tenants
 * on many client connections over two server connections:
 *  - a control first: session settings really do cross clients here (so
 *    the set-up is a transaction pooler, and the other tests mean something);
 *  - each statement, alone or in a transaction (with a savepoint rolled
 *    back), sees the scope its own caller set, and row-level security shows
 *    it only its own tenant's row, from eight threads at once;
 *  - a connection handed back and taken again carries no scope (it fails
 *    closed: no rows), whatever ran on the server connection before;
 *  - the whole server (`atrium serve`) in transaction mode behind the
 *    pooler: two tenants' deposits and reads interleaved from four threads
 *    land in, and show, only their own tenant;
 *  - `atrium worker` in transaction mode behind the pooler provisions a
 *    namespace (claims, leases, checkpoints, audit) and exits cleanly.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "ns_support.h"
#include "server/common/config.h"
#include "server/common/util.h"
#include "server/store/db.h"

static const char *pooler_port(void)
{
	const char *p = getenv("ATRIUM_TEST_PGBOUNCER_PORT");
	cr_assert(p && *p, "ATRIUM_TEST_PGBOUNCER_PORT is not set: scripts/lib.sh starts PgBouncer");
	return p;
}

/* The service database URL, with its port replaced by the pooler's. */
static char *pooled_url(const char *env_var)
{
	const char *url = getenv(env_var);
	cr_assert(url && *url, "%s is not set", env_var);
	const char *at = strrchr(url, '@');
	const char *colon = at ? strchr(at, ':') : NULL;
	const char *slash = colon ? strchr(colon, '/') : NULL;
	cr_assert(slash, "%s: expected postgresql://user:pass@host:port/db, got %s", env_var, url);
	return xasprintf("%.*s:%s%s", (int)(colon - url), url, pooler_port(), slash);
}

/* ---- control: a session setting does not stay with its client -------- */

Test(pooler, control_session_settings_cross_clients_behind_the_pooler)
{
	char *url = pooled_url("ATRIUM_DB_PORTAL_URL");
	enum { N = 6 };
	PGconn *pg[N];
	for (int i = 0; i < N; i++) {
		pg[i] = PQconnectdb(url);
		cr_assert_eq(PQstatus(pg[i]), CONNECTION_OK, "%s", PQerrorMessage(pg[i]));
	}
	for (int i = 0; i < N; i++) {
		char v[16];
		snprintf(v, sizeof(v), "client-%d", i);
		const char *vals[1] = {v};
		PGresult *res = PQexecParams(pg[i], "SELECT set_config('atrium.tenant_id', $1, false)",
					     1, NULL, vals, NULL, NULL, 0);
		cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK);
		PQclear(res);
	}
	int crossed = 0;
	for (int i = 0; i < N; i++) {
		char v[16];
		snprintf(v, sizeof(v), "client-%d", i);
		PGresult *res = PQexec(pg[i], "SELECT coalesce(current_setting('atrium.tenant_id', true), '')");
		cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK);
		if (strcmp(PQgetvalue(res, 0, 0), v) != 0)
			crossed++;
		PQclear(res);
		PQfinish(pg[i]);
	}
	/* Six clients, two server connections: at least four saw another's. */
	cr_assert_geq(crossed, N - 2, "only %d of %d clients saw another client's session setting: "
		      "is PgBouncer in transaction mode with two server connections?", crossed, N);
	free(url);
}

/* ---- the pool in transaction mode ------------------------------------- */

static const struct db_stmt pooler_stmts[] = {
	{"pooler_scope", "SELECT coalesce(current_setting('atrium.tenant_id', true), '')"},
	{"pooler_tenants", "SELECT id::text FROM tenants ORDER BY id"},
	{"pooler_backend", "SELECT pg_backend_pid()"},
};

static struct tenant tenants[8];
static int n_tenants;

static void pool_setup(void)
{
	cr_assert(config_load());
	/* Every service through the pooler; the pool has more connections
	 * than the pooler has server connections. */
	const char *vars[DB_SERVICE_COUNT] = {"ATRIUM_DB_AUTH_URL", "ATRIUM_DB_PORTAL_URL",
					      "ATRIUM_DB_BETTING_URL", "ATRIUM_DB_BILLING_URL",
					      "ATRIUM_DB_CATALOG_URL"};
	for (int s = 0; s < DB_SERVICE_COUNT; s++) {
		free(cfg.db_url[s]);
		cfg.db_url[s] = pooled_url(vars[s]);
	}
	cfg.db_pool_transaction = true;
	db_register(DB_PORTAL, pooler_stmts, sizeof(pooler_stmts) / sizeof(pooler_stmts[0]));
	db_start(8);
	n_tenants = 4;
	for (int i = 0; i < n_tenants; i++)
		create_tenant(&tenants[i]);
}

static void pool_teardown(void)
{
	db_stop();
	config_free();
}

/* The scope as the statement saw it, and the tenant rows RLS let it see;
 * false with the reason in why[] (worker threads must not assert). */
static bool scope_is(struct db_conn *c, const char *want, const char *where, char why[256])
{
	PGresult *res = db_exec(c, "pooler_scope", 0, NULL);
	if (!db_ok(res)) {
		snprintf(why, 256, "%s: pooler_scope failed", where);
		PQclear(res);
		return false;
	}
	bool ok = strcmp(PQgetvalue(res, 0, 0), want) == 0;
	if (!ok)
		snprintf(why, 256, "%s: the statement ran under scope '%s', not '%s'", where,
			 PQgetvalue(res, 0, 0), want);
	PQclear(res);
	if (!ok)
		return false;
	res = db_exec(c, "pooler_tenants", 0, NULL);
	if (!db_ok(res)) {
		snprintf(why, 256, "%s: pooler_tenants failed", where);
		PQclear(res);
		return false;
	}
	if (*want == '\0' && PQntuples(res) != 0) {
		snprintf(why, 256, "%s: no scope, yet %d tenant rows visible", where, PQntuples(res));
		ok = false;
	} else if (*want && (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), want) != 0)) {
		snprintf(why, 256, "%s: scope %s sees %d tenant rows (first %s), want its own one", where,
			 want, PQntuples(res), PQntuples(res) ? PQgetvalue(res, 0, 0) : "-");
		ok = false;
	}
	PQclear(res);
	return ok;
}

static void expect_scope(struct db_conn *c, const char *want, const char *where)
{
	char why[256];
	cr_assert(scope_is(c, want, where, why), "%s", why);
}

struct worker_arg {
	int index;
	int rounds;
	int backends_seen;
	char failure[256]; /* "" while all is well */
};

#define CHECK(cond, ...)                                            \
	do {                                                        \
		if (!(cond)) {                                      \
			snprintf(a->failure, sizeof(a->failure), __VA_ARGS__); \
			goto out;                                   \
		}                                                   \
	} while (0)

static void *interleave(void *p)
{
	struct worker_arg *a = p;
	const char *mine = tenants[a->index % n_tenants].id;
	int last_backend = -1;
	struct db_conn *c = NULL;
	char why[256];
	for (int round = 0; round < a->rounds; round++) {
		c = db_acquire(DB_PORTAL);
		CHECK(c, "no pooled connection");
		CHECK(db_scope(c, mine), "db_scope failed");
		/* Statements on their own (each its own transaction). */
		CHECK(scope_is(c, mine, "autocommit", why), "%s", why);
		PGresult *res = db_exec(c, "pooler_backend", 0, NULL);
		CHECK(db_ok(res), "pooler_backend failed");
		int backend = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		if (backend != last_backend)
			a->backends_seen++;
		last_backend = backend;
		/* In a transaction, across a savepoint rolled back. */
		CHECK(db_begin(c), "BEGIN failed");
		CHECK(scope_is(c, mine, "in a transaction", why), "%s", why);
		CHECK(db_exec_simple(c, "SAVEPOINT s"), "SAVEPOINT failed");
		CHECK(scope_is(c, mine, "after a savepoint", why), "%s", why);
		CHECK(db_exec_simple(c, "ROLLBACK TO SAVEPOINT s"), "ROLLBACK TO failed");
		CHECK(scope_is(c, mine, "after ROLLBACK TO SAVEPOINT", why), "%s", why);
		CHECK(db_commit(c), "COMMIT failed");
		CHECK(scope_is(c, mine, "after COMMIT", why), "%s", why);
		db_release(c);
		/* Taken again without a scope: nothing is visible. */
		c = db_acquire(DB_PORTAL);
		CHECK(c, "no pooled connection");
		CHECK(scope_is(c, "", "a connection taken back with no scope set", why), "%s", why);
		db_release(c);
		c = NULL;
	}
out:
	if (c)
		db_release(c);
	return NULL;
}

Test(pooler, each_statement_carries_its_own_tenant_scope_from_eight_threads,
     .init = pool_setup, .fini = pool_teardown, .timeout = 120)
{
	enum { THREADS = 8 };
	pthread_t th[THREADS];
	struct worker_arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct worker_arg){.index = i, .rounds = 60};
		pthread_create(&th[i], NULL, interleave, &args[i]);
	}
	int switched = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		if (args[i].backends_seen > 1)
			switched++;
	}
	for (int i = 0; i < THREADS; i++)
		cr_assert_str_empty(args[i].failure, "thread %d: %s", i, args[i].failure);
	/* The pooler really moved clients between server connections. */
	cr_assert_gt(switched, 0, "no client ever changed server connection: not a transaction pooler?");
}

Test(pooler, platform_wide_scope_and_a_tenant_scope_alternate_on_one_connection,
     .init = pool_setup, .fini = pool_teardown)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	cr_assert_not_null(c);
	for (int i = 0; i < 20; i++) {
		const char *t = tenants[i % n_tenants].id;
		cr_assert(db_scope(c, "*"));
		PGresult *res = db_exec(c, "pooler_tenants", 0, NULL);
		cr_assert(db_ok(res));
		cr_assert_geq(PQntuples(res), n_tenants, "platform-wide scope sees %d tenants",
			      PQntuples(res));
		PQclear(res);
		cr_assert(db_scope(c, t));
		expect_scope(c, t, "after switching from the platform-wide scope");
	}
	db_release(c);
}

/* ---- the whole server behind the pooler ------------------------------- */

/* atrium serve with every database through the pooler, in transaction mode. */
static pid_t spawn_pooled_serve(char base[64], const char *log)
{
	const char *names[5] = {"ATRIUM_DB_AUTH_URL", "ATRIUM_DB_PORTAL_URL", "ATRIUM_DB_BETTING_URL",
				"ATRIUM_DB_BILLING_URL", "ATRIUM_DB_CATALOG_URL"};
	char *e[5];
	for (int i = 0; i < 5; i++) {
		char *url = pooled_url(names[i]);
		e[i] = xasprintf("%s=%s", names[i], url);
		free(url);
	}
	const char *env[] = {"ATRIUM_RATE_LIMIT_IP_PER_MINUTE=1000000",
			     "ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE=1000000", "ATRIUM_DB_POOL_MODE=transaction",
			     "ATRIUM_DB_POOL_SIZE=6", e[0], e[1], e[2], e[3], e[4], NULL};
	pid_t pid = spawn_serve(nst_free_port(), env, log, base, 64);
	for (int i = 0; i < 5; i++)
		free(e[i]);
	return pid;
}

struct http_arg {
	const char *base;
	const struct tenant *mine;
	const struct tenant *other;
	const char *token;
	int thread;
	char failure[256];
};

static void *deposit_and_read(void *p)
{
	struct http_arg *a = p;
	char *payments = xasprintf("/v1/tenants/%s/payments", a->mine->id);
	char *wallet = xasprintf("/v1/tenants/%s/wallet", a->mine->id);
	char *tenant = xasprintf("/v1/tenants/%s", a->mine->id);
	char *theirs = xasprintf("/v1/tenants/%s", a->other->id);
	struct resp *r = NULL;
	for (int i = 0; i < 15; i++) {
		char key[128];
		snprintf(key, sizeof(key), "Idempotency-Key: pooler-%s-%d-%d", a->mine->id, a->thread, i);
		const char *h[] = {key, NULL};
		const char *body = "{\"direction\":\"deposit\",\"amount_minor\":100,\"currency\":\"EUR\"}";
		r = http_at(a->base, "POST", payments, a->token, body, h);
		CHECK(r->status == 201, "deposit: %ld %.150s", r->status, r->body);
		resp_free(r);
		/* The replay answers from the idempotency record. */
		r = http_at(a->base, "POST", payments, a->token, body, h);
		CHECK(r->status == 201, "replayed deposit: %ld %.150s", r->status, r->body);
		resp_free(r);
		r = http_at(a->base, "GET", tenant, a->token, NULL, NULL);
		const char *id = json_string_value(json_object_get(r->json, "id"));
		CHECK(r->status == 200 && id && strcmp(id, a->mine->id) == 0, "own tenant: %ld %.150s",
		      r->status, r->body);
		resp_free(r);
		r = http_at(a->base, "GET", theirs, a->token, NULL, NULL);
		CHECK(r->status == 404, "another tenant's record: %ld %.150s", r->status, r->body);
		resp_free(r);
		r = http_at(a->base, "GET", wallet, a->token, NULL, NULL);
		CHECK(r->status == 200, "wallet: %ld %.150s", r->status, r->body);
		resp_free(r);
		r = NULL;
	}
out:
	resp_free(r);
	free(payments);
	free(wallet);
	free(tenant);
	free(theirs);
	return NULL;
}

static long long balance_of(const char *base, const struct tenant *t, const char *token)
{
	char *wallet = xasprintf("/v1/tenants/%s/wallet", t->id);
	struct resp *r = http_at(base, "GET", wallet, token, NULL, NULL);
	cr_assert_eq(r->status, 200, "wallet: %ld %s", r->status, r->body);
	long long total = 0;
	json_t *balances = json_object_get(r->json, "balances");
	size_t i;
	json_t *b;
	json_array_foreach(balances, i, b)
	{
		if (strcmp(json_string_value(json_object_get(b, "currency")), "EUR") == 0)
			total += json_integer_value(json_object_get(b, "available_minor"));
	}
	resp_free(r);
	free(wallet);
	return total;
}

Test(pooler, atrium_serve_in_transaction_mode_keeps_two_tenants_apart, .timeout = 180)
{
	struct tenant a, b;
	create_tenant(&a);
	create_tenant(&b);
	char log[] = "/tmp/atrium-pooler-serve-XXXXXX";
	int fd = mkstemp(log);
	cr_assert_geq(fd, 0);
	close(fd);
	char base[64];
	pid_t pid = spawn_pooled_serve(base, log);

	/* One member of each tenant, two threads each. */
	char oid_a[37], oid_b[37];
	random_uuid(oid_a);
	random_uuid(oid_b);
	char *token_a = mint(a.aad, oid_a, NULL, NULL), *token_b = mint(b.aad, oid_b, NULL, NULL);
	enum { THREADS = 4 };
	pthread_t th[THREADS];
	struct http_arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		bool is_b = i % 2;
		args[i] = (struct http_arg){.base = base, .mine = is_b ? &b : &a, .other = is_b ? &a : &b,
					    .token = is_b ? token_b : token_a, .thread = i};
		pthread_create(&th[i], NULL, deposit_and_read, &args[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < THREADS; i++)
		cr_assert_str_empty(args[i].failure, "thread %d: %s", i, args[i].failure);
	/* Each member: two threads × 15 deposits of 1.00 EUR, each once. */
	long long want = 2 * 15 * 100;
	cr_assert_eq(balance_of(base, &a, token_a), want, "tenant A's member's balance");
	cr_assert_eq(balance_of(base, &b, token_b), want, "tenant B's member's balance");
	free(token_a);
	free(token_b);

	int st = stop_serve(pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "serve exited with %d (log %s)", st, log);
	unlink(log);
}

/* ---- the worker behind the pooler ------------------------------------- */

TestSuite(pooler_worker, .init = nst_setup, .fini = nst_teardown, .timeout = 180);

Test(pooler_worker, a_worker_in_transaction_mode_provisions_a_namespace)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "pooled", "dev", "westeurope", 202);
	const char *id = json_string_value(json_object_get(ns, "id"));
	cr_assert_not_null(id);
	char *urls[5] = {pooled_url("ATRIUM_DB_AUTH_URL"), pooled_url("ATRIUM_DB_PORTAL_URL"),
			 pooled_url("ATRIUM_DB_BETTING_URL"), pooled_url("ATRIUM_DB_BILLING_URL"),
			 pooled_url("ATRIUM_DB_CATALOG_URL")};
	char *e[5];
	const char *names[5] = {"ATRIUM_DB_AUTH_URL", "ATRIUM_DB_PORTAL_URL", "ATRIUM_DB_BETTING_URL",
				"ATRIUM_DB_BILLING_URL", "ATRIUM_DB_CATALOG_URL"};
	for (int i = 0; i < 5; i++)
		e[i] = xasprintf("%s=%s", names[i], urls[i]);
	const char *env[] = {"ATRIUM_DB_POOL_MODE=transaction", "ATRIUM_WORKER_POLL_MS=200",
			     "ATRIUM_JOB_LEASE_SECONDS=5", e[0], e[1], e[2], e[3], e[4], NULL};
	char *log = nst_log_path("worker-pooled");
	pid_t w = spawn_worker(log, env);
	char *st = nst_wait(id, ",ready,failed,", 90);
	cr_assert_str_eq(st, "ready", "namespace provisioned by the pooled worker (log %s)", log);
	long audited = nst_sql_long("SELECT count(*) FROM audit_log WHERE resource_id = $1 AND "
				    "action = 'namespace.ready' AND tenant_id = $2::uuid", id, t.id);
	cr_assert_eq(audited, 1, "the ready audit record, in the namespace's tenant");
	cr_assert_eq(nst_stop(w, SIGTERM, 20), 0, "the pooled worker exits 0 on SIGTERM");
	cr_assert(nst_log_clean(log), "sanitizer report in %s", log);
	for (int i = 0; i < 5; i++) {
		free(urls[i]);
		free(e[i]);
	}
	free(st);
	free(log);
	json_decref(ns);
	nst_tenant_free(&t);
}
