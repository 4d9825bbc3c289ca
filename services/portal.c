/*
 * portal.c - tenants and audit log statements (portal_db).
 *
 * Each change and its audit record are one statement (data-modifying
 * CTEs), so they commit together without an explicit transaction.
 */
#include "services/portal.h"
#include "server/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt stmts[] = {
	{"portal_tenant_by_directory",
	 "SELECT id, status FROM tenants WHERE aad_tenant_id = $1 AND status <> 'deleted'"},
	{"portal_tenant_exists", "SELECT 1 FROM tenants WHERE id = $1"},
	{"portal_tenant_names",
	 "SELECT COALESCE(json_object_agg(id, name), '{}')::text FROM tenants "
	 "WHERE id = ANY (SELECT jsonb_array_elements_text($1::jsonb)::uuid)"},
	{"portal_tenant_by_billing_account",
	 "SELECT id FROM tenants WHERE status <> 'deleted' AND CASE $1 "
	 "  WHEN 'quickbooks' THEN quickbooks_realm_id = $2 WHEN 'pax8' THEN pax8_company_id = $2 END"},
	{"portal_pax8_companies",
	 "SELECT COALESCE(json_agg(json_build_object('tenant_id', id, 'company_id', pax8_company_id) "
	 "  ORDER BY id), '[]')::text FROM tenants WHERE status <> 'deleted' AND pax8_company_id IS NOT NULL"},
	{"portal_tenant_get",
	 "SELECT CASE WHEN $2::boolean THEN tenant_json(t) ELSE tenant_member_json(t) END::text, "
	 "  t.version, t.id FROM tenants t WHERE t.id = $1"},
	{"portal_tenant_create",
	 "WITH t AS ("
	 "  INSERT INTO tenants (slug, name, aad_tenant_id, aad_admin_group_id, tags, "
	 "                       quickbooks_realm_id, pax8_company_id, namespace_quota, "
	 "                       aad_members_group_id) "
	 "  VALUES ($1, $2, $3::uuid, $4::uuid, COALESCE($5::jsonb, '{}'::jsonb), $6, $7, "
	 "          $11::integer, $12::uuid) "
	 "  RETURNING tenant_json(tenants) AS j, id, version), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, "
	 "        resource_type, resource_id, request_id, changes) "
	 "      SELECT t.id, NULLIF($8, '')::uuid, NULLIF($9, '')::uuid, "
	 "        CASE WHEN $9 = '' THEN 'system' ELSE 'user' END, 'tenant.create', 'tenant', "
	 "        t.id::text, $10, t.j::jsonb FROM t) "
	 "SELECT t.j::text, t.version, t.id FROM t"},
	{"portal_tenant_update",
	 "WITH cur AS (SELECT id, version, status FROM tenants WHERE id = $1 FOR UPDATE), "
	 "u AS ("
	 "  UPDATE tenants SET "
	 "    name = CASE WHEN $2::jsonb ? 'name' THEN $2::jsonb->>'name' ELSE tenants.name END, "
	 "    status = CASE WHEN $2::jsonb ? 'status' THEN $2::jsonb->>'status' ELSE tenants.status END, "
	 "    tags = CASE WHEN $2::jsonb ? 'tags' "
	 "      THEN jsonb_strip_nulls(tenants.tags || ($2::jsonb->'tags')) ELSE tenants.tags END, "
	 "    aad_admin_group_id = CASE WHEN $2::jsonb ? 'aad_admin_group_id' "
	 "      THEN ($2::jsonb->>'aad_admin_group_id')::uuid ELSE tenants.aad_admin_group_id END, "
	 "    aad_members_group_id = CASE WHEN $2::jsonb ? 'aad_members_group_id' "
	 "      THEN ($2::jsonb->>'aad_members_group_id')::uuid ELSE tenants.aad_members_group_id END, "
	 "    quickbooks_realm_id = CASE WHEN $2::jsonb ? 'quickbooks_realm_id' "
	 "      THEN $2::jsonb->>'quickbooks_realm_id' ELSE tenants.quickbooks_realm_id END, "
	 "    pax8_company_id = CASE WHEN $2::jsonb ? 'pax8_company_id' "
	 "      THEN $2::jsonb->>'pax8_company_id' ELSE tenants.pax8_company_id END, "
	 "    namespace_quota = CASE WHEN $2::jsonb ? 'namespace_quota' "
	 "      THEN ($2::jsonb->>'namespace_quota')::integer ELSE tenants.namespace_quota END, "
	 "    version = tenants.version + 1, updated_at = now() "
	 "  FROM cur WHERE tenants.id = cur.id AND cur.status NOT IN ('deleted', 'deleting') "
	 "    AND ($3::bigint IS NULL OR cur.version = $3::bigint) "
	 "  RETURNING tenant_json(tenants) AS j, tenants.id, tenants.version), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, "
	 "        resource_type, resource_id, request_id, changes) "
	 "      SELECT u.id, NULLIF($4, '')::uuid, NULLIF($5, '')::uuid, "
	 "        CASE WHEN $5 = '' THEN 'system' ELSE 'user' END, 'tenant.update', 'tenant', "
	 "        u.id::text, $6, $2::jsonb FROM u) "
	 "SELECT (SELECT count(*) FROM cur), u.j::text, u.version, u.id, "
	 "  (SELECT status FROM cur) "
	 "FROM (SELECT 1) one LEFT JOIN u ON true"},
	/* The tenant (locked), how many namespaces it has that are not
	 * deleted, and the state of its offboarding job. */
	{"portal_tenant_delete_lock",
	 "SELECT t.status, "
	 "  (SELECT count(*) FROM namespaces n WHERE n.tenant_id = t.id AND n.status <> 'deleted'), "
	 "  COALESCE((SELECT j.status FROM jobs j WHERE j.id = t.offboard_job_id), '') "
	 "FROM tenants t WHERE t.id = $1 FOR UPDATE"},
	/* $5: the offboarding job, or '' to delete at once. */
	{"portal_tenant_delete",
	 "WITH u AS (UPDATE tenants SET "
	 "    status = CASE WHEN $5 = '' THEN 'deleted' ELSE 'deleting' END, "
	 "    offboard_job_id = NULLIF($5, '')::uuid, "
	 "    version = tenants.version + 1, updated_at = now() "
	 "  WHERE id = $1 RETURNING tenant_json(tenants) AS j, tenants.id, tenants.version, "
	 "    tenants.status), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, "
	 "        resource_type, resource_id, request_id, changes) "
	 "      SELECT u.id, NULLIF($2, '')::uuid, NULLIF($3, '')::uuid, "
	 "        CASE WHEN $3 = '' THEN 'system' ELSE 'user' END, "
	 "        CASE WHEN $5 = '' THEN 'tenant.delete' ELSE 'tenant.offboard' END, 'tenant', "
	 "        u.id::text, $4, jsonb_build_object('status', u.status, "
	 "          'offboard_job_id', NULLIF($5, '')) FROM u) "
	 "SELECT u.j::text, u.version, u.id FROM u"},
	/* The offboarding job's last step: deleting -> deleted. */
	{"portal_tenant_offboarded",
	 "WITH u AS (UPDATE tenants SET status = 'deleted', version = tenants.version + 1, "
	 "    updated_at = now() WHERE id = $1 AND status = 'deleting' RETURNING id), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_kind, action, resource_type, resource_id, "
	 "        request_id, changes) "
	 "      SELECT u.id, 'system', 'tenant.delete', 'tenant', u.id::text, $2, "
	 "        '{\"status\":\"deleted\"}'::jsonb FROM u) "
	 "SELECT count(*) FROM u"},
	{"portal_tenant_list",
	 "SELECT CASE WHEN $7::boolean THEN tenant_json(t) ELSE tenant_member_json(t) END::text, "
	 "  ((extract(epoch FROM t.created_at) * 1000000)::bigint)::text || '|' || t.id::text "
	 "FROM tenants t "
	 "WHERE (($1::text IS NULL AND t.status <> 'deleted') OR t.status = $1) "
	 "  AND ($2::text IS NULL OR t.slug = $2) "
	 "  AND ($3::uuid IS NULL OR t.id = $3) "
	 "  AND ($4::bigint IS NULL OR (t.created_at, t.id) < "
	 "       ('epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::uuid)) "
	 "ORDER BY t.created_at DESC, t.id DESC LIMIT $6"},
	{"portal_audit_insert",
	 "INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, resource_type, "
	 "  resource_id, request_id, changes) "
	 "VALUES (NULLIF($1, '')::uuid, NULLIF($2, '')::uuid, NULLIF($3, '')::uuid, "
	 "  CASE WHEN $3 = '' THEN 'system' ELSE 'user' END, $4, $5, $6, $7, $8::jsonb)"},
	{"portal_job_get",
	 "SELECT job_json(j)::text FROM jobs j WHERE j.id = $1 AND j.tenant_id = $2"},
	{"portal_audit_list",
	 "SELECT json_build_object('id', a.id, 'tenant_id', a.tenant_id, "
	 "  'actor', json_build_object('tid', a.actor_tid, 'oid', a.actor_oid, 'kind', a.actor_kind), "
	 "  'action', a.action, 'resource_type', a.resource_type, 'resource_id', a.resource_id, "
	 "  'request_id', a.request_id, 'created_at', rfc3339(a.created_at), "
	 "  'changes', a.changes)::text, "
	 "  ((extract(epoch FROM a.created_at) * 1000000)::bigint)::text || '|' || a.id::text "
	 "FROM audit_log a "
	 "WHERE a.tenant_id = $1 "
	 "  AND ($2::text IS NULL OR a.action = $2) "
	 "  AND ($3::text IS NULL OR a.resource_type = $3) "
	 "  AND ($4::bigint IS NULL OR (a.created_at, a.id) < "
	 "       ('epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::uuid)) "
	 "ORDER BY a.created_at DESC, a.id DESC LIMIT $6"},
};

