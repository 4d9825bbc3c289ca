/*
 * test_catalog.c - /v1/tenants/{id}/catalog against the real server and
 * catalog_db: CRUD with each role, the global catalog kept for super
 * admins, tenant isolation (private items and price overrides), search,
 * filters and pages, CSV quoting, ETags, relationships, categories and
 * cable plans.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "server/common/util.h"

TestSuite(catalog, .timeout = 120);

struct ctx {
	struct tenant t;
	char *admin, *member, *billing, *super;
	char run[9]; /* random, in every SKU of a test */
};

static void ctx_new(struct ctx *c)
{
	create_tenant(&c->t);
	c->admin = mint(c->t.aad, NULL, "tenant_admin", NULL);
	c->member = mint(c->t.aad, NULL, NULL, NULL);
	c->billing = mint(c->t.aad, NULL, "billing_viewer", NULL);
	c->super = super_token();
	char u[37];
	random_uuid(u);
	snprintf(c->run, sizeof(c->run), "%.8s", u);
}

static void ctx_free(struct ctx *c)
{
	free(c->admin);
	free(c->member);
	free(c->billing);
	free(c->super);
}

/* A request to /v1/tenants/<c's tenant>/catalog<fmt...>. */
static struct resp *cat(const struct ctx *c, const char *method, const char *tok, const char *body,
			const char *const *headers, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static struct resp *cat(const struct ctx *c, const char *method, const char *tok, const char *body,
			const char *const *headers, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char suffix[512];
	vsnprintf(suffix, sizeof(suffix), fmt, ap);
	va_end(ap);
	char *path = xasprintf("/v1/tenants/%s/catalog%s", c->t.id, suffix);
	struct resp *r = http(method, path, tok, body, headers);
	free(path);
	return r;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long price_of(json_t *item, const char *which)
{
	return json_integer_value(json_object_get(json_object_get(item, which), "amount_minor"));
}

/* Creates a product (201 expected) and copies its id. */
static void product(const struct ctx *c, const char *tok, const char *body, char id[37])
{
	struct resp *r = cat(c, "POST", tok, body, NULL, "/products");
	cr_assert_eq(r->status, 201, "create product: %ld %s", r->status, r->body);
	snprintf(id, 37, "%s", str(r->json, "id"));
	resp_free(r);
}

Test(catalog, tenant_admins_write_private_items_members_read_them_and_billing_viewers_only_read)
{
	struct ctx c;
	ctx_new(&c);
	char *body = xasprintf("{\"sku\": \"SW-%s\", \"name\": \"Edge switch 24\", \"manufacturer\": "
			       "\"Netgear\", \"model\": \"GS724\", \"unit_price_minor\": 19900, "
			       "\"currency\": \"EUR\", \"attributes\": {\"ports\": [{\"count\": 24, "
			       "\"type\": \"rj45\", \"speed_mbps\": 1000}], \"poe_budget_w\": 190}}",
			       c.run);
	struct resp *r = cat(&c, "POST", c.member, body, NULL, "/products");
	assert_problem(r, 403);
	resp_free(r);
	r = cat(&c, "POST", c.billing, body, NULL, "/products");
	assert_problem(r, 403);
	resp_free(r);

	r = cat(&c, "POST", c.admin, body, NULL, "/products");
	cr_assert_eq(r->status, 201, "%s", r->body);
	char id[37];
	snprintf(id, sizeof(id), "%s", str(r->json, "id"));
	cr_assert_str_eq(str(r->json, "scope"), "tenant");
	cr_assert_str_eq(str(r->json, "tenant_id"), c.t.id);
	cr_assert_eq(price_of(r->json, "price"), 19900);
	cr_assert_eq(price_of(r->json, "list_price"), 19900);
	char *loc = resp_header(r, "Location");
	cr_assert_not_null(loc);
	cr_assert_not_null(strstr(loc, id));
	free(loc);
	resp_free(r);

	/* every member role reads */
	const char *readers[] = {c.member, c.billing, c.admin, c.super};
	char *etag = NULL;
	for (int i = 0; i < 4; i++) {
		r = cat(&c, "GET", readers[i], NULL, NULL, "/products/%s", id);
		cr_assert_eq(r->status, 200, "reader %d: %ld %s", i, r->status, r->body);
		free(etag);
		etag = resp_header(r, "ETag");
		resp_free(r);
	}
	cr_assert_not_null(etag);

	/* If-None-Match: 304; a stale If-Match: 412, nothing changed */
	char inm[128], stale[] = "If-Match: \"0.0\"";
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	const char *h304[] = {inm, NULL};
	r = cat(&c, "GET", c.member, NULL, h304, "/products/%s", id);
	cr_assert_eq(r->status, 304, "%ld", r->status);
	resp_free(r);
	const char *h412[] = {stale, NULL};
	r = cat(&c, "PATCH", c.admin, "{\"name\": \"Renamed\"}", h412, "/products/%s", id);
	assert_problem(r, 412);
	resp_free(r);
	r = cat(&c, "PATCH", c.member, "{\"name\": \"Renamed\"}", NULL, "/products/%s", id);
	assert_problem(r, 403);
	resp_free(r);

	char im[128];
	snprintf(im, sizeof(im), "If-Match: %s", etag);
	const char *hok[] = {im, NULL};
	r = cat(&c, "PATCH", c.admin, "{\"name\": \"Renamed\", \"status\": \"eol\", \"manufacturer\": null}",
		hok, "/products/%s", id);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(str(r->json, "name"), "Renamed");
	cr_assert_str_eq(str(r->json, "status"), "eol");
	cr_assert(json_is_null(json_object_get(r->json, "manufacturer")));
	cr_assert_eq(json_integer_value(json_object_get(r->json, "version")), 2);
	char *etag2 = resp_header(r, "ETag");
	cr_assert_str_neq(etag2, etag);
	resp_free(r);
	/* the old tag no longer matches */
	r = cat(&c, "PATCH", c.admin, "{\"name\": \"Again\"}", hok, "/products/%s", id);
	assert_problem(r, 412);
	resp_free(r);

	/* the same SKU again in this tenant: 409 */
	r = cat(&c, "POST", c.admin, body, NULL, "/products");
	assert_problem(r, 409);
	resp_free(r);

	r = cat(&c, "DELETE", c.member, NULL, NULL, "/products/%s", id);
	assert_problem(r, 403);
	resp_free(r);
	r = cat(&c, "DELETE", c.admin, NULL, NULL, "/products/%s", id);
	cr_assert_eq(r->status, 204, "%s", r->body);
	resp_free(r);
	r = cat(&c, "GET", c.admin, NULL, NULL, "/products/%s", id);
	assert_problem(r, 404);
	resp_free(r);
	/* a product is not a service */
	r = cat(&c, "GET", c.admin, NULL, NULL, "/services/%s", id);
	assert_problem(r, 404);
	resp_free(r);
	free(etag);
	free(etag2);
	free(body);
	ctx_free(&c);
}

Test(catalog, an_idempotency_key_replays_the_first_create_and_creates_nothing_more)
{
	struct ctx c;
	ctx_new(&c);
	char *body = xasprintf("{\"sku\": \"IDEM-%s\", \"name\": \"Once\", \"unit_price_minor\": 1, "
			       "\"currency\": \"EUR\"}", c.run);
	char key[64];
	snprintf(key, sizeof(key), "Idempotency-Key: cat-%s", c.run);
	const char *h[] = {key, NULL};
	struct resp *a = cat(&c, "POST", c.admin, body, h, "/products");
	cr_assert_eq(a->status, 201, "%s", a->body);
	struct resp *b = cat(&c, "POST", c.admin, body, h, "/products");
	cr_assert_eq(b->status, 201, "%s", b->body);
	char *replayed = resp_header(b, "Idempotent-Replayed");
	cr_assert_not_null(replayed);
	cr_assert_str_eq(replayed, "true");
	cr_assert_str_eq(str(a->json, "id"), str(b->json, "id"));
	free(replayed);
	/* the same key with another body: 422, nothing made */
	char *other = xasprintf("{\"sku\": \"IDEM2-%s\", \"name\": \"Twice\", \"unit_price_minor\": 1, "
				"\"currency\": \"EUR\"}", c.run);
	struct resp *d = cat(&c, "POST", c.admin, other, h, "/products");
	assert_problem(d, 422);
	struct resp *l = cat(&c, "GET", c.member, NULL, NULL, "/products?q=IDEM2-%s", c.run);
	cr_assert_eq(json_array_size(json_object_get(l->json, "data")), 0, "%s", l->body);
	/* categories too; a key names one request per tenant and caller,
	 * whatever the path */
	char *cb = xasprintf("{\"slug\": \"idem-%s\", \"name\": \"Once\"}", c.run);
	struct resp *c0 = cat(&c, "POST", c.admin, cb, h, "/categories");
	assert_problem(c0, 422);
	resp_free(c0);
	char key2[64];
	snprintf(key2, sizeof(key2), "Idempotency-Key: cat2-%s", c.run);
	const char *h2[] = {key2, NULL};
	struct resp *c1 = cat(&c, "POST", c.admin, cb, h2, "/categories");
	cr_assert_eq(c1->status, 201, "%s", c1->body);
	struct resp *c2 = cat(&c, "POST", c.admin, cb, h2, "/categories");
	cr_assert_eq(c2->status, 201, "%s", c2->body);
	cr_assert_str_eq(str(c1->json, "id"), str(c2->json, "id"));
	resp_free(a);
	resp_free(b);
	resp_free(d);
	resp_free(l);
	resp_free(c1);
	resp_free(c2);
	free(cb);
	free(other);
	free(body);
	ctx_free(&c);
}

Test(catalog, the_global_catalog_is_written_only_by_super_admins_and_read_by_every_tenant)
{
	struct ctx a, b;
	ctx_new(&a);
	ctx_new(&b);
	char *body = xasprintf("{\"scope\": \"global\", \"sku\": \"AP-%s\", \"name\": \"Ceiling AP\", "
			       "\"unit_price_minor\": 24900, \"currency\": \"EUR\"}", a.run);
	struct resp *r = cat(&a, "POST", a.admin, body, NULL, "/products");
	assert_problem(r, 403);
	resp_free(r);
	char id[37];
	product(&a, a.super, body, id);

	r = cat(&b, "GET", b.member, NULL, NULL, "/products/%s", id);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(str(r->json, "scope"), "global");
	cr_assert(json_is_null(json_object_get(r->json, "tenant_id")));
	resp_free(r);

	r = cat(&b, "PATCH", b.admin, "{\"name\": \"Mine now\"}", NULL, "/products/%s", id);
	assert_problem(r, 403);
	resp_free(r);
	r = cat(&b, "DELETE", b.admin, NULL, NULL, "/products/%s", id);
	assert_problem(r, 403);
	resp_free(r);
	r = cat(&b, "PATCH", b.super, "{\"description\": \"Wi-Fi 6E\"}", NULL, "/products/%s", id);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);

	/* services: recurring or one-off */
	char *svc = xasprintf("{\"scope\": \"global\", \"sku\": \"MS-%s\", \"name\": \"Managed Wi-Fi\", "
			      "\"unit_price_minor\": 500, \"currency\": \"EUR\", \"billing\": \"monthly\", "
			      "\"unit\": \"access point\"}", a.run);
	r = cat(&a, "POST", a.super, svc, NULL, "/services");
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_str_eq(str(r->json, "kind"), "service");
	cr_assert_str_eq(str(r->json, "billing"), "monthly");
	resp_free(r);
	r = cat(&a, "POST", a.admin, "{\"sku\": \"X\", \"name\": \"x\", \"unit_price_minor\": 1, "
				     "\"currency\": \"EUR\"}", NULL, "/services");
	assert_problem(r, 422); /* billing and unit are required */
	resp_free(r);
	free(svc);
	free(body);
	ctx_free(&a);
	ctx_free(&b);
}

Test(catalog, another_tenants_private_items_and_price_overrides_are_invisible)
{
	struct ctx a, b;
	ctx_new(&a);
	ctx_new(&b);
	char *priv = xasprintf("{\"sku\": \"PRIV-%s\", \"name\": \"Secret appliance\", "
			       "\"unit_price_minor\": 100000, \"currency\": \"EUR\"}", a.run);
	char pid[37], gid[37];
	product(&a, a.admin, priv, pid);
	char *glob = xasprintf("{\"scope\": \"global\", \"sku\": \"GLB-%s\", \"name\": \"Patch panel\", "
			       "\"unit_price_minor\": 5000, \"currency\": \"EUR\"}", a.run);
	product(&a, a.super, glob, gid);

	/* b: a's private product is 404 everywhere, and not listed */
	const char *methods[] = {"GET", "DELETE"};
	for (int i = 0; i < 2; i++) {
		struct resp *r = cat(&b, methods[i], b.admin, NULL, NULL, "/products/%s", pid);
		assert_problem(r, 404);
		resp_free(r);
	}
	struct resp *r = cat(&b, "PATCH", b.admin, "{\"name\": \"x\"}", NULL, "/products/%s", pid);
	assert_problem(r, 404);
	resp_free(r);
	r = cat(&b, "PUT", b.admin, "{\"amount_minor\": 1, \"currency\": \"EUR\"}", NULL,
		"/products/%s/price-override", pid);
	assert_problem(r, 404);
	resp_free(r);
	r = cat(&b, "GET", b.admin, NULL, NULL, "/products/%s/relationships", pid);
	assert_problem(r, 404);
	resp_free(r);
	r = cat(&b, "GET", b.admin, NULL, NULL, "/products?q=PRIV-%s", a.run);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 0, "%s", r->body);
	resp_free(r);
	/* nor can b point at it from its own rows */
	char *rel = xasprintf("{\"to_item_id\": \"%s\", \"type\": \"requires\"}", pid);
	r = cat(&b, "POST", b.admin, rel, NULL, "/products/%s/relationships", gid);
	assert_problem(r, 422);
	resp_free(r);
	/* a's path with b's token: 404 (tenant scope) */
	r = cat(&a, "GET", b.admin, NULL, NULL, "/products/%s", gid);
	assert_problem(r, 404);
	resp_free(r);

	/* a's override of the global product: a sees it, b the list price */
	r = cat(&a, "PUT", a.member, "{\"amount_minor\": 4200, \"currency\": \"EUR\"}", NULL,
		"/products/%s/price-override", gid);
	assert_problem(r, 403);
	resp_free(r);
	r = cat(&a, "PUT", a.admin, "{\"amount_minor\": 4200, \"currency\": \"USD\"}", NULL,
		"/products/%s/price-override", gid);
	assert_problem(r, 422);
	resp_free(r);
	r = cat(&a, "PUT", a.admin, "{\"amount_minor\": 4200, \"currency\": \"EUR\"}", NULL,
		"/products/%s/price-override", gid);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(price_of(r->json, "price"), 4200);
	cr_assert_eq(price_of(r->json, "list_price"), 5000);
	cr_assert(json_is_true(json_object_get(r->json, "price_overridden")));
	resp_free(r);
	r = cat(&b, "GET", b.member, NULL, NULL, "/products/%s", gid);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(price_of(r->json, "price"), 5000);
	cr_assert(json_is_false(json_object_get(r->json, "price_overridden")));
	resp_free(r);
	/* the price filter uses the effective price */
	r = cat(&a, "GET", a.member, NULL, NULL, "/products?q=GLB-%s&currency=EUR&max_price=4500", a.run);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1, "%s", r->body);
	resp_free(r);
	r = cat(&b, "GET", b.member, NULL, NULL, "/products?q=GLB-%s&currency=EUR&max_price=4500", a.run);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 0, "%s", r->body);
	resp_free(r);
	r = cat(&a, "DELETE", a.admin, NULL, NULL, "/products/%s/price-override", gid);
	cr_assert_eq(r->status, 204);
	resp_free(r);
	r = cat(&a, "GET", a.member, NULL, NULL, "/products/%s", gid);
	cr_assert_eq(price_of(r->json, "price"), 5000);
	resp_free(r);

	/* RLS itself: scoped to b, catalog_db shows none of a's rows */
	PGconn *pg = db_connect("ATRIUM_DB_CATALOG_URL");
	char *sql = xasprintf("SELECT set_config('atrium.tenant_id', '%s', false)", b.t.id);
	PQclear(PQexec(pg, sql));
	free(sql);
	sql = xasprintf("SELECT count(*) FROM items WHERE tenant_id = '%s'", a.t.id);
	PGresult *res = PQexec(pg, sql);
	cr_assert_str_eq(PQgetvalue(res, 0, 0), "0");
	PQclear(res);
	free(sql);
	/* and refuses to write a global row */
	res = PQexec(pg, "INSERT INTO items (kind, sku, name, unit_price_minor, currency) "
			 "VALUES ('product', 'RLS-TEST', 'x', 1, 'EUR')");
	cr_assert_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	PQclear(res);
	PQfinish(pg);
	free(rel);
	free(priv);
	free(glob);
	ctx_free(&a);
	ctx_free(&b);
}

