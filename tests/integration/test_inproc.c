/*
 * Integration, in process: the whole request pipeline (router, bearer
 * authentication against the real identity provider, tenant scope, roles,
 * body checks, handlers, services on the real PostgreSQL, the reply table)
 * driven through http_inproc_run(), without libmicrohttpd or a socket. The
 * same handlers the server runs; what an HTTP test cannot see (the request
 * object after the reply) is visible here.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "handlers/handlers.h"
#include "server/auth/auth.h"
#include "server/common/config.h"
#include "server/http/http.h"
#include "server/http/router.h"
#include "server/store/db.h"
#include "server/store/idempotency.h"
#include "services/authdb.h"
#include "services/betting.h"
#include "services/namespaces.h"
#include "services/portal.h"

/* What main.c wires: auth reaches tenants and users through the services. */
static enum auth_lookup lookup_of(enum status s)
{
	return s == ST_OK ? AUTH_LOOKUP_FOUND : s == ST_NOT_FOUND ? AUTH_LOOKUP_NOT_FOUND
								 : AUTH_LOOKUP_UNAVAILABLE;
}
static enum auth_lookup by_directory(const char *tid, char tenant_id[37], char status[16])
{
	return lookup_of(portal_tenant_by_directory(tid, tenant_id, status));
}
static enum auth_lookup exists(const char *tenant_id)
{
	return lookup_of(portal_tenant_exists(tenant_id));
}

static void setup(void)
{
	/* No Redis in this path: rate limits off. */
	setenv("ATRIUM_RATE_LIMIT_IP_PER_MINUTE", "0", 1);
	setenv("ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE", "0", 1);
	cr_assert(config_load());
	static const struct auth_directory dir = {
		.tenant_by_directory = by_directory, .tenant_exists = exists, .record_user = authdb_record_user};
	auth_set_directory(&dir);
	authdb_register();
	portal_register();
	idem_register();
	namespaces_register();
	betting_register();
	router_reset();
	router_add(me_routes, me_routes_len);
	router_add(tenants_routes, tenants_routes_len);
	router_add(events_routes, events_routes_len);
	db_start(4);
	auth_start();
}

static void teardown(void)
{
	auth_stop();
	db_stop();
	config_free();
}

TestSuite(inproc, .init = setup, .fini = teardown, .timeout = 60);

static struct request *call(const char *method, const char *path, const char *token,
			    const char *body, const char *if_match)
{
	char authz[8192];
	snprintf(authz, sizeof(authz), "Bearer %s", token ? token : "");
	const char *headers[] = {"Authorization", authz, "Content-Type", "application/json",
				 if_match ? "If-Match" : NULL, if_match, NULL};
	struct inproc_request in = {.method = method, .path = path, .body = body,
				    .headers = token ? headers : headers + 2};
	return http_inproc_run(&in);
}

static json_t *body(struct request *r)
{
	cr_assert_not_null(r->reply_body, "%s %s: no body", r->method_name, r->path);
	json_t *j = json_loadb(r->reply_body, r->reply_len, 0, NULL);
	cr_assert_not_null(j);
	return j;
}

Test(inproc, unknown_routes_methods_and_missing_tokens_are_problems)
{
	struct request *r = call("GET", "/v1/nothing-here", NULL, NULL, NULL);
	cr_assert_eq(r->status, 404);
	http_inproc_free(r);
	r = call("PUT", "/v1/tenants", NULL, NULL, NULL);
	cr_assert_eq(r->status, 405);
	cr_assert_not_null(http_inproc_reply_header(r, "Allow"));
	http_inproc_free(r);
	r = call("GET", "/v1/me", NULL, NULL, NULL);
	cr_assert_eq(r->status, 401);
	cr_assert(strncmp(http_inproc_reply_header(r, "WWW-Authenticate"), "Bearer", 6) == 0);
	cr_assert_not_null(http_inproc_reply_header(r, "X-Request-Id"));
	http_inproc_free(r);
	r = call("GET", "/v1/me", "tid:not-a-token", NULL, NULL);
	cr_assert_eq(r->status, 401);
	http_inproc_free(r);
}

