/*
 * quickbooks_jobs.c - QuickBooks Online connection, token refresh and
 * reads from the Accounting API (see quickbooks_jobs.h).
 *
 * Tokens live sealed in billing_db (server/common/secretbox.h) and are
 * opened only here, for the one call that needs them. A refresh holds the
 * connection's row lock across the call to Intuit: Intuit rotates refresh
 * tokens, so two runners refreshing at once would lose one of them.
 *
 * Every step is idempotent: reads are stored with QuickBooks' own
 * LastUpdatedTime as the ordering guard, a CDC read moves last_sync_at only
 * after everything it returned was stored, and a code exchange that already
 * happened is seen as `connected`.
 */
#include "workers/quickbooks_jobs.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/secretbox.h"
#include "server/common/util.h"
#include "server/outbound/intuit.h"
#include "services/quickbooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MINOR_VERSION "minorversion=75"

static void aad(char *out, size_t n, const char *purpose, const char *tenant)
{
	snprintf(out, n, "%s%s", purpose, tenant);
}

static struct outbound_ctx ctx_of(struct job *j)
{
	struct outbound_ctx c = {.request_id = j->request_id, .stopping = jobs_stopping};
	return c;
}

/* Maps a failed call onto the job: retry (with Retry-After) or fail. */
static enum job_result failed_call(struct job *j, const struct outbound_result *res)
{
	job_error(j, res->code[0] ? res->code : "IntuitError", res->message);
	if (res->cls == OUT_RETRY) {
		if (res->retry_after_ms > 0)
			j->retry_after_ms = res->retry_after_ms;
		return JOB_RETRY;
	}
	return JOB_FAIL;
}

/* Seals both tokens; false when no key is loaded. */
static bool seal_tokens(const char *tenant, const struct intuit_tokens *t, char **rt, char **at)
{
	char a1[96], a2[96];
	aad(a1, sizeof(a1), QB_AAD_REFRESH, tenant);
	aad(a2, sizeof(a2), QB_AAD_ACCESS, tenant);
	*rt = secretbox_seal(a1, t->refresh_token);
	*at = secretbox_seal(a2, t->access_token);
	return *rt && *at;
}

/*
 * The tenant's access token (heap, secretbox_free() it) and realm: the
 * stored one while it is valid for margin_s more, else refreshed (force:
 * always, after a 401). On failure returns false with *err: code
 * "NotConnected" or "Disconnected" (permanent: a refresh answered
 * invalid_grant and the connection is now disconnected), or a retryable
 * outage.
 */
