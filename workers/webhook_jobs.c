/*
 * webhook_jobs.c - the `webhooks.process` job kind and the inbox sweep
 * (see webhook_jobs.h).
 *
 * A job holds only the inbox event's id. Its one step is idempotent: the
 * apply statement (services/webhooks.c) acts only while the event is still
 * `received` and marks it processed in the same statement, so a step cut
 * short by a crash and run again by another worker applies the event once.
 */
#include "workers/webhook_jobs.h"
#include "workers/quickbooks_jobs.h"
#include "server/common/config.h"
#include "server/jobs/jobs.h"
#include "server/common/log.h"
#include "server/outbound/pax8.h"
#include "services/pax8.h"
#include "services/portal.h"
#include "services/webhooks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How an event is applied, from its provider and entity; NULL: not tracked. */
static const char *apply_kind(const struct webhook_event *e)
{
	const char *t = e->entity_type ? e->entity_type : "";
	if (strcmp(e->provider, "quickbooks") == 0) {
		if (strcmp(t, "invoice") == 0)
			return "invoice";
		if (strcmp(t, "payment") == 0 || strcmp(t, "customer") == 0)
			return "qbo_entity";
	} else if (strcmp(e->provider, "pax8") == 0) {
		if (strcmp(t, "subscription") == 0)
			return "subscription";
		if (strcmp(t, "usage") == 0)
			return "usage";
	}
	return NULL;
}

static void set_output(struct job *j, const char *status, const char *outcome, const char *tenant)
{
	json_decref(j->output);
	j->output = json_pack("{s:s, s:s?, s:s?}", "status", status, "outcome", outcome, "tenant_id",
			      tenant && *tenant ? tenant : NULL);
}

/* Audit record of a change to a tenant's billing data (best effort: the
 * change is committed in billing_db already). */
static void audit_applied(struct job *j, const struct webhook_event *e,
			  const struct webhook_applied *ap, const char *tenant)
{
	if (!ap->applied || ap->resource_type == NULL || ap->resource_id[0] == '\0')
		return;
	struct audit_ctx a = {.actor_tid = "", .actor_oid = "", .request_id = j->request_id};
	char action[96];
	snprintf(action, sizeof(action), "%s.%s", ap->resource_type,
		 e->operation && *e->operation ? e->operation : "update");
	json_t *changes = json_pack("{s:s, s:s, s:s?}", "source", e->provider, "event_id", e->id,
				    "operation", e->operation);
	portal_audit_record(NULL, tenant, &a, action, ap->resource_type, ap->resource_id, changes);
	json_decref(changes);
}

static enum job_result step_apply(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "event_id"));
	if (id == NULL || !util_is_uuid(id)) {
		job_error(j, "InvalidPayload", "the job names no inbox event");
		return JOB_FAIL;
	}
	enum job_result rc = JOB_RETRY;
	struct webhook_event e;
	struct webhook_applied ap;
	memset(&e, 0, sizeof(e));
	memset(&ap, 0, sizeof(ap));
	char tenant[37] = "";
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*")) {
		job_error(j, "BillingUnavailable", "billing_db is unreachable");
		goto cleanup;
	}
	switch (webhooks_event_load(b, id, &e)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		set_output(j, "missing", NULL, NULL);
		rc = JOB_OK;
		goto cleanup;
	default:
		job_error(j, "BillingUnavailable", "billing_db failed");
		goto cleanup;
	}
	if (strcmp(e.status, "received") != 0) {
		/* Already handled (a duplicate job, or a retry after the commit). */
		set_output(j, e.status, NULL, NULL);
		rc = JOB_OK;
		goto cleanup;
	}
	switch (e.account_id ? portal_tenant_by_billing_account(e.provider, e.account_id, tenant)
			     : ST_NOT_FOUND) {
	case ST_OK:
		break;
	case ST_NOT_FOUND: {
		char msg[256];
		snprintf(msg, sizeof(msg), "no tenant has %s %s", 
			 strcmp(e.provider, "quickbooks") == 0 ? "quickbooks_realm_id" : "pax8_company_id",
			 e.account_id ? e.account_id : "(none)");
		if (!webhooks_event_finish(b, id, "unmatched", NULL, NULL, msg)) {
			job_error(j, "BillingUnavailable", "billing_db failed");
			goto cleanup;
		}
		log_info("webhook event %s (%s): %s; kept as unmatched", id, e.provider, msg);
		set_output(j, "unmatched", NULL, NULL);
		rc = JOB_OK;
		goto cleanup;
	}
	default:
		job_error(j, "PortalUnavailable", "portal_db is unreachable");
		goto cleanup;
	}
	const char *kind = apply_kind(&e);
	if (kind == NULL) {
		if (!webhooks_event_finish(b, id, "processed", "ignored", tenant,
					   "this kind of event does not change billing data")) {
			job_error(j, "BillingUnavailable", "billing_db failed");
			goto cleanup;
		}
		set_output(j, "processed", "ignored", tenant);
		rc = JOB_OK;
		goto cleanup;
	}
	switch (webhooks_apply(b, kind, id, tenant, &ap)) {
	case ST_OK:
		set_output(j, ap.processed ? "processed" : "already-processed",
			   ap.processed ? (ap.applied ? "applied" : "superseded") : NULL, tenant);
		rc = JOB_OK;
		break;
	case ST_INVALID:
		if (!webhooks_event_finish(b, id, "rejected", NULL, tenant, ap.error)) {
			job_error(j, "BillingUnavailable", "billing_db failed");
			goto cleanup;
		}
		log_warn("webhook event %s (%s) rejected: %s", id, e.provider, ap.error);
		set_output(j, "rejected", NULL, tenant);
		rc = JOB_OK;
		break;
	default:
		job_error(j, "BillingUnavailable", "billing_db failed while applying the event");
		break;
	}
