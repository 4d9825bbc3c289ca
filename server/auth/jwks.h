/*
 * jwks.h - the identity provider's signing keys and issuer, fetched with
 * libcurl from the OpenID discovery document and cached by kid.
 *
 * A background thread refreshes hourly (ATRIUM_JWKS_REFRESH_SECONDS); an
 * unknown kid may trigger one synchronous refresh per
 * ATRIUM_JWKS_MIN_REFRESH_SECONDS. A failed fetch keeps the last good keys.
 */
#ifndef ATRIUM_JWKS_H
#define ATRIUM_JWKS_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

void jwks_start(void);
void jwks_stop(void);

enum jwks_lookup { JWKS_FOUND, JWKS_UNKNOWN_KID, JWKS_UNAVAILABLE };

/* Looks up kid; on JWKS_FOUND *pkey is a new reference to the RSA public
 * key, which the caller releases with EVP_PKEY_free() (a refresh meanwhile
 * does not free it). An unknown kid may refresh the keys, at most once per
 * ATRIUM_JWKS_MIN_REFRESH_SECONDS. */
enum jwks_lookup jwks_key(const char *kid, EVP_PKEY **pkey);

/* Whether kid names a key held now; never fetches. */
bool jwks_has_kid(const char *kid);

/* Writes the expected v2 issuer for a directory (the discovery document's
 * issuer with {tenantid} replaced). False when no discovery is loaded. */
bool jwks_issuer_for(const char *tid, char *out, size_t len);

/* The discovery document's authorization_endpoint (false) or
 * token_endpoint (true): a heap copy, or NULL before discovery loaded. */
char *jwks_endpoint(bool token_endpoint);

/* Replaces {tenantid} in template; false when out is too small. */
bool jwks_expand_issuer(const char *tmpl, const char *tid, char *out, size_t len);

/*
 * Loads keys from a JWKS JSON document and an issuer template directly,
 * without fetching; for unit tests. Returns the number of usable keys.
 */
int jwks_load_for_test(const char *issuer, const char *jwks_json);

/* Converts one RSA JWK (n, e base64url) to a public EVP_PKEY the caller
 * frees; NULL when the JWK is not a usable RSA key of 2048 bits or more. */
EVP_PKEY *jwks_jwk_to_pkey(const char *n_b64url, const char *e_b64url);

/* The same key as a PEM public key (heap string, NULL when unusable); for
 * tests that forge tokens keyed with it. */
char *jwks_jwk_to_pem(const char *n_b64url, const char *e_b64url);

#endif
