/*
 * tenant_jobs.c - tenant.offboard (see tenant_jobs.h).
 *
 * DELETE /v1/tenants/{id} on a tenant with namespaces makes it `deleting`
 * (its members are refused from then on) and queues this job. Its first
 * step is a loop carried by the job runtime: each pass starts the deletion
 * of every namespace not yet being deleted (the same transition as the
 * API's DELETE: a namespace.deprovision job each, audited as the system),
 * counts those not yet deleted and, while any is left, retries after a
 * short, growing delay; the job's last error says how many are left, which
 * is the offboarding's visible progress. A namespace whose provisioning
 * runs is deleted once it ends; one whose deprovisioning failed is asked
 * again on the next pass. When none is left the second step marks the
 * tenant deleted. Both steps are idempotent, so a worker killed anywhere
 * leaves a job another worker finishes.
 */
#include "workers/tenant_jobs.h"
#include "server/common/log.h"
#include "services/namespaces.h"
#include "services/portal.h"

#include <stdio.h>

/* Passes until every namespace is gone: about half an hour of waiting at
 * the longest delay before the job fails (a DELETE queues a new one). */
#define OFFBOARD_MAX_ATTEMPTS 200
#define OFFBOARD_WAIT_CAP_MS 10000

static enum job_result offboard_namespaces(struct job *j)
{
	struct ns_offboard o;
	if (!namespaces_offboard_pass(j->tenant_id, j->request_id, &o)) {
		job_error(j, "DatabaseUnavailable", "portal_db is unreachable");
		return JOB_RETRY;
	}
	if (o.remaining == 0) {
		j->output = json_pack("{s:i}", "deleting_started", o.queued);
		return JOB_OK;
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "%d namespace(s) not deleted yet (%d deletion(s) started now, "
		 "%d still being provisioned)", o.remaining, o.queued, o.busy);
	job_error(j, "NamespacesRemaining", msg);
	int wait = 1000 * j->attempts;
	j->retry_after_ms = wait < OFFBOARD_WAIT_CAP_MS ? wait : OFFBOARD_WAIT_CAP_MS;
	return JOB_RETRY;
}

static enum job_result offboard_tenant(struct job *j)
{
	if (!portal_tenant_offboarded(j->tenant_id, j->request_id)) {
		job_error(j, "DatabaseUnavailable", "portal_db is unreachable");
		return JOB_RETRY;
	}
	log_info("tenant %s offboarded: its namespaces are deprovisioned and it is deleted",
		 j->tenant_id);
	return JOB_OK;
}

static const struct job_step offboard_steps[] = {
	{"namespaces", offboard_namespaces},
	{"tenant", offboard_tenant},
};

const struct job_kind tenant_offboard_kind = {
	TENANT_OFFBOARD, offboard_steps, sizeof(offboard_steps) / sizeof(offboard_steps[0]),
	OFFBOARD_MAX_ATTEMPTS, NULL, NULL,
};

void tenant_jobs_register(void)
{
	jobs_register_kind(&tenant_offboard_kind);
}
