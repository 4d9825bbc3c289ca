/*
 * Integration: scale-out on one machine. Two `atrium serve` and two
 * `atrium worker` processes share the databases and Redis; requests are
 * spread across both servers (an Idempotency-Key used on one replays on
 * the other; sessions across replicas are proven in test_sessions.c),
 * many provisioning jobs run, and one server and one
 * worker are killed with SIGKILL midway. Afterwards nothing is lost and
 * nothing is done twice: every deposit counted once, every namespace
 * ready with exactly one resource group, one role assignment and three
 * containers.
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

#define WORKER_ENV                                                                            \
	"ATRIUM_JOB_LEASE_SECONDS=2", "ATRIUM_WORKER_POLL_MS=200", "ATRIUM_JOB_BACKOFF_BASE_MS=200", \
		"ATRIUM_JOB_BACKOFF_CAP_MS=2000", "ATRIUM_WORKER_CONCURRENCY=2",                      \
		"ATRIUM_OUTBOUND_TIMEOUT_MS=10000"

TestSuite(scaleout, .init = nst_setup, .fini = nst_teardown, .timeout = 300);

static pid_t spawn_replica(unsigned short port, char base[64], const char *log)
{
	/* Twelve namespaces in one tenant: above the default cap of 10. */
	const char *env[] = {"ATRIUM_RATE_LIMIT_IP_PER_MINUTE=1000000", "ATRIUM_NAMESPACES_PER_TENANT=100",
			     NULL};
	return spawn_serve(port, env, log, base, 64);
}

static long deposit(const char *base, const char *tenant, const char *token, int n)
{
	char *path = xasprintf("/v1/tenants/%s/payments", tenant);
	char key[96];
	snprintf(key, sizeof(key), "Idempotency-Key: scaleout-deposit-%s-%d", tenant, n);
	const char *h[] = {key, NULL};
	struct resp *r = http_at(base, "POST", path, token,
				 "{\"direction\":\"deposit\",\"amount_minor\":100,\"currency\":\"EUR\"}", h);
	long st = r->curl_code ? 0 : r->status;
	resp_free(r);
	free(path);
	return st;
}

Test(scaleout, two_servers_two_workers_survive_losing_one_of_each)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *member = mint(t.aad, NULL, NULL, NULL);

	char *log_a = nst_log_path("serve-a"), *log_b = nst_log_path("serve-b");
	char *log_w1 = nst_log_path("worker-1"), *log_w2 = nst_log_path("worker-2");
	char base_a[64], base_b[64];
	pid_t a = spawn_replica(nst_free_port(), base_a, log_a);
	pid_t b = spawn_replica(nst_free_port(), base_b, log_b);
	const char *env[] = {WORKER_ENV, NULL};
	pid_t w1 = spawn_worker(log_w1, env);
	pid_t w2 = spawn_worker(log_w2, env);

	/* Every resource group create is slow, so jobs are mid-step when a
	 * worker dies. */
	char *fault = fake_fault("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"resourcegroups/atrium-\"},"
				 "\"delay_ms\":400,\"times\":-1}");

	/* Provisioning jobs, queued through both servers. */
	enum { NS = 12, DEPOSITS = 40 };
	char ids[NS][37];
	char *ns_path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	for (int i = 0; i < NS; i++) {
		char *body = xasprintf("{\"name\":\"scale-%d\",\"environment\":\"dev\",\"location\":\"westeurope\"}", i);
		struct resp *r = http_at(i % 2 ? base_b : base_a, "POST", ns_path, t.admin, body, NULL);
		cr_assert_eq(r->status, 202, "namespace %d: %ld %s", i, r->status, r->body);
		snprintf(ids[i], sizeof(ids[i]), "%s", json_string_value(json_object_get(r->json, "id")));
		resp_free(r);
		free(body);
	}

	/* Money through both servers; the first half with A alive. */
	for (int i = 0; i < DEPOSITS / 2; i++)
		cr_assert_eq(deposit(i % 2 ? base_b : base_a, t.id, member, i), 201, "deposit %d", i);

	/* Lose one server and one worker, without warning. */
	int st;
	kill(a, SIGKILL);
	waitpid(a, &st, 0);
	kill(w1, SIGKILL);
	waitpid(w1, &st, 0);

	/* The rest goes to B; then every key is retried on B, as a client
	 * whose server vanished would: each must answer as the original. */
	for (int i = DEPOSITS / 2; i < DEPOSITS; i++)
		cr_assert_eq(deposit(base_b, t.id, member, i), 201, "deposit %d", i);
	for (int i = 0; i < DEPOSITS; i++)
		cr_assert_eq(deposit(base_b, t.id, member, i), 201, "replay of deposit %d", i);

	char *wallet_path = xasprintf("/v1/tenants/%s/wallet", t.id);
	struct resp *w = http_at(base_b, "GET", wallet_path, member, NULL, NULL);
	cr_assert_eq(w->status, 200, "%s", w->body);
	json_t *bal = json_array_get(json_object_get(w->json, "balances"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(bal, "currency")), "EUR");
	cr_assert_eq(json_integer_value(json_object_get(bal, "available_minor")), DEPOSITS * 100,
		     "every deposit counted exactly once: %s", w->body);
	resp_free(w);

	/* Every namespace finishes, with each resource made exactly once. */
	for (int i = 0; i < NS; i++) {
		char *s = nst_wait(ids[i], ",ready,failed,", 150);
		cr_assert_str_eq(s, "ready", "namespace %d ended %s", i, s);
		free(s);
		/* The namespace turns ready just before its job is marked done. */
		char *job = NULL;
		for (int k = 0; k < 300; k++) {
			free(job);
			job = nst_job(ids[i], "j.status");
			if (strcmp(job, "running") != 0)
				break;
			usleep(100000);
		}
		cr_assert_str_eq(job, "succeeded");
		free(job);
		char *rg = xasprintf("atrium-%s-scale-%d", t.slug, i);
		cr_assert_eq(fake_rg_count(rg), 1, "%s: one resource group", rg);
		cr_assert_eq(fake_ra_count(rg), 1, "%s: one role assignment", rg);
		const char *kinds[] = {"uploads", "logs", "backups"};
		for (int k = 0; k < 3; k++) {
			char *c = xasprintf("%s-scale-%d-%s", t.slug, i, kinds[k]);
			cr_assert(nst_container_exists(c), "container %s", c);
			free(c);
		}
		free(rg);
	}

	fake_fault_del(fault);
	cr_assert_eq(nst_stop(w2, SIGTERM, 30), 0, "the surviving worker stops cleanly");
	cr_assert_eq(nst_stop(b, SIGTERM, 30), 0, "the surviving server stops cleanly");
	cr_assert(nst_log_clean(log_b) && nst_log_clean(log_w2), "no sanitizer report");
	free(wallet_path); free(ns_path); free(member);
	free(log_a); free(log_b); free(log_w1); free(log_w2);
	nst_tenant_free(&t);
}