static bool access_token(const char *tenant, int margin_s, bool force, const struct outbound_ctx *ctx,
			 char **token, char realm[33], struct outbound_result *err)
{
	*token = NULL;
	outbound_result_clear(err);
	bool ok = false;
	char *rt = NULL, *new_rt = NULL, *new_at = NULL, note[2100] = "";
	struct qb_conn q;
	struct intuit_tokens t;
	memset(&q, 0, sizeof(q));
	memset(&t, 0, sizeof(t));
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*") || !db_begin(b)) {
		outbound_result_set(err, OUT_RETRY, "BillingUnavailable", "billing_db is unreachable");
		goto cleanup;
	}
	enum status st = quickbooks_conn_load(b, tenant, margin_s, true, &q);
	if (st == ST_UNAVAILABLE) {
		outbound_result_set(err, OUT_RETRY, "BillingUnavailable", "billing_db failed");
		goto cleanup;
	}
	if (st != ST_OK || strcmp(q.status, "connected") != 0 || q.refresh_sealed == NULL) {
		outbound_result_set(err, OUT_PERMANENT, "NotConnected", "the tenant has no QuickBooks connection");
		goto cleanup;
	}
	snprintf(realm, 33, "%s", q.realm_id);
	char a[96];
	if (!force && q.access_fresh && q.access_sealed) {
		aad(a, sizeof(a), QB_AAD_ACCESS, tenant);
		*token = secretbox_open(a, q.access_sealed, NULL);
		if (*token) {
			ok = true;
			goto cleanup; /* the transaction only read: released below */
		}
		/* Unreadable (a key removed): refresh instead. */
	}
	aad(a, sizeof(a), QB_AAD_REFRESH, tenant);
	enum secretbox_status sst;
	rt = secretbox_open(a, q.refresh_sealed, &sst);
	if (rt == NULL) {
		outbound_result_set(err, OUT_PERMANENT, "Disconnected",
				    "the stored refresh token cannot be decrypted (%s): connect QuickBooks again",
				    sst == SB_UNKNOWN_KEY ? "its key is no longer configured" : "it was altered");
		quickbooks_conn_fail(b, tenant, "error", err->message);
		db_commit(b);
		goto cleanup;
	}
	if (!intuit_token("refresh_token", rt, ctx, &t, err)) {
		if (strcmp(err->code, "invalid_grant") == 0) {
			char reason[512];
			snprintf(reason, sizeof(reason),
				 "QuickBooks refused the refresh token (invalid_grant): the app was disconnected in "
				 "QuickBooks or the authorization expired; connect again");
			if (quickbooks_conn_fail(b, tenant, "disconnected", reason) && db_commit(b))
				log_warn("quickbooks: tenant %s disconnected: refresh answered invalid_grant", tenant);
			outbound_result_set(err, OUT_PERMANENT, "Disconnected", "%s", reason);
		} else {
			snprintf(note, sizeof(note), "token refresh failed: %s", err->message);
		}
		goto cleanup;
	}
	bool applied = false;
	if (!seal_tokens(tenant, &t, &new_rt, &new_at) ||
	    !quickbooks_conn_tokens(b, tenant, new_rt, new_at, t.expires_in, t.refresh_expires_in, false,
				    &applied) ||
	    !db_commit(b)) {
		/* Intuit rotated the refresh token and it is lost: the old one is
		 * still valid at Intuit for a while, so a retry may recover. */
		outbound_result_set(err, OUT_RETRY, "BillingUnavailable", "could not store the refreshed tokens");
		goto cleanup;
	}
	log_info("quickbooks: tenant %s: access token refreshed", tenant);
	*token = xstrdup(t.access_token);
	ok = true;
cleanup:
	db_release(b); /* rolls back whatever did not commit */
	if (note[0]) {
		struct db_conn *n = db_acquire(DB_BILLING);
		if (n && db_scope(n, "*"))
			quickbooks_conn_note(n, tenant, note);
		db_release(n);
	}
	secretbox_free(rt);
	free(new_rt);
	free(new_at);
	intuit_tokens_free(&t);
	quickbooks_conn_free(&q);
	return ok;
}

/* GET a path of the tenant's company: one refresh and retry on 401. */
static bool api_get(struct job *j, const char *tenant, const char *path, char realm[33],
		    struct outbound_result *res)
{
	struct outbound_ctx ctx = ctx_of(j);
	char *token = NULL;
	if (!access_token(tenant, cfg.quickbooks_refresh_margin_s, false, &ctx, &token, realm, res))
		return false;
	bool ok = intuit_get(token, realm, path, &ctx, res);
	if (!ok && res->status == 401) {
		secretbox_free(token);
		token = NULL;
		if (!access_token(tenant, cfg.quickbooks_refresh_margin_s, true, &ctx, &token, realm, res))
			return false;
		ok = intuit_get(token, realm, path, &ctx, res);
	}
	secretbox_free(token);
	return ok;
}

/* ---- storing what was read ------------------------------------------------ */