Test(catalog, invalid_bodies_and_queries_are_4xx_naming_each_field_and_create_nothing)
{
	struct ctx c;
	ctx_new(&c);
	struct {
		const char *body, *field;
	} cases[] = {
		{"{\"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"EUR\"}", "sku"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": -1, \"currency\": \"EUR\"}", "unit_price_minor"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": 1.5, \"currency\": \"EUR\"}", "unit_price_minor"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"eur\"}", "currency"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"EUR\", \"colour\": 1}", "colour"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"EUR\", \"status\": \"old\"}", "status"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"EUR\", \"attributes\": {\"ports\": [{\"count\": 1, \"type\": \"usb\", \"speed_mbps\": 1}]}}", "attributes.ports[0].type"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"EUR\", \"attributes\": {\"weight\": 3}}", "attributes.weight"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"EUR\", \"category_id\": \"00000000-0000-4000-8000-000000000000\"}", "category_id"},
		{"{\"sku\": \"bad sku!\", \"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"EUR\"}", "sku"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"EUR\", \"id\": \"00000000-0000-4000-8000-000000000000\"}", "id"},
		{"{\"sku\": \"A\", \"name\": \"x\", \"unit_price_minor\": 1, \"currency\": \"EUR\", \"description\": \"bell \\u0007\"}", "description"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp *r = cat(&c, "POST", c.admin, cases[i].body, NULL, "/products");
		assert_problem(r, 422);
		bool named = false;
		size_t k;
		json_t *e;
		json_array_foreach(json_object_get(r->json, "errors"), k, e)
			named |= strcmp(str(e, "field"), cases[i].field) == 0;
		cr_assert(named, "case %zu: %s not named in %s", i, cases[i].field, r->body);
		resp_free(r);
	}
	const char *queries[] = {"?min_price=10", "?currency=EUR&max_price=1.5", "?status=gone",
				 "?category=nope", "?limit=0", "?cursor=zzz", "?currency=euro"};
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		struct resp *r = cat(&c, "GET", c.member, NULL, NULL, "/products%s", queries[i]);
		assert_problem(r, 400);
		resp_free(r);
	}
	struct resp *r = cat(&c, "PATCH", c.admin, "{}", NULL, "/products/%s", c.t.id);
	cr_assert(r->status == 422 || r->status == 404, "%ld", r->status);
	resp_free(r);
	r = cat(&c, "GET", c.member, NULL, NULL, "/products/not-a-uuid");
	assert_problem(r, 404);
	resp_free(r);
	/* nothing was made */
	r = cat(&c, "GET", c.member, NULL, NULL, "/products?q=x");
	size_t k;
	json_t *e;
	json_array_foreach(json_object_get(r->json, "data"), k, e)
		cr_assert_str_neq(str(e, "tenant_id") ? str(e, "tenant_id") : "", c.t.id);
	resp_free(r);
	ctx_free(&c);
}

