/*
 * integrations.c - a tenant's QuickBooks Online connection (issue 15):
 *   POST   /v1/tenants/{tenant_id}/integrations/quickbooks/connect  → {authorize_url}
 *   GET    /v1/integrations/quickbooks/callback?code&state&realmId  (Intuit redirects the browser here)
 *   GET    /v1/tenants/{tenant_id}/integrations                     → status, never a token
 *   DELETE /v1/tenants/{tenant_id}/integrations/quickbooks          → disconnected; revoked by the worker
 *
 * The OAuth state is 256 random bits, stored as its SHA-256, single-use,
 * short-lived (ATRIUM_QUICKBOOKS_STATE_SECONDS) and bound to the tenant and
 * the user who asked: the callback must come from the same user (its
 * session cookie travels on Intuit's top-level redirect, SameSite=Lax).
 * The callback does no outbound call (HACKING: never on a request thread):
 * it seals the code, marks the connection `connecting`, queues
 * `quickbooks.connect` and sends the browser to the portal's billing page
 * (/app/tenants/{id}/billing), whose QuickBooks card shows `connecting`
 * until the worker made it `connected`.
 */
#include "handlers/handlers.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/secretbox.h"
#include "server/http/reply.h"
#include "server/jobs/jobs.h"
#include "services/portal.h"
#include "services/quickbooks.h"
#include "services/webhooks.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QB_SCOPE "com.intuit.quickbooks.accounting"

/* Percent-encodes s for a query value (RFC 3986 unreserved kept), in the arena. */
static char *query_escape(struct arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = arena_alloc(a, n * 3 + 1), *o = out;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

static bool configured_or_reply(struct request *r)
{
	if (cfg.quickbooks_client_id && *cfg.quickbooks_client_id && secretbox_ready())
		return true;
	reply_unavailable(r, "QuickBooks is not configured on this server");
	return false;
}

/* Who asked: the principal's directory and object ids. */
static const char *user_key(struct request *r)
{
	return arena_printf(&r->arena, "%s/%s", r->principal.tid, r->principal.oid);
}

static void connect_quickbooks(struct request *r)
{
	const char *tenant = r->params[0];
	if (!configured_or_reply(r))
		return;
	unsigned char raw[32];
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		reply_internal(r);
		return;
	}
	char *state = util_b64url_encode(raw, sizeof(raw));
	char hash[65];
	util_sha256_hex(state, strlen(state), hash);
	struct db_conn *c = req_db_or_reply(r, DB_BILLING, tenant);
	if (c == NULL) {
		free(state);
		return;
	}
	if (!quickbooks_state_put(c, hash, tenant, user_key(r), cfg.quickbooks_state_ttl_s)) {
		free(state);
		reply_db_failed(r, DB_BILLING);
		return;
	}
	char *cid = query_escape(&r->arena, cfg.quickbooks_client_id);
	char *ru = query_escape(&r->arena, cfg.quickbooks_redirect_uri);
	char *url = arena_printf(&r->arena, "%s%sclient_id=%s&response_type=code&scope=%s&redirect_uri=%s&state=%s",
				 cfg.quickbooks_auth_url, strchr(cfg.quickbooks_auth_url, '?') ? "&" : "?", cid,
				 QB_SCOPE, ru, state);
	free(state);
	reply_json(r, 200, json_pack("{s:s, s:s, s:i}", "authorize_url", url, "redirect_uri",
				     cfg.quickbooks_redirect_uri, "expires_in", cfg.quickbooks_state_ttl_s));
}

