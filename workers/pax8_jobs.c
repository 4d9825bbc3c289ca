/*
 * pax8_jobs.c - the Pax8 pull job kinds (see pax8_jobs.h).
 */
#include "workers/pax8_jobs.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/jobs/jobs.h"
#include "server/outbound/pax8.h"
#include "services/pax8.h"
#include "services/portal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pax8's largest page. */
#define PAGE_SIZE 200
/* A company with more pages than this is cut short (and says so). */
#define MAX_PAGES 500

static pthread_once_t skip_once = PTHREAD_ONCE_INIT;

static void say_skipped(void)
{
	log_info("pax8: ATRIUM_PAX8_CLIENT_ID / ATRIUM_PAX8_CLIENT_SECRET are not set; "
		 "Pax8 pulls are skipped");
}

/* Skipped (JOB_OK with output) when Pax8 is not configured. */
static bool skipped(struct job *j)
{
	if (pax8_configured())
		return false;
	pthread_once(&skip_once, say_skipped);
	json_decref(j->output);
	j->output = json_pack("{s:b, s:s}", "skipped", 1, "reason", "Pax8 is not configured");
	return true;
}

/* A failed call as the job's outcome: retry (after Retry-After) or fail. */
static enum job_result failed(struct job *j, struct outbound_result *r)
{
	job_error(j, r->code[0] ? r->code : "Pax8Error", r->message[0] ? r->message : "Pax8 failed");
	if (r->cls == OUT_RETRY) {
		if (r->retry_after_ms > 0)
			j->retry_after_ms = r->retry_after_ms;
		return JOB_RETRY;
	}
	return JOB_FAIL;
}

/* Is the company still the tenant's? A tenant whose id changed (or was
 * deleted) since the job was queued must not receive its data. */
static enum status still_mapped(const char *tenant, const char *company)
{
	char found[37] = "";
	enum status st = portal_tenant_by_billing_account("pax8", company, found);
	if (st == ST_OK && strcmp(found, tenant) != 0)
		return ST_NOT_FOUND;
	return st;
}

static bool payload_ids(struct job *j, const char **tenant, const char **company)
{
	*tenant = json_string_value(json_object_get(j->payload, "tenant_id"));
	*company = json_string_value(json_object_get(j->payload, "company_id"));
	if (*tenant == NULL || !util_is_uuid(*tenant) || *company == NULL || **company == '\0') {
		job_error(j, "InvalidPayload", "the job names no tenant and Pax8 company");
		return false;
	}
	return true;
}

/* The product of a subscription (cached in `products` by id): NULL when
 * Pax8 does not know it (404); false on another failure. */
static bool product_of(json_t *products, const char *product_id, const struct outbound_ctx *ctx,
		       json_t **product, struct outbound_result *r)
{
	*product = product_id ? json_object_get(products, product_id) : NULL;
	if (product_id == NULL || *product)
		return true;
	char *esc = outbound_escape(product_id);
	char *path = xasprintf("/products/%s", esc);
	bool ok = pax8_get(path, ctx, r);
	free(esc);
	free(path);
	if (!ok && r->status != 404)
		return false;
	json_object_set(products, product_id, ok && json_is_object(r->body) ? r->body : json_null());
	*product = json_is_object(r->body) && ok ? json_object_get(products, product_id) : NULL;
	return true;
}

/* Upserts one subscription (with its product); counts skipped bad data. */
static enum job_result store_subscription(struct job *j, struct db_conn *b, const char *tenant,
					  json_t *sub, json_t *products,
					  const struct outbound_ctx *ctx, int *skipped_n)
{
	struct outbound_result r = {0};
	json_t *product = NULL;
	enum job_result rc = JOB_OK;
	if (!product_of(products, json_string_value(json_object_get(sub, "productId")), ctx, &product,
			&r)) {
		rc = failed(j, &r);
		goto done;
	}
	switch (pax8_upsert_subscription(b, tenant, sub, json_is_object(product) ? product : NULL)) {
	case ST_OK:
		break;
	case ST_INVALID:
		(*skipped_n)++;
		log_warn("pax8: subscription %s has data that does not fit; skipped",
			 json_string_value(json_object_get(sub, "id")));
		break;
	default:
		job_error(j, "BillingUnavailable", "billing_db failed");
		rc = JOB_RETRY;
	}
done:
	outbound_result_clear(&r);
	return rc;
}