Test(catalog, search_filters_and_cursor_pages)
{
	struct ctx c;
	ctx_new(&c);
	const char *names[] = {"Quokka router", "Quokka switch", "Wombat firewall"};
	const char *makers[] = {"Ubiquiti", "Ubiquiti", "Fortinet"};
	long long prices[] = {1000, 2000, 3000};
	char ids[3][37];
	for (int i = 0; i < 3; i++) {
		char *body = xasprintf("{\"sku\": \"S%d-%s\", \"name\": \"%s %s\", \"manufacturer\": \"%s\", "
				       "\"unit_price_minor\": %lld, \"currency\": \"EUR\", \"description\": "
				       "\"tag%s\"}", i, c.run, names[i], c.run, makers[i], prices[i], c.run);
		product(&c, c.admin, body, ids[i]);
		free(body);
	}
	struct resp *r = cat(&c, "GET", c.member, NULL, NULL, "/products?q=quokka%%20%s", c.run);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 2, "%s", r->body);
	resp_free(r);
	r = cat(&c, "GET", c.member, NULL, NULL, "/products?q=S2-%s", c.run);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1, "%s", r->body);
	cr_assert_str_eq(str(json_array_get(json_object_get(r->json, "data"), 0), "id"), ids[2]);
	resp_free(r);
	r = cat(&c, "GET", c.member, NULL, NULL, "/products?q=tag%s&manufacturer=ubiquiti", c.run);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 2, "%s", r->body);
	resp_free(r);
	r = cat(&c, "GET", c.member, NULL, NULL,
		"/products?q=tag%s&currency=EUR&min_price=1500&max_price=2500", c.run);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1, "%s", r->body);
	cr_assert_str_eq(str(json_array_get(json_object_get(r->json, "data"), 0), "id"), ids[1]);
	resp_free(r);
	r = cat(&c, "GET", c.member, NULL, NULL, "/products?q=tag%s&status=eol", c.run);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 0, "%s", r->body);
	resp_free(r);
	/* a search PostgreSQL reads leniently: no 500 */
	r = cat(&c, "GET", c.member, NULL, NULL, "/products?q=%%22%%28%%21%%3A%%2A");
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	const char *csv[] = {"Accept: text/csv", NULL};
	r = cat(&c, "GET", c.member, NULL, csv, "/products?q=%%22%%28%%21%%3A%%2A");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(strncmp(r->body, "id,kind,", 8) == 0, "%s", r->body);
	resp_free(r);

	/* pages of 2, newest first: ids[2], ids[1] | ids[0] */
	r = cat(&c, "GET", c.member, NULL, NULL, "/products?q=tag%s&limit=2", c.run);
	json_t *data = json_object_get(r->json, "data");
	cr_assert_eq(json_array_size(data), 2);
	cr_assert_str_eq(str(json_array_get(data, 0), "id"), ids[2]);
	const char *cursor = str(r->json, "next_cursor");
	cr_assert_not_null(cursor, "%s", r->body);
	struct resp *r2 = cat(&c, "GET", c.member, NULL, NULL, "/products?q=tag%s&limit=2&cursor=%s",
			      c.run, cursor);
	cr_assert_eq(json_array_size(json_object_get(r2->json, "data")), 1, "%s", r2->body);
	cr_assert_str_eq(str(json_array_get(json_object_get(r2->json, "data"), 0), "id"), ids[0]);
	cr_assert(json_is_null(json_object_get(r2->json, "next_cursor")));
	resp_free(r2);
	resp_free(r);
	ctx_free(&c);
}

