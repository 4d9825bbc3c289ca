/*
 * auth_flow.c - the portal's sign-in (back end for front end):
 * GET /auth/login, GET /auth/callback, POST /auth/logout.
 *
 * The browser never holds a token: the code is exchanged here, the ID token
 * validated by the same validator as bearer tokens (plus the nonce), and a
 * Redis session is referenced by an HttpOnly cookie. A second, readable
 * cookie carries the session's CSRF token for the X-CSRF-Token header.
 *
 * Login CSRF: /auth/login sets a short-lived pre-auth cookie (LOGIN_COOKIE)
 * on the browser that starts a sign-in, and stores only its hash with the
 * state; /auth/callback refuses a state this browser did not start, so an
 * attacker cannot finish their own sign-in in a victim's browser. Signing
 * in again revokes the session the browser held. Each sign-in started
 * writes a state to Redis: they are limited per address
 * (ATRIUM_LOGIN_RATE_PER_MINUTE).
 */
#include "server/common/config.h"
#include "handlers/handlers.h"
#include "server/common/log.h"
#include "server/auth/oidc_client.h"
#include "server/http/reply.h"
#include "server/auth/session.h"
#include "server/store/redis.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void random_b64url(char *out, size_t outlen)
{
	unsigned char b[32];
	if (RAND_bytes(b, sizeof(b)) != 1)
		abort();
	char *s = util_b64url_encode(b, sizeof(b));
	snprintf(out, outlen, "%s", s);
	free(s);
}

/* A same-site path to return to after sign-in: "/x..." but not "//host". */
static bool safe_return_to(const char *s)
{
	if (s == NULL || s[0] != '/' || s[1] == '/' || s[1] == '\\' || strlen(s) >= 500)
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x21 || *c == 0x7f || *c == '\\')
			return false;
	return true;
}

static void set_session_cookies(struct request *r, const char *id, const char *csrf, int max_age)
{
	char *a = arena_printf(&r->arena, "%s=%s; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=%d",
			       SESSION_COOKIE, id, max_age);
	char *b = arena_printf(&r->arena, "%s=%s; Path=/; Secure; SameSite=Lax; Max-Age=%d", CSRF_COOKIE,
			       csrf, max_age);
	reply_header(r, "Set-Cookie", a);
	reply_header(r, "Set-Cookie", b);
}

/* False after answering 429 when this address started too many sign-ins. */
static bool login_rate_ok_or_reply(struct request *r)
{
	if (cfg.login_rate_ip <= 0)
		return true;
	char key[80];
	snprintf(key, sizeof(key), "signin:%s", r->client_ip);
	int retry = 60;
	/* A Redis outage fails the state write below with 503 anyway. */
	if (redis_rate_limit(key, cfg.login_rate_ip, NULL, 0, &retry, NULL) != RL_LIMITED)
		return true;
	reply_problem(r, 429, "rate-limited", "Too Many Requests",
		      "Too many sign-ins were started from this address; retry later.", NULL);
	reply_header(r, "Retry-After", arena_printf(&r->arena, "%d", retry));
	return false;
}

static void login(struct request *r)
{
	const char *rt = req_query(r, "return_to");
	const char *hint = req_query(r, "login_hint");
	if (rt && !safe_return_to(rt)) {
		json_t *errors = NULL;
		problem_add_error(&errors, "return_to", "must be a path on this site");
		reply_problem(r, 400, "invalid-query", "Bad Request", "return_to is not a path on this site.", errors);
		return;
	}
	if (hint && (strlen(hint) > 256 || strpbrk(hint, "\r\n"))) {
		reply_problem(r, 400, "invalid-query", "Bad Request", "login_hint is too long.", NULL);
		return;
	}
	if (!login_rate_ok_or_reply(r))
		return;
	struct login_state ls;
	memset(&ls, 0, sizeof(ls));
	char state[64], browser[64];
	random_b64url(state, sizeof(state));
	random_b64url(browser, sizeof(browser));
	unsigned char bd[32];
	util_sha256(browser, strlen(browser), bd);
	char *bh = util_b64url_encode(bd, sizeof(bd));
	snprintf(ls.binding, sizeof(ls.binding), "%s", bh);
	free(bh);
	random_b64url(ls.nonce, sizeof(ls.nonce));
	random_b64url(ls.verifier, sizeof(ls.verifier));
	snprintf(ls.return_to, sizeof(ls.return_to), "%s", rt ? rt : "/");
	unsigned char digest[32];
	util_sha256(ls.verifier, strlen(ls.verifier), digest);
	char *challenge = util_b64url_encode(digest, sizeof(digest));
	char *url = oidc_authorize_url(state, ls.nonce, challenge, hint);
	free(challenge);
	if (url == NULL) {
		reply_unavailable(r, "the identity provider's discovery document is not loaded yet");
		return;
	}
	if (login_state_put(state, &ls) != SESSION_OK) {
		free(url);
		reply_unavailable(r, "the session store (Redis) is unreachable");
		return;
	}
	reply_empty(r, 302);
	reply_header(r, "Location", url);
	reply_header(r, "Set-Cookie",
		     arena_printf(&r->arena, "%s=%s; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=600",
				  LOGIN_COOKIE, browser));
	free(url);
}

