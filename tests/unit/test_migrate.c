/* Unit tests for server/store/migrate.c: the no-transaction directive and
 * the statement splitter that no-transaction files go through; and for the
 * environment parser (server/common/config.c) that every ATRIUM_* integer
 * and boolean goes through. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "server/common/config.h"
#include "server/store/migrate.h"

static size_t split(const char *sql, char ***out)
{
	return migrate_split_sql(sql, out);
}

static void free_all(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

Test(migrate, directive_is_the_first_line_only)
{
	bool bad;
	cr_assert(migrate_is_no_transaction("-- atrium:no-transaction\nCREATE INDEX x ON t (a);", &bad));
	cr_assert_not(bad);
	cr_assert(migrate_is_no_transaction("-- atrium:no-transaction  \r\nSELECT 1;", &bad));
	cr_assert(migrate_is_no_transaction("-- atrium:no-transaction", &bad));
	cr_assert_not(migrate_is_no_transaction("SELECT 1;\n-- atrium:no-transaction\n", &bad));
	cr_assert_not(bad);
	cr_assert_not(migrate_is_no_transaction("-- plain comment\nSELECT 1;", &bad));
	cr_assert_not(bad);
	/* A misspelt directive is an error, not silently a transaction. */
	cr_assert_not(migrate_is_no_transaction("-- atrium:no-transactions\nSELECT 1;", &bad));
	cr_assert(bad);
	cr_assert_not(migrate_is_no_transaction("-- atrium:notx\n", &bad));
	cr_assert(bad);
}

Test(migrate, splits_at_top_level_semicolons_only)
{
	char **s;
	size_t n = split("-- atrium:no-transaction\n"
			 "CREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x);\n"
			 "/* a; comment /* nested; */ still; */\n"
			 "INSERT INTO t VALUES ('a;b', 'it''s; fine', E'back\\'slash;', \"odd;name\");\n"
			 "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n"
			 "CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN $1; END; $body$;\n"
			 "-- trailing; comment\n"
			 "SELECT 1 -- no semicolon at the end\n",
			 &s);
	cr_assert_eq(n, 5, "got %zu statements", n);
	cr_assert_str_eq(s[0], "-- atrium:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x)");
	cr_assert(strstr(s[1], "INSERT INTO t VALUES ('a;b', 'it''s; fine', E'back\\'slash;', \"odd;name\")"));
	cr_assert(strstr(s[2], "$$ SELECT 1; $$"));
	cr_assert(strstr(s[3], "END; $body$"));
	cr_assert(strstr(s[4], "SELECT 1"));
	free_all(s, n);
}

Test(migrate, comments_and_blanks_are_no_statements)
{
	char **s;
	size_t n = split("  ;\n-- only a comment;\n/* and; this */ ;;\n", &s);
	cr_assert_eq(n, 0);
	free_all(s, n);
	n = split("", &s);
	cr_assert_eq(n, 0);
	free_all(s, n);
}

Test(migrate, unterminated_quotes_do_not_overrun)
{
	char **s;
	size_t n = split("SELECT 'open; ", &s);
	cr_assert_eq(n, 1);
	free_all(s, n);
	n = split("SELECT $x$ open; ", &s);
	cr_assert_eq(n, 1);
	free_all(s, n);
	n = split("SELECT 1 /* open; ", &s);
	cr_assert_eq(n, 1);
	free_all(s, n);
}

/* config_load() is the one parser: bad values are refused, not defaulted. */
static bool load_with(const char *name, const char *value)
{
	setenv(name, value, 1);
	bool ok = config_load();
	config_free();
	unsetenv(name);
	return ok;
}

static const char *const moved[] = {
	"ATRIUM_WORKER_CONCURRENCY", "ATRIUM_JOB_LEASE_SECONDS", "ATRIUM_JOB_BACKOFF_BASE_MS",
	"ATRIUM_JOB_BACKOFF_CAP_MS", "ATRIUM_WORKER_POLL_MS", "ATRIUM_BET_PENDING_TIMEOUT_SECONDS",
	"ATRIUM_RECONCILE_INTERVAL_SECONDS", "ATRIUM_IDEMPOTENCY_RETENTION_HOURS",
	"ATRIUM_PURGE_INTERVAL_SECONDS", "ATRIUM_WEBHOOK_SWEEP_SECONDS",
	"ATRIUM_WEBHOOK_SWEEP_AGE_SECONDS", "ATRIUM_ALLOW_BYPASSRLS", "ATRIUM_MIGRATIONS_TABLE",
	"ATRIUM_MIGRATE_ACCEPT_CHANGED",
};

