/*
 * Integration: what the operations endpoints promise when a dependency is
 * down, on a second `atrium serve` started here with one dependency pointed
 * at a port nothing listens on (ATRIUM_TEST_BINARY, on ATRIUM_TEST_RL_PORT):
 * Redis down leaves the pod ready (degraded) and bearer traffic served while
 * cookie requests answer 503; portal_db down makes it not ready; /healthz
 * never depends on either.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "server/common/util.h"

/* Starts `atrium serve` with the environment variable var set to value
 * (NULL: unchanged); waits for /healthz, then for the identity provider's
 * keys to show as loaded in /readyz. Writes its base URL. */
static pid_t start_server_with(const char *var, const char *value, char *base, size_t len)
{
	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin, "ATRIUM_TEST_BINARY must name the atrium binary");
	const char *port = getenv("ATRIUM_TEST_RL_PORT") ? getenv("ATRIUM_TEST_RL_PORT") : "28444";
	char listen[64];
	snprintf(listen, sizeof(listen), "127.0.0.1:%s", port);
	snprintf(base, len, "https://127.0.0.1:%s", port);
	pid_t pid = fork();
	if (pid == 0) {
		test_child_dies_with_parent();
		setenv("ATRIUM_LISTEN", listen, 1);
		if (var)
			setenv(var, value, 1);
		freopen("/dev/null", "w", stderr);
		execl(bin, bin, "serve", (char *)NULL);
		_exit(127);
	}
	bool up = false;
	for (int i = 0; i < 100 && !up; i++) {
		struct resp *r = http_at(base, "GET", "/healthz", NULL, NULL, NULL);
		up = r->status == 200;
		resp_free(r);
		if (!up)
			usleep(100000);
	}
	for (int i = 0; up && i < 100; i++) {
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
	cr_assert_fail("second server did not start or never loaded the signing keys");
	return -1;
}

static int stop_server(pid_t pid)
{
	int status = 0;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return status;
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
	const char *core[] = {"auth_db", "portal_db", "betting_db", "billing_db", "identity_provider"};
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
