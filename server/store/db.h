/*
 * db.h - one pool of long-lived libpq connections per service database.
 *
 * Each service module registers its named statements with db_register()
 * before db_start(); every connection prepares them all once, at connect,
 * so a request costs one round trip per statement and no parse.
 *
 * Row-level security: each connection carries the GUC atrium.tenant_id.
 * db_scope() sets it only when it changes, so a pool serving one tenant
 * pays for it once.
 */
#ifndef ATRIUM_DB_H
#define ATRIUM_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "server/common/util.h"

enum db_service { DB_AUTH, DB_PORTAL, DB_BETTING, DB_BILLING, DB_CATALOG, DB_SERVICE_COUNT };

struct db_stmt {
	const char *name;
	const char *sql;
};

struct db_conn;

/* Adds statements prepared on every connection of `svc`. The table must
 * outlive the pools (a static array). Call before db_start(). */
void db_register(enum db_service svc, const struct db_stmt *stmts, size_t n);
/* Sizes the pools; connections open lazily on first use. */
void db_start(int pool_size);

/*
 * Row-level security is silently off for a superuser or a role with
 * BYPASSRLS. For `serve` and `worker`: checks the role of every reachable
 * service database; false (after logging why) when one bypasses RLS and
 * ATRIUM_ALLOW_BYPASSRLS=1 is not set. With it set, logs a warning for
 * each such database, at every start. A database unreachable now is
 * checked when its first pooled connection opens: a connection whose role
 * bypasses RLS is then refused (without the override).
 */
bool db_check_rls_roles(void);
void db_stop(void);
const char *db_service_name(enum db_service svc);

/* Waits up to a few seconds for a free connection, connecting if needed.
 * NULL when the database is unreachable or the pool stays exhausted. */
struct db_conn *db_acquire(enum db_service svc);
/*
 * For an answer streamed while the client downloads it (a CSV export): the
 * connection stays out for as long as the client takes. At most
 * ATRIUM_EXPORTS_MAX (a quarter of the pool, at least one) of a pool's
 * connections are out this way at once, so slow downloaders never take
 * the connections other requests need: NULL with *busy set when that many
 * are out; NULL with *busy clear as db_acquire() fails. db_release() ends it.
 */
struct db_conn *db_acquire_stream(enum db_service svc, bool *busy);
/* Returns the connection; an open transaction is rolled back first. */
void db_release(struct db_conn *c);

/* Sets atrium.tenant_id for RLS ("*" = platform-wide). False on failure. */
bool db_scope(struct db_conn *c, const char *tenant);

/*
 * Runs a registered statement. Returns the result (caller PQclear()s), or
 * NULL when the connection failed (it is then dropped and reopened later).
 * A statement error is returned as a PGresult with PGRES_FATAL_ERROR; read
 * db_sqlstate() for its code.
 */
PGresult *db_exec(struct db_conn *c, const char *stmt, int nparams, const char *const *values);
/* Runs literal SQL with no parameters (BEGIN, COMMIT, ROLLBACK, SELECT 1). */
bool db_exec_simple(struct db_conn *c, const char *sql);
bool db_begin(struct db_conn *c);
bool db_commit(struct db_conn *c);
void db_rollback(struct db_conn *c);

/* true when res is a success (tuples or command ok). */
bool db_ok(const PGresult *res);
/* SQLSTATE of a failed result, "" when none. */
const char *db_sqlstate(const PGresult *res);
/* Copies column `col` of at most `max` rows of res into out[] (strings in
 * the arena); returns how many rows were copied. */
int db_copy_column(const PGresult *res, int col, int max, struct arena *ar, char **out);

/* Raw connection, for LISTEN/NOTIFY and COPY in later modules. */
PGconn *db_pg(struct db_conn *c);

/* Pool use for /metrics. */
void db_pool_stats(enum db_service svc, int *size, int *in_use, int *open);
/* SELECT 1 on a pooled connection; for /readyz. */
bool db_ping(enum db_service svc);

/* Opens a standalone connection (migrations, tools). Caller PQfinish()es. */
PGconn *db_connect_raw(enum db_service svc);
/* 1 when the connection's role skips row-level security (superuser or
 * BYPASSRLS), 0 when not, -1 when it could not be read. */
int db_role_bypasses_rls(PGconn *pg);

#endif