Test(catalog, csv_export_quotes_commas_quotes_and_line_breaks)
{
	struct ctx c;
	ctx_new(&c);
	char *body = xasprintf("{\"sku\": \"CSV-%s\", \"name\": \"Rack, 42U \\\"deep\\\"\", "
			       "\"unit_price_minor\": 123456, \"currency\": \"EUR\", \"description\": "
			       "\"line one,\\nline \\\"two\\\"\"}", c.run);
	char id[37];
	product(&c, c.admin, body, id);
	const char *accept[] = {"Accept: text/csv", NULL};
	struct resp *r = cat(&c, "GET", c.member, NULL, accept, "/products?q=CSV-%s", c.run);
	cr_assert_eq(r->status, 200, "%s", r->body);
	char *ct = resp_header(r, "Content-Type");
	cr_assert_not_null(strstr(ct, "text/csv"), "%s", ct);
	free(ct);
	cr_assert(strncmp(r->body, "id,kind,scope,sku,name,", 23) == 0, "%s", r->body);
	char *want = xasprintf("\"%s\",\"product\",\"tenant\",\"CSV-%s\",\"Rack, 42U \"\"deep\"\"\","
			       "\"\",\"\",\"active\",\"\",\"line one,\nline \"\"two\"\"\","
			       "\"123456\",\"123456\",\"EUR\"\r\n", id, c.run);
	cr_assert_not_null(strstr(r->body, want), "want:\n%s\ngot:\n%s", want, r->body);
	/* header + one row: exactly two CRLF line ends */
	int crlf = 0;
	for (const char *p = r->body; (p = strstr(p, "\r\n")); p += 2)
		crlf++;
	cr_assert_eq(crlf, 2, "%s", r->body);
	free(want);
	resp_free(r);
	/* Accept is negotiated: q=0 refuses CSV, a type neither JSON nor CSV is 406. */
	const char *no_csv[] = {"Accept: text/csv;q=0, application/json", NULL};
	r = cat(&c, "GET", c.member, NULL, no_csv, "/products?q=CSV-%s", c.run);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_not_null(r->json, "JSON when CSV is refused: %s", r->body);
	resp_free(r);
	const char *png[] = {"Accept: image/png", NULL};
	r = cat(&c, "GET", c.member, NULL, png, "/products?q=CSV-%s", c.run);
	assert_problem(r, 406);
	resp_free(r);
	free(body);
	ctx_free(&c);
}

/* A cell a spreadsheet would run as a formula is exported as text (a
 * leading '); the JSON keeps what was written. */
