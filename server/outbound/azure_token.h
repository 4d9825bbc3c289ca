/*
 * azure_token.h - the worker's own Entra ID access token for Azure Resource
 * Manager, by the OAuth 2.0 client credentials grant (libcurl), cached
 * until shortly before it expires and shared by every runner thread.
 *
 * Configuration: ATRIUM_AZURE_AUTHORITY (+ /{tenant}/oauth2/v2.0/token),
 * ATRIUM_AZURE_TENANT_ID, ATRIUM_AZURE_CLIENT_ID,
 * ATRIUM_AZURE_CLIENT_SECRET, ATRIUM_ARM_SCOPE. The secret and the token
 * are never logged.
 */
#ifndef ATRIUM_AZURE_TOKEN_H
#define ATRIUM_AZURE_TOKEN_H

#include <stdbool.h>

#include "server/outbound/outbound.h"

/*
 * A valid token for ARM: from the cache, or fetched (one fetch at a time;
 * other threads wait for it). On success *token is a heap copy the caller
 * frees. On failure returns false with *err set (retryable or permanent,
 * with Entra's error code and message).
 */
bool azure_token_get(char **token, struct outbound_result *err);
/* Drops the cached token if it is still `token` (ARM refused it: 401). */
void azure_token_invalidate(const char *token);
/* Forgets the cache (tests, shutdown). */
void azure_token_reset(void);

/* Seconds before expiry at which a cached token is renewed: 5 minutes, or a
 * quarter of the lifetime for short-lived tokens. */
int azure_token_refresh_margin(int expires_in);

#endif
