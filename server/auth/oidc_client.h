/*
 * oidc_client.h - the portal's OpenID Connect client (authorization code +
 * PKCE) against the identity provider named by ATRIUM_OIDC_METADATA_URL.
 *
 * The code exchange is the one outbound call made on a request thread: it
 * is inherent to the callback of a back-end-for-front-end sign-in, so it is
 * bounded (3 s connect, 5 s total, 64 KiB answer).
 */
#ifndef ATRIUM_OIDC_CLIENT_H
#define ATRIUM_OIDC_CLIENT_H

/* The authorize URL to redirect the browser to (heap), or NULL before the
 * discovery document has loaded. login_hint may be NULL. */
char *oidc_authorize_url(const char *state, const char *nonce, const char *code_challenge,
			 const char *login_hint);

/* Exchanges the code; returns the ID token (heap) or NULL with *why set. */
char *oidc_exchange_code(const char *code, const char *verifier, const char **why);

/* The redirect URI registered for this deployment: ATRIUM_PUBLIC_URL +
 * "/auth/callback" (heap). */
char *oidc_redirect_uri(void);

#endif