static void clear_login_cookie(struct request *r)
{
	reply_header(r, "Set-Cookie",
		     arena_printf(&r->arena, "%s=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0",
				  LOGIN_COOKIE));
}

static void callback(struct request *r)
{
	const char *error = req_query(r, "error");
	if (error) {
		json_t *errors = NULL;
		problem_add_error(&errors, "error", "the identity provider refused the sign-in");
		reply_problem(r, 400, "sign-in-refused", "Bad Request",
			      "The identity provider did not sign you in; try again.", errors);
		return;
	}
	const char *code = req_query(r, "code"), *state = req_query(r, "state");
	if (code == NULL || state == NULL || strlen(code) > 4096) {
		reply_problem(r, 400, "invalid-query", "Bad Request", "code and state are required.", NULL);
		return;
	}
	struct login_state ls;
	switch (login_state_take(state, &ls)) {
	case SESSION_OK:
		break;
	case SESSION_MISSING:
		reply_problem(r, 400, "sign-in-expired", "Bad Request",
			      "This sign-in expired or was already used; start again.", NULL);
		return;
	case SESSION_UNAVAILABLE:
		reply_unavailable(r, "the session store (Redis) is unreachable");
		return;
	}
	/* The state is spent either way: a refused callback cannot be retried. */
	const char *browser = req_cookie(r, LOGIN_COOKIE);
	if (!login_binding_matches(browser, ls.binding)) {
		reply_problem(r, 400, "sign-in-not-started-here", "Bad Request",
			      "This sign-in was not started in this browser; start again.", NULL);
		clear_login_cookie(r);
		return;
	}
	const char *why = NULL;
	char *id_token = oidc_exchange_code(code, ls.verifier, &why);
	if (id_token == NULL) {
		reply_problem(r, 502, "identity-provider", "Bad Gateway", why, NULL);
		return;
	}
	struct principal p;
	enum auth_status st = auth_verify(id_token, ls.nonce, &p, &why);
	free(id_token);
	if (st == AUTH_OK) {
		p.kind = AUTH_KIND_COOKIE;
		st = auth_resolve(&p, true, &why);
	}
	if (st == AUTH_UNAVAILABLE) {
		reply_unavailable(r, why);
		return;
	}
	if (st != AUTH_OK) {
		reply_problem(r, 401, "invalid-token", "Unauthorized", why, NULL);
		return;
	}
	/* Signing in again replaces the browser's session: the old one is
	 * revoked, so a session id it leaked earlier is worth nothing. */
	const char *old = req_cookie(r, SESSION_COOKIE);
	if (old && session_id_valid(old) && session_delete(old) != SESSION_OK) {
		reply_unavailable(r, "the session store (Redis) is unreachable");
		return;
	}
	char id[65], csrf[65];
	if (session_create(&p, id, csrf) != SESSION_OK) {
		reply_unavailable(r, "the session store (Redis) is unreachable");
		return;
	}
	reply_empty(r, 302);
	reply_header(r, "Location", ls.return_to);
	set_session_cookies(r, id, csrf, cfg.session_max_s);
	clear_login_cookie(r);
	log_info("portal sign-in: user %s of directory %s", p.oid, p.tid);
}

static void logout(struct request *r)
{
	const char *sid = req_cookie(r, SESSION_COOKIE);
	if (sid && session_id_valid(sid)) {
		struct principal p;
		char csrf[65];
		switch (session_get(sid, &p, csrf)) {
		case SESSION_UNAVAILABLE:
			reply_unavailable(r, "the session store (Redis) is unreachable");
			return;
		case SESSION_OK:
			if (!http_csrf_ok_or_reply(r, csrf))
				return;
			if (session_delete(sid) != SESSION_OK) {
				reply_unavailable(r, "the session store (Redis) is unreachable");
				return;
			}
			break;
		case SESSION_MISSING:
			break;
		}
	}
	reply_empty(r, 204);
	set_session_cookies(r, "", "", 0);
}

const struct route auth_flow_routes[] = {
	{HTTP_GET, "/auth/login", login, AUTH_NONE, ROLE_ANY, BODY_NONE, "auth.login"},
	{HTTP_GET, "/auth/callback", callback, AUTH_NONE, ROLE_ANY, BODY_NONE, "auth.callback"},
	{HTTP_POST, "/auth/logout", logout, AUTH_NONE, ROLE_ANY, BODY_NONE, "auth.logout"},
};
const size_t auth_flow_routes_len = sizeof(auth_flow_routes) / sizeof(auth_flow_routes[0]);
