/*
 * namespaces.c - namespace statements (portal_db). See namespaces.h.
 *
 * Each change and its audit record are one statement (data-modifying
 * CTEs). Worker changes are audited as the system, with the request id of
 * the API call that queued the job.
 */
#include "services/namespaces.h"
#include "server/common/log.h"
#include "server/jobs/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const namespaces_container_suffixes[NS_NCONTAINERS] = {"uploads", "logs", "backups"};

/*
 * The platform's sizes: the default resource quota and egress of a
 * namespace's Kubernetes namespace. Requests and limits are Kubernetes
 * quantities, as the managed namespace's defaultResourceQuota takes them.
 * Ingress is the same for all (NS_INGRESS). `pods` is the platform's pod
 * budget for the size; the managed namespace resource has no pod count
 * field, so it travels as the annotation atrium.dev/max-pods.
 */
const struct ns_size namespaces_sizes[NS_NSIZES] = {
	{"small", "500m", "1", "1Gi", "2Gi", 20, "AllowSameNamespace"},
	{"medium", "2", "4", "4Gi", "8Gi", 50, "AllowAll"},
	{"large", "8", "16", "16Gi", "32Gi", 200, "AllowAll"},
};

const struct ns_size *namespaces_size(const char *name)
{
	for (int i = 0; name && i < NS_NSIZES; i++)
		if (strcmp(namespaces_sizes[i].name, name) == 0)
			return &namespaces_sizes[i];
	return NULL;
}

json_t *namespaces_size_json(const struct ns_size *z)
{
	return json_pack("{s:{s:s, s:s, s:s, s:s, s:i}, s:{s:s, s:s}}", "quota", "cpu_request",
			 z->cpu_request, "cpu_limit", z->cpu_limit, "memory_request", z->memory_request,
			 "memory_limit", z->memory_limit, "pods", z->pods, "network_policy", "ingress",
			 NS_INGRESS, "egress", z->egress);
}

json_t *namespaces_kubernetes_json(const char *cluster_id, const char *k8s_name,
				   const struct ns_size *z)
{
	json_t *k = namespaces_size_json(z);
	json_object_set_new(k, "cluster_id", json_string(cluster_id));
	json_object_set_new(k, "namespace", json_string(k8s_name));
	json_object_set_new(k, "adoption_policy", json_string(NS_ADOPTION_POLICY));
	json_object_set_new(k, "delete_policy", json_string(NS_DELETE_POLICY));
	return k;
}