cleanup:
	db_release(b);
	if (rc == JOB_OK && ap.processed)
		audit_applied(j, &e, &ap, tenant);
	webhooks_event_free(&e);
	free(ap.error);
	return rc;
}

/* After the last attempt: the event is kept as failed, with the reason. */
static void on_failed(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "event_id"));
	if (id == NULL || !util_is_uuid(id))
		return;
	const char *msg = json_string_value(json_object_get(j->error, "message"));
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b && db_scope(b, "*"))
		webhooks_event_finish(b, id, "failed", NULL, NULL, msg ? msg : "processing failed");
	db_release(b);
}

/*
 * A Pax8 subscription event names the subscription; the API has all of it
 * (price, product, usage): queue a pull of it for the event's tenant. The
 * step runs after `apply` is checkpointed, so a crash here queues the pull
 * again at worst (pulls are idempotent).
 */
static enum job_result step_queue_pull(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "event_id"));
	if (id == NULL || !util_is_uuid(id) || !pax8_configured())
		return JOB_OK;
	enum job_result rc = JOB_RETRY;
	struct webhook_event e;
	memset(&e, 0, sizeof(e));
	struct db_conn *p = NULL;
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*")) {
		job_error(j, "BillingUnavailable", "billing_db is unreachable");
		goto cleanup;
	}
	enum status st = webhooks_event_load(b, id, &e);
	if (st != ST_OK) {
		rc = st == ST_NOT_FOUND ? JOB_OK : JOB_RETRY;
		goto cleanup;
	}
	if (strcmp(e.provider, "pax8") != 0 || strcmp(e.status, "processed") != 0 ||
	    e.entity_type == NULL || strcmp(e.entity_type, "subscription") != 0 || e.entity_id == NULL ||
	    e.account_id == NULL || e.tenant_id[0] == '\0') {
		rc = JOB_OK;
		goto cleanup;
	}
	p = db_acquire(DB_PORTAL);
	if (p == NULL || !db_scope(p, "*") ||
	    !pax8_queue_pull_subscription(p, e.tenant_id, e.account_id, e.entity_id, j->request_id)) {
		job_error(j, "PortalUnavailable", "could not queue the Pax8 pull");
		goto cleanup;
	}
	json_decref(j->output);
	j->output = json_pack("{s:s}", "queued", PAX8_PULL_SUBSCRIPTION_KIND);
	rc = JOB_OK;
cleanup:
	db_release(p);
	db_release(b);
	webhooks_event_free(&e);
	return rc;
}

/* After `apply`: a Pax8 subscription event queues a pull of it; a
 * QuickBooks event's entity is read from the Accounting API (`fetch`: its
 * amounts). Each step passes over the other provider's events. */
static const struct job_step steps[] = {
	{"apply", step_apply}, {"queue_pull", step_queue_pull}, {"fetch", quickbooks_step_fetch},
};
static const struct job_kind kind = {WEBHOOK_JOB_KIND, steps, sizeof(steps) / sizeof(steps[0]), 8,
				     on_failed, NULL};

/*
 * webhooks.rematch: the account's unmatched events go back to `received`
 * and get a webhooks.process job each, in the pattern of the sweep (the
 * reopened rows commit with enqueued = false after their jobs are queued;
 * a crash in between leaves them to the sweep).
 */
