/*
 * Unit tests for handlers/webhook_verify.c: QuickBooks signatures and Pax8
 * secrets are checked exactly, and verified bodies split into inbox events
 * the same way for Intuit's CloudEvents and legacy formats and for Pax8.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/webhook_verify.h"

static const char *fox = "The quick brown fox jumps over the lazy dog";
/* base64(HMAC-SHA256("key", fox)), the published test vector. */
static const char *fox_sig = "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=";

Test(webhook_verify, quickbooks_signature_matches_the_hmac_sha256_test_vector)
{
	cr_assert(webhook_quickbooks_signature_ok("key", fox, strlen(fox), fox_sig));
}

Test(webhook_verify, quickbooks_signature_refuses_every_alteration)
{
	char flipped[64];
	strcpy(flipped, fox_sig);
	flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
	char *body = strdup(fox);
	body[0] = 't';
	const struct {
		const char *key, *body, *sig;
	} bad[] = {
		{"key", body, fox_sig},               /* one byte of the body */
		{"key", fox, flipped},                /* one character of the signature */
		{"Key", fox, fox_sig},                /* another token */
		{"", fox, fox_sig},                   /* no token configured */
		{"key", fox, NULL},                   /* no header */
		{"key", fox, ""},                     /* empty header */
		{"key", fox, "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg"},   /* unpadded */
		{"key", fox, "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0a"},      /* truncated */
		{"key", fox, "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=AAAA"}, /* longer */
		{"key", fox, "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPN=="},  /* padding inside */
		{"key", fox, "97yD9DBThCSxMpjmqm-xQ-9NWaFJRhdZl0edvC0aPNg="},  /* base64url */
		{"key", fox, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"}, /* hex */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(webhook_quickbooks_signature_ok(bad[i].key, bad[i].body, strlen(bad[i].body), bad[i].sig),
			      "case %zu accepted", i);
	free(body);
}

Test(webhook_verify, quickbooks_signature_covers_the_exact_bytes_including_nul)
{
	/* A NUL inside the body is signed like any byte: the check never stops
	 * at it, so "{}\0x" and "{}" have different signatures. */
	const char raw[] = {'{', '}', '\0', 'x'};
	cr_assert(webhook_quickbooks_signature_ok("verifier", raw, sizeof(raw),
						  "AQykgZWC+fiDUOrWmXp55Kkq0m7k2EDLRAxpk9F8GOM="));
	cr_assert_not(webhook_quickbooks_signature_ok("verifier", raw, sizeof(raw),
						      "kZxclEfoy7dfRrKNGYXz56o9VOCQkr8TWBMeqxlXGAM="));
	cr_assert_not(webhook_quickbooks_signature_ok("verifier", raw, 2,
						      "AQykgZWC+fiDUOrWmXp55Kkq0m7k2EDLRAxpk9F8GOM="));
}

Test(webhook_verify, pax8_secret_must_be_equal)
{
	cr_assert(webhook_pax8_secret_ok("s3cret-value", "s3cret-value"));
	const char *bad[] = {"s3cret-valu", "s3cret-value ", "S3CRET-VALUE", "Bearer s3cret-value", "", NULL};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(webhook_pax8_secret_ok("s3cret-value", bad[i]), "case %zu accepted", i);
	cr_assert_not(webhook_pax8_secret_ok("", ""), "an empty secret never matches");
	cr_assert_not(webhook_pax8_secret_ok(NULL, "x"));
}

static json_t *parse_qbo(const char *body)
{
	json_t *events = NULL;
	const char *why = NULL;
	cr_assert_eq(webhook_parse_quickbooks(body, strlen(body), &events, &why), WEBHOOK_PARSE_OK, "%s", why);
	return events;
}

static const char *str(json_t *ev, const char *key)
{
	return json_string_value(json_object_get(ev, key));
}

Test(webhook_verify, cloudevents_split_per_event_with_id_as_dedupe_key)
{
	json_t *ev = parse_qbo(
		"[{\"specversion\":\"1.0\",\"id\":\"88cd52aa-33b6-4351-9aa4-47572edbd068\","
		"\"source\":\"intuit.dsnBgbse\",\"type\":\"qbo.invoice.voided.v1\",\"datacontenttype\":\"application/json\","
		"\"time\":\"2025-09-10T21:31:25.179851517Z\",\"intuitentityid\":\"1234\",\"intuitaccountid\":\"310687\",\"data\":{}},"
		"{\"specversion\":\"1.0\",\"id\":\"c2\",\"type\":\"qbo.customer.merged.v1\",\"time\":\"2025-12-04T15:25:05Z\","
		"\"intuitentityid\":\"123\",\"intuitaccountid\":\"999\",\"data\":{\"deletedid\":\"27\"}}]");
	cr_assert_eq(json_array_size(ev), 2);
	json_t *a = json_array_get(ev, 0), *b = json_array_get(ev, 1);
	cr_assert_str_eq(str(a, "dedupe_key"), "88cd52aa-33b6-4351-9aa4-47572edbd068");
	cr_assert_str_eq(str(a, "format"), "cloudevents");
	cr_assert_str_eq(str(a, "status"), "received");
	cr_assert_str_eq(str(a, "entity_type"), "invoice");
	cr_assert_str_eq(str(a, "operation"), "void");
	cr_assert_str_eq(str(a, "account_id"), "310687");
	cr_assert_str_eq(str(a, "entity_id"), "1234");
	cr_assert_str_eq(str(a, "occurred_at"), "2025-09-10T21:31:25.179851517Z");
	cr_assert_str_eq(str(a, "event_type"), "qbo.invoice.voided.v1");
	cr_assert_str_eq(str(json_object_get(a, "payload"), "source"), "intuit.dsnBgbse");
	cr_assert_str_eq(str(b, "operation"), "merge");
	cr_assert_str_eq(str(b, "account_id"), "999", "one delivery may mix realms");
	json_decref(ev);
}

Test(webhook_verify, unusable_cloudevents_are_kept_as_rejected_events)
{
	json_t *ev = parse_qbo(
		"[{\"specversion\":\"0.3\",\"id\":\"a\",\"type\":\"qbo.invoice.updated.v1\",\"time\":\"t\",\"intuitentityid\":\"1\",\"intuitaccountid\":\"2\"},"
		"{\"specversion\":\"1.0\",\"id\":\"b\",\"type\":\"qbo.invoice\",\"time\":\"t\",\"intuitentityid\":\"1\",\"intuitaccountid\":\"2\"},"
		"{\"specversion\":\"1.0\",\"id\":\"c\",\"type\":\"qbo.invoice.updated.v1\",\"time\":\"t\",\"intuitentityid\":\"1\"},"
		"{\"specversion\":\"1.0\",\"type\":\"qbo.invoice.updated.v1\",\"time\":\"t\",\"intuitentityid\":\"1\",\"intuitaccountid\":\"2\"},"
		"42]");
	cr_assert_eq(json_array_size(ev), 5);
	size_t i;
	json_t *e;
	json_array_foreach(ev, i, e) {
		cr_assert_str_eq(str(e, "status"), "rejected", "event %zu", i);
		cr_assert_not_null(str(e, "error"));
		cr_assert_not_null(str(e, "dedupe_key"), "a rejected event still has a key");
	}
	cr_assert(strncmp(str(json_array_get(ev, 3), "dedupe_key"), "sha256:", 7) == 0);
	json_decref(ev);
}

Test(webhook_verify, legacy_notifications_split_per_entity_with_a_stable_key)
{
	const char *body =
		"{\"eventNotifications\":[{\"realmId\":\"1185883450\",\"dataChangeEvent\":{\"entities\":["
		"{\"name\":\"Customer\",\"id\":\"1\",\"operation\":\"Create\",\"lastUpdated\":\"2015-10-05T14:42:19-0700\"},"
		"{\"name\":\"Invoice\",\"id\":\"7\",\"operation\":\"Void\",\"lastUpdated\":\"2015-10-05T14:43:00-0700\"}]}}]}";
	json_t *ev = parse_qbo(body);
	cr_assert_eq(json_array_size(ev), 2);
	json_t *inv = json_array_get(ev, 1);
	cr_assert_str_eq(str(inv, "format"), "legacy");
	cr_assert_str_eq(str(inv, "entity_type"), "invoice");
	cr_assert_str_eq(str(inv, "operation"), "void");
	cr_assert_str_eq(str(inv, "account_id"), "1185883450");
	cr_assert_str_eq(str(inv, "occurred_at"), "2015-10-05T14:43:00-0700");
	cr_assert(strncmp(str(inv, "dedupe_key"), "legacy:", 7) == 0);
	json_t *again = parse_qbo(body);
	cr_assert_str_eq(str(json_array_get(again, 1), "dedupe_key"), str(inv, "dedupe_key"),
			 "a redelivery has the same keys");
	cr_assert_str_neq(str(json_array_get(again, 0), "dedupe_key"), str(inv, "dedupe_key"));
	json_decref(again);
	json_decref(ev);
}

Test(webhook_verify, bodies_of_neither_format_are_malformed)
{
	const char *bad[] = {"", "{", "null", "\"x\"", "{\"eventNotifications\":{}}", "{\"a\":1,\"a\":2}", "17"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *events = NULL;
		const char *why = NULL;
		cr_assert_eq(webhook_parse_quickbooks(bad[i], strlen(bad[i]), &events, &why), WEBHOOK_PARSE_MALFORMED,
			     "case %zu", i);
		cr_assert_null(events);
		cr_assert_not_null(why);
	}
	json_t *r = webhook_rejected_body_event("{", 1, "The body is not valid JSON.");
	cr_assert_str_eq(str(r, "status"), "rejected");
	cr_assert_str_eq(str(r, "format"), "unparsed");
	cr_assert_str_eq(str(r, "dedupe_key"),
			 "sha256:021fb596db81e6d02bf3d2586ee3981fe519f275c0ac9ca76bbcf2ebb4097d96");
	json_decref(r);
}

Test(webhook_verify, pax8_events_take_company_subscription_and_time_from_payload_data)
{
	const char *body =
		"{\"id\":\"e-1\",\"accountId\":\"p\",\"webhookId\":\"w\",\"sentAt\":\"2026-03-10T10:00:05Z\","
		"\"webhookTopic\":{\"id\":\"t\",\"topic\":\"SUBSCRIPTION\",\"filters\":[{\"action\":\"UPDATED\",\"conditions\":[]}]},"
		"\"payloadData\":{\"id\":\"sub-1\",\"companyId\":\"co-1\",\"quantity\":3,\"updatedDate\":\"2026-03-10T10:00:00Z\"}}";
	json_t *events = NULL;
	const char *why = NULL;
	cr_assert_eq(webhook_parse_pax8(body, strlen(body), &events, &why), WEBHOOK_PARSE_OK);
	json_t *e = json_array_get(events, 0);
	cr_assert_str_eq(str(e, "dedupe_key"), "e-1");
	cr_assert_str_eq(str(e, "event_type"), "SUBSCRIPTION.UPDATED");
	cr_assert_str_eq(str(e, "entity_type"), "subscription");
	cr_assert_str_eq(str(e, "operation"), "updated");
	cr_assert_str_eq(str(e, "account_id"), "co-1");
	cr_assert_str_eq(str(e, "entity_id"), "sub-1");
	cr_assert_str_eq(str(e, "occurred_at"), "2026-03-10T10:00:00Z");
	cr_assert_str_eq(str(e, "status"), "received");
	json_decref(events);
}

Test(webhook_verify, pax8_without_an_id_is_keyed_by_its_body_and_without_company_rejected)
{
	const char *body = "{\"topic\":\"SUBSCRIPTION\",\"sentAt\":\"2026-03-10T10:00:05Z\",\"payloadData\":{\"id\":\"s\"}}";
	json_t *events = NULL;
	const char *why = NULL;
	cr_assert_eq(webhook_parse_pax8(body, strlen(body), &events, &why), WEBHOOK_PARSE_OK);
	json_t *e = json_array_get(events, 0);
	cr_assert(strncmp(str(e, "dedupe_key"), "sha256:", 7) == 0);
	cr_assert_str_eq(str(e, "status"), "rejected");
	json_decref(events);
	const char *bad[] = {"[]", "{\"payloadData\":{}}", "{\"topic\":\"X\"}", "{\"topic\":\"X\",\"payloadData\":[]}", "nope"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		events = NULL;
		cr_assert_eq(webhook_parse_pax8(bad[i], strlen(bad[i]), &events, &why), WEBHOOK_PARSE_MALFORMED,
			     "case %zu", i);
	}
}
