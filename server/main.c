/*
 * main.c - the `atrium` executable: serve, migrate, version.
 *
 * main() is the only place that knows every module: it loads the
 * configuration, registers each service's statements, wires the handler
 * tables into the router, and runs until SIGTERM or SIGINT.
 */
#include "atrium_build.h"
#include "server/auth/auth.h"
#include "services/authdb.h"
#include "services/betting.h"
#include "services/billing.h"
#include "server/common/config.h"
#include "server/store/db.h"
#include "handlers/handlers.h"
#include "server/http/http.h"
#include "server/store/idempotency.h"
#include "server/jobs/jobs.h"
#include "server/common/log.h"
#include "workers/maintenance_jobs.h"
#include "server/common/metrics.h"
#include "server/http/metrics_http.h"
#include "server/store/migrate.h"
#include "server/outbound/azure_token.h"
#include "server/outbound/outbound.h"
#include "workers/namespace_jobs.h"
#include "services/namespaces.h"
#include "services/portal.h"
#include "server/store/redis.h"
#include "server/http/router.h"
#include "workers/settlement_jobs.h"
#include "workers/webhook_jobs.h"
#include "services/webhooks.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void write_gauges(char **buf, size_t *len, size_t *cap)
{
	metrics_appendf(buf, len, cap,
		"# HELP atrium_db_pool_connections Database pool connections by state.\n"
		"# TYPE atrium_db_pool_connections gauge\n");
	for (int s = 0; s < DB_SERVICE_COUNT; s++) {
		int size, in_use, open;
		db_pool_stats((enum db_service)s, &size, &in_use, &open);
		const char *name = db_service_name((enum db_service)s);
		metrics_appendf(buf, len, cap,
			"atrium_db_pool_connections{db=\"%s\",state=\"in_use\"} %d\n"
			"atrium_db_pool_connections{db=\"%s\",state=\"open\"} %d\n"
			"atrium_db_pool_connections{db=\"%s\",state=\"max\"} %d\n",
			name, in_use, name, open, name, size);
	}
	/* Queue depth is read from portal_db at scrape time, by serve and by a
	 * worker's listener alike: it must be visible when no worker runs. */
	struct job_depth depth[64];
	int n = jobs_queue_depth(depth, 64);
	metrics_appendf(buf, len, cap,
		"# HELP atrium_job_queue_depth Jobs waiting (due now, or scheduled for a retry) or running, by kind.\n"
		"# TYPE atrium_job_queue_depth gauge\n");
	for (int i = 0; i < n; i++)
		metrics_appendf(buf, len, cap, "atrium_job_queue_depth{kind=\"%s\",state=\"%s\"} %lld\n",
				depth[i].kind, depth[i].state, depth[i].count);
	metrics_appendf(buf, len, cap,
		"# HELP atrium_job_queue_depth_up Whether the queue depth could be read (0: portal_db unreachable).\n"
		"# TYPE atrium_job_queue_depth_up gauge\n"
		"atrium_job_queue_depth_up %d\n", n >= 0);
	webhook_metrics_write(buf, len, cap);
}

/* auth (a core floor) reaches portal_db's tenants and auth_db's users only
 * through these adapters. */
static enum auth_lookup lookup_of(enum portal_status s)
{
	return s == PORTAL_OK ? AUTH_LOOKUP_FOUND
	     : s == PORTAL_NOT_FOUND ? AUTH_LOOKUP_NOT_FOUND : AUTH_LOOKUP_UNAVAILABLE;
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
	betting_register();
	billing_register();
	settlement_register();
	maintenance_jobs_register();
	router_add(ops_routes, ops_routes_len);
	router_add(me_routes, me_routes_len);
	router_add(tenants_routes, tenants_routes_len);
	router_add(audit_routes, audit_routes_len);
	router_add(jobs_routes, jobs_routes_len);
	router_add(auth_flow_routes, auth_flow_routes_len);
	router_add(namespaces_routes, namespaces_routes_len);
	router_add(webhooks_routes, webhooks_routes_len);
	router_add(billing_reads_routes, billing_reads_routes_len);
	router_add(events_routes, events_routes_len);
	router_add(bets_routes, bets_routes_len);
	router_add(payments_routes, payments_routes_len);
	router_add(wallet_routes, wallet_routes_len);
	metrics_set_gauge_writer(write_gauges);
}

static int cmd_serve(void)
{
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
	auth_start();
	if (!http_start()) {
		auth_stop();
		redis_stop();
		db_stop();
		return 1;
	}
	int sig = 0;
	sigwait(&set, &sig);
	log_info("received %s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	http_stop();
	auth_stop();
	redis_stop();
	db_stop();
	log_info("stopped");
	return 0;
}

static int cmd_worker(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Before the metrics listener's thread starts: only the runtime's
	 * sigwait() may take them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
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
	webhook_jobs_sweeper_start();
	settlement_worker_start();
	maintenance_worker_start();
	int rc = jobs_worker_main(concurrency);
	webhook_jobs_sweeper_stop();
	metrics_http_stop();
	azure_token_reset();
	db_stop();
	return rc;
}

static int cmd_migrate(void)
{
	return migrate_all(cfg.migrations_dir) ? 0 : 1;
}

static void usage(FILE *out)
{
	fputs("usage: atrium <command>\n\n"
	      "  serve     serve the HTTPS API and the portal\n"
	      "  worker    run background jobs (provisioning, settlement, webhooks)\n"
	      "  migrate   apply database migrations (safe to run concurrently)\n"
	      "  version   print version and build information\n\n"
	      "Configuration is read from ATRIUM_* environment variables (see README.md).\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("atrium %s (%s build; libmicrohttpd %s, jansson %s, libpq %d, %s)\n",
		       ATRIUM_VERSION, ATRIUM_BUILD_TYPE, http_library_version(), JANSSON_VERSION,
		       PQlibVersion(), outbound_library_version());
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 && strcmp(cmd, "worker") != 0) {
		fprintf(stderr, "atrium: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (!config_load()) {
		config_free();
		return 1;
	}
	log_set_level(cfg.log_level);
	outbound_global_init();
	int rc = strcmp(cmd, "serve") == 0    ? cmd_serve()
		 : strcmp(cmd, "worker") == 0 ? cmd_worker()
					      : cmd_migrate();
	outbound_global_cleanup();
	config_free();
	return rc;
}