Test(catalog, csv_export_neutralises_cells_that_spreadsheets_read_as_formulas)
{
	struct ctx c;
	ctx_new(&c);
	char *body = xasprintf("{\"sku\": \"FX-%s\", \"name\": \"=HYPERLINK(\\\"http://evil\\\",\\\"x\\\")\", "
			       "\"model\": \"@SUM(A1)\", \"unit_price_minor\": 1, \"currency\": \"EUR\", "
			       "\"description\": \"-2+3\"}", c.run);
	char id[37];
	product(&c, c.admin, body, id);
	const char *accept[] = {"Accept: text/csv", NULL};
	struct resp *r = cat(&c, "GET", c.member, NULL, accept, "/products?q=FX-%s", c.run);
	cr_assert_eq(r->status, 200, "%s", r->body);
	char *want = xasprintf("\"FX-%s\",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",\"\",\"'@SUM(A1)\","
			       "\"active\",\"\",\"'-2+3\",", c.run);
	cr_assert_not_null(strstr(r->body, want), "want:\n%s\ngot:\n%s", want, r->body);
	resp_free(r);
	r = cat(&c, "GET", c.member, NULL, NULL, "/products/%s", id);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")),
			 "=HYPERLINK(\"http://evil\",\"x\")");
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "description")), "-2+3");
	resp_free(r);
	free(want);
	free(body);
	ctx_free(&c);
}

/* The export streams every row of the selection (past a JSON page and any
 * fixed cap), in the order the list has, with the header first. */
Test(catalog, csv_export_streams_every_row_of_a_large_selection, .timeout = 120)
{
	struct ctx c;
	ctx_new(&c);
	enum { ROWS = 12345 };
	PGconn *pg = db_connect("ATRIUM_DB_CATALOG_URL");
	char *sql = xasprintf("SELECT set_config('atrium.tenant_id', '%s', false)", c.t.id);
	PQclear(PQexec(pg, sql));
	free(sql);
	sql = xasprintf("INSERT INTO items (tenant_id, kind, sku, name, unit_price_minor, currency, created_at) "
			"SELECT '%s', 'product', 'BULK-%s-' || g, 'Bulk ' || g, g, 'EUR', "
			"  now() - g * interval '1 millisecond' FROM generate_series(1, %d) g",
			c.t.id, c.run, ROWS);
	PGresult *res = PQexec(pg, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(pg));
	PQclear(res);
	free(sql);
	PQfinish(pg);
	const char *accept[] = {"Accept: text/csv", NULL};
	struct resp *r = cat(&c, "GET", c.member, NULL, accept, "/products?q=BULK-%s", c.run);
	cr_assert_eq(r->status, 200, "%s", r->body);
	char *te = resp_header(r, "Transfer-Encoding");
	cr_assert(te && strcasecmp(te, "chunked") == 0, "Transfer-Encoding: %s", te ? te : "(none)");
	free(te);
	size_t lines = 0;
	for (const char *p = r->body; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	cr_assert_eq(lines, (size_t)ROWS + 1, "the header and every row: %zu lines", lines);
	cr_assert(strncmp(r->body, "id,kind,scope,sku,name,", 23) == 0);
	/* newest first: BULK-…-1 was made last */
	char *first = xasprintf("\"BULK-%s-1\",\"Bulk 1\"", c.run);
	char *second = xasprintf("\"BULK-%s-2\",\"Bulk 2\"", c.run);
	const char *a = strstr(r->body, first), *b = strstr(r->body, second);
	cr_assert(a && b && a < b, "newest first");
	free(first); free(second);
	resp_free(r);
	ctx_free(&c);
}

Test(catalog, relationships_are_added_listed_and_removed)
{
	struct ctx c;
	ctx_new(&c);
	char a[37], b[37];
	char *body = xasprintf("{\"sku\": \"R1-%s\", \"name\": \"Switch\", \"unit_price_minor\": 1, "
			       "\"currency\": \"EUR\"}", c.run);
	product(&c, c.admin, body, a);
	free(body);
	body = xasprintf("{\"sku\": \"R2-%s\", \"name\": \"SFP module\", \"unit_price_minor\": 1, "
			 "\"currency\": \"EUR\"}", c.run);
	product(&c, c.admin, body, b);
	free(body);

	char *self = xasprintf("{\"to_item_id\": \"%s\", \"type\": \"requires\"}", a);
	struct resp *r = cat(&c, "POST", c.admin, self, NULL, "/products/%s/relationships", a);
	assert_problem(r, 422);
	resp_free(r);
	char *qty = xasprintf("{\"to_item_id\": \"%s\", \"type\": \"requires\", \"quantity\": 2}", b);
	r = cat(&c, "POST", c.admin, qty, NULL, "/products/%s/relationships", a);
	assert_problem(r, 422);
	resp_free(r);
	char *bundle = xasprintf("{\"to_item_id\": \"%s\", \"type\": \"bundle_of\", \"quantity\": 4}", b);
	r = cat(&c, "POST", c.member, bundle, NULL, "/products/%s/relationships", a);
	assert_problem(r, 403);
	resp_free(r);
	r = cat(&c, "POST", c.admin, bundle, NULL, "/products/%s/relationships", a);
	cr_assert_eq(r->status, 201, "%s", r->body);
	char rid[37];
	snprintf(rid, sizeof(rid), "%s", str(r->json, "id"));
	cr_assert_eq(json_integer_value(json_object_get(r->json, "quantity")), 4);
	resp_free(r);
	r = cat(&c, "POST", c.admin, bundle, NULL, "/products/%s/relationships", a);
	assert_problem(r, 409);
	resp_free(r);

	r = cat(&c, "GET", c.member, NULL, NULL, "/products/%s/relationships", b);
	cr_assert_eq(r->status, 200);
	json_t *first = json_array_get(json_object_get(r->json, "data"), 0);
	cr_assert_str_eq(str(first, "direction"), "incoming");
	cr_assert_str_eq(str(json_object_get(first, "other"), "id"), a);
	resp_free(r);

	r = cat(&c, "DELETE", c.admin, NULL, NULL, "/products/%s/relationships/%s", a, rid);
	cr_assert_eq(r->status, 204, "%s", r->body);
	resp_free(r);
	r = cat(&c, "GET", c.member, NULL, NULL, "/products/%s/relationships", a);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 0);
	resp_free(r);
	free(self);
	free(qty);
	free(bundle);
	ctx_free(&c);
}

