/*
 * Integration: the HTTP layer of the real server over HTTPS — operations
 * endpoints, request ids, security headers, routing errors, body limits,
 * content types, TLS versions, and rate limits (on a second server started
 * here with a low limit).
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "server/common/util.h"

Test(http, healthz_answers_ok_with_request_id)
{
	struct resp *r = http("GET", "/healthz", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "ok");
	char *rid = resp_header(r, "X-Request-Id");
	cr_assert_not_null(rid);
	cr_assert(util_is_uuid(rid), "generated request id is a uuid: %s", rid);
	free(rid);
	resp_free(r);
}

Test(http, readyz_checks_every_database_and_redis)
{
	struct resp *r = http("GET", "/readyz", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_t *checks = json_object_get(r->json, "checks");
	const char *names[] = {"auth_db", "portal_db", "betting_db", "billing_db", "catalog_db", "redis"};
	for (int i = 0; i < 6; i++)
		cr_assert_str_eq(json_string_value(json_object_get(checks, names[i])), "ok", "%s", names[i]);
	resp_free(r);
}

Test(http, incoming_request_id_is_echoed_and_insane_ones_replaced)
{
	const char *h1[] = {"X-Request-Id: build-42.step:7", NULL};
	struct resp *r = http("GET", "/healthz", NULL, NULL, h1);
	char *rid = resp_header(r, "X-Request-Id");
	cr_assert_str_eq(rid, "build-42.step:7");
	free(rid);
	resp_free(r);

	char big[300];
	memset(big, 'a', sizeof(big));
	memcpy(big, "X-Request-Id: ", 14);
	big[sizeof(big) - 1] = '\0';
	const char *h2[] = {big, NULL};
	r = http("GET", "/healthz", NULL, NULL, h2);
	rid = resp_header(r, "X-Request-Id");
	cr_assert(util_is_uuid(rid), "an over-long id is replaced: %s", rid);
	free(rid);
	resp_free(r);
}

Test(http, security_headers_on_every_response)
{
	struct resp *r = http("GET", "/v1/nope", NULL, NULL, NULL);
	const char *want[][2] = {{"X-Content-Type-Options", "nosniff"},
				 {"Cache-Control", "no-store"},
				 {"X-Frame-Options", "DENY"}};
	for (int i = 0; i < 3; i++) {
		char *v = resp_header(r, want[i][0]);
		cr_assert_not_null(v, "%s missing", want[i][0]);
		cr_assert_str_eq(v, want[i][1]);
		free(v);
	}
	char *hsts = resp_header(r, "Strict-Transport-Security");
	cr_assert_not_null(hsts);
	cr_assert(strstr(hsts, "max-age=") != NULL);
	free(hsts);
	char *csp = resp_header(r, "Content-Security-Policy");
	cr_assert(csp && strstr(csp, "frame-ancestors 'none'"));
	free(csp);
	resp_free(r);
}

Test(http, unknown_route_is_404_problem_even_without_token)
{
	struct resp *r = http("GET", "/v1/does-not-exist", NULL, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = http("GET", "/v1/tenants/", NULL, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
}

Test(http, wrong_method_is_405_with_allow)
{
	struct resp *r = http("PUT", "/v1/tenants", NULL, "{}", NULL);
	assert_problem(r, 405);
	char *allow = resp_header(r, "Allow");
	cr_assert_not_null(allow);
	cr_assert_str_eq(allow, "GET, HEAD, POST");
	free(allow);
	resp_free(r);
}

Test(http, oversize_body_is_413_before_reading_it)
{
	size_t n = 2 * 1024 * 1024;
	char *body = xmalloc(n + 1);
	memset(body, ' ', n);
	body[0] = '{';
	body[n - 1] = '}';
	body[n] = '\0';
	char *tok = super_token();
	struct resp *r = http("POST", "/v1/tenants", tok, body, NULL);
	assert_problem(r, 413);
	resp_free(r);
	free(tok);
	free(body);
}

Test(http, wrong_or_missing_content_type_is_415)
{
	char *tok = super_token();
	const char *h[] = {"Content-Type: text/plain", NULL};
	struct resp *r = http("POST", "/v1/tenants", tok, "{}", h);
	assert_problem(r, 415);
	resp_free(r);
	const char *h2[] = {"Content-Type:", NULL};
	r = http("POST", "/v1/tenants", tok, "{}", h2);
	assert_problem(r, 415);
	resp_free(r);
	free(tok);
}

Test(http, malformed_and_non_object_json_is_400)
{
	char *tok = super_token();
	const char *bodies[] = {"{", "{\"a\":}", "[1,2]", "\"str\"", "", "{\"a\":1,\"a\":2}", "nul"};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct resp *r = http("POST", "/v1/tenants", tok, bodies[i], NULL);
		cr_assert_eq(r->status, 400, "body '%s' got %ld", bodies[i], r->status);
		assert_problem(r, 400);
		resp_free(r);
	}
	free(tok);
}

Test(http, tls_below_1_2_is_refused)
{
	CURL *c = curl_easy_init();
	char *url = xasprintf("%s/healthz", base_url());
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_1);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	CURLcode rc = curl_easy_perform(c);
	cr_assert_neq(rc, CURLE_OK, "a TLS 1.1 handshake must fail");
	curl_easy_cleanup(c);
	free(url);
}

Test(http, metrics_count_requests_by_route_and_status)
{
	struct resp *r = http("GET", "/healthz", NULL, NULL, NULL);
	resp_free(r);
	r = http("GET", "/metrics", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	char *ct = resp_header(r, "Content-Type");
	cr_assert(strncmp(ct, "text/plain; version=0.0.4", 25) == 0, "%s", ct);
	free(ct);
	cr_assert(strstr(r->body, "atrium_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}"));
	cr_assert(strstr(r->body, "atrium_http_request_duration_seconds_bucket{"));
	cr_assert(strstr(r->body, "atrium_db_pool_max_connections{db=\"portal_db\"}"));
	cr_assert(strstr(r->body, "atrium_build_info{version=\""));
	cr_assert(strstr(r->body, "process_resident_memory_bytes "));
	cr_assert_null(strstr(r->body, "state=\"max\""));
	resp_free(r);
}

/* The route label is the router's template and the method label the one
 * method of the request: never a raw path or id, never "GET|POST". */
