/*
 * test_migrate.c - `atrium migrate` and the command line, end to end: the
 * real binary (ATRIUM_TEST_BINARY) against the real databases.
 *
 * Each test gets its own migrations folder and its own migrations table
 * (ATRIUM_MIGRATIONS_TABLE=mt_<suffix>_migrations) in the four service
 * databases, and its files create only tables named mt_<suffix>_*, so the
 * real schema_migrations is never read or written; teardown drops them.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static const char *const db_vars[] = {"ATRIUM_DB_AUTH_URL", "ATRIUM_DB_PORTAL_URL",
				      "ATRIUM_DB_BETTING_URL", "ATRIUM_DB_BILLING_URL",
				      "ATRIUM_DB_CATALOG_URL"};
static const char *const folders[] = {"auth", "portal", "betting", "billing", "catalog"};

static char dir[64];       /* the migrations folder */
static char sfx[16];       /* random, in every table name of a test */
static char table[48];     /* the test's migrations table */

/* Replaces each '@' of text by the suffix. Heap string. */
static char *with_sfx(const char *text)
{
	size_t n = 0;
	for (const char *p = text; *p; p++)
		n += *p == '@' ? strlen(sfx) : 1;
	char *out = malloc(n + 1), *o = out;
	for (const char *p = text; *p; p++) {
		if (*p == '@') {
			memcpy(o, sfx, strlen(sfx));
			o += strlen(sfx);
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static void write_migration(const char *folder, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, folder, name);
	char *body = with_sfx(text);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(body, f);
	fclose(f);
	free(body);
}

static void setup(void)
{
	char id[37];
	random_uuid(id);
	snprintf(sfx, sizeof(sfx), "%.8s", id);
	snprintf(table, sizeof(table), "mt_%s_migrations", sfx);
	snprintf(dir, sizeof(dir), "/tmp/atrium-migrate-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	for (int i = 0; i < 5; i++) {
		char sub[128];
		snprintf(sub, sizeof(sub), "%s/%s", dir, folders[i]);
		cr_assert_eq(mkdir(sub, 0700), 0);
	}
}

static void teardown(void)
{
	for (int i = 0; i < 5; i++) {
		PGconn *pg = db_connect(db_vars[i]);
		char *sql = with_sfx("DO $$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables "
				     "WHERE schemaname = current_schema() AND tablename LIKE 'mt\\_@\\_%' LOOP "
				     "EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', t); END LOOP; END $$");
		PQclear(PQexec(pg, sql));
		free(sql);
		PQfinish(pg);
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf %s/%s", dir, folders[i]);
		cr_assert_eq(system(cmd), 0);
	}
	rmdir(dir);
}

TestSuite(migrate, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(cli, .init = setup, .fini = teardown, .timeout = 120);

struct run {
	int rc;        /* exit status; 128 + signal; -1 when it had to be killed */
	char out[16384];
	char err[16384];
};

static void read_into(const char *path, char *buf, size_t cap)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
}

/* Runs the binary with args (NULL-terminated) in the test's environment
 * plus this test's folder and table, plus env ("NAME=value", NULL-ended). */
static void run_env(struct run *r, const char *const *env, const char *const *args)
{
	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin, "ATRIUM_TEST_BINARY");
	char outp[] = "/tmp/atrium-migrate-out-XXXXXX", errp[] = "/tmp/atrium-migrate-err-XXXXXX";
	int ofd = mkstemp(outp), efd = mkstemp(errp);
	cr_assert(ofd >= 0 && efd >= 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		test_child_dies_with_parent();
		setenv("ATRIUM_MIGRATIONS_DIR", dir, 1);
		setenv("ATRIUM_MIGRATIONS_TABLE", table, 1);
		setenv("ATRIUM_WORKER_METRICS_LISTEN", "", 1);
		unsetenv("ATRIUM_MIGRATE_ACCEPT_CHANGED");
		for (size_t i = 0; env && env[i]; i++) {
			char *kv = strdup(env[i]);
			char *eq = strchr(kv, '=');
			*eq = '\0';
			setenv(kv, eq + 1, 1);
		}
		dup2(ofd, 1);
		dup2(efd, 2);
		const char *argv[16] = {bin};
		for (int i = 0; args[i] && i < 14; i++)
			argv[i + 1] = args[i];
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(ofd);
	close(efd);
	int status = 0;
	r->rc = -1;
	for (int i = 0; i < 600; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			r->rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			break;
		}
		usleep(100000);
	}
	if (r->rc == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	read_into(outp, r->out, sizeof(r->out));
	read_into(errp, r->err, sizeof(r->err));
}

#define RUN(r, ...) run_env((r), NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_ENV(r, env, ...) run_env((r), (const char *const[]){env, NULL}, (const char *const[]){__VA_ARGS__, NULL})

/* The first value of a query on portal_db (heap, "" for no row). */
static char *portal_value(const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	PGconn *pg = db_connect("ATRIUM_DB_PORTAL_URL");
	PGresult *res = PQexec(pg, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
	char *v = strdup(PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(pg);
	return v;
}

static bool portal_has_table(const char *name_with_at)
{
	char *name = with_sfx(name_with_at);
	char *v = portal_value("SELECT to_regclass('%s') IS NOT NULL", name);
	bool has = strcmp(v, "t") == 0;
	free(v);
	free(name);
	return has;
}

/* How many times a version is recorded in the test's table (-1: no table). */
static int recorded(const char *version)
{
	if (!portal_has_table("mt_@_migrations"))
		return -1;
	char *v = portal_value("SELECT count(*) FROM %s WHERE version = '%s'", table, version);
	int n = atoi(v);
	free(v);
	return n;
}

#define BASE "CREATE TABLE mt_@_t (a int, b int);\nINSERT INTO mt_@_t VALUES (1, 2);\n"
#define CONCURRENT                                                                      \
	"-- atrium:no-transaction\n"                                                    \
	"-- each statement commits on its own, so each must be re-runnable\n"           \
	"CREATE INDEX CONCURRENTLY IF NOT EXISTS mt_@_t_a ON mt_@_t (a);\n"             \
	"CREATE INDEX CONCURRENTLY IF NOT EXISTS mt_@_t_b ON mt_@_t (b);\n"

Test(migrate, a_no_transaction_file_creates_indexes_concurrently_and_is_recorded_once)
{
	write_migration("portal", "0001_base.sql", BASE);
	write_migration("portal", "0002_indexes.sql", CONCURRENT);
	struct run r;
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "migrate: %d\n%s", r.rc, r.err);
	for (int i = 0; i < 2; i++) {
		char *idx = with_sfx(i ? "mt_@_t_b" : "mt_@_t_a");
		char *valid = portal_value("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
					   "WHERE c.relname = '%s'", idx);
		cr_assert_str_eq(valid, "t", "index %s is there and valid", idx);
		free(valid);
		free(idx);
	}
	cr_assert_eq(recorded("0001_base.sql"), 1);
	cr_assert_eq(recorded("0002_indexes.sql"), 1);
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "a second run: %d\n%s", r.rc, r.err);
	cr_assert_eq(recorded("0002_indexes.sql"), 1, "still recorded once");
	cr_assert_not_null(strstr(r.err, "0 applied now"), "%s", r.err);
}

/* Without the directive the same file cannot run: the directive is what
 * makes CREATE INDEX CONCURRENTLY possible. */
Test(migrate, without_the_directive_create_index_concurrently_fails_and_is_not_recorded)
{
	write_migration("portal", "0001_base.sql", BASE);
	write_migration("portal", "0002_indexes.sql",
			"CREATE INDEX CONCURRENTLY IF NOT EXISTS mt_@_t_a ON mt_@_t (a);\n");
	struct run r;
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 1, "%d\n%s", r.rc, r.err);
	cr_assert_not_null(strstr(r.err, "0002_indexes.sql"), "%s", r.err);
	cr_assert_eq(recorded("0002_indexes.sql"), 0);
}

Test(migrate, a_no_transaction_file_failing_midway_is_not_recorded_and_says_to_make_it_rerunnable)
{
	write_migration("portal", "0001_base.sql", BASE);
	write_migration("portal", "0002_half.sql",
			"-- atrium:no-transaction\n"
			"CREATE TABLE mt_@_first (x int);\n"
			"SELECT 1 / 0;\n"
			"CREATE TABLE mt_@_never (x int);\n");
	struct run r;
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 1, "%d\n%s", r.rc, r.err);
	cr_assert_not_null(strstr(r.err, "0002_half.sql"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "statement 2 of 3"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "re-runnable"), "%s", r.err);
	cr_assert_eq(recorded("0002_half.sql"), 0, "not recorded");
	cr_assert(portal_has_table("mt_@_first"), "the statement before the failure stays");
	cr_assert_not(portal_has_table("mt_@_never"));

	/* Made re-runnable, it applies. */
	write_migration("portal", "0002_half.sql",
			"-- atrium:no-transaction\n"
			"CREATE TABLE IF NOT EXISTS mt_@_first (x int);\n"
			"CREATE TABLE IF NOT EXISTS mt_@_never (x int);\n");
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.err);
	cr_assert_eq(recorded("0002_half.sql"), 1);
}

