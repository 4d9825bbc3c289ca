/* Unit tests for server/outbound/outbound.c: the one classification of Azure
 * answers, and Retry-After in both of its forms. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "server/outbound/outbound.h"

static enum outbound_class cls(enum outbound_verb v, long status, const char *code, bool *already)
{
	return outbound_classify(v, status, 0, code, already);
}

Test(outbound, success_statuses_are_ok_and_not_already)
{
	bool already = true;
	cr_assert_eq(cls(OUT_CREATE, 200, NULL, &already), OUT_OK);
	cr_assert_not(already);
	cr_assert_eq(cls(OUT_CREATE, 201, NULL, &already), OUT_OK);
	cr_assert_eq(cls(OUT_DELETE, 202, NULL, &already), OUT_OK);
	cr_assert_eq(cls(OUT_READ, 204, NULL, &already), OUT_OK);
	cr_assert_not(already);
}

Test(outbound, throttling_server_errors_and_timeouts_are_retryable)
{
	long retry[] = {408, 429, 500, 502, 503, 504, 599, 401};
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		cr_assert_eq(cls(OUT_CREATE, retry[i], "Whatever", NULL), OUT_RETRY, "%ld", retry[i]);
}

Test(outbound, a_transport_failure_is_retryable_whatever_the_status)
{
	cr_assert_eq(outbound_classify(OUT_CREATE, 0, CURLE_OPERATION_TIMEDOUT, NULL, NULL), OUT_RETRY);
	cr_assert_eq(outbound_classify(OUT_CREATE, 0, CURLE_GOT_NOTHING, NULL, NULL), OUT_RETRY);
	cr_assert_eq(outbound_classify(OUT_DELETE, 200, CURLE_PARTIAL_FILE, NULL, NULL), OUT_RETRY);
	cr_assert_eq(outbound_classify(OUT_READ, 0, 0, NULL, NULL), OUT_RETRY, "no status at all");
}

Test(outbound, other_client_errors_are_permanent)
{
	cr_assert_eq(cls(OUT_CREATE, 400, "LocationNotAvailableForResourceGroup", NULL), OUT_PERMANENT);
	cr_assert_eq(cls(OUT_CREATE, 400, NULL, NULL), OUT_PERMANENT);
	cr_assert_eq(cls(OUT_CREATE, 403, "AuthorizationFailed", NULL), OUT_PERMANENT);
	cr_assert_eq(cls(OUT_CREATE, 404, "ResourceGroupNotFound", NULL), OUT_PERMANENT);
	cr_assert_eq(cls(OUT_CREATE, 409, "InvalidResourceGroupLocation", NULL), OUT_PERMANENT);
	cr_assert_eq(cls(OUT_READ, 404, NULL, NULL), OUT_PERMANENT, "a missing thing read is not OK");
	cr_assert_eq(cls(OUT_READ, 302, NULL, NULL), OUT_PERMANENT, "redirects are never followed");
}

Test(outbound, delete_of_something_absent_is_ok_and_marked_already)
{
	bool already = false;
	cr_assert_eq(cls(OUT_DELETE, 404, "ResourceGroupNotFound", &already), OUT_OK);
	cr_assert(already);
	cr_assert_eq(cls(OUT_DELETE, 404, "ContainerNotFound", &already), OUT_OK);
	cr_assert(already);
}

Test(outbound, create_of_something_existing_is_ok_only_for_already_exists_codes)
{
	bool already = false;
	cr_assert_eq(cls(OUT_CREATE, 409, "ContainerAlreadyExists", &already), OUT_OK);
	cr_assert(already);
	cr_assert_eq(cls(OUT_CREATE, 409, "RoleAssignmentExists", &already), OUT_OK);
	cr_assert(already);
	cr_assert_eq(cls(OUT_CREATE, 409, "ContainerBeingDeleted", &already), OUT_RETRY);
	cr_assert_not(already);
	cr_assert_eq(cls(OUT_DELETE, 409, "ContainerAlreadyExists", NULL), OUT_PERMANENT,
		     "already-exists means nothing to a delete");
}

Test(outbound, documented_transient_client_errors_are_retryable)
{
	cr_assert_eq(cls(OUT_CREATE, 400, "PrincipalNotFound", NULL), OUT_RETRY);
	cr_assert_eq(cls(OUT_CREATE, 409, "ResourceGroupBeingDeleted", NULL), OUT_RETRY);
	cr_assert_eq(cls(OUT_CREATE, 409, "AnotherOperationInProgress", NULL), OUT_RETRY);
}

Test(outbound, retry_after_in_seconds)
{
	cr_assert_eq(outbound_retry_after_ms("1", 1000, 300000), 1000);
	cr_assert_eq(outbound_retry_after_ms("0", 1000, 300000), 0);
	cr_assert_eq(outbound_retry_after_ms("17", 1000, 300000), 17000);
	cr_assert_eq(outbound_retry_after_ms("100000", 1000, 300000), 300000, "capped");
}

Test(outbound, retry_after_as_an_http_date)
{
	/* 1 Jan 2026 00:00:00 GMT is 1767225600. */
	cr_assert_eq(outbound_retry_after_ms("Thu, 01 Jan 2026 00:00:10 GMT", 1767225600, 300000), 10000);
	cr_assert_eq(outbound_retry_after_ms("Thu, 01 Jan 2026 00:00:10 GMT", 1767225700, 300000), 0,
		     "a date in the past means now");
}

