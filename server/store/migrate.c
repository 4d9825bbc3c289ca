/*
 * migrate.c - the schema migrator (see migrate.h): per database, a plan
 * (each file on disk against the migrations table: applied, pending,
 * changed; recorded rows without a file: missing), then the mode's action
 * on that plan: apply, print what would be applied, or print the status.
 */
#include "server/store/migrate.h"
#include "server/store/db.h"
#include "server/common/log.h"
#include "server/common/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCK_KEY "7311950442"  /* arbitrary, fixed: pg_advisory_lock key */
#define DIRECTIVE "-- atrium:"
#define NO_TRANSACTION "-- atrium:no-transaction"

static const char *const folders[DB_SERVICE_COUNT] = {"auth", "portal", "betting", "billing", "catalog"};

enum file_state { F_PENDING, F_APPLIED, F_CHANGED, F_MISSING };
static const char *const state_names[] = {"pending", "applied", "changed", "missing"};

struct entry {
	char *version;          /* the file name, NNNN_name.sql */
	char *sql;              /* NULL for F_MISSING */
	char sum[65];
	char *applied_at;       /* NULL unless recorded */
	enum file_state state;
};

struct plan {
	struct entry *e;
	size_t n;
};

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->e[i].version);
		free(p->e[i].sql);
		free(p->e[i].applied_at);
	}
	free(p->e);
	p->e = NULL;
	p->n = 0;
}

static struct entry *plan_add(struct plan *p)
{
	p->e = xrealloc(p->e, (p->n + 1) * sizeof(*p->e));
	struct entry *e = &p->e[p->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->version, ((const struct entry *)b)->version);
}

static bool is_migration_name(const char *n)
{
	size_t len = strlen(n);
	if (len < 10 || strcmp(n + len - 4, ".sql") != 0)
		return false;
	for (int i = 0; i < 4; i++)
		if (n[i] < '0' || n[i] > '9')
			return false;
	return n[4] == '_';
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0) {
		fclose(f);
		return NULL;
	}
	char *buf = xmalloc((size_t)n + 1);
	size_t got = fread(buf, 1, (size_t)n, f);
	fclose(f);
	buf[got] = '\0';
	return buf;
}

bool migrate_is_no_transaction(const char *sql, bool *bad)
{
	*bad = false;
	size_t len = strcspn(sql, "\n");
	while (len > 0 && (sql[len - 1] == '\r' || sql[len - 1] == ' ' || sql[len - 1] == '\t'))
		len--;
	if (strncmp(sql, DIRECTIVE, strlen(DIRECTIVE)) != 0)
		return false;
	if (len == strlen(NO_TRANSACTION) && strncmp(sql, NO_TRANSACTION, len) == 0)
		return true;
	*bad = true;
	return false;
}

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '$' || (unsigned char)c >= 0x80;
}

