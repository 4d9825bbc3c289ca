/*
 * webhook_verify.h - the provider side of billing webhooks, kept free of
 * I/O so unit tests can drive it: signature checks over the raw body, and
 * the split of a verified body into inbox events.
 *
 * Verification never parses the body. Both checks compare in constant time
 * (OpenSSL CRYPTO_memcmp) and never say why a value did not match.
 *
 * An inbox event (what parsing produces, what services/webhooks.c stores)
 * is a JSON object:
 *   {dedupe_key, format, event_type, account_id, entity_type, entity_id,
 *    operation, occurred_at, payload, status, error}
 * status is "received" (to be processed) or "rejected" (kept, with error,
 * never processed). Missing members are null.
 */
#ifndef ATRIUM_WEBHOOK_VERIFY_H
#define ATRIUM_WEBHOOK_VERIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest id or name accepted from a provider; longer ones reject the event. */
#define WEBHOOK_MAX_ID 128

/*
 * QuickBooks: true when `signature` (the intuit-signature header) is the
 * standard base64 of HMAC-SHA256(verifier_token, body). Any other value,
 * a truncated or over-long one included, is false.
 */
bool webhook_quickbooks_signature_ok(const char *verifier_token, const void *body, size_t len,
				     const char *signature);

/* Pax8: true when `authorization` equals `secret`. Digests are compared, so
 * neither the secret's length nor a matching prefix shows in the timing. */
bool webhook_pax8_secret_ok(const char *secret, const char *authorization);

enum webhook_parse {
	WEBHOOK_PARSE_OK,         /* *events holds 0..n events (some may be rejected) */
	WEBHOOK_PARSE_MALFORMED,  /* the body as a whole is unusable: *why says why */
};

/*
 * Splits a verified QuickBooks body: the CloudEvents array (one event per
 * element; `id` is the dedupe key; realms may be mixed) or the legacy
 * {"eventNotifications":[…]} (one event per entity change). On OK,
 * *events is a new array the caller owns; *why is a static string.
 */
enum webhook_parse webhook_parse_quickbooks(const char *body, size_t len, json_t **events,
					    const char **why);

/* The same for a Pax8 delivery: one event, deduplicated by the delivery's
 * `id` when it has one, else by the SHA-256 of the raw body. */
enum webhook_parse webhook_parse_pax8(const char *body, size_t len, json_t **events,
				      const char **why);

/* The single rejected event kept for a body that could not be used at all,
 * deduplicated by the SHA-256 of the raw body. New reference. */
json_t *webhook_rejected_body_event(const char *body, size_t len, const char *why);

#endif