static enum job_result step_requeue(struct job *j)
{
	const char *provider = json_string_value(json_object_get(j->payload, "provider"));
	const char *account = json_string_value(json_object_get(j->payload, "account_id"));
	if (provider == NULL || account == NULL) {
		job_error(j, "InvalidPayload", "the job names no provider account");
		return JOB_FAIL;
	}
	enum job_result rc = JOB_RETRY;
	int n = 0;
	char **ids = NULL;
	struct db_conn *p = NULL;
	struct db_conn *b = db_acquire(DB_BILLING);
	/* Reopened rows commit first (received, not enqueued), as an intake
	 * does: a processing job queued before that commit could read them
	 * still unmatched and end. */
	if (b == NULL || !db_scope(b, "*") || !db_begin(b) ||
	    !webhooks_reopen_unmatched(b, provider, account, &ids, &n) || !db_commit(b)) {
		job_error(j, "BillingUnavailable", "billing_db is unreachable");
		goto cleanup;
	}
	bool queued = true;
	if (n > 0) {
		p = db_acquire(DB_PORTAL);
		/* A failure leaves them received and unenqueued: the sweep
		 * queues them. */
		queued = p != NULL && db_scope(p, "*") &&
			 webhooks_enqueue_processing(p, b, ids, n, j->request_id);
	}
	log_info("webhook rematch: %d unmatched %s event(s) of account %s %s", n, provider, account,
		 queued ? "queued again" : "reopened (the sweep queues them)");
	json_decref(j->output);
	j->output = json_pack("{s:i, s:b}", "requeued", n, "queued", queued);
	rc = JOB_OK;
cleanup:
	db_release(p);
	db_release(b);
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

static const struct job_step rematch_steps[] = {{"requeue", step_requeue}};
static const struct job_kind rematch_kind = {WEBHOOK_REMATCH_KIND, rematch_steps, 1, 10, NULL, NULL};

void webhook_jobs_register(void)
{
	jobs_register_kind(&kind);
	jobs_register_kind(&rematch_kind);
}

int webhook_jobs_sweep(int min_age_s)
{
	int rc = -1, n = 0;
	char **ids = NULL;
	struct db_conn *p = NULL;
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*") || !db_begin(b))
		goto cleanup;
	if (!webhooks_unenqueued(b, min_age_s, 500, &ids, &n))
		goto cleanup;
	if (n == 0) {
		rc = 0;
		goto cleanup;
	}
	p = db_acquire(DB_PORTAL);
	if (p == NULL || !db_scope(p, "*"))
		goto cleanup;
	/* The locked rows are marked inside b's transaction, committed below. */
	if (!webhooks_enqueue_processing(p, b, ids, n, "webhook-sweep") || !db_commit(b))
		goto cleanup;
	log_info("webhook sweep: queued %d event(s) that had no job", n);
	rc = n;
cleanup:
	db_release(p);
	db_release(b); /* rolls back whatever did not commit */
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

/* ---- sweeper thread --------------------------------------------------- */

static pthread_t sweeper;
static bool sweeper_running;
static atomic_bool sweeper_stop;
static pthread_mutex_t sweep_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sweep_cv = PTHREAD_COND_INITIALIZER;

static void *sweeper_main(void *arg)
{
	(void)arg;
	int every_s = cfg.webhook_sweep_s;
	int age_s = cfg.webhook_sweep_age_s;
	while (!atomic_load(&sweeper_stop)) {
		if (webhook_jobs_sweep(age_s) < 0)
			log_warn("webhook sweep: a database is unreachable; will retry");
		pthread_mutex_lock(&sweep_mu);
		if (!atomic_load(&sweeper_stop)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += every_s;
			pthread_cond_timedwait(&sweep_cv, &sweep_mu, &ts);
		}
		pthread_mutex_unlock(&sweep_mu);
	}
	return NULL;
}

void webhook_jobs_sweeper_start(void)
{
	atomic_store(&sweeper_stop, false);
	sweeper_running = pthread_create(&sweeper, NULL, sweeper_main, NULL) == 0;
	if (!sweeper_running)
		log_error("webhook sweep: cannot start its thread");
}

void webhook_jobs_sweeper_stop(void)
{
	if (!sweeper_running)
		return;
	pthread_mutex_lock(&sweep_mu);
	atomic_store(&sweeper_stop, true);
	pthread_cond_broadcast(&sweep_cv);
	pthread_mutex_unlock(&sweep_mu);
	pthread_join(sweeper, NULL);
	sweeper_running = false;
}
