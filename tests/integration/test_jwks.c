/*
 * Integration: the signing-key cache against a real, separate identity
 * provider process — key rotation is picked up on an unknown kid, unknown
 * kids refetch at most once per ATRIUM_JWKS_MIN_REFRESH_SECONDS, and the
 * last good keys keep working when the provider is down.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atrium_build.h"
#include "client.h"
#include "server/common/util.h"

static pid_t idp_pid, srv_pid;
static char idp_base[64], srv_base[64];

static char logdir[64];

static pid_t spawn(char *const argv[], char *const extra_env[], const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		test_child_dies_with_parent();
		for (char *const *e = extra_env; *e; e++)
			putenv(*e);
		char path[160];
		snprintf(path, sizeof(path), "%s/%s", logdir, log);
		freopen(path, "w", stdout);
		dup2(fileno(stdout), fileno(stderr));
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void wait_up(const char *url, const char *log)
{
	for (int i = 0; i < 600; i++) {
		struct resp *r = http_at("", "GET", url, NULL, NULL, NULL);
		long st = r->status;
		resp_free(r);
		if (st == 200)
			return;
		usleep(100000);
	}
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "tail -n 30 %s/%s >&2", logdir, log);
	if (system(cmd) != 0)
		fprintf(stderr, "(no log)\n");
	cr_assert_fail("%s did not come up within 60 s (log above)", url);
}

static void setup(void)
{
	const char *ip = getenv("ATRIUM_TEST_IDP2_PORT") ? getenv("ATRIUM_TEST_IDP2_PORT") : "28081";
	const char *sp = getenv("ATRIUM_TEST_JWKS_PORT") ? getenv("ATRIUM_TEST_JWKS_PORT") : "28445";
	snprintf(idp_base, sizeof(idp_base), "http://127.0.0.1:%s", ip);
	snprintf(srv_base, sizeof(srv_base), "https://127.0.0.1:%s", sp);
	char tmpl[] = "/tmp/atrium-idp2.XXXXXX";
	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(logdir, sizeof(logdir), "%s", tmpl);

	char *script = xasprintf("%s/tests/idp/idp.mjs", ATRIUM_SOURCE_ROOT);
	char *e_port = xasprintf("IDP_PORT=%s", ip);
	char *e_keys = xasprintf("IDP_KEY_FILE=%s/keys.json", tmpl);
	char *idp_argv[] = {"node", script, NULL};
	char *idp_env[] = {e_port, "IDP_HOST=127.0.0.1", e_keys, NULL};
	idp_pid = spawn(idp_argv, idp_env, "idp.log");
	char *disco = xasprintf("%s/common/v2.0/.well-known/openid-configuration", idp_base);
	wait_up(disco, "idp.log");

	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin);
	char *e_listen = xasprintf("ATRIUM_LISTEN=127.0.0.1:%s", sp);
	char *e_meta = xasprintf("ATRIUM_OIDC_METADATA_URL=%s", disco);
	char *e_v1 = xasprintf("ATRIUM_OIDC_V1_ISSUER=%s/sts/{tenantid}/", idp_base);
	char *srv_argv[] = {(char *)bin, "serve", NULL};
	char *srv_env[] = {e_listen, e_meta, e_v1, "ATRIUM_JWKS_MIN_REFRESH_SECONDS=2",
			   "ATRIUM_AUTH_CACHE_SECONDS=0", "ATRIUM_REDIS_PREFIX=jwkstest:", NULL};
	srv_pid = spawn(srv_argv, srv_env, "serve.log");
	char *health = xasprintf("%s/healthz", srv_base);
	wait_up(health, "serve.log");
	/* The environment strings stay referenced by the children's copies
	 * only; ours can go. */
	free(script); free(e_port); free(e_keys); free(disco); free(e_listen); free(e_meta);
	free(e_v1); free(health);
}

