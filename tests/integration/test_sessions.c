/*
 * Integration: the portal's cookie sessions (back end for front end)
 * against the real identity provider and Redis — sign-in with code + PKCE,
 * state replay, CSRF, logout everywhere, sessions valid on another
 * replica, and Redis down answering 503 instead of letting anyone in.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "client.h"
#include "server/common/util.h"

struct signin {
	char session[80];
	char csrf[80];
	char cookie_header[256];
};

/* GET url without following redirects, with an optional Cookie header
 * line; returns the Location (heap). */
static char *location_with(const char *url, const char *cookie, long *status, char **set_cookie)
{
	const char *hdr[] = {cookie, NULL};
	struct resp *r = http_at("", "GET", url, NULL, NULL, cookie ? hdr : NULL);
	*status = r->status;
	char *loc = resp_header(r, "Location");
	if (set_cookie) {
		/* All Set-Cookie lines of the last block. */
		size_t cap = 1;
		*set_cookie = xcalloc(1, 1);
		for (const char *p = r->headers; p && (p = strcasestr(p, "\r\nSet-Cookie: ")) != NULL; p += 2) {
			const char *v = p + 14, *e = strstr(v, "\r\n");
			size_t n = (size_t)(e - v);
			*set_cookie = xrealloc(*set_cookie, cap + n + 1);
			strncat(*set_cookie, v, n);
			strcat(*set_cookie, "\n");
			cap += n + 1;
		}
	}
	resp_free(r);
	return loc;
}

static char *location_of(const char *url, long *status, char **set_cookie)
{
	return location_with(url, NULL, status, set_cookie);
}

static void cookie_value(const char *set_cookie, const char *name, char *out, size_t len)
{
	char key[64];
	snprintf(key, sizeof(key), "%s=", name);
	const char *p = strstr(set_cookie, key);
	cr_assert_not_null(p, "cookie %s not set in:\n%s", name, set_cookie);
	p += strlen(key);
	size_t n = strcspn(p, ";\n");
	snprintf(out, len, "%.*s", (int)n, p);
}

/*
 * Starts a sign-in as a browser would: GET /auth/login, then the IdP's
 * authorize URL. Returns the callback URL (heap) and writes the Cookie
 * header line that carries the browser's pre-auth cookie.
 */
static char *start_sign_in(const char *hint, char *browser_cookie, size_t len)
{
	long st;
	char *login = xasprintf("%s/auth/login?return_to=/app/tenants&login_hint=%s", base_url(), hint);
	char *pre = NULL;
	char *authorize = location_of(login, &st, &pre);
	cr_assert_eq(st, 302);
	cr_assert_not_null(authorize);
	cr_assert(strstr(pre, "__Host-atrium_login=") && strstr(pre, "HttpOnly") && strstr(pre, "Secure") &&
		  strstr(pre, "Path=/") && !strstr(pre, "Domain"),
		  "pre-auth cookie flags: %s", pre);
	char v[128];
	cookie_value(pre, "__Host-atrium_login", v, sizeof(v));
	snprintf(browser_cookie, len, "Cookie: __Host-atrium_login=%s", v);
	char *callback = location_of(authorize, &st, NULL);
	cr_assert(st == 302 || st == 303, "IdP answered %ld", st);
	free(pre);
	free(login);
	free(authorize);
	return callback;
}

