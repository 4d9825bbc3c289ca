/*
 * catalog_jobs.c - catalog.media.verify and catalog.media.delete. See
 * catalog_jobs.h.
 *
 * The blob is downloaded and hashed as it arrives (server/outbound/blob.c,
 * OpenSSL EVP), never trusted from its properties alone: Content-MD5 is
 * the client's claim and Blob Storage keeps no SHA-256. A blob larger than
 * the declared size stops the download there. A mismatch is final: the
 * blob is deleted and the medium rejected with the reason, so an upload
 * that does not match what the API signed for is never served.
 */
#include "workers/catalog_jobs.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/jobs/jobs.h"
#include "server/outbound/blob.h"
#include "server/store/db.h"
#include "services/catalog.h"

#include <stdio.h>
#include <string.h>

static const char *const containers[] = {"product-images", "visio-stencils", "documents"};

static bool job_stopping(void)
{
	return jobs_stopping();
}

/* The medium of the job, on a connection scoped "*"; ST_* as the service. */
static enum status load(struct job *j, struct db_conn **cp, struct cat_media *m)
{
	const char *id = json_string_value(json_object_get(j->payload, "media_id"));
	*cp = NULL;
	if (id == NULL)
		return ST_NOT_FOUND;
	struct db_conn *c = db_acquire(DB_CATALOG);
	if (c == NULL || !db_scope(c, "*")) {
		db_release(c);
		return ST_UNAVAILABLE;
	}
	*cp = c;
	return catalog_media_get(c, id, &j->arena, m);
}

static enum job_result from_outbound(struct job *j, const struct outbound_result *r)
{
	job_error(j, r->code, r->message);
	if (r->retry_after_ms > 0)
		j->retry_after_ms = r->retry_after_ms;
	return r->cls == OUT_RETRY ? JOB_RETRY : JOB_FAIL;
}

/* Rejects the medium with `why` after deleting its blob. */
static enum job_result reject(struct job *j, struct db_conn *c, const struct cat_media *m,
			      const char *why)
{
	struct outbound_ctx ctx = {j->request_id, job_stopping};
	struct outbound_result r = {0};
	blob_delete(&ctx, m->container, m->blob_name, &r);
	enum job_result res = JOB_OK;
	if (r.cls != OUT_OK) {
		res = from_outbound(j, &r);
	} else {
		struct cat_media out;
		if (catalog_media_move(c, m->id, "verifying", "rejected", why, &j->arena, &out) ==
		    ST_UNAVAILABLE) {
			job_error(j, "DatabaseUnavailable", "catalog_db");
			res = JOB_RETRY;
		}
		log_info("catalog: medium %s rejected: %s", m->id, why);
	}
	outbound_result_clear(&r);
	return res;
}

static enum job_result verify(struct job *j)
{
	struct db_conn *c;
	struct cat_media m;
	enum status st = load(j, &c, &m);
	enum job_result res = JOB_OK;
	if (st == ST_UNAVAILABLE) {
		job_error(j, "DatabaseUnavailable", "catalog_db");
		res = JOB_RETRY;
		goto cleanup;
	}
	if (st != ST_OK || strcmp(m.status, "verifying") != 0)
		goto cleanup; /* deleted or already decided: nothing to do */
	struct outbound_ctx ctx = {j->request_id, job_stopping};
	struct outbound_result r = {0};
	struct blob_props p;
	blob_get_sha256(&ctx, m.container, m.blob_name, (size_t)m.size, &p, &r);
	char why[256] = "";
	if (r.cls == OUT_PERMANENT && r.status == 404) {
		snprintf(why, sizeof(why), "no blob was uploaded");
	} else if (p.too_large) {
		snprintf(why, sizeof(why), "the blob is larger than the declared %lld bytes", m.size);
	} else if (r.cls != OUT_OK) {
		res = from_outbound(j, &r);
		outbound_result_clear(&r);
		goto cleanup;
	} else if ((long long)p.size != m.size) {
		snprintf(why, sizeof(why), "the blob has %zu bytes, %lld were declared", p.size, m.size);
	} else if (strcmp(p.content_type, m.content_type) != 0) {
		snprintf(why, sizeof(why), "the blob's type is %.100s, %.100s was declared",
			 p.content_type[0] ? p.content_type : "(none)", m.content_type);
	} else if (strcmp(p.sha256, m.sha256) != 0) {
		snprintf(why, sizeof(why), "the blob's SHA-256 is %s, not the declared one", p.sha256);
	}
	outbound_result_clear(&r);
	if (why[0]) {
		res = reject(j, c, &m, why);
	} else {
		struct cat_media out;
		if (catalog_media_move(c, m.id, "verifying", "ready", NULL, &j->arena, &out) ==
		    ST_UNAVAILABLE) {
			job_error(j, "DatabaseUnavailable", "catalog_db");
			res = JOB_RETRY;
		}
	}
cleanup:
	db_release(c);
	return res;
}

static enum job_result remove_blob(struct job *j)
{
	struct db_conn *c;
	struct cat_media m;
	enum status st = load(j, &c, &m);
	enum job_result res = JOB_OK;
	if (st == ST_UNAVAILABLE) {
		job_error(j, "DatabaseUnavailable", "catalog_db");
		res = JOB_RETRY;
		goto cleanup;
	}
	if (st != ST_OK || strcmp(m.status, "deleting") != 0)
		goto cleanup;
	struct outbound_ctx ctx = {j->request_id, job_stopping};
	struct outbound_result r = {0};
	blob_delete(&ctx, m.container, m.blob_name, &r);
	if (r.cls != OUT_OK)
		res = from_outbound(j, &r);
	else if (catalog_media_forget(c, m.id) == ST_UNAVAILABLE) {
		job_error(j, "DatabaseUnavailable", "catalog_db");
		res = JOB_RETRY;
	}
	outbound_result_clear(&r);
cleanup:
	db_release(c);
	return res;
}

static const struct job_step verify_steps[] = {{"verify_blob", verify}};
static const struct job_step delete_steps[] = {{"delete_blob", remove_blob}};
static const struct job_kind verify_kind = {CATALOG_MEDIA_VERIFY, verify_steps, 1, 8, NULL, NULL};
static const struct job_kind delete_kind = {CATALOG_MEDIA_DELETE, delete_steps, 1, 8, NULL, NULL};

void catalog_jobs_register(void)
{
	jobs_register_kind(&verify_kind);
	jobs_register_kind(&delete_kind);
}

void catalog_worker_start(void)
{
	for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++) {
		struct outbound_result r = {0};
		blob_container_create(NULL, containers[i], &r);
		if (r.cls != OUT_OK)
			log_warn("catalog: container %s not created: %s %s", containers[i], r.code,
				 r.message);
		outbound_result_clear(&r);
	}
	/* Browsers upload straight to Blob Storage: locally the worker allows
	 * the portal's origin; in Azure, Terraform owns the rule (unset). */
	if (cfg.storage_cors_origins) {
		struct outbound_result r = {0};
		blob_set_cors(NULL, cfg.storage_cors_origins, &r);
		if (r.cls != OUT_OK)
			log_warn("catalog: Blob CORS rule not set: %s %s", r.code, r.message);
		outbound_result_clear(&r);
	}
}