static enum status store_one(struct db_conn *b, const char *tenant, const char *realm,
			     const char *type, json_t *e)
{
	if (!json_is_object(e))
		return ST_INVALID;
	const char *id = json_string_value(json_object_get(e, "Id"));
	const char *status = json_string_value(json_object_get(e, "status"));
	if (id == NULL)
		return ST_INVALID;
	if (strcmp(type, "invoice") == 0 && status && strcmp(status, "Deleted") == 0)
		return quickbooks_invoice_gone(b, tenant, realm, id) ? ST_OK : ST_UNAVAILABLE;
	char *text = json_dumps(e, JSON_COMPACT);
	enum status st = strcmp(type, "invoice") == 0 ? quickbooks_store_invoice(b, tenant, realm, text)
						      : quickbooks_store_entity(b, tenant, realm, type, text);
	free(text);
	return st;
}

static const struct {
	const char *type;   /* ours (webhook_inbox.entity_type) */
	const char *entity; /* QuickBooks' */
} entity_names[] = {{"invoice", "Invoice"}, {"payment", "Payment"}, {"customer", "Customer"}};

static const char *entity_name(const char *type)
{
	for (size_t i = 0; i < sizeof(entity_names) / sizeof(entity_names[0]); i++)
		if (type && strcmp(entity_names[i].type, type) == 0)
			return entity_names[i].entity;
	return NULL;
}

/* Reads one entity and stores it. */
static enum job_result fetch_entity(struct job *j, struct db_conn *b, const char *tenant,
				    const char *type, const char *id, int depth);

/* A payment changes the balance of the invoices it pays: read them too. */
static enum job_result fetch_linked_invoices(struct job *j, struct db_conn *b, const char *tenant,
					     json_t *payment, int depth)
{
	size_t i, k;
	json_t *line, *lt;
	json_array_foreach(json_object_get(payment, "Line"), i, line) {
		json_array_foreach(json_object_get(line, "LinkedTxn"), k, lt) {
			const char *tt = json_string_value(json_object_get(lt, "TxnType"));
			const char *tid = json_string_value(json_object_get(lt, "TxnId"));
			if (tt && tid && strcmp(tt, "Invoice") == 0) {
				enum job_result r = fetch_entity(j, b, tenant, "invoice", tid, depth + 1);
				if (r != JOB_OK)
					return r;
			}
		}
	}
	return JOB_OK;
}

static bool valid_entity_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++)
		if (id[i] < '0' || id[i] > '9')
			return false;
	return true;
}

static enum job_result fetch_entity(struct job *j, struct db_conn *b, const char *tenant,
				    const char *type, const char *id, int depth)
{
	const char *name = entity_name(type);
	if (name == NULL || !valid_entity_id(id) || depth > 1)
		return JOB_OK;
	char path[96], realm[33] = "";
	snprintf(path, sizeof(path), "%s/%s?" MINOR_VERSION, type, id);
	struct outbound_result res;
	memset(&res, 0, sizeof(res));
	enum job_result rc = JOB_OK;
	if (!api_get(j, tenant, path, realm, &res)) {
		const char *fc = intuit_fault_code(res.body);
		if (strcmp(res.code, "NotConnected") == 0 || strcmp(res.code, "Disconnected") == 0) {
			rc = JOB_OK; /* nothing to read with: CDC catches up after a reconnect */
		} else if (res.status == 400 && fc && strcmp(fc, "610") == 0) {
			/* Object Not Found: deleted in QuickBooks. */
			if (strcmp(type, "invoice") == 0 && !quickbooks_invoice_gone(b, tenant, realm, id)) {
				job_error(j, "BillingUnavailable", "billing_db failed");
				rc = JOB_RETRY;
			}
		} else {
			rc = failed_call(j, &res);
		}
		goto cleanup;
	}
	json_t *e = json_object_get(res.body, name);
	switch (store_one(b, tenant, realm, type, e)) {
	case ST_OK:
		break;
	case ST_INVALID:
		job_error(j, "InvalidEntity", "QuickBooks answered data that cannot be stored");
		rc = JOB_FAIL;
		goto cleanup;
	default:
		job_error(j, "BillingUnavailable", "billing_db failed");
		rc = JOB_RETRY;
		goto cleanup;
	}
	if (strcmp(type, "payment") == 0)
		rc = fetch_linked_invoices(j, b, tenant, e, depth);
cleanup:
	outbound_result_clear(&res);
	return rc;
}