static const struct db_stmt stmts[] = {
	/* Every live state, zero included, so the gauge never loses a series. */
	{"ns_count_by_state",
	 "SELECT s.state, count(n.id) FROM unnest(ARRAY['pending', 'provisioning', 'ready', "
	 "  'failed', 'deprovisioning']) AS s(state) LEFT JOIN namespaces n ON n.status = s.state "
	 "GROUP BY s.state ORDER BY s.state"},
	{"ns_regrant_ids",
	 "SELECT id::text FROM namespaces WHERE tenant_id = $1::uuid "
	 "  AND status NOT IN ('deleted', 'failed', 'deprovisioning') ORDER BY created_at"},
	/* The tenant row locked for the creating transaction, so concurrent
	 * creations count one after another and the cap holds. The count is
	 * a second statement: under READ COMMITTED a statement's snapshot is
	 * taken before it waits for the lock, so a count in the locking
	 * statement would miss what the previous holder committed. */
	{"ns_tenant_lock",
	 "SELECT slug, status, COALESCE(namespace_quota, -1)::text FROM tenants "
	 "WHERE id = $1::uuid FOR UPDATE"},
	{"ns_live_ids",
	 "SELECT id::text FROM namespaces WHERE tenant_id = $1::uuid AND status <> 'deleted' "
	 "ORDER BY created_at"},
	{"ns_live_count",
	 "SELECT count(*)::text FROM namespaces WHERE tenant_id = $1::uuid AND status <> 'deleted'"},
	{"ns_create",
	 "WITH n AS ("
	 "  INSERT INTO namespaces (id, tenant_id, name, environment, location, quota, "
	 "                          resource_group, containers, job_id, size, kubernetes, status, "
	 "                          expires_at) "
	 "  VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, $7, $8::text[], $9::uuid, $13, "
	 "          $14::jsonb, $15, $16::timestamptz) "
	 "  ON CONFLICT (resource_group) WHERE status <> 'deleted' DO NOTHING "
	 "  RETURNING namespace_json(namespaces) AS j, id, version, status), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, "
	 "        resource_type, resource_id, request_id, changes) "
	 "      SELECT $2::uuid, NULLIF($10, '')::uuid, NULLIF($11, '')::uuid, "
	 "        CASE WHEN $11 = '' THEN 'system' ELSE 'user' END, 'namespace.create', 'namespace', "
	 "        n.id::text, $12, n.j::jsonb FROM n) "
	 "SELECT n.j::text, n.version, n.id, n.status FROM n"},
	/* A super admin's decision on a prod namespace waiting for approval:
	 * approved -> pending under its provision job $2, rejected -> rejected
	 * (no job). $3 'approved' or 'rejected'. */
	{"ns_decide",
	 "WITH n AS (UPDATE namespaces SET "
	 "    status = CASE WHEN $3 = 'approved' THEN 'pending' ELSE 'rejected' END, "
	 "    job_id = $2::uuid, "
	 "    approval = jsonb_strip_nulls(jsonb_build_object('decision', $3::text, "
	 "      'decided_by', NULLIF($5, ''), 'decided_at', rfc3339(now()), 'reason', $4::text)), "
	 "    version = version + 1, updated_at = now() "
	 "  WHERE id = $1::uuid AND status = 'pending_approval' "
	 "  RETURNING namespace_json(namespaces) AS j, id, version, status, tenant_id, approval), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, "
	 "        resource_type, resource_id, request_id, changes) "
	 "      SELECT n.tenant_id, NULLIF($6, '')::uuid, NULLIF($5, '')::uuid, "
	 "        CASE WHEN $5 = '' THEN 'system' ELSE 'user' END, "
	 "        CASE WHEN $3 = 'approved' THEN 'namespace.approve' ELSE 'namespace.reject' END, "
	 "        'namespace', n.id::text, $7, jsonb_strip_nulls(jsonb_build_object('status', n.status, "
	 "          'approval', n.approval, 'job_id', $2::text)) FROM n) "
	 "SELECT n.j::text, n.version, n.id, n.status FROM n"},
	/* A namespace that never reached Azure (waiting for approval, or
	 * rejected) is deleted at once. */
	{"ns_discard",
	 "WITH n AS (UPDATE namespaces SET status = 'deleted', deleted_at = now(), "
	 "    version = version + 1, updated_at = now() "
	 "  WHERE id = $1::uuid AND status IN ('pending_approval', 'rejected') "
	 "  RETURNING namespace_json(namespaces) AS j, id, version, status, tenant_id), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, "
	 "        resource_type, resource_id, request_id, changes) "
	 "      SELECT n.tenant_id, NULLIF($2, '')::uuid, NULLIF($3, '')::uuid, "
	 "        CASE WHEN $3 = '' THEN 'system' ELSE 'user' END, 'namespace.delete', 'namespace', "
	 "        n.id::text, $4, '{\"status\":\"deleted\"}'::jsonb FROM n) "
	 "SELECT n.j::text, n.version, n.id, n.status FROM n"},
	/* A new size: $3 is the size's Kubernetes part (quota, network_policy)
	 * merged into kubernetes when the namespace has one. With a job ($4),
	 * ready/failed -> updating under it; without, the status stays. */
	{"ns_resize",
	 "WITH o AS (SELECT size FROM namespaces WHERE id = $1::uuid), "
	 "n AS (UPDATE namespaces SET size = $2, "
	 "    kubernetes = CASE WHEN kubernetes IS NULL THEN NULL ELSE kubernetes || $3::jsonb END, "
	 "    status = CASE WHEN $4::uuid IS NULL THEN status ELSE 'updating' END, "
	 "    job_id = COALESCE($4::uuid, job_id), last_error = CASE WHEN $4::uuid IS NULL "
	 "      THEN last_error ELSE NULL END, version = version + 1, updated_at = now() "
	 "  WHERE id = $1::uuid AND status <> 'deleted' "
	 "  RETURNING namespace_json(namespaces) AS j, id, version, status, tenant_id), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, "
	 "        resource_type, resource_id, request_id, changes) "
	 "      SELECT n.tenant_id, NULLIF($5, '')::uuid, NULLIF($6, '')::uuid, "
	 "        CASE WHEN $6 = '' THEN 'system' ELSE 'user' END, 'namespace.resize', 'namespace', "
	 "        n.id::text, $7, jsonb_strip_nulls(jsonb_build_object('size', $2::text, "
	 "          'previous_size', (SELECT size FROM o), 'status', n.status, 'job_id', $4::text)) "
	 "      FROM n) "
	 "SELECT n.j::text, n.version, n.id, n.status FROM n"},
	/* Expiry: at most 30 days ahead, in the future. */
	{"ns_expiry_window",
	 "SELECT ($1::timestamptz > now() AND $1::timestamptz <= now() + interval '30 days')::text"},
	{"ns_set_expiry",
	 "WITH o AS (SELECT expires_at FROM namespaces WHERE id = $1::uuid), "
	 "n AS (UPDATE namespaces SET expires_at = $2::timestamptz, version = version + 1, "
	 "    updated_at = now() WHERE id = $1::uuid AND status <> 'deleted' "
	 "  RETURNING namespace_json(namespaces) AS j, id, version, status, tenant_id), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, "
	 "        resource_type, resource_id, request_id, changes) "
	 "      SELECT n.tenant_id, NULLIF($3, '')::uuid, NULLIF($4, '')::uuid, "
	 "        CASE WHEN $4 = '' THEN 'system' ELSE 'user' END, 'namespace.expiry', 'namespace', "
	 "        n.id::text, $5, jsonb_build_object('expires_at', "
	 "          CASE WHEN $2 IS NULL THEN NULL ELSE rfc3339($2::timestamptz) END, "
	 "          'previous_expires_at', (SELECT CASE WHEN o.expires_at IS NULL THEN NULL "
	 "            ELSE rfc3339(o.expires_at) END FROM o)) FROM n) "
	 "SELECT n.j::text, n.version, n.id, n.status FROM n"},
	/* Expired dev namespaces whose deletion can start (one still being
	 * provisioned or updated waits for the next run). */
	{"ns_expired",
	 "SELECT id::text, tenant_id::text, rfc3339(expires_at) FROM namespaces "
	 "WHERE expires_at <= now() AND environment = 'dev' "
	 "  AND status IN ('ready', 'degraded', 'failed', 'pending_approval', 'rejected') "
	 "ORDER BY expires_at LIMIT $1"},
	{"ns_get",
	 "SELECT namespace_json(n)::text, n.version, n.id, n.status, COALESCE(n.job_id::text, '') "
	 "FROM namespaces n "
	 "WHERE n.tenant_id = $1::uuid AND (n.id = $2::uuid OR ($2::uuid IS NULL AND n.name = $3)) "
	 "ORDER BY (n.status = 'deleted'), n.created_at DESC LIMIT 1"},
	{"ns_lock",
	 "SELECT namespace_json(n)::text, n.version, n.id, n.status, COALESCE(n.job_id::text, '') "
	 "FROM namespaces n "
	 "WHERE n.tenant_id = $1::uuid AND (n.id = $2::uuid OR ($2::uuid IS NULL AND n.name = $3)) "
	 "  AND n.status <> 'deleted' "
	 "ORDER BY n.created_at DESC LIMIT 1 FOR UPDATE"},
	{"ns_list",
	 "SELECT namespace_json(n)::text, "
	 "  ((extract(epoch FROM n.created_at) * 1000000)::bigint)::text || '|' || n.id::text "
	 "FROM namespaces n "
	 "WHERE n.tenant_id = $1::uuid "
	 "  AND (($2::text IS NULL AND n.status <> 'deleted') OR n.status = $2) "
	 "  AND ($3::text IS NULL OR n.environment = $3) "
	 "  AND ($4::text IS NULL OR n.name = $4) "
	 "  AND ($5::bigint IS NULL OR (n.created_at, n.id) < "
	 "       ('epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6::uuid)) "
	 "ORDER BY n.created_at DESC, n.id DESC LIMIT $7"},
	{"ns_deprovision",
	 "WITH n AS (UPDATE namespaces SET status = 'deprovisioning', job_id = $2::uuid, "
	 "    last_error = NULL, version = version + 1, updated_at = now() "
	 "  WHERE id = $1::uuid AND status <> 'deleted' "
	 "  RETURNING namespace_json(namespaces) AS j, id, version, status, tenant_id), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, "
	 "        resource_type, resource_id, request_id, changes) "
	 "      SELECT n.tenant_id, NULLIF($3, '')::uuid, NULLIF($4, '')::uuid, "
	 "        CASE WHEN $4 = '' THEN 'system' ELSE 'user' END, 'namespace.delete', 'namespace', "
	 "        n.id::text, $5, jsonb_strip_nulls(jsonb_build_object('status', 'deprovisioning', "
	 "          'job_id', $2::text, 'canceled_job_id', NULLIF($6, ''))) FROM n) "
	 "SELECT n.j::text, n.version, n.id, n.status FROM n"},

	/* ---- worker ---- */
	/* Ready or degraded namespaces due for drift repair: not re-read for
	 * 75-100% of the interval $1 (seconds), the share fixed per namespace
	 * by a hash of its id, so they spread out instead of coming due
	 * together. At most $2, least recently read first. */
	{"ns_reconcile_due",
	 "SELECT id::text FROM namespaces WHERE status IN ('ready', 'degraded') "
	 "  AND (last_reconciled_at IS NULL OR last_reconciled_at < now() - make_interval(secs => "
	 "       $1::int * (0.75 + 0.25 * ((hashtext(id::text) & 1023) / 1023.0)))) "
	 "ORDER BY last_reconciled_at NULLS FIRST LIMIT $2::int"},
	/* The outcome of one repair ($2 'ok' or 'failed', $3 the repairs made,
	 * $4 the error). $5 failures in a row make a ready namespace degraded;
	 * a success makes a degraded one ready. Audited when something was
	 * repaired or the status moved. */
	{"ns_reconciled",
	 "WITH o AS (SELECT status, reconcile_failures FROM namespaces WHERE id = $1::uuid "
	 "    AND status IN ('ready', 'degraded') FOR UPDATE), "
	 "n AS (UPDATE namespaces x SET last_reconciled_at = now(), "
	 "    reconcile_failures = CASE WHEN $2 = 'ok' THEN 0 ELSE o.reconcile_failures + 1 END, "
	 "    status = CASE WHEN $2 = 'ok' THEN 'ready' "
	 "      WHEN o.reconcile_failures + 1 >= $5::int THEN 'degraded' ELSE o.status END, "
	 "    last_error = CASE WHEN $2 = 'ok' THEN NULL ELSE $4::jsonb END, "
	 "    version = version + CASE WHEN x.status = (CASE WHEN $2 = 'ok' THEN 'ready' "
	 "      WHEN o.reconcile_failures + 1 >= $5::int THEN 'degraded' ELSE o.status END) "
	 "      AND last_error IS NOT DISTINCT FROM (CASE WHEN $2 = 'ok' THEN NULL ELSE $4::jsonb END) "
	 "      THEN 0 ELSE 1 END, "
	 "    updated_at = now() "
	 "  FROM o WHERE x.id = $1::uuid "
	 "  RETURNING x.id, x.tenant_id, x.status, o.status AS was), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_kind, action, resource_type, resource_id, "
	 "        request_id, changes) "
	 "      SELECT n.tenant_id, 'system', "
	 "        CASE WHEN n.status <> n.was AND n.status = 'degraded' THEN 'namespace.degraded' "
	 "             WHEN n.status <> n.was THEN 'namespace.recovered' ELSE 'namespace.repaired' END, "
	 "        'namespace', n.id::text, $6, jsonb_strip_nulls(jsonb_build_object('status', n.status, "
	 "          'repaired', $3::jsonb, 'last_error', $4::jsonb)) FROM n "
	 "      WHERE n.status <> n.was OR jsonb_array_length($3::jsonb) > 0) "
	 "SELECT n.status FROM n"},
	{"ns_work_load",
	 "SELECT json_build_object('id', n.id, 'tenant_id', n.tenant_id, 'name', n.name, "
	 "  'environment', n.environment, 'location', n.location, 'status', n.status, "
	 "  'job_id', n.job_id, 'resource_group', n.resource_group, 'containers', n.containers, "
	 "  'tenant_slug', t.slug, 'admin_group', t.aad_admin_group_id, 'size', n.size, "
	 "  'k8s_cluster_id', n.kubernetes->>'cluster_id', 'k8s_namespace', n.kubernetes->>'namespace', "
	 "  'tags', json_build_object('Project', 'atrium', 'Tenant', t.slug, "
	 "    'Environment', n.environment, "
	 "    'Owner', COALESCE(t.tags->>'Owner', t.tags->>'owner', 'atrium'), "
	 "    'CostCenter', COALESCE(t.tags->>'CostCenter', t.tags->>'cost_center', "
	 "      t.tags->>'costcenter', 'unassigned')))::text "
	 "FROM namespaces n JOIN tenants t ON t.id = n.tenant_id WHERE n.id = $1::uuid"},
	{"ns_work_start",
	 "WITH own AS (SELECT id FROM namespaces WHERE id = $1::uuid AND job_id = $2::uuid "
	 "    AND status IN ('pending', 'provisioning', 'updating')), "
	 "n AS (UPDATE namespaces SET status = 'provisioning', version = version + 1, "
	 "    updated_at = now() "
	 "  WHERE id = $1::uuid AND job_id = $2::uuid AND status = 'pending' "
	 "  RETURNING id, tenant_id), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_kind, action, resource_type, resource_id, "
	 "        request_id, changes) "
	 "      SELECT n.tenant_id, 'system', 'namespace.provisioning', 'namespace', n.id::text, $3, "
	 "        '{\"status\":\"provisioning\"}'::jsonb FROM n) "
	 "SELECT count(*) FROM own"},
	{"ns_work_resources",
	 "UPDATE namespaces SET resources = resources || $3::jsonb, version = version + 1, "
	 "  updated_at = now() "
	 "WHERE id = $1::uuid AND job_id = $2::uuid RETURNING 1"},
	{"ns_work_error",
	 "UPDATE namespaces SET last_error = $3::jsonb, version = version + 1, updated_at = now() "
	 "WHERE id = $1::uuid AND job_id = $2::uuid "
	 "  AND last_error IS DISTINCT FROM $3::jsonb RETURNING 1"},
	{"ns_work_finish",
	 "WITH n AS (UPDATE namespaces SET status = $3, last_error = $4::jsonb, "
	 "    resources = CASE WHEN $3 = 'deleted' THEN '{}'::jsonb ELSE resources END, "
	 "    deleted_at = CASE WHEN $3 = 'deleted' THEN now() ELSE deleted_at END, "
	 "    version = version + 1, updated_at = now() "
	 "  WHERE id = $1::uuid AND job_id = $2::uuid AND status = ANY($5::text[]) "
	 "  RETURNING id, tenant_id, status, resources), "
	 "a AS (INSERT INTO audit_log (tenant_id, actor_kind, action, resource_type, resource_id, "
	 "        request_id, changes) "
	 "      SELECT n.tenant_id, 'system', $6, 'namespace', n.id::text, $7, "
	 "        jsonb_strip_nulls(jsonb_build_object('status', n.status, 'resources', n.resources, "
	 "          'last_error', $4::jsonb, 'job_id', $2::text)) FROM n) "
	 "SELECT count(*) FROM n"},
};

