/*
 * fuzz_quickbooks - the QuickBooks webhook (handlers/webhook_verify.h):
 * webhook_quickbooks_signature_ok() and webhook_parse_quickbooks() on the
 * raw body, as handlers/webhooks.c calls them.
 *
 * The body is the whole input. Signatures:
 *  - the right intuit-signature (HMAC computed here) is accepted, with a
 *    fixed verifier token and with one taken from the input's first line;
 *  - truncated, extended, altered, non-canonical (padding bits set) and
 *    input-derived values are refused unless they equal the right one.
 * Parsing: OK gives a JSON array of well-formed inbox events (one per
 * element of a CloudEvents array), MALFORMED gives no events and a reason;
 * the rejected-body event of any body is well-formed too.
 */
#include "tests/fuzz/fuzz_webhook_common.h"

static const char TOKEN[] = "fuzz-verifier-token";

static void check_signatures(const char *token, const uint8_t *data, size_t size)
{
	char good[45];
	qbo_signature(token, data, size, good);
	FUZZ_CHECK(webhook_quickbooks_signature_ok(token, data, size, good) == (*token != '\0'),
		   "the right signature is refused (token \"%s\")", token);
	if (*token == '\0')
		return;
	char bad[47];
	memcpy(bad, good, 45);
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	FUZZ_CHECK(!webhook_quickbooks_signature_ok(token, data, size, bad), "an altered signature passed");
	/* The 43rd character carries 4 bits of the MAC and 2 bits that must
	 * be zero: a value differing there only is not the standard base64. */
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	memcpy(bad, good, 45);
	bad[42] = b64[(strchr(b64, good[42]) - b64) ^ 1];
	FUZZ_CHECK(!webhook_quickbooks_signature_ok(token, data, size, bad),
		   "a non-canonical signature passed: %s for %s", bad, good);
	memcpy(bad, good, 45);
	bad[43] = '\0';
	FUZZ_CHECK(!webhook_quickbooks_signature_ok(token, data, size, bad), "a truncated signature passed");
	memcpy(bad, good, 44);
	bad[44] = '=';
	bad[45] = '\0';
	FUZZ_CHECK(!webhook_quickbooks_signature_ok(token, data, size, bad), "an extended signature passed");
	FUZZ_CHECK(!webhook_quickbooks_signature_ok(token, data, size, ""), "an empty signature passed");
	FUZZ_CHECK(!webhook_quickbooks_signature_ok(token, data, size, NULL), "no signature passed");
	/* The other body halves: the signature covers every byte. */
	if (size > 0)
		FUZZ_CHECK(!webhook_quickbooks_signature_ok(token, data, size - 1, good),
			   "a signature passed for a shorter body");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Signatures. */
	check_signatures(TOKEN, data, size);
	char *head[2];
	fuzz_fields(data, size < 64 ? size : 64, '\n', head, 2);
	check_signatures(head[0], data, size);
	/* An input-derived header: accepted only when it is the right value. */
	char good[45];
	qbo_signature(TOKEN, data, size, good);
	FUZZ_CHECK(webhook_quickbooks_signature_ok(TOKEN, data, size, head[0]) == (strcmp(head[0], good) == 0),
		   "input-derived signature \"%s\" judged wrongly", head[0]);
	FUZZ_CHECK(!webhook_quickbooks_signature_ok("", data, size, good), "an empty token verified");
	FUZZ_CHECK(!webhook_quickbooks_signature_ok(NULL, data, size, good), "a NULL token verified");
	fuzz_free_fields(head, 2);

	/* Parsing. */
	json_t *events = (json_t *)1;
	const char *why = NULL;
	enum webhook_parse st = webhook_parse_quickbooks((const char *)data, size, &events, &why);
	if (st == WEBHOOK_PARSE_OK) {
		FUZZ_CHECK(json_is_array(events), "OK without an array");
		json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(root != NULL, "OK for a body that is not JSON");
		if (json_is_array(root))
			FUZZ_CHECK(json_array_size(events) == json_array_size(root),
				   "%zu events for %zu CloudEvents", json_array_size(events), json_array_size(root));
		json_decref(root);
		size_t i;
		json_t *ev;
		json_array_foreach(events, i, ev) {
			check_event(ev, NULL);
			const char *fmt = json_string_value(json_object_get(ev, "format"));
			FUZZ_CHECK(strcmp(fmt, "cloudevents") == 0 || strcmp(fmt, "legacy") == 0, "format %s", fmt);
			if (strcmp(json_string_value(json_object_get(ev, "status")), "received") == 0) {
				FUZZ_CHECK(json_is_string(json_object_get(ev, "operation")), "received without operation");
				FUZZ_CHECK(provider_id(json_object_get(ev, "entity_id")), "received without entity id");
			}
		}
		/* The dump the inbox stores must succeed. */
		char *dump = json_dumps(events, JSON_COMPACT);
		FUZZ_CHECK(dump != NULL, "events do not serialise");
		free(dump);
		json_decref(events);
	} else {
		FUZZ_CHECK(st == WEBHOOK_PARSE_MALFORMED, "unknown status %d", (int)st);
		FUZZ_CHECK(events == NULL && why != NULL && *why, "MALFORMED without a reason or with events");
		check_rejected_body_event((const char *)data, size);
	}
	return 0;
}