enum job_result quickbooks_step_fetch(struct job *j)
{
	const char *id = json_string_value(json_object_get(j->payload, "event_id"));
	if (id == NULL || !util_is_uuid(id))
		return JOB_OK; /* the apply step already failed such a job */
	enum job_result rc = JOB_RETRY;
	struct qb_event e;
	struct qb_conn q;
	memset(&e, 0, sizeof(e));
	memset(&q, 0, sizeof(q));
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*")) {
		job_error(j, "BillingUnavailable", "billing_db is unreachable");
		goto cleanup;
	}
	enum status st = quickbooks_event_load(b, id, &e);
	if (st == ST_UNAVAILABLE) {
		job_error(j, "BillingUnavailable", "billing_db failed");
		goto cleanup;
	}
	rc = JOB_OK;
	if (st != ST_OK || strcmp(e.status, "processed") != 0 || strcmp(e.provider, "quickbooks") != 0 ||
	    entity_name(e.entity_type) == NULL || e.tenant_id[0] == '\0') {
		j->output = json_pack("{s:s}", "fetch", "not-needed");
		goto cleanup;
	}
	st = quickbooks_conn_load(b, e.tenant_id, 0, false, &q);
	if (st == ST_UNAVAILABLE) {
		job_error(j, "BillingUnavailable", "billing_db failed");
		rc = JOB_RETRY;
		goto cleanup;
	}
	if (st != ST_OK || strcmp(q.status, "connected") != 0 || e.account_id == NULL ||
	    strcmp(q.realm_id, e.account_id) != 0) {
		/* Stays needs_sync; the first CDC read after connecting fetches it. */
		j->output = json_pack("{s:s}", "fetch", "not-connected");
		goto cleanup;
	}
	if (strcmp(e.entity_type, "invoice") == 0 && e.operation && strcmp(e.operation, "delete") == 0) {
		rc = quickbooks_invoice_gone(b, e.tenant_id, q.realm_id, e.entity_id) ? JOB_OK : JOB_RETRY;
		j->output = json_pack("{s:s}", "fetch", "deleted");
		goto cleanup;
	}
	rc = fetch_entity(j, b, e.tenant_id, e.entity_type, e.entity_id, 0);
	if (rc == JOB_OK)
		j->output = json_pack("{s:s, s:s?}", "fetch", "stored", "entity_id", e.entity_id);
cleanup:
	db_release(b);
	quickbooks_event_free(&e);
	quickbooks_conn_free(&q);
	return rc;
}

/* ---- quickbooks.connect ---------------------------------------------------- */