/* Length of a dollar-quote tag ($$ or $name$) at s, 0 when s is not one. */
static size_t dollar_tag(const char *s)
{
	size_t i = 1;
	if (s[i] != '$' && !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_'))
		return 0;
	while (s[i] != '$') {
		if (s[i] == '\0' || !(ident_char(s[i]) && s[i] != '$'))
			return 0;
		i++;
	}
	return i + 1;
}

static void push_stmt(char ***out, size_t *n, const char *from, const char *to, bool has_code)
{
	if (!has_code)
		return;
	while (from < to && strchr(" \t\r\n", *from))
		from++;
	while (to > from && strchr(" \t\r\n", to[-1]))
		to--;
	*out = xrealloc(*out, (*n + 1) * sizeof(char *));
	(*out)[(*n)++] = xstrndup(from, (size_t)(to - from));
}

size_t migrate_split_sql(const char *sql, char ***out)
{
	*out = NULL;
	size_t n = 0;
	const char *start = sql, *p = sql;
	bool has_code = false;
	while (*p) {
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			int depth = 0;
			while (*p) {
				if (p[0] == '/' && p[1] == '*') {
					depth++;
					p += 2;
				} else if (p[0] == '*' && p[1] == '/') {
					p += 2;
					if (--depth == 0)
						break;
				} else {
					p++;
				}
			}
			continue;
		}
		if (*p == ';') {
			push_stmt(out, &n, start, p, has_code);
			start = ++p;
			has_code = false;
			continue;
		}
		if (!strchr(" \t\r\n", *p))
			has_code = true;
		if (*p == '\'' || *p == '"') {
			char q = *p;
			/* E'...' strings take backslash escapes. */
			bool esc = q == '\'' && p > start && (p[-1] == 'E' || p[-1] == 'e') &&
				   (p - 1 == start || !ident_char(p[-2]));
			for (p++; *p; p++) {
				if (esc && *p == '\\' && p[1]) {
					p++;
				} else if (*p == q) {
					if (p[1] == q)
						p++; /* doubled: an escaped quote */
					else
						break;
				}
			}
			if (*p)
				p++;
			continue;
		}
		if (*p == '$' && (p == start || !ident_char(p[-1]))) {
			size_t t = dollar_tag(p);
			if (t > 0) {
				const char *end = NULL;
				for (const char *s = p + t; *s; s++)
					if (*s == '$' && strncmp(s, p, t) == 0) {
						end = s;
						break;
					}
				p = end ? end + t : p + strlen(p);
				continue;
			}
		}
		p++;
	}
	push_stmt(out, &n, start, p, has_code);
	return n;
}

static bool exec_ok(PGconn *pg, const char *sql, const char *what)
{
	PGresult *res = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		log_error("migrate: %s: %s", what, PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

/* The files on disk of one service, sorted; false when the folder cannot
 * be read or a file cannot. */
static bool read_files(const char *dir, struct plan *p)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		log_error("migrate: cannot open %s", dir);
		return false;
	}
	bool ok = true;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!is_migration_name(de->d_name))
			continue;
		struct entry *e = plan_add(p);
		e->version = xstrdup(de->d_name);
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		e->sql = slurp(path);
		if (e->sql == NULL) {
			log_error("migrate: cannot read %s", path);
			ok = false;
			continue;
		}
		util_sha256_hex(e->sql, strlen(e->sql), e->sum);
	}
	closedir(d);
	if (p->n > 1)
		qsort(p->e, p->n, sizeof(*p->e), cmp_entry);
	return ok;
}

/* Marks each file against the recorded rows and adds the rows that have no
 * file as F_MISSING. A table that does not exist yet records nothing. */
