/*
 * fuzz_pax8 - the Pax8 webhook (handlers/webhook_verify.h):
 * webhook_pax8_secret_ok() and webhook_parse_pax8() on the raw body.
 *
 * Secrets: the input's first line is used as the Authorization header
 * against a fixed secret (accepted only when equal), and as the secret
 * itself (the same value is accepted, any other is not).
 * Parsing: OK gives a one-element array holding a well-formed inbox event
 * whose dedupe key is the delivery's id, or else the SHA-256 of the body;
 * MALFORMED gives no events and a reason.
 */
#include "tests/fuzz/fuzz_webhook_common.h"

static const char SECRET[] = "fuzz-pax8-secret";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *head[2];
	fuzz_fields(data, size, '\n', head, 2);
	const char *line = head[0];
	FUZZ_CHECK(webhook_pax8_secret_ok(SECRET, line) == (strcmp(line, SECRET) == 0),
		   "Authorization \"%s\" judged wrongly", line);
	FUZZ_CHECK(webhook_pax8_secret_ok(line, line) == (*line != '\0'), "a secret does not match itself");
	FUZZ_CHECK(!webhook_pax8_secret_ok(line, NULL) && !webhook_pax8_secret_ok(NULL, line),
		   "NULL matched");
	char *longer = xasprintf("%sx", line);
	FUZZ_CHECK(!webhook_pax8_secret_ok(line, longer), "a longer value matched");
	free(longer);
	fuzz_free_fields(head, 2);

	json_t *events = (json_t *)1;
	const char *why = NULL;
	enum webhook_parse st = webhook_parse_pax8((const char *)data, size, &events, &why);
	if (st == WEBHOOK_PARSE_OK) {
		FUZZ_CHECK(json_is_array(events) && json_array_size(events) == 1, "OK without one event");
		json_t *ev = json_array_get(events, 0);
		check_event(ev, "pax8");
		json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(json_is_object(root), "OK for a body that is not a JSON object");
		FUZZ_CHECK(json_equal(json_object_get(ev, "payload"), root), "payload is not the body");
		const char *key = json_string_value(json_object_get(ev, "dedupe_key"));
		if (provider_id(json_object_get(root, "id"))) {
			FUZZ_CHECK(strcmp(key, json_string_value(json_object_get(root, "id"))) == 0,
				   "dedupe key is not the delivery id");
		} else {
			char hex[65], want[72];
			util_sha256_hex(data, size, hex);
			snprintf(want, sizeof(want), "sha256:%s", hex);
			FUZZ_CHECK(strcmp(key, want) == 0, "dedupe key is not the body's SHA-256");
		}
		json_decref(root);
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