static enum job_result step_exchange(struct job *j)
{
	const char *tenant = j->tenant_id;
	enum job_result rc = JOB_RETRY;
	struct qb_conn q;
	struct intuit_tokens t;
	struct outbound_result res;
	char *code = NULL, *rt = NULL, *at = NULL;
	memset(&q, 0, sizeof(q));
	memset(&t, 0, sizeof(t));
	memset(&res, 0, sizeof(res));
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*")) {
		job_error(j, "BillingUnavailable", "billing_db is unreachable");
		goto cleanup;
	}
	enum status st = quickbooks_conn_load(b, tenant, 0, false, &q);
	if (st == ST_UNAVAILABLE) {
		job_error(j, "BillingUnavailable", "billing_db failed");
		goto cleanup;
	}
	if (st == ST_OK && strcmp(q.status, "connected") == 0 && q.code_sealed == NULL) {
		j->output = json_pack("{s:s}", "status", "connected"); /* done by an earlier run */
		rc = JOB_OK;
		goto cleanup;
	}
	if (st != ST_OK || strcmp(q.status, "connecting") != 0 || q.code_sealed == NULL) {
		job_error(j, "NotConnecting", "the connection is not waiting for a code exchange");
		rc = JOB_FAIL;
		goto cleanup;
	}
	char a[96];
	aad(a, sizeof(a), QB_AAD_CODE, tenant);
	code = secretbox_open(a, q.code_sealed, NULL);
	if (code == NULL) {
		job_error(j, "UnreadableCode", "the stored authorization code cannot be decrypted");
		rc = JOB_FAIL;
		goto cleanup;
	}
	struct outbound_ctx ctx = ctx_of(j);
	if (!intuit_token("authorization_code", code, &ctx, &t, &res)) {
		if (strcmp(res.code, "invalid_grant") == 0)
			snprintf(res.message, sizeof(res.message),
				 "Intuit refused the authorization code (invalid_grant): it expired or was used; connect again");
		rc = failed_call(j, &res);
		if (rc == JOB_RETRY)
			quickbooks_conn_note(b, tenant, res.message);
		goto cleanup;
	}
	bool applied = false;
	if (!seal_tokens(tenant, &t, &rt, &at) ||
	    !quickbooks_conn_tokens(b, tenant, rt, at, t.expires_in, t.refresh_expires_in, true, &applied)) {
		job_error(j, "BillingUnavailable", "could not store the tokens");
		goto cleanup;
	}
	log_info("quickbooks: tenant %s connected to realm %s", tenant, q.realm_id);
	j->output = json_pack("{s:s, s:s}", "status", applied ? "connected" : "superseded", "realm_id", q.realm_id);
	rc = JOB_OK;
cleanup:
	db_release(b);
	secretbox_free(code);
	free(rt);
	free(at);
	intuit_tokens_free(&t);
	outbound_result_clear(&res);
	quickbooks_conn_free(&q);
	return rc;
}

static void connect_failed(struct job *j)
{
	const char *msg = json_string_value(json_object_get(j->error, "message"));
	struct db_conn *b = db_acquire(DB_BILLING);
	struct qb_conn q;
	memset(&q, 0, sizeof(q));
	if (b && db_scope(b, "*") && quickbooks_conn_load(b, j->tenant_id, 0, false, &q) == ST_OK &&
	    strcmp(q.status, "connecting") == 0)
		quickbooks_conn_fail(b, j->tenant_id, "error", msg ? msg : "the connection failed");
	quickbooks_conn_free(&q);
	db_release(b);
}

/* ---- quickbooks.cdc ----------------------------------------------------------- */