Test(catalog, categories_form_a_tree_without_cycles_and_only_empty_ones_are_deleted)
{
	struct ctx c;
	ctx_new(&c);
	char *body = xasprintf("{\"slug\": \"net-%s\", \"name\": \"Networking %s\"}", c.run, c.run);
	struct resp *r = cat(&c, "POST", c.admin, body, NULL, "/categories");
	cr_assert_eq(r->status, 201, "%s", r->body);
	char root[37], child[37];
	snprintf(root, sizeof(root), "%s", str(r->json, "id"));
	resp_free(r);
	free(body);
	body = xasprintf("{\"slug\": \"sw-%s\", \"name\": \"Switches\", \"parent_id\": \"%s\"}", c.run, root);
	r = cat(&c, "POST", c.admin, body, NULL, "/categories");
	cr_assert_eq(r->status, 201, "%s", r->body);
	snprintf(child, sizeof(child), "%s", str(r->json, "id"));
	resp_free(r);
	free(body);

	/* the root under its own child: a cycle, 422; under itself, 422 */
	char *cyc = xasprintf("{\"parent_id\": \"%s\"}", child);
	r = cat(&c, "PATCH", c.admin, cyc, NULL, "/categories/%s", root);
	assert_problem(r, 422);
	resp_free(r);
	free(cyc);
	cyc = xasprintf("{\"parent_id\": \"%s\"}", root);
	r = cat(&c, "PATCH", c.admin, cyc, NULL, "/categories/%s", root);
	assert_problem(r, 422);
	resp_free(r);
	free(cyc);

	r = cat(&c, "GET", c.member, NULL, NULL, "/categories");
	cr_assert_eq(r->status, 200);
	size_t i;
	json_t *e;
	int seen_root = -1, seen_child = -1;
	json_array_foreach(json_object_get(r->json, "data"), i, e) {
		if (strcmp(str(e, "id"), root) == 0)
			seen_root = (int)i;
		if (strcmp(str(e, "id"), child) == 0) {
			seen_child = (int)i;
			cr_assert_eq(json_integer_value(json_object_get(e, "depth")), 1);
		}
	}
	cr_assert(seen_root >= 0 && seen_child == seen_root + 1, "%d %d", seen_root, seen_child);
	resp_free(r);

	/* an item in the child: the child is not empty; the root has a child */
	char *item = xasprintf("{\"sku\": \"CAT-%s\", \"name\": \"x\", \"unit_price_minor\": 1, "
			       "\"currency\": \"EUR\", \"category_id\": \"%s\"}", c.run, child);
	char iid[37];
	product(&c, c.admin, item, iid);
	r = cat(&c, "GET", c.member, NULL, NULL, "/products?category=%s", root);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1, "subtree: %s", r->body);
	resp_free(r);
	r = cat(&c, "DELETE", c.admin, NULL, NULL, "/categories/%s", root);
	assert_problem(r, 409);
	resp_free(r);
	r = cat(&c, "DELETE", c.admin, NULL, NULL, "/categories/%s", child);
	assert_problem(r, 409);
	resp_free(r);
	r = cat(&c, "DELETE", c.admin, NULL, NULL, "/products/%s", iid);
	cr_assert_eq(r->status, 204);
	resp_free(r);
	r = cat(&c, "DELETE", c.admin, NULL, NULL, "/categories/%s", child);
	cr_assert_eq(r->status, 204, "%s", r->body);
	resp_free(r);
	r = cat(&c, "DELETE", c.admin, NULL, NULL, "/categories/%s", root);
	cr_assert_eq(r->status, 204, "%s", r->body);
	resp_free(r);
	free(item);
	ctx_free(&c);
}

Test(catalog, a_cable_plan_over_http_uses_the_products_attributes)
{
	struct ctx c;
	ctx_new(&c);
	char sw[37], ap[37];
	char *body = xasprintf("{\"sku\": \"CP-SW-%s\", \"name\": \"PoE switch 8\", \"unit_price_minor\": 1, "
			       "\"currency\": \"EUR\", \"attributes\": {\"ports\": [{\"count\": 8, "
			       "\"type\": \"rj45\", \"speed_mbps\": 1000}], \"poe_budget_w\": 30}}", c.run);
	product(&c, c.admin, body, sw);
	free(body);
	body = xasprintf("{\"sku\": \"CP-AP-%s\", \"name\": \"AP\", \"unit_price_minor\": 1, "
			 "\"currency\": \"EUR\", \"attributes\": {\"ports\": [{\"count\": 1, "
			 "\"type\": \"rj45\", \"speed_mbps\": 1000}], \"poe_draw_w\": 12.5}}", c.run);
	product(&c, c.admin, body, ap);
	free(body);
	/* 3 APs x 12.5 W = 37.5 W over 30 W; 10 m + 10 % = 11 m -> 15 m */
	body = xasprintf("{\"bom\": [{\"ref\": \"sw\", \"product_id\": \"%s\"}, {\"ref\": \"ap\", "
			 "\"product_id\": \"%s\", \"quantity\": 3}], \"links\": ["
			 "{\"from\": \"sw\", \"to\": \"ap#1\", \"distance_m\": 10},"
			 "{\"from\": \"sw\", \"to\": \"ap#2\", \"distance_m\": 10},"
			 "{\"from\": \"sw\", \"to\": \"ap#3\", \"distance_m\": 10}]}", sw, ap);
	struct resp *r = cat(&c, "POST", c.member, body, NULL, "/cable-plans");
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_t *cables = json_object_get(r->json, "cables");
	cr_assert_eq(json_array_size(cables), 1, "%s", r->body);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(cables, 0), "count")), 3);
	cr_assert(json_real_value(json_object_get(json_array_get(cables, 0), "length_m")) == 15.0);
	json_t *problems = json_object_get(r->json, "problems");
	cr_assert_eq(json_array_size(problems), 1, "%s", r->body);
	cr_assert_str_eq(str(json_array_get(problems, 0), "code"), "poe_over_budget");
	resp_free(r);
	free(body);

	/* a product of another tenant, or none: 422 naming the line */
	struct ctx o;
	ctx_new(&o);
	body = xasprintf("{\"bom\": [{\"ref\": \"sw\", \"product_id\": \"%s\"}], \"links\": []}", sw);
	r = cat(&o, "POST", o.admin, body, NULL, "/cable-plans");
	assert_problem(r, 422);
	cr_assert_not_null(strstr(r->body, "bom[0].product_id"), "%s", r->body);
	resp_free(r);
	r = cat(&c, "POST", c.admin, "{\"bom\": [], \"links\": []}", NULL, "/cable-plans");
	assert_problem(r, 422);
	resp_free(r);
	free(body);
	ctx_free(&o);
	ctx_free(&c);
}

/* ---- media in Blob Storage (Azurite), with a worker ------------------------- */

#include <curl/curl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include "ns_support.h"
#include "server/common/config.h"
#include "server/outbound/blob.h"
#include "server/outbound/outbound.h"

static pid_t worker;

static void media_setup(void)
{
	cr_assert(config_load());
	outbound_global_init();
	static const char *const env[] = {"ATRIUM_WORKER_POLL_MS=200", NULL};
	worker = spawn_worker("/tmp/atrium-test-catalog-worker.log", env);
}

static void media_teardown(void)
{
	nst_stop(worker, SIGTERM, 10);
	outbound_global_cleanup();
}

