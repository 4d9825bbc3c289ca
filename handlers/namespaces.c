/*
 * namespaces.c - /v1/tenants/{tenant_id}/namespaces: create (202, queues
 * the provisioning job), list, read, delete (202, queues the
 * deprovisioning job).
 *
 * {namespace} in a path is the namespace's name or its id; names may not
 * look like UUIDs, so the two never clash. By name, the live namespace is
 * meant (a deleted one only when no live one has that name).
 *
 * Sizes (small, medium, large) are the platform's table in
 * services/namespaces.c; PATCH {"size"} re-applies a ready namespace's
 * resources through a namespace.update job (202). A prod namespace is
 * created pending_approval; a super admin approves it (its provision job
 * is queued: 202) or rejects it (rejected, with the reason: 200).
 *
 * A ready namespace whose drift repair keeps failing is degraded; it
 * behaves as ready here.
 *
 * DELETE semantics:
 *   pending_approval, rejected -> deleted at once (nothing in Azure): 200
 *   ready, failed            -> deprovisioning, a new job: 202
 *   deprovisioning           -> nothing changes; 202 with its current job
 *   pending (job not running) -> the provision job is canceled and a
 *                               deprovision job queued (it removes
 *                               whatever the first attempts made): 202
 *   pending/provisioning with the job running -> 409 (retry when the
 *                               status is ready or failed)
 *   deleted (or unknown)     -> 404
 * Handlers never call Azure: the worker does (workers/namespace_jobs.c).
 */
#include "handlers/handlers.h"
#include "server/store/idempotency.h"
#include "server/jobs/jobs.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "services/namespaces.h"
#include "server/http/reply.h"
#include "server/http/validate.h"

#include <stdio.h>
#include <string.h>

static const char *const environments[] = {"dev", "staging", "prod", NULL};
static const char *const statuses[] = {"pending_approval", "rejected", "pending", "provisioning",
				       "ready", "updating", "degraded", "failed", "deprovisioning",
				       "deleted", NULL};
static const char *const sizes[] = {"small", "medium", "large", NULL};

