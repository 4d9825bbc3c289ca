/*
 * main.c - the `atrium` executable: serve, worker, migrate, version.
 *
 * main() is the only place that knows every module: it loads the
 * configuration, registers each service's statements, wires the handler
 * tables into the router, and runs until SIGTERM or SIGINT.
 */
#include "atrium_build.h"
#include "server/auth/auth.h"
#include "server/check.h"
#include "services/authdb.h"
#include "services/betting.h"
#include "services/billing.h"
#include "services/catalog.h"
#include "workers/catalog_jobs.h"
#include "server/outbound/blob.h"
#include "server/common/config.h"
#include "server/store/db.h"
#include "handlers/handlers.h"
#include "server/http/http.h"
#include "server/store/idempotency.h"
#include "server/jobs/jobs.h"
#include "server/common/log.h"
#include "workers/maintenance_jobs.h"
#include "workers/tenant_jobs.h"
#include "server/common/metrics.h"
#include "server/http/metrics_http.h"
#include "server/store/migrate.h"
#include "server/outbound/azure_token.h"
#include "server/outbound/otlp.h"
#include "server/outbound/outbound.h"
#include "workers/namespace_jobs.h"
#include "services/namespaces.h"
#include "services/portal.h"
#include "server/store/redis.h"
#include "server/http/router.h"
#include "workers/settlement_jobs.h"
#include "workers/webhook_jobs.h"
#include "workers/pax8_jobs.h"
#include "server/outbound/pax8.h"
#include "services/pax8.h"
#include "services/billing_reports.h"
#include "services/webhooks.h"
#include "services/quickbooks.h"
#include "workers/quickbooks_jobs.h"

#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Gauges read at scrape time. The pool gauges are this process's own. The
 * queue and namespace gauges are cluster-wide: every serve and worker reads
 * the same rows of portal_db, so every instance reports the same value (and
 * a scrape shows them even when no worker runs); dashboards and alerts
 * aggregate them with max(), never sum(). docs/METRICS.md says why this and
 * not an elected exporter.
 */
static void write_gauges(char **buf, size_t *len, size_t *cap)
{
	static const struct {
		const char *name, *help;
	} pool[] = {
		{"atrium_db_pool_max_connections", "Connections this process's pool may open, by database."},
		{"atrium_db_pool_open_connections", "Connections this process's pool has open (idle or leased), by database."},
		{"atrium_db_pool_in_use_connections", "Connections of this process's pool leased right now, by database."},
	};
	for (size_t g = 0; g < sizeof(pool) / sizeof(pool[0]); g++) {
		metrics_family(buf, len, cap, pool[g].name, "gauge", pool[g].help);
		for (int s = 0; s < DB_SERVICE_COUNT; s++) {
			int size, in_use, open;
			db_pool_stats((enum db_service)s, &size, &in_use, &open);
			metrics_appendf(buf, len, cap, "%s{db=\"%s\"} %d\n", pool[g].name,
					db_service_name((enum db_service)s),
					g == 0 ? size : g == 1 ? open : in_use);
		}
	}
	struct job_depth depth[64];
	int n = jobs_queue_depth(depth, 64);
	metrics_family(buf, len, cap, "atrium_job_queue_depth", "gauge",
		       "Jobs waiting (due now, or scheduled for later or a retry) or running, by kind and state. Cluster-wide: aggregate with max().");
	for (int i = 0; i < n; i++)
		metrics_appendf(buf, len, cap, "atrium_job_queue_depth{kind=\"%s\",state=\"%s\"} %lld\n",
				depth[i].kind, depth[i].state, depth[i].count);
	metrics_family(buf, len, cap, "atrium_job_queue_oldest_age_seconds", "gauge",
		       "Seconds the oldest due job of each kind has waited past its run time. Cluster-wide: aggregate with max().");
	for (int i = 0; i < n; i++)
		if (strcmp(depth[i].state, "due") == 0)
			metrics_appendf(buf, len, cap, "atrium_job_queue_oldest_age_seconds{kind=\"%s\"} %.3f\n",
					depth[i].kind, depth[i].oldest_s > 0 ? depth[i].oldest_s : 0.0);
	struct ns_state_count ns[16];
	int m = n >= 0 ? namespaces_count_by_state(ns, 16) : -1;
	metrics_family(buf, len, cap, "atrium_namespaces", "gauge",
		       "Namespaces in each live state. Cluster-wide: aggregate with max().");
	for (int i = 0; i < m; i++)
		metrics_appendf(buf, len, cap, "atrium_namespaces{state=\"%s\"} %lld\n", ns[i].state,
				ns[i].count);
	metrics_family(buf, len, cap, "atrium_cluster_gauges_up", "gauge",
		       "Whether the cluster-wide gauges (job queue, namespaces) could be read from portal_db (0: unreachable).");
	metrics_appendf(buf, len, cap, "atrium_cluster_gauges_up %d\n", n >= 0 && m >= 0);
	metrics_family(buf, len, cap, "atrium_build_info", "gauge",
		       "Always 1; the labels say which build of Atrium runs.");
	metrics_appendf(buf, len, cap, "atrium_build_info{version=\"%s\",build_type=\"%s\"} 1\n",
			ATRIUM_VERSION, ATRIUM_BUILD_TYPE);
	webhook_metrics_write(buf, len, cap);
}