static void quickbooks_stmts_register(void);

void portal_register(void)
{
	db_register(DB_PORTAL, stmts, sizeof(stmts) / sizeof(stmts[0]));
	quickbooks_stmts_register();
}

enum status portal_tenant_by_directory(const char *tid, char tenant_id[37], char status[16])
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_UNAVAILABLE;
	if (db_scope(c, "*")) {
		const char *v[] = {tid};
		PGresult *res = db_exec(c, "portal_tenant_by_directory", 1, v);
		if (db_ok(res)) {
			if (PQntuples(res) == 1) {
				snprintf(tenant_id, 37, "%s", PQgetvalue(res, 0, 0));
				snprintf(status, 16, "%s", PQgetvalue(res, 0, 1));
				st = ST_OK;
			} else {
				st = ST_NOT_FOUND;
			}
		}
		PQclear(res);
	}
	db_release(c);
	return st;
}

json_t *portal_pax8_companies(struct db_conn *c)
{
	PGresult *res = db_exec(c, "portal_pax8_companies", 0, NULL);
	json_t *out = NULL;
	if (db_ok(res) && PQntuples(res) == 1)
		out = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	return out;
}

enum status portal_tenant_by_billing_account(const char *provider, const char *account_id,
						    char tenant_id[37])
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_UNAVAILABLE;
	if (db_scope(c, "*")) {
		const char *v[] = {provider, account_id};
		PGresult *res = db_exec(c, "portal_tenant_by_billing_account", 2, v);
		if (db_ok(res)) {
			st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
			if (st == ST_OK)
				snprintf(tenant_id, 37, "%s", PQgetvalue(res, 0, 0));
		}
		PQclear(res);
	}
	db_release(c);
	return st;
}