static void sign_in_with(const char *hint, const char *old_session, struct signin *s,
			 char **set_cookie_out)
{
	long st;
	char browser[256];
	char *callback = start_sign_in(hint, browser, sizeof(browser));
	char cookie[512];
	if (old_session)
		snprintf(cookie, sizeof(cookie), "%s; atrium_session=%s", browser, old_session);
	else
		snprintf(cookie, sizeof(cookie), "%s", browser);
	char *set_cookie = NULL;
	char *back = location_with(callback, cookie, &st, &set_cookie);
	cr_assert_eq(st, 302, "callback answered %ld", st);
	cr_assert_str_eq(back, "/app/tenants");
	cr_assert(strstr(set_cookie, "__Host-atrium_login=;") && strstr(set_cookie, "Max-Age=0"),
		  "the pre-auth cookie is cleared: %s", set_cookie);
	cr_assert(strstr(set_cookie, "atrium_session=") && strstr(set_cookie, "HttpOnly") &&
		  strstr(set_cookie, "Secure") && strstr(set_cookie, "SameSite=Lax"),
		  "session cookie flags: %s", set_cookie);
	cookie_value(set_cookie, "atrium_session", s->session, sizeof(s->session));
	cookie_value(set_cookie, "atrium_csrf", s->csrf, sizeof(s->csrf));
	snprintf(s->cookie_header, sizeof(s->cookie_header), "Cookie: atrium_session=%s; atrium_csrf=%s",
		 s->session, s->csrf);
	/* Replaying the same callback (state is single use) is refused. */
	const char *h[] = {cookie, NULL};
	struct resp *again = http_at("", "GET", callback, NULL, NULL, h);
	assert_problem(again, 400);
	resp_free(again);
	if (set_cookie_out)
		*set_cookie_out = set_cookie;
	else
		free(set_cookie);
	free(callback); free(back);
}

static void sign_in(const char *hint, struct signin *s, char **set_cookie_out)
{
	sign_in_with(hint, NULL, s, set_cookie_out);
}

static char *super_hint(void)
{
	return xasprintf("%s:5a5a5a5a-0000-4000-8000-00000000b001:super_admin", home_tid());
}

Test(sessions, sign_in_sets_cookies_and_me_answers_by_cookie)
{
	struct signin s;
	char *hint = super_hint();
	sign_in(hint, &s, NULL);
	const char *h[] = {s.cookie_header, NULL};
	struct resp *r = http("GET", "/v1/me", NULL, NULL, h);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "auth")), "cookie");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r->json, "roles"), 0)), "super_admin");
	resp_free(r);
	free(hint);
}

Test(sessions, state_changes_need_same_origin_and_the_csrf_token)
{
	struct signin s;
	char *hint = super_hint();
	sign_in(hint, &s, NULL);
	char origin[160], token[120], bad_token[120];
	snprintf(origin, sizeof(origin), "Origin: %s", base_url());
	snprintf(token, sizeof(token), "X-CSRF-Token: %s", s.csrf);
	snprintf(bad_token, sizeof(bad_token), "X-CSRF-Token: %064d", 0);
	const char *none[] = {s.cookie_header, NULL};
	const char *no_token[] = {s.cookie_header, origin, NULL};
	const char *wrong_token[] = {s.cookie_header, origin, bad_token, NULL};
	const char *evil[] = {s.cookie_header, "Origin: https://evil.example", token, NULL};
	const char *good[] = {s.cookie_header, origin, token, NULL};
	const char *body = "{}";
	struct resp *r = http("POST", "/v1/tenants", NULL, body, none);
	assert_problem(r, 403);
	resp_free(r);
	r = http("POST", "/v1/tenants", NULL, body, no_token);
	assert_problem(r, 403);
	resp_free(r);
	r = http("POST", "/v1/tenants", NULL, body, wrong_token);
	assert_problem(r, 403);
	resp_free(r);
	r = http("POST", "/v1/tenants", NULL, body, evil);
	assert_problem(r, 403);
	resp_free(r);
	/* With both, the request reaches validation (422 for an empty body). */
	r = http("POST", "/v1/tenants", NULL, body, good);
	assert_problem(r, 422);
	resp_free(r);
	/* Reads need no CSRF token. */
	r = http("GET", "/v1/tenants?limit=1", NULL, NULL, none);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	free(hint);
}