void namespaces_register(void)
{
	db_register(DB_PORTAL, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

int namespaces_count_by_state(struct ns_state_count *out, int max)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return -1;
	int n = -1;
	if (db_scope(c, "*")) {
		PGresult *res = db_exec(c, "ns_count_by_state", 0, NULL);
		if (db_ok(res)) {
			n = 0;
			for (int i = 0; i < PQntuples(res) && n < max; i++, n++) {
				snprintf(out[n].state, sizeof(out[n].state), "%s", PQgetvalue(res, i, 0));
				out[n].count = atoll(PQgetvalue(res, i, 1));
			}
		}
		PQclear(res);
	}
	db_release(c);
	return n;
}

/* ---- names ------------------------------------------------------------------ */

void namespaces_names(const char *slug, const char *name, const char *tenant_id, bool hashed,
		      struct ns_names *out)
{
	memset(out, 0, sizeof(*out));
	char plain[160];
	snprintf(plain, sizeof(plain), "%s-%s", slug, name);
	size_t n = strlen(plain);
	bool ok = !hashed && n <= NS_KEY_MAX && strstr(plain, "--") == NULL;
	if (ok) {
		snprintf(out->key, sizeof(out->key), "%.55s", plain);
	} else {
		/* Collapse hyphen runs, keep what fits, and add a hash of the
		 * tenant and name so the result stays unique. */
		char base[160];
		size_t m = 0;
		for (size_t i = 0; i < n && m < NS_KEY_MAX - 9; i++) {
			if (plain[i] == '-' && m > 0 && base[m - 1] == '-')
				continue;
			base[m++] = plain[i];
		}
		while (m > 0 && base[m - 1] == '-')
			m--;
		base[m] = '\0';
		char *material = xasprintf("%s/%s", tenant_id, name);
		char hex[65];
		util_sha256_hex(material, strlen(material), hex);
		free(material);
		snprintf(out->key, sizeof(out->key), "%.46s-%.8s", base, hex);
	}
	snprintf(out->resource_group, sizeof(out->resource_group), "atrium-%s", out->key);
	for (int i = 0; i < NS_NCONTAINERS; i++)
		snprintf(out->containers[i], sizeof(out->containers[i]), "%s-%s", out->key,
			 namespaces_container_suffixes[i]);
}

/* ---- API side ------------------------------------------------------------- */

/* Copies a (json, version, id, status[, job_id]) row into out. */
static void take_row(PGresult *res, struct arena *ar, struct ns_out *out)
{
	memset(out, 0, sizeof(*out));
	out->json = arena_strdup(ar, PQgetvalue(res, 0, 0));
	out->version = atoll(PQgetvalue(res, 0, 1));
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 2));
	snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 3));
	if (PQnfields(res) > 4)
		snprintf(out->job_id, sizeof(out->job_id), "%s", PQgetvalue(res, 0, 4));
}