Test(migrate, a_statement_waiting_on_a_lock_gives_up_after_the_lock_timeout)
{
	write_migration("portal", "0001_base.sql", BASE);
	struct run r;
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "%s", r.err);
	/* A long reader holds the table; ALTER TABLE needs it exclusively. */
	PGconn *reader = db_connect("ATRIUM_DB_PORTAL_URL");
	char *lock = with_sfx("BEGIN; LOCK TABLE mt_@_t IN ACCESS SHARE MODE");
	PGresult *res = PQexec(reader, lock);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(reader));
	PQclear(res);
	free(lock);
	write_migration("portal", "0002_alter.sql", "ALTER TABLE mt_@_t ADD COLUMN c int;\n");
	time_t t0 = time(NULL);
	RUN_ENV(&r, "ATRIUM_MIGRATE_LOCK_TIMEOUT_MS=300", "migrate");
	time_t took = time(NULL) - t0;
	cr_assert_eq(r.rc, 1, "migrate behind a held lock: %d\n%s", r.rc, r.err);
	cr_assert_not_null(strstr(r.err, "lock timeout"), "says it timed out on a lock: %s", r.err);
	cr_assert_leq(took, 20, "gave up after %ld s", (long)took);
	cr_assert_eq(recorded("0002_alter.sql"), 0, "not recorded");
	PQclear(PQexec(reader, "ROLLBACK"));
	PQfinish(reader);
	RUN_ENV(&r, "ATRIUM_MIGRATE_LOCK_TIMEOUT_MS=300", "migrate");
	cr_assert_eq(r.rc, 0, "once the lock is free: %d\n%s", r.rc, r.err);
	cr_assert_eq(recorded("0002_alter.sql"), 1);
}