/* auth (a core floor) reaches portal_db's tenants and auth_db's users only
 * through these adapters. */
static enum auth_lookup lookup_of(enum status s)
{
	return s == ST_OK ? AUTH_LOOKUP_FOUND
	     : s == ST_NOT_FOUND ? AUTH_LOOKUP_NOT_FOUND : AUTH_LOOKUP_UNAVAILABLE;
}

static enum auth_lookup tenant_by_directory(const char *tid, char tenant_id[37], char status[16])
{
	return lookup_of(portal_tenant_by_directory(tid, tenant_id, status));
}

static enum auth_lookup tenant_exists(const char *tenant_id)
{
	return lookup_of(portal_tenant_exists(tenant_id));
}

static const struct auth_directory auth_directory = {
	.tenant_by_directory = tenant_by_directory,
	.tenant_exists = tenant_exists,
	.record_user = authdb_record_user,
};

static void register_all(void)
{
	auth_set_directory(&auth_directory);
	authdb_register();
	portal_register();
	idem_register();
	jobs_register();
	namespaces_register();
	namespace_jobs_register();
	webhooks_register();
	webhook_jobs_register();
	pax8_register();
	billing_reports_register();
	pax8_jobs_register();
	quickbooks_register();
	quickbooks_jobs_register();
	betting_register();
	billing_register();
	settlement_register();
	maintenance_jobs_register();
	catalog_register();
	catalog_jobs_register();
	catalog_set_sas(blob_sas_url);
	tenant_jobs_register();
	router_add(ops_routes, ops_routes_len);
	router_add(problems_routes, problems_routes_len);
	router_add(me_routes, me_routes_len);
	router_add(tenants_routes, tenants_routes_len);
	router_add(audit_routes, audit_routes_len);
	router_add(jobs_routes, jobs_routes_len);
	router_add(auth_flow_routes, auth_flow_routes_len);
	router_add(namespaces_routes, namespaces_routes_len);
	router_add(webhooks_routes, webhooks_routes_len);
	router_add(billing_reads_routes, billing_reads_routes_len);
	router_add(integrations_routes, integrations_routes_len);
	router_add(events_routes, events_routes_len);
	router_add(bets_routes, bets_routes_len);
	router_add(payments_routes, payments_routes_len);
	router_add(wallet_routes, wallet_routes_len);
	router_add(catalog_routes, catalog_routes_len);
	metrics_set_gauge_writer(write_gauges);
}

/* The command line: each command's words and flags are data (commands[]
 * below). Exit status 2 is a usage error; --help anywhere prints the
 * command's help and does nothing else. */
struct cli {
	bool help;
	bool status;          /* migrate status */
	bool dry_run;         /* migrate --dry-run */
	bool accept_changed;  /* migrate --accept-changed */
	bool serve_only;      /* check --serve */
	bool worker_only;     /* check --worker */
};

struct cli_word {
	const char *name;     /* "--dry-run" (a flag) or "status" (a word) */
	size_t offset;        /* the bool in struct cli it sets */
};

static int cmd_serve(const struct cli *cli)
{
	(void)cli;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Block before any thread starts, so only sigwait() below sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	register_all();
	db_start(cfg.db_pool_size);
	if (!db_check_rls_roles()) {
		db_stop();
		return 1;
	}
	if (!redis_start())
		return 1;
	otlp_start("atrium-serve");
	auth_start();
	if (!http_start()) {
		auth_stop();
		otlp_stop();
		redis_stop();
		db_stop();
		return 1;
	}
	int sig = 0;
	sigwait(&set, &sig);
	log_info("received %s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	http_stop();
	auth_stop();
	otlp_stop();
	redis_stop();
	db_stop();
	log_info("stopped");
	return 0;
}

static int cmd_worker(const struct cli *cli)
{
	(void)cli;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Before the metrics listener's thread starts: only the runtime's
	 * sigwait() may take them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!check_worker_settings(stderr))
		return 1;
	register_all();
	int concurrency = cfg.worker_concurrency;
	/* Runners, the heartbeat, and steps that open a second connection. */
	db_start(concurrency * 2 + 2);
	if (!db_check_rls_roles()) {
		db_stop();
		return 1;
	}
	if (cfg.worker_metrics_listen && !metrics_http_start(cfg.worker_metrics_listen)) {
		db_stop();
		return 1;
	}
	log_info("worker: Azure credential: %s", azure_credential_name(azure_token_credential()));
	otlp_start("atrium-worker");
	webhook_jobs_sweeper_start();
	settlement_worker_start();
	namespace_jobs_worker_start();
	maintenance_worker_start();
	catalog_worker_start();
	pax8_jobs_worker_start();
	quickbooks_worker_start();
	int rc = jobs_worker_main(concurrency);
	webhook_jobs_sweeper_stop();
	otlp_stop();
	metrics_http_stop();
	azure_token_reset();
	pax8_token_reset();
	db_stop();
	return rc;
}