static bool read_applied(PGconn *pg, const char *table, struct plan *p)
{
	const char *tv[] = {table};
	PGresult *res = PQexecParams(pg, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, tv, NULL, NULL, 0);
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	bool exists = ok && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	if (!ok)
		log_error("migrate: %s: %s", table, PQresultErrorMessage(res));
	PQclear(res);
	if (!exists)
		return ok;
	char q[256];
	snprintf(q, sizeof(q),
		 "SELECT version, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
		 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM %s ORDER BY version", table);
	res = PQexec(pg, q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("migrate: reading %s: %s", table, PQresultErrorMessage(res));
		PQclear(res);
		return false;
	}
	size_t on_disk = p->n;
	for (int r = 0; r < PQntuples(res); r++) {
		const char *v = PQgetvalue(res, r, 0);
		struct entry *e = NULL;
		for (size_t i = 0; i < on_disk; i++)
			if (strcmp(p->e[i].version, v) == 0)
				e = &p->e[i];
		if (e == NULL) {
			e = plan_add(p);
			e->version = xstrdup(v);
			e->state = F_MISSING;
		} else {
			e->state = strcmp(e->sum, PQgetvalue(res, r, 1)) == 0 ? F_APPLIED : F_CHANGED;
		}
		e->applied_at = xstrdup(PQgetvalue(res, r, 2));
	}
	PQclear(res);
	if (p->n > 1)
		qsort(p->e, p->n, sizeof(*p->e), cmp_entry);
	return true;
}

static bool record(PGconn *pg, const char *table, const struct entry *e, bool update)
{
	char q[256];
	snprintf(q, sizeof(q),
		 update ? "UPDATE %s SET checksum = $2 WHERE version = $1"
			: "INSERT INTO %s (version, checksum) VALUES ($1, $2)",
		 table);
	const char *v[] = {e->version, e->sum};
	PGresult *res = PQexecParams(pg, q, 2, NULL, v, NULL, NULL, 0);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		log_error("migrate: recording %s: %s", e->version, PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

/* A whole file in one transaction, recorded in it. */
static bool apply_in_transaction(PGconn *pg, const char *table, const char *db, const struct entry *e)
{
	char what[512];
	snprintf(what, sizeof(what), "%s/%s", db, e->version);
	bool ok = exec_ok(pg, "BEGIN", "begin") && exec_ok(pg, e->sql, what) && record(pg, table, e, false);
	if (!ok || !exec_ok(pg, "COMMIT", "commit")) {
		exec_ok(pg, "ROLLBACK", "rollback");
		return false;
	}
	return true;
}

/* Statement by statement, each committed on its own; recorded after the
 * last. What ran before a failure stays: the file must be re-runnable. */
static bool apply_outside_transaction(PGconn *pg, const char *table, const char *db,
				      const struct entry *e)
{
	char **stmts;
	size_t n = migrate_split_sql(e->sql, &stmts);
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		PGresult *res = PQexec(pg, stmts[i]);
		ExecStatusType st = PQresultStatus(res);
		ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
		if (!ok) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
			msg[strcspn(msg, "\n")] = '\0';
			log_error("migrate: %s/%s (no-transaction) failed at statement %zu of %zu: %s; "
				  "statements before it stay applied and the file is not recorded: make it "
				  "re-runnable (e.g. CREATE INDEX CONCURRENTLY IF NOT EXISTS, after dropping an "
				  "index left INVALID) and run atrium migrate again",
				  db, e->version, i + 1, n, msg);
		}
		PQclear(res);
	}
	for (size_t i = 0; i < n; i++)
		free(stmts[i]);
	free(stmts);
	return ok && record(pg, table, e, false);
}

/* Drift, directives and missing files: false when the run must stop before
 * anything is applied. */
static bool check_plan(const struct migrate_opts *o, const char *db, const struct plan *p)
{
	bool ok = true;
	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->e[i];
		bool bad = false;
		if (e->sql)
			migrate_is_no_transaction(e->sql, &bad);
		if (bad && e->state == F_PENDING) {
			log_error("migrate: %s/%s: unknown directive on its first line (the only one is '%s')",
				  db, e->version, NO_TRANSACTION);
			ok = false;
		}
		if (e->state == F_MISSING)
			log_warn("migrate: %s/%s was applied at %s but is no longer on disk", db, e->version,
				 e->applied_at);
		if (e->state == F_CHANGED && !o->accept_changed) {
			log_error("migrate: %s/%s changed after it was applied (at %s): restore it, or "
				  "accept its new content with --accept-changed or "
				  "ATRIUM_MIGRATE_ACCEPT_CHANGED=1",
				  db, e->version, e->applied_at);
			ok = false;
		}
	}
	return ok;
}

static int status_report(const struct migrate_opts *o, const char *db, const struct plan *p)
{
	int rc = 0;
	fprintf(o->out, "%s:\n", db);
	if (p->n == 0)
		fprintf(o->out, "  (no migrations)\n");
	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->e[i];
		fprintf(o->out, "  %-8s %-40s %s\n", state_names[e->state], e->version,
			e->applied_at ? e->applied_at : "-");
		if (e->state == F_CHANGED || e->state == F_MISSING)
			rc = 1;
	}
	return rc;
}