Test(migrate, an_unknown_directive_is_refused)
{
	write_migration("portal", "0001_base.sql", "-- atrium:no-transactions\n" BASE);
	struct run r;
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 1, "%d\n%s", r.rc, r.err);
	cr_assert_not_null(strstr(r.err, "unknown directive"), "%s", r.err);
	cr_assert_not(portal_has_table("mt_@_t"));
}

Test(migrate, an_applied_file_that_changed_fails_naming_it_until_accepted)
{
	write_migration("portal", "0001_base.sql", BASE);
	struct run r;
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.err);
	char *sum = portal_value("SELECT checksum FROM %s WHERE version = '0001_base.sql'", table);

	write_migration("portal", "0001_base.sql", BASE "-- an edit after the fact\n");
	write_migration("portal", "0002_next.sql", "CREATE TABLE mt_@_next (x int);\n");
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 1, "drift must fail: %d\n%s", r.rc, r.err);
	cr_assert_not_null(strstr(r.err, "portal_db/0001_base.sql changed"), "%s", r.err);
	cr_assert_not(portal_has_table("mt_@_next"), "nothing applied in that database");

	RUN(&r, "migrate", "status");
	cr_assert_eq(r.rc, 1, "status with a changed file: %d\n%s", r.rc, r.out);
	cr_assert_not_null(strstr(r.out, "changed  0001_base.sql"), "%s", r.out);

	RUN(&r, "migrate", "--dry-run");
	cr_assert_eq(r.rc, 1, "a dry run fails on drift too: %d\n%s", r.rc, r.err);
	RUN(&r, "migrate", "--dry-run", "--accept-changed");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.err);
	cr_assert_not_null(strstr(r.out, "portal_db: would record the new checksum of 0001_base.sql"), "%s", r.out);
	cr_assert_not(portal_has_table("mt_@_next"), "a dry run applies nothing");

	RUN(&r, "migrate", "--accept-changed");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.err);
	cr_assert_not_null(strstr(r.err, "0001_base.sql changed after it was applied"), "a warning: %s", r.err);
	cr_assert(portal_has_table("mt_@_next"));
	char *now = portal_value("SELECT checksum FROM %s WHERE version = '0001_base.sql'", table);
	cr_assert_str_neq(now, sum, "the new checksum is recorded");
	cr_assert_eq(recorded("0001_base.sql"), 1);
	free(now);
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "accepted: %d\n%s", r.rc, r.err);

	/* The environment variable is the same override. */
	write_migration("portal", "0001_base.sql", BASE "-- a second edit\n");
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 1, "%d\n%s", r.rc, r.err);
	RUN_ENV(&r, "ATRIUM_MIGRATE_ACCEPT_CHANGED=1", "migrate");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.err);
	RUN(&r, "migrate", "status");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.out);
	free(sum);
}