static int cmd_migrate(const struct cli *cli)
{
	if (cfg.db_pool_transaction) {
		/* A session-level advisory lock and statements outside any
		 * transaction: neither survives a transaction pooler. */
		fprintf(stderr, "atrium migrate: needs direct database connections: run it with "
				"ATRIUM_DB_POOL_MODE=session and the databases' own URLs (not a "
				"transaction pooler's)\n");
		return 1;
	}
	struct migrate_opts o = {
		.dir = cfg.migrations_dir,
		.table = cfg.migrations_table,
		.mode = cli->status ? MIGRATE_STATUS : cli->dry_run ? MIGRATE_DRY_RUN : MIGRATE_APPLY,
		.accept_changed = cli->accept_changed || cfg.migrate_accept_changed,
		.out = stdout,
		.lock_timeout_ms = cfg.migrate_lock_timeout_ms,
		.statement_timeout_ms = cfg.migrate_statement_timeout_ms,
	};
	return migrate_run(&o);
}

static int cmd_check(const struct cli *cli)
{
	unsigned scope = cli->serve_only ? CHECK_SERVE : cli->worker_only ? CHECK_WORKER
									  : CHECK_SERVE | CHECK_WORKER;
	/* The report says what failed; the libraries' own lines only when
	 * they explain a failure. */
	log_set_level("error");
	return check_run(scope, stdout);
}

static int cmd_version(const struct cli *cli)
{
	(void)cli;
	printf("atrium %s (%s build; libmicrohttpd %s, jansson %s, libpq %d, %s)\n",
	       ATRIUM_VERSION, ATRIUM_BUILD_TYPE, http_library_version(), JANSSON_VERSION,
	       PQlibVersion(), outbound_library_version());
	return 0;
}

static const struct cli_word migrate_words[] = {
	{"status", offsetof(struct cli, status)},
	{"--dry-run", offsetof(struct cli, dry_run)},
	{"--accept-changed", offsetof(struct cli, accept_changed)},
};

static const struct cli_word check_words[] = {
	{"--serve", offsetof(struct cli, serve_only)},
	{"--worker", offsetof(struct cli, worker_only)},
};

struct command {
	const char *name;
	const char *summary;  /* one line in `atrium --help` */
	const char *help;     /* `atrium <name> --help`: usage lines, then details */
	const struct cli_word *words;
	size_t n_words;
	bool configured;      /* reads the ATRIUM_* configuration first */
	int (*run)(const struct cli *cli);
};