TestSuite(catalog_media, .init = media_setup, .fini = media_teardown, .timeout = 120);

static void sha256_hex(const char *data, size_t n, char out[65])
{
	unsigned char d[32];
	unsigned int dl = 0;
	EVP_Digest(data, n, d, &dl, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static size_t keep(char *p, size_t s, size_t n, void *ud)
{
	struct resp *r = ud;
	r->body = realloc(r->body, r->len + s * n + 1);
	memcpy(r->body + r->len, p, s * n);
	r->len += s * n;
	r->body[r->len] = '\0';
	return s * n;
}

/* A request straight to Blob Storage through a SAS URL (as a browser
 * would): the status, and the body into *body when given. */
static long blob_http(const char *method, const char *url, const char *type, const char *data,
		      size_t n, char **body)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "x-ms-blob-type: BlockBlob");
	char ct[160];
	snprintf(ct, sizeof(ct), "Content-Type: %s", type ? type : "");
	h = curl_slist_append(h, ct);
	struct resp r = {0};
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (data) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (body)
		*body = r.body;
	else
		free(r.body);
	return status;
}

/* Asks for an upload; 201 expected. Copies the medium id and SAS URL. */
static void ask_upload(const struct ctx *c, const char *product, const char *kind, const char *type,
		       const char *sha, size_t size, char id[37], char **url)
{
	char *body = xasprintf("{\"kind\": \"%s\", \"content_type\": \"%s\", \"size\": %zu, "
			       "\"sha256\": \"%s\", \"file_name\": \"f.bin\"}", kind, type, size, sha);
	struct resp *r = cat(c, "POST", c->admin, body, NULL, "/products/%s/media", product);
	cr_assert_eq(r->status, 201, "%s", r->body);
	snprintf(id, 37, "%s", str(r->json, "id"));
	cr_assert_str_eq(str(r->json, "status"), "pending");
	json_t *up = json_object_get(r->json, "upload");
	*url = xstrdup(str(up, "url"));
	cr_assert_not_null(strstr(*url, "sp=cw"), "%s", *url);
	cr_assert_not_null(strstr(*url, "sr=b"), "%s", *url);
	cr_assert_str_eq(str(json_object_get(up, "headers"), "x-ms-blob-type"), "BlockBlob");
	resp_free(r);
	free(body);
}

/* Uploads through the SAS, retrying while the worker creates containers. */
static void upload(const char *url, const char *type, const char *data, size_t n)
{
	long st = 0;
	for (int i = 0; i < 100 && st != 201; i++) {
		st = blob_http("PUT", url, type, data, n, NULL);
		if (st == 404)
			usleep(100000);
	}
	cr_assert_eq(st, 201, "upload through the SAS: %ld", st);
}

/* Polls the medium until its status leaves `while_status`; its JSON. */
static json_t *await_media(const struct ctx *c, const char *id, const char *while_status)
{
	for (int i = 0; i < 200; i++) {
		struct resp *r = cat(c, "GET", c->member, NULL, NULL, "/media/%s", id);
		if (r->status == 404) {
			resp_free(r);
			return NULL;
		}
		cr_assert_eq(r->status, 200, "%s", r->body);
		if (strcmp(str(r->json, "status"), while_status) != 0) {
			json_t *j = json_incref(r->json);
			resp_free(r);
			return j;
		}
		resp_free(r);
		usleep(100000);
	}
	cr_assert_fail("medium %s stayed %s", id, while_status);
	return NULL;
}

Test(catalog_media, uploads_go_through_a_write_only_sas_and_are_ready_after_the_hash_matches)
{
	struct ctx c, o;
	ctx_new(&c);
	ctx_new(&o);
	char pid[37];
	char *body = xasprintf("{\"sku\": \"IMG-%s\", \"name\": \"Camera\", \"manufacturer\": \"Axis-%s\", "
			       "\"unit_price_minor\": 1, \"currency\": \"EUR\"}", c.run, c.run);
	product(&c, c.admin, body, pid);
	free(body);
	const char png[] = "\x89PNG\r\n\x1a\n fake image bytes, quotes \" and commas ,";
	size_t n = sizeof(png) - 1;
	char sha[65];
	sha256_hex(png, n, sha);

	/* refusals: type, SVG, size, role, another tenant's product */
	struct {
		const char *kind, *type;
		long long size;
		const char *field;
	} bad[] = {
		{"image", "image/svg+xml", 100, "content_type"},
		{"image", "text/html", 100, "content_type"},
		{"image", "image/png", 11LL << 20, "size"},
		{"stencil", "image/png", 100, "content_type"},
		{"document", "application/pdf", 26LL << 20, "size"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *b = xasprintf("{\"kind\": \"%s\", \"content_type\": \"%s\", \"size\": %lld, "
				    "\"sha256\": \"%s\"}", bad[i].kind, bad[i].type, bad[i].size, sha);
		struct resp *r = cat(&c, "POST", c.admin, b, NULL, "/products/%s/media", pid);
		assert_problem(r, 422);
		cr_assert_not_null(strstr(r->body, bad[i].field), "case %zu: %s", i, r->body);
		resp_free(r);
		free(b);
	}
	char *ok = xasprintf("{\"kind\": \"image\", \"content_type\": \"image/png\", \"size\": %zu, "
			     "\"sha256\": \"%s\"}", n, sha);
	struct resp *r = cat(&c, "POST", c.member, ok, NULL, "/products/%s/media", pid);
	assert_problem(r, 403);
	resp_free(r);
	/* o's admin, a's product on o's path: 404 */
	r = cat(&o, "POST", o.admin, ok, NULL, "/products/%s/media", pid);
	assert_problem(r, 404);
	resp_free(r);

	char mid[37];
	char *url;
	ask_upload(&c, pid, "image", "image/png", sha, n, mid, &url);
	upload(url, "image/png", png, n);
	/* the write SAS does not read */
	cr_assert_eq(blob_http("GET", url, NULL, NULL, 0, NULL), 403);

	r = cat(&c, "POST", c.member, NULL, NULL, "/media/%s/confirm", mid);
	assert_problem(r, 403);
	resp_free(r);
	r = cat(&o, "POST", o.admin, NULL, NULL, "/media/%s/confirm", mid);
	assert_problem(r, 404);
	resp_free(r);
	r = cat(&c, "POST", c.admin, NULL, NULL, "/media/%s/confirm", mid);
	cr_assert_eq(r->status, 202, "%s", r->body);
	resp_free(r);
	json_t *m = await_media(&c, mid, "verifying");
	cr_assert_str_eq(str(m, "status"), "ready", "%s", json_dumps(m, 0));
	const char *dl = str(json_object_get(m, "download"), "url");
	cr_assert_not_null(dl);
	cr_assert_not_null(strstr(dl, "sp=r&"), "%s", dl);
	char *got = NULL;
	cr_assert_eq(blob_http("GET", dl, NULL, NULL, 0, &got), 200);
	cr_assert(got && memcmp(got, png, n) == 0);
	free(got);
	/* confirming twice: 409 */
	r = cat(&c, "POST", c.admin, NULL, NULL, "/media/%s/confirm", mid);
	assert_problem(r, 409);
	resp_free(r);

	/* listed on the product; the product with media cannot be deleted */
	r = cat(&c, "GET", c.member, NULL, NULL, "/products/%s/media", pid);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1, "%s", r->body);
	resp_free(r);
	r = cat(&c, "DELETE", c.admin, NULL, NULL, "/products/%s", pid);
	assert_problem(r, 409);
	resp_free(r);

	/* delete: the blob goes, then the row */
	char blob_name[160];
	snprintf(blob_name, sizeof(blob_name), "%s", str(m, "blob_name"));
	r = cat(&c, "DELETE", c.admin, NULL, NULL, "/media/%s", mid);
	cr_assert_eq(r->status, 202, "%s", r->body);
	resp_free(r);
	cr_assert_null(await_media(&c, mid, "deleting"), "the medium is still there");
	char exp[32];
	char *rd = blob_sas_url("product-images", blob_name, "r", 60, exp);
	cr_assert_eq(blob_http("GET", rd, NULL, NULL, 0, NULL), 404);
	free(rd);
	json_decref(m);
	free(url);
	free(ok);
	ctx_free(&c);
	ctx_free(&o);
}

