/*
 * Integration: what the operations endpoints promise when a dependency is
 * down, on a second `atrium serve` started here with one dependency pointed
 * at a port nothing listens on (ATRIUM_TEST_BINARY, on ATRIUM_TEST_RL_PORT):
 * Redis down leaves the pod ready (degraded) and bearer traffic served while
 * cookie requests answer 503; portal_db down makes it not ready; /healthz
 * never depends on either. And the problem catalogue (docs/PROBLEMS.md)
 * against the problem codes the C sources send.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atrium_build.h"
#include "client.h"
#include "ns_support.h"
#include "server/common/util.h"

/* Starts `atrium serve` with the environment variable var set to value
 * (NULL: unchanged); waits for /healthz, then (when want_keys) for the
 * identity provider's keys to show as loaded in /readyz. Writes its base
 * URL. */
static pid_t start_server_keys(const char *var, const char *value, char *base, size_t len,
			       bool want_keys)
{
	char kv[512];
	snprintf(kv, sizeof(kv), "%s=%s", var ? var : "", value ? value : "");
	const char *env[] = {var ? kv : NULL, NULL};
	pid_t pid = spawn_serve(0, env, NULL, base, len);
	if (!want_keys)
		return pid;
	for (int i = 0; i < 100; i++) {
		struct resp *r = http_at(base, "GET", "/readyz", NULL, NULL, NULL);
		const char *idp = json_string_value(json_object_get(json_object_get(r->json, "checks"),
								     "identity_provider"));
		bool keys = idp && strcmp(idp, "ok") == 0;
		resp_free(r);
		if (keys)
			return pid;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_fail("the second server never loaded the signing keys");
	return -1;
}

static pid_t start_server_with(const char *var, const char *value, char *base, size_t len)
{
	return start_server_keys(var, value, base, len, true);
}

static int stop_server(pid_t pid)
{
	return stop_serve(pid);
}

static const char *check_of(const struct resp *r, const char *name)
{
	const char *v = json_string_value(json_object_get(json_object_get(r->json, "checks"), name));
	return v ? v : "(absent)";
}

Test(ops, redis_down_leaves_the_pod_ready_and_bearer_traffic_served, .timeout = 60)
{
	struct tenant t;
	create_tenant(&t);
	char *tok = mint(t.aad, NULL, "tenant_admin", NULL);

	char base[96];
	pid_t pid = start_server_with("ATRIUM_REDIS_URL", "redis://127.0.0.1:1/0", base, sizeof(base));

	struct resp *health = http_at(base, "GET", "/healthz", NULL, NULL, NULL);
	struct resp *ready = http_at(base, "GET", "/readyz", NULL, NULL, NULL);
	struct resp *bearer = http_at(base, "GET", "/v1/me", tok, NULL, NULL);
	char cookie[128] = "Cookie: atrium_session=";
	for (int i = 0; i < 64; i++)
		strcat(cookie, "a");
	const char *cookie_h[] = {cookie, NULL};
	struct resp *by_cookie = http_at(base, "GET", "/v1/me", NULL, NULL, cookie_h);
	int status = stop_server(pid);

	cr_assert_eq(health->status, 200, "/healthz: %s", health->body);
	cr_assert_eq(ready->status, 200, "/readyz: %s", ready->body);
	cr_assert_str_eq(json_string_value(json_object_get(ready->json, "status")), "degraded", "%s",
			 ready->body);
	cr_assert_str_eq(check_of(ready, "redis"), "down");
	const char *core[] = {"auth_db", "portal_db", "betting_db", "billing_db", "catalog_db",
			      "identity_provider"};
	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		cr_assert_str_eq(check_of(ready, core[i]), "ok", "%s", core[i]);
	cr_assert_eq(bearer->status, 200, "bearer /v1/me with Redis down: %ld %s", bearer->status,
		     bearer->body);
	cr_assert_eq(by_cookie->status, 503, "cookie /v1/me with Redis down: %ld %s", by_cookie->status,
		     by_cookie->body);
	assert_problem(by_cookie, 503);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second server exit status");
	resp_free(health);
	resp_free(ready);
	resp_free(bearer);
	resp_free(by_cookie);
	free(tok);
}

/* A Redis of our own, on port, in the foreground of a child. */
static pid_t start_redis(unsigned short port)
{
	char p[8];
	snprintf(p, sizeof(p), "%u", port);
	pid_t pid = fork();
	if (pid == 0) {
		test_child_dies_with_parent();
		freopen("/dev/null", "w", stdout);
		execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", p, "--save", "",
		       "--appendonly", "no", (char *)NULL);
		_exit(127);
	}
	char url[64];
	snprintf(url, sizeof(url), "127.0.0.1:%u", port);
	for (int i = 0; i < 100; i++) {
		char cmd[96];
		snprintf(cmd, sizeof(cmd), "redis-cli -p %u ping >/dev/null 2>&1", port);
		if (system(cmd) == 0)
			return pid;
		usleep(50000);
	}
	cr_assert_fail("redis-server on %s did not start", url);
	return pid;
}