enum status namespaces_tenant_lock(struct db_conn *c, const char *tenant_id, char slug[64],
					  char status[16], int *live, int *quota)
{
	const char *v[] = {tenant_id};
	PGresult *res = db_exec(c, "ns_tenant_lock", 1, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK) {
			snprintf(slug, 64, "%s", PQgetvalue(res, 0, 0));
			snprintf(status, 16, "%s", PQgetvalue(res, 0, 1));
			*quota = atoi(PQgetvalue(res, 0, 2));
		}
	}
	if (st == ST_OK) {
		PQclear(res);
		res = db_exec(c, "ns_live_count", 1, v);
		if (db_ok(res) && PQntuples(res) == 1)
			*live = atoi(PQgetvalue(res, 0, 0));
		else
			st = ST_UNAVAILABLE;
	}
	PQclear(res);
	return st;
}

enum status namespaces_create(struct db_conn *c, const char *tenant_id, const char *id,
				     json_t *in, const struct ns_names *names, const char *job_id,
				     const char *status, const char *size, json_t *kubernetes,
				     const struct audit_ctx *a, struct arena *ar, struct ns_out *out,
				     const char **conflict)
{
	char *k8s = kubernetes ? json_dumps(kubernetes, JSON_COMPACT) : NULL;
	json_t *q = json_object_get(in, "quota");
	char *quota = json_is_object(q) ? json_dumps(q, JSON_COMPACT) : NULL;
	/* Container names are [a-z0-9-]: safe inside an array literal. */
	char containers[3 * 64 + 8];
	snprintf(containers, sizeof(containers), "{%s,%s,%s}", names->containers[0],
		 names->containers[1], names->containers[2]);
	const char *v[] = {
		id, tenant_id, json_string_value(json_object_get(in, "name")),
		json_string_value(json_object_get(in, "environment")),
		json_string_value(json_object_get(in, "location")), quota, names->resource_group,
		containers, job_id, a->actor_tid, a->actor_oid, a->request_id, size, k8s, status,
		json_string_value(json_object_get(in, "expires_at")),
	};
	PGresult *res = db_exec(c, "ns_create", 16, v);
	free(quota);
	free(k8s);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		if (PQntuples(res) == 1) {
			take_row(res, ar, out);
			st = ST_OK;
		} else {
			*conflict = "resource_group";
			st = ST_CONFLICT;
		}
	} else if (res && strcmp(db_sqlstate(res), "23505") == 0) {
		*conflict = "name";
		st = ST_CONFLICT;
	} else if (res && strcmp(db_sqlstate(res), "23503") == 0) {
		st = ST_NOT_FOUND; /* the tenant vanished */
	}
	PQclear(res);
	return st;
}