Test(migrate, status_lists_each_file_per_database_with_exit_codes)
{
	write_migration("portal", "0001_base.sql", BASE);
	write_migration("billing", "0001_other.sql", "CREATE TABLE mt_@_other (x int);\n");
	struct run r;
	RUN(&r, "migrate", "status");
	cr_assert_eq(r.rc, 0, "pending is not an error: %d\n%s%s", r.rc, r.out, r.err);
	cr_assert_not_null(strstr(r.out, "portal_db:\n  pending  0001_base.sql"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "billing_db:\n  pending  0001_other.sql"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "auth_db:\n  (no migrations)"), "%s", r.out);
	cr_assert_eq(recorded("0001_base.sql"), -1, "status creates no table");

	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.err);
	write_migration("portal", "0002_later.sql", "CREATE TABLE mt_@_later (x int);\n");
	RUN(&r, "migrate", "status");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.out);
	const char *applied = strstr(r.out, "applied  0001_base.sql");
	cr_assert_not_null(applied, "%s", r.out);
	cr_assert_not_null(strstr(applied, "Z\n"), "with when it was applied: %s", r.out);
	cr_assert_not_null(strstr(r.out, "pending  0002_later.sql"), "%s", r.out);
	cr_assert_not(portal_has_table("mt_@_later"), "status applies nothing");

	char path[256];
	snprintf(path, sizeof(path), "%s/billing/0001_other.sql", dir);
	cr_assert_eq(unlink(path), 0);
	RUN(&r, "migrate", "status");
	cr_assert_eq(r.rc, 1, "a file missing on disk: %d\n%s", r.rc, r.out);
	cr_assert_not_null(strstr(r.out, "missing  0001_other.sql"), "%s", r.out);
}

Test(migrate, dry_run_prints_what_would_be_applied_and_applies_nothing)
{
	write_migration("portal", "0001_base.sql", BASE);
	write_migration("portal", "0002_indexes.sql", CONCURRENT);
	struct run r;
	RUN(&r, "migrate", "--dry-run");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.err);
	cr_assert_not_null(strstr(r.out, "portal_db: would apply 0001_base.sql\n"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "portal_db: would apply 0002_indexes.sql (no-transaction)"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "auth_db: up to date"), "%s", r.out);
	cr_assert_not(portal_has_table("mt_@_t"));
	cr_assert_eq(recorded("0001_base.sql"), -1, "no migrations table either");

	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.err);
	write_migration("portal", "0003_more.sql", "CREATE TABLE mt_@_more (x int);\n");
	RUN(&r, "migrate", "--dry-run");
	cr_assert_eq(r.rc, 0, "%d\n%s", r.rc, r.err);
	cr_assert_null(strstr(r.out, "would apply 0001_base.sql"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "would apply 0003_more.sql"), "%s", r.out);
	cr_assert_not(portal_has_table("mt_@_more"));
	cr_assert_eq(recorded("0003_more.sql"), 0);
}