Test(inproc, a_tenant_is_created_read_and_guarded_by_its_etag)
{
	char *super = super_token();
	char slug[40], aad[37], body_text[256];
	random_uuid(aad);
	snprintf(slug, sizeof(slug), "ip-%.8s", aad);
	snprintf(body_text, sizeof(body_text),
		 "{\"slug\":\"%s\",\"name\":\"In process\",\"aad_tenant_id\":\"%s\"}", slug, aad);
	struct request *r = call("POST", "/v1/tenants", super, body_text, NULL);
	cr_assert_eq(r->status, 201, "%.*s", (int)r->reply_len, r->reply_body);
	json_t *t = body(r);
	char id[37], path[96];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(t, "id")));
	snprintf(path, sizeof(path), "/v1/tenants/%s", id);
	cr_assert_str_eq(http_inproc_reply_header(r, "Location"), path);
	char etag[32];
	snprintf(etag, sizeof(etag), "%s", http_inproc_reply_header(r, "ETag"));
	json_decref(t);
	http_inproc_free(r);

	/* The request leased portal_db through its own pool slot and gave it
	 * back: a second request finds the row. */
	r = call("GET", path, super, NULL, NULL);
	cr_assert_eq(r->status, 200);
	t = body(r);
	cr_assert_str_eq(json_string_value(json_object_get(t, "slug")), slug);
	json_decref(t);
	http_inproc_free(r);

	/* A stale ETag: ST_PRECONDITION through the one reply table. */
	r = call("PATCH", path, super, "{\"name\":\"Renamed\"}", "\"999999\"");
	cr_assert_eq(r->status, 412);
	t = body(r);
	char *want_type = xasprintf("%s/problems/precondition-failed", cfg.public_url);
	cr_assert_str_eq(json_string_value(json_object_get(t, "type")), want_type);
	free(want_type);
	json_decref(t);
	http_inproc_free(r);
	r = call("PATCH", path, super, "{\"name\":\"Renamed\"}", etag);
	cr_assert_eq(r->status, 200, "%.*s", (int)r->reply_len, r->reply_body);
	http_inproc_free(r);

	/* A member of it reads the summary; another tenant's admin gets 404. */
	char *member = mint(aad, NULL, NULL, NULL);
	r = call("GET", path, member, NULL, NULL);
	cr_assert_eq(r->status, 200);
	t = body(r);
	cr_assert_null(json_object_get(t, "aad_tenant_id"));
	cr_assert_str_eq(json_string_value(json_object_get(t, "name")), "Renamed");
	json_decref(t);
	http_inproc_free(r);
	struct tenant other;
	create_tenant(&other);
	char *stranger = mint(other.aad, NULL, "tenant_admin", NULL);
	r = call("GET", path, stranger, NULL, NULL);
	cr_assert_eq(r->status, 404);
	http_inproc_free(r);
	free(stranger);
	free(member);
	free(super);
}

Test(inproc, a_bad_body_changes_nothing_and_names_each_field)
{
	struct tenant t;
	create_tenant(&t);
	char *admin = mint(t.aad, NULL, "tenant_admin", NULL);
	char path[96];
	snprintf(path, sizeof(path), "/v1/tenants/%s/events", t.id);
	struct request *r = call("POST", path, admin, "{\"name\":7,\"sport\":\"\",\"surprise\":true}", NULL);
	cr_assert_eq(r->status, 422);
	json_t *p = body(r);
	cr_assert_geq(json_array_size(json_object_get(p, "errors")), 3, "%.*s", (int)r->reply_len,
		      r->reply_body);
	json_decref(p);
	http_inproc_free(r);
	r = call("GET", path, admin, NULL, NULL);
	cr_assert_eq(r->status, 200);
	p = body(r);
	cr_assert_eq(json_array_size(json_object_get(p, "data")), 0, "nothing was created");
	json_decref(p);
	http_inproc_free(r);
	r = call("POST", path, admin, "{not json", NULL);
	cr_assert_eq(r->status, 400);
	http_inproc_free(r);
	free(admin);
}