static enum status get_one(struct db_conn *c, const char *stmt, const char *tenant_id,
				  const char *key, bool key_is_id, struct arena *ar,
				  struct ns_out *out)
{
	const char *v[] = {tenant_id, key_is_id ? key : NULL, key_is_id ? NULL : key};
	PGresult *res = db_exec(c, stmt, 3, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK)
			take_row(res, ar, out);
	}
	PQclear(res);
	return st;
}

enum status namespaces_get(struct db_conn *c, const char *tenant_id, const char *key,
				  bool key_is_id, struct arena *ar, struct ns_out *out)
{
	return get_one(c, "ns_get", tenant_id, key, key_is_id, ar, out);
}

enum status namespaces_lock(struct db_conn *c, const char *tenant_id, const char *key,
				   bool key_is_id, struct arena *ar, struct ns_out *out)
{
	return get_one(c, "ns_lock", tenant_id, key, key_is_id, ar, out);
}

enum status namespaces_list(struct db_conn *c, const struct ns_filter *f, struct arena *ar,
				   char **page)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	const char *v[] = {f->tenant_id, f->status, f->environment, f->name,
			   f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim};
	PGresult *res = db_exec(c, "ns_list", 7, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		*page = page_json(res, f->limit, ar);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status namespaces_deprovision(struct db_conn *c, const char *id, const char *job_id,
					  const char *canceled_job, const struct audit_ctx *a,
					  struct arena *ar, struct ns_out *out)
{
	const char *v[] = {id, job_id, a->actor_tid, a->actor_oid, a->request_id, canceled_job};
	PGresult *res = db_exec(c, "ns_deprovision", 6, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK)
			take_row(res, ar, out);
	}
	PQclear(res);
	return st;
}

