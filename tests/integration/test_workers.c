/*
 * Integration: real `atrium worker` processes (ATRIUM_TEST_BINARY) on the
 * namespace jobs — a worker killed with SIGKILL in the middle of a job is
 * replaced and the job finishes exactly once (one resource group, one role
 * assignment, three containers); SIGTERM finishes the current step, hands
 * the job back and exits 0; two workers racing on many jobs run each job
 * once; a worker's /metrics listener shows its job outcomes and the queue.
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

TestSuite(workers, .init = nst_setup, .fini = nst_teardown, .timeout = 240);

/* Fast leases and polls, so takeovers happen within seconds. */
#define WORKER_ENV                                                                            \
	"ATRIUM_JOB_LEASE_SECONDS=2", "ATRIUM_WORKER_POLL_MS=200", "ATRIUM_JOB_BACKOFF_BASE_MS=200", \
		"ATRIUM_JOB_BACKOFF_CAP_MS=2000", "ATRIUM_WORKER_CONCURRENCY=2",                      \
		"ATRIUM_OUTBOUND_TIMEOUT_MS=10000"

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void wait_for_requests(const char *method, const char *regex, int n, int timeout_s)
{
	for (int i = 0; i < timeout_s * 10; i++) {
		if (fake_count(method, regex) >= n)
			return;
		usleep(100000);
	}
	cr_assert_fail("no %s %s reached the fake ARM within %d s", method, regex, timeout_s);
}

static void assert_provisioned_once(const struct nst_tenant *t, const char *name)
{
	char *rg = xasprintf("atrium-%s-%s", t->slug, name);
	cr_assert_eq(fake_rg_count(rg), 1, "%s: one resource group", rg);
	cr_assert_eq(fake_ra_count(rg), 1, "%s: one role assignment", rg);
	const char *suffixes[] = {"uploads", "logs", "backups"};
	for (int i = 0; i < 3; i++) {
		char *c = xasprintf("%s-%s-%s", t->slug, name, suffixes[i]);
		cr_assert(nst_container_exists(c), "container %s", c);
		free(c);
	}
	free(rg);
}

Test(workers, a_worker_killed_mid_job_is_replaced_and_the_job_finishes_once)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "killed", "dev", "westeurope", 202);
	const char *id = str(ns, "id");
	char *rg = xasprintf("atrium-%s-killed", t.slug);
	char *ra = xasprintf("%s/providers/microsoft.authorization/roleassignments/", rg);
	char *re = xasprintf("resourcegroups/%s$", rg);
	/* The role assignment answers slowly: the worker is caught inside step 2. */
	char *fj = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"delay_ms\":5000}", ra);
	char *fault = fake_fault(fj);
	char *log_a = nst_log_path("worker-killed"), *log_b = nst_log_path("worker-replacement");
	const char *env[] = {WORKER_ENV, NULL};
	pid_t a = spawn_worker(log_a, env);
	wait_for_requests("PUT", ra, 1, 30);
	kill(a, SIGKILL);
	int status;
	waitpid(a, &status, 0);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	char *jst = nst_job(id, "j.status");
	cr_assert_str_eq(jst, "running", "the dead worker's lease still holds the job");
	char *done = nst_job(id, "jsonb_array_length(j.steps)");
	cr_assert_str_eq(done, "1", "step 1 was checkpointed before the kill");

	pid_t b = spawn_worker(log_b, env);
	char *st = nst_wait(id, ",ready,failed,", 60);
	cr_assert_str_eq(st, "ready");
	cr_assert_eq(nst_stop(b, SIGTERM, 20), 0, "the replacement exits 0 on SIGTERM");
	cr_assert(nst_log_clean(log_b), "sanitizer report in %s", log_b);

	assert_provisioned_once(&t, "killed");
	cr_assert_eq(fake_count("PUT", re), 1, "the finished step was not repeated");
	char *attempts = nst_job(id, "j.attempts");
	cr_assert_str_eq(attempts, "2");
	char *steps = nst_job(id, "jsonb_array_length(j.steps)");
	cr_assert_str_eq(steps, "5", "each step checkpointed once");
	long ready = nst_sql_long("SELECT count(*) FROM audit_log WHERE resource_id = $1 AND action = 'namespace.ready'", id, NULL);
	cr_assert_eq(ready, 1, "the job finished once");
	/* The slow answer to the killed worker's request has landed by now. */
	sleep(1);
	cr_assert_eq(fake_ra_count(rg), 1, "still one role assignment");

	free(steps); free(attempts); free(st); free(done); free(jst);
	free(log_a); free(log_b); fake_fault_del(fault); free(fj); free(re); free(ra); free(rg);
	json_decref(ns);
	nst_tenant_free(&t);
}