static void iso_utc(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A CDC answer holds at most this many objects of an entity; a full list
 * means there may be more ("Server responses can handle a maximum of 1,000
 * objects", developer.intuit.com, Change data capture operation). */
#define CDC_MAX 1000
#define QUERY_PAGE 1000
#define QUERY_MAX_PAGES 200 /* 200,000 changes of one entity in one read: then the read fails */

/*
 * The rest of a truncated CDC list: the query operation ("SELECT * FROM
 * Invoice WHERE Metadata.LastUpdatedTime > '…' ORDERBY
 * Metadata.LastUpdatedTime STARTPOSITION n MAXRESULTS 1000", developer.
 * intuit.com, Query operations and syntax) pages through everything changed
 * since `since`. Deleted entities are not in a query's answer; those beyond
 * the CDC's 1,000 stay until their webhook or the next read names them.
 * Returns false with *rc set when a call or billing_db failed.
 */
static bool query_since(struct job *j, struct db_conn *b, const char *tenant, char realm[33],
			const char *entity, const char *type, const char *since, int *stored, int *refused,
			int *pages, enum job_result *rc)
{
	/* The documentation's datetimes carry an offset: …T00:00:00+00:00. */
	char at[40];
	snprintf(at, sizeof(at), "%.19s+00:00", since);
	for (long start = 1;; start += QUERY_PAGE) {
		if (start / QUERY_PAGE >= QUERY_MAX_PAGES) {
			/* An answer that never ends: fail rather than loop; the
			 * next read starts from the same last sync. */
			job_error(j, "TooManyChanges", "QuickBooks kept answering full pages of changes");
			*rc = JOB_FAIL;
			return false;
		}
		char select[256];
		snprintf(select, sizeof(select),
			 "SELECT * FROM %s WHERE Metadata.LastUpdatedTime > '%s' ORDERBY Metadata.LastUpdatedTime "
			 "STARTPOSITION %ld MAXRESULTS %d",
			 entity, at, start, QUERY_PAGE);
		char *q = outbound_escape(select);
		char *path = xasprintf("query?query=%s&" MINOR_VERSION, q);
		free(q);
		struct outbound_result res = {0};
		bool ok = api_get(j, tenant, path, realm, &res);
		free(path);
		if (!ok) {
			*rc = failed_call(j, &res);
			quickbooks_conn_note(b, tenant, res.message);
			outbound_result_clear(&res);
			return false;
		}
		(*pages)++;
		json_t *list = json_object_get(json_object_get(res.body, "QueryResponse"), entity);
		size_t n = json_array_size(list), i;
		json_t *e;
		json_array_foreach(list, i, e) {
			switch (store_one(b, tenant, realm, type, e)) {
			case ST_OK:
				(*stored)++;
				break;
			case ST_INVALID:
				(*refused)++;
				break;
			default:
				job_error(j, "BillingUnavailable", "billing_db failed while storing changes");
				outbound_result_clear(&res);
				*rc = JOB_RETRY;
				return false;
			}
		}
		outbound_result_clear(&res);
		if (n < QUERY_PAGE)
			return true;
	}
}

static enum job_result step_cdc(struct job *j)
{
	const char *tenant = j->tenant_id;
	enum job_result rc = JOB_RETRY;
	struct qb_conn q;
	struct outbound_result res;
	memset(&q, 0, sizeof(q));
	memset(&res, 0, sizeof(res));
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*")) {
		job_error(j, "BillingUnavailable", "billing_db is unreachable");
		goto cleanup;
	}
	enum status st = quickbooks_conn_load(b, tenant, 0, false, &q);
	if (st == ST_UNAVAILABLE) {
		job_error(j, "BillingUnavailable", "billing_db failed");
		goto cleanup;
	}
	if (st != ST_OK || strcmp(q.status, "connected") != 0) {
		j->output = json_pack("{s:s}", "cdc", "not-connected");
		rc = JOB_OK;
		goto cleanup;
	}
	/* Since the last complete read (a minute of overlap for clock skew),
	 * else as far back as QuickBooks keeps changes (30 days). */
	time_t now = time(NULL), since = now - 29 * 86400;
	if (q.last_sync_at[0]) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		if (strptime(q.last_sync_at, "%Y-%m-%dT%H:%M:%S", &tm))
			since = timegm(&tm) - 60;
		if (since < now - 29 * 86400)
			since = now - 29 * 86400;
	}
	char since_s[32], start_s[32], path[160], realm[33] = "";
	iso_utc(since, since_s);
	iso_utc(now, start_s);
	snprintf(path, sizeof(path), "cdc?entities=Invoice,Payment,Customer&changedSince=%s&" MINOR_VERSION,
		 since_s);
	if (!api_get(j, tenant, path, realm, &res)) {
		if (strcmp(res.code, "NotConnected") == 0 || strcmp(res.code, "Disconnected") == 0) {
			j->output = json_pack("{s:s}", "cdc", "not-connected");
			rc = JOB_OK;
		} else {
			rc = failed_call(j, &res);
			quickbooks_conn_note(b, tenant, res.message);
		}
		goto cleanup;
	}
	int stored = 0, refused = 0, pages = 0;
	bool truncated[sizeof(entity_names) / sizeof(entity_names[0])] = {false};
	size_t i, k, m;
	json_t *cdc, *qr, *e;
	json_array_foreach(json_object_get(res.body, "CDCResponse"), i, cdc) {
		json_array_foreach(json_object_get(cdc, "QueryResponse"), k, qr) {
			for (size_t n = 0; n < sizeof(entity_names) / sizeof(entity_names[0]); n++) {
				json_t *list = json_object_get(qr, entity_names[n].entity);
				if (json_array_size(list) >= CDC_MAX)
					truncated[n] = true;
				json_array_foreach(list, m, e) {
					switch (store_one(b, tenant, realm, entity_names[n].type, e)) {
					case ST_OK:
						stored++;
						break;
					case ST_INVALID:
						refused++; /* kept out; the rest still counts */
						break;
					default:
						job_error(j, "BillingUnavailable", "billing_db failed while storing changes");
						goto cleanup;
					}
				}
			}
		}
	}
	for (size_t n = 0; n < sizeof(entity_names) / sizeof(entity_names[0]); n++) {
		if (truncated[n] && !query_since(j, b, tenant, realm, entity_names[n].entity, entity_names[n].type,
						 since_s, &stored, &refused, &pages, &rc))
			goto cleanup;
	}
	if (!quickbooks_synced(b, tenant, start_s)) {
		job_error(j, "BillingUnavailable", "billing_db failed");
		goto cleanup;
	}
	if (refused)
		log_warn("quickbooks: tenant %s: %d changed entities could not be stored", tenant, refused);
	j->output = json_pack("{s:s, s:s, s:i, s:i, s:i}", "cdc", "read", "since", since_s, "stored", stored,
			      "refused", refused, "query_pages", pages);
	rc = JOB_OK;
cleanup:
	db_release(b);
	outbound_result_clear(&res);
	quickbooks_conn_free(&q);
	return rc;
}