Test(cli, help_on_every_command_prints_usage_exits_0_and_does_nothing)
{
	write_migration("portal", "0001_base.sql", BASE);
	const char *cmds[] = {"serve", "worker", "migrate", "check", "version"};
	struct run r;
	for (int i = 0; i < 5; i++) {
		for (int h = 0; h < 2; h++) {
			RUN(&r, cmds[i], h ? "-h" : "--help");
			cr_assert_eq(r.rc, 0, "%s --help: %d\n%s", cmds[i], r.rc, r.err);
			char want[64];
			snprintf(want, sizeof(want), "usage: atrium %s", cmds[i]);
			cr_assert_not_null(strstr(r.out, want), "%s --help: %s", cmds[i], r.out);
			cr_assert_str_eq(r.err, "", "%s --help wrote to stderr: %s", cmds[i], r.err);
		}
		RUN(&r, "help", cmds[i]);
		cr_assert_eq(r.rc, 0);
		cr_assert_not_null(strstr(r.out, cmds[i]), "%s", r.out);
	}
	RUN(&r, "migrate", "status", "--help");
	cr_assert_eq(r.rc, 0);
	RUN(&r, "migrate", "--dry-run", "--help");
	cr_assert_eq(r.rc, 0);
	const char *top[] = {"--help", "help", "-h"};
	for (int i = 0; i < 3; i++) {
		RUN(&r, top[i]);
		cr_assert_eq(r.rc, 0, "%s: %d", top[i], r.rc);
		cr_assert_not_null(strstr(r.out, "usage: atrium <command>"), "%s", r.out);
		cr_assert_not_null(strstr(r.out, "migrate"), "%s", r.out);
	}
	cr_assert_eq(recorded("0001_base.sql"), -1, "no --help ran the migrations");
	cr_assert_not(portal_has_table("mt_@_t"));
}