Test(workers, a_worker_killed_inside_the_aks_namespace_step_is_replaced_and_it_converges)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "kaks", "dev", "westeurope", 202);
	const char *id = str(ns, "id");
	char *k8s_name = xasprintf("%s-kaks", t.slug);
	char *put = xasprintf("managednamespaces/%s$", k8s_name);
	/* The managed namespace's PUT answers slowly: the worker dies inside
	 * step 4, after the first three were checkpointed. */
	char *fj = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"delay_ms\":4000,\"times\":1}", put);
	char *fault = fake_fault(fj);
	char *log_a = nst_log_path("worker-killed-aks"), *log_b = nst_log_path("worker-replacement-aks");
	const char *env[] = {WORKER_ENV, NULL};
	pid_t a = spawn_worker(log_a, env);
	wait_for_requests("PUT", put, 1, 30);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	char *done = nst_job(id, "(SELECT string_agg(s->>'name', ',') FROM jsonb_array_elements(j.steps) s)");
	cr_assert_str_eq(done, "resource_group,role_assignment,containers");

	pid_t b = spawn_worker(log_b, env);
	char *st = nst_wait(id, ",ready,failed,", 60);
	cr_assert_str_eq(st, "ready");
	cr_assert_eq(nst_stop(b, SIGTERM, 20), 0);
	cr_assert(nst_log_clean(log_b), "sanitizer report in %s", log_b);
	sleep(1); /* the killed worker's slow PUT has landed by now */
	assert_provisioned_once(&t, "kaks");
	json_t *m = fake_mns(k8s_name);
	cr_assert_not_null(m, "one managed namespace %s", k8s_name);
	json_t *p = json_object_get(m, "properties");
	cr_assert_str_eq(str(p, "provisioningState"), "Succeeded");
	cr_assert_str_eq(str(json_object_get(p, "labels"), "atrium.dev/namespace-id"), id);
	cr_assert_eq(fake_scope_ra_count(str(m, "id")), 1, "one assignment on it");
	char *steps = nst_job(id, "jsonb_array_length(j.steps)");
	cr_assert_str_eq(steps, "5");
	long ready = nst_sql_long("SELECT count(*) FROM audit_log WHERE resource_id = $1 AND action = 'namespace.ready'", id, NULL);
	cr_assert_eq(ready, 1);
	free(steps); json_decref(m); free(st); free(done); free(log_a); free(log_b);
	fake_fault_del(fault); free(fj); free(put); free(k8s_name); json_decref(ns);
	nst_tenant_free(&t);
}

Test(workers, sigterm_finishes_the_current_step_hands_the_job_back_and_exits_0)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "graceful", "dev", "westeurope", 202);
	const char *id = str(ns, "id");
	char *rg = xasprintf("atrium-%s-graceful", t.slug);
	char *ra = xasprintf("%s/providers/microsoft.authorization/roleassignments/", rg);
	char *fj = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"delay_ms\":2000}", ra);
	char *fault = fake_fault(fj);
	char *log = nst_log_path("worker-sigterm");
	const char *env[] = {WORKER_ENV, NULL};
	pid_t w = spawn_worker(log, env);
	wait_for_requests("PUT", ra, 1, 30);
	cr_assert_eq(nst_stop(w, SIGTERM, 20), 0, "exit status 0 after SIGTERM");
	cr_assert(nst_log_clean(log), "sanitizer report in %s", log);
	char *jst = nst_job(id, "j.status");
	cr_assert_str_eq(jst, "queued", "handed back, not left to its lease");
	char *names = nst_job(id, "(SELECT string_agg(s->>'name', ',') FROM jsonb_array_elements(j.steps) s)");
	cr_assert_str_eq(names, "resource_group,role_assignment", "the step in flight was finished");
	char *attempts = nst_job(id, "j.attempts");
	cr_assert_str_eq(attempts, "0", "a handed-back run does not count as an attempt");
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	assert_provisioned_once(&t, "graceful");
	free(st); free(attempts); free(names); free(jst); free(log);
	fake_fault_del(fault); free(fj); free(ra); free(rg); json_decref(ns);
	nst_tenant_free(&t);
}

