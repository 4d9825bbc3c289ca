/*
 * db.c - libpq connection pools, prepared statements and RLS scope.
 *
 * Pools are arrays of slots guarded by one mutex per service; a slot's
 * PGconn is opened lazily and replaced after a connection failure.
 *
 * Two ways to carry the RLS scope (ATRIUM_DB_POOL_MODE):
 *  - session (default; PostgreSQL itself, or a pooler in session mode):
 *    the server connection is ours for the life of the PGconn, so the
 *    scope is a session setting, set only when it changes, and statements
 *    are prepared once at connect.
 *  - transaction (PgBouncer in transaction mode, Azure's built-in
 *    PgBouncer): consecutive transactions may run on different server
 *    connections, shared with other clients. Nothing is left on a session:
 *    the scope is set with set_config(..., true) in the same transaction
 *    as the statements it guards (pipelined with the first of them: one
 *    round trip), and statements are sent by text (named prepared
 *    statements would not follow us to the next server connection).
 */
#include "server/store/db.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TABLES 16
#define ACQUIRE_TIMEOUT_MS 5000

struct db_conn {
	PGconn *pg;
	enum db_service svc;
	bool in_use;
	/* session mode: the scope set on the session ("" = unknown).
	 * transaction mode: the scope wanted for the next statements, and
	 * whether the open transaction already carries it. */
	char scope[40];
	bool tx_scoped;
	bool streaming; /* held for a streamed answer (db_acquire_stream) */
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct db_conn *slots;
	int size;
	int in_use;
	int streaming; /* connections held for streamed answers */
	const struct db_stmt *tables[MAX_TABLES];
	size_t table_len[MAX_TABLES];
	int ntables;
};

static struct pool pools[DB_SERVICE_COUNT];
static const char *service_names[DB_SERVICE_COUNT] = {"auth_db", "portal_db", "betting_db",
						      "billing_db", "catalog_db"};

const char *db_service_name(enum db_service svc)
{
	return service_names[svc];
}

void db_register(enum db_service svc, const struct db_stmt *stmts, size_t n)
{
	struct pool *p = &pools[svc];
	if (p->ntables == MAX_TABLES)
		abort();
	p->tables[p->ntables] = stmts;
	p->table_len[p->ntables] = n;
	p->ntables++;
}

void db_start(int pool_size)
{
	for (int s = 0; s < DB_SERVICE_COUNT; s++) {
		struct pool *p = &pools[s];
		pthread_mutex_init(&p->mu, NULL);
		pthread_cond_init(&p->cv, NULL);
		p->size = pool_size;
		metrics_set_db_name(s, service_names[s]);
		p->slots = xcalloc((size_t)pool_size, sizeof(struct db_conn));
		for (int i = 0; i < pool_size; i++)
			p->slots[i].svc = (enum db_service)s;
	}
}

void db_stop(void)
{
	for (int s = 0; s < DB_SERVICE_COUNT; s++) {
		struct pool *p = &pools[s];
		if (p->slots == NULL)
			continue;
		for (int i = 0; i < p->size; i++)
			if (p->slots[i].pg)
				PQfinish(p->slots[i].pg);
		free(p->slots);
		p->slots = NULL;
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
	}
}