Test(sessions, logout_ends_the_session_everywhere)
{
	struct signin s;
	char *hint = super_hint();
	sign_in(hint, &s, NULL);
	char origin[160], token[120];
	snprintf(origin, sizeof(origin), "Origin: %s", base_url());
	snprintf(token, sizeof(token), "X-CSRF-Token: %s", s.csrf);
	const char *no_csrf[] = {s.cookie_header, origin, NULL};
	struct resp *r = http("POST", "/auth/logout", NULL, NULL, no_csrf);
	assert_problem(r, 403);
	resp_free(r);
	const char *h[] = {s.cookie_header, origin, token, NULL};
	r = http("POST", "/auth/logout", NULL, NULL, h);
	cr_assert_eq(r->status, 204);
	char *sc = resp_header(r, "Set-Cookie");
	cr_assert(sc && strstr(sc, "Max-Age=0"), "cookies cleared: %s", sc ? sc : "");
	free(sc);
	resp_free(r);
	const char *c[] = {s.cookie_header, NULL};
	r = http("GET", "/v1/me", NULL, NULL, c);
	assert_problem(r, 401);
	resp_free(r);
	free(hint);
}

Test(sessions, forged_or_unknown_session_ids_are_401)
{
	const char *h1[] = {"Cookie: atrium_session=0000000000000000000000000000000000000000000000000000000000000000", NULL};
	struct resp *r = http("GET", "/v1/me", NULL, NULL, h1);
	assert_problem(r, 401);
	resp_free(r);
	const char *h2[] = {"Cookie: atrium_session=../../etc/passwd", NULL};
	r = http("GET", "/v1/me", NULL, NULL, h2);
	assert_problem(r, 401);
	resp_free(r);
}

Test(sessions, login_refuses_an_offsite_return_to)
{
	struct resp *r = http("GET", "/auth/login?return_to=//evil.example/x", NULL, NULL, NULL);
	assert_problem(r, 400);
	resp_free(r);
	r = http("GET", "/auth/login?return_to=https://evil.example/", NULL, NULL, NULL);
	assert_problem(r, 400);
	resp_free(r);
	r = http("GET", "/auth/callback?code=x&state=never-issued-state-value", NULL, NULL, NULL);
	assert_problem(r, 400);
	resp_free(r);
}

/* Starts a second server (Redis at redis_url when given). */
static pid_t spawn_server(const char *redis_url)
{
	char r[128], base[96];
	snprintf(r, sizeof(r), "ATRIUM_REDIS_URL=%s", redis_url ? redis_url : "");
	const char *env[] = {redis_url ? r : NULL, NULL};
	return spawn_serve(0, env, NULL, base, sizeof(base));
}

static void stop_server(pid_t pid)
{
	int status;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second server exit status");
}

Test(sessions, a_session_is_valid_on_another_replica_and_redis_down_is_503, .timeout = 90)
{
	struct signin s;
	char *hint = super_hint();
	sign_in(hint, &s, NULL);
	const char *port = getenv("ATRIUM_TEST_RL_PORT") ? getenv("ATRIUM_TEST_RL_PORT") : "28444";
	char base[96];
	snprintf(base, sizeof(base), "https://127.0.0.1:%s", port);
	const char *h[] = {s.cookie_header, NULL};

	pid_t pid = spawn_server(NULL);
	struct resp *r = http_at(base, "GET", "/v1/me", NULL, NULL, h);
	cr_assert_eq(r->status, 200, "the other replica knows the session: %s", r->body);
	resp_free(r);
	stop_server(pid);

	/* Redis unreachable: cookie requests fail closed with 503. */
	pid = spawn_server("redis://127.0.0.1:1/0");
	r = http_at(base, "GET", "/v1/me", NULL, NULL, h);
	cr_assert_eq(r->status, 503, "got %ld %s", r->status, r->body ? r->body : "");
	assert_problem(r, 503);
	resp_free(r);
	stop_server(pid);
	free(hint);
}