static void teardown(void)
{
	int st;
	if (srv_pid > 0) {
		kill(srv_pid, SIGTERM);
		waitpid(srv_pid, &st, 0);
	}
	if (idp_pid > 0) {
		kill(idp_pid, SIGTERM);
		waitpid(idp_pid, &st, 0);
	}
}

TestSuite(jwks, .init = setup, .fini = teardown, .timeout = 120);

static char *mint_here(void)
{
	char *body = xasprintf("{\"tid\":\"%s\",\"roles\":[\"super_admin\"],\"aud\":\"api://atrium\"}", home_tid());
	struct resp *r = http_at(idp_base, "POST", "/mint", NULL, body, NULL);
	free(body);
	cr_assert_eq(r->status, 200, "mint: %s", r->body);
	char *tok = xstrdup(json_string_value(json_object_get(r->json, "access_token")));
	resp_free(r);
	return tok;
}

static long me_status(const char *tok)
{
	struct resp *r = http_at(srv_base, "GET", "/v1/me", tok, NULL, NULL);
	long st = r->status;
	resp_free(r);
	return st;
}

static long metric(const char *name)
{
	struct resp *r = http_at(srv_base, "GET", "/metrics", NULL, NULL, NULL);
	char *line = strstr(r->body, name);
	long v = -1;
	while (line && line > r->body && line[-1] != '\n')
		line = strstr(line + 1, name);
	if (line)
		v = atol(line + strlen(name) + 1);
	resp_free(r);
	return v;
}

/* A token whose header names a kid nobody issued (signature irrelevant:
 * the key lookup comes first). */
static char *unknown_kid_token(const char *real)
{
	char u[37];
	random_uuid(u);
	char *hdr_json = xasprintf("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", u);
	char *hdr = util_b64url_encode((unsigned char *)hdr_json, strlen(hdr_json));
	char *tok = xasprintf("%s%s", hdr, strchr(real, '.'));
	free(hdr_json);
	free(hdr);
	return tok;
}

Test(jwks, rotation_is_picked_up_and_refetches_are_rate_limited)
{
	char *t1 = mint_here();
	cr_assert_eq(me_status(t1), 200);
	long fetched = metric("atrium_jwks_refreshes_total{outcome=\"success\"}");
	cr_assert_eq(fetched, 1, "one fetch at start-up, none on the warm request path");

	struct resp *rot = http_at(idp_base, "POST", "/keys/rotate", NULL, "{}", NULL);
	cr_assert_eq(rot->status, 200, "%s", rot->body);
	resp_free(rot);
	usleep(2200000);
	char *t2 = mint_here(); /* signed with the new key */
	cr_assert_eq(me_status(t2), 200, "a token of the rotated key is accepted after one refetch");
	cr_assert_eq(metric("atrium_jwks_refreshes_total{outcome=\"success\"}"), 2);

	char *forged = unknown_kid_token(t2);
	cr_assert_eq(me_status(forged), 401);
	cr_assert_eq(me_status(forged), 401);
	cr_assert_eq(metric("atrium_jwks_refreshes_total{outcome=\"success\"}"), 2, "no refetch within the minimum interval");
	usleep(2200000);
	cr_assert_eq(me_status(forged), 401);
	cr_assert_eq(metric("atrium_jwks_refreshes_total{outcome=\"success\"}"), 3, "one refetch once the interval passed");

	/* The provider goes away: the keys already fetched keep working. */
	int st;
	kill(idp_pid, SIGTERM);
	waitpid(idp_pid, &st, 0);
	idp_pid = 0;
	usleep(2200000);
	cr_assert_eq(me_status(forged), 401);
	cr_assert(metric("atrium_jwks_refreshes_total{outcome=\"failure\"}") >= 1, "the failed refetch is counted");
	cr_assert_eq(me_status(t1), 200, "old key still accepted");
	cr_assert_eq(me_status(t2), 200, "new key still accepted");
	free(t1); free(t2); free(forged);
}
