/* Unit tests for server/http/router.c: matching, params, 404 vs 405. */
#include <criterion/criterion.h>
#include <string.h>

#include "server/http/http.h"
#include "server/http/router.h"

static void h_list(struct request *r) { (void)r; }
static void h_get(struct request *r) { (void)r; }
static void h_sub(struct request *r) { (void)r; }

static const struct route table[] = {
	{HTTP_GET | HTTP_POST, "/v1/tenants", h_list, AUTH_REQUIRED, 0, BODY_JSON, "list"},
	{HTTP_GET | HTTP_PATCH | HTTP_DELETE, "/v1/tenants/{tenant_id}", h_get, AUTH_REQUIRED, 0, BODY_JSON, "get"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/jobs/{job_id}", h_sub, AUTH_REQUIRED, 0, BODY_NONE, "sub"},
};

static struct request req;

static void setup(void)
{
	router_reset();
	router_add(table, 3);
	memset(&req, 0, sizeof(req));
}

static void teardown(void)
{
	arena_free(&req.arena);
}

TestSuite(router, .init = setup, .fini = teardown);

Test(router, matches_static_path_by_method)
{
	unsigned allowed;
	req.method = HTTP_POST;
	req.path = "/v1/tenants";
	cr_assert_eq(router_match(&req, &allowed), ROUTE_FOUND);
	cr_assert_eq(req.route->handler, h_list);
	cr_assert_eq(req.n_params, 0);
}

Test(router, captures_params)
{
	unsigned allowed;
	req.method = HTTP_GET;
	req.path = "/v1/tenants/abc/jobs/def";
	cr_assert_eq(router_match(&req, &allowed), ROUTE_FOUND);
	cr_assert_eq(req.route->handler, h_sub);
	cr_assert_eq(req.n_params, 2);
	cr_assert_str_eq(req.params[0], "abc");
	cr_assert_str_eq(req.params[1], "def");
}

Test(router, head_is_served_by_get_routes)
{
	unsigned allowed;
	req.method = HTTP_HEAD;
	req.path = "/v1/tenants/x";
	cr_assert_eq(router_match(&req, &allowed), ROUTE_FOUND);
	cr_assert_eq(req.route->handler, h_get);
}

Test(router, wrong_method_reports_allowed_methods)
{
	unsigned allowed;
	req.method = HTTP_PUT;
	req.path = "/v1/tenants/x";
	cr_assert_eq(router_match(&req, &allowed), ROUTE_BAD_METHOD);
	char buf[96];
	router_allow_header(allowed, buf, sizeof(buf));
	cr_assert_str_eq(buf, "GET, HEAD, PATCH, DELETE");
}

Test(router, unknown_paths_empty_segments_and_trailing_slash_are_not_found)
{
	unsigned allowed;
	req.method = HTTP_GET;
	const char *paths[] = {"/v1/nothing", "/v1/tenants/", "/v1/tenants//jobs/x", "v1/tenants",
			       "/", "", "/v1/tenants/a/jobs/b/c"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		req.path = paths[i];
		cr_assert_eq(router_match(&req, &allowed), ROUTE_NOT_FOUND, "%s", paths[i]);
	}
}

Test(router, deep_paths_do_not_overflow)
{
	unsigned allowed;
	req.method = HTTP_GET;
	req.path = "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t";
	cr_assert_eq(router_match(&req, &allowed), ROUTE_NOT_FOUND);
}
