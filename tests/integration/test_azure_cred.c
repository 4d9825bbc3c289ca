/*
 * Integration: an `atrium worker` process (ATRIUM_TEST_BINARY) whose Entra
 * credential is a client certificate (ATRIUM_AZURE_CLIENT_CERTIFICATE, no
 * secret) provisions a namespace against the fake ARM, which checks the
 * signed client assertion against the certificate registered with it; a
 * worker holding another certificate is refused (AADSTS700027). A worker
 * with a federated token file (AZURE_FEDERATED_TOKEN_FILE, a token of the
 * local identity provider for api://AzureADTokenExchange) provisions too,
 * and re-reads the file when its access token is renewed.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "ns_support.h"
#include "server/common/util.h"

TestSuite(azure_cred, .init = nst_setup, .fini = nst_teardown, .timeout = 180);

#define WORKER_ENV                                                                             \
	"ATRIUM_JOB_LEASE_SECONDS=5", "ATRIUM_WORKER_POLL_MS=200", "ATRIUM_JOB_BACKOFF_BASE_MS=200", \
		"ATRIUM_JOB_BACKOFF_CAP_MS=1000", "ATRIUM_WORKER_CONCURRENCY=1",                      \
		"ATRIUM_OUTBOUND_TIMEOUT_MS=10000", "ATRIUM_AZURE_CLIENT_SECRET="

/* A key and a self-signed certificate in one PEM file (the openssl
 * command); returns the path (heap) and the certificate's PEM in *cert. */
static char *make_pem(const char *name, char **cert)
{
	const char *dir = getenv("ATRIUM_TEST_RUNDIR");
	char u[37];
	util_uuid_v4(u);
	char *base = xasprintf("%s/%s-%s", dir && *dir ? dir : "/tmp", name, u);
	char *cmd = xasprintf("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=%s -days 1 "
			      "-keyout %s.key -out %s.crt 2>/dev/null && cat %s.key %s.crt > %s.pem",
			      name, base, base, base, base, base);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	char *crt = xasprintf("%s.crt", base);
	FILE *f = fopen(crt, "r");
	cr_assert_not_null(f);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	*cert = xstrdup(buf);
	char *pem = xasprintf("%s.pem", base);
	free(crt);
	free(cmd);
	free(base);
	return pem;
}

static void register_cert(const char *cert_pem)
{
	json_t *body = json_pack("{s:[s]}", "client_certs", cert_pem);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(fake_call("POST", "/_fake/config", text));
	free(text);
	json_decref(body);
}

/* Token calls with an assertion of `kind`: issued or refused with `code`. */
static int kind_calls(const char *want_kind, bool issued, const char *code)
{
	json_t *log = fake_call("GET", "/_fake/requests?kind=token", NULL);
	json_t *reqs = json_object_get(log, "requests");
	int n = 0;
	size_t i;
	json_t *r;
	json_array_foreach(reqs, i, r) {
		const char *kind = json_string_value(json_object_get(r, "assertion_kind"));
		if (kind == NULL || strcmp(kind, want_kind) != 0)
			continue;
		const char *body_secret = json_string_value(
			json_object_get(json_object_get(r, "body"), "client_secret"));
		cr_assert_null(body_secret, "no client_secret beside the assertion");
		if (issued && json_is_true(json_object_get(r, "token_issued")))
			n++;
		const char *ec = json_string_value(json_object_get(r, "error_code"));
		if (!issued && ec && code && strcmp(ec, code) == 0)
			n++;
	}
	json_decref(log);
	return n;
}

static int assertion_calls(bool issued, const char *code)
{
	return kind_calls("certificate", issued, code);
}

static void write_file(const char *path, const char *text)
{
	/* as the kubelet does: a new file renamed over the old one */
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fputc('\n', f);
	fclose(f);
	cr_assert_eq(rename(tmp, path), 0);
	free(tmp);
}

static bool file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