static bool visible_ascii(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

static bool digits(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void state_invalid(struct request *r, const char *detail)
{
	reply_problem(r, 400, "oauth-state-invalid", "Invalid connection state", detail, NULL);
}

static void bad_param(struct request *r, const char *field, const char *message)
{
	json_t *errors = NULL;
	problem_add_error(&errors, field, message);
	reply_problem(r, 400, "invalid-query", "Bad Request",
		      arena_printf(&r->arena, "The query parameter %s is invalid.", field), errors);
}

static void callback_quickbooks(struct request *r)
{
	const char *state = req_query(r, "state");
	const char *code = req_query(r, "code");
	const char *realm = req_query(r, "realmId");
	const char *error = req_query(r, "error");
	if (!configured_or_reply(r))
		return;
	if (!visible_ascii(state, 128)) {
		bad_param(r, "state", "must be the state this server issued");
		return;
	}
	char hash[65], tenant[37], who[96];
	util_sha256_hex(state, strlen(state), hash);
	bool fresh = false;
	struct db_conn *b = req_db_or_reply(r, DB_BILLING, "*");
	if (b == NULL)
		return;
	/* Consumed here whatever follows: a state works once. */
	switch (quickbooks_state_take(b, hash, tenant, who, &fresh)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		state_invalid(r, "The state is unknown or was already used: start the connection again.");
		return;
	default:
		reply_db_failed(r, DB_BILLING);
		return;
	}
	if (!fresh) {
		state_invalid(r, "The state expired: start the connection again.");
		return;
	}
	if (strcmp(who, user_key(r)) != 0) {
		reply_forbidden(r, "This connection was started by another user.");
		return;
	}
	if (error) {
		state_invalid(r, "Intuit did not grant access (the consent was refused or failed).");
		return;
	}
	if (!visible_ascii(code, 512)) {
		bad_param(r, "code", "must be the authorization code Intuit sent");
		return;
	}
	if (!digits(realm, 32)) {
		bad_param(r, "realmId", "must be the QuickBooks company id Intuit sent (digits)");
		return;
	}
	struct db_conn *p = req_db_or_reply(r, DB_PORTAL, "*");
	if (p == NULL)
		return;
	if (!db_begin(p)) {
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	bool set = false;
	switch (portal_tenant_claim_realm(p, tenant, realm, &set)) {
	case ST_OK:
		break;
	case ST_CONFLICT: {
		db_rollback(p);
		json_t *errors = NULL;
		problem_add_error(&errors, "realmId",
				  "this QuickBooks company belongs to another tenant, or the tenant has another company");
		reply_problem(r, 409, "conflict", "Conflict",
			      "The QuickBooks company is already mapped to another tenant, or this tenant is mapped to another company.",
			      errors);
		return;
	}
	case ST_NOT_FOUND:
		db_rollback(p);
		reply_not_found(r);
		return;
	default:
		db_rollback(p);
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	char aad[96];
	snprintf(aad, sizeof(aad), "%s%s", QB_AAD_CODE, tenant);
	char *sealed = secretbox_seal(aad, code);
	/* Committed before the job exists, so the worker always finds it. */
	bool ok = sealed && quickbooks_connecting(b, tenant, realm, sealed, user_key(r));
	free(sealed);
	if (!ok) {
		db_rollback(p);
		reply_db_failed(r, DB_BILLING);
		return;
	}
	char job_id[37];
	json_t *payload = json_object();
	struct audit_ctx a = handler_audit_ctx(r);
	json_t *changes = json_pack("{s:s, s:b}", "realm_id", realm, "realm_id_set", set);
	/* A company newly mapped here: its events that arrived unmatched are
	 * processed again, as when a super admin sets the realm by PATCH. */
	ok = jobs_enqueue(p, QUICKBOOKS_CONNECT_JOB, tenant, payload, r->request_id, job_id) &&
	     (!set || webhooks_queue_rematch(p, tenant, "quickbooks", realm, r->request_id)) &&
	     portal_audit_record(p, tenant, &a, "integration.connect", "integration", "quickbooks", changes) &&
	     db_commit(p);
	json_decref(payload);
	json_decref(changes);
	if (!ok) {
		db_rollback(p);
		quickbooks_conn_fail(b, tenant, "error", "the connection could not be queued; connect again");
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	reply_empty(r, 303);
	reply_header(r, "Location",
		     arena_printf(&r->arena, "%s/app/tenants/%s/billing?quickbooks=connecting", cfg.public_url, tenant));
	reply_header(r, "Cache-Control", "no-store");
}

/* The integration of a tenant that never connected. */
static const char NEVER_CONNECTED[] =
	"{\"provider\":\"quickbooks\",\"status\":\"disconnected\",\"realm_id\":null,"
	"\"connected_at\":null,\"last_sync_at\":null,\"last_error\":null,\"updated_at\":null}";

static void list_integrations(struct request *r)
{
	const char *tenant = r->params[0];
	struct db_conn *c = req_db_or_reply(r, DB_BILLING, tenant);
	if (c == NULL)
		return;
	char *json = NULL;
	switch (quickbooks_connection_get(c, tenant, &r->arena, &json)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		json = (char *)NEVER_CONNECTED;
		break;
	default:
		reply_db_failed(r, DB_BILLING);
		return;
	}
	reply_json_text(r, 200, arena_printf(&r->arena, "{\"data\":[%s]}", json));
}

static void disconnect_quickbooks(struct request *r)
{
	const char *tenant = r->params[0];
	struct db_conn *c = req_db_or_reply(r, DB_BILLING, tenant);
	if (c == NULL)
		return;
	char *json = NULL;
	bool revoke = false;
	switch (quickbooks_disconnect(c, tenant, "disconnected by a user", &r->arena, &json, &revoke)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND: /* never connected: already what was asked */
		reply_json_text(r, 200, NEVER_CONNECTED);
		return;
	default:
		reply_db_failed(r, DB_BILLING);
		return;
	}
	if (revoke) {
		/* The token is out of use already; revoking it at Intuit is the
		 * worker's. If queueing fails the next connect queues it again. */
		struct db_conn *p = req_db(r, DB_PORTAL, tenant);
		char job_id[37];
		json_t *payload = json_object();
		if (p == NULL || !jobs_enqueue(p, QUICKBOOKS_REVOKE_JOB, tenant, payload, r->request_id, job_id))
			log_warn("quickbooks: tenant %s: could not queue the token revocation", tenant);
		json_decref(payload);
	}
	handler_audit(r, tenant, "integration.disconnect", "integration", "quickbooks", NULL);
	reply_json_text(r, 200, json);
}

#define ADMINS ROLE_TENANT_ADMIN
#define READERS (ROLE_TENANT_ADMIN | ROLE_BILLING_VIEWER)

const struct route integrations_routes[] = {
	{HTTP_POST, "/v1/tenants/{tenant_id}/integrations/quickbooks/connect", connect_quickbooks,
	 AUTH_REQUIRED, ADMINS, BODY_NONE, "integrations.quickbooks.connect"},
	{HTTP_GET, "/v1/integrations/quickbooks/callback", callback_quickbooks, AUTH_REQUIRED, ROLE_ANY,
	 BODY_NONE, "integrations.quickbooks.callback"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/integrations", list_integrations, AUTH_REQUIRED, READERS,
	 BODY_NONE, "integrations.list"},
	{HTTP_DELETE, "/v1/tenants/{tenant_id}/integrations/quickbooks", disconnect_quickbooks, AUTH_REQUIRED,
	 ADMINS, BODY_NONE, "integrations.quickbooks.disconnect"},
};
const size_t integrations_routes_len = sizeof(integrations_routes) / sizeof(integrations_routes[0]);