/* Every page of usage summaries of one subscription. */
static enum job_result pull_usage(struct job *j, struct db_conn *b, const char *tenant,
				  const char *sub_id, const char *product_name,
				  const struct outbound_ctx *ctx, int *count)
{
	char *esc = outbound_escape(sub_id);
	enum job_result rc = JOB_OK;
	for (int page = 0; page < MAX_PAGES; page++) {
		struct outbound_result r = {0};
		char *path = xasprintf("/subscriptions/%s/usage-summaries?page=%d&size=%d", esc, page,
				       PAGE_SIZE);
		bool ok = pax8_get(path, ctx, &r);
		free(path);
		if (!ok) {
			rc = r.status == 404 ? JOB_OK : failed(j, &r);
			outbound_result_clear(&r);
			break;
		}
		json_t *content = json_object_get(r.body, "content");
		size_t i;
		json_t *u;
		json_array_foreach(content, i, u) {
			if (!json_is_object(u))
				continue;
			enum status st = pax8_upsert_usage(b, tenant, u, product_name);
			if (st == ST_OK)
				(*count)++;
			else if (st != ST_INVALID) {
				job_error(j, "BillingUnavailable", "billing_db failed");
				rc = JOB_RETRY;
				break;
			}
		}
		json_int_t pages = json_integer_value(json_object_get(json_object_get(r.body, "page"),
								      "totalPages"));
		outbound_result_clear(&r);
		if (rc != JOB_OK || page + 1 >= pages)
			break;
	}
	free(esc);
	return rc;
}

static struct db_conn *billing(struct job *j)
{
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*")) {
		db_release(b);
		job_error(j, "BillingUnavailable", "billing_db is unreachable");
		return NULL;
	}
	return b;
}

/* pax8.pull_company, step 1: every page of the company's subscriptions.
 * Output: [{id, product_name}] for the usage step. */
static enum job_result step_subscriptions(struct job *j)
{
	const char *tenant, *company;
	if (skipped(j))
		return JOB_OK;
	if (!payload_ids(j, &tenant, &company))
		return JOB_FAIL;
	switch (still_mapped(tenant, company)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		j->output = json_pack("{s:b, s:s}", "skipped", 1, "reason", "the company is no longer the tenant's");
		return JOB_OK;
	default:
		job_error(j, "PortalUnavailable", "portal_db is unreachable");
		return JOB_RETRY;
	}
	struct db_conn *b = billing(j);
	if (b == NULL)
		return JOB_RETRY;
	struct outbound_ctx ctx = {.request_id = j->request_id, .stopping = jobs_stopping};
	json_t *products = json_object();
	json_t *subs = json_array();
	char *esc = outbound_escape(company);
	enum job_result rc = JOB_OK;
	int skipped_n = 0, pages_read = 0;
	for (int page = 0; page < MAX_PAGES && rc == JOB_OK; page++) {
		struct outbound_result r = {0};
		char *path = xasprintf("/subscriptions?companyId=%s&page=%d&size=%d", esc, page, PAGE_SIZE);
		bool ok = pax8_get(path, &ctx, &r);
		free(path);
		if (!ok) {
			rc = failed(j, &r);
			outbound_result_clear(&r);
			break;
		}
		pages_read++;
		size_t i;
		json_t *s;
		json_array_foreach(json_object_get(r.body, "content"), i, s) {
			const char *sid = json_string_value(json_object_get(s, "id"));
			const char *cid = json_string_value(json_object_get(s, "companyId"));
			/* Only the company asked for, whatever the API sends. */
			if (!json_is_object(s) || sid == NULL || cid == NULL || strcmp(cid, company) != 0)
				continue;
			rc = store_subscription(j, b, tenant, s, products, &ctx, &skipped_n);
			if (rc != JOB_OK)
				break;
			json_t *prod = json_object_get(products,
						       json_string_value(json_object_get(s, "productId")) ?: "");
			json_array_append_new(subs, json_pack("{s:s, s:s?}", "id", sid, "product_name",
							      json_string_value(json_object_get(prod, "name"))));
		}
		json_int_t pages = json_integer_value(json_object_get(json_object_get(r.body, "page"),
								      "totalPages"));
		outbound_result_clear(&r);
		if (page + 1 >= pages)
			break;
	}
	if (rc == JOB_OK) {
		json_decref(j->output);
		j->output = json_pack("{s:O, s:i, s:i}", "subscriptions", subs, "pages", pages_read,
				      "skipped", skipped_n);
		log_info("pax8: company %s: %zu subscription(s) pulled for tenant %s", company,
			 json_array_size(subs), tenant);
	}
	json_decref(subs);
	json_decref(products);
	free(esc);
	db_release(b);
	return rc;
}

