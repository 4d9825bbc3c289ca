/*
 * session.h - portal sessions kept in Redis (back end for front end).
 *
 * The cookie carries a 256-bit random id; Redis holds, under a SHA-256 of
 * that id (a leaked Redis dump reveals no usable cookie), the caller's
 * identity, the session's CSRF token and its absolute expiry. Each cookie
 * request costs one Redis round trip (GETEX: read and slide the idle TTL).
 * Sessions live only in Redis, so they survive restarts and are valid on
 * every replica.
 */
#ifndef ATRIUM_SESSION_H
#define ATRIUM_SESSION_H

#include <stdbool.h>

#include "server/auth/auth.h"

#define SESSION_COOKIE "atrium_session"
#define CSRF_COOKIE "atrium_csrf"

enum session_status { SESSION_OK, SESSION_MISSING, SESSION_UNAVAILABLE };

/* Creates a session for p; fills the cookie id and CSRF token (hex). */
enum session_status session_create(const struct principal *p, char id[65], char csrf[65]);
/* Resolves a cookie id: identity into *p (tenant resolution is the
 * caller's), CSRF token into csrf. */
enum session_status session_get(const char *id, struct principal *p, char csrf[65]);
enum session_status session_delete(const char *id);

/* True when the id looks like one of ours (64 hex characters). */
bool session_id_valid(const char *id);

/* Sign-in state between /auth/login and /auth/callback, single use. */
struct login_state {
	char verifier[64];   /* PKCE code_verifier */
	char nonce[64];
	char return_to[512];
	/* base64url SHA-256 of the pre-auth cookie set on the browser that
	 * started this sign-in: the callback must come from that browser. */
	char binding[64];
};

/* The short-lived pre-auth cookie of /auth/login (HttpOnly, Secure,
 * Path=/, no Domain: the __Host- prefix makes browsers hold it to that). */
#define LOGIN_COOKIE "__Host-atrium_login"

/* Whether cookie_value hashes to binding (constant time). */
bool login_binding_matches(const char *cookie_value, const char *binding);
enum session_status login_state_put(const char *state, const struct login_state *ls);
enum session_status login_state_take(const char *state, struct login_state *ls);

enum csrf_verdict { CSRF_OK, CSRF_CROSS_SITE, CSRF_BAD_TOKEN };

/*
 * The CSRF decision for a cookie-authenticated state change: Origin must
 * equal public_url (or, without Origin, Referer must start with
 * public_url + "/"), and token must equal the session's csrf token.
 */
enum csrf_verdict session_csrf_check(const char *origin, const char *referer, const char *token,
				     const char *session_csrf, const char *public_url);

/* Constant-time comparison of two NUL-terminated secrets. */
bool session_secret_equal(const char *a, const char *b);

#endif