PGconn *db_connect_raw(enum db_service svc)
{
	/* connect_timeout bounds a dead host; keepalives notice a dead peer. */
	/* auth_db holds only login bookkeeping (user ids are derived, see
	 * authdb.h), so its commits need not wait for the WAL flush. */
	/* (Not behind a transaction pooler: PgBouncer refuses startup options,
	 * and a session setting would not stay with us.) */
	const char *keys[] = {"dbname", "connect_timeout", "keepalives", "application_name",
			      svc == DB_AUTH && !cfg.db_pool_transaction ? "options" : NULL, NULL};
	const char *vals[] = {cfg.db_url[svc], "5", "1", "atrium", "-c synchronous_commit=off", NULL};
	PGconn *pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(pg) != CONNECTION_OK) {
		log_warn("%s: connect failed: %s", service_names[svc], PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

int db_role_bypasses_rls(PGconn *pg)
{
	PGresult *res = PQexec(pg, "SELECT (rolsuper OR rolbypassrls)::text FROM pg_roles "
				   "WHERE rolname = current_user");
	int v = -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = strcmp(PQgetvalue(res, 0, 0), "true") == 0;
	PQclear(res);
	return v;
}

static _Atomic int rls_checked[DB_SERVICE_COUNT]; /* 1: the role was found safe (or allowed) */

static bool bypass_allowed(void)
{
	return cfg.allow_bypassrls;
}

/* Logs and answers whether a connection of svc may be used. */
static bool rls_role_ok(enum db_service svc, PGconn *pg)
{
	if (rls_checked[svc])
		return true;
	int b = db_role_bypasses_rls(pg);
	if (b < 0) {
		log_error("%s: could not read whether the database role bypasses row-level security",
			  service_names[svc]);
		return false;
	}
	if (b == 1 && !bypass_allowed()) {
		log_error("%s: the database role is a superuser or has BYPASSRLS, so row-level "
			  "security would be off: connect as a role without them (or set "
			  "ATRIUM_ALLOW_BYPASSRLS=1 to accept this, never in production)",
			  service_names[svc]);
		return false;
	}
	if (b == 1)
		log_warn("%s: the database role bypasses row-level security "
			 "(ATRIUM_ALLOW_BYPASSRLS=1): tenant isolation rests on the queries alone",
			 service_names[svc]);
	rls_checked[svc] = 1;
	return true;
}

bool db_check_rls_roles(void)
{
	bool ok = true;
	for (int s = 0; s < DB_SERVICE_COUNT; s++) {
		PGconn *pg = db_connect_raw((enum db_service)s);
		if (pg == NULL)
			continue; /* checked when a pooled connection first opens */
		if (!rls_role_ok((enum db_service)s, pg))
			ok = false;
		PQfinish(pg);
	}
	return ok;
}

static bool open_slot(struct pool *p, struct db_conn *c)
{
	PGconn *pg = db_connect_raw(c->svc);
	if (pg == NULL)
		return false;
	if (!rls_role_ok(c->svc, pg)) {
		PQfinish(pg);
		return false;
	}
	for (int t = 0; t < p->ntables && !cfg.db_pool_transaction; t++) {
		for (size_t i = 0; i < p->table_len[t]; i++) {
			const struct db_stmt *st = &p->tables[t][i];
			PGresult *res = PQprepare(pg, st->name, st->sql, 0, NULL);
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				log_error("%s: prepare %s failed: %s", service_names[c->svc], st->name,
					  PQresultErrorMessage(res));
				PQclear(res);
				PQfinish(pg);
				return false;
			}
			PQclear(res);
		}
	}
	c->pg = pg;
	c->scope[0] = '\0';
	c->tx_scoped = false;
	return true;
}

struct db_conn *db_acquire(enum db_service svc)
{
	struct pool *p = &pools[svc];
	uint64_t t0 = util_now_ns();
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ACQUIRE_TIMEOUT_MS / 1000;

	pthread_mutex_lock(&p->mu);
	struct db_conn *c = NULL;
	while (c == NULL) {
		/* Prefer a slot that is already connected. */
		for (int i = 0; i < p->size; i++)
			if (!p->slots[i].in_use && p->slots[i].pg) {
				c = &p->slots[i];
				break;
			}
		if (c == NULL)
			for (int i = 0; i < p->size; i++)
				if (!p->slots[i].in_use) {
					c = &p->slots[i];
					break;
				}
		if (c)
			break;
		if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT) {
			pthread_mutex_unlock(&p->mu);
			metrics_db_event((int)svc, MD_ACQUIRE_TIMEOUT);
			metrics_db_acquire_wait((int)svc, util_now_ns() - t0);
			log_warn("%s: pool exhausted", service_names[svc]);
			return NULL;
		}
	}
	c->in_use = true;
	p->in_use++;
	pthread_mutex_unlock(&p->mu);

	if (c->pg && PQstatus(c->pg) != CONNECTION_OK) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	if (c->pg == NULL && !open_slot(p, c)) {
		metrics_db_event((int)svc, MD_ERROR);
		db_release(c);
		return NULL;
	}
	metrics_db_acquire_wait((int)svc, util_now_ns() - t0);
	return c;
}

struct db_conn *db_acquire_stream(enum db_service svc, bool *busy)
{
	struct pool *p = &pools[svc];
	pthread_mutex_lock(&p->mu);
	*busy = p->streaming >= cfg.db_streams;
	if (!*busy)
		p->streaming++; /* taken now, so two cannot both see the last one free */
	pthread_mutex_unlock(&p->mu);
	if (*busy)
		return NULL;
	struct db_conn *c = db_acquire(svc);
	pthread_mutex_lock(&p->mu);
	if (c)
		c->streaming = true;
	else
		p->streaming--;
	pthread_mutex_unlock(&p->mu);
	return c;
}