/* pax8.pull_company, step 2: the usage summaries of each subscription. */
static enum job_result step_usage(struct job *j)
{
	const char *tenant, *company;
	json_t *prev = job_step_output(j, "subscriptions");
	json_t *subs = json_object_get(prev, "subscriptions");
	if (!json_is_array(subs) || json_array_size(subs) == 0)
		return JOB_OK;
	if (!pax8_configured() || !payload_ids(j, &tenant, &company))
		return JOB_OK;
	struct db_conn *b = billing(j);
	if (b == NULL)
		return JOB_RETRY;
	struct outbound_ctx ctx = {.request_id = j->request_id, .stopping = jobs_stopping};
	enum job_result rc = JOB_OK;
	int count = 0;
	size_t i;
	json_t *s;
	json_array_foreach(subs, i, s) {
		rc = pull_usage(j, b, tenant, json_string_value(json_object_get(s, "id")),
				json_string_value(json_object_get(s, "product_name")), &ctx, &count);
		if (rc != JOB_OK || jobs_stopping())
			break;
	}
	if (rc == JOB_OK) {
		json_decref(j->output);
		j->output = json_pack("{s:i}", "usage_summaries", count);
	}
	db_release(b);
	return rc;
}

/* pax8.pull_subscription: one subscription, its product and usage. */
static enum job_result step_pull_one(struct job *j)
{
	const char *tenant, *company;
	if (skipped(j))
		return JOB_OK;
	if (!payload_ids(j, &tenant, &company))
		return JOB_FAIL;
	const char *sid = json_string_value(json_object_get(j->payload, "subscription_id"));
	if (sid == NULL || *sid == '\0') {
		job_error(j, "InvalidPayload", "the job names no subscription");
		return JOB_FAIL;
	}
	switch (still_mapped(tenant, company)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		j->output = json_pack("{s:b}", "skipped", 1);
		return JOB_OK;
	default:
		job_error(j, "PortalUnavailable", "portal_db is unreachable");
		return JOB_RETRY;
	}
	struct db_conn *b = billing(j);
	if (b == NULL)
		return JOB_RETRY;
	struct outbound_ctx ctx = {.request_id = j->request_id, .stopping = jobs_stopping};
	struct outbound_result r = {0};
	json_t *products = json_object();
	enum job_result rc = JOB_OK;
	int skipped_n = 0, usage = 0;
	char *esc = outbound_escape(sid);
	char *path = xasprintf("/subscriptions/%s", esc);
	if (!pax8_get(path, &ctx, &r)) {
		if (r.status == 404) {
			j->output = json_pack("{s:s}", "status", "not_found");
		} else {
			rc = failed(j, &r);
		}
		goto cleanup;
	}
	const char *cid = json_string_value(json_object_get(r.body, "companyId"));
	if (!json_is_object(r.body) || cid == NULL || strcmp(cid, company) != 0) {
		/* Another company's subscription: never stored for this tenant. */
		log_warn("pax8: subscription %s is not company %s's; not stored", sid, company);
		j->output = json_pack("{s:s}", "status", "other_company");
		goto cleanup;
	}
	rc = store_subscription(j, b, tenant, r.body, products, &ctx, &skipped_n);
	if (rc != JOB_OK)
		goto cleanup;
	json_t *prod = json_object_get(products, json_string_value(json_object_get(r.body, "productId")) ?: "");
	rc = pull_usage(j, b, tenant, sid, json_string_value(json_object_get(prod, "name")), &ctx, &usage);
	if (rc == JOB_OK)
		j->output = json_pack("{s:s, s:i}", "status", skipped_n ? "skipped" : "pulled",
				      "usage_summaries", usage);
cleanup:
	outbound_result_clear(&r);
	json_decref(products);
	free(esc);
	free(path);
	db_release(b);
	return rc;
}