/* ---- quickbooks.revoke -------------------------------------------------------- */

static enum job_result step_revoke(struct job *j)
{
	const char *tenant = j->tenant_id;
	enum job_result rc = JOB_RETRY;
	struct qb_conn q;
	struct outbound_result res;
	char *rt = NULL;
	memset(&q, 0, sizeof(q));
	memset(&res, 0, sizeof(res));
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*") || quickbooks_conn_load(b, tenant, 0, false, &q) == ST_UNAVAILABLE) {
		job_error(j, "BillingUnavailable", "billing_db is unreachable");
		goto cleanup;
	}
	rc = JOB_OK;
	if (q.revoke_sealed == NULL) {
		j->output = json_pack("{s:s}", "revoke", "nothing-to-revoke");
		goto cleanup;
	}
	char a[96];
	aad(a, sizeof(a), QB_AAD_REFRESH, tenant);
	rt = secretbox_open(a, q.revoke_sealed, NULL);
	struct outbound_ctx ctx = ctx_of(j);
	if (rt && !intuit_revoke(rt, &ctx, &res) && res.cls == OUT_RETRY) {
		rc = failed_call(j, &res);
		goto cleanup;
	}
	/* Revoked, refused for good (already invalid) or unreadable: forget it. */
	if (!quickbooks_revoke_done(b, tenant)) {
		job_error(j, "BillingUnavailable", "billing_db failed");
		rc = JOB_RETRY;
		goto cleanup;
	}
	j->output = json_pack("{s:s}", "revoke", res.cls == OUT_OK && rt ? "revoked" : "dropped");
cleanup:
	db_release(b);
	secretbox_free(rt);
	outbound_result_clear(&res);
	quickbooks_conn_free(&q);
	return rc;
}

/* ---- quickbooks.tick ---------------------------------------------------------- */

#define TICK_BATCH 100

