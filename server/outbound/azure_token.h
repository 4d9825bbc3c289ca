/*
 * azure_token.h - the worker's own Entra ID access token for Azure Resource
 * Manager, by the OAuth 2.0 client credentials grant (libcurl), cached
 * until shortly before it expires and shared by every runner thread.
 *
 * Configuration: ATRIUM_AZURE_AUTHORITY (+ /{tenant}/oauth2/v2.0/token),
 * ATRIUM_AZURE_TENANT_ID, ATRIUM_AZURE_CLIENT_ID, ATRIUM_ARM_SCOPE (the
 * first three default to AKS workload identity's AZURE_AUTHORITY_HOST,
 * AZURE_TENANT_ID and AZURE_CLIENT_ID), and exactly one credential, in this
 * order of precedence:
 *   AZURE_FEDERATED_TOKEN_FILE       workload identity federation: the
 *                                    file's token (re-read on every fetch,
 *                                    it is rotated) is the client_assertion;
 *   ATRIUM_AZURE_CLIENT_CERTIFICATE  a PEM file with the private key (RSA)
 *                                    and the certificate: a client assertion
 *                                    JWT signed RS256 with OpenSSL;
 *   ATRIUM_AZURE_CLIENT_SECRET       client_secret.
 * The secret, the assertions and the token are never logged.
 */
#ifndef ATRIUM_AZURE_TOKEN_H
#define ATRIUM_AZURE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

enum azure_credential {
	AZURE_CRED_NONE,
	AZURE_CRED_FEDERATED,   /* AZURE_FEDERATED_TOKEN_FILE */
	AZURE_CRED_CERTIFICATE, /* ATRIUM_AZURE_CLIENT_CERTIFICATE */
	AZURE_CRED_SECRET,      /* ATRIUM_AZURE_CLIENT_SECRET */
};
/* The credential `cfg` selects (the precedence above), and its name for
 * logs ("federated token file", "client certificate", "client secret"). */
enum azure_credential azure_token_credential(void);
const char *azure_credential_name(enum azure_credential c);

/* Lifetime of a certificate client assertion: exp = nbf + this. */
#define AZURE_ASSERTION_LIFETIME_S 600

/*
 * The client assertion of a certificate credential: a JWT with header
 * {"alg":"RS256","typ":"JWT","x5t#S256":<base64url SHA-256 of the DER
 * certificate>} and claims aud (the token endpoint URL), iss = sub =
 * client_id, jti (random UUID), nbf = iat = now, exp = now + 600, signed
 * with the PEM file's RSA key (SHA-256, PKCS#1 v1.5). On success *out is a
 * heap string the caller cleanses and frees; on failure returns false with
 * a reason in err (never key material). *unreadable tells an I/O failure
 * (worth retrying) from an unusable file.
 */
bool azure_token_cert_assertion(const char *pem_path, const char *client_id, const char *aud,
				int64_t now, char **out, char *err, size_t errlen, bool *unreadable);

/* Seconds before expiry at which a cached token is renewed: 5 minutes, or a
 * quarter of the lifetime for short-lived tokens. */
int azure_token_refresh_margin(int expires_in);

#endif