static int dry_run_report(const struct migrate_opts *o, const char *db, const struct plan *p)
{
	int would = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->e[i];
		bool bad;
		if (e->state == F_PENDING) {
			fprintf(o->out, "%s: would apply %s%s\n", db, e->version,
				migrate_is_no_transaction(e->sql, &bad) ? " (no-transaction)" : "");
			would++;
		} else if (e->state == F_CHANGED && o->accept_changed) {
			fprintf(o->out, "%s: would record the new checksum of %s\n", db, e->version);
			would++;
		}
	}
	if (would == 0)
		fprintf(o->out, "%s: up to date, nothing to apply\n", db);
	return 0;
}

static int apply(const struct migrate_opts *o, PGconn *pg, const char *db, const struct plan *p)
{
	int applied = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->e[i];
		if (e->state == F_CHANGED) {
			if (!record(pg, o->table, e, true))
				return 1;
			log_warn("migrate: %s/%s changed after it was applied; its new checksum is recorded "
				 "(accepted), its new content was not run", db, e->version);
			continue;
		}
		if (e->state != F_PENDING)
			continue;
		bool bad;
		bool ok = migrate_is_no_transaction(e->sql, &bad) ? apply_outside_transaction(pg, o->table, db, e)
								  : apply_in_transaction(pg, o->table, db, e);
		if (!ok)
			return 1;
		log_info("migrate: %s: applied %s", db, e->version);
		applied++;
	}
	log_info("migrate: %s is up to date (%d applied now)", db, applied);
	return 0;
}

static int migrate_service(const struct migrate_opts *o, enum db_service svc)
{
	const char *db = db_service_name(svc);
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/%s", o->dir, folders[svc]);
	struct plan p = {0};
	int rc = 1;
	bool locked = false, reported = false;
	PGconn *pg = NULL;
	if (!read_files(dir, &p))
		goto cleanup;
	pg = db_connect_raw(svc);
	if (pg == NULL) {
		log_error("migrate: %s is unreachable", db);
		goto cleanup;
	}
	if (o->mode == MIGRATE_APPLY) {
		/* Read what is recorded only once the lock is ours: a concurrent
		 * run may have applied files meanwhile. */
		if (!exec_ok(pg, "SELECT pg_advisory_lock(" LOCK_KEY ")", "lock"))
			goto cleanup;
		locked = true;
		/* Only now (the advisory lock obeys lock_timeout too): a migration
		 * that waits for a table lock behind a long transaction gives up
		 * instead of queueing every request behind its own lock. */
		char t[128];
		snprintf(t, sizeof(t), "SET lock_timeout = %d; SET statement_timeout = %d",
			 o->lock_timeout_ms, o->statement_timeout_ms);
		if (!exec_ok(pg, t, "timeouts"))
			goto cleanup;
		char q[256];
		snprintf(q, sizeof(q),
			 "CREATE TABLE IF NOT EXISTS %s (version text PRIMARY KEY, checksum text NOT NULL,"
			 " applied_at timestamptz NOT NULL DEFAULT now())",
			 o->table);
		if (!exec_ok(pg, q, o->table))
			goto cleanup;
	}
	if (!read_applied(pg, o->table, &p))
		goto cleanup;
	if (o->mode == MIGRATE_STATUS) {
		reported = true;
		rc = status_report(o, db, &p);
		goto cleanup;
	}
	if (!check_plan(o, db, &p))
		goto cleanup;
	rc = o->mode == MIGRATE_DRY_RUN ? dry_run_report(o, db, &p) : apply(o, pg, db, &p);
cleanup:
	if (o->mode == MIGRATE_STATUS && rc != 0 && !reported)
		fprintf(o->out, "%s: status unknown (see the log)\n", db);
	if (locked)
		exec_ok(pg, "SELECT pg_advisory_unlock(" LOCK_KEY ")", "unlock");
	if (pg)
		PQfinish(pg);
	plan_free(&p);
	return rc;
}

int migrate_run(const struct migrate_opts *o)
{
	int rc = 0;
	for (int s = 0; s < DB_SERVICE_COUNT; s++)
		if (migrate_service(o, (enum db_service)s) != 0)
			rc = 1;
	if (o->out)
		fflush(o->out);
	return rc;
}