Test(azure_cred, a_worker_with_the_registered_certificate_provisions_and_another_is_refused)
{
	char *good_cert, *bad_cert;
	char *good = make_pem("worker-good", &good_cert);
	char *bad = make_pem("worker-bad", &bad_cert);
	register_cert(good_cert);
	json_decref(fake_call("DELETE", "/_fake/requests", NULL));

	struct nst_tenant t;
	nst_tenant(&t, true, NULL);

	/* A certificate the fake does not know: Entra refuses the assertion. */
	char *env_bad = xasprintf("ATRIUM_AZURE_CLIENT_CERTIFICATE=%s", bad);
	const char *envb[] = {WORKER_ENV, env_bad, NULL};
	char *log_b = nst_log_path("worker-bad-cert");
	json_t *ns1 = nst_create(&t, "certbad", "dev", "westeurope", 202);
	pid_t wb = spawn_worker(log_b, envb);
	int refused = 0;
	for (int i = 0; i < 300 && refused == 0; i++) {
		usleep(100000);
		refused = assertion_calls(false, "invalid_client");
	}
	cr_assert_gt(refused, 0, "the fake refused the unknown certificate");
	cr_assert_eq(assertion_calls(true, NULL), 0, "no token for the unknown certificate");
	char *st1 = nst_status(json_string_value(json_object_get(ns1, "id")));
	cr_assert_str_neq(st1, "ready");
	cr_assert_geq(nst_stop(wb, SIGTERM, 30), 0, "the worker exits");
	cr_assert(file_has(log_b, "client certificate"), "the worker names its credential");
	cr_assert(nst_log_clean(log_b));

	/* The registered certificate: the namespace is provisioned. */
	char *env_good = xasprintf("ATRIUM_AZURE_CLIENT_CERTIFICATE=%s", good);
	const char *envg[] = {WORKER_ENV, env_good, NULL};
	char *log_g = nst_log_path("worker-good-cert");
	json_t *ns2 = nst_create(&t, "certgood", "dev", "westeurope", 202);
	pid_t wg = spawn_worker(log_g, envg);
	char *st2 = nst_wait(json_string_value(json_object_get(ns2, "id")), ",ready,failed,", 90);
	cr_assert_str_eq(st2, "ready");
	cr_assert_gt(assertion_calls(true, NULL), 0, "a token was issued for the certificate assertion");
	cr_assert_eq(nst_stop(wg, SIGTERM, 30), 0);
	cr_assert(file_has(log_g, "authenticates to Entra with its client certificate"));
	cr_assert_not(file_has(log_g, "BEGIN"), "no key material in the log");
	cr_assert(nst_log_clean(log_g));

	json_decref(fake_call("POST", "/_fake/config", "{\"client_certs\":[]}"));
	free(st1); free(st2); json_decref(ns1); json_decref(ns2);
	free(env_bad); free(env_good); free(log_b); free(log_g);
	free(good); free(bad); free(good_cert); free(bad_cert);
	nst_tenant_free(&t);
}

Test(azure_cred, a_worker_with_a_federated_token_file_provisions_and_rereads_the_file)
{
	const char *idp = getenv("ATRIUM_TEST_IDP_URL");
	cr_assert_not_null(idp, "ATRIUM_TEST_IDP_URL");
	/* Short-lived ARM tokens: the worker renews within seconds. */
	char *cfgj = xasprintf("{\"federated_jwks_url\":\"%s/jwks\",\"token_expires_in\":4}", idp);
	json_decref(fake_call("POST", "/_fake/config", cfgj));
	json_decref(fake_call("DELETE", "/_fake/requests", NULL));

	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *file = nst_log_path("federated-token");
	char *tok = mint(t.aad, NULL, NULL, "{\"aud\":\"api://AzureADTokenExchange\"}");
	write_file(file, tok);

	char *env_file = xasprintf("AZURE_FEDERATED_TOKEN_FILE=%s", file);
	const char *env[] = {WORKER_ENV, env_file, "ATRIUM_AZURE_CLIENT_CERTIFICATE=", NULL};
	char *log = nst_log_path("worker-federated");
	json_t *ns1 = nst_create(&t, "fedok", "dev", "westeurope", 202);
	pid_t w = spawn_worker(log, env);
	char *st1 = nst_wait(json_string_value(json_object_get(ns1, "id")), ",ready,failed,", 90);
	cr_assert_str_eq(st1, "ready");
	cr_assert_gt(kind_calls("federated", true, NULL), 0, "a token for the federated assertion");
	cr_assert(file_has(log, "authenticates to Entra with its federated token file"));

	/* The file now holds a token for another audience: the next renewal
	 * reads it, and Entra refuses it (AADSTS700212). */
	char *wrong = mint(t.aad, NULL, NULL, "{\"aud\":\"api://not-token-exchange\"}");
	write_file(file, wrong);
	sleep(4); /* the cached ARM token (4 s, renewed 1 s early) is stale */
	json_t *ns2 = nst_create(&t, "fedrot", "dev", "westeurope", 202);
	int refused = 0;
	for (int i = 0; i < 300 && refused == 0; i++) {
		usleep(100000);
		refused = kind_calls("federated", false, "invalid_client");
	}
	cr_assert_gt(refused, 0, "the rotated file was read again");
	cr_assert_geq(nst_stop(w, SIGTERM, 30), 0);
	cr_assert_not(file_has(log, tok), "the federated token is not logged");
	cr_assert(nst_log_clean(log));

	json_decref(fake_call("POST", "/_fake/config",
			      "{\"federated_jwks_url\":null,\"token_expires_in\":3599}"));
	free(st1); json_decref(ns1); json_decref(ns2);
	free(wrong); free(tok); free(env_file); free(log); free(file); free(cfgj);
	nst_tenant_free(&t);
}
