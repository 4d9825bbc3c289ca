/*
 * intuit.h - the worker's calls to Intuit for QuickBooks Online: the OAuth
 * 2.0 token endpoint (authorization code and refresh token grants, the app
 * authenticated with HTTP Basic), token revocation, and reads of the
 * Accounting API (GET {ATRIUM_QUICKBOOKS_API_URL}/v3/company/{realm}/...).
 * Every exchange goes through outbound_perform() and its classification
 * (target "intuit"). Tokens and the client secret travel in bodies and
 * headers only, never in URLs or logs.
 */
#ifndef ATRIUM_INTUIT_H
#define ATRIUM_INTUIT_H

#include <stdbool.h>

#include "server/outbound/outbound.h"

struct intuit_tokens {
	char *access_token;      /* heap; intuit_tokens_free() cleanses */
	char *refresh_token;
	int expires_in;          /* seconds */
	int refresh_expires_in;  /* x_refresh_token_expires_in, 0 when absent */
};

/*
 * grant "authorization_code" (value: the code; the configured redirect URI
 * is sent) or "refresh_token". True with *out filled when Intuit issued
 * tokens; else false and *res says why: res->code "invalid_grant" (a
 * refused code or a revoked/expired refresh token, permanent), retryable
 * outages and throttling, or "NotConfigured".
 */
bool intuit_token(const char *grant, const char *value, const struct outbound_ctx *ctx,
		  struct intuit_tokens *out, struct outbound_result *res);
void intuit_tokens_free(struct intuit_tokens *t);

/* Revokes a refresh (or access) token. True when Intuit accepted it. */
bool intuit_revoke(const char *token, const struct outbound_ctx *ctx, struct outbound_result *res);

/*
 * GET {api}/v3/company/{realm}/{path} with the bearer token (path carries
 * its own query, e.g. "invoice/42?minorversion=75"). The answer is in
 * *res (body parsed); returns true on 2xx.
 */
bool intuit_get(const char *access_token, const char *realm, const char *path,
		const struct outbound_ctx *ctx, struct outbound_result *res);

/* The Accounting API's fault code of an answer ({"Fault":{"Error":[{"code"}]}}), or NULL. */
const char *intuit_fault_code(json_t *body);

#endif