Test(catalog_media, a_mismatched_hash_is_rejected_and_its_blob_deleted)
{
	struct ctx c;
	ctx_new(&c);
	char pid[37];
	char *body = xasprintf("{\"sku\": \"DOC-%s\", \"name\": \"Datasheet\", \"unit_price_minor\": 1, "
			       "\"currency\": \"EUR\"}", c.run);
	product(&c, c.admin, body, pid);
	free(body);
	const char pdf[] = "%PDF-1.4 what was signed for";
	const char evil[] = "%PDF-1.4 something else!!!!!";
	cr_assert_eq(sizeof(pdf), sizeof(evil));
	size_t n = sizeof(pdf) - 1;
	char sha[65];
	sha256_hex(pdf, n, sha);
	char mid[37];
	char *url;
	ask_upload(&c, pid, "document", "application/pdf", sha, n, mid, &url);
	upload(url, "application/pdf", evil, n);
	struct resp *r = cat(&c, "POST", c.admin, NULL, NULL, "/media/%s/confirm", mid);
	cr_assert_eq(r->status, 202, "%s", r->body);
	resp_free(r);
	json_t *m = await_media(&c, mid, "verifying");
	cr_assert_str_eq(str(m, "status"), "rejected");
	cr_assert_not_null(strstr(str(m, "error"), "SHA-256"), "%s", str(m, "error"));
	cr_assert(json_is_null(json_object_get(m, "download")));
	char exp[32];
	char *rd = blob_sas_url("documents", str(m, "blob_name"), "r", 60, exp);
	cr_assert_eq(blob_http("GET", rd, NULL, NULL, 0, NULL), 404, "the blob was not deleted");
	free(rd);

	/* a declared type that is not what was uploaded: rejected too */
	char mid2[37];
	char *url2;
	ask_upload(&c, pid, "document", "application/pdf", sha, n, mid2, &url2);
	upload(url2, "application/octet-stream", pdf, n);
	r = cat(&c, "POST", c.admin, NULL, NULL, "/media/%s/confirm", mid2);
	resp_free(r);
	json_t *m2 = await_media(&c, mid2, "verifying");
	cr_assert_str_eq(str(m2, "status"), "rejected");
	cr_assert_not_null(strstr(str(m2, "error"), "type"), "%s", str(m2, "error"));
	json_decref(m2);
	json_decref(m);
	free(url);
	free(url2);
	ctx_free(&c);
}

Test(catalog_media, an_expired_sas_is_refused_by_blob_storage)
{
	struct ctx c;
	ctx_new(&c);
	/* make sure the container exists (the worker creates it) */
	char exp[32];
	char *fresh = blob_sas_url("product-images", "expiry-test/fresh", "cw", 60, exp);
	upload(fresh, "image/png", "x", 1);
	char *expired = blob_sas_url("product-images", "expiry-test/old", "cw", -60, exp);
	cr_assert_not_null(expired);
	cr_assert_eq(blob_http("PUT", expired, "image/png", "x", 1, NULL), 403);
	/* a SAS for one blob does not write another */
	char *other = xstrdup(fresh);
	char *p = strstr(other, "/fresh?");
	cr_assert_not_null(p);
	memcpy(p, "/frosh", 6);
	cr_assert_eq(blob_http("PUT", other, "image/png", "x", 1, NULL), 403);
	free(other);
	free(fresh);
	free(expired);
	ctx_free(&c);
}

Test(catalog_media, stencils_are_listed_per_manufacturer_with_download_links)
{
	struct ctx c;
	ctx_new(&c);
	char pid[37];
	char *body = xasprintf("{\"sku\": \"STN-%s\", \"name\": \"Switch 48\", \"manufacturer\": \"Maker-%s\", "
			       "\"unit_price_minor\": 1, \"currency\": \"EUR\"}", c.run, c.run);
	product(&c, c.admin, body, pid);
	free(body);
	const char vssx[] = "PK\x03\x04 stencil";
	size_t n = sizeof(vssx) - 1;
	char sha[65];
	sha256_hex(vssx, n, sha);
	char mid[37];
	char *url;
	ask_upload(&c, pid, "stencil", "application/vnd.ms-visio.stencil", sha, n, mid, &url);
	upload(url, "application/vnd.ms-visio.stencil", vssx, n);
	struct resp *r = cat(&c, "POST", c.admin, NULL, NULL, "/media/%s/confirm", mid);
	resp_free(r);
	json_t *m = await_media(&c, mid, "verifying");
	cr_assert_str_eq(str(m, "status"), "ready");
	json_decref(m);
	r = cat(&c, "GET", c.member, NULL, NULL, "/stencils?manufacturer=maker-%s", c.run);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_t *data = json_object_get(r->json, "data");
	cr_assert_eq(json_array_size(data), 1, "%s", r->body);
	json_t *s = json_array_get(data, 0);
	cr_assert_str_eq(str(json_object_get(s, "product"), "id"), pid);
	cr_assert_not_null(str(json_object_get(s, "download"), "url"));
	resp_free(r);
	free(url);
	ctx_free(&c);
}