enum status portal_tenant_exists(const char *id)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_UNAVAILABLE;
	if (db_scope(c, "*")) {
		const char *v[] = {id};
		PGresult *res = db_exec(c, "portal_tenant_exists", 1, v);
		if (db_ok(res))
			st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		PQclear(res);
	}
	db_release(c);
	return st;
}

enum status portal_tenant_names(struct db_conn *c, const char *ids, struct arena *a, char **json)
{
	const char *v[] = {ids};
	PGresult *res = db_exec(c, "portal_tenant_names", 1, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		*json = arena_strdup(a, PQgetvalue(res, 0, 0));
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

/* Copies a (json, version, id) row into out. */
static void take_row(PGresult *res, int row, int col, struct arena *ar, struct tenant_out *out)
{
	out->json = arena_strdup(ar, PQgetvalue(res, row, col));
	out->version = atoll(PQgetvalue(res, row, col + 1));
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, row, col + 2));
}

static const char *conflict_field(PGresult *res)
{
	const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	if (cons == NULL)
		return "";
	if (strcmp(cons, "tenants_slug_key") == 0)
		return "slug";
	if (strcmp(cons, "tenants_aad_tenant_id_key") == 0)
		return "aad_tenant_id";
	if (strcmp(cons, "tenants_quickbooks_realm_idx") == 0)
		return "quickbooks_realm_id";
	if (strcmp(cons, "tenants_pax8_company_idx") == 0)
		return "pax8_company_id";
	return "";
}

static const char *opt_str(json_t *in, const char *key)
{
	return json_string_value(json_object_get(in, key)); /* NULL for absent or null */
}