Test(cli, unknown_commands_and_flags_are_refused_with_usage_and_exit_2)
{
	write_migration("portal", "0001_base.sql", BASE);
	struct run r;
	const char *const cases[][4] = {
		{"frobnicate", NULL, NULL},     {"--frobnicate", NULL, NULL}, {"migrate", "--bogus", NULL},
		{"migrate", "--dry-run", "--x"}, {"migrate", "statuss", NULL}, {"serve", "--bogus", NULL},
		{"worker", "extra", NULL},      {"version", "--bogus", NULL}, {"help", "frobnicate", NULL},
		{"migrate", "status", "--dry-run"}, {"check", "--bogus", NULL},
		{"check", "--serve", "--worker"}, {"check", "status", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_env(&r, NULL, cases[i]);
		cr_assert_eq(r.rc, 2, "atrium %s %s: %d\n%s", cases[i][0], cases[i][1] ? cases[i][1] : "", r.rc,
			     r.err);
		cr_assert_not_null(strstr(r.err, "usage: atrium"), "usage on stderr: %s", r.err);
		cr_assert_str_eq(r.out, "", "nothing on stdout: %s", r.out);
	}
	RUN(&r, "migrate", "--bogus");
	cr_assert_not_null(strstr(r.err, "unknown option '--bogus'"), "%s", r.err);
	RUN(&r, "frobnicate");
	cr_assert_not_null(strstr(r.err, "unknown command 'frobnicate'"), "%s", r.err);
	cr_assert_eq(recorded("0001_base.sql"), -1, "nothing was applied");
}

Test(cli, a_bad_integer_setting_stops_the_program_naming_the_variable)
{
	write_migration("portal", "0001_base.sql", BASE);
	struct {
		const char *env, *cmd, *name;
	} cases[] = {
		{"ATRIUM_WORKER_CONCURRENCY=abc", "worker", "ATRIUM_WORKER_CONCURRENCY"},
		{"ATRIUM_WORKER_CONCURRENCY=abc", "migrate", "ATRIUM_WORKER_CONCURRENCY"},
		{"ATRIUM_JOB_LEASE_SECONDS=0", "worker", "ATRIUM_JOB_LEASE_SECONDS"},
		{"ATRIUM_IDEMPOTENCY_RETENTION_HOURS=12", "worker", "ATRIUM_IDEMPOTENCY_RETENTION_HOURS"},
		{"ATRIUM_WEBHOOK_SWEEP_SECONDS=15s", "worker", "ATRIUM_WEBHOOK_SWEEP_SECONDS"},
		{"ATRIUM_BET_PENDING_TIMEOUT_SECONDS=-1", "serve", "ATRIUM_BET_PENDING_TIMEOUT_SECONDS"},
		{"ATRIUM_ALLOW_BYPASSRLS=yes", "serve", "ATRIUM_ALLOW_BYPASSRLS"},
		{"ATRIUM_MIGRATE_ACCEPT_CHANGED=true", "migrate", "ATRIUM_MIGRATE_ACCEPT_CHANGED"},
		{"ATRIUM_OUTBOUND_TIMEOUT_MS=fast", "check", "ATRIUM_OUTBOUND_TIMEOUT_MS"},
		{"ATRIUM_PUBLIC_URL=https://atrium.example.com/portal", "serve", "ATRIUM_PUBLIC_URL"},
		{"ATRIUM_PUBLIC_URL=atrium.example.com", "serve", "ATRIUM_PUBLIC_URL"},
		/* secrets at rest (issue 15): a key that is not 32 bytes, a duplicate id */
		{"ATRIUM_SECRETS_KEY=k1:c2hvcnQ=", "serve", "ATRIUM_SECRETS_KEY"},
		{"ATRIUM_SECRETS_KEY=k1:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=,k1:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
		 "worker", "ATRIUM_SECRETS_KEY"},
		{"ATRIUM_SECRETS_KEY=nocolon", "check", "ATRIUM_SECRETS_KEY"},
		{"ATRIUM_QUICKBOOKS_CDC_SECONDS=0", "worker", "ATRIUM_QUICKBOOKS_CDC_SECONDS"},
	};
	struct run r;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		RUN_ENV(&r, cases[i].env, cases[i].cmd);
		cr_assert_eq(r.rc, 1, "%s atrium %s: %d\n%s", cases[i].env, cases[i].cmd, r.rc, r.err);
		cr_assert_not_null(strstr(r.err, cases[i].name), "names the variable: %s", r.err);
		cr_assert(strstr(r.err, "must be an integer in [") || strstr(r.err, "must be 0 or 1") ||
			  strstr(r.err, "must be an origin") || strstr(r.err, "must be one or more keyid:base64"),
			  "says what it accepts: %s", r.err);
	}
	cr_assert_eq(recorded("0001_base.sql"), -1, "nothing was applied");
}

/* ---- atrium check, and the worker's required settings ------------------ */

/* The report line of a check: "  <verdict> <name> ..." */
static bool has_line(const char *out, const char *verdict, const char *name)
{
	char want[96];
	snprintf(want, sizeof(want), "  %-5s %s ", verdict, name);
	return strstr(out, want) != NULL;
}

Test(cli, check_passes_against_the_stack_naming_every_dependency)
{
	write_migration("portal", "0001_base.sql", BASE);
	struct run r;
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "%s", r.err);
	RUN(&r, "check");
	cr_assert_eq(r.rc, 0, "atrium check: %d\n%s\n%s", r.rc, r.out, r.err);
	const char *names[] = {"configuration", "auth_db", "portal_db", "betting_db", "billing_db",
			       "catalog_db", "migrations", "tls", "redis", "identity provider", "token audience",
			       "worker settings", "azure credential", "blob storage", "secrets key"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_assert(has_line(r.out, "ok", names[i]), "no ok line for %s:\n%s", names[i], r.out);
	cr_assert_not_null(strstr(r.out, "1 applied, 0 pending"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, " 0 failed"), "%s", r.out);

	RUN(&r, "check", "--worker");
	cr_assert_eq(r.rc, 0, "%s", r.out);
	cr_assert(has_line(r.out, "ok", "azure credential"), "%s", r.out);
	cr_assert(!has_line(r.out, "ok", "redis"), "--worker checks no Redis: %s", r.out);
	RUN(&r, "check", "--serve");
	cr_assert_eq(r.rc, 0, "%s", r.out);
	cr_assert(has_line(r.out, "ok", "redis"), "%s", r.out);
	cr_assert(!has_line(r.out, "ok", "azure credential"), "--serve checks no Azure: %s", r.out);
	cr_assert_eq(recorded("0001_base.sql"), 1, "applied once, by migrate");
}