Test(config, worker_settings_are_parsed_strictly)
{
	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++)
		unsetenv(moved[i]);
	cr_assert(config_load());
	cr_assert_eq(cfg.worker_concurrency, 2);
	cr_assert_eq(cfg.job_lease_s, 30);
	cr_assert_eq(cfg.job_backoff_base_ms, 2000);
	cr_assert_eq(cfg.job_backoff_cap_ms, 300000);
	cr_assert_eq(cfg.worker_poll_ms, 1000);
	cr_assert_eq(cfg.bet_pending_timeout_s, 30);
	cr_assert_eq(cfg.reconcile_interval_s, 60);
	cr_assert_eq(cfg.idempotency_retention_h, 48);
	cr_assert_eq(cfg.purge_interval_s, 3600);
	cr_assert_eq(cfg.webhook_sweep_s, 15);
	cr_assert_eq(cfg.webhook_sweep_age_s, 30);
	cr_assert_not(cfg.allow_bypassrls);
	cr_assert_str_eq(cfg.migrations_table, "schema_migrations");
	config_free();

	cr_assert_not(load_with("ATRIUM_WORKER_CONCURRENCY", "abc"));
	cr_assert_not(load_with("ATRIUM_WORKER_CONCURRENCY", "0"));
	cr_assert_not(load_with("ATRIUM_WORKER_CONCURRENCY", "4x"));
	cr_assert_not(load_with("ATRIUM_WORKER_CONCURRENCY", " 4"));
	cr_assert_not(load_with("ATRIUM_JOB_LEASE_SECONDS", "-5"));
	cr_assert_not(load_with("ATRIUM_IDEMPOTENCY_RETENTION_HOURS", "12"));
	cr_assert_not(load_with("ATRIUM_WEBHOOK_SWEEP_SECONDS", "99999999999999999999"));
	cr_assert_not(load_with("ATRIUM_ALLOW_BYPASSRLS", "yes"));
	cr_assert_not(load_with("ATRIUM_MIGRATE_ACCEPT_CHANGED", "true"));
	cr_assert_not(load_with("ATRIUM_MIGRATIONS_TABLE", "x; DROP TABLE y"));
	cr_assert(load_with("ATRIUM_WORKER_CONCURRENCY", "8"));
	cr_assert(load_with("ATRIUM_WEBHOOK_SWEEP_AGE_SECONDS", "0"));
	cr_assert(load_with("ATRIUM_ALLOW_BYPASSRLS", "1"));
	cr_assert(load_with("ATRIUM_WORKER_POLL_MS", ""));
}

/* Streamed exports may hold a quarter of a pool (at least one) unless told
 * otherwise, never more than the pool. */
Test(config, exports_take_a_quarter_of_the_pool_by_default_and_never_more_than_it)
{
	const struct {
		const char *pool, *max;
		int want;
	} cases[] = {{"8", NULL, 2}, {"2", NULL, 1}, {"1", NULL, 1}, {"16", "3", 3}, {"4", "9", 4}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("ATRIUM_DB_POOL_SIZE", cases[i].pool, 1);
		if (cases[i].max)
			setenv("ATRIUM_EXPORTS_MAX", cases[i].max, 1);
		else
			unsetenv("ATRIUM_EXPORTS_MAX");
		cr_assert(config_load());
		cr_assert_eq(cfg.db_streams, cases[i].want, "pool %s, ATRIUM_EXPORTS_MAX %s: %d",
			     cases[i].pool, cases[i].max ? cases[i].max : "(unset)", cfg.db_streams);
		config_free();
	}
	unsetenv("ATRIUM_EXPORTS_MAX");
	cr_assert_not(load_with("ATRIUM_EXPORTS_MAX", "-1"));
	cr_assert_not(load_with("ATRIUM_EXPORTS_MAX", "many"));
	unsetenv("ATRIUM_DB_POOL_SIZE");
}
