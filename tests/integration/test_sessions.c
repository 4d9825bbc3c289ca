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

/* GET url without following redirects; returns the Location (heap). */
static char *location_of(const char *url, long *status, char **set_cookie)
{
	struct resp *r = http_at("", "GET", url, NULL, NULL, NULL);
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

static void sign_in(const char *hint, struct signin *s, char **set_cookie_out)
{
	long st;
	char *login = xasprintf("%s/auth/login?return_to=/app/tenants&login_hint=%s", base_url(), hint);
	char *authorize = location_of(login, &st, NULL);
	cr_assert_eq(st, 302);
	cr_assert_not_null(authorize);
	cr_assert(strstr(authorize, "code_challenge_method=S256"), "PKCE S256: %s", authorize);
	cr_assert(strstr(authorize, "state=") && strstr(authorize, "nonce="));
	char *callback = location_of(authorize, &st, NULL);
	cr_assert(st == 302 || st == 303, "IdP answered %ld", st);
	char *set_cookie = NULL;
	char *back = location_of(callback, &st, &set_cookie);
	cr_assert_eq(st, 302, "callback answered %ld", st);
	cr_assert_str_eq(back, "/app/tenants");
	cr_assert(strstr(set_cookie, "atrium_session=") && strstr(set_cookie, "HttpOnly") &&
		  strstr(set_cookie, "Secure") && strstr(set_cookie, "SameSite=Lax"),
		  "session cookie flags: %s", set_cookie);
	cookie_value(set_cookie, "atrium_session", s->session, sizeof(s->session));
	cookie_value(set_cookie, "atrium_csrf", s->csrf, sizeof(s->csrf));
	snprintf(s->cookie_header, sizeof(s->cookie_header), "Cookie: atrium_session=%s; atrium_csrf=%s",
		 s->session, s->csrf);
	/* Replaying the same callback (state is single use) is refused. */
	struct resp *again = http_at("", "GET", callback, NULL, NULL, NULL);
	assert_problem(again, 400);
	resp_free(again);
	if (set_cookie_out)
		*set_cookie_out = set_cookie;
	else
		free(set_cookie);
	free(login); free(authorize); free(callback); free(back);
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

/* Starts a second server with extra environment; returns its pid. */
static pid_t spawn_server(const char *port, const char *redis_url)
{
	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin);
	pid_t pid = fork();
	if (pid == 0) {
		test_child_dies_with_parent();
		char listen[64];
		snprintf(listen, sizeof(listen), "127.0.0.1:%s", port);
		setenv("ATRIUM_LISTEN", listen, 1);
		if (redis_url)
			setenv("ATRIUM_REDIS_URL", redis_url, 1);
		freopen("/dev/null", "w", stderr);
		execl(bin, bin, "serve", (char *)NULL);
		_exit(127);
	}
	char base[96];
	snprintf(base, sizeof(base), "https://127.0.0.1:%s", port);
	for (int i = 0; i < 100; i++) {
		struct resp *r = http_at(base, "GET", "/healthz", NULL, NULL, NULL);
		long st = r->status;
		resp_free(r);
		if (st == 200)
			return pid;
		usleep(100000);
	}
	cr_assert_fail("second server did not start");
	return pid;
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

	pid_t pid = spawn_server(port, NULL);
	struct resp *r = http_at(base, "GET", "/v1/me", NULL, NULL, h);
	cr_assert_eq(r->status, 200, "the other replica knows the session: %s", r->body);
	resp_free(r);
	stop_server(pid);

	/* Redis unreachable: cookie requests fail closed with 503. */
	pid = spawn_server(port, "redis://127.0.0.1:1/0");
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