/* The value of the first sample line starting with `prefix` in `text`. */
static long long sample(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);
	return p ? atoll(p + strlen(prefix)) : -1;
}

Test(workers, two_workers_racing_on_many_jobs_run_each_once)
{
	enum { N = 12 };
	/* Two tenants: one may have only ATRIUM_NAMESPACES_PER_TENANT (10). */
	struct nst_tenant ts[2];
	nst_tenant(&ts[0], true, NULL);
	nst_tenant(&ts[1], true, NULL);
	json_t *ns[N];
	char names[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "race-%d", i);
		ns[i] = nst_create(&ts[i % 2], names[i], i % 2 ? "staging" : "dev", "westeurope", 202);
	}
	unsigned short p1 = nst_free_port(), p2 = nst_free_port();
	char *m1 = xasprintf("ATRIUM_WORKER_METRICS_LISTEN=127.0.0.1:%u", p1);
	char *m2 = xasprintf("ATRIUM_WORKER_METRICS_LISTEN=127.0.0.1:%u", p2);
	const char *env1[] = {WORKER_ENV, m1, NULL};
	const char *env2[] = {WORKER_ENV, m2, NULL};
	char *log1 = nst_log_path("worker-race-1"), *log2 = nst_log_path("worker-race-2");
	pid_t w1 = spawn_worker(log1, env1);
	pid_t w2 = spawn_worker(log2, env2);
	for (int i = 0; i < N; i++) {
		char *st = nst_wait(str(ns[i], "id"), ",ready,failed,", 90);
		cr_assert_str_eq(st, "ready", "%s", names[i]);
		free(st);
	}
	for (int i = 0; i < N; i++) {
		const char *id = str(ns[i], "id");
		char *attempts = nst_job(id, "j.attempts");
		cr_assert_str_eq(attempts, "1", "%s ran once", names[i]);
		free(attempts);
		char *rg = xasprintf("atrium-%s-%s", ts[i % 2].slug, names[i]);
		char *re = xasprintf("resourcegroups/%s$", rg);
		char *ra = xasprintf("%s/providers/microsoft.authorization/roleassignments/", rg);
		cr_assert_eq(fake_count("PUT", re), 1, "%s: one group PUT", rg);
		cr_assert_eq(fake_count("PUT", ra), 1, "%s: one assignment PUT", rg);
		assert_provisioned_once(&ts[i % 2], names[i]);
		free(ra); free(re); free(rg);
	}
	/* Each worker's own /metrics: together they ran every job once. */
	long long total = 0;
	unsigned short ports[] = {p1, p2};
	for (int k = 0; k < 2; k++) {
		char *base = xasprintf("http://127.0.0.1:%u", ports[k]);
		struct resp *m = http_at(base, "GET", "/metrics", NULL, NULL, NULL);
		cr_assert_eq(m->status, 200, "worker %d /metrics", k);
		long long n = sample(m->body, "atrium_job_runs_total{kind=\"namespace.provision\",outcome=\"succeeded\"} ");
		cr_assert(n >= 0, "%s", m->body);
		total += n;
		cr_assert(strstr(m->body, "atrium_cluster_gauges_up 1\n"), "%s", m->body);
		cr_assert(sample(m->body, "atrium_outbound_requests_total{target=\"arm\",outcome=\"success\"} ") >= 2 * n);
		resp_free(m);
		struct resp *h = http_at(base, "GET", "/healthz", NULL, NULL, NULL);
		cr_assert_eq(h->status, 200);
		resp_free(h);
		struct resp *x = http_at(base, "GET", "/v1/tenants", NULL, NULL, NULL);
		cr_assert_eq(x->status, 404, "the listener serves nothing else");
		resp_free(x);
		free(base);
	}
	cr_assert_eq(total, N, "succeeded runs across both workers");
	cr_assert_eq(nst_stop(w1, SIGTERM, 20), 0);
	cr_assert_eq(nst_stop(w2, SIGTERM, 20), 0);
	cr_assert(nst_log_clean(log1), "sanitizer report in %s", log1);
	cr_assert(nst_log_clean(log2), "sanitizer report in %s", log2);
	for (int i = 0; i < N; i++)
		json_decref(ns[i]);
	free(log1); free(log2); free(m1); free(m2);
	nst_tenant_free(&ts[0]);
	nst_tenant_free(&ts[1]);
}
