/*
 * maintenance_jobs.c - the maintenance.purge job kind.
 *
 * Idempotency-Key records are kept ATRIUM_IDEMPOTENCY_RETENTION_HOURS
 * (default 48, never under the 24 h that clients are promised), then
 * deleted in batches. Each run queues the next one
 * ATRIUM_PURGE_INTERVAL_SECONDS later (jobs_schedule() merges the cycles of
 * several workers into one).
 */
#include "workers/maintenance_jobs.h"
#include "server/common/config.h"
#include "server/store/db.h"
#include "server/store/idempotency.h"
#include "server/jobs/jobs.h"
#include "server/common/log.h"

#include <stdlib.h>

static int retention_hours = 48;
static int interval_s = 3600;

static enum job_result purge(struct job *j)
{
	static const enum db_service services[] = {DB_PORTAL, DB_BETTING, DB_BILLING, DB_CATALOG};
	json_t *out = json_object();
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		struct db_conn *c = db_acquire(services[i]);
		long total = 0, n;
		if (c == NULL || !db_scope(c, "*")) {
			db_release(c);
			json_decref(out);
			job_error(j, "DatabaseUnavailable", db_service_name(services[i]));
			return JOB_RETRY;
		}
		/* Batches keep each statement's locks and WAL small. */
		while ((n = idem_purge(c, retention_hours)) > 0 && !jobs_stopping())
			total += n;
		db_release(c);
		if (n < 0) {
			json_decref(out);
			job_error(j, "PurgeFailed", db_service_name(services[i]));
			return JOB_RETRY;
		}
		json_object_set_new(out, db_service_name(services[i]), json_integer(total));
	}
	j->output = out;
	return JOB_OK;
}

static void schedule_next(struct job *j)
{
	(void)j;
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") || !jobs_schedule(c, "maintenance.purge", interval_s * 1000))
		log_error("maintenance: could not schedule the next purge; a worker restart schedules one");
	db_release(c);
}

static const struct job_step purge_steps[] = {{"purge_idempotency_keys", purge}};
static const struct job_kind purge_kind = {"maintenance.purge", purge_steps, 1, 3, schedule_next,
					   schedule_next};

void maintenance_jobs_register(void)
{
	retention_hours = cfg.idempotency_retention_h;
	interval_s = cfg.purge_interval_s;
	jobs_register_kind(&purge_kind);
}

void maintenance_worker_start(void)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") || !jobs_schedule(c, "maintenance.purge", 0))
		log_warn("maintenance: could not queue the start-up purge");
	db_release(c);
}