/* One (json, version, id, status) row or ST_NOT_FOUND. */
static enum status change_one(struct db_conn *c, const char *stmt, int n, const char *const *v,
			      struct arena *ar, struct ns_out *out)
{
	PGresult *res = db_exec(c, stmt, n, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK)
			take_row(res, ar, out);
	}
	PQclear(res);
	return st;
}

enum status namespaces_decide(struct db_conn *c, const char *id, bool approve, const char *reason,
			      const char *job_id, const struct audit_ctx *a, struct arena *ar,
			      struct ns_out *out)
{
	const char *v[] = {id, approve ? job_id : NULL, approve ? "approved" : "rejected", reason,
			   a->actor_oid, a->actor_tid, a->request_id};
	return change_one(c, "ns_decide", 7, v, ar, out);
}

enum status namespaces_discard(struct db_conn *c, const char *id, const struct audit_ctx *a,
			       struct arena *ar, struct ns_out *out)
{
	const char *v[] = {id, a->actor_tid, a->actor_oid, a->request_id};
	return change_one(c, "ns_discard", 4, v, ar, out);
}

enum ns_delete namespaces_delete_begin(struct db_conn *c, const char *tenant_id,
				      const struct audit_ctx *a, struct arena *ar, struct ns_out *n)
{
	if (strcmp(n->status, "deprovisioning") == 0)
		return NS_DELETE_ALREADY;
	char *id = arena_strdup(ar, n->id);
	if (strcmp(n->status, "pending_approval") == 0 || strcmp(n->status, "rejected") == 0)
		/* Nothing was made in Azure: deleted at once. */
		return namespaces_discard(c, id, a, ar, n) == ST_OK ? NS_DELETE_DISCARDED
								    : NS_DELETE_FAILED;
	const char *canceled = "";
	if (strcmp(n->status, "pending") == 0 || strcmp(n->status, "provisioning") == 0 ||
	    strcmp(n->status, "updating") == 0) {
		bool done = false;
		if (n->job_id[0] &&
		    !jobs_cancel_if_queued(c, n->job_id, "Canceled",
					   "the namespace was deleted before it was provisioned", &done))
			return NS_DELETE_FAILED;
		if (!done)
			return NS_DELETE_BUSY;
		canceled = arena_strdup(ar, n->job_id);
	}
	char job_id[37];
	json_t *payload = json_pack("{s:s}", "namespace_id", id);
	bool queued = jobs_enqueue(c, NAMESPACE_DEPROVISION, tenant_id, payload, a->request_id, job_id);
	json_decref(payload);
	if (!queued || namespaces_deprovision(c, id, job_id, canceled, a, ar, n) != ST_OK)
		return NS_DELETE_FAILED;
	return NS_DELETE_QUEUED;
}

enum status namespaces_expiry_check(struct db_conn *c, const char *ts)
{
	const char *v[] = {ts};
	PGresult *res = db_exec(c, "ns_expiry_window", 1, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1)
		st = strcmp(PQgetvalue(res, 0, 0), "true") == 0 ? ST_OK : ST_INVALID;
	PQclear(res);
	return st;
}

enum status namespaces_set_expiry(struct db_conn *c, const char *id, const char *ts,
				  const struct audit_ctx *a, struct arena *ar, struct ns_out *out)
{
	const char *v[] = {id, ts, a->actor_tid, a->actor_oid, a->request_id};
	return change_one(c, "ns_set_expiry", 5, v, ar, out);
}