enum status portal_tenant_create(struct db_conn *c, json_t *in, const struct audit_ctx *a,
					struct arena *ar, struct tenant_out *out,
					const char **conflict)
{
	char *tags = NULL;
	json_t *t = json_object_get(in, "tags");
	if (json_is_object(t))
		tags = json_dumps(t, JSON_COMPACT);
	char quota_buf[24];
	const char *quota = NULL;
	json_t *q = json_object_get(in, "namespace_quota");
	if (json_is_integer(q)) {
		snprintf(quota_buf, sizeof(quota_buf), "%lld", (long long)json_integer_value(q));
		quota = quota_buf;
	}
	const char *v[] = {
		opt_str(in, "slug"), opt_str(in, "name"), opt_str(in, "aad_tenant_id"),
		opt_str(in, "aad_admin_group_id"), tags, opt_str(in, "quickbooks_realm_id"),
		opt_str(in, "pax8_company_id"), a->actor_tid, a->actor_oid, a->request_id, quota,
		opt_str(in, "aad_members_group_id"),
	};
	PGresult *res = db_exec(c, "portal_tenant_create", 12, v);
	free(tags);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		take_row(res, 0, 0, ar, out);
		st = ST_OK;
	} else if (res && strcmp(db_sqlstate(res), "23505") == 0) {
		*conflict = conflict_field(res);
		st = ST_CONFLICT;
	}
	PQclear(res);
	return st;
}

enum status portal_tenant_get(struct db_conn *c, const char *id, bool full,
				     struct arena *ar, struct tenant_out *out)
{
	const char *v[] = {id, full ? "true" : "false"};
	PGresult *res = db_exec(c, "portal_tenant_get", 2, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		if (PQntuples(res) == 1) {
			take_row(res, 0, 0, ar, out);
			st = ST_OK;
		} else {
			st = ST_NOT_FOUND;
		}
	}
	PQclear(res);
	return st;
}

enum status portal_tenant_list(struct db_conn *c, const struct tenant_filter *f,
				      struct arena *ar, char **page)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	const char *v[] = {f->status, f->slug, f->only_id,
			   f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim,
			   f->member_view ? "false" : "true"};
	PGresult *res = db_exec(c, "portal_tenant_list", 7, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		*page = page_json(res, f->limit, ar);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status portal_tenant_update(struct db_conn *c, const char *id, json_t *patch,
					long long if_match, const struct audit_ctx *a,
					struct arena *ar, struct tenant_out *out,
					const char **conflict)
{
	char *p = json_dumps(patch, JSON_COMPACT);
	char ver[24];
	snprintf(ver, sizeof(ver), "%lld", if_match);
	const char *v[] = {id, p, if_match < 0 ? NULL : ver, a->actor_tid, a->actor_oid,
			   a->request_id};
	PGresult *res = db_exec(c, "portal_tenant_update", 6, v);
	free(p);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		if (atoi(PQgetvalue(res, 0, 0)) == 0)
			st = ST_NOT_FOUND;
		else if (strcmp(PQgetvalue(res, 0, 4), "deleted") == 0 ||
			 strcmp(PQgetvalue(res, 0, 4), "deleting") == 0)
			st = ST_GONE;
		else if (PQgetisnull(res, 0, 1))
			st = ST_PRECONDITION;
		else {
			take_row(res, 0, 1, ar, out);
			st = ST_OK;
		}
	} else if (res && strcmp(db_sqlstate(res), "23505") == 0) {
		*conflict = conflict_field(res);
		st = ST_CONFLICT;
	} else if (res && strcmp(db_sqlstate(res), "23514") == 0) {
		st = ST_INVALID;
	}
	PQclear(res);
	return st;
}

enum status portal_tenant_delete_lock(struct db_conn *c, const char *id,
				      struct tenant_deletion *out)
{
	memset(out, 0, sizeof(*out));
	const char *v[] = {id};
	PGresult *res = db_exec(c, "portal_tenant_delete_lock", 1, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK) {
			snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 0));
			out->live_namespaces = atoi(PQgetvalue(res, 0, 1));
			snprintf(out->job_status, sizeof(out->job_status), "%s", PQgetvalue(res, 0, 2));
		}
	}
	PQclear(res);
	return st;
}

enum status portal_tenant_delete(struct db_conn *c, const char *id, const char *offboard_job,
				 const struct audit_ctx *a, struct arena *ar, struct tenant_out *out)
{
	const char *v[] = {id, a->actor_tid, a->actor_oid, a->request_id,
			   offboard_job ? offboard_job : ""};
	PGresult *res = db_exec(c, "portal_tenant_delete", 5, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK && out) {
			out->json = arena_strdup(ar, PQgetvalue(res, 0, 0));
			out->version = atoll(PQgetvalue(res, 0, 1));
			snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 2));
		}
	}
	PQclear(res);
	return st;
}