static enum job_result step_tick(struct job *j)
{
	char (*ids)[37] = xmalloc(sizeof(*ids) * TICK_BATCH);
	int refreshed = 0, failed = 0, queued = 0;
	enum job_result rc = JOB_RETRY;
	struct db_conn *p = NULL;
	struct db_conn *b = db_acquire(DB_BILLING);
	if (b == NULL || !db_scope(b, "*")) {
		job_error(j, "BillingUnavailable", "billing_db is unreachable");
		goto cleanup;
	}
	/* Access tokens that would expire before the next tick plus the margin. */
	int horizon = cfg.quickbooks_refresh_margin_s + cfg.quickbooks_tick_s;
	int n = quickbooks_due_refresh(b, horizon, ids, TICK_BATCH);
	struct outbound_ctx ctx = ctx_of(j);
	for (int i = 0; i < n; i++) {
		char *token = NULL, realm[33];
		struct outbound_result err;
		memset(&err, 0, sizeof(err));
		if (access_token(ids[i], horizon, false, &ctx, &token, realm, &err))
			refreshed++;
		else
			failed++; /* recorded on the connection; the others go on */
		secretbox_free(token);
		outbound_result_clear(&err);
	}
	/* CDC reads due: queued in portal_db, then their next time committed. */
	if (!db_begin(b))
		goto cleanup;
	n = quickbooks_due_cdc(b, cfg.quickbooks_cdc_s, ids, TICK_BATCH);
	if (n < 0)
		goto cleanup;
	if (n > 0) {
		p = db_acquire(DB_PORTAL);
		if (p == NULL || !db_scope(p, "*") || !db_begin(p))
			goto cleanup;
		for (int i = 0; i < n; i++) {
			char job_id[37];
			json_t *payload = json_object();
			bool ok = jobs_enqueue(p, QUICKBOOKS_CDC_JOB, ids[i], payload, j->request_id, job_id);
			json_decref(payload);
			if (!ok)
				goto cleanup;
		}
		if (!db_commit(p))
			goto cleanup;
		queued = n;
	}
	if (!db_commit(b))
		goto cleanup;
	j->output = json_pack("{s:i, s:i, s:i}", "refreshed", refreshed, "refresh_failed", failed,
			      "cdc_queued", queued);
	rc = JOB_OK;
cleanup:
	if (rc != JOB_OK && j->error == NULL)
		job_error(j, "DatabaseUnavailable", "a database failed during the tick");
	db_release(p);
	db_release(b);
	free(ids);
	return rc;
}

static void schedule_tick(struct job *j)
{
	(void)j;
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") || !jobs_schedule(c, QUICKBOOKS_TICK_JOB, cfg.quickbooks_tick_s * 1000))
		log_error("quickbooks: could not schedule the next tick; a worker restart schedules one");
	db_release(c);
}

static const struct job_step connect_steps[] = {{"exchange_code", step_exchange}};
static const struct job_step cdc_steps[] = {{"read_changes", step_cdc}};
static const struct job_step revoke_steps[] = {{"revoke_token", step_revoke}};
static const struct job_step tick_steps[] = {{"refresh_and_queue", step_tick}};
static const struct job_kind kinds[] = {
	{QUICKBOOKS_CONNECT_JOB, connect_steps, 1, 6, connect_failed, NULL},
	{QUICKBOOKS_CDC_JOB, cdc_steps, 1, 8, NULL, NULL},
	{QUICKBOOKS_REVOKE_JOB, revoke_steps, 1, 8, NULL, NULL},
	{QUICKBOOKS_TICK_JOB, tick_steps, 1, 3, schedule_tick, schedule_tick},
};

void quickbooks_jobs_register(void)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		jobs_register_kind(&kinds[i]);
}

void quickbooks_worker_start(void)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") || !jobs_schedule(c, QUICKBOOKS_TICK_JOB, 0))
		log_warn("quickbooks: could not queue the first tick");
	db_release(c);
}
