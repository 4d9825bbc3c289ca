/*
 * common.c - helpers shared by handler modules.
 */
#include "handlers/handlers.h"
#include "server/common/log.h"
#include "server/http/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct audit_ctx handler_audit_ctx(struct request *r)
{
	struct audit_ctx a = {
		.actor_tid = r->principal.tid,
		.actor_oid = r->principal.oid,
		.request_id = r->request_id,
	};
	return a;
}

void handler_audit(struct request *r, const char *tenant, const char *action, const char *type,
		   const char *id, json_t *changes)
{
	struct audit_ctx a = handler_audit_ctx(r);
	struct db_conn *portal = req_db(r, DB_PORTAL, tenant);
	if (portal == NULL || !portal_audit_record(portal, tenant, &a, action, type, id, changes))
		log_warn("audit: %s of %s %s was not recorded (portal_db failed)", action, type, id);
}

void reply_json_text(struct request *r, int status, const char *json)
{
	reply_bytes(r, status, "application/json", json, strlen(json));
}

char *handler_etag(struct request *r, long long version)
{
	return arena_printf(&r->arena, "\"%lld\"", version);
}

bool handler_if_match_or_reply(struct request *r, long long *out)
{
	const char *h = req_header(r, "If-Match");
	*out = -1;
	if (h == NULL || strcmp(h, "*") == 0)
		return true;
	/* One strong ETag of ours: "<digits>". A weak or foreign tag can
	 * never match a strong comparison, so it fails the precondition. */
	size_t n = strlen(h);
	if (n >= 3 && n <= 22 && h[0] == '"' && h[n - 1] == '"') {
		long long v = 0;
		bool digits = true;
		for (size_t i = 1; i < n - 1; i++) {
			if (h[i] < '0' || h[i] > '9') {
				digits = false;
				break;
			}
			v = v * 10 + (h[i] - '0');
		}
		if (digits) {
			*out = v;
			return true;
		}
	}
	reply_status(r, ST_PRECONDITION, DB_PORTAL);
	return false;
}

void handler_request_hash(struct request *r, char out[65])
{
	char *canon = r->json ? json_dumps(r->json, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *material = arena_printf(&r->arena, "%s %s\n%s", r->method_name, r->path,
				      canon ? canon : "");
	free(canon);
	util_sha256_hex(material, strlen(material), out);
}

bool handler_idem_key_or_reply(struct request *r, const char **key)
{
	*key = req_header(r, "Idempotency-Key");
	if (*key == NULL || idem_key_valid(*key))
		return true;
	json_t *errors = NULL;
	problem_add_error(&errors, "Idempotency-Key", "must be 1-255 printable ASCII characters");
	reply_problem(r, 400, "invalid-header", "Bad Request", "The Idempotency-Key header is invalid.", errors);
	return false;
}

void handler_idem_replay(struct request *r, const struct idem_record *rec)
{
	reply_json_text(r, rec->status, rec->body);
	if (rec->location)
		reply_header(r, "Location", rec->location);
	if (rec->etag)
		reply_header(r, "ETag", rec->etag);
	reply_header(r, "Idempotent-Replayed", "true");
}

void handler_idem_mismatch(struct request *r)
{
	reply_problem(r, 422, "idempotency-key-reused", "Unprocessable Content",
		      "This Idempotency-Key was already used with a different request.", NULL);
}

bool handler_idem_claim_or_reply(struct request *r, struct db_conn *c, const char *scope,
				 const char *key,
				 void (*replay)(struct request *r, const struct idem_record *rec),
				 bool *in_progress)
{
	if (in_progress)
		*in_progress = false;
	char hash[65];
	handler_request_hash(r, hash);
	struct idem_record rec;
	enum idem_result res = idem_begin(c, scope, key, hash, &r->arena, &rec);
	if (res == IDEM_PROCEED)
		return true;
	db_rollback(c);
	switch (res) {
	case IDEM_REPLAY:
		(replay ? replay : handler_idem_replay)(r, &rec);
		break;
	case IDEM_MISMATCH:
		handler_idem_mismatch(r);
		break;
	default:
		if (in_progress)
			*in_progress = true;
		else
			reply_unavailable(r, "the database failed");
		break;
	}
	return false;
}

/* ---- content negotiation ------------------------------------------------ */

/* The media ranges of Accept (q=0 ranges refused): an explicit text/csv
 * wins when CSV is offered; JSON for application/json, any application
 * type, any type, or no Accept; any text type gives CSV; anything else is
 * not acceptable. */
static enum reply_format negotiate(const char *accept, bool csv_ok)
{
	if (accept == NULL || *accept == '\0')
		return FMT_JSON;
	bool json = false, csv = false, text_any = false;
	const char *p = accept;
	while (*p) {
		size_t n = strcspn(p, ",");
		char range[128];
		snprintf(range, sizeof(range), "%.*s", (int)(n < sizeof(range) ? n : sizeof(range) - 1), p);
		p += n + (p[n] == ',');
		char *params = strchr(range, ';');
		bool refused = false;
		if (params) {
			*params++ = '\0';
			char *q = strstr(params, "q=");
			refused = q && strtod(q + 2, NULL) <= 0.0;
		}
		char *t = range;
		while (*t == ' ' || *t == '\t')
			t++;
		size_t e = strlen(t);
		while (e > 0 && (t[e - 1] == ' ' || t[e - 1] == '\t'))
			t[--e] = '\0';
		if (refused)
			continue;
		if (strcasecmp(t, "application/json") == 0 || strcasecmp(t, "application/*") == 0 ||
		    strcmp(t, "*/*") == 0 || strcasecmp(t, "application/problem+json") == 0)
			json = true;
		else if (strcasecmp(t, "text/csv") == 0)
			csv = true;
		else if (strcasecmp(t, "text/*") == 0)
			text_any = true;
	}
	if (csv && csv_ok)
		return FMT_CSV;
	if (json)
		return FMT_JSON;
	if (text_any && csv_ok)
		return FMT_CSV;
	return FMT_NONE;
}

enum reply_format handler_format_or_reply(struct request *r, bool csv_ok)
{
	enum reply_format f = negotiate(req_header(r, "Accept"), csv_ok);
	if (f == FMT_NONE)
		reply_problem(r, 406, "not-acceptable", "Not Acceptable",
			      csv_ok ? "This resource is available as application/json or text/csv."
				     : "This resource is available as application/json.",
			      NULL);
	return f;
}
