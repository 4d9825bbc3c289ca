/*
 * Integration: /v1/tenants end to end — validation, conflicts, ETags,
 * pagination, roles and tenant isolation, idempotency under concurrency,
 * the audit trail, and row-level security in portal_db itself.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server/common/util.h"

static char *tenant_path(const char *id)
{
	return xasprintf("/v1/tenants/%s", id);
}

Test(tenants, create_returns_201_location_etag_and_the_resource)
{
	char *tok = super_token();
	char aad[37], u[37];
	random_uuid(aad);
	random_uuid(u);
	char *slug = xasprintf("acme-%.8s", u);
	char *body = xasprintf("{\"slug\":\"%s\",\"name\":\"Acme \\u00c9t\\u00e9\",\"aad_tenant_id\":\"%s\","
			       "\"tags\":{\"Owner\":\"a@acme.test\",\"CostCenter\":\"42\"},\"pax8_company_id\":\"pax-%.8s\"}",
			       slug, aad, u);
	struct resp *r = http("POST", "/v1/tenants", tok, body, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	json_t *t = r->json;
	const char *id = json_string_value(json_object_get(t, "id"));
	cr_assert(util_is_uuid(id));
	cr_assert_str_eq(json_string_value(json_object_get(t, "slug")), slug);
	cr_assert_str_eq(json_string_value(json_object_get(t, "name")), "Acme \xc3\x89t\xc3\xa9");
	cr_assert_str_eq(json_string_value(json_object_get(t, "status")), "active");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(t, "tags"), "CostCenter")), "42");
	cr_assert(json_is_null(json_object_get(t, "quickbooks_realm_id")));
	const char *created = json_string_value(json_object_get(t, "created_at"));
	cr_assert(created && strlen(created) == 27 && created[26] == 'Z', "%s", created);
	char *loc = resp_header(r, "Location");
	char *want = tenant_path(id);
	cr_assert_str_eq(loc, want);
	char *etag = resp_header(r, "ETag");
	cr_assert_str_eq(etag, "\"1\"");

	struct resp *g = http("GET", want, tok, NULL, NULL);
	cr_assert_eq(g->status, 200);
	cr_assert(json_equal(g->json, r->json), "GET returns what POST returned");
	resp_free(g);
	free(loc); free(want); free(etag); free(body); free(slug);
	resp_free(r);
	free(tok);
}

Test(tenants, invalid_bodies_are_422_naming_each_field_and_change_nothing)
{
	char *tok = super_token();
	struct {
		const char *body;
		const char *field;
	} cases[] = {
		{"{\"name\":\"x\",\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\"}", "slug"},
		{"{\"slug\":\"Bad_Slug\",\"name\":\"x\",\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\"}", "slug"},
		{"{\"slug\":\"ok\",\"name\":\"\",\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\"}", "name"},
		{"{\"slug\":\"ok\",\"name\":42,\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\"}", "name"},
		{"{\"slug\":\"ok\",\"name\":\"x\",\"aad_tenant_id\":\"not-a-uuid\"}", "aad_tenant_id"},
		{"{\"slug\":\"ok\",\"name\":\"x\",\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\",\"extra\":1}", "extra"},
		{"{\"slug\":\"ok\",\"name\":\"x\",\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\",\"status\":\"active\"}", "status"},
		{"{\"slug\":\"ok\",\"name\":\"x\",\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\",\"tags\":{\"a\":1}}", "tags"},
		{"{\"slug\":\"ok\",\"name\":\"x\",\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\",\"tags\":[]}", "tags"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp *r = http("POST", "/v1/tenants", tok, cases[i].body, NULL);
		assert_problem(r, 422);
		json_t *errors = json_object_get(r->json, "errors");
		bool named = false;
		size_t j;
		json_t *e;
		json_array_foreach(errors, j, e)
			if (strcmp(json_string_value(json_object_get(e, "field")), cases[i].field) == 0)
				named = true;
		cr_assert(named, "case %zu: errors[] should name %s: %s", i, cases[i].field, r->body);
		resp_free(r);
	}
	/* Nothing was created: the slug "ok" does not exist. */
	struct resp *r = http("GET", "/v1/tenants?slug=ok", tok, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 0);
	resp_free(r);
	/* An over-long name. */
	char *longname = xmalloc(300);
	memset(longname, 'n', 299);
	longname[299] = '\0';
	char *body = xasprintf("{\"slug\":\"ok\",\"name\":\"%s\",\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\"}", longname);
	r = http("POST", "/v1/tenants", tok, body, NULL);
	assert_problem(r, 422);
	resp_free(r);
	free(body);
	free(longname);
	free(tok);
}

