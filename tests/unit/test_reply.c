/*
 * Unit tests for server/http/reply.c: the one table from a service's
 * result (enum status) to a problem reply, and problem JSON itself, driven
 * through in-process requests (no socket, no database).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "server/http/http.h"
#include "server/http/reply.h"

static struct request *new_request(const char *const *headers)
{
	struct inproc_request in = {.method = "GET", .path = "/v1/x", .headers = headers};
	return http_inproc_new(&in);
}

static json_t *body_of(struct request *r)
{
	cr_assert_not_null(r->reply_body, "no body kept");
	json_t *j = json_loadb(r->reply_body, r->reply_len, 0, NULL);
	cr_assert_not_null(j, "not JSON: %.*s", (int)r->reply_len, r->reply_body);
	return j;
}

Test(reply, every_status_maps_to_a_problem_with_its_http_status)
{
	for (int st = ST_NOT_FOUND; st < ST_COUNT; st++) {
		struct request *r = new_request(NULL);
		reply_status(r, (enum status)st, DB_BETTING);
		int want = reply_status_code((enum status)st);
		cr_assert(want >= 400 && want <= 599, "status %d maps to %d", st, want);
		cr_assert_eq(r->status, want, "status %d answered %d", st, r->status);
		cr_assert_str_eq(http_inproc_reply_header(r, "Content-Type"), "application/problem+json");
		json_t *p = body_of(r);
		const char *type = json_string_value(json_object_get(p, "type"));
		/* No configuration loaded here: the type is the catalogue's path. */
		cr_assert(type && strncmp(type, "/problems/", 10) == 0, "type %s", type);
		cr_assert_not_null(json_string_value(json_object_get(p, "title")));
		cr_assert_not_null(json_string_value(json_object_get(p, "detail")));
		cr_assert_eq(json_integer_value(json_object_get(p, "status")), want);
		cr_assert_str_eq(json_string_value(json_object_get(p, "request_id")), r->request_id);
		json_decref(p);
		http_inproc_free(r);
	}
}

Test(reply, the_usual_statuses_keep_their_documented_problem_types)
{
	struct {
		enum status st;
		int http;
		const char *type;
	} want[] = {
		{ST_NOT_FOUND, 404, "not-found"},         {ST_PRECONDITION, 412, "precondition-failed"},
		{ST_FINAL, 409, "event-final"},           {ST_INSUFFICIENT, 422, "insufficient-funds"},
		{ST_LIMIT, 422, "balance-limit"},         {ST_CLOSED, 409, "betting-closed"},
		{ST_DUPLICATE, 409, "idempotency-key-in-use"}, {ST_UNAVAILABLE, 503, "unavailable"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct request *r = new_request(NULL);
		reply_status(r, want[i].st, DB_PORTAL);
		cr_assert_eq(r->status, want[i].http);
		json_t *p = body_of(r);
		const char *type = json_string_value(json_object_get(p, "type"));
		cr_assert(type && strncmp(type, "/problems/", 10) == 0, "type %s", type);
		cr_assert_str_eq(type + 10, want[i].type);
		json_decref(p);
		http_inproc_free(r);
	}
}

Test(reply, unavailable_names_the_database_and_asks_to_retry)
{
	struct request *r = new_request(NULL);
	reply_status(r, ST_UNAVAILABLE, DB_BILLING);
	cr_assert_eq(r->status, 503);
	cr_assert_str_eq(http_inproc_reply_header(r, "Retry-After"), "1");
	json_t *p = body_of(r);
	cr_assert_str_eq(json_string_value(json_object_get(p, "detail")), "billing_db failed");
	json_decref(p);
	http_inproc_free(r);
	r = new_request(NULL);
	reply_db_unreachable(r, DB_AUTH);
	p = body_of(r);
	cr_assert_str_eq(json_string_value(json_object_get(p, "detail")), "auth_db is unreachable");
	json_decref(p);
	http_inproc_free(r);
}

/* Regression: reply_internal copied as many bytes as snprintf wanted to
 * write, past its buffer, for a long (but sane) X-Request-Id. */
Test(reply, internal_error_with_the_longest_request_id_is_valid_json)
{
	char id[129];
	memset(id, 'a', 128);
	id[128] = '\0';
	const char *h[] = {"X-Request-Id", id, NULL};
	struct request *r = new_request(h);
	cr_assert_str_eq(r->request_id, id);
	reply_internal(r);
	cr_assert_eq(r->status, 500);
	json_t *p = body_of(r);
	cr_assert_str_eq(json_string_value(json_object_get(p, "request_id")), id);
	json_decref(p);
	http_inproc_free(r);
}

Test(reply, problem_errors_name_each_field)
{
	struct request *r = new_request(NULL);
	json_t *errors = NULL;
	problem_add_error(&errors, "name", "is required");
	problem_add_error(&errors, "tags.env", "is too long");
	reply_problem(r, 422, "validation", "Unprocessable Content", "See errors.", errors);
	json_t *p = body_of(r);
	json_t *e = json_object_get(p, "errors");
	cr_assert_eq(json_array_size(e), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 1), "field")), "tags.env");
	cr_assert_str_eq(json_string_value(json_object_get(p, "instance")), "/v1/x");
	json_decref(p);
	http_inproc_free(r);
}

/* An insane X-Request-Id (control characters, too long) is replaced. */
Test(reply, a_request_id_is_echoed_only_when_sane)
{
	const char *bad[] = {"X-Request-Id", "has space", NULL};
	struct request *r = new_request(bad);
	cr_assert_str_neq(r->request_id, "has space");
	cr_assert_eq(strlen(r->request_id), 36, "a fresh UUID: %s", r->request_id);
	http_inproc_free(r);
	const char *good[] = {"x-request-id", "ci-run-42", NULL};
	r = new_request(good);
	cr_assert_str_eq(r->request_id, "ci-run-42");
	http_inproc_free(r);
}
