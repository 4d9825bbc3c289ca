/*
 * migrate.c - the schema migrator.
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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

static bool migrate_service(enum db_service svc, const char *root)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/%s", root,
		 (const char *[]){"auth", "portal", "betting", "billing"}[svc]);
	DIR *d = opendir(dir);
	if (d == NULL) {
		log_error("migrate: cannot open %s", dir);
		return false;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_migration_name(e->d_name))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(char *));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_str);

	bool ok = false;
	int applied = 0;
	PGconn *pg = db_connect_raw(svc);
	if (pg == NULL)
		goto cleanup;
	if (!exec_ok(pg, "SELECT pg_advisory_lock(" LOCK_KEY ")", "lock"))
		goto cleanup;
	if (!exec_ok(pg,
		     "CREATE TABLE IF NOT EXISTS schema_migrations ("
		     " version text PRIMARY KEY, checksum text NOT NULL,"
		     " applied_at timestamptz NOT NULL DEFAULT now())",
		     "schema_migrations"))
		goto unlock;
	for (size_t i = 0; i < n; i++) {
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		char *sql = slurp(path);
		if (sql == NULL) {
			log_error("migrate: cannot read %s", path);
			goto unlock;
		}
		char sum[65];
		util_sha256_hex(sql, strlen(sql), sum);
		const char *v[] = {names[i]};
		PGresult *res = PQexecParams(pg, "SELECT checksum FROM schema_migrations WHERE version = $1",
					     1, NULL, v, NULL, NULL, 0);
		bool have = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
		if (have && strcmp(PQgetvalue(res, 0, 0), sum) != 0)
			log_warn("migrate: %s/%s changed after it was applied", db_service_name(svc), names[i]);
		PQclear(res);
		if (have) {
			free(sql);
			continue;
		}
		bool step = exec_ok(pg, "BEGIN", "begin") && exec_ok(pg, sql, names[i]);
		free(sql);
		if (step) {
			const char *iv[] = {names[i], sum};
			res = PQexecParams(pg, "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
					   2, NULL, iv, NULL, NULL, 0);
			step = PQresultStatus(res) == PGRES_COMMAND_OK;
			PQclear(res);
		}
		if (!step || !exec_ok(pg, "COMMIT", "commit")) {
			exec_ok(pg, "ROLLBACK", "rollback");
			goto unlock;
		}
		log_info("migrate: %s: applied %s", db_service_name(svc), names[i]);
		applied++;
	}
	ok = true;
	log_info("migrate: %s is up to date (%d applied now)", db_service_name(svc), applied);
unlock:
	exec_ok(pg, "SELECT pg_advisory_unlock(" LOCK_KEY ")", "unlock");
cleanup:
	if (pg)
		PQfinish(pg);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ok;
}

bool migrate_all(const char *dir)
{
	bool ok = true;
	for (int s = 0; s < DB_SERVICE_COUNT; s++)
		ok &= migrate_service((enum db_service)s, dir);
	return ok;
}