void db_release(struct db_conn *c)
{
	if (c == NULL)
		return;
	if (c->pg) {
		if (PQstatus(c->pg) != CONNECTION_OK) {
			PQfinish(c->pg);
			c->pg = NULL;
		} else if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
			PGresult *res = PQexec(c->pg, "ROLLBACK");
			PQclear(res);
			if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
				PQfinish(c->pg);
				c->pg = NULL;
			}
		}
	}
	if (cfg.db_pool_transaction) {
		/* The next user sets its own; until then nothing is visible. */
		c->scope[0] = '\0';
		c->tx_scoped = false;
	}
	struct pool *p = &pools[c->svc];
	pthread_mutex_lock(&p->mu);
	if (c->streaming) {
		c->streaming = false;
		p->streaming--;
	}
	c->in_use = false;
	p->in_use--;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void drop_if_broken(struct db_conn *c)
{
	if (PQstatus(c->pg) != CONNECTION_OK) {
		log_warn("%s: connection lost", service_names[c->svc]);
		metrics_db_event((int)c->svc, MD_ERROR);
		PQfinish(c->pg);
		c->pg = NULL;
	}
}

bool db_scope(struct db_conn *c, const char *tenant)
{
	if (cfg.db_pool_transaction) {
		/* Applied with the next statement, inside its transaction. */
		if (strcmp(c->scope, tenant) != 0) {
			snprintf(c->scope, sizeof(c->scope), "%s", tenant);
			c->tx_scoped = false;
		}
		return true;
	}
	if (strcmp(c->scope, tenant) == 0)
		return true;
	const char *vals[1] = {tenant};
	/* is_local=false outside a transaction: the value stays on the session. */
	PGresult *res = PQexecParams(c->pg, "SELECT set_config('atrium.tenant_id', $1, false)", 1,
				     NULL, vals, NULL, NULL, 0);
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	if (!ok) {
		drop_if_broken(c);
		return false;
	}
	if (PQtransactionStatus(c->pg) == PQTRANS_IDLE)
		snprintf(c->scope, sizeof(c->scope), "%s", tenant);
	else
		c->scope[0] = '\0'; /* a rollback would undo it: do not cache */
	return true;
}

/* The SQL text of a registered statement (transaction mode sends text). */
static const char *stmt_sql(enum db_service svc, const char *name)
{
	const struct pool *p = &pools[svc];
	for (int t = 0; t < p->ntables; t++)
		for (size_t i = 0; i < p->table_len[t]; i++)
			if (strcmp(p->tables[t][i].name, name) == 0)
				return p->tables[t][i].sql;
	return NULL;
}

/*
 * Transaction mode, first statement of a transaction (or a statement on
 * its own): set_config(..., true) and the statement in one pipeline, one
 * Sync. Without an open BEGIN both run in the one implicit transaction the
 * extended protocol gives everything before a Sync, so the pooler cannot
 * hand them different server connections and the scope ends with them.
 * Returns the statement's result (or set_config's, should that fail).
 */
static PGresult *exec_scoped(struct db_conn *c, const char *sql, int nparams,
			     const char *const *values)
{
	PGconn *pg = c->pg;
	const char *scope[1] = {c->scope};
	if (!PQenterPipelineMode(pg))
		return NULL;
	if (!PQsendQueryParams(pg, "SELECT set_config('atrium.tenant_id', $1, true)", 1, NULL,
			       scope, NULL, NULL, 0) ||
	    !PQsendQueryParams(pg, sql, nparams, NULL, values, NULL, NULL, 0) ||
	    !PQpipelineSync(pg)) {
		PQexitPipelineMode(pg);
		return NULL;
	}
	PGresult *out = NULL;
	int query = 0; /* 0: set_config, 1: the statement, 2: the sync */
	while (query < 3) {
		PGresult *res = PQgetResult(pg);
		if (res == NULL) {
			if (query == 2 || PQstatus(pg) != CONNECTION_OK)
				break;
			query++;
			continue;
		}
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (out == NULL && (query == 1 || st == PGRES_FATAL_ERROR)) {
			out = res; /* the statement's answer, or the first error */
			continue;
		}
		PQclear(res);
	}
	if (!PQexitPipelineMode(pg)) {
		PQclear(out);
		return NULL;
	}
	if (db_ok(out) && PQtransactionStatus(pg) == PQTRANS_INTRANS)
		c->tx_scoped = true;
	return out;
}