static const struct command commands[] = {
	{"serve", "serve the HTTPS API and the portal",
	 "usage: atrium serve\n\n"
	 "Serves the HTTPS API and the portal on ATRIUM_LISTEN until SIGTERM or SIGINT\n"
	 "(then drains requests in flight for up to ATRIUM_DRAIN_SECONDS and exits 0).\n",
	 NULL, 0, true, cmd_serve},
	{"worker", "run background jobs (provisioning, settlement, webhooks)",
	 "usage: atrium worker\n\n"
	 "Runs background jobs with ATRIUM_WORKER_CONCURRENCY runners until SIGTERM or\n"
	 "SIGINT (then finishes the current step, releases its job and exits 0).\n",
	 NULL, 0, true, cmd_worker},
	{"migrate", "apply database migrations (safe to run concurrently)",
	 "usage: atrium migrate [--dry-run] [--accept-changed]\n"
	 "       atrium migrate status\n\n"
	 "Applies ATRIUM_MIGRATIONS_DIR/<service>/NNNN_name.sql to each service database,\n"
	 "in order, once each, recorded in ATRIUM_MIGRATIONS_TABLE; concurrent runs wait\n"
	 "for each other. A file whose first line is '-- atrium:no-transaction' runs\n"
	 "statement by statement outside a transaction (CREATE INDEX CONCURRENTLY).\n"
	 "Each statement waits at most ATRIUM_MIGRATE_LOCK_TIMEOUT_MS (10000) for a lock\n"
	 "and runs at most ATRIUM_MIGRATE_STATEMENT_TIMEOUT_MS (0: no limit).\n\n"
	 "  status            per database, each file: applied, pending, changed (edited\n"
	 "                    after it was applied) or missing (applied, not on disk)\n"
	 "  --dry-run         print what would be applied; apply nothing\n"
	 "  --accept-changed  record the new checksum of an applied file that changed,\n"
	 "                    with a warning, instead of failing (its new content is not\n"
	 "                    run); also ATRIUM_MIGRATE_ACCEPT_CHANGED=1\n\n"
	 "Exit status: 0 done (status: nothing changed or missing); 1 a database failed\n"
	 "or is unreachable, an applied file changed, or (status) something is changed\n"
	 "or missing; 2 usage error.\n",
	 migrate_words, sizeof(migrate_words) / sizeof(migrate_words[0]), true, cmd_migrate},
	{"check", "check the configuration and reach every dependency",
	 "usage: atrium check [--serve | --worker]\n\n"
	 "Reads the configuration (a malformed setting is named, exit 1), then checks,\n"
	 "one line each: each database (reachable, its role under row-level security),\n"
	 "migrations (none pending or changed); for serve: the TLS pair (readable,\n"
	 "matching, not expiring within 14 days), Redis, the identity provider's\n"
	 "discovery document and signing keys, the accepted audiences; for the worker:\n"
	 "the Azure settings it needs, a token from its credential, Blob Storage\n"
	 "reachable. Changes nothing.\n\n"
	 "  --serve   only what `atrium serve` needs\n"
	 "  --worker  only what `atrium worker` needs\n\n"
	 "Exit status: 0 every check passed; 1 one failed; 2 usage error.\n",
	 check_words, sizeof(check_words) / sizeof(check_words[0]), true, cmd_check},
	{"version", "print version and build information",
	 "usage: atrium version\n\nPrints the version and the libraries it was built with.\n",
	 NULL, 0, false, cmd_version},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: atrium <command> [options]\n"
	      "       atrium <command> --help\n\n", out);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("  help      this help (atrium help <command>: that command's)\n\n"
	      "Configuration is read from ATRIUM_* environment variables (see README.md); a\n"
	      "malformed value stops the program with exit status 1. Exit status 2: usage error.\n",
	      out);
}

static const struct command *command_named(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Fills cli from argv[2..]; false (after saying why on stderr) when an
 * argument is not one of the command's. */
static bool parse_args(const struct command *c, int argc, char **argv, struct cli *cli)
{
	for (int i = 2; i < argc; i++)
		if (is_help(argv[i]))
			cli->help = true;
	if (cli->help)
		return true;
	for (int i = 2; i < argc; i++) {
		const struct cli_word *w = NULL;
		for (size_t k = 0; k < c->n_words; k++)
			if (strcmp(c->words[k].name, argv[i]) == 0)
				w = &c->words[k];
		bool *slot = w ? (bool *)((char *)cli + w->offset) : NULL;
		if (slot == NULL || *slot) {
			fprintf(stderr, "atrium %s: %s '%s'\n", c->name,
				slot ? "repeated" : argv[i][0] == '-' ? "unknown option" : "unexpected argument",
				argv[i]);
			return false;
		}
		*slot = true;
	}
	if (cli->serve_only && cli->worker_only) {
		fprintf(stderr, "atrium check: --serve or --worker, not both\n");
		return false;
	}
	if (cli->status && (cli->dry_run || cli->accept_changed)) {
		fprintf(stderr, "atrium migrate: status takes no options\n");
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "help") == 0 || is_help(cmd)) {
		if (argc == 2) {
			usage(stdout);
			return 0;
		}
		const struct command *c = argc == 3 ? command_named(argv[2]) : NULL;
		if (c == NULL) {
			fprintf(stderr, "atrium help: %s '%s'\n", argc == 3 ? "unknown command" : "one command, not",
				argv[argc - 1]);
			usage(stderr);
			return 2;
		}
		fputs(c->help, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0)
		cmd = "version";
	const struct command *c = command_named(cmd);
	if (c == NULL) {
		fprintf(stderr, "atrium: unknown %s '%s'\n", cmd[0] == '-' ? "option" : "command", cmd);
		usage(stderr);
		return 2;
	}
	struct cli cli = {0};
	if (!parse_args(c, argc, argv, &cli)) {
		fputs(c->help, stderr);
		return 2;
	}
	if (cli.help) {
		fputs(c->help, stdout);
		return 0;
	}
	if (!c->configured)
		return c->run(&cli);
	if (!config_load()) {
		config_free();
		return 1;
	}
	log_set_level(cfg.log_level);
	outbound_global_init();
	int rc = c->run(&cli);
	outbound_global_cleanup();
	config_free();
	return rc;
}