static const struct field_spec create_fields[] = {
	{"name", FT_DNS_LABEL, F_REQUIRED, 1, 63, NULL},
	{"environment", FT_ENUM, F_REQUIRED, 0, 0, environments},
	{"location", FT_STRING, F_REQUIRED, 2, 40, NULL},
	{"size", FT_ENUM, 0, 0, 0, sizes},
	{"expires_at", FT_TIMESTAMP, F_NULLABLE, 0, 0, NULL},
	{"id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"tenant_id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"status", FT_ENUM, F_READONLY, 0, 0, statuses},
	{"resource_group", FT_STRING, F_READONLY, 0, 0, NULL},
	{"resources", FT_STRING, F_READONLY, 0, 0, NULL},
	{"last_error", FT_STRING, F_READONLY, 0, 0, NULL},
	{"job_id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"kubernetes", FT_STRING, F_READONLY, 0, 0, NULL},
	{"approval", FT_STRING, F_READONLY, 0, 0, NULL},
	{"created_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"updated_at", FT_STRING, F_READONLY, 0, 0, NULL},
};

/* PATCH: the size and/or a dev namespace's expiry. */
static const struct field_spec patch_fields[] = {
	{"size", FT_ENUM, 0, 0, 0, sizes},
	{"expires_at", FT_TIMESTAMP, F_NULLABLE, 0, 0, NULL},
};

/* A 422 naming expires_at. */
static void reply_bad_expiry(struct request *r, const char *message)
{
	json_t *errors = NULL;
	problem_add_error(&errors, "expires_at", message);
	reply_problem(r, 422, "validation", "Unprocessable Content",
		      "The request body has invalid fields; see errors.", errors);
}

/*
 * expires_at of a create or PATCH, in the open transaction: only a dev
 * namespace expires, at a time in the future at most 30 days ahead (null:
 * never). False after rolling back and replying.
 */
static bool expiry_ok_or_reply(struct request *r, struct db_conn *c, const char *env)
{
	json_t *v = json_object_get(r->json, "expires_at");
	if (v == NULL || json_is_null(v))
		return true;
	if (strcmp(env, "dev") != 0) {
		db_rollback(c);
		reply_bad_expiry(r, "only a dev namespace expires");
		return false;
	}
	switch (namespaces_expiry_check(c, json_string_value(v))) {
	case ST_OK:
		return true;
	case ST_INVALID:
		db_rollback(c);
		reply_bad_expiry(r, "must be in the future, at most 30 days ahead");
		return false;
	default:
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return false;
	}
}

/* approve (reason optional) and reject (reason required). */
static const struct field_spec approve_fields[] = {
	{"reason", FT_STRING, 0, 1, 500, NULL},
};
static const struct field_spec reject_fields[] = {
	{"reason", FT_STRING, F_REQUIRED, 1, 500, NULL},
};

/* quota: an object of optional limits, or null for none. */
static const struct field_spec quota_fields[] = {
	{"cpu_cores", FT_INTEGER, 0, 1, 1024, NULL},
	{"memory_gib", FT_INTEGER, 0, 1, 65536, NULL},
	{"storage_gib", FT_INTEGER, 0, 1, 1048576, NULL},
};

#define NFIELDS(a) (sizeof(a) / sizeof(a[0]))

static const struct field_spec *find_spec(const struct field_spec *specs, size_t n,
					  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(specs[i].name, name) == 0)
			return &specs[i];
	return NULL;
}

/* An Azure region as ARM names it: "westeurope", "eastus2". */
static bool is_region(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 40 || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static void check_quota(json_t *q, json_t **errors)
{
	if (json_is_null(q))
		return;
	if (!json_is_object(q)) {
		problem_add_error(errors, "quota", "must be an object or null");
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach(q, key, v) {
		char field[160];
		snprintf(field, sizeof(field), "quota.%.120s", key);
		const struct field_spec *f = find_spec(quota_fields, NFIELDS(quota_fields), key);
		const char *msg = f ? validate_value(f, v) : "is not a known field";
		if (msg)
			problem_add_error(errors, field, msg);
	}
}

/* The create body: the field table, quota, and the checks the table
 * cannot express. False after answering 422 naming every bad field. */
static bool check_create_or_reply(struct request *r)
{
	json_t *errors = NULL;
	const char *key;
	json_t *v;
	json_object_foreach(r->json, key, v) {
		if (strcmp(key, "quota") == 0) {
			check_quota(v, &errors);
			continue;
		}
		const struct field_spec *f = find_spec(create_fields, NFIELDS(create_fields), key);
		const char *msg = f == NULL ? "is not a known field"
				  : (f->flags & F_READONLY) ? "is read-only"
							    : validate_value(f, v);
		if (msg)
			problem_add_error(&errors, key, msg);
	}
	for (size_t i = 0; i < NFIELDS(create_fields); i++)
		if ((create_fields[i].flags & F_REQUIRED) &&
		    json_object_get(r->json, create_fields[i].name) == NULL)
			problem_add_error(&errors, create_fields[i].name, "is required");
	const char *name = json_string_value(json_object_get(r->json, "name"));
	if (name && util_is_uuid(name))
		problem_add_error(&errors, "name", "must not have the form of a UUID");
	const char *loc = json_string_value(json_object_get(r->json, "location"));
	if (loc && !is_region(loc))
		problem_add_error(&errors, "location",
				  "must be an Azure region name: lower-case letters and digits, "
				  "e.g. westeurope");
	if (errors == NULL)
		return true;
	reply_problem(r, 422, "validation", "Unprocessable Content",
		      "The request body has invalid fields; see errors.", errors);
	return false;
}

static void reply_namespace(struct request *r, int status, const char *tenant,
			    const struct ns_out *n)
{
	reply_json_text(r, status, n->json);
	reply_header(r, "ETag", handler_etag(r, n->version));
	if (status == 202)
		reply_header(r, "Location",
			     arena_printf(&r->arena, "/v1/tenants/%s/namespaces/%s", tenant, n->id));
}

static void reply_conflict(struct request *r, const char *field, const char *detail)
{
	json_t *errors = NULL;
	if (field)
		problem_add_error(&errors, field, "is already used by another namespace of this tenant");
	reply_problem(r, 409, "conflict", "Conflict", detail, errors);
}

/* Creates the namespace and queues its job, inside the open transaction.
 * Replies on failure (after rolling back) and returns false. */
static bool create_in_tx_or_reply(struct request *r, struct db_conn *c, const char *tenant,
				  struct ns_out *n)
{
	char slug[64], tstatus[16];
	int live = 0, quota = -1;
	switch (namespaces_tenant_lock(c, tenant, slug, tstatus, &live, &quota)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		db_rollback(c);
		reply_not_found(r);
		return false;
	default:
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return false;
	}
	if (strcmp(tstatus, "deleted") == 0 || strcmp(tstatus, "deleting") == 0) {
		db_rollback(c);
		reply_problem(r, 409, "tenant-deleted", "Conflict",
			      "A deleted tenant, or one being deleted, cannot have new namespaces.", NULL);
		return false;
	}
	/* The tenant's own quota when the operator set one, else the
	 * platform's default. */
	int cap = quota >= 0 ? quota : cfg.namespaces_per_tenant;
	if (live >= cap) {
		db_rollback(c);
		char *detail = arena_printf(&r->arena,
					    "This tenant has %d namespaces, its limit (%s); delete one first.",
					    live, quota >= 0 ? "the tenant's namespace_quota"
							     : "ATRIUM_NAMESPACES_PER_TENANT");
		reply_problem(r, 409, "namespace-quota-exceeded", "Conflict", detail, NULL);
		return false;
	}
	char id[37], job_id[37] = "";
	util_uuid_v4(id);
	/* prod waits for a super admin's approval before anything is made. */
	const char *env = json_string_value(json_object_get(r->json, "environment"));
	if (!expiry_ok_or_reply(r, c, env))
		return false;
	bool needs_approval = strcmp(env, "prod") == 0;
	const char *size = json_string_value(json_object_get(r->json, "size"));
	const struct ns_size *z = namespaces_size(size ? size : "small");
	json_t *payload = req_own_json(r, json_pack("{s:s}", "namespace_id", id));
	bool queued = needs_approval ||
		      jobs_enqueue(c, NAMESPACE_PROVISION, tenant, payload, r->request_id, job_id);
	if (!queued) {
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return false;
	}
	const char *name = json_string_value(json_object_get(r->json, "name"));
	struct audit_ctx a = handler_audit_ctx(r);
	enum status st = ST_CONFLICT;
	const char *conflict = "resource_group";
	/* Plain Azure names first; if another tenant's namespace holds them,
	 * the hashed form, unique to this tenant and name. */
	for (int hashed = 0; hashed < 2 && st == ST_CONFLICT &&
			     strcmp(conflict, "resource_group") == 0;
	     hashed++) {
		struct ns_names names;
		namespaces_names(slug, name, tenant, hashed, &names);
		/* The Kubernetes namespace is named as the Azure resources are
		 * ("<slug>-<name>", or the hashed form): unique in the cluster. */
		json_t *k8s = cfg.aks_cluster_id
				      ? req_own_json(r, namespaces_kubernetes_json(cfg.aks_cluster_id,
										   names.key, z))
				      : NULL;
		st = namespaces_create(c, tenant, id, r->json, &names,
				       needs_approval ? NULL : job_id,
				       needs_approval ? "pending_approval" : "pending", z->name, k8s,
				       &a, &r->arena, n, &conflict);
	}
	if (st == ST_OK)
		return true;
	db_rollback(c);
	if (st == ST_CONFLICT && strcmp(conflict, "name") == 0)
		reply_conflict(r, "name", "This tenant already has a namespace with this name.");
	else if (st == ST_CONFLICT)
		reply_conflict(r, NULL, "The namespace's Azure names are already in use.");
	else if (st == ST_NOT_FOUND)
		reply_not_found(r);
	else
		reply_db_failed(r, DB_PORTAL);
	return false;
}

static void create_namespace(struct request *r)
{
	const char *tenant = r->params[0];
	if (!check_create_or_reply(r))
		return;
	const char *key;
	if (!handler_idem_key_or_reply(r, &key))
		return;
	struct db_conn *c = req_db_or_reply(r, DB_PORTAL, tenant);
	if (c == NULL)
		return;
	if (!db_begin(c)) {
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	char *scope = arena_printf(&r->arena, "%s:%s", r->principal.tid, r->principal.oid);
	if (key && !handler_idem_claim_or_reply(r, c, scope, key, NULL, NULL))
		return;
	struct ns_out n;
	if (!create_in_tx_or_reply(r, c, tenant, &n))
		return;
	char *location = arena_printf(&r->arena, "/v1/tenants/%s/namespaces/%s", tenant, n.id);
	char *etag = handler_etag(r, n.version);
	if ((key && !idem_finish(c, scope, key, 202, n.json, location, etag)) || !db_commit(c)) {
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	reply_namespace(r, 202, tenant, &n);
}

static bool bad_query(struct request *r, const char *field, const char *message)
{
	json_t *errors = NULL;
	problem_add_error(&errors, field, message);
	char *detail = arena_printf(&r->arena, "The query parameter %s is invalid.", field);
	reply_problem(r, 400, "invalid-query", "Bad Request", detail, errors);
	return false;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static void list_namespaces(struct request *r)
{
	struct ns_filter f = {0};
	f.tenant_id = r->params[0];
	if (!validate_limit_or_reply(r, 20, 100, &f.limit) || !page_cursor_or_reply(r, &f.cursor))
		return;
	f.status = req_query(r, "status");
	f.environment = req_query(r, "environment");
	f.name = req_query(r, "name");
	if (f.status && !in_list(statuses, f.status)) {
		bad_query(r, "status", "must be pending_approval, rejected, pending, provisioning, ready, "
				       "updating, degraded, failed, deprovisioning or deleted");
		return;
	}
	if (f.environment && !in_list(environments, f.environment)) {
		bad_query(r, "environment", "must be dev, staging or prod");
		return;
	}
	if (f.name && !util_is_dns_label(f.name)) {
		bad_query(r, "name", "must be a DNS label");
		return;
	}
	struct db_conn *c = req_db(r, DB_PORTAL, f.tenant_id);
	char *page = NULL;
	if (c == NULL || namespaces_list(c, &f, &r->arena, &page) != ST_OK) {
		reply_db_unreachable(r, DB_PORTAL);
		return;
	}
	reply_json_text(r, 200, page);
}

/* Classifies {namespace}: false (after a 404) when it is neither a name
 * nor an id. */
static bool namespace_key_or_reply(struct request *r, const char *key, bool *is_id)
{
	*is_id = util_is_uuid(key);
	if (*is_id || util_is_dns_label(key))
		return true;
	reply_not_found(r);
	return false;
}

static void get_namespace(struct request *r)
{
	const char *tenant = r->params[0], *key = r->params[1];
	bool is_id;
	if (!namespace_key_or_reply(r, key, &is_id))
		return;
	struct db_conn *c = req_db_or_reply(r, DB_PORTAL, tenant);
	if (c == NULL)
		return;
	struct ns_out n;
	switch (namespaces_get(c, tenant, key, is_id, &r->arena, &n)) {
	case ST_OK:
		reply_namespace(r, 200, tenant, &n);
		return;
	case ST_NOT_FOUND:
		reply_not_found(r);
		return;
	default:
		reply_db_failed(r, DB_PORTAL);
		return;
	}
}

static void delete_namespace(struct request *r)
{
	const char *tenant = r->params[0], *key = r->params[1];
	bool is_id;
	if (!namespace_key_or_reply(r, key, &is_id))
		return;
	struct db_conn *c = req_db(r, DB_PORTAL, tenant);
	if (c == NULL || !db_begin(c)) {
		reply_db_unreachable(r, DB_PORTAL);
		return;
	}
	struct ns_out n;
	switch (namespaces_lock(c, tenant, key, is_id, &r->arena, &n)) {
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
	struct audit_ctx a = handler_audit_ctx(r);
	switch (namespaces_delete_begin(c, tenant, &a, &r->arena, &n)) {
	case NS_DELETE_ALREADY:
		/* Already going: the same answer as the DELETE that started it. */
		db_rollback(c);
		reply_namespace(r, 202, tenant, &n);
		return;
	case NS_DELETE_BUSY:
		db_rollback(c);
		reply_problem(r, 409, "namespace-busy", "Conflict",
			      "The namespace is being provisioned right now; delete it when its "
			      "status is ready or failed.",
			      NULL);
		return;
	case NS_DELETE_FAILED:
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return;
	case NS_DELETE_DISCARDED:
	case NS_DELETE_QUEUED:
		break;
	}
	if (!db_commit(c)) {
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	/* Discarded: deleted now (200); else deprovisioning (202). */
	reply_namespace(r, strcmp(n.status, "deleted") == 0 ? 200 : 202, tenant, &n);
}

/* Locks the live namespace {namespace} of the route's tenant inside a new
 * transaction. False after replying (404, 503). */
static bool lock_or_reply(struct request *r, struct db_conn **cp, struct ns_out *n)
{
	const char *tenant = r->params[0], *key = r->params[1];
	bool is_id;
	if (!namespace_key_or_reply(r, key, &is_id))
		return false;
	struct db_conn *c = req_db(r, DB_PORTAL, tenant);
	if (c == NULL || !db_begin(c)) {
		reply_db_unreachable(r, DB_PORTAL);
		return false;
	}
	switch (namespaces_lock(c, tenant, key, is_id, &r->arena, n)) {
	case ST_OK:
		*cp = c;
		return true;
	case ST_NOT_FOUND:
		db_rollback(c);
		reply_not_found(r);
		return false;
	default:
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return false;
	}
}

static void reply_wrong_status(struct request *r, struct db_conn *c, const char *detail)
{
	db_rollback(c);
	reply_problem(r, 409, "namespace-status", "Conflict", detail, NULL);
}

/* The size in the namespace's JSON (arena), for the no-op check. */
static bool same_size(const struct ns_out *n, const char *size)
{
	json_t *o = json_loads(n->json, 0, NULL);
	const char *cur = json_string_value(json_object_get(o, "size"));
	bool same = cur && strcmp(cur, size) == 0;
	json_decref(o);
	return same;
}

/*
 * PATCH {"size": ...}. ready or failed: the namespace moves to updating
 * and a namespace.update job applies the size (202). pending_approval: the
 * size is only recorded (200). The same size: nothing changes (200).
 * Others (being provisioned, updated or deleted; rejected): 409.
 */
static void patch_namespace(struct request *r)
{
	const char *tenant = r->params[0];
	if (!validate_body_or_reply(r, r->json, patch_fields, NFIELDS(patch_fields), 1))
		return;
	long long if_match;
	if (!handler_if_match_or_reply(r, &if_match))
		return;
	const char *size = json_string_value(json_object_get(r->json, "size"));
	const struct ns_size *z = size ? namespaces_size(size) : NULL;
	json_t *expiry = json_object_get(r->json, "expires_at");
	struct db_conn *c;
	struct ns_out n;
	if (!lock_or_reply(r, &c, &n))
		return;
	if (if_match >= 0 && if_match != n.version) {
		db_rollback(c);
		reply_status(r, ST_PRECONDITION, DB_PORTAL);
		return;
	}
	bool waiting = strcmp(n.status, "pending_approval") == 0;
	bool settled = strcmp(n.status, "ready") == 0 || strcmp(n.status, "failed") == 0 ||
		       strcmp(n.status, "degraded") == 0;
	struct audit_ctx a = handler_audit_ctx(r);
	char *nid = arena_strdup(&r->arena, n.id);
	if (expiry) {
		/* An expiry changes in any state but deprovisioning (a deletion
		 * already runs); the environment is the namespace's. */
		json_t *cur = req_own_json(r, json_loads(n.json, 0, NULL));
		const char *env = json_string_value(json_object_get(cur, "environment"));
		if (strcmp(n.status, "deprovisioning") == 0) {
			reply_wrong_status(r, c, "The namespace is being deleted.");
			return;
		}
		if (!expiry_ok_or_reply(r, c, env ? env : ""))
			return;
		if (namespaces_set_expiry(c, nid, json_string_value(expiry), &a, &r->arena, &n) != ST_OK) {
			db_rollback(c);
			reply_db_failed(r, DB_PORTAL);
			return;
		}
	}
	bool resize = z != NULL && !(same_size(&n, z->name) && strcmp(n.status, "ready") == 0);
	if (z && !waiting && !settled) {
		reply_wrong_status(r, c,
				   "The namespace's size can change when it is ready, degraded, failed or "
				   "waiting for approval.");
		return;
	}
	char job_id[37] = "";
	if (resize && settled) {
		json_t *payload = req_own_json(r, json_pack("{s:s}", "namespace_id", n.id));
		if (!jobs_enqueue(c, NAMESPACE_UPDATE, tenant, payload, r->request_id, job_id)) {
			db_rollback(c);
			reply_db_failed(r, DB_PORTAL);
			return;
		}
	}
	if ((resize && namespaces_resize(c, nid, z, settled ? job_id : NULL, &a, &r->arena, &n) != ST_OK) ||
	    !db_commit(c)) {
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	reply_namespace(r, resize && settled ? 202 : 200, tenant, &n);
}

/* approve/reject: super admins only (the route's role bits). */
static void decide(struct request *r, bool approve)
{
	const char *tenant = r->params[0];
	const struct field_spec *specs = approve ? approve_fields : reject_fields;
	if (!validate_body_or_reply(r, r->json, specs, 1, 0))
		return;
	struct db_conn *c;
	struct ns_out n;
	if (!lock_or_reply(r, &c, &n))
		return;
	if (strcmp(n.status, "pending_approval") != 0) {
		reply_wrong_status(r, c, "Only a namespace waiting for approval can be approved or rejected.");
		return;
	}
	char job_id[37] = "";
	if (approve) {
		json_t *payload = req_own_json(r, json_pack("{s:s}", "namespace_id", n.id));
		if (!jobs_enqueue(c, NAMESPACE_PROVISION, tenant, payload, r->request_id, job_id)) {
			db_rollback(c);
			reply_db_failed(r, DB_PORTAL);
			return;
		}
	}
	struct audit_ctx a = handler_audit_ctx(r);
	char *nid = arena_strdup(&r->arena, n.id);
	const char *reason = json_string_value(json_object_get(r->json, "reason"));
	if (namespaces_decide(c, nid, approve, reason, job_id, &a, &r->arena, &n) != ST_OK ||
	    !db_commit(c)) {
		db_rollback(c);
		reply_db_failed(r, DB_PORTAL);
		return;
	}
	reply_namespace(r, approve ? 202 : 200, tenant, &n);
}

static void approve_namespace(struct request *r)
{
	decide(r, true);
}

static void reject_namespace(struct request *r)
{
	decide(r, false);
}

const struct route namespaces_routes[] = {
	{HTTP_POST, "/v1/tenants/{tenant_id}/namespaces", create_namespace, AUTH_REQUIRED,
	 ROLE_TENANT_ADMIN, BODY_JSON, "namespaces.create"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/namespaces", list_namespaces, AUTH_REQUIRED,
	 ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER, BODY_NONE, "namespaces.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/namespaces/{namespace}", get_namespace, AUTH_REQUIRED,
	 ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER, BODY_NONE, "namespaces.get"},
	{HTTP_DELETE, "/v1/tenants/{tenant_id}/namespaces/{namespace}", delete_namespace,
	 AUTH_REQUIRED, ROLE_TENANT_ADMIN, BODY_NONE, "namespaces.delete"},
	{HTTP_PATCH, "/v1/tenants/{tenant_id}/namespaces/{namespace}", patch_namespace,
	 AUTH_REQUIRED, ROLE_TENANT_ADMIN, BODY_JSON, "namespaces.update"},
	{HTTP_POST, "/v1/tenants/{tenant_id}/namespaces/{namespace}/approve", approve_namespace,
	 AUTH_REQUIRED, ROLE_SUPER_ADMIN, BODY_JSON, "namespaces.approve"},
	{HTTP_POST, "/v1/tenants/{tenant_id}/namespaces/{namespace}/reject", reject_namespace,
	 AUTH_REQUIRED, ROLE_SUPER_ADMIN, BODY_JSON, "namespaces.reject"},
};
const size_t namespaces_routes_len = sizeof(namespaces_routes) / sizeof(namespaces_routes[0]);

const struct body_table namespaces_bodies[] = {
	{"namespaces.create", create_fields, NFIELDS(create_fields), 0},
	{"namespaces.quota", quota_fields, NFIELDS(quota_fields), 0},
	{"namespaces.update", patch_fields, NFIELDS(patch_fields), 1},
	{"namespaces.approve", approve_fields, NFIELDS(approve_fields), 0},
	{"namespaces.reject", reject_fields, NFIELDS(reject_fields), 0},
};
const size_t namespaces_bodies_len = sizeof(namespaces_bodies) / sizeof(namespaces_bodies[0]);
