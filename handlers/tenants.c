/*
 * tenants.c - /v1/tenants: create, list, read, update, soft-delete.
 *
 * Super admins see and manage every tenant; anyone else sees only the
 * tenant of their own directory, and a tenant admin may update its
 * settings but not its status.
 */
#include "handlers/handlers.h"
#include "services/namespaces.h"
#include "server/jobs/jobs.h"
#include "services/pax8.h"
#include "services/webhooks.h"
#include "server/store/idempotency.h"
#include "server/common/log.h"
#include "server/http/reply.h"
#include "server/http/validate.h"

#include <string.h>

static const char *const create_status[] = {"active", "suspended", "deleted", NULL};
static const char *const patch_status[] = {"active", "suspended", NULL};

static const struct field_spec create_fields[] = {
	{"slug", FT_DNS_LABEL, F_REQUIRED, 1, 63, NULL},
	{"name", FT_STRING, F_REQUIRED, 1, 200, NULL},
	{"aad_tenant_id", FT_UUID, F_REQUIRED, 0, 0, NULL},
	{"aad_admin_group_id", FT_UUID, 0, 0, 0, NULL},
	{"tags", FT_STRING_MAP, 0, 0, 50, NULL},
	{"quickbooks_realm_id", FT_STRING, 0, 1, 64, NULL},
	{"pax8_company_id", FT_STRING, 0, 1, 64, NULL},
	{"namespace_quota", FT_INTEGER, F_NULLABLE, 0, 100000, NULL},
	{"id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"status", FT_ENUM, F_READONLY, 0, 0, create_status},
	{"created_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"updated_at", FT_STRING, F_READONLY, 0, 0, NULL},
};

static const struct field_spec patch_fields[] = {
	{"name", FT_STRING, 0, 1, 200, NULL},
	{"status", FT_ENUM, 0, 0, 0, patch_status},
	{"tags", FT_STRING_MAP_PATCH, 0, 0, 50, NULL},
	{"aad_admin_group_id", FT_UUID, F_NULLABLE, 0, 0, NULL},
	{"quickbooks_realm_id", FT_STRING, F_NULLABLE, 1, 64, NULL},
	{"pax8_company_id", FT_STRING, F_NULLABLE, 1, 64, NULL},
	{"namespace_quota", FT_INTEGER, F_NULLABLE, 0, 100000, NULL},
	{"id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"slug", FT_DNS_LABEL, F_READONLY, 0, 0, NULL},
	{"aad_tenant_id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"created_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"updated_at", FT_STRING, F_READONLY, 0, 0, NULL},
};

#define NFIELDS(a) (sizeof(a) / sizeof(a[0]))

static void reply_conflict(struct request *r, const char *field)
{
	json_t *errors = NULL;
	const char *detail = "A tenant with these values already exists.";
	if (field && *field) {
		problem_add_error(&errors, field, "is already used by another tenant");
		detail = "Another tenant already uses this value; see errors.";
	}
	reply_problem(r, 409, "conflict", "Conflict", detail, errors);
}

static void reply_tenant(struct request *r, int status, const struct tenant_out *t)
{
	reply_json_text(r, status, t->json);
	reply_header(r, "ETag", handler_etag(r, t->version));
}

/* Jobs that follow a billing account being set on tenant `tid`, on the
 * caller's transaction: the account's unmatched webhook events are
 * re-processed; a Pax8 company is pulled at once. */
static bool queue_billing_followups(struct db_conn *c, const char *tid, const char *realm,
				    const char *company, const char *request_id)
{
	if (realm && !webhooks_queue_rematch(c, tid, "quickbooks", realm, request_id))
		return false;
	if (company && (!webhooks_queue_rematch(c, tid, "pax8", company, request_id) ||
			!pax8_queue_pull_company(c, tid, company, request_id)))
		return false;
	return true;
}

static void create_tenant(struct request *r)
{
	if (!validate_body_or_reply(r, r->json, create_fields, NFIELDS(create_fields), 0))
		return;
	const char *key;
	if (!handler_idem_key_or_reply(r, &key))
		return;
	struct db_conn *c = req_db_or_reply(r, DB_PORTAL, "*");
	if (c == NULL)
		return;
	char *scope = arena_printf(&r->arena, "%s:%s", r->principal.tid, r->principal.oid);
	const char *realm = json_string_value(json_object_get(r->json, "quickbooks_realm_id"));
	const char *company = json_string_value(json_object_get(r->json, "pax8_company_id"));
	bool in_tx = key || realm || company;
	if (in_tx && !db_begin(c)) {
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	if (key && !handler_idem_claim_or_reply(r, c, scope, key, NULL, NULL))
		return;
	struct audit_ctx a = handler_audit_ctx(r);
	struct tenant_out t;
	const char *conflict = NULL;
	enum status st = portal_tenant_create(c, r->json, &a, &r->arena, &t, &conflict);
	if (st == ST_OK && !queue_billing_followups(c, t.id, realm, company, r->request_id))
		st = ST_UNAVAILABLE;
	if (st != ST_OK) {
		db_rollback(c);
		if (st == ST_CONFLICT)
			reply_conflict(r, conflict);
		else
			reply_db_failed(r, DB_PORTAL);
		return;
	}
	char *location = arena_printf(&r->arena, "/v1/tenants/%s", t.id);
	char *etag = handler_etag(r, t.version);
	if ((key && !idem_finish(c, scope, key, 201, t.json, location, etag)) ||
	    (in_tx && !db_commit(c))) {
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	reply_json_text(r, 201, t.json);
	reply_header(r, "ETag", etag);
	reply_header(r, "Location", location);
}

/* Members see a tenant's summary; its directory, admin group and billing
 * accounts are for the roles that manage, support or bill it. */
static bool tenant_full_view(const struct principal *p)
{
	return (p->roles & (ROLE_SUPER_ADMIN | ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER |
			    ROLE_BILLING_VIEWER)) != 0;
}

static void list_tenants(struct request *r)
{
	struct tenant_filter f = {0};
	if (!validate_limit_or_reply(r, 20, 100, &f.limit) || !page_cursor_or_reply(r, &f.cursor))
		return;
	f.status = req_query(r, "status");
	f.slug = req_query(r, "slug");
	if (f.status && strcmp(f.status, "active") != 0 && strcmp(f.status, "suspended") != 0 &&
	    strcmp(f.status, "deleting") != 0 && strcmp(f.status, "deleted") != 0) {
		json_t *errors = NULL;
		problem_add_error(&errors, "status", "must be active, suspended, deleting or deleted");
		reply_problem(r, 400, "invalid-query", "Bad Request", "The query parameter status is invalid.", errors);
		return;
	}
	if (f.slug && !util_is_dns_label(f.slug)) {
		json_t *errors = NULL;
		problem_add_error(&errors, "slug", "must be a DNS label");
		reply_problem(r, 400, "invalid-query", "Bad Request", "The query parameter slug is invalid.", errors);
		return;
	}
	bool super = r->principal.roles & ROLE_SUPER_ADMIN;
	const char *scope = super ? "*" : r->principal.tenant_id;
	f.member_view = !tenant_full_view(&r->principal);
	if (!super && r->principal.tenant_id[0] == '\0') {
		reply_json_text(r, 200, "{\"data\":[],\"next_cursor\":null}");
		return;
	}
	f.only_id = super ? NULL : r->principal.tenant_id;
	struct db_conn *c = req_db(r, DB_PORTAL, scope);
	char *page = NULL;
	if (c == NULL || portal_tenant_list(c, &f, &r->arena, &page) != ST_OK) {
		reply_db_unreachable(r, DB_PORTAL);
		return;
	}
	reply_json_text(r, 200, page);
}

static void get_tenant(struct request *r)
{
	const char *id = r->params[0];
	bool super = r->principal.roles & ROLE_SUPER_ADMIN;
	struct db_conn *c = req_db_or_reply(r, DB_PORTAL, super ? "*" : r->principal.tenant_id);
	if (c == NULL)
		return;
	struct tenant_out t;
	enum status st = portal_tenant_get(c, id, tenant_full_view(&r->principal), &r->arena, &t);
	switch (st) {
	case ST_OK:
		reply_tenant(r, 200, &t);
		return;
	default:
		reply_status(r, st, DB_PORTAL);
		return;
	}
}

static void patch_tenant(struct request *r)
{
	const char *id = r->params[0];
	bool super = r->principal.roles & ROLE_SUPER_ADMIN;
	if (!super && !(r->principal.roles & ROLE_TENANT_ADMIN)) {
		reply_forbidden(r, "Only a tenant admin or a super admin may change a tenant.");
		return;
	}
	if (!validate_body_or_reply(r, r->json, patch_fields, NFIELDS(patch_fields), 1))
		return;
	if (!super && json_object_get(r->json, "status")) {
		reply_forbidden(r, "Only a super admin may change a tenant's status.");
		return;
	}
	/* The billing accounts route the providers' webhooks to a tenant: a
	 * tenant admin who set another customer's realm or company id would
	 * receive that customer's billing events. They are the operator's. */
	if (!super && (json_object_get(r->json, "quickbooks_realm_id") ||
		       json_object_get(r->json, "pax8_company_id"))) {
		reply_forbidden(r, "Only a super admin may set a tenant's QuickBooks realm or Pax8 company id.");
		return;
	}
	if (!super && json_object_get(r->json, "namespace_quota")) {
		reply_forbidden(r, "Only a super admin may set a tenant's namespace quota.");
		return;
	}
	long long if_match;
	if (!handler_if_match_or_reply(r, &if_match))
		return;
	struct db_conn *c = req_db_or_reply(r, DB_PORTAL, super ? "*" : r->principal.tenant_id);
	if (c == NULL)
		return;
	struct audit_ctx a = handler_audit_ctx(r);
	struct tenant_out t;
	const char *conflict = NULL;
	/* A new admin group must reach the namespaces' role assignments: the
	 * worker re-grants them, queued in the change's own transaction. */
	bool regrant = json_object_get(r->json, "aad_admin_group_id") != NULL;
	/* A billing account set now may have events waiting unmatched: they are
	 * re-processed, and a Pax8 company is pulled, queued with the change. */
	const char *realm = json_string_value(json_object_get(r->json, "quickbooks_realm_id"));
	const char *company = json_string_value(json_object_get(r->json, "pax8_company_id"));
	bool in_tx = regrant || realm || company;
	if (in_tx && !db_begin(c)) {
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	enum status st = portal_tenant_update(c, id, r->json, if_match, &a, &r->arena, &t, &conflict);
	if (in_tx) {
		int queued = 0;
		if (st == ST_OK && regrant && !namespaces_queue_regrant(c, id, r->request_id, &queued))
			st = ST_UNAVAILABLE;
		if (st == ST_OK && !queue_billing_followups(c, t.id, realm, company, r->request_id))
			st = ST_UNAVAILABLE;
		if (st == ST_OK && !db_commit(c))
			st = ST_UNAVAILABLE;
		if (st != ST_OK)
			db_rollback(c);
	}
	switch (st) {
	case ST_OK:
		if (json_object_get(r->json, "status"))
			auth_cache_clear();
		reply_tenant(r, 200, &t);
		return;
	case ST_CONFLICT:
		reply_conflict(r, conflict);
		return;
	case ST_GONE:
		reply_problem(r, 409, "tenant-deleted", "Conflict", "A deleted tenant, or one being deleted, cannot be changed.", NULL);
		return;
	case ST_INVALID: {
		json_t *errors = NULL;
		problem_add_error(&errors, "tags", "a tenant has at most 50 tags");
		reply_problem(r, 422, "validation", "Unprocessable Content",
			      "The request body has invalid fields; see errors.", errors);
		return;
	}
	default:
		reply_status(r, st, DB_PORTAL);
		return;
	}
}

/*
 * DELETE: a tenant without namespaces is deleted at once (204). One with
 * namespaces becomes `deleting` and a TENANT_OFFBOARD job deprovisions
 * them all, then deletes it (202, Location: the job). Asked again while it
 * runs: the same 202; after that job failed: a new one. Deleted: 204.
 */
static void delete_tenant(struct request *r)
{
	const char *id = r->params[0];
	if (!util_is_uuid(id)) {
		reply_not_found(r);
		return;
	}
	struct db_conn *c = req_db(r, DB_PORTAL, "*");
	if (c == NULL || !db_begin(c)) {
		reply_db_unreachable(r, DB_PORTAL);
		return;
	}
	struct tenant_deletion d;
	switch (portal_tenant_delete_lock(c, id, &d)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		db_rollback(c);
		reply_not_found(r);
		return;
	default:
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	if (strcmp(d.status, "deleted") == 0) {
		db_rollback(c);
		reply_empty(r, 204);
		return;
	}
	struct audit_ctx a = handler_audit_ctx(r);
	struct tenant_out t;
	char job_id[37] = "";
	bool offboard = d.live_namespaces > 0;
	if (offboard && strcmp(d.status, "deleting") == 0 && strcmp(d.job_status, "failed") != 0 &&
	    strcmp(d.job_status, "succeeded") != 0) {
		/* Its offboarding runs: the same answer as the DELETE that started it. */
		db_rollback(c);
		if (portal_tenant_get(c, id, true, &r->arena, &t) != ST_OK) {
			reply_db_failed(r, DB_PORTAL);
			return;
		}
		reply_tenant(r, 202, &t);
		reply_header(r, "Location", arena_printf(&r->arena, "/v1/tenants/%s", id));
		return;
	}
	if (offboard) {
		json_t *payload = req_own_json(r, json_object());
		if (!jobs_enqueue(c, TENANT_OFFBOARD, id, payload, r->request_id, job_id)) {
			db_rollback(c);
			reply_db_failed(r, DB_PORTAL);
			return;
		}
	}
	if (portal_tenant_delete(c, id, offboard ? job_id : NULL, &a, &r->arena, &t) != ST_OK ||
	    !db_commit(c)) {
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	auth_cache_clear();
	if (!offboard) {
		reply_empty(r, 204);
		return;
	}
	reply_tenant(r, 202, &t);
	reply_header(r, "Location", arena_printf(&r->arena, "/v1/tenants/%s", id));
}

const struct route tenants_routes[] = {
	{HTTP_POST, "/v1/tenants", create_tenant, AUTH_REQUIRED, ROLE_SUPER_ADMIN, BODY_JSON, "tenants.create"},
	{HTTP_GET, "/v1/tenants", list_tenants, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "tenants.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}", get_tenant, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "tenants.get"},
	{HTTP_PATCH, "/v1/tenants/{tenant_id}", patch_tenant, AUTH_REQUIRED, ROLE_ANY, BODY_JSON, "tenants.update"},
	{HTTP_DELETE, "/v1/tenants/{tenant_id}", delete_tenant, AUTH_REQUIRED, ROLE_SUPER_ADMIN, BODY_NONE, "tenants.delete"},
};
const size_t tenants_routes_len = sizeof(tenants_routes) / sizeof(tenants_routes[0]);

const struct body_table tenants_bodies[] = {
	{"tenants.create", create_fields, NFIELDS(create_fields), 0},
	{"tenants.update", patch_fields, NFIELDS(patch_fields), 1},
};
const size_t tenants_bodies_len = sizeof(tenants_bodies) / sizeof(tenants_bodies[0]);