Test(outbound, retry_after_absent_or_garbage_is_minus_one)
{
	cr_assert_eq(outbound_retry_after_ms(NULL, 0, 1000), -1);
	cr_assert_eq(outbound_retry_after_ms("", 0, 1000), -1);
	cr_assert_eq(outbound_retry_after_ms("-5", 0, 1000), -1);
	cr_assert_eq(outbound_retry_after_ms("soon", 0, 1000), -1);
}

Test(outbound, result_set_formats_and_bounds_the_message)
{
	struct outbound_result r = {0};
	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	outbound_result_set(&r, OUT_PERMANENT, "Code", "%s", big);
	cr_assert_eq(r.cls, OUT_PERMANENT);
	cr_assert_str_eq(r.code, "Code");
	cr_assert_eq(strlen(r.message), sizeof(r.message) - 1);
	outbound_result_clear(&r);
	cr_assert_eq(r.code[0], '\0');
}

Test(outbound, a_long_azure_message_is_cut_at_a_character_and_marked)
{
	/* ARM's {"error":{"code","message"}} with a message longer than we keep,
	 * made of two-byte characters so a byte cut could split one. */
	size_t n = 3000;
	char *msg = malloc(n * 2 + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(msg + 2 * i, "\xc3\xa9", 2); /* é */
	msg[n * 2] = '\0';
	json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", "LocationNotAvailableForResourceGroup",
				 "message", msg);
	char *text = json_dumps(body, JSON_COMPACT);
	struct outbound_request req = {.target = OUT_ARM, .method = "PUT", .url = "http://arm.test/x"};
	struct outbound_response resp = {.status = 400, .body = text, .len = strlen(text)};
	struct outbound_result r = {0};
	outbound_result_from(OUT_CREATE, &req, &resp, "create resource group", &r);
	cr_assert_eq(r.cls, OUT_PERMANENT);
	cr_assert_str_eq(r.code, "LocationNotAvailableForResourceGroup");
	size_t len = strlen(r.message);
	cr_assert(len < sizeof(r.message));
	cr_assert_str_eq(r.message + len - 3, "...", "a cut message says so");
	json_t *valid = json_string(r.message);
	cr_assert_not_null(valid, "the cut message is still valid UTF-8");
	json_decref(valid);
	outbound_result_clear(&r);
	json_decref(body);
	free(text);
	free(msg);
}