Test(tenants, duplicate_slug_or_directory_is_409)
{
	struct tenant t;
	create_tenant(&t);
	char *tok = super_token();
	char aad[37];
	random_uuid(aad);
	char *body = xasprintf("{\"slug\":\"%s\",\"name\":\"dup\",\"aad_tenant_id\":\"%s\"}", t.slug, aad);
	struct resp *r = http("POST", "/v1/tenants", tok, body, NULL);
	assert_problem(r, 409);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r->json, "errors"), 0), "field")), "slug");
	resp_free(r);
	free(body);
	body = xasprintf("{\"slug\":\"other-%.8s\",\"name\":\"dup\",\"aad_tenant_id\":\"%s\"}", aad, t.aad);
	r = http("POST", "/v1/tenants", tok, body, NULL);
	assert_problem(r, 409);
	resp_free(r);
	free(body);
	free(tok);
}

Test(tenants, bad_uuid_in_path_is_404)
{
	char *tok = super_token();
	struct resp *r = http("GET", "/v1/tenants/not-a-uuid", tok, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	char u[37];
	random_uuid(u);
	char *p = tenant_path(u);
	r = http("GET", p, tok, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	free(p);
	free(tok);
}

Test(tenants, patch_honours_if_match_and_merges_tags)
{
	struct tenant t;
	create_tenant(&t);
	char *tok = super_token();
	char *p = tenant_path(t.id);
	const char *h1[] = {"If-Match: \"1\"", NULL};
	struct resp *r = http("PATCH", p, tok, "{\"name\":\"Renamed\",\"tags\":{\"CostCenter\":null,\"Env\":\"prod\"}}", h1);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Renamed");
	json_t *tags = json_object_get(r->json, "tags");
	cr_assert_null(json_object_get(tags, "CostCenter"));
	cr_assert_str_eq(json_string_value(json_object_get(tags, "Env")), "prod");
	cr_assert_str_eq(json_string_value(json_object_get(tags, "Owner")), "ops@example.test");
	char *etag = resp_header(r, "ETag");
	cr_assert_str_eq(etag, "\"2\"");
	resp_free(r);
	/* The stale ETag now fails and changes nothing. */
	r = http("PATCH", p, tok, "{\"name\":\"Lost update\"}", h1);
	assert_problem(r, 412);
	resp_free(r);
	r = http("GET", p, tok, NULL, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Renamed");
	resp_free(r);
	const char *h3[] = {"If-Match: W/\"2\"", NULL};
	r = http("PATCH", p, tok, "{\"name\":\"Weak\"}", h3);
	assert_problem(r, 412);
	resp_free(r);
	/* Read-only and empty patches. */
	r = http("PATCH", p, tok, "{\"slug\":\"new-slug\"}", NULL);
	assert_problem(r, 422);
	resp_free(r);
	r = http("PATCH", p, tok, "{}", NULL);
	assert_problem(r, 422);
	resp_free(r);
	r = http("PATCH", p, tok, "{\"status\":\"deleted\"}", NULL);
	assert_problem(r, 422);
	resp_free(r);
	const char *ct[] = {"Content-Type: application/merge-patch+json", NULL};
	r = http("PATCH", p, tok, "{\"quickbooks_realm_id\":null}", ct);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	free(etag);
	free(p);
	free(tok);
}

Test(tenants, tenant_admin_manages_own_tenant_only_and_not_its_status)
{
	struct tenant a, b;
	create_tenant(&a);
	create_tenant(&b);
	char *admin = mint(a.aad, NULL, "tenant_admin", NULL);
	char *pa = tenant_path(a.id), *pb = tenant_path(b.id);
	struct resp *r = http("PATCH", pa, admin, "{\"name\":\"Mine\"}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	r = http("PATCH", pa, admin, "{\"status\":\"suspended\"}", NULL);
	assert_problem(r, 403);
	resp_free(r);
	/* Another tenant: 404 for read and write, so existence does not leak. */
	r = http("GET", pb, admin, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = http("PATCH", pb, admin, "{\"name\":\"Theirs\"}", NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = http("DELETE", pa, admin, NULL, NULL);
	assert_problem(r, 403);
	resp_free(r);
	/* Listing shows only the caller's tenant. */
	r = http("GET", "/v1/tenants?limit=100", admin, NULL, NULL);
	cr_assert_eq(r->status, 200);
	json_t *data = json_object_get(r->json, "data");
	cr_assert_eq(json_array_size(data), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(data, 0), "id")), a.id);
	resp_free(r);
	/* A member may read but not change. */
	char *member = mint(a.aad, NULL, NULL, NULL);
	r = http("PATCH", pa, member, "{\"name\":\"Member edit\"}", NULL);
	assert_problem(r, 403);
	resp_free(r);
	r = http("GET", pa, member, NULL, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	free(member);
	free(pa);
	free(pb);
	free(admin);
}

Test(tenants, suspension_blocks_the_tenants_users_and_delete_revokes_them)
{
	struct tenant t;
	create_tenant(&t);
	char *member = mint(t.aad, NULL, NULL, NULL);
	char *sup = super_token();
	char *p = tenant_path(t.id);
	struct resp *r = http("GET", p, member, NULL, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	r = http("PATCH", p, sup, "{\"status\":\"suspended\"}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	r = http("GET", p, member, NULL, NULL);
	assert_problem(r, 403);
	resp_free(r);
	r = http("PATCH", p, sup, "{\"status\":\"active\"}", NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	r = http("GET", p, member, NULL, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	r = http("DELETE", p, sup, NULL, NULL);
	cr_assert_eq(r->status, 204);
	resp_free(r);
	r = http("DELETE", p, sup, NULL, NULL);
	cr_assert_eq(r->status, 204, "delete is idempotent");
	resp_free(r);
	r = http("GET", "/v1/me", member, NULL, NULL);
	assert_problem(r, 401);
	resp_free(r);
	r = http("GET", p, sup, NULL, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "deleted");
	resp_free(r);
	r = http("PATCH", p, sup, "{\"name\":\"zombie\"}", NULL);
	assert_problem(r, 409);
	resp_free(r);
	free(p);
	free(sup);
	free(member);
}

Test(tenants, list_paginates_newest_first_without_gaps_or_repeats)
{
	char *tok = super_token();
	char tag[37];
	random_uuid(tag);
	struct tenant made[5];
	for (int i = 0; i < 5; i++)
		create_tenant(&made[i]);
	/* Walk every page of size 2 and find our five in reverse order. */
	char *path = xstrdup("/v1/tenants?limit=2");
	int found = 0, pages = 0;
	char last_created[40] = "9999";
	json_t *seen = json_object();
	while (path && pages < 10000) {
		struct resp *r = http("GET", path, tok, NULL, NULL);
		cr_assert_eq(r->status, 200, "%s", r->body);
		json_t *data = json_object_get(r->json, "data");
		cr_assert(json_array_size(data) <= 2);
		size_t i;
		json_t *t;
		json_array_foreach(data, i, t) {
			const char *id = json_string_value(json_object_get(t, "id"));
			const char *c = json_string_value(json_object_get(t, "created_at"));
			cr_assert_null(json_object_get(seen, id), "tenant %s repeated", id);
			json_object_set_new(seen, id, json_true());
			cr_assert(strcmp(c, last_created) <= 0, "not newest first");
			snprintf(last_created, sizeof(last_created), "%s", c);
			for (int k = 0; k < 5; k++)
				if (strcmp(made[k].id, id) == 0)
					found++;
		}
		free(path);
		path = NULL;
		const char *next = json_string_value(json_object_get(r->json, "next_cursor"));
		if (next)
			path = xasprintf("/v1/tenants?limit=2&cursor=%s", next);
		resp_free(r);
		pages++;
	}
	cr_assert_eq(found, 5);
	json_decref(seen);
	struct resp *r = http("GET", "/v1/tenants?limit=0", tok, NULL, NULL);
	assert_problem(r, 400);
	resp_free(r);
	r = http("GET", "/v1/tenants?limit=101", tok, NULL, NULL);
	assert_problem(r, 400);
	resp_free(r);
	r = http("GET", "/v1/tenants?cursor=garbage!", tok, NULL, NULL);
	assert_problem(r, 400);
	resp_free(r);
	r = http("GET", "/v1/tenants?status=bogus", tok, NULL, NULL);
	assert_problem(r, 400);
	resp_free(r);
	free(tok);
}

Test(tenants, idempotency_key_replays_and_refuses_a_different_body)
{
	char *tok = super_token();
	char aad[37], key[64], u[37];
	random_uuid(aad);
	random_uuid(u);
	snprintf(key, sizeof(key), "Idempotency-Key: create-%s", u);
	const char *h[] = {key, NULL};
	char *body = xasprintf("{\"slug\":\"idem-%.8s\",\"name\":\"Idem\",\"aad_tenant_id\":\"%s\"}", u, aad);
	struct resp *r1 = http("POST", "/v1/tenants", tok, body, h);
	cr_assert_eq(r1->status, 201, "%s", r1->body);
	struct resp *r2 = http("POST", "/v1/tenants", tok, body, h);
	cr_assert_eq(r2->status, 201, "%s", r2->body);
	cr_assert(json_equal(r1->json, r2->json));
	char *replayed = resp_header(r2, "Idempotent-Replayed");
	cr_assert_str_eq(replayed, "true");
	char *l1 = resp_header(r1, "Location"), *l2 = resp_header(r2, "Location");
	cr_assert_str_eq(l1, l2);
	char *other = xasprintf("{\"slug\":\"idem2-%.8s\",\"name\":\"Idem\",\"aad_tenant_id\":\"%s\"}", u, aad);
	struct resp *r3 = http("POST", "/v1/tenants", tok, other, h);
	assert_problem(r3, 422);
	resp_free(r1); resp_free(r2); resp_free(r3);
	free(replayed); free(l1); free(l2); free(other); free(body); free(tok);
}

struct race {
	const char *body;
	const char *key;
	const char *token;
	long status;
	char id[37];
};

static void *race_create(void *arg)
{
	struct race *x = arg;
	const char *h[] = {x->key, NULL};
	struct resp *r = http("POST", "/v1/tenants", x->token, x->body, h);
	x->status = r->status;
	const char *id = json_string_value(json_object_get(r->json, "id"));
	snprintf(x->id, sizeof(x->id), "%s", id ? id : "");
	resp_free(r);
	return NULL;
}

Test(tenants, concurrent_retries_with_one_key_create_one_tenant, .timeout = 120)
{
	char *tok = super_token();
	char aad[37], u[37], key[64];
	random_uuid(aad);
	random_uuid(u);
	snprintf(key, sizeof(key), "Idempotency-Key: race-%s", u);
	char *body = xasprintf("{\"slug\":\"race-%.8s\",\"name\":\"Race\",\"aad_tenant_id\":\"%s\"}", u, aad);
	enum { N = 12 };
	struct race xs[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		xs[i] = (struct race){.body = body, .key = key, .token = tok};
		pthread_create(&th[i], NULL, race_create, &xs[i]);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(xs[i].status, 201, "request %d got %ld", i, xs[i].status);
		cr_assert_str_eq(xs[i].id, xs[0].id);
	}
	char *q = xasprintf("/v1/tenants?slug=race-%.8s", u);
	struct resp *r = http("GET", q, tok, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1);
	resp_free(r);
	free(q);
	free(body);
	free(tok);
}

Test(tenants, every_change_is_audited_with_actor_and_request_id)
{
	struct tenant t;
	create_tenant(&t);
	char *sup = super_token();
	char *p = tenant_path(t.id);
	const char *h[] = {"X-Request-Id: audit-check-1", NULL};
	struct resp *r = http("PATCH", p, sup, "{\"name\":\"Audited\"}", h);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	char *ap = xasprintf("/v1/tenants/%s/audit", t.id);
	r = http("GET", ap, sup, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_t *data = json_object_get(r->json, "data");
	cr_assert_eq(json_array_size(data), 2);
	json_t *upd = json_array_get(data, 0);
	cr_assert_str_eq(json_string_value(json_object_get(upd, "action")), "tenant.update");
	cr_assert_str_eq(json_string_value(json_object_get(upd, "request_id")), "audit-check-1");
	cr_assert_str_eq(json_string_value(json_object_get(upd, "resource_id")), t.id);
	json_t *actor = json_object_get(upd, "actor");
	cr_assert_str_eq(json_string_value(json_object_get(actor, "tid")), home_tid());
	cr_assert_str_eq(json_string_value(json_object_get(actor, "kind")), "user");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(data, 1), "action")), "tenant.create");
	resp_free(r);
	/* Filter, and roles: a member may not read the audit log. */
	char *fp = xasprintf("/v1/tenants/%s/audit?action=tenant.create", t.id);
	r = http("GET", fp, sup, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1);
	resp_free(r);
	char *member = mint(t.aad, NULL, NULL, NULL);
	r = http("GET", ap, member, NULL, NULL);
	assert_problem(r, 403);
	resp_free(r);
	char *support = mint(t.aad, NULL, "support_user", NULL);
	r = http("GET", ap, support, NULL, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	free(support); free(member); free(fp); free(ap); free(p); free(sup);
}

Test(tenants, row_level_security_hides_other_tenants_in_portal_db)
{
	struct tenant a, b;
	create_tenant(&a);
	create_tenant(&b);
	PGconn *pg = db_connect("ATRIUM_DB_PORTAL_URL");
	const char *v[] = {a.id};
	PGresult *res = PQexecParams(pg, "SELECT set_config('atrium.tenant_id', $1, false)", 1, NULL, v, NULL, NULL, 0);
	PQclear(res);
	res = PQexec(pg, "SELECT id::text FROM tenants");
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	cr_assert_eq(PQntuples(res), 1, "RLS must show only tenant A, saw %d", PQntuples(res));
	cr_assert_str_eq(PQgetvalue(res, 0, 0), a.id);
	PQclear(res);
	res = PQexec(pg, "SELECT count(*) FROM audit_log WHERE tenant_id IS DISTINCT FROM current_setting('atrium.tenant_id')::uuid");
	cr_assert_str_eq(PQgetvalue(res, 0, 0), "0");
	PQclear(res);
	/* With no scope at all, nothing is visible. */
	res = PQexec(pg, "SELECT set_config('atrium.tenant_id', '', false)");
	PQclear(res);
	res = PQexec(pg, "SELECT count(*) FROM tenants");
	cr_assert_str_eq(PQgetvalue(res, 0, 0), "0");
	PQclear(res);
	PQfinish(pg);
}

/* Regression: an upper-case tenant id passed the access check (ids compare
 * case-insensitively) but scoped the database with another spelling than
 * the rows hold, so row-level security hid the tenant's own data. */
Test(tenants, an_upper_case_tenant_id_in_the_path_is_the_same_tenant)
{
	struct tenant t;
	create_tenant(&t);
	char *admin = mint(t.aad, NULL, "tenant_admin", NULL);
	char upper[37], path[160];
	snprintf(upper, sizeof(upper), "%s", t.id);
	for (char *c = upper; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	snprintf(path, sizeof(path), "/v1/tenants/%s/events", upper);
	struct resp *r = http("POST", path, admin,
			      "{\"name\":\"Case\",\"sport\":\"football\",\"starts_at\":\"2031-01-01T00:00:00Z\","
			      "\"selections\":[{\"key\":\"a\",\"name\":\"A\",\"odds\":\"2.00\"},"
			      "{\"key\":\"b\",\"name\":\"B\",\"odds\":\"2.00\"}]}",
			      NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	r = http("GET", path, admin, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1, "%s", r->body);
	resp_free(r);
	snprintf(path, sizeof(path), "/v1/tenants/%s", upper);
	r = http("GET", path, admin, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "id")), t.id);
	resp_free(r);
	free(admin);
}

/* Regression: a cursor whose number overflows bigint reached SQL and came
 * back as a 503; it is a 400 problem naming the parameter. */
Test(tenants, a_crafted_cursor_is_400_not_503)
{
	struct tenant t;
	create_tenant(&t);
	char *admin = mint(t.aad, NULL, "tenant_admin", NULL);
	const char *key = "99999999999999999999|0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f";
	char *cur = util_b64url_encode((const unsigned char *)key, strlen(key));
	const char *lists[] = {"events", "bets", "payments", "audit", "namespaces"};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), "/v1/tenants/%s/%s?cursor=%s", t.id, lists[i], cur);
		struct resp *r = http("GET", path, admin, NULL, NULL);
		cr_assert_eq(r->status, 400, "%s: %ld %s", lists[i], r->status, r->body);
		assert_problem(r, 400);
		resp_free(r);
	}
	char *super = super_token();
	char path[160];
	snprintf(path, sizeof(path), "/v1/tenants?cursor=%s", cur);
	struct resp *r = http("GET", path, super, NULL, NULL);
	assert_problem(r, 400);
	resp_free(r);
	free(super);
	free(cur);
	free(admin);
}

/*
 * Regression: a tenant admin could set its tenant's QuickBooks realm or Pax8
 * company id, and so receive another customer's billing webhooks by naming
 * that customer's id. Only the operator sets them; and a member reads a
 * summary of its tenant, without directory, admin group or billing ids.
 */
Test(tenants, billing_ids_are_the_operators_and_members_read_a_summary)
{
	struct tenant t;
	create_tenant(&t);
	char *admin = mint(t.aad, NULL, "tenant_admin", NULL);
	char *member = mint(t.aad, NULL, NULL, NULL);
	char *super = super_token();
	char path[128];
	snprintf(path, sizeof(path), "/v1/tenants/%s", t.id);
	const char *bodies[] = {"{\"quickbooks_realm_id\":\"9130348651845276\"}",
				"{\"pax8_company_id\":\"pax8-company-of-someone-else\"}",
				"{\"quickbooks_realm_id\":null}"};
	for (int i = 0; i < 3; i++) {
		struct resp *r = http("PATCH", path, admin, bodies[i], NULL);
		assert_problem(r, 403);
		resp_free(r);
	}
	struct resp *r = http("GET", path, super, NULL, NULL);
	cr_assert(json_is_null(json_object_get(r->json, "quickbooks_realm_id")), "nothing changed: %s", r->body);
	cr_assert(json_is_null(json_object_get(r->json, "pax8_company_id")));
	resp_free(r);
	/* The admin still changes what is its own. */
	r = http("PATCH", path, admin, "{\"name\":\"Renamed by its admin\"}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	char realm[40];
	snprintf(realm, sizeof(realm), "realm-%.8s", t.id);
	char body[96];
	snprintf(body, sizeof(body), "{\"quickbooks_realm_id\":\"%s\"}", realm);
	r = http("PATCH", path, super, body, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "quickbooks_realm_id")), realm);
	resp_free(r);

	const char *hidden[] = {"aad_tenant_id", "aad_admin_group_id", "quickbooks_realm_id", "pax8_company_id"};
	r = http("GET", path, member, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "id")), t.id);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Renamed by its admin");
	for (int i = 0; i < 4; i++)
		cr_assert_null(json_object_get(r->json, hidden[i]), "a member reads %s: %s", hidden[i], r->body);
	resp_free(r);
	r = http("GET", "/v1/tenants", member, NULL, NULL);
	json_t *first = json_array_get(json_object_get(r->json, "data"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(first, "id")), t.id);
	for (int i = 0; i < 4; i++)
		cr_assert_null(json_object_get(first, hidden[i]), "a member lists %s: %s", hidden[i], r->body);
	resp_free(r);
	r = http("GET", path, admin, NULL, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "aad_tenant_id")), t.aad);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "quickbooks_realm_id")), realm);
	resp_free(r);
	free(admin);
	free(member);
	free(super);
}
