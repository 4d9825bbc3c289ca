/*
 * pax8.h - the worker's client of the Pax8 Partner API v1: a client
 * credentials token (POST ATRIUM_PAX8_TOKEN_URL with client_id,
 * client_secret, audience "api://p8p.client"), cached until shortly before
 * it expires and shared by every runner thread, and authenticated GETs
 * below ATRIUM_PAX8_API_URL (default https://api.pax8.com/v1).
 *
 * Answers are classified by outbound.c: 2xx OK; 401 (the token expired or
 * was revoked) is retried once here with a new token; 429 and 5xx are
 * retryable (Retry-After in the result); other 4xx are permanent. The
 * secret and the tokens are never logged nor kept in results.
 */
#ifndef ATRIUM_PAX8_H
#define ATRIUM_PAX8_H

#include <stdbool.h>

#include "server/outbound/outbound.h"

/* The audience Pax8's token endpoint expects for the Partner API. */
#define PAX8_AUDIENCE "api://p8p.client"

/* True when ATRIUM_PAX8_CLIENT_ID and ATRIUM_PAX8_CLIENT_SECRET are set. */
bool pax8_configured(void);

/*
 * GET {api_url}{path} (path starts with "/", query included, already
 * escaped). Fills *out (clear it with outbound_result_clear()); out->body
 * is the parsed JSON answer. Returns out->cls == OUT_OK.
 */
bool pax8_get(const char *path, const struct outbound_ctx *ctx, struct outbound_result *out);

/* Forgets the cached token (tests, shutdown). */
void pax8_token_reset(void);

#endif