Test(cli, check_fails_naming_each_broken_dependency_and_changes_nothing)
{
	write_migration("portal", "0001_base.sql", BASE);
	struct run r;
	RUN(&r, "migrate");
	cr_assert_eq(r.rc, 0, "%s", r.err);
	write_migration("portal", "0002_pending.sql", "CREATE TABLE mt_@_pending (a int);\n");
	const char *env[] = {"ATRIUM_REDIS_URL=redis://127.0.0.1:1/0",
			     "ATRIUM_TLS_KEY=/dev/null",
			     "ATRIUM_AZURE_CLIENT_SECRET=not-the-secret",
			     "ATRIUM_OIDC_METADATA_URL=http://127.0.0.1:1/.well-known/openid-configuration",
			     NULL};
	run_env(&r, env, (const char *const[]){"check", NULL});
	cr_assert_eq(r.rc, 1, "atrium check with broken dependencies: %d\n%s", r.rc, r.out);
	const char *failed[] = {"redis", "migrations", "tls", "azure credential", "identity provider"};
	for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++)
		cr_assert(has_line(r.out, "FAIL", failed[i]), "no FAIL line for %s:\n%s", failed[i], r.out);
	cr_assert(has_line(r.out, "ok", "portal_db"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "1 pending"), "%s", r.out);
	cr_assert_null(strstr(r.out, "not-the-secret"), "a secret in the report: %s", r.out);
	cr_assert_null(strstr(r.err, "not-the-secret"), "a secret on stderr: %s", r.err);
	cr_assert_eq(recorded("0002_pending.sql"), 0, "check applied the pending file");
	cr_assert_not(portal_has_table("mt_@_pending"));
}

Test(cli, worker_without_its_azure_settings_refuses_to_start_naming_them)
{
	const char *cases[][2] = {
		{"ATRIUM_STORAGE_KEY=", "ATRIUM_STORAGE_KEY"},
		{"ATRIUM_AZURE_SUBSCRIPTION_ID=", "ATRIUM_AZURE_SUBSCRIPTION_ID"},
		{"ATRIUM_STORAGE_BLOB_URL=", "ATRIUM_STORAGE_BLOB_URL"},
	};
	struct run r;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		RUN_ENV(&r, cases[i][0], "worker");
		cr_assert_eq(r.rc, 1, "%s atrium worker: %d\n%s", cases[i][0], r.rc, r.err);
		cr_assert_not_null(strstr(r.err, cases[i][1]), "names %s: %s", cases[i][1], r.err);
		RUN_ENV(&r, cases[i][0], "check", "--worker");
		cr_assert_eq(r.rc, 1, "%s atrium check --worker: %d\n%s", cases[i][0], r.rc, r.out);
		cr_assert(has_line(r.out, "FAIL", "worker settings"), "%s", r.out);
	}
	/* No credential at all (no secret, certificate or federated file). */
	const char *none[] = {"ATRIUM_AZURE_CLIENT_SECRET=", "ATRIUM_AZURE_CLIENT_CERTIFICATE=",
			      "AZURE_FEDERATED_TOKEN_FILE=", NULL};
	run_env(&r, none, (const char *const[]){"worker", NULL});
	cr_assert_eq(r.rc, 1, "worker without a credential: %d\n%s", r.rc, r.err);
	cr_assert_not_null(strstr(r.err, "a credential"), "%s", r.err);
}