Test(sessions, a_dropped_redis_connection_is_reopened_not_an_outage)
{
	struct signin s;
	char *hint = super_hint();
	sign_in(hint, &s, NULL);
	const char *h[] = {s.cookie_header, NULL};
	/* Warm every server thread's Redis connection. */
	for (int i = 0; i < 32; i++) {
		struct resp *r = http("GET", "/v1/me", NULL, NULL, h);
		cr_assert_eq(r->status, 200);
		resp_free(r);
	}
	/* Redis drops every client connection (a restart, a failover, an idle
	 * timeout in a proxy). */
	char host[64] = "127.0.0.1";
	int port = 6379;
	const char *url = getenv("ATRIUM_REDIS_URL");
	cr_assert(url && sscanf(url, "redis://%63[^:]:%d", host, &port) == 2, "ATRIUM_REDIS_URL %s", url);
	redisContext *rc = redisConnect(host, port);
	cr_assert(rc && !rc->err);
	redisReply *rep = redisCommand(rc, "CLIENT KILL TYPE normal SKIPME yes");
	cr_assert(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer > 0, "killed some clients");
	freeReplyObject(rep);
	redisFree(rc);
	for (int i = 0; i < 32; i++) {
		struct resp *r = http("GET", "/v1/me", NULL, NULL, h);
		cr_assert_eq(r->status, 200, "request %d after the drop: %ld %s", i, r->status, r->body);
		resp_free(r);
	}
	free(hint);
}

/*
 * Login CSRF (session swap): an attacker starts a sign-in in their own
 * browser, stops at the callback URL and sends it to a victim; before the
 * pre-auth cookie, the victim's browser finished the attacker's sign-in and
 * worked in the attacker's account. The callback now refuses a state that
 * this browser did not start: without the cookie, with another browser's,
 * or with a forged one. Each refusal spends the state.
 */
Test(sessions, a_callback_from_a_browser_that_did_not_start_the_sign_in_is_refused)
{
	char *hint = super_hint();
	const char *forged[] = {NULL, "Cookie: __Host-atrium_login=forged-value-forged-value-forged-value",
				"other-browser"};
	for (int i = 0; i < 3; i++) {
		char attacker[256], other[256];
		char *callback = start_sign_in(hint, attacker, sizeof(attacker));
		const char *cookie = forged[i];
		char *other_cb = NULL;
		if (cookie && strcmp(cookie, "other-browser") == 0) {
			/* A genuine pre-auth cookie, of another sign-in. */
			other_cb = start_sign_in(hint, other, sizeof(other));
			cookie = other;
		}
		const char *h[] = {cookie, NULL};
		struct resp *r = http_at("", "GET", callback, NULL, NULL, cookie ? h : NULL);
		assert_problem(r, 400);
		cr_assert(strstr(r->body, "sign-in-not-started-here"), "case %d: %s", i, r->body);
		cr_assert_null(strstr(r->headers, "atrium_session="), "case %d: no session was set", i);
		resp_free(r);
		/* The state is spent: the attacker's own browser cannot use it now. */
		const char *mine[] = {attacker, NULL};
		r = http_at("", "GET", callback, NULL, NULL, mine);
		assert_problem(r, 400);
		cr_assert(strstr(r->body, "sign-in-expired"), "case %d: %s", i, r->body);
		resp_free(r);
		free(callback);
		free(other_cb);
	}
	free(hint);
}

/* Signing in again in a browser that holds a session revokes that session:
 * a copy of the old id (leaked, or planted) stops working. */
Test(sessions, signing_in_again_revokes_the_browsers_old_session)
{
	char *hint = super_hint();
	struct signin first, second;
	sign_in(hint, &first, NULL);
	const char *h1[] = {first.cookie_header, NULL};
	struct resp *r = http("GET", "/v1/me", NULL, NULL, h1);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	sign_in_with(hint, first.session, &second, NULL);
	cr_assert_str_neq(first.session, second.session);
	r = http("GET", "/v1/me", NULL, NULL, h1);
	assert_problem(r, 401);
	resp_free(r);
	const char *h2[] = {second.cookie_header, NULL};
	r = http("GET", "/v1/me", NULL, NULL, h2);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	free(hint);
}