static const char *readyz_status(const char *base, long *code)
{
	static char status[32];
	struct resp *r = http_at(base, "GET", "/readyz", NULL, NULL, NULL);
	*code = r->status;
	snprintf(status, sizeof(status), "%s",
		 json_string_value(json_object_get(r->json, "status")) ? json_string_value(json_object_get(r->json, "status")) : "?");
	resp_free(r);
	return status;
}

Test(ops, redis_stopped_then_restarted_degrades_then_recovers_without_a_restart, .timeout = 90)
{
	struct tenant t;
	create_tenant(&t);
	char *tok = mint(t.aad, NULL, "tenant_admin", NULL);
	unsigned short port = nst_free_port();
	pid_t redis = start_redis(port);
	char url[64];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%u/0", port);
	char base[96];
	pid_t pid = start_server_with("ATRIUM_REDIS_URL", url, base, sizeof(base));
	long code;
	cr_assert_str_eq(readyz_status(base, &code), "ready");
	cr_assert_eq(code, 200);

	/* Redis stops under a running server. */
	kill(redis, SIGTERM);
	waitpid(redis, NULL, 0);
	const char *st = readyz_status(base, &code);
	cr_assert_eq(code, 200, "/readyz with Redis stopped: %ld %s", code, st);
	cr_assert_str_eq(st, "degraded");
	struct resp *bearer = http_at(base, "GET", "/v1/me", tok, NULL, NULL);
	cr_assert_eq(bearer->status, 200, "bearer with Redis stopped: %ld %s", bearer->status, bearer->body);
	resp_free(bearer);

	/* Back on the same port: the server reconnects by itself. */
	redis = start_redis(port);
	bool ready = false;
	for (int i = 0; i < 100 && !ready; i++) {
		ready = strcmp(readyz_status(base, &code), "ready") == 0;
		if (!ready)
			usleep(100000);
	}
	cr_assert(ready, "/readyz never came back to ready after Redis returned");
	bearer = http_at(base, "GET", "/v1/me", tok, NULL, NULL);
	cr_assert_eq(bearer->status, 200);
	resp_free(bearer);
	int status = stop_server(pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second server exit status");
	kill(redis, SIGTERM);
	waitpid(redis, NULL, 0);
	free(tok);
}

Test(ops, portal_db_down_makes_the_pod_unready_but_alive, .timeout = 60)
{
	const char *url = getenv("ATRIUM_DB_PORTAL_URL");
	cr_assert_not_null(url, "ATRIUM_DB_PORTAL_URL");
	/* The same role and database on a port nothing listens on. */
	char *down = xstrdup(url);
	char *at = strrchr(down, '@');
	char *colon = at ? strchr(at, ':') : NULL;
	char *slash = colon ? strchr(colon, '/') : NULL;
	cr_assert(at && colon && slash, "ATRIUM_DB_PORTAL_URL has user@host:port/db: %s", url);
	*colon = '\0';
	char *unreachable = xasprintf("%s:1%s", down, slash);
	free(down);

	char base[96];
	pid_t pid = start_server_with("ATRIUM_DB_PORTAL_URL", unreachable, base, sizeof(base));
	struct resp *health = http_at(base, "GET", "/healthz", NULL, NULL, NULL);
	struct resp *ready = http_at(base, "GET", "/readyz", NULL, NULL, NULL);
	int status = stop_server(pid);
	free(unreachable);

	cr_assert_eq(health->status, 200, "/healthz: %s", health->body);
	cr_assert_eq(ready->status, 503, "/readyz: %s", ready->body);
	cr_assert_str_eq(json_string_value(json_object_get(ready->json, "status")), "unavailable");
	cr_assert_str_eq(check_of(ready, "portal_db"), "down");
	cr_assert_str_eq(check_of(ready, "auth_db"), "ok");
	cr_assert_str_eq(check_of(ready, "redis"), "ok");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second server exit status");
	resp_free(health);
	resp_free(ready);
}

Test(ops, identity_provider_never_reached_keeps_the_pod_unready_but_alive, .timeout = 60)
{
	char base[96];
	pid_t pid = start_server_keys("ATRIUM_OIDC_METADATA_URL",
				      "http://127.0.0.1:1/common/v2.0/.well-known/openid-configuration",
				      base, sizeof(base), false);
	struct resp *health = http_at(base, "GET", "/healthz", NULL, NULL, NULL);
	struct resp *ready = http_at(base, "GET", "/readyz", NULL, NULL, NULL);
	char *tok = mint(home_tid(), NULL, NULL, NULL);
	struct resp *bearer = http_at(base, "GET", "/v1/me", tok, NULL, NULL);
	int status = stop_server(pid);

	cr_assert_eq(health->status, 200, "/healthz: %s", health->body);
	cr_assert_eq(ready->status, 503, "/readyz with no signing keys loaded: %s", ready->body);
	cr_assert_str_eq(json_string_value(json_object_get(ready->json, "status")), "unavailable");
	cr_assert_str_neq(check_of(ready, "identity_provider"), "ok", "%s", ready->body);
	cr_assert_str_eq(check_of(ready, "portal_db"), "ok");
	/* A token cannot be checked without keys: 503, never let through. */
	cr_assert(bearer->status == 503, "bearer with no keys: %ld %s",
		  bearer->status, bearer->body);
	assert_problem(bearer, bearer->status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second server exit status");
	resp_free(health);
	resp_free(ready);
	resp_free(bearer);
	free(tok);
}

/*
 * The catalogue cannot drift: every problem code the server's C sources send
 * with a status, written `NNN, "code", "Title"` (reply_problem's arguments,
 * the helpers that forward to it, and reply.c's status table alike), has a
 * row "| `code` | NNN…" in docs/PROBLEMS.md; and every row's code is still
 * sent somewhere.
 */
#define MAX_CODES 128
struct code_seen {
	char code[64];
	char status[4];
	char where[320];
};

static void collect_codes(const char *dir, const regex_t *re, struct code_seen *seen, int *nseen)
{
	char *path = xasprintf("%s/%s", ATRIUM_SOURCE_ROOT, dir);
	DIR *d = opendir(path);
	cr_assert_not_null(d, "cannot open %s", path);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l < 3 || strcmp(e->d_name + l - 2, ".c") != 0)
			continue;
		char *file = xasprintf("%s/%s", path, e->d_name);
		char *text = slurp_file(file);
		cr_assert_not_null(text, "cannot read %s", file);
		regmatch_t m[3];
		for (const char *p = text; regexec(re, p, 3, m, p == text ? 0 : REG_NOTBOL) == 0;
		     p += m[0].rm_eo) {
			cr_assert_lt(*nseen, MAX_CODES, "more than %d problem codes", MAX_CODES);
			struct code_seen *c = &seen[(*nseen)++];
			snprintf(c->status, sizeof(c->status), "%.*s", (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so);
			snprintf(c->code, sizeof(c->code), "%.*s", (int)(m[2].rm_eo - m[2].rm_so), p + m[2].rm_so);
			snprintf(c->where, sizeof(c->where), "%s/%s", dir, e->d_name);
		}
		free(text);
		free(file);
	}
	closedir(d);
	free(path);
}

/* The catalogue's line for code (a row starting "| `code` |"), or NULL. */
static const char *catalogue_row(const char *doc, const char *code, char *row, size_t len)
{
	char *start = xasprintf("\n| `%s` |", code);
	const char *at = strstr(doc, start);
	free(start);
	if (at == NULL)
		return NULL;
	at++;
	const char *end = strchr(at, '\n');
	snprintf(row, len, "%.*s", (int)(end ? end - at : (long)strlen(at)), at);
	return row;
}

Test(ops, problem_catalogue_lists_every_code)
{
	regex_t re;
	int rc = regcomp(&re, "[({,][[:space:]]*([45][0-9][0-9]),[[:space:]]*\"([a-z][a-z0-9-]*)\",[[:space:]]*\"",
			 REG_EXTENDED);
	cr_assert_eq(rc, 0);
	static struct code_seen seen[MAX_CODES];
	int nseen = 0;
	const char *dirs[] = {"server/common", "server/store", "server/outbound", "server/jobs",
			      "server/auth", "server/http", "server", "services", "handlers", "workers"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		collect_codes(dirs[i], &re, seen, &nseen);
	regfree(&re);
	cr_assert_gt(nseen, 20, "only %d problem codes found in the sources: is the pattern stale?", nseen);

	char *docpath = xasprintf("%s/docs/PROBLEMS.md", ATRIUM_SOURCE_ROOT);
	char *doc = slurp_file(docpath);
	cr_assert_not_null(doc, "cannot read %s", docpath);
	free(docpath);

	char row[2048];
	for (int i = 0; i < nseen; i++) {
		const char *line = catalogue_row(doc, seen[i].code, row, sizeof(row));
		cr_expect_not_null(line, "docs/PROBLEMS.md has no row for `%s` (sent with %s in %s)", seen[i].code,
				   seen[i].status, seen[i].where);
		if (line) {
			/* The status column: between the second and third '|'. */
			const char *col = strchr(line + 1, '|');
			const char *col_end = col ? strchr(col + 1, '|') : NULL;
			char status_col[64] = "";
			if (col && col_end)
				snprintf(status_col, sizeof(status_col), "%.*s", (int)(col_end - col - 1), col + 1);
			cr_expect(strstr(status_col, seen[i].status) != NULL,
				  "docs/PROBLEMS.md lists `%s` without status %s (sent in %s): %s", seen[i].code,
				  seen[i].status, seen[i].where, line);
		}
	}

	/* Every row names a code still sent. */
	for (const char *p = strstr(doc, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
		const char *code = p + 4;
		const char *tick = strchr(code, '`');
		cr_assert_not_null(tick);
		bool sent = false;
		for (int i = 0; i < nseen && !sent; i++)
			sent = strlen(seen[i].code) == (size_t)(tick - code) &&
			       strncmp(seen[i].code, code, (size_t)(tick - code)) == 0;
		cr_expect(sent, "docs/PROBLEMS.md lists `%.*s`, which no C source sends", (int)(tick - code), code);
	}
	free(doc);
}

/* Every problem's `type` resolves: this server serves the catalogue at
 * <ATRIUM_PUBLIC_URL>/problems/<code>, one entry per row of the document. */
Test(ops, every_problem_type_resolves_to_its_catalogue_entry)
{
	const char *json_accept[] = {"Accept: application/json", NULL};
	struct resp *all = http("GET", "/problems", NULL, NULL, json_accept);
	cr_assert_eq(all->status, 200, "/problems: %ld %s", all->status, all->body);
	json_t *items = json_object_get(all->json, "items");
	cr_assert_geq(json_array_size(items), 30, "catalogue entries: %zu", json_array_size(items));

	/* Real problems of three kinds: their type fetched as is. */
	char *forged = xasprintf("Authorization: Bearer not-a-jwt");
	const char *bad_auth[] = {forged, NULL};
	char *super = super_token();
	struct resp *problems[] = {
		http("GET", "/v1/no-such-route", NULL, NULL, NULL),
		http("GET", "/v1/me", NULL, NULL, bad_auth),
		http("POST", "/v1/tenants", super, "{\"name\":", NULL),
	};
	for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++) {
		struct resp *p = problems[i];
		const char *type = json_string_value(json_object_get(p->json, "type"));
		cr_assert(type && strncmp(type, base_url(), strlen(base_url())) == 0,
			  "type %s is under this server's origin %s", type, base_url());
		const char *path = type + strlen(base_url());
		struct resp *e = http("GET", path, NULL, NULL, json_accept);
		cr_assert_eq(e->status, 200, "GET %s: %ld %s", path, e->status, e->body);
		cr_assert_str_eq(json_string_value(json_object_get(e->json, "type")), type);
		cr_assert_eq(json_integer_value(json_object_get(e->json, "status")), p->status,
			     "%s: the catalogue's status is the answer's", type);
		cr_assert_gt(strlen(json_string_value(json_object_get(e->json, "what_to_do"))), 5);
		struct resp *h = http("GET", path, NULL, NULL, NULL);
		cr_assert_eq(h->status, 200);
		char *ct = resp_header(h, "Content-Type");
		cr_assert(ct && strncmp(ct, "text/html", 9) == 0, "Content-Type %s", ct);
		cr_assert_not_null(strstr(h->body, "<h1>Problem: "), "%s", h->body);
		free(ct);
		resp_free(h);
		resp_free(e);
		resp_free(p);
	}
	free(forged);
	free(super);

	/* Unknown codes, and codes that try to be something else. */
	const char *bad[] = {"/problems/no-such-problem", "/problems/%3Cscript%3E", "/problems/..%2F..%2Fetc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct resp *r = http("GET", bad[i], NULL, NULL, NULL);
		cr_assert_eq(r->status, 404, "%s: %ld", bad[i], r->status);
		assert_problem(r, 404);
		resp_free(r);
	}
	resp_free(all);
}