Test(http, metrics_label_routes_by_template_never_by_raw_path)
{
	const char *id = "6d0f4b8e-1c2a-4f57-9a53-0b9d7e2f1a44";
	char *path = xasprintf("/v1/tenants/%s", id);
	struct resp *r = http("GET", path, NULL, NULL, NULL);
	resp_free(r);
	r = http("DELETE", path, NULL, NULL, NULL);
	resp_free(r);
	r = http("GET", "/no/such/route/6d0f4b8e", NULL, NULL, NULL);
	resp_free(r);
	r = http("GET", "/metrics", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(strstr(r->body, "atrium_http_requests_total{route=\"/v1/tenants/{tenant_id}\",method=\"GET\",status=\"401\"}"),
		  "%s", r->body);
	cr_assert(strstr(r->body, "atrium_http_requests_total{route=\"/v1/tenants/{tenant_id}\",method=\"DELETE\","),
		  "%s", r->body);
	cr_assert(strstr(r->body, "atrium_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"));
	cr_assert_null(strstr(r->body, id), "a raw id leaked into a label");
	cr_assert_null(strstr(r->body, "6d0f4b8e"), "a raw path leaked into a label");
	cr_assert_null(strstr(r->body, "|"), "a label holds a joined list");
	resp_free(r);
	free(path);
}

Test(http, openapi_document_is_served)
{
	struct resp *r = http("GET", "/openapi.yaml", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(strstr(r->body, "openapi: 3.1") != NULL);
	resp_free(r);
}

/* A second server with a tiny per-address limit and its own Redis prefix. */
Test(http, rate_limit_answers_429_with_retry_after, .timeout = 60)
{
	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin, "ATRIUM_TEST_BINARY must name the atrium binary");
	char prefix[64];
	char u[37];
	random_uuid(u);
	snprintf(prefix, sizeof(prefix), "rltest-%.8s:", u);
	const char *port = getenv("ATRIUM_TEST_RL_PORT") ? getenv("ATRIUM_TEST_RL_PORT") : "28444";
	char listen[64], base[96];
	snprintf(listen, sizeof(listen), "127.0.0.1:%s", port);
	snprintf(base, sizeof(base), "https://127.0.0.1:%s", port);
	pid_t pid = fork();
	if (pid == 0) {
		test_child_dies_with_parent();
		setenv("ATRIUM_LISTEN", listen, 1);
		setenv("ATRIUM_RATE_LIMIT_IP_PER_MINUTE", "5", 1);
		setenv("ATRIUM_TRUSTED_PROXIES", "127.0.0.1", 1);
		setenv("ATRIUM_REDIS_PREFIX", prefix, 1);
		freopen("/dev/null", "w", stderr);
		execl(bin, bin, "serve", (char *)NULL);
		_exit(127);
	}
	struct resp *r = NULL;
	for (int i = 0; i < 100; i++) {
		r = http_at(base, "GET", "/healthz", NULL, NULL, NULL);
		if (r->status == 200)
			break;
		resp_free(r);
		r = NULL;
		usleep(100000);
	}
	cr_assert_not_null(r, "second server did not start");
	resp_free(r);
	int limited = 0, ok = 1;
	/* 20 requests span at most two minute windows, so at most 10 pass. */
	/* The server sits behind a trusted proxy (us): the client is the
	 * X-Forwarded-For address, each counted on its own. */
	const char *client_a[] = {"X-Forwarded-For: 203.0.113.5, 127.0.0.1", NULL};
	const char *client_b[] = {"X-Forwarded-For: 203.0.113.6", NULL};
	for (int i = 0; i < 20; i++) {
		r = http_at(base, "GET", "/healthz", NULL, NULL, client_a);
		if (r->status == 429) {
			limited++;
			assert_problem(r, 429);
			char *ra = resp_header(r, "Retry-After");
			cr_assert_not_null(ra);
			int secs = atoi(ra);
			cr_assert(secs >= 1 && secs <= 60, "Retry-After %s", ra);
			free(ra);
		} else {
			cr_assert_eq(r->status, 200);
			ok++;
		}
		resp_free(r);
	}
	r = http_at(base, "GET", "/healthz", NULL, NULL, client_b);
	long other_client = r->status;
	resp_free(r);
	kill(pid, SIGTERM);
	int status;
	waitpid(pid, &status, 0);
	cr_assert(limited >= 10, "limited %d, allowed %d", limited, ok);
	cr_assert_eq(other_client, 200, "another client behind the same proxy has its own limit");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second server exit status");
}

/* Starts a second server on ATRIUM_TEST_RL_PORT with a per-address limit
 * of 5 a minute, behind a trusted proxy (us); writes its base URL. */
static pid_t start_limited_server(char *base, size_t len)
{
	char prefix[96], u[37];
	random_uuid(u);
	snprintf(prefix, sizeof(prefix), "ATRIUM_REDIS_PREFIX=rltest-%.8s:", u);
	const char *env[] = {"ATRIUM_RATE_LIMIT_IP_PER_MINUTE=5", "ATRIUM_LOGIN_RATE_PER_MINUTE=2",
			     "ATRIUM_TRUSTED_PROXIES=127.0.0.1", prefix, NULL};
	return spawn_serve(0, env, NULL, base, len);
}

static int count_429(const char *base, const char *method, const char *path, const char *token,
		     const char *const *headers, int n)
{
	int limited = 0;
	for (int i = 0; i < n; i++) {
		struct resp *r = http_at(base, method, path, token, NULL, headers);
		if (r->status == 429) {
			assert_problem(r, 429);
			limited++;
		}
		resp_free(r);
	}
	return limited;
}

/*
 * Regressions: a failed authentication (401) did not count against the
 * per-address limit, so forged tokens could be tried without limit; and
 * X-Forwarded-For was read only up to its first 1 KiB, so a client that
 * padded the header hid the address the trusted proxy appended at its end.
 */
Test(http, failed_authentications_and_padded_forwarded_headers_count_against_the_address,
     .timeout = 60)
{
	char base[96];
	pid_t pid = start_limited_server(base, sizeof(base));

	/* 20 forged tokens from one address, in at most two minute windows. */
	const char *forger[] = {"X-Forwarded-For: 203.0.113.21", NULL};
	int limited = count_429(base, "GET", "/v1/me", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", forger, 20);

	/* A padded header: the real client is the last hop. */
	size_t pad = 1500;
	char *xff = malloc(pad + 64);
	strcpy(xff, "X-Forwarded-For: ");
	size_t at = strlen(xff);
	while (at < pad) {
		memcpy(xff + at, "198.51.100.7, ", 14);
		at += 14;
	}
	strcpy(xff + at, "203.0.113.22");
	const char *padded[] = {xff, NULL};
	int padded_limited = count_429(base, "GET", "/healthz", NULL, padded, 20);
	/* The same client without padding is already over its limit. */
	const char *plain[] = {"X-Forwarded-For: 203.0.113.22", NULL};
	struct resp *r = http_at(base, "GET", "/healthz", NULL, NULL, plain);
	long plain_status = r->status;
	resp_free(r);
	free(xff);

	kill(pid, SIGTERM);
	int status;
	waitpid(pid, &status, 0);
	cr_assert(limited >= 10, "forged tokens: %d of 20 limited", limited);
	cr_assert(padded_limited >= 10, "padded header: %d of 20 limited", padded_limited);
	cr_assert_eq(plain_status, 429, "the padded requests were counted for 203.0.113.22");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second server exit status");
}

/* Each sign-in started writes a state to Redis: an address may start only
 * ATRIUM_LOGIN_RATE_PER_MINUTE of them (2 here), under its general limit. */
Test(http, sign_ins_started_are_limited_per_address, .timeout = 60)
{
	char base[96];
	pid_t pid = start_limited_server(base, sizeof(base));
	const char *client[] = {"X-Forwarded-For: 203.0.113.31", NULL};
	int signin_limited = 0, started = 0;
	for (int i = 0; i < 5; i++) {
		struct resp *r = http_at(base, "GET", "/auth/login", NULL, NULL, client);
		if (r->status == 429 && strstr(r->body, "sign-ins"))
			signin_limited++;
		else if (r->status == 302)
			started++;
		resp_free(r);
	}
	kill(pid, SIGTERM);
	int status;
	waitpid(pid, &status, 0);
	/* Five tries span at most two minute windows: at most four start. */
	cr_assert(started <= 4, "%d sign-ins started", started);
	cr_assert(signin_limited >= 1, "none refused by the sign-in limit");
}

/* One item of a RateLimit list ("name";r=N;t=N): false when absent or malformed. */
static bool ratelimit_item(const char *h, const char *name, int *r, int *t)
{
	char want[32];
	snprintf(want, sizeof(want), "\"%s\";", name);
	const char *p = h ? strstr(h, want) : NULL;
	int n = 0;
	if (p == NULL || sscanf(p + strlen(want), "r=%d;t=%d%n", r, t, &n) != 2)
		return false;
	char end = p[strlen(want) + (size_t)n];
	return end == '\0' || end == ',';
}

/*
 * The IETF draft's RateLimit-Policy and RateLimit fields on every response
 * that went through a limiter: the address limit (5 here) always, the
 * tenant's once the caller is known; remaining goes down one a request, and
 * the 429 that ends it says r=0 and carries Retry-After.
 */
Test(http, rate_limit_headers_report_policy_remaining_and_reset, .timeout = 90)
{
	char base[96];
	pid_t pid = start_limited_server(base, sizeof(base));
	const char *client[] = {"X-Forwarded-For: 203.0.113.40", NULL};
	struct tenant tn;
	create_tenant(&tn);
	char *tok = mint(tn.aad, NULL, "tenant_admin", NULL);
	/* Start well inside a minute window (after the set-up, which can be
	 * slow on a busy machine), so the six requests share it. */
	time_t now = time(NULL);
	if (now % 60 > 40)
		sleep((unsigned)(61 - now % 60));
	struct resp *r = http_at(base, "GET", "/v1/me", tok, NULL, client);
	cr_assert_eq(r->status, 200, "%s", r->body);
	char *policy = resp_header(r, "RateLimit-Policy");
	char *rl = resp_header(r, "RateLimit");
	cr_assert_not_null(policy);
	cr_assert_not_null(rl);
	int tq = 0, n = 0;
	cr_assert(sscanf(policy, "\"address\";q=5;w=60, \"tenant\";q=%d;w=60%n", &tq, &n) == 1 &&
			  policy[n] == '\0',
		  "RateLimit-Policy: %s", policy);
	int rem = -1, reset = -1, trem = -1, treset = -1;
	cr_assert(ratelimit_item(rl, "address", &rem, &reset), "RateLimit: %s", rl);
	cr_assert(ratelimit_item(rl, "tenant", &trem, &treset), "RateLimit: %s", rl);
	cr_assert_eq(rem, 4, "RateLimit: %s", rl);
	cr_assert(tq > 0 && trem == tq - 1, "RateLimit: %s (tenant quota %d)", rl, tq);
	/* The address is counted before authentication, the tenant after: a
	 * second may tick between the two. */
	cr_assert(reset >= 1 && reset <= 60 && (treset == reset || treset == reset - 1),
		  "RateLimit: %s", rl);
	free(policy);
	free(rl);
	resp_free(r);
	free(tok);

	/* Unauthenticated: only the address limit, counting down to 0. */
	for (int want = 3; want >= 0; want--) {
		r = http_at(base, "GET", "/healthz", NULL, NULL, client);
		cr_assert_eq(r->status, 200);
		policy = resp_header(r, "RateLimit-Policy");
		rl = resp_header(r, "RateLimit");
		cr_assert_str_eq(policy, "\"address\";q=5;w=60");
		int got = -1, t = -1;
		cr_assert(ratelimit_item(rl, "address", &got, &t) && strstr(rl, "tenant") == NULL,
			  "RateLimit: %s", rl);
		cr_assert_eq(got, want, "RateLimit: %s", rl);
		cr_assert(t >= 1 && t <= reset, "reset %d after %d", t, reset);
		free(policy);
		free(rl);
		resp_free(r);
	}
	r = http_at(base, "GET", "/healthz", NULL, NULL, client);
	assert_problem(r, 429);
	char *ra = resp_header(r, "Retry-After");
	rl = resp_header(r, "RateLimit");
	int got = -1, t = -1;
	cr_assert_not_null(ra);
	cr_assert(ratelimit_item(rl, "address", &got, &t) && got == 0, "RateLimit: %s", rl);
	cr_assert_eq(atoi(ra), t, "Retry-After %s and RateLimit %s agree", ra, rl);
	free(ra);
	free(rl);
	resp_free(r);
	kill(pid, SIGTERM);
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second server exit status");
}

/* Runs `atrium CMD` with every database URL's role replaced by
 * atrium_bypass (BYPASSRLS; made by scripts/lib.sh); returns its exit
 * status after at most ~10 s (killed: -1) and its log in *log. */
static int run_as_bypass_role(const char *cmd, bool allow, char **log)
{
	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin);
	char path[] = "/tmp/atrium-bypass-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	const char *port = getenv("ATRIUM_TEST_RL_PORT") ? getenv("ATRIUM_TEST_RL_PORT") : "28444";
	pid_t pid = fork();
	if (pid == 0) {
		test_child_dies_with_parent();
		const char *vars[] = {"ATRIUM_DB_AUTH_URL", "ATRIUM_DB_PORTAL_URL", "ATRIUM_DB_BETTING_URL",
				      "ATRIUM_DB_BILLING_URL", "ATRIUM_DB_CATALOG_URL"};
		for (int i = 0; i < 5; i++) {
			const char *u = getenv(vars[i]);
			const char *at = u ? strchr(u, '@') : NULL;
			if (at == NULL)
				_exit(126);
			char url[512];
			snprintf(url, sizeof(url), "postgresql://atrium_bypass:atrium_bypass%s", at);
			setenv(vars[i], url, 1);
		}
		char listen[64];
		snprintf(listen, sizeof(listen), "127.0.0.1:%s", port);
		setenv("ATRIUM_LISTEN", listen, 1);
		setenv("ATRIUM_WORKER_METRICS_LISTEN", "", 1);
		if (allow)
			setenv("ATRIUM_ALLOW_BYPASSRLS", "1", 1);
		else
			unsetenv("ATRIUM_ALLOW_BYPASSRLS");
		dup2(fd, 2);
		dup2(fd, 1);
		execl(bin, bin, cmd, (char *)NULL);
		_exit(127);
	}
	close(fd);
	int status = 0, rc = -1;
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
			break;
		}
		usleep(100000);
	}
	if (rc == -1) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	FILE *f = fopen(path, "r");
	*log = calloc(1, 1 << 16);
	if (f) {
		size_t n = fread(*log, 1, (1 << 16) - 1, f);
		(*log)[n] = '\0';
		fclose(f);
	}
	unlink(path);
	return rc;
}

/* Row-level security is off for a superuser or a BYPASSRLS role: serve and
 * worker refuse to start as one, unless told to accept it (and then they
 * say so at every start). */
Test(http, serve_and_worker_refuse_a_database_role_that_bypasses_row_level_security, .timeout = 60)
{
	const char *cmds[] = {"serve", "worker"};
	for (int i = 0; i < 2; i++) {
		char *log = NULL;
		int rc = run_as_bypass_role(cmds[i], false, &log);
		cr_assert_eq(rc, 1, "atrium %s as a BYPASSRLS role: exit %d, log: %s", cmds[i], rc, log);
		cr_assert_not_null(strstr(log, "BYPASSRLS"), "%s: the log says why: %s", cmds[i], log);
		free(log);
	}
	/* With the override, serve starts (and is stopped by the helper) and
	 * warns; it did not exit on its own. */
	char *log = NULL;
	int rc = run_as_bypass_role("serve", true, &log);
	cr_assert_eq(rc, -1, "serve with ATRIUM_ALLOW_BYPASSRLS=1 exited (%d): %s", rc, log);
	cr_assert_not_null(strstr(log, "ATRIUM_ALLOW_BYPASSRLS=1"), "the warning: %s", log);
	free(log);
}