/* pax8.sync: one pull_company per mapped company, in one transaction. */
static enum job_result step_fan_out(struct job *j)
{
	if (skipped(j))
		return JOB_OK;
	enum job_result rc = JOB_RETRY;
	json_t *list = NULL;
	struct db_conn *p = db_acquire(DB_PORTAL);
	if (p == NULL || !db_scope(p, "*") || (list = portal_pax8_companies(p)) == NULL ||
	    !db_begin(p)) {
		job_error(j, "PortalUnavailable", "portal_db is unreachable");
		goto cleanup;
	}
	size_t i;
	json_t *t;
	json_array_foreach(list, i, t) {
		if (!pax8_queue_pull_company(p, json_string_value(json_object_get(t, "tenant_id")),
					     json_string_value(json_object_get(t, "company_id")),
					     j->request_id)) {
			job_error(j, "PortalUnavailable", "could not queue the pulls");
			goto cleanup;
		}
	}
	if (!db_commit(p)) {
		job_error(j, "PortalUnavailable", "portal_db failed");
		goto cleanup;
	}
	j->output = json_pack("{s:i}", "companies", (int)json_array_size(list));
	rc = JOB_OK;
cleanup:
	json_decref(list);
	db_release(p); /* rolls back what did not commit */
	return rc;
}

static void schedule_next(struct job *j)
{
	(void)j;
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") || !jobs_schedule(c, PAX8_SYNC_KIND, cfg.pax8_sync_s * 1000))
		log_error("pax8: could not schedule the next sync; a worker restart schedules one");
	db_release(c);
}

static const struct job_step sync_steps[] = {{"queue_pulls", step_fan_out}};
static const struct job_kind sync_kind = {PAX8_SYNC_KIND, sync_steps, 1, 3, schedule_next,
					  schedule_next};
static const struct job_step company_steps[] = {{"subscriptions", step_subscriptions},
						{"usage", step_usage}};
static const struct job_kind company_kind = {PAX8_PULL_COMPANY_KIND, company_steps, 2, 10, NULL, NULL};
static const struct job_step one_steps[] = {{"pull", step_pull_one}};
static const struct job_kind one_kind = {PAX8_PULL_SUBSCRIPTION_KIND, one_steps, 1, 10, NULL, NULL};

void pax8_jobs_register(void)
{
	jobs_register_kind(&sync_kind);
	jobs_register_kind(&company_kind);
	jobs_register_kind(&one_kind);
}

void pax8_jobs_worker_start(void)
{
	if (!pax8_configured()) {
		pthread_once(&skip_once, say_skipped);
		return;
	}
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") || !jobs_schedule(c, PAX8_SYNC_KIND, 0))
		log_warn("pax8: could not queue the start-up sync");
	db_release(c);
}