PGresult *db_exec(struct db_conn *c, const char *stmt, int nparams, const char *const *values)
{
	if (c->pg == NULL)
		return NULL;
	uint64_t t0 = util_now_ns();
	PGresult *res;
	if (cfg.db_pool_transaction) {
		const char *sql = stmt_sql(c->svc, stmt);
		if (sql == NULL) {
			log_error("%s: no statement named %s", service_names[c->svc], stmt);
			return NULL;
		}
		if (PQtransactionStatus(c->pg) == PQTRANS_IDLE)
			c->tx_scoped = false;
		/* Always, even with no scope wanted (""): another client of the
		 * pooler may have left a session value on this server connection. */
		if (!c->tx_scoped)
			res = exec_scoped(c, sql, nparams, values);
		else
			res = PQexecParams(c->pg, sql, nparams, NULL, values, NULL, NULL, 0);
		if (res == NULL) {
			/* In an unknown state (maybe still in pipeline mode): drop it. */
			log_error("%s: %s failed: %s", service_names[c->svc], stmt,
				  PQerrorMessage(c->pg));
			metrics_db_event((int)c->svc, MD_ERROR);
			PQfinish(c->pg);
			c->pg = NULL;
			return NULL;
		}
	} else {
		res = PQexecPrepared(c->pg, stmt, nparams, values, NULL, NULL, 0);
	}
	metrics_db_query((int)c->svc, util_now_ns() - t0);
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_FATAL_ERROR && PQstatus(c->pg) != CONNECTION_OK) {
		PQclear(res);
		drop_if_broken(c);
		return NULL;
	}
	if (st == PGRES_FATAL_ERROR) {
		const char *code = db_sqlstate(res);
		/* Constraint violations are expected answers; anything else is logged. */
		if (strncmp(code, "23", 2) != 0 && strcmp(code, "40001") != 0 &&
		    strcmp(code, "40P01") != 0 && strcmp(code, "55P03") != 0) {
			metrics_db_event((int)c->svc, MD_ERROR);
			log_error("%s: %s failed: %s", service_names[c->svc], stmt,
				  PQresultErrorMessage(res));
		}
	}
	return res;
}

bool db_exec_simple(struct db_conn *c, const char *sql)
{
	if (c->pg == NULL)
		return false;
	/* A transaction's end, and a rollback to a savepoint, undo a local
	 * scope: the next statement sets it again. */
	if (strncmp(sql, "SAVEPOINT", 9) != 0)
		c->tx_scoped = false;
	PGresult *res = PQexec(c->pg, sql);
	bool ok = db_ok(res);
	if (!ok)
		log_error("%s: %s failed: %s", service_names[c->svc], sql, PQresultErrorMessage(res));
	PQclear(res);
	if (!ok)
		drop_if_broken(c);
	return ok;
}

bool db_begin(struct db_conn *c)
{
	return db_exec_simple(c, "BEGIN");
}

bool db_commit(struct db_conn *c)
{
	return db_exec_simple(c, "COMMIT");
}

void db_rollback(struct db_conn *c)
{
	if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		db_exec_simple(c, "ROLLBACK");
}

bool db_ok(const PGresult *res)
{
	if (res == NULL)
		return false;
	ExecStatusType st = PQresultStatus(res);
	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

const char *db_sqlstate(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	return s ? s : "";
}

int db_copy_column(const PGresult *res, int col, int max, struct arena *ar, char **out)
{
	int n = 0;
	for (; n < PQntuples(res) && n < max; n++)
		out[n] = arena_strdup(ar, PQgetvalue(res, n, col));
	return n;
}

PGconn *db_pg(struct db_conn *c)
{
	return c->pg;
}

void db_pool_stats(enum db_service svc, int *size, int *in_use, int *open)
{
	struct pool *p = &pools[svc];
	pthread_mutex_lock(&p->mu);
	*size = p->size;
	*in_use = p->in_use;
	int n = 0;
	for (int i = 0; i < p->size; i++)
		if (p->slots[i].pg)
			n++;
	*open = n;
	pthread_mutex_unlock(&p->mu);
}

bool db_ping(enum db_service svc)
{
	struct db_conn *c = db_acquire(svc);
	if (c == NULL)
		return false;
	bool ok = db_exec_simple(c, "SELECT 1");
	db_release(c);
	return ok;
}