bool portal_tenant_offboarded(const char *id, const char *request_id)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return false;
	bool ok = false;
	if (db_scope(c, "*")) {
		const char *v[] = {id, request_id};
		PGresult *res = db_exec(c, "portal_tenant_offboarded", 2, v);
		ok = db_ok(res);
		PQclear(res);
	}
	db_release(c);
	return ok;
}

enum status portal_audit_list(struct db_conn *c, const struct audit_filter *f,
				     struct arena *ar, char **page)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	const char *v[] = {f->tenant_id, f->action, f->resource_type,
			   f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim};
	PGresult *res = db_exec(c, "portal_audit_list", 6, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		*page = page_json(res, f->limit, ar);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status portal_job_get(struct db_conn *c, const char *tenant_id, const char *id,
				  struct arena *ar, char **json)
{
	const char *v[] = {id, tenant_id};
	PGresult *res = db_exec(c, "portal_job_get", 2, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK)
			*json = arena_strdup(ar, PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return st;
}

bool portal_audit_record(struct db_conn *c, const char *tenant_id, const struct audit_ctx *a,
			 const char *action, const char *resource_type, const char *resource_id,
			 json_t *changes)
{
	struct db_conn *own = NULL;
	if (c == NULL) {
		own = c = db_acquire(DB_PORTAL);
		if (c == NULL || !db_scope(c, "*")) {
			db_release(own);
			log_error("audit: portal_db unreachable; lost record %s %s/%s", action, resource_type,
				  resource_id);
			return false;
		}
	}
	char *ch = changes ? json_dumps(changes, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	const char *v[] = {tenant_id ? tenant_id : "", a->actor_tid ? a->actor_tid : "",
			   a->actor_oid ? a->actor_oid : "", action, resource_type, resource_id,
			   a->request_id ? a->request_id : "", ch};
	PGresult *res = db_exec(c, "portal_audit_insert", 8, v);
	bool ok = db_ok(res);
	PQclear(res);
	free(ch);
	db_release(own);
	return ok;
}

/* ---- QuickBooks connection (issue 15) -------------------------------------- */

static const struct db_stmt quickbooks_stmts[] = {
	{"portal_tenant_claim_realm",
	 "WITH t AS (SELECT id, quickbooks_realm_id FROM tenants "
	 "    WHERE id = $1::uuid AND status <> 'deleted' FOR UPDATE), "
	 "other AS (SELECT 1 FROM tenants WHERE quickbooks_realm_id = $2 AND id <> $1::uuid), "
	 "up AS (UPDATE tenants SET quickbooks_realm_id = $2, version = version + 1, updated_at = now() "
	 "  WHERE id = (SELECT id FROM t) AND quickbooks_realm_id IS NULL "
	 "    AND NOT EXISTS (SELECT 1 FROM other) RETURNING 1) "
	 "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t) THEN 'missing' "
	 "  WHEN EXISTS (SELECT 1 FROM other) THEN 'taken' WHEN EXISTS (SELECT 1 FROM up) THEN 'set' "
	 "  WHEN (SELECT quickbooks_realm_id FROM t) = $2 THEN 'same' ELSE 'mapped' END"},
};

static void quickbooks_stmts_register(void)
{
	db_register(DB_PORTAL, quickbooks_stmts, sizeof(quickbooks_stmts) / sizeof(quickbooks_stmts[0]));
}

enum status portal_tenant_claim_realm(struct db_conn *c, const char *tenant_id, const char *realm_id,
				      bool *set)
{
	*set = false;
	const char *v[] = {tenant_id, realm_id};
	PGresult *res = db_exec(c, "portal_tenant_claim_realm", 2, v);
	if (res == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		const char *o = PQgetvalue(res, 0, 0);
		st = strcmp(o, "missing") == 0 ? ST_NOT_FOUND
		     : strcmp(o, "set") == 0 || strcmp(o, "same") == 0 ? ST_OK
									: ST_CONFLICT;
		*set = strcmp(o, "set") == 0;
	} else if (!db_ok(res) && strcmp(db_sqlstate(res), "23505") == 0) {
		st = ST_CONFLICT; /* another tenant took it at the same moment */
	}
	PQclear(res);
	return st;
}