enum status namespaces_resize(struct db_conn *c, const char *id, const struct ns_size *z,
			      const char *job_id, const struct audit_ctx *a, struct arena *ar,
			      struct ns_out *out)
{
	json_t *k = namespaces_size_json(z);
	char *kt = json_dumps(k, JSON_COMPACT);
	json_decref(k);
	const char *v[] = {id, z->name, kt, job_id, a->actor_tid, a->actor_oid, a->request_id};
	enum status st = change_one(c, "ns_resize", 7, v, ar, out);
	free(kt);
	return st;
}

/* ---- worker side ---------------------------------------------------------- */

/*
 * Runs one statement on a connection of its own (scope "*") and returns
 * the result (caller PQclear()s), or NULL when portal_db is unreachable.
 */
static PGresult *work_exec(const char *stmt, int n, const char *const *v)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return NULL;
	PGresult *res = NULL;
	if (db_scope(c, "*"))
		res = db_exec(c, stmt, n, v);
	db_release(c);
	return res;
}

static void copy_str(json_t *o, const char *key, char *dst, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));
	snprintf(dst, n, "%s", s ? s : "");
}

enum status namespaces_work_load(const char *id, struct ns_work *out)
{
	memset(out, 0, sizeof(*out));
	const char *v[] = {id};
	PGresult *res = work_exec("ns_work_load", 1, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = ST_NOT_FOUND;
		json_t *o = PQntuples(res) == 1 ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
		if (o) {
			copy_str(o, "id", out->id, sizeof(out->id));
			copy_str(o, "tenant_id", out->tenant_id, sizeof(out->tenant_id));
			copy_str(o, "name", out->name, sizeof(out->name));
			copy_str(o, "environment", out->environment, sizeof(out->environment));
			copy_str(o, "location", out->location, sizeof(out->location));
			copy_str(o, "status", out->status, sizeof(out->status));
			copy_str(o, "job_id", out->job_id, sizeof(out->job_id));
			copy_str(o, "resource_group", out->resource_group, sizeof(out->resource_group));
			copy_str(o, "tenant_slug", out->tenant_slug, sizeof(out->tenant_slug));
			copy_str(o, "admin_group", out->admin_group, sizeof(out->admin_group));
			copy_str(o, "size", out->size, sizeof(out->size));
			copy_str(o, "k8s_cluster_id", out->k8s_cluster_id, sizeof(out->k8s_cluster_id));
			copy_str(o, "k8s_namespace", out->k8s_namespace, sizeof(out->k8s_namespace));
			size_t i;
			json_t *name;
			json_array_foreach(json_object_get(o, "containers"), i, name) {
				if (i >= NS_NCONTAINERS)
					break;
				const char *cn = json_string_value(name);
				snprintf(out->containers[i], sizeof(out->containers[i]), "%s", cn ? cn : "");
				out->ncontainers = (int)i + 1;
			}
			out->tags = json_incref(json_object_get(o, "tags"));
			json_decref(o);
			st = ST_OK;
		}
	}
	PQclear(res);
	return st;
}

void namespaces_work_free(struct ns_work *w)
{
	json_decref(w->tags);
	w->tags = NULL;
}

bool namespaces_work_start(const char *id, const char *job_id, const char *request_id)
{
	const char *v[] = {id, job_id, request_id};
	PGresult *res = work_exec("ns_work_start", 3, v);
	bool owns = db_ok(res) && PQntuples(res) == 1 && atoi(PQgetvalue(res, 0, 0)) == 1;
	PQclear(res);
	return owns;
}

bool namespaces_work_resources(const char *id, const char *job_id, json_t *patch)
{
	char *p = json_dumps(patch, JSON_COMPACT);
	const char *v[] = {id, job_id, p ? p : "{}"};
	PGresult *res = work_exec("ns_work_resources", 3, v);
	free(p);
	bool ok = db_ok(res);
	PQclear(res);
	return ok;
}

bool namespaces_work_error(const char *id, const char *job_id, json_t *error)
{
	char *e = error ? json_dumps(error, JSON_COMPACT) : NULL;
	const char *v[] = {id, job_id, e};
	PGresult *res = work_exec("ns_work_error", 3, v);
	free(e);
	bool ok = db_ok(res);
	PQclear(res);
	return ok;
}

bool namespaces_work_finish(const char *id, const char *job_id, const char *from, const char *to,
			    json_t *error, const char *action, const char *request_id)
{
	char *e = error ? json_dumps(error, JSON_COMPACT) : NULL;
	const char *v[] = {id, job_id, to, e, from, action, request_id};
	PGresult *res = work_exec("ns_work_finish", 7, v);
	free(e);
	bool moved = db_ok(res) && PQntuples(res) == 1 && atoi(PQgetvalue(res, 0, 0)) == 1;
	PQclear(res);
	if (!moved)
		log_info("namespace %s: job %s did not move it to %s (no longer its job, or not in %s)", id,
			 job_id, to, from);
	return moved;
}

