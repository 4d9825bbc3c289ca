/*
 * fuzz_webhook_common.h - the inbox event invariants shared by
 * fuzz_quickbooks and fuzz_pax8 (handlers/webhook_verify.h).
 */
#ifndef ATRIUM_FUZZ_WEBHOOK_COMMON_H
#define ATRIUM_FUZZ_WEBHOOK_COMMON_H

#include "tests/fuzz/fuzz_common.h"
#include "handlers/webhook_verify.h"

#include <jansson.h>
#include <openssl/hmac.h>

static const char *const event_members[] = {
	"dedupe_key", "format", "event_type", "account_id", "entity_type", "entity_id",
	"operation", "occurred_at", "payload", "status", "error",
};

static inline bool str_or_null(json_t *v)
{
	return json_is_string(v) || json_is_null(v);
}

/* An id the parsers took from the provider: 1..WEBHOOK_MAX_ID printable. */
static inline bool provider_id(json_t *v)
{
	const char *s = json_string_value(v);
	if (s == NULL || *s == '\0' || strlen(s) > WEBHOOK_MAX_ID)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Every inbox event: exactly the documented members, strings or null,
 * a non-empty dedupe key, status received (error null) or rejected (with
 * an error), and a received event names its account. */
static inline void check_event(json_t *ev, const char *format)
{
	FUZZ_CHECK(json_is_object(ev), "event is not an object");
	FUZZ_CHECK(json_object_size(ev) == sizeof(event_members) / sizeof(event_members[0]),
		   "event has %zu members", json_object_size(ev));
	for (size_t i = 0; i < sizeof(event_members) / sizeof(event_members[0]); i++) {
		json_t *m = json_object_get(ev, event_members[i]);
		FUZZ_CHECK(m != NULL, "event lacks %s", event_members[i]);
		if (strcmp(event_members[i], "payload") != 0)
			FUZZ_CHECK(str_or_null(m), "member %s is neither string nor null", event_members[i]);
	}
	const char *key = json_string_value(json_object_get(ev, "dedupe_key"));
	FUZZ_CHECK(key && *key, "event without dedupe_key");
	const char *fmt = json_string_value(json_object_get(ev, "format"));
	FUZZ_CHECK(fmt && (format == NULL || strcmp(fmt, format) == 0), "unexpected format %s", fmt ? fmt : "(null)");
	const char *status = json_string_value(json_object_get(ev, "status"));
	FUZZ_CHECK(status, "event without status");
	json_t *error = json_object_get(ev, "error");
	if (strcmp(status, "received") == 0) {
		FUZZ_CHECK(json_is_null(error), "received event with an error");
		FUZZ_CHECK(provider_id(json_object_get(ev, "account_id")), "received event without account");
		FUZZ_CHECK(json_is_string(json_object_get(ev, "occurred_at")), "received event without time");
		FUZZ_CHECK(json_is_string(json_object_get(ev, "entity_type")), "received event without entity_type");
	} else {
		FUZZ_CHECK(strcmp(status, "rejected") == 0, "status is %s", status);
		FUZZ_CHECK(json_is_string(error) && *json_string_value(error), "rejected event without error");
	}
}

static inline void check_rejected_body_event(const char *body, size_t len)
{
	json_t *ev = webhook_rejected_body_event(body, len, "fuzz");
	check_event(ev, "unparsed");
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(ev, "status")), "rejected") == 0, "not rejected");
	char hex[65], want[72];
	util_sha256_hex(body, len, hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(ev, "dedupe_key")), want) == 0,
		   "rejected-body key is not the body's SHA-256");
	json_decref(ev);
}

/* Standard base64 of HMAC-SHA256(token, body), computed independently. */
static inline void qbo_signature(const char *token, const void *body, size_t len, char out[45])
{
	unsigned char mac[32];
	unsigned int maclen = 0;
	HMAC(EVP_sha256(), token, (int)strlen(token), body, len, mac, &maclen);
	EVP_EncodeBlock((unsigned char *)out, mac, 32);
}

#endif