int namespaces_reconcile_due(int interval_s, int max, char (*ids)[37])
{
	char iv[16], mx[16];
	snprintf(iv, sizeof(iv), "%d", interval_s);
	snprintf(mx, sizeof(mx), "%d", max);
	const char *v[] = {iv, mx};
	PGresult *res = work_exec("ns_reconcile_due", 2, v);
	int n = -1;
	if (db_ok(res)) {
		n = PQntuples(res) < max ? PQntuples(res) : max;
		for (int i = 0; i < n; i++)
			snprintf(ids[i], 37, "%s", PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return n;
}

bool namespaces_reconciled(const char *id, bool ok, json_t *repaired, json_t *error,
			   int degrade_after, const char *request_id, char status[24])
{
	char *rep = json_dumps(repaired, JSON_COMPACT);
	char *err = error ? json_dumps(error, JSON_COMPACT) : NULL;
	char da[16];
	snprintf(da, sizeof(da), "%d", degrade_after);
	const char *v[] = {id, ok ? "ok" : "failed", rep ? rep : "[]", err, da, request_id};
	PGresult *res = work_exec("ns_reconciled", 6, v);
	free(rep);
	free(err);
	bool moved = db_ok(res) && PQntuples(res) == 1;
	status[0] = '\0';
	if (moved)
		snprintf(status, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return moved;
}

bool namespaces_offboard_pass(const char *tenant_id, const char *request_id,
			      struct ns_offboard *out)
{
	memset(out, 0, sizeof(*out));
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return false;
	bool ok = db_scope(c, "*");
	PGresult *ids = NULL;
	struct arena ar = {0};
	const struct audit_ctx a = {.actor_tid = "", .actor_oid = "", .request_id = request_id};
	if (ok) {
		const char *v[] = {tenant_id};
		ids = db_exec(c, "ns_live_ids", 1, v);
		ok = db_ok(ids);
	}
	for (int i = 0; ok && i < PQntuples(ids); i++) {
		struct ns_out n;
		if (!db_begin(c)) {
			ok = false;
			break;
		}
		enum status st = namespaces_lock(c, tenant_id, PQgetvalue(ids, i, 0), true, &ar, &n);
		if (st != ST_OK) {
			db_rollback(c);
			ok = st == ST_NOT_FOUND; /* deleted meanwhile */
			continue;
		}
		enum ns_delete d = namespaces_delete_begin(c, tenant_id, &a, &ar, &n);
		if (d == NS_DELETE_FAILED || ((d == NS_DELETE_QUEUED || d == NS_DELETE_DISCARDED) &&
					      !db_commit(c))) {
			db_rollback(c);
			ok = false;
			break;
		}
		if (d == NS_DELETE_ALREADY || d == NS_DELETE_BUSY)
			db_rollback(c);
		out->queued += d == NS_DELETE_QUEUED;
		out->busy += d == NS_DELETE_BUSY;
		arena_free(&ar);
	}
	PQclear(ids);
	if (ok) {
		const char *v[] = {tenant_id};
		PGresult *res = db_exec(c, "ns_live_count", 1, v);
		ok = db_ok(res) && PQntuples(res) == 1;
		if (ok)
			out->remaining = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	arena_free(&ar);
	db_release(c);
	return ok;
}

int namespaces_expire_due(const char *request_id, int max)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL)
		return -1;
	int started = -1;
	PGresult *due = NULL;
	struct arena ar = {0};
	const struct audit_ctx a = {.actor_tid = "", .actor_oid = "", .request_id = request_id};
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", max);
	const char *lv[] = {lim};
	if (!db_scope(c, "*") || !db_ok(due = db_exec(c, "ns_expired", 1, lv)))
		goto cleanup;
	started = 0;
	for (int i = 0; i < PQntuples(due); i++) {
		const char *id = PQgetvalue(due, i, 0), *tenant = PQgetvalue(due, i, 1);
		struct ns_out n;
		if (!db_begin(c)) {
			started = -1;
			break;
		}
		if (namespaces_lock(c, tenant, id, true, &ar, &n) != ST_OK) {
			db_rollback(c);
			continue;
		}
		json_t *why = json_pack("{s:s}", "expires_at", PQgetvalue(due, i, 2));
		bool ok = portal_audit_record(c, tenant, &a, "namespace.expired", "namespace", id, why);
		json_decref(why);
		enum ns_delete d = ok ? namespaces_delete_begin(c, tenant, &a, &ar, &n) : NS_DELETE_FAILED;
		if ((d == NS_DELETE_QUEUED || d == NS_DELETE_DISCARDED) && db_commit(c)) {
			log_info("namespace %s expired at %s: its deletion started", id,
				 PQgetvalue(due, i, 2));
			started++;
		} else {
			db_rollback(c);
		}
		arena_free(&ar);
	}
cleanup:
	PQclear(due);
	arena_free(&ar);
	db_release(c);
	return started;
}

bool namespaces_queue_regrant(struct db_conn *c, const char *tenant_id, const char *request_id,
			      int *queued)
{
	*queued = 0;
	const char *v[] = {tenant_id};
	PGresult *res = db_exec(c, "ns_regrant_ids", 1, v);
	if (!db_ok(res)) {
		PQclear(res);
		return false;
	}
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(res); i++) {
		json_t *payload = json_pack("{s:s}", "namespace_id", PQgetvalue(res, i, 0));
		char job_id[37];
		ok = jobs_enqueue(c, NAMESPACE_REGRANT, tenant_id, payload, request_id, job_id);
		json_decref(payload);
		*queued += ok;
	}
	PQclear(res);
	return ok;
}
