/*
 * Integration: namespaces end to end — the API (validation, conflicts,
 * roles, tenant isolation, pagination, idempotency, deletion rules, audit)
 * and the provisioning jobs run in-process against the fake ARM, the
 * fake's Entra token endpoint and Azurite: the happy path, every fault
 * (throttling with Retry-After, 5xx, answers slower than the client's
 * timeout, dropped connections, asynchronous operations that end Failed,
 * permanent 4xx) ending in the right state with Azure's error on the
 * namespace, and the worker's metrics.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "server/jobs/jobs.h"
#include "server/store/db.h"
#include "services/namespaces.h"
#include "server/common/metrics.h"
#include "ns_support.h"
#include "server/common/util.h"

TestSuite(namespaces, .init = nst_setup, .fini = nst_teardown, .timeout = 120);

static const char *id_of(json_t *ns)
{
	const char *id = json_string_value(json_object_get(ns, "id"));
	cr_assert_not_null(id, "no id in the namespace");
	return id;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *get_ns(const struct nst_tenant *t, const char *key, long want)
{
	char *path = xasprintf("/v1/tenants/%s/namespaces/%s", t->id, key);
	struct resp *r = http("GET", path, t->admin, NULL, NULL);
	cr_assert_eq(r->status, want, "GET %s: %ld %s", path, r->status, r->body ? r->body : "");
	json_t *out = json_incref(r->json);
	resp_free(r);
	free(path);
	return out;
}

static struct resp *delete_ns(const struct nst_tenant *t, const char *key)
{
	char *path = xasprintf("/v1/tenants/%s/namespaces/%s", t->id, key);
	struct resp *r = http("DELETE", path, t->admin, NULL, NULL);
	free(path);
	return r;
}

/* The resource group's path regex for the fake's log and faults (the role
 * assignment paths contain the group's name too, hence the anchor). */
static char *rg_regex(const char *rg)
{
	return xasprintf("resourcegroups/%s$", rg);
}

static char *ra_regex(const char *rg)
{
	return xasprintf("%s/providers/microsoft.authorization/roleassignments/", rg);
}

static void assert_last_error(const char *ns_id, const char *code)
{
	char *c = nst_sql("SELECT last_error->>'code' FROM namespaces WHERE id = $1", ns_id, NULL);
	cr_assert_not_null(c, "last_error is null, expected %s", code);
	cr_assert_str_eq(c, code);
	free(c);
	char *m = nst_sql("SELECT last_error->>'message' FROM namespaces WHERE id = $1", ns_id, NULL);
	cr_assert(m && *m, "last_error has no message");
	free(m);
}

/* ---- happy path ------------------------------------------------------------ */

Test(namespaces, create_provisions_group_role_and_containers_then_delete_removes_them)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	const char *hdr[] = {"X-Request-Id: ns-happy-path-request", NULL};
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	struct resp *c = http("POST", path, t.admin,
			      "{\"name\":\"web\",\"environment\":\"staging\",\"location\":\"westeurope\","
			      "\"quota\":{\"cpu_cores\":8,\"memory_gib\":32}}", hdr);
	cr_assert_eq(c->status, 202, "%s", c->body);
	json_t *ns = c->json;
	const char *id = id_of(ns);
	char *rg = xasprintf("atrium-%s-web", t.slug);
	cr_assert_str_eq(str(ns, "status"), "pending");
	cr_assert_str_eq(str(ns, "name"), "web");
	cr_assert_str_eq(str(ns, "environment"), "staging");
	cr_assert_str_eq(str(ns, "location"), "westeurope");
	cr_assert_str_eq(str(ns, "tenant_id"), t.id);
	cr_assert_str_eq(str(ns, "resource_group"), rg);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(ns, "quota"), "cpu_cores")), 8);
	cr_assert(json_is_null(json_object_get(ns, "last_error")));
	cr_assert(json_is_null(json_object_get(json_object_get(ns, "resources"), "resource_group_id")));
	cr_assert(util_is_uuid(str(ns, "job_id")));
	char *loc = resp_header(c, "Location");
	char *want_loc = xasprintf("/v1/tenants/%s/namespaces/%s", t.id, id);
	cr_assert_str_eq(loc, want_loc);
	char *etag = resp_header(c, "ETag");
	cr_assert_not_null(etag);

	/* The job is visible through the jobs API, queued. */
	char *jpath = xasprintf("/v1/tenants/%s/jobs/%s", t.id, str(ns, "job_id"));
	struct resp *j = http("GET", jpath, t.admin, NULL, NULL);
	cr_assert_eq(j->status, 200, "%s", j->body);
	cr_assert_str_eq(str(j->json, "kind"), "namespace.provision");
	resp_free(j);

	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);

	json_t *g = get_ns(&t, "web", 200);
	json_t *res = json_object_get(g, "resources");
	char *rg_id = xasprintf("/subscriptions/%s/resourceGroups/%s", getenv("ATRIUM_AZURE_SUBSCRIPTION_ID"), rg);
	cr_assert_str_eq(str(res, "resource_group_id"), rg_id);
	const char *ra_id = str(res, "role_assignment_id");
	cr_assert(ra_id && strncmp(ra_id, rg_id, strlen(rg_id)) == 0 &&
		  strstr(ra_id, "/providers/Microsoft.Authorization/roleAssignments/"), "%s", ra_id);
	json_t *cont = json_object_get(res, "containers");
	cr_assert_eq(json_array_size(cont), 3);
	const char *suffixes[] = {"uploads", "logs", "backups"};
	for (int i = 0; i < 3; i++) {
		char *name = xasprintf("%s-web-%s", t.slug, suffixes[i]);
		cr_assert_str_eq(json_string_value(json_array_get(cont, (size_t)i)), name);
		cr_assert(nst_container_exists(name), "container %s in Azurite", name);
		free(name);
	}
	cr_assert(json_is_null(json_object_get(g, "last_error")));

	/* What the fake ARM holds: the group with the platform's tags, and one
	 * Contributor assignment for the admin group. */
	json_t *state = fake_call("GET", "/_fake/state", NULL);
	size_t i;
	json_t *item;
	bool found = false;
	json_array_foreach(json_object_get(state, "resource_groups"), i, item) {
		if (strcmp(str(item, "name"), rg) != 0)
			continue;
		found = true;
		json_t *tags = json_object_get(item, "tags");
		cr_assert_str_eq(str(item, "location"), "westeurope");
		cr_assert_str_eq(str(tags, "Project"), "atrium");
		cr_assert_str_eq(str(tags, "Tenant"), t.slug);
		cr_assert_str_eq(str(tags, "Environment"), "staging");
		cr_assert_str_eq(str(tags, "Owner"), "owner@example.test");
		cr_assert_str_eq(str(tags, "CostCenter"), "CC-42");
	}
	cr_assert(found, "resource group %s in the fake", rg);
	found = false;
	json_array_foreach(json_object_get(state, "role_assignments"), i, item) {
		if (strcmp(str(item, "id"), ra_id) != 0)
			continue;
		found = true;
		json_t *p = json_object_get(item, "properties");
		cr_assert_str_eq(str(p, "principalId"), t.admin_group);
		cr_assert_str_eq(str(p, "principalType"), "Group");
		cr_assert(strstr(str(p, "roleDefinitionId"), "/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"));
	}
	cr_assert(found, "role assignment %s in the fake", ra_id);
	json_decref(state);

	/* Every ARM call carried the request id of the POST. */
	char *q = xasprintf("/_fake/requests?kind=arm&path_regex=%s", rg);
	json_t *log = fake_call("GET", q, NULL);
	cr_assert(json_integer_value(json_object_get(log, "count")) >= 2);
	json_array_foreach(json_object_get(log, "requests"), i, item)
		cr_assert_str_eq(str(json_object_get(item, "headers"), "x-ms-client-request-id"),
				 "ns-happy-path-request");
	json_decref(log);
	free(q);

	/* Delete: 202 with a new job, then deleted, and nothing left in Azure. */
	struct resp *d = delete_ns(&t, "web");
	cr_assert_eq(d->status, 202, "%s", d->body);
	cr_assert_str_eq(str(d->json, "status"), "deprovisioning");
	cr_assert_str_neq(str(d->json, "job_id"), str(ns, "job_id"));
	st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	free(st);
	cr_assert_eq(fake_rg_count(rg), 0);
	cr_assert_eq(fake_ra_count(rg), 0);
	for (int k = 0; k < 3; k++) {
		char *name = xasprintf("%s-web-%s", t.slug, suffixes[k]);
		cr_assert_not(nst_container_exists(name), "container %s deleted", name);
		free(name);
	}
	json_t *gone = get_ns(&t, id, 200);
	cr_assert_str_eq(str(gone, "status"), "deleted");
	cr_assert(json_is_null(json_object_get(json_object_get(gone, "resources"), "resource_group_id")));
	cr_assert_eq(json_array_size(json_object_get(json_object_get(gone, "resources"), "containers")), 0);

	/* The audit trail, in order. */
	char *actions = nst_sql("SELECT string_agg(action, ',' ORDER BY created_at) FROM audit_log "
				"WHERE resource_id = $1", id, NULL);
	cr_assert_str_eq(actions, "namespace.create,namespace.provisioning,namespace.ready,"
				  "namespace.delete,namespace.deleted");
	char *rid = nst_sql("SELECT request_id FROM audit_log WHERE resource_id = $1 AND action = 'namespace.ready'", id, NULL);
	cr_assert_str_eq(rid, "ns-happy-path-request");

	free(rid); free(actions); json_decref(gone); resp_free(d); json_decref(g); free(rg_id);
	free(jpath); free(etag); free(want_loc); free(loc); free(rg); free(path);
	resp_free(c);
	nst_tenant_free(&t);
}

Test(namespaces, a_tenant_without_admin_group_gets_no_role_assignment_and_says_why)
{
	struct nst_tenant t;
	nst_tenant(&t, false, NULL);
	json_t *ns = nst_create(&t, "noadmin", "dev", "eastus", 202);
	char *st = nst_drive(id_of(ns), ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	json_t *g = get_ns(&t, "noadmin", 200);
	cr_assert(json_is_null(json_object_get(json_object_get(g, "resources"), "role_assignment_id")));
	char *skipped = nst_job(id_of(ns), "j.steps->1->'output'->>'skipped'");
	cr_assert_str_eq(skipped, "true");
	char *reason = nst_job(id_of(ns), "j.steps->1->'output'->>'reason'");
	cr_assert(reason && strstr(reason, "aad_admin_group_id"), "%s", reason);
	char *rg = xasprintf("atrium-%s-noadmin", t.slug);
	cr_assert_eq(fake_ra_count(rg), 0);
	free(rg); free(reason); free(skipped); json_decref(g); free(st); json_decref(ns);
	nst_tenant_free(&t);
}

/*
 * Regression: changing a tenant's aad_admin_group_id left its namespaces'
 * Contributor assignments on the old group. The worker now re-grants them
 * (delete and put: ARM does not update an assignment's principal), leaves
 * an assignment already on the group alone, and removes it when the group
 * is cleared; a namespace provisioned without a group gets one.
 */
/* The ARM id of a namespace's Kubernetes namespace (heap). */
static char *mns_scope(const struct nst_tenant *t, const char *name)
{
	const char *cluster = getenv("ATRIUM_AKS_CLUSTER_ID");
	cr_assert_not_null(cluster, "the stack sets ATRIUM_AKS_CLUSTER_ID");
	return xasprintf("%s/managedNamespaces/%s-%s", cluster, t->slug, name);
}

Test(namespaces, changing_the_admin_group_regrants_every_ready_namespace)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *a = nst_create(&t, "web", "dev", "westeurope", 202);
	json_t *b = nst_create(&t, "api", "dev", "westeurope", 202);
	char *sa = nst_drive(id_of(a), ",ready,failed,", 30);
	char *sb = nst_drive(id_of(b), ",ready,failed,", 30);
	cr_assert_str_eq(sa, "ready");
	cr_assert_str_eq(sb, "ready");
	char *rga = xasprintf("atrium-%s-web", t.slug), *rgb = xasprintf("atrium-%s-api", t.slug);
	char *p = fake_ra_principal(rga);
	cr_assert_str_eq(p, t.admin_group);
	free(p);

	char *super = super_token();
	char path[128], group[37], body[128];
	snprintf(path, sizeof(path), "/v1/tenants/%s", t.id);
	random_uuid(group);
	snprintf(body, sizeof(body), "{\"aad_admin_group_id\":\"%s\"}", group);
	struct resp *r = http("PATCH", path, super, body, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM jobs WHERE tenant_id = $1::uuid AND kind = $2",
				  t.id, "namespace.regrant"), 2, "one regrant job per ready namespace");
	cr_assert(nst_drain_kind(t.id, "namespace.regrant", 30));
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM jobs WHERE tenant_id = $1::uuid AND kind = $2 "
				  "AND status = 'succeeded'", t.id, "namespace.regrant"), 2);
	p = fake_ra_principal(rga);
	cr_assert_str_eq(p, group, "web now grants the new group");
	free(p);
	p = fake_ra_principal(rgb);
	cr_assert_str_eq(p, group, "api now grants the new group");
	free(p);
	/* Their Kubernetes namespaces' AKS RBAC Admin moved too. */
	char *ka = mns_scope(&t, "web"), *kb = mns_scope(&t, "api");
	p = fake_scope_ra_principal(ka);
	cr_assert_str_eq(p, group, "web's Kubernetes namespace now grants the new group");
	free(p);
	p = fake_scope_ra_principal(kb);
	cr_assert_str_eq(p, group, "api's Kubernetes namespace now grants the new group");
	free(p);

	/* The same group again: the jobs find the assignments in place. */
	int deletes = fake_count("DELETE", "roleAssignments");
	r = http("PATCH", path, super, body, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	cr_assert(nst_drain_kind(t.id, "namespace.regrant", 30));
	cr_assert_eq(fake_count("DELETE", "roleAssignments"), deletes, "nothing was deleted");

	/* Cleared: the assignments go. */
	r = http("PATCH", path, super, "{\"aad_admin_group_id\":null}", NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	cr_assert(nst_drain_kind(t.id, "namespace.regrant", 30));
	cr_assert_eq(fake_ra_count(rga), 0);
	cr_assert_eq(fake_ra_count(rgb), 0);
	cr_assert_eq(fake_scope_ra_count(ka), 0, "no one administers web's Kubernetes namespace");
	cr_assert_eq(fake_scope_ra_count(kb), 0);
	json_t *g = get_ns(&t, "web", 200);
	cr_assert(json_is_null(json_object_get(json_object_get(g, "resources"), "role_assignment_id")));
	cr_assert_eq(json_array_size(json_object_get(json_object_get(g, "kubernetes"),
						     "role_assignment_ids")), 0);
	json_decref(g);

	/* Set again (a namespace without an assignment gets one). */
	r = http("PATCH", path, super, body, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	cr_assert(nst_drain_kind(t.id, "namespace.regrant", 30));
	p = fake_ra_principal(rgb);
	cr_assert_str_eq(p, group);
	free(p);
	p = fake_scope_ra_principal(kb);
	cr_assert_str_eq(p, group);
	free(p);
	free(ka); free(kb);
	free(super); free(rga); free(rgb); free(sa); free(sb);
	json_decref(a); json_decref(b);
	nst_tenant_free(&t);
}

/* ---- faults ------------------------------------------------------------------ */

Test(namespaces, throttling_429_is_retried_after_retry_after_and_shown_meanwhile)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *rg = xasprintf("atrium-%s-thr", t.slug);
	char *re = rg_regex(rg);
	char *fj = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"status\":429,\"retry_after\":1}", re);
	char *fault = fake_fault(fj);
	long violations = fake_counter("throttle_violations");
	json_t *ns = nst_create(&t, "thr", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	cr_assert(jobs_run_one("it-namespaces"));
	char *st = nst_status(id);
	cr_assert_str_eq(st, "provisioning");
	assert_last_error(id, "TooManyRequests");
	/* The retry is scheduled no earlier than Retry-After. */
	long wait_ms = nst_sql_long("SELECT (extract(epoch FROM run_at - updated_at) * 1000)::bigint FROM jobs "
				    "WHERE id = (SELECT job_id FROM namespaces WHERE id = $1)", id, NULL);
	cr_assert(wait_ms >= 990, "retry scheduled after %ld ms", wait_ms);
	free(st);
	st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	cr_assert_eq(fake_counter("throttle_violations"), violations, "no retry before Retry-After");
	char *attempts = nst_job(id, "j.attempts");
	cr_assert_str_eq(attempts, "2");
	char *err = nst_sql("SELECT last_error::text FROM namespaces WHERE id = $1", id, NULL);
	cr_assert_null(err, "a namespace that became ready shows no error");
	cr_assert_eq(fake_count("PUT", re), 2);
	free(attempts); free(st); json_decref(ns); fake_fault_del(fault); free(fj); free(re); free(rg);
	nst_tenant_free(&t);
}

Test(namespaces, server_errors_are_retried_and_finished_steps_are_not_repeated)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *rg = xasprintf("atrium-%s-five", t.slug);
	char *ra = ra_regex(rg);
	char *fj = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"status\":500,\"times\":1}", ra);
	char *fault = fake_fault(fj);
	json_t *ns = nst_create(&t, "five", "staging", "westeurope", 202);
	const char *id = id_of(ns);
	cr_assert(jobs_run_one("it-namespaces"));
	assert_last_error(id, "InternalServerError");
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	char *re = rg_regex(rg);
	cr_assert_eq(fake_count("PUT", re), 1, "the resource group step ran once");
	cr_assert_eq(fake_count("PUT", ra), 2, "the role assignment was tried twice");
	cr_assert_eq(fake_ra_count(rg), 1);
	free(re); free(st); json_decref(ns); fake_fault_del(fault); free(fj); free(ra); free(rg);
	nst_tenant_free(&t);
}

Test(namespaces, an_answer_slower_than_the_client_timeout_is_retried)
{
	/* ATRIUM_OUTBOUND_TIMEOUT_MS is 1500 in these suites (nst_setup). */
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *rg = xasprintf("atrium-%s-slow", t.slug);
	char *re = rg_regex(rg);
	char *fj = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"delay_ms\":4000}", re);
	char *fault = fake_fault(fj);
	json_t *ns = nst_create(&t, "slow", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	uint64_t t0 = util_now_ns();
	cr_assert(jobs_run_one("it-namespaces"));
	double took = (double)(util_now_ns() - t0) / 1e9;
	cr_assert(took < 3.8, "the call gave up after the timeout, not the answer (%.1f s)", took);
	assert_last_error(id, "Timeout");
	char *st = nst_drive(id, ",ready,failed,", 40);
	cr_assert_str_eq(st, "ready");
	cr_assert_eq(fake_rg_count(rg), 1);
	free(st); json_decref(ns); fake_fault_del(fault); free(fj); free(re); free(rg);
	nst_tenant_free(&t);
}

Test(namespaces, dropped_connections_are_retried)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *rg = xasprintf("atrium-%s-drop", t.slug);
	char *re = rg_regex(rg);
	char *ra = ra_regex(rg);
	char *f1j = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"drop_connection\":true}", re);
	char *f2j = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"drop_connection\":\"mid_body\"}", ra);
	char *f1 = fake_fault(f1j), *f2 = fake_fault(f2j);
	json_t *ns = nst_create(&t, "drop", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	cr_assert(jobs_run_one("it-namespaces"));
	assert_last_error(id, "NetworkError");
	char *st = nst_drive(id, ",ready,failed,", 40);
	cr_assert_str_eq(st, "ready");
	char *attempts = nst_job(id, "j.attempts");
	cr_assert_str_eq(attempts, "3", "one retry per dropped connection");
	cr_assert_eq(fake_rg_count(rg), 1);
	cr_assert_eq(fake_ra_count(rg), 1);
	free(attempts); free(st); json_decref(ns); fake_fault_del(f1); fake_fault_del(f2);
	free(f1j); free(f2j); free(ra); free(re); free(rg);
	nst_tenant_free(&t);
}

Test(namespaces, an_async_create_is_followed_to_succeeded)
{
	json_decref(fake_call("POST", "/_fake/config", "{\"async_put\":true}"));
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "asyncok", "dev", "westeurope", 202);
	char *st = nst_drive(id_of(ns), ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	char *path = xasprintf("operationstatuses");
	cr_assert(fake_count("GET", path) >= 2, "the Azure-AsyncOperation URL was polled");
	json_decref(fake_call("POST", "/_fake/config", "{\"async_put\":false}"));
	free(path); free(st); json_decref(ns);
	nst_tenant_free(&t);
}

Test(namespaces, an_async_create_that_ends_failed_fails_the_namespace_with_its_error)
{
	json_decref(fake_call("POST", "/_fake/config", "{\"async_put\":true}"));
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *rg = xasprintf("atrium-%s-asyncbad", t.slug);
	char *re = rg_regex(rg);
	char *fj = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"async_result\":\"Failed\","
			     "\"code\":\"ResourceGroupProvisioningFailed\",\"message\":\"The policy denied it.\"}", re);
	char *fault = fake_fault(fj);
	json_t *ns = nst_create(&t, "asyncbad", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	char *st = nst_drive(id, ",ready,failed,", 30);
	json_decref(fake_call("POST", "/_fake/config", "{\"async_put\":false}"));
	cr_assert_str_eq(st, "failed");
	json_t *g = get_ns(&t, id, 200);
	json_t *e = json_object_get(g, "last_error");
	cr_assert_str_eq(str(e, "code"), "ResourceGroupProvisioningFailed");
	cr_assert_str_eq(str(e, "message"), "The policy denied it.");
	char *jst = nst_job(id, "j.status");
	cr_assert_str_eq(jst, "failed");
	char *jcode = nst_job(id, "j.last_error->>'code'");
	cr_assert_str_eq(jcode, "ResourceGroupProvisioningFailed");
	char *attempts = nst_job(id, "j.attempts");
	cr_assert_str_eq(attempts, "1", "a failed operation is not retried");
	char *action = nst_sql("SELECT action FROM audit_log WHERE resource_id = $1 ORDER BY created_at DESC LIMIT 1", id, NULL);
	cr_assert_str_eq(action, "namespace.failed");
	free(action); free(attempts); free(jcode); free(jst); json_decref(g); free(st); json_decref(ns);
	fake_fault_del(fault); free(fj); free(re); free(rg);
	nst_tenant_free(&t);
}

Test(namespaces, a_permanent_arm_error_fails_at_once_with_the_error_shown)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	/* A well-formed region ARM does not offer: 400 LocationNotAvailableForResourceGroup. */
	json_t *ns = nst_create(&t, "moon", "dev", "moonbase1", 202);
	const char *id = id_of(ns);
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "failed");
	json_t *g = get_ns(&t, "moon", 200);
	json_t *e = json_object_get(g, "last_error");
	cr_assert_str_eq(str(e, "code"), "LocationNotAvailableForResourceGroup");
	cr_assert(strstr(str(e, "message"), "moonbase1"), "%s", str(e, "message"));
	char *attempts = nst_job(id, "j.attempts");
	cr_assert_str_eq(attempts, "1");
	char *rg = xasprintf("atrium-%s-moon", t.slug);
	char *re = rg_regex(rg);
	cr_assert_eq(fake_count("PUT", re), 1, "a permanent error is not retried");
	cr_assert_eq(fake_rg_count(rg), 0);

	/* A failed namespace can be deleted; its (absent) group is no obstacle. */
	struct resp *d = delete_ns(&t, "moon");
	cr_assert_eq(d->status, 202, "%s", d->body);
	cr_assert(json_is_null(json_object_get(d->json, "last_error")), "a new attempt starts clean");
	free(st);
	st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	char *gone = nst_job(id, "j.steps->1->'output'->>'already_gone'");
	cr_assert_str_eq(gone, "true");
	free(gone); resp_free(d); free(re); free(rg); free(attempts); json_decref(g); free(st); json_decref(ns);
	nst_tenant_free(&t);
}

Test(namespaces, exhausted_retries_fail_the_namespace_with_the_last_error)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *rg = xasprintf("atrium-%s-always", t.slug);
	char *re = rg_regex(rg);
	char *fj = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"status\":503,\"times\":-1}", re);
	char *fault = fake_fault(fj);
	json_t *ns = nst_create(&t, "always", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	char *job = nst_job(id, "j.id");
	free(nst_sql("UPDATE jobs SET max_attempts = 2 WHERE id = $1 RETURNING 1", job, NULL));
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "failed");
	assert_last_error(id, "ServiceUnavailable");
	char *attempts = nst_job(id, "j.attempts");
	cr_assert_str_eq(attempts, "2");
	cr_assert_eq(fake_count("PUT", re), 2);
	free(attempts); free(st); free(job); json_decref(ns); fake_fault_del(fault); free(fj); free(re); free(rg);
	nst_tenant_free(&t);
}

Test(namespaces, entra_replication_delay_principal_not_found_is_retried)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *rg = xasprintf("atrium-%s-pnf", t.slug);
	char *ra = ra_regex(rg);
	char *fj = xasprintf("{\"match\":{\"method\":\"PUT\",\"path_regex\":\"%s\"},\"status\":400,"
			     "\"code\":\"PrincipalNotFound\",\"message\":\"Principal does not exist in the directory.\"}", ra);
	char *fault = fake_fault(fj);
	json_t *ns = nst_create(&t, "pnf", "dev", "westeurope", 202);
	char *st = nst_drive(id_of(ns), ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	char *attempts = nst_job(id_of(ns), "j.attempts");
	cr_assert_str_eq(attempts, "2");
	free(attempts); free(st); json_decref(ns); fake_fault_del(fault); free(fj); free(ra); free(rg);
	nst_tenant_free(&t);
}

Test(namespaces, a_delete_whose_operation_ends_failed_fails_and_can_be_retried)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "locked", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);
	char *rg = xasprintf("atrium-%s-locked", t.slug);
	char *re = rg_regex(rg);
	char *fj = xasprintf("{\"match\":{\"method\":\"DELETE\",\"path_regex\":\"%s\"},\"async_result\":\"Failed\","
			     "\"code\":\"ResourceGroupDeletionBlocked\",\"message\":\"A lock prevents the deletion.\"}", re);
	char *fault = fake_fault(fj);
	struct resp *d = delete_ns(&t, "locked");
	cr_assert_eq(d->status, 202);
	st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "failed");
	assert_last_error(id, "ResourceGroupDeletionBlocked");
	cr_assert_eq(fake_rg_count(rg), 1, "the group is still there");
	free(st);
	/* The lock is gone: deleting again finishes the job. */
	resp_free(d);
	d = delete_ns(&t, "locked");
	cr_assert_eq(d->status, 202, "%s", d->body);
	st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	cr_assert_eq(fake_rg_count(rg), 0);
	free(st); resp_free(d); fake_fault_del(fault); free(fj); free(re); free(rg); json_decref(ns);
	nst_tenant_free(&t);
}

Test(namespaces, a_poll_that_fails_transiently_is_retried_and_the_delete_completes)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "polls", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);
	char *fault = fake_fault("{\"match\":{\"path_regex\":\"operationresults\"},\"status\":503,\"times\":1,"
				 "\"enforce_retry_after\":false}");
	struct resp *d = delete_ns(&t, "polls");
	cr_assert_eq(d->status, 202);
	st = nst_drive(id, ",deleted,failed,", 40);
	cr_assert_str_eq(st, "deleted");
	char *rg = xasprintf("atrium-%s-polls", t.slug);
	cr_assert_eq(fake_rg_count(rg), 0);
	free(rg); free(st); resp_free(d); fake_fault_del(fault); json_decref(ns);
	nst_tenant_free(&t);
}

Test(namespaces, the_token_is_cached_and_renewed_when_arm_says_it_expired)
{
	/* Tokens of an hour, whatever an earlier test left configured. */
	json_decref(fake_call("POST", "/_fake/config", "{\"token_expires_in\":3599}"));
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *a = nst_create(&t, "tok1", "dev", "westeurope", 202);
	json_t *b = nst_create(&t, "tok2", "dev", "westeurope", 202);
	long before = fake_counter("tokens_issued");
	char *st = nst_drive(id_of(a), ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);
	st = nst_drive(id_of(b), ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);
	cr_assert_eq(fake_counter("tokens_issued") - before, 1, "one token for both jobs");
	json_decref(fake_call("POST", "/_fake/expire-tokens", NULL));
	json_t *c = nst_create(&t, "tok3", "dev", "westeurope", 202);
	st = nst_drive(id_of(c), ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready", "a 401 ExpiredAuthenticationToken gets a new token");
	cr_assert_eq(fake_counter("tokens_issued") - before, 2);
	char *attempts = nst_job(id_of(c), "j.attempts");
	cr_assert_str_eq(attempts, "1", "renewed within the call, not by a retry");
	free(attempts); free(st); json_decref(a); json_decref(b); json_decref(c);
	nst_tenant_free(&t);
}

Test(namespaces, the_worker_counts_job_outcomes_and_outbound_calls)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "metrics", "dev", "westeurope", 202);
	char *st = nst_drive(id_of(ns), ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	char *text = metrics_render();
	cr_assert(strstr(text, "atrium_job_runs_total{kind=\"namespace.provision\",outcome=\"succeeded\"} 1\n"), "%s", text);
	/* ARM: group PUT, assignment PUT; then for AKS the managed namespace's
	 * GET (404: not there yet, a client error), the cluster's GET, the
	 * namespace's PUT and its two polls, the assignment PUT. */
	cr_assert(strstr(text, "atrium_outbound_requests_total{target=\"arm\",outcome=\"success\"} 7\n"), "%s", text);
	cr_assert(strstr(text, "atrium_outbound_requests_total{target=\"arm\",outcome=\"client_error\"} 1\n"), "%s", text);
	cr_assert(strstr(text, "atrium_outbound_requests_total{target=\"blob\",outcome=\"success\"} 3\n"), "%s", text);
	cr_assert(strstr(text, "atrium_outbound_requests_total{target=\"entra\",outcome=\"success\"} 1\n"), "%s", text);
	cr_assert(strstr(text, "atrium_outbound_request_duration_seconds_count{target=\"arm\"} 8\n"), "%s", text);
	free(text);
	/* Queue depth comes from portal_db at scrape time: serve shows it. */
	struct resp *m = http("GET", "/metrics", NULL, NULL, NULL);
	cr_assert_eq(m->status, 200);
	cr_assert(strstr(m->body, "atrium_cluster_gauges_up 1\n"), "%s", m->body);
	cr_assert(strstr(m->body, "# TYPE atrium_job_queue_depth gauge\n"));
	resp_free(m);
	free(st); json_decref(ns);
	nst_tenant_free(&t);
}

/* ---- the API ------------------------------------------------------------------ */

Test(namespaces, invalid_bodies_are_422_naming_each_field_and_create_nothing)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	struct {
		const char *body;
		const char *field;
	} cases[] = {
		{"{\"environment\":\"dev\",\"location\":\"westeurope\"}", "name"},
		{"{\"name\":\"Bad_Name\",\"environment\":\"dev\",\"location\":\"westeurope\"}", "name"},
		{"{\"name\":\"-x\",\"environment\":\"dev\",\"location\":\"westeurope\"}", "name"},
		{"{\"name\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\",\"environment\":\"dev\",\"location\":\"westeurope\"}", "name"},
		{"{\"name\":\"ok\",\"environment\":\"qa\",\"location\":\"westeurope\"}", "environment"},
		{"{\"name\":\"ok\",\"environment\":\"dev\"}", "location"},
		{"{\"name\":\"ok\",\"environment\":\"dev\",\"location\":\"West Europe\"}", "location"},
		{"{\"name\":\"ok\",\"environment\":\"dev\",\"location\":7}", "location"},
		{"{\"name\":\"ok\",\"environment\":\"dev\",\"location\":\"westeurope\",\"quota\":5}", "quota"},
		{"{\"name\":\"ok\",\"environment\":\"dev\",\"location\":\"westeurope\",\"quota\":{\"cpu_cores\":0}}", "quota.cpu_cores"},
		{"{\"name\":\"ok\",\"environment\":\"dev\",\"location\":\"westeurope\",\"quota\":{\"cpu_cores\":\"4\"}}", "quota.cpu_cores"},
		{"{\"name\":\"ok\",\"environment\":\"dev\",\"location\":\"westeurope\",\"quota\":{\"gpus\":1}}", "quota.gpus"},
		{"{\"name\":\"ok\",\"environment\":\"dev\",\"location\":\"westeurope\",\"colour\":\"blue\"}", "colour"},
		{"{\"name\":\"ok\",\"environment\":\"dev\",\"location\":\"westeurope\",\"status\":\"ready\"}", "status"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp *r = http("POST", path, t.admin, cases[i].body, NULL);
		assert_problem(r, 422);
		bool named = false;
		size_t j;
		json_t *e;
		json_array_foreach(json_object_get(r->json, "errors"), j, e)
			if (strcmp(str(e, "field"), cases[i].field) == 0)
				named = true;
		cr_assert(named, "case %zu: errors[] should name %s: %s", i, cases[i].field, r->body);
		resp_free(r);
	}
	/* Several bad fields at once are all named. */
	struct resp *r = http("POST", path, t.admin, "{\"name\":\"X\",\"environment\":\"qa\",\"quota\":{\"memory_gib\":-1}}", NULL);
	assert_problem(r, 422);
	cr_assert_eq(json_array_size(json_object_get(r->json, "errors")), 4, "%s", r->body);
	resp_free(r);
	/* null quota is allowed and means none. */
	r = http("POST", path, t.admin, "{\"name\":\"nullquota\",\"environment\":\"dev\",\"location\":\"westeurope\",\"quota\":null}", NULL);
	cr_assert_eq(r->status, 202, "%s", r->body);
	cr_assert(json_is_null(json_object_get(r->json, "quota")));
	resp_free(r);
	r = http("POST", path, t.admin, "[1]", NULL);
	assert_problem(r, 400);
	resp_free(r);
	r = http("POST", path, t.admin, "{\"name\":", NULL);
	assert_problem(r, 400);
	resp_free(r);
	const char *ct[] = {"Content-Type: text/plain", NULL};
	r = http("POST", path, t.admin, "name=x", ct);
	assert_problem(r, 415);
	resp_free(r);
	long n = nst_sql_long("SELECT count(*) FROM namespaces WHERE tenant_id = $1", t.id, NULL);
	cr_assert_eq(n, 1, "only the valid one was created");
	long jobs = nst_sql_long("SELECT count(*) FROM jobs WHERE tenant_id = $1", t.id, NULL);
	cr_assert_eq(jobs, 1);
	free(path);
	nst_tenant_free(&t);
}

Test(namespaces, names_are_unique_per_tenant_among_live_namespaces)
{
	struct nst_tenant a, b;
	nst_tenant(&a, true, NULL);
	nst_tenant(&b, true, NULL);
	json_t *n1 = nst_create(&a, "shared", "dev", "westeurope", 202);
	json_t *dup = nst_create(&a, "shared", "prod", "westeurope", 409);
	cr_assert_str_eq(str(json_array_get(json_object_get(dup, "errors"), 0), "field"), "name");
	json_t *other = nst_create(&b, "shared", "dev", "westeurope", 202);
	/* Once deleted, the name can be used again. */
	char *st = nst_drive(id_of(n1), ",ready,failed,", 30);
	free(st);
	struct resp *d = delete_ns(&a, "shared");
	cr_assert_eq(d->status, 202);
	json_decref(nst_create(&a, "shared", "dev", "westeurope", 409)); /* still deprovisioning */
	st = nst_drive(id_of(n1), ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	json_t *again = nst_create(&a, "shared", "prod", "westeurope", 202);
	cr_assert_str_neq(id_of(again), id_of(n1));
	/* By name, the live one is meant; the old one stays readable by id. */
	json_t *g = get_ns(&a, "shared", 200);
	cr_assert_str_eq(id_of(g), id_of(again));
	json_t *old = get_ns(&a, id_of(n1), 200);
	cr_assert_str_eq(str(old, "status"), "deleted");
	json_decref(old); json_decref(g); json_decref(again); free(st); resp_free(d);
	json_decref(other); json_decref(dup); json_decref(n1);
	nst_tenant_free(&a);
	nst_tenant_free(&b);
}

Test(namespaces, azure_names_taken_by_another_tenant_get_the_hashed_form)
{
	char u[37];
	random_uuid(u);
	char slug_a[64], slug_b[64];
	snprintf(slug_a, sizeof(slug_a), "h%.8s-x", u);
	snprintf(slug_b, sizeof(slug_b), "h%.8s", u);
	struct nst_tenant a, b;
	nst_tenant(&a, true, slug_a);
	nst_tenant(&b, true, slug_b);
	json_t *na = nst_create(&a, "y", "dev", "westeurope", 202);  /* h..-x-y */
	json_t *nb = nst_create(&b, "x-y", "dev", "westeurope", 202); /* h..-x-y too */
	char *want_a = xasprintf("atrium-%s-y", slug_a);
	cr_assert_str_eq(str(na, "resource_group"), want_a);
	const char *rg_b = str(nb, "resource_group");
	cr_assert_str_neq(rg_b, want_a, "no two tenants share a resource group");
	cr_assert(strlen(rg_b) == strlen(want_a) + 9, "hashed: %s", rg_b);
	char *st = nst_drive(id_of(nb), ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);
	free(want_a); json_decref(na); json_decref(nb);
	nst_tenant_free(&a);
	nst_tenant_free(&b);
}

Test(namespaces, roles_and_tenant_isolation)
{
	struct nst_tenant a, b;
	nst_tenant(&a, true, NULL);
	nst_tenant(&b, true, NULL);
	json_t *ns = nst_create(&a, "iso", "dev", "westeurope", 202);
	char *list = xasprintf("/v1/tenants/%s/namespaces", a.id);
	char *one = xasprintf("/v1/tenants/%s/namespaces/iso", a.id);
	const char *body = "{\"name\":\"x\",\"environment\":\"dev\",\"location\":\"westeurope\"}";
	char *member = mint(a.aad, "5a5a5a5a-0000-4000-8000-00000000c001", NULL, NULL);
	char *support = mint(a.aad, "5a5a5a5a-0000-4000-8000-00000000c002", "support_user", NULL);
	char *billing = mint(a.aad, "5a5a5a5a-0000-4000-8000-00000000c003", "billing_viewer", NULL);
	struct resp *r;
	r = http("GET", list, member, NULL, NULL); assert_problem(r, 403); resp_free(r);
	r = http("GET", one, member, NULL, NULL); assert_problem(r, 403); resp_free(r);
	r = http("POST", list, member, body, NULL); assert_problem(r, 403); resp_free(r);
	r = http("GET", list, billing, NULL, NULL); assert_problem(r, 403); resp_free(r);
	r = http("GET", list, support, NULL, NULL); cr_assert_eq(r->status, 200); resp_free(r);
	r = http("GET", one, support, NULL, NULL); cr_assert_eq(r->status, 200); resp_free(r);
	r = http("POST", list, support, body, NULL); assert_problem(r, 403); resp_free(r);
	r = http("DELETE", one, support, NULL, NULL); assert_problem(r, 403); resp_free(r);
	/* Tenant B's admin: tenant A's namespaces do not exist. */
	r = http("GET", list, b.admin, NULL, NULL); assert_problem(r, 404); resp_free(r);
	r = http("GET", one, b.admin, NULL, NULL); assert_problem(r, 404); resp_free(r);
	r = http("DELETE", one, b.admin, NULL, NULL); assert_problem(r, 404); resp_free(r);
	r = http("POST", list, b.admin, body, NULL); assert_problem(r, 404); resp_free(r);
	/* Nor under its own tenant's path. */
	char *cross = xasprintf("/v1/tenants/%s/namespaces/%s", b.id, id_of(ns));
	r = http("GET", cross, b.admin, NULL, NULL); assert_problem(r, 404); resp_free(r);
	/* A super admin may. */
	char *super = super_token();
	r = http("GET", one, super, NULL, NULL); cr_assert_eq(r->status, 200); resp_free(r);
	/* Row-level security: a connection scoped to B sees none of A's. */
	PGconn *raw = db_connect("ATRIUM_DB_PORTAL_URL");
	const char *v[] = {b.id};
	PQclear(PQexecParams(raw, "SELECT set_config('atrium.tenant_id', $1, false)", 1, NULL, v, NULL, NULL, 0));
	const char *w[] = {a.id};
	PGresult *res = PQexecParams(raw, "SELECT count(*) FROM namespaces WHERE tenant_id = $1", 1, NULL, w, NULL, NULL, 0);
	cr_assert_str_eq(PQgetvalue(res, 0, 0), "0");
	PQclear(res);
	PQfinish(raw);
	free(super); free(cross); free(billing); free(support); free(member); free(one); free(list);
	json_decref(ns);
	nst_tenant_free(&a);
	nst_tenant_free(&b);
}

Test(namespaces, get_by_name_or_id_and_unknown_or_malformed_keys_are_404)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "find-me", "dev", "westeurope", 202);
	json_t *by_name = get_ns(&t, "find-me", 200);
	json_t *by_id = get_ns(&t, id_of(ns), 200);
	cr_assert(json_equal(by_name, by_id));
	cr_assert(json_equal(by_name, ns), "GET returns what POST returned");
	char u[37];
	random_uuid(u);
	json_decref(get_ns(&t, u, 404));
	json_decref(get_ns(&t, "nope", 404));
	json_decref(get_ns(&t, "Not_A_Name", 404));
	struct resp *d = delete_ns(&t, "nope");
	assert_problem(d, 404);
	resp_free(d);
	char *path = xasprintf("/v1/tenants/%s/namespaces/find-me", t.id);
	struct resp *r = http("PUT", path, t.admin, "{}", NULL);
	assert_problem(r, 405);
	char *allow = resp_header(r, "Allow");
	cr_assert(allow && strstr(allow, "DELETE") && strstr(allow, "GET"), "%s", allow);
	free(allow);
	resp_free(r);
	free(path); json_decref(by_name); json_decref(by_id); json_decref(ns);
	nst_tenant_free(&t);
}

Test(namespaces, list_is_paginated_newest_first_and_filtered)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *a = nst_create(&t, "l-a", "dev", "westeurope", 202);
	json_t *b = nst_create(&t, "l-b", "staging", "westeurope", 202);
	json_t *c = nst_create(&t, "l-c", "dev", "northeurope", 202);
	char *p = xasprintf("/v1/tenants/%s/namespaces?limit=2", t.id);
	struct resp *r = http("GET", p, t.admin, NULL, NULL);
	cr_assert_eq(r->status, 200);
	json_t *data = json_object_get(r->json, "data");
	cr_assert_eq(json_array_size(data), 2);
	cr_assert_str_eq(id_of(json_array_get(data, 0)), id_of(c));
	cr_assert_str_eq(id_of(json_array_get(data, 1)), id_of(b));
	const char *cursor = str(r->json, "next_cursor");
	cr_assert_not_null(cursor);
	char *p2 = xasprintf("/v1/tenants/%s/namespaces?limit=2&cursor=%s", t.id, cursor);
	struct resp *r2 = http("GET", p2, t.admin, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r2->json, "data")), 1);
	cr_assert_str_eq(id_of(json_array_get(json_object_get(r2->json, "data"), 0)), id_of(a));
	cr_assert(json_is_null(json_object_get(r2->json, "next_cursor")));
	char *p3 = xasprintf("/v1/tenants/%s/namespaces?environment=dev", t.id);
	struct resp *r3 = http("GET", p3, t.admin, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r3->json, "data")), 2);
	char *p4 = xasprintf("/v1/tenants/%s/namespaces?status=pending&name=l-b", t.id);
	struct resp *r4 = http("GET", p4, t.admin, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r4->json, "data")), 1);
	const char *bad[] = {"status=gone", "environment=qa", "name=Bad_", "limit=0", "cursor=%21%21"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *pb = xasprintf("/v1/tenants/%s/namespaces?%s", t.id, bad[i]);
		struct resp *rb = http("GET", pb, t.admin, NULL, NULL);
		assert_problem(rb, 400);
		resp_free(rb);
		free(pb);
	}
	resp_free(r); resp_free(r2); resp_free(r3); resp_free(r4);
	free(p); free(p2); free(p3); free(p4);
	json_decref(a); json_decref(b); json_decref(c);
	nst_tenant_free(&t);
}

Test(namespaces, an_idempotency_key_replays_the_202_and_queues_one_job)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	const char *h[] = {"Idempotency-Key: ns-create-once", NULL};
	const char *body = "{\"name\":\"idem\",\"environment\":\"dev\",\"location\":\"westeurope\"}";
	struct resp *a = http("POST", path, t.admin, body, h);
	cr_assert_eq(a->status, 202, "%s", a->body);
	struct resp *b = http("POST", path, t.admin, body, h);
	cr_assert_eq(b->status, 202, "%s", b->body);
	cr_assert(json_equal(a->json, b->json));
	char *replayed = resp_header(b, "Idempotent-Replayed");
	cr_assert_str_eq(replayed, "true");
	struct resp *c = http("POST", path, t.admin, "{\"name\":\"idem2\",\"environment\":\"dev\",\"location\":\"westeurope\"}", h);
	assert_problem(c, 422);
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM jobs WHERE tenant_id = $1", t.id, NULL), 1);
	free(replayed); resp_free(a); resp_free(b); resp_free(c); free(path);
	nst_tenant_free(&t);
}

Test(namespaces, deleting_a_pending_namespace_cancels_its_queued_job)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "early", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	struct resp *d = delete_ns(&t, "early");
	cr_assert_eq(d->status, 202, "%s", d->body);
	cr_assert_str_eq(str(d->json, "status"), "deprovisioning");
	char *old = nst_sql("SELECT status || ' ' || (last_error->>'code') FROM jobs WHERE id = $1",
			    str(ns, "job_id"), NULL);
	cr_assert_str_eq(old, "failed Canceled");
	char *st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	char *rg = xasprintf("atrium-%s-early", t.slug);
	char *re = rg_regex(rg);
	cr_assert_eq(fake_count("PUT", re), 0, "nothing was provisioned");
	char *canceled = nst_sql("SELECT changes->>'canceled_job_id' FROM audit_log WHERE resource_id = $1 "
				 "AND action = 'namespace.delete'", id, NULL);
	cr_assert_str_eq(canceled, str(ns, "job_id"));
	free(canceled); free(re); free(rg); free(st); free(old); resp_free(d); json_decref(ns);
	nst_tenant_free(&t);
}

Test(namespaces, deleting_while_provisioning_runs_is_409_and_again_while_deprovisioning_is_202)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "busy", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	/* A worker holds the provision job. */
	free(nst_sql("UPDATE jobs SET status = 'running', locked_by = 'other-worker', "
		     "locked_until = now() + interval '1 minute' WHERE id = $1 RETURNING 1", str(ns, "job_id"), NULL));
	struct resp *d = delete_ns(&t, "busy");
	assert_problem(d, 409);
	resp_free(d);
	char *st = nst_status(id);
	cr_assert_str_eq(st, "pending", "the refused delete changed nothing");
	free(st);
	free(nst_sql("UPDATE jobs SET status = 'queued', locked_by = NULL, locked_until = NULL WHERE id = $1 RETURNING 1",
		     str(ns, "job_id"), NULL));
	st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);
	struct resp *d1 = delete_ns(&t, "busy");
	cr_assert_eq(d1->status, 202);
	struct resp *d2 = delete_ns(&t, "busy");
	cr_assert_eq(d2->status, 202, "a repeated delete is accepted");
	cr_assert_str_eq(str(d2->json, "job_id"), str(d1->json, "job_id"), "and queues no second job");
	st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	struct resp *d3 = delete_ns(&t, "busy");
	assert_problem(d3, 404);
	struct resp *d4 = delete_ns(&t, id);
	assert_problem(d4, 404);
	free(st); resp_free(d1); resp_free(d2); resp_free(d3); resp_free(d4); json_decref(ns);
	nst_tenant_free(&t);
}

Test(namespaces, a_deleted_tenant_gets_no_new_namespaces)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *super = super_token();
	char *tp = xasprintf("/v1/tenants/%s", t.id);
	struct resp *r = http("DELETE", tp, super, NULL, NULL);
	cr_assert_eq(r->status, 204);
	resp_free(r);
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	r = http("POST", path, super, "{\"name\":\"late\",\"environment\":\"dev\",\"location\":\"westeurope\"}", NULL);
	assert_problem(r, 409);
	resp_free(r);
	free(path); free(tp); free(super);
	nst_tenant_free(&t);
}

/*
 * Offboarding: DELETE on a tenant with namespaces answers 202 and makes it
 * `deleting` (its members are refused, nothing new may start); a
 * tenant.offboard job deprovisions every namespace (a prod one waiting for
 * approval is simply dropped), and only when nothing is left in Azure is
 * the tenant deleted. Asking again meanwhile queues nothing more.
 */
Test(namespaces, deleting_a_tenant_deprovisions_every_namespace_first_then_deletes_it)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *a = nst_create(&t, "web", "dev", "westeurope", 202);
	json_t *b = nst_create(&t, "api", "staging", "westeurope", 202);
	char *sa = nst_drive(id_of(a), ",ready,failed,", 30);
	char *sb = nst_drive(id_of(b), ",ready,failed,", 30);
	cr_assert_str_eq(sa, "ready");
	cr_assert_str_eq(sb, "ready");
	json_t *c = nst_create(&t, "live", "prod", "westeurope", 202);
	cr_assert_str_eq(str(c, "status"), "pending_approval");
	/* The gauge counts every live state, the AKS ones included. */
	struct resp *mr = http("GET", "/metrics", NULL, NULL, NULL);
	cr_assert_eq(mr->status, 200);
	const char *states[] = {"pending_approval", "updating", "degraded", "rejected", "ready", "deprovisioning"};
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		char *line = xasprintf("atrium_namespaces{state=\"%s\"} ", states[i]);
		cr_assert(strstr(mr->body, line), "/metrics has %s", line);
		free(line);
	}
	cr_assert(!strstr(mr->body, "atrium_namespaces{state=\"pending_approval\"} 0\n"),
		  "a namespace waits for approval");
	resp_free(mr);
	char *rga = xasprintf("atrium-%s-web", t.slug), *rgb = xasprintf("atrium-%s-api", t.slug);
	char *ka = mns_scope(&t, "web");
	char *kname = xasprintf("%s-web", t.slug);
	cr_assert_eq(fake_rg_count(rga), 1);
	cr_assert_eq(fake_scope_ra_count(ka), 1);

	char *super = super_token();
	char *tp = xasprintf("/v1/tenants/%s", t.id);
	struct resp *r = http("DELETE", tp, super, NULL, NULL);
	cr_assert_eq(r->status, 202, "%s", r->body);
	cr_assert_str_eq(str(r->json, "status"), "deleting");
	const char *job = str(r->json, "offboard_job_id");
	cr_assert(job && util_is_uuid(job), "the tenant names its offboarding job");
	char *job_id = xstrdup(job);
	char *loc = resp_header(r, "location");
	cr_assert_str_eq(loc, tp, "Location: the tenant, to follow");
	free(loc);
	resp_free(r);

	/* Meanwhile: its members are refused, nothing new starts, and the
	 * same DELETE answers the same job. */
	char *nsp = xasprintf("/v1/tenants/%s/namespaces", t.id);
	r = http("GET", nsp, t.admin, NULL, NULL);
	assert_problem(r, 403);
	cr_assert(strstr(r->body, "being deleted"), "%s", r->body);
	resp_free(r);
	r = http("POST", nsp, super, "{\"name\":\"late\",\"environment\":\"dev\",\"location\":\"westeurope\"}",
		 NULL);
	assert_problem(r, 409);
	resp_free(r);
	r = http("PATCH", tp, super, "{\"name\":\"Renamed\"}", NULL);
	assert_problem(r, 409);
	resp_free(r);
	r = http("DELETE", tp, super, NULL, NULL);
	cr_assert_eq(r->status, 202, "%s", r->body);
	cr_assert_str_eq(str(r->json, "offboard_job_id"), job_id);
	resp_free(r);
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM jobs WHERE tenant_id = $1::uuid AND kind = $2",
				  t.id, "tenant.offboard"), 1);
	/* The job is the tenant's, readable as any of its jobs. */
	char *jp = xasprintf("/v1/tenants/%s/jobs/%s", t.id, job_id);
	r = http("GET", jp, super, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(str(r->json, "kind"), "tenant.offboard");
	resp_free(r);

	cr_assert(nst_drain_kind(t.id, "tenant.offboard", 90), "the offboarding ends");
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM jobs WHERE id = $1::uuid AND status = 'succeeded'",
				  job_id, NULL), 1, "the offboarding job succeeded");
	/* Nothing is left in Azure, every namespace is deleted, then the tenant. */
	cr_assert_eq(fake_rg_count(rga), 0, "web's resource group is gone");
	cr_assert_eq(fake_rg_count(rgb), 0, "api's resource group is gone");
	cr_assert_eq(fake_scope_ra_count(ka), 0);
	json_t *m = fake_mns(kname);
	cr_assert(m == NULL || json_is_null(m), "web's Kubernetes namespace is gone");
	json_decref(m);
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM namespaces WHERE tenant_id = $1::uuid "
				  "AND status <> 'deleted'", t.id, NULL), 0);
	r = http("GET", tp, super, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(str(r->json, "status"), "deleted");
	resp_free(r);
	/* Each step is audited: the offboarding, the system's deletions, the end. */
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM audit_log WHERE tenant_id = $1::uuid "
				  "AND action = $2", t.id, "tenant.offboard"), 1);
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM audit_log WHERE tenant_id = $1::uuid "
				  "AND action = $2 AND actor_kind = 'system'", t.id, "tenant.delete"), 1);
	/* Deleted now: DELETE is a no-op. */
	r = http("DELETE", tp, super, NULL, NULL);
	cr_assert_eq(r->status, 204);
	resp_free(r);
	free(jp); free(nsp); free(job_id); free(tp); free(super); free(kname); free(ka);
	free(rga); free(rgb); free(sa); free(sb);
	json_decref(a); json_decref(b); json_decref(c);
	nst_tenant_free(&t);
}

/* Offboarding waits for a namespace whose provisioning runs, then deletes it. */
Test(namespaces, offboarding_waits_for_a_provisioning_namespace_then_deletes_it)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *a = nst_create(&t, "slow", "dev", "westeurope", 202);
	/* It is claimed and provisioning (a worker holds it) when the tenant is deleted. */
	free(nst_sql("UPDATE namespaces SET status = 'provisioning' WHERE id = $1::uuid", id_of(a), NULL));
	free(nst_sql("UPDATE jobs SET status = 'running', locked_by = 'elsewhere', "
		     "locked_until = now() + interval '3 seconds' WHERE payload->>'namespace_id' = $1",
		     id_of(a), NULL));
	char *super = super_token();
	char *tp = xasprintf("/v1/tenants/%s", t.id);
	struct resp *r = http("DELETE", tp, super, NULL, NULL);
	cr_assert_eq(r->status, 202, "%s", r->body);
	resp_free(r);
	/* The first pass finds it busy and says so. */
	cr_assert(jobs_run_one("it-namespaces"));
	char *err = nst_sql("SELECT last_error->>'code' FROM jobs WHERE tenant_id = $1::uuid "
			    "AND kind = 'tenant.offboard'", t.id, NULL);
	cr_assert_str_eq(err, "NamespacesRemaining");
	free(err);
	/* The lease lapses, its provisioning is taken over and finishes; then
	 * the offboarding deletes it. */
	cr_assert(nst_drain_kind(t.id, "tenant.offboard", 120), "the offboarding ends");
	char *st = nst_status(id_of(a));
	cr_assert_str_eq(st, "deleted");
	char *rg = xasprintf("atrium-%s-slow", t.slug);
	cr_assert_eq(fake_rg_count(rg), 0, "nothing is left in Azure");
	r = http("GET", tp, super, NULL, NULL);
	cr_assert_str_eq(str(r->json, "status"), "deleted");
	resp_free(r);
	free(rg); free(st); free(tp); free(super);
	json_decref(a);
	nst_tenant_free(&t);
}

/* ---- quota ------------------------------------------------------------------ */

struct ns_racer {
	const struct nst_tenant *t;
	char name[32];
	long status;
};

static void *create_one(void *arg)
{
	struct ns_racer *x = arg;
	char *path = xasprintf("/v1/tenants/%s/namespaces", x->t->id);
	char *body = xasprintf("{\"name\":\"%s\",\"environment\":\"dev\",\"location\":\"westeurope\"}",
			       x->name);
	struct resp *r = http("POST", path, x->t->admin, body, NULL);
	x->status = r->status;
	if (r->status == 409)
		assert_problem(r, 409);
	resp_free(r);
	free(body);
	free(path);
	return NULL;
}

/*
 * A tenant's live namespaces are capped (ATRIUM_NAMESPACES_PER_TENANT, 10 by
 * default): creations that race for the last places get exactly those
 * places, the rest a 409 problem, and no job is queued for them.
 */
Test(namespaces, live_namespaces_are_capped_per_tenant_even_when_creations_race)
{
	struct nst_tenant t;
	nst_tenant(&t, false, NULL);
	for (int i = 0; i < 8; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		json_decref(nst_create(&t, name, "dev", "westeurope", 202));
	}
	enum { RACERS = 6 };
	struct ns_racer xs[RACERS];
	pthread_t th[RACERS];
	for (int i = 0; i < RACERS; i++) {
		xs[i] = (struct ns_racer){.t = &t};
		snprintf(xs[i].name, sizeof(xs[i].name), "race%d", i);
		pthread_create(&th[i], NULL, create_one, &xs[i]);
	}
	int created = 0, refused = 0;
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		created += xs[i].status == 202;
		refused += xs[i].status == 409;
	}
	cr_assert_eq(created, 2, "two places were left; %d creations got one", created);
	cr_assert_eq(refused, 4);
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM namespaces WHERE tenant_id = $1::uuid "
				  "AND status <> 'deleted'", t.id, NULL), 10);
	/* The refusal names the limit and changes nothing. */
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	struct resp *r = http("POST", path, t.admin,
			      "{\"name\":\"eleventh\",\"environment\":\"dev\",\"location\":\"westeurope\"}", NULL);
	assert_problem(r, 409);
	cr_assert(strstr(r->body, "namespace-quota-exceeded"), "%s", r->body);
	resp_free(r);
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM jobs WHERE tenant_id = $1::uuid", t.id, NULL), 10,
		     "no job was queued for a refused namespace");
	free(path);
	nst_tenant_free(&t);
}

/* A tenant's own namespace_quota, set by a super admin (a tenant admin may
 * not), replaces the platform's default in either direction. */
Test(namespaces, a_tenants_own_namespace_quota_replaces_the_default)
{
	struct nst_tenant t;
	nst_tenant(&t, false, NULL);
	char *super = super_token();
	char path[128];
	snprintf(path, sizeof(path), "/v1/tenants/%s", t.id);
	struct resp *r = http("PATCH", path, t.admin, "{\"namespace_quota\":50}", NULL);
	assert_problem(r, 403);
	resp_free(r);
	r = http("PATCH", path, super, "{\"namespace_quota\":2}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_integer_value(json_object_get(r->json, "namespace_quota")), 2);
	resp_free(r);
	json_decref(nst_create(&t, "one", "dev", "westeurope", 202));
	json_decref(nst_create(&t, "two", "dev", "westeurope", 202));
	json_t *third = nst_create(&t, "three", "dev", "westeurope", 409);
	cr_assert(strstr(json_string_value(json_object_get(third, "detail")), "namespace_quota"),
		  "the refusal names the tenant's quota");
	json_decref(third);
	/* Raised above the default: the 11th namespace is accepted. */
	r = http("PATCH", path, super, "{\"namespace_quota\":12}", NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	for (int i = 3; i <= 11; i++) {
		char name[16];
		snprintf(name, sizeof(name), "q%d", i);
		json_decref(nst_create(&t, name, "dev", "westeurope", 202));
	}
	/* Back to the default (10): nothing is removed, nothing more created. */
	r = http("PATCH", path, super, "{\"namespace_quota\":null}", NULL);
	cr_assert(json_is_null(json_object_get(r->json, "namespace_quota")), "%s", r->body);
	resp_free(r);
	json_decref(nst_create(&t, "over", "dev", "westeurope", 409));
	free(super);
	nst_tenant_free(&t);
}

/* ---- AKS: the Kubernetes namespace, sizes, approval ------------------------- */

#define AKS_ADMIN_ROLE "3498e952-d568-435e-9b2c-8d77e338d7f7"

static struct resp *ns_call(const char *method, const struct nst_tenant *t, const char *key,
			    const char *action, const char *token, const char *body)
{
	char *p = xasprintf("/v1/tenants/%s/namespaces/%s%s", t->id, key, action ? action : "");
	struct resp *r = http(method, p, token, body, NULL);
	free(p);
	return r;
}

static const char *k8s(json_t *ns, const char *k)
{
	return str(json_object_get(ns, "kubernetes"), k);
}

Test(namespaces, aks_namespace_and_admin_assignment_are_made_with_labels_quota_and_policy_then_removed)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	struct resp *c = http("POST", path, t.admin,
			      "{\"name\":\"kube\",\"environment\":\"dev\",\"location\":\"westeurope\","
			      "\"size\":\"medium\"}", NULL);
	cr_assert_eq(c->status, 202, "%s", c->body);
	const char *id = id_of(c->json);
	char *k8s_name = xasprintf("%s-kube", t.slug);
	const char *cluster = getenv("ATRIUM_AKS_CLUSTER_ID");
	cr_assert_not_null(cluster, "the stack sets ATRIUM_AKS_CLUSTER_ID");
	/* What is meant, at once: the size's quota and policies. */
	cr_assert_str_eq(str(c->json, "size"), "medium");
	cr_assert_str_eq(k8s(c->json, "cluster_id"), cluster);
	cr_assert_str_eq(k8s(c->json, "namespace"), k8s_name);
	cr_assert(json_is_null(json_object_get(json_object_get(c->json, "kubernetes"), "id")));
	json_t *q = json_object_get(json_object_get(c->json, "kubernetes"), "quota");
	cr_assert_str_eq(str(q, "cpu_request"), "2");
	cr_assert_str_eq(str(q, "memory_limit"), "8Gi");
	cr_assert_eq(json_integer_value(json_object_get(q, "pods")), 50);
	json_t *np = json_object_get(json_object_get(c->json, "kubernetes"), "network_policy");
	cr_assert_str_eq(str(np, "ingress"), "AllowSameNamespace");
	cr_assert_str_eq(str(np, "egress"), "AllowAll");
	cr_assert_str_eq(k8s(c->json, "adoption_policy"), "Never");

	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	json_t *g = get_ns(&t, "kube", 200);
	char *mns_id = xasprintf("%s/managedNamespaces/%s", cluster, k8s_name);
	cr_assert_str_eq(k8s(g, "id"), mns_id);
	json_t *ras = json_object_get(json_object_get(g, "kubernetes"), "role_assignment_ids");
	cr_assert_eq(json_array_size(ras), 1);
	const char *ra_id = json_string_value(json_array_get(ras, 0));
	cr_assert(ra_id && strncmp(ra_id, mns_id, strlen(mns_id)) == 0, "%s", ra_id);

	/* Read back from the fake ARM. */
	json_t *m = fake_mns(k8s_name);
	cr_assert_not_null(m, "managed namespace %s in the fake", k8s_name);
	cr_assert_str_eq(str(m, "id"), mns_id);
	cr_assert_str_eq(str(m, "location"), "westeurope");
	json_t *p = json_object_get(m, "properties");
	cr_assert_str_eq(str(p, "provisioningState"), "Succeeded");
	json_t *labels = json_object_get(p, "labels");
	cr_assert_str_eq(str(labels, "atrium.dev/tenant"), t.slug);
	cr_assert_str_eq(str(labels, "atrium.dev/namespace"), "kube");
	cr_assert_str_eq(str(labels, "atrium.dev/environment"), "dev");
	cr_assert_str_eq(str(labels, "atrium.dev/namespace-id"), id);
	json_t *rq = json_object_get(p, "defaultResourceQuota");
	cr_assert_str_eq(str(rq, "cpuRequest"), "2");
	cr_assert_str_eq(str(rq, "cpuLimit"), "4");
	cr_assert_str_eq(str(rq, "memoryRequest"), "4Gi");
	cr_assert_str_eq(str(rq, "memoryLimit"), "8Gi");
	cr_assert_str_eq(str(json_object_get(p, "annotations"), "atrium.dev/max-pods"), "50");
	json_t *pol = json_object_get(p, "defaultNetworkPolicy");
	cr_assert_str_eq(str(pol, "ingress"), "AllowSameNamespace");
	cr_assert_str_eq(str(pol, "egress"), "AllowAll");
	cr_assert_str_eq(str(p, "adoptionPolicy"), "Never");
	cr_assert_str_eq(str(p, "deletePolicy"), "Delete");
	json_t *state = fake_call("GET", "/_fake/state", NULL);
	size_t i;
	json_t *item;
	int found = 0;
	json_array_foreach(json_object_get(state, "role_assignments"), i, item) {
		json_t *rp = json_object_get(item, "properties");
		if (strcasecmp(str(rp, "scope"), mns_id) != 0)
			continue;
		found++;
		cr_assert_str_eq(str(item, "id"), ra_id);
		cr_assert_str_eq(str(rp, "principalId"), t.admin_group);
		cr_assert_str_eq(str(rp, "principalType"), "Group");
		cr_assert(strstr(str(rp, "roleDefinitionId"), "/roleDefinitions/" AKS_ADMIN_ROLE));
	}
	cr_assert_eq(found, 1, "one assignment on the managed namespace");
	json_decref(state);
	/* dev: the members' Writer assignment has no group to name yet. */
	char *members = nst_job(id, "(SELECT s->'output'->>'tenant_has_no' FROM jsonb_array_elements(j.steps) s "
				    "WHERE s->>'name' = 'aks_role_assignments')");
	cr_assert(members && strstr(members, "aad_members_group_id"), "%s", members ? members : "(null)");

	/* Delete: the assignment and the managed namespace go. */
	struct resp *d = delete_ns(&t, "kube");
	cr_assert_eq(d->status, 202, "%s", d->body);
	free(st);
	st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	json_t *gone = fake_mns(k8s_name);
	cr_assert_null(gone, "the managed namespace was deleted");
	cr_assert_eq(fake_scope_ra_count(mns_id), 0);
	json_t *after = get_ns(&t, id, 200);
	cr_assert(json_is_null(json_object_get(json_object_get(after, "kubernetes"), "id")));

	json_decref(after); resp_free(d); free(members); json_decref(m); free(mns_id); json_decref(g);
	free(st); free(k8s_name); resp_free(c); free(path);
	nst_tenant_free(&t);
}

/* A second `atrium serve` on ATRIUM_TEST_RL_PORT with ATRIUM_AKS_CLUSTER_ID
 * empty (unset). */
static pid_t serve_without_cluster(char *base, size_t len)
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
		setenv("ATRIUM_AKS_CLUSTER_ID", "", 1);
		freopen("/dev/null", "w", stderr);
		execl(bin, bin, "serve", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		struct resp *r = http_at(base, "GET", "/readyz", NULL, NULL, NULL);
		const char *idp = json_string_value(json_object_get(json_object_get(r->json, "checks"),
								     "identity_provider"));
		bool up = idp && strcmp(idp, "ok") == 0;
		resp_free(r);
		if (up)
			return pid;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_fail("the second server did not start");
	return -1;
}

Test(namespaces, without_a_cluster_the_kubernetes_steps_are_skipped_and_kubernetes_is_null)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char base[96];
	pid_t pid = serve_without_cluster(base, sizeof(base));
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	struct resp *c = http_at(base, "POST", path, t.admin,
				 "{\"name\":\"plain\",\"environment\":\"dev\",\"location\":\"westeurope\"}",
				 NULL);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	cr_assert_eq(c->status, 202, "%s", c->body);
	cr_assert(json_is_null(json_object_get(c->json, "kubernetes")), "%s", c->body);
	cr_assert_str_eq(str(c->json, "size"), "small", "the default size");
	const char *id = id_of(c->json);
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	char *skipped = nst_job(id, "(SELECT string_agg(s->>'name', ',' ORDER BY s->>'name') FROM "
				    "jsonb_array_elements(j.steps) s WHERE (s->'output'->>'skipped')::boolean)");
	cr_assert_str_eq(skipped, "aks_namespace,aks_role_assignments");
	char *k8s_name = xasprintf("%s-plain", t.slug);
	json_t *m = fake_mns(k8s_name);
	cr_assert_null(m, "no managed namespace");
	json_t *g = get_ns(&t, "plain", 200);
	cr_assert(json_is_null(json_object_get(g, "kubernetes")));
	json_decref(g); free(k8s_name); free(skipped); free(st); resp_free(c); free(path);
	nst_tenant_free(&t);
}

Test(namespaces, a_new_size_is_a_patch_whose_update_job_changes_the_quota_in_aks)
{
	struct nst_tenant t, other;
	nst_tenant(&t, true, NULL);
	nst_tenant(&other, true, NULL);
	json_t *ns = nst_create(&t, "grow", "staging", "westeurope", 202);
	const char *id = id_of(ns);
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);
	char *k8s_name = xasprintf("%s-grow", t.slug);
	json_t *m = fake_mns(k8s_name);
	cr_assert_str_eq(str(json_object_get(json_object_get(m, "properties"), "defaultResourceQuota"), "cpuLimit"), "1");
	json_decref(m);

	/* Refused: bad bodies (422), stale If-Match (412), roles, other tenants. */
	const char *bad[] = {"{\"size\":\"huge\"}", "{}", "{\"size\":\"large\",\"name\":\"x\"}",
			     "{\"size\":3}", "{\"size\":null}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct resp *r = ns_call("PATCH", &t, "grow", NULL, t.admin, bad[i]);
		assert_problem(r, 422);
		resp_free(r);
	}
	char *p = xasprintf("/v1/tenants/%s/namespaces/grow", t.id);
	const char *stale[] = {"If-Match: \"1\"", NULL};
	struct resp *r = http("PATCH", p, t.admin, "{\"size\":\"large\"}", stale);
	assert_problem(r, 412);
	resp_free(r);
	char *support = mint(t.aad, "5a5a5a5a-0000-4000-8000-00000000c002", "support_user", NULL);
	r = ns_call("PATCH", &t, "grow", NULL, support, "{\"size\":\"large\"}");
	assert_problem(r, 403);
	resp_free(r);
	char *cross = xasprintf("/v1/tenants/%s/namespaces/grow", t.id);
	r = http("PATCH", cross, other.admin, "{\"size\":\"large\"}", NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = ns_call("PATCH", &other, id, NULL, other.admin, "{\"size\":\"large\"}");
	assert_problem(r, 404);
	resp_free(r);
	char *size = nst_sql("SELECT size FROM namespaces WHERE id = $1", id, NULL);
	cr_assert_str_eq(size, "small", "nothing changed");
	free(size);

	/* The same size: nothing to do. */
	r = ns_call("PATCH", &t, "grow", NULL, t.admin, "{\"size\":\"small\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(str(r->json, "status"), "ready");
	resp_free(r);

	/* large: 202, updating under a namespace.update job. */
	r = ns_call("PATCH", &t, "grow", NULL, t.admin, "{\"size\":\"large\"}");
	cr_assert_eq(r->status, 202, "%s", r->body);
	cr_assert_str_eq(str(r->json, "status"), "updating");
	cr_assert_str_eq(str(r->json, "size"), "large");
	cr_assert_str_neq(str(r->json, "job_id"), str(ns, "job_id"));
	json_t *q = json_object_get(json_object_get(r->json, "kubernetes"), "quota");
	cr_assert_str_eq(str(q, "cpu_limit"), "16");
	char *kind = nst_job(id, "j.kind");
	cr_assert_str_eq(kind, "namespace.update");
	/* While it runs, another change waits. */
	struct resp *busy = ns_call("PATCH", &t, "grow", NULL, t.admin, "{\"size\":\"medium\"}");
	assert_problem(busy, 409);
	resp_free(busy);
	resp_free(r);
	st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	m = fake_mns(k8s_name);
	json_t *mp = json_object_get(m, "properties");
	json_t *rq = json_object_get(mp, "defaultResourceQuota");
	cr_assert_str_eq(str(rq, "cpuRequest"), "8");
	cr_assert_str_eq(str(rq, "cpuLimit"), "16");
	cr_assert_str_eq(str(rq, "memoryRequest"), "16Gi");
	cr_assert_str_eq(str(rq, "memoryLimit"), "32Gi");
	cr_assert_str_eq(str(json_object_get(mp, "annotations"), "atrium.dev/max-pods"), "200");
	cr_assert_str_eq(str(json_object_get(mp, "defaultNetworkPolicy"), "egress"), "AllowAll");
	cr_assert_str_eq(str(json_object_get(mp, "labels"), "atrium.dev/namespace-id"), id);
	char *rg = xasprintf("atrium-%s-grow", t.slug);
	cr_assert_eq(fake_rg_count(rg), 1);
	cr_assert_eq(fake_ra_count(rg), 1, "the update made no second assignment");
	char *mns_id = xasprintf("%s/managedNamespaces/%s", getenv("ATRIUM_AKS_CLUSTER_ID"), k8s_name);
	cr_assert_eq(fake_scope_ra_count(mns_id), 1);
	char *actions = nst_sql("SELECT string_agg(action, ',' ORDER BY created_at) FROM audit_log "
				"WHERE resource_id = $1", id, NULL);
	cr_assert_str_eq(actions, "namespace.create,namespace.provisioning,namespace.ready,"
				  "namespace.resize,namespace.ready");
	char *changes = nst_sql("SELECT changes->>'previous_size' || '->' || (changes->>'size') FROM audit_log "
				"WHERE resource_id = $1 AND action = 'namespace.resize'", id, NULL);
	cr_assert_str_eq(changes, "small->large");
	free(changes); free(actions); free(mns_id); free(rg); json_decref(m); free(st); free(kind);
	free(cross); free(support); free(p); free(k8s_name); json_decref(ns);
	nst_tenant_free(&t);
	nst_tenant_free(&other);
}

Test(namespaces, a_prod_namespace_waits_for_a_super_admins_approval_then_is_provisioned)
{
	struct nst_tenant t, other;
	nst_tenant(&t, true, NULL);
	nst_tenant(&other, true, NULL);
	json_t *ns = nst_create(&t, "live", "prod", "westeurope", 202);
	const char *id = id_of(ns);
	cr_assert_str_eq(str(ns, "status"), "pending_approval");
	cr_assert(json_is_null(json_object_get(ns, "job_id")));
	cr_assert(json_is_null(json_object_get(ns, "approval")));
	long jobs = nst_sql_long("SELECT count(*) FROM jobs WHERE payload->>'namespace_id' = $1", id, NULL);
	cr_assert_eq(jobs, 0, "nothing is queued before approval");
	char *rg = xasprintf("atrium-%s-live", t.slug);

	/* Only a super admin decides: the tenant's admin gets 403, another
	 * tenant's 404, support 403. A size may still change (200). */
	struct resp *r = ns_call("POST", &t, "live", "/approve", t.admin, "{}");
	assert_problem(r, 403);
	resp_free(r);
	char *support = mint(t.aad, "5a5a5a5a-0000-4000-8000-00000000c002", "support_user", NULL);
	r = ns_call("POST", &t, "live", "/approve", support, "{}");
	assert_problem(r, 403);
	resp_free(r);
	char *cross = xasprintf("/v1/tenants/%s/namespaces/live/approve", t.id);
	r = http("POST", cross, other.admin, "{}", NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = ns_call("PATCH", &t, "live", NULL, t.admin, "{\"size\":\"medium\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(str(r->json, "status"), "pending_approval");
	resp_free(r);
	char *super = super_token();
	/* Bad bodies: 422, nothing changes. */
	const char *bad[] = {"{\"reason\":\"\"}", "{\"reason\":7}", "{\"why\":\"x\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = ns_call("POST", &t, "live", "/approve", super, bad[i]);
		assert_problem(r, 422);
		resp_free(r);
	}
	char *st = nst_status(id);
	cr_assert_str_eq(st, "pending_approval");
	free(st);

	r = ns_call("POST", &t, "live", "/approve", super, "{\"reason\":\"capacity checked\"}");
	cr_assert_eq(r->status, 202, "%s", r->body);
	cr_assert_str_eq(str(r->json, "status"), "pending");
	cr_assert(util_is_uuid(str(r->json, "job_id")));
	json_t *ap = json_object_get(r->json, "approval");
	cr_assert_str_eq(str(ap, "decision"), "approved");
	cr_assert_str_eq(str(ap, "reason"), "capacity checked");
	cr_assert_not_null(str(ap, "decided_at"));
	resp_free(r);
	/* Decided once. */
	r = ns_call("POST", &t, "live", "/approve", super, "{}");
	assert_problem(r, 409);
	resp_free(r);
	r = ns_call("POST", &t, "live", "/reject", super, "{\"reason\":\"too late\"}");
	assert_problem(r, 409);
	resp_free(r);

	st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	cr_assert_eq(fake_rg_count(rg), 1);
	char *k8s_name = xasprintf("%s-live", t.slug);
	json_t *m = fake_mns(k8s_name);
	cr_assert_not_null(m);
	cr_assert_str_eq(str(json_object_get(json_object_get(m, "properties"), "labels"), "atrium.dev/environment"), "prod");
	cr_assert_str_eq(str(json_object_get(json_object_get(m, "properties"), "defaultResourceQuota"), "cpuLimit"), "4",
			 "the size set while waiting");
	char *actions = nst_sql("SELECT string_agg(action, ',' ORDER BY created_at) FROM audit_log "
				"WHERE resource_id = $1", id, NULL);
	cr_assert_str_eq(actions, "namespace.create,namespace.resize,namespace.approve,"
				  "namespace.provisioning,namespace.ready");
	char *who = nst_sql("SELECT actor_kind FROM audit_log WHERE resource_id = $1 AND action = 'namespace.approve'", id, NULL);
	cr_assert_str_eq(who, "user");
	free(who); free(actions); json_decref(m); free(k8s_name); free(st); free(super); free(cross);
	free(support); free(rg); json_decref(ns);
	nst_tenant_free(&t);
	nst_tenant_free(&other);
}

Test(namespaces, a_rejected_prod_namespace_keeps_the_reason_and_is_never_provisioned)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "nope", "prod", "westeurope", 202);
	const char *id = id_of(ns);
	char *super = super_token();
	struct resp *r = ns_call("POST", &t, "nope", "/reject", super, "{}");
	assert_problem(r, 422);
	resp_free(r);
	r = ns_call("POST", &t, "nope", "/reject", t.admin, "{\"reason\":\"mine\"}");
	assert_problem(r, 403);
	resp_free(r);
	r = ns_call("POST", &t, "nope", "/reject", super, "{\"reason\":\"no budget this quarter\"}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(str(r->json, "status"), "rejected");
	cr_assert(json_is_null(json_object_get(r->json, "job_id")));
	json_t *ap = json_object_get(r->json, "approval");
	cr_assert_str_eq(str(ap, "decision"), "rejected");
	cr_assert_str_eq(str(ap, "reason"), "no budget this quarter");
	resp_free(r);
	r = ns_call("POST", &t, "nope", "/approve", super, "{}");
	assert_problem(r, 409);
	resp_free(r);
	r = ns_call("PATCH", &t, "nope", NULL, t.admin, "{\"size\":\"large\"}");
	assert_problem(r, 409);
	resp_free(r);
	long jobs = nst_sql_long("SELECT count(*) FROM jobs WHERE payload->>'namespace_id' = $1", id, NULL);
	cr_assert_eq(jobs, 0, "never queued");
	char *reason = nst_sql("SELECT changes->'approval'->>'reason' FROM audit_log WHERE resource_id = $1 "
			       "AND action = 'namespace.reject'", id, NULL);
	cr_assert_str_eq(reason, "no budget this quarter");
	/* Deleting it frees the name at once: nothing was made in Azure. */
	struct resp *d = delete_ns(&t, "nope");
	cr_assert_eq(d->status, 200, "%s", d->body);
	cr_assert_str_eq(str(d->json, "status"), "deleted");
	char *rg = xasprintf("atrium-%s-nope", t.slug);
	cr_assert_eq(fake_rg_count(rg), 0);
	json_decref(nst_create(&t, "nope", "dev", "westeurope", 202));
	free(rg); resp_free(d); free(reason); free(super); json_decref(ns);
	nst_tenant_free(&t);
}

Test(namespaces, a_kubernetes_namespace_atrium_did_not_create_is_never_adopted_nor_deleted)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *k8s_name = xasprintf("%s-taken", t.slug);
	char *body = xasprintf("{\"cluster_id\":\"%s\",\"name\":\"%s\"}", getenv("ATRIUM_AKS_CLUSTER_ID"), k8s_name);
	json_decref(fake_call("POST", "/_fake/k8s-namespaces", body));
	json_t *ns = nst_create(&t, "taken", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "failed");
	assert_last_error(id, "NamespaceAlreadyExists");
	json_t *m = fake_mns(k8s_name);
	cr_assert_null(m, "ARM refused: no managed namespace");
	/* Deleting the failed namespace leaves the Kubernetes namespace alone. */
	struct resp *d = delete_ns(&t, "taken");
	cr_assert_eq(d->status, 202, "%s", d->body);
	free(st);
	st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	json_t *state = fake_call("GET", "/_fake/state", NULL);
	bool still = false;
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(state, "unmanaged_kubernetes_namespaces"), i, item)
		still |= strcmp(str(item, "name"), k8s_name) == 0;
	cr_assert(still, "the existing Kubernetes namespace is still there");
	json_decref(state); resp_free(d); free(st); json_decref(ns); free(body); free(k8s_name);
	nst_tenant_free(&t);
}

/* ---- drift repair -------------------------------------------------------------- */

/* Makes `id` the only namespace due for drift repair, queues the
 * reconciler and runs jobs until the namespace has been re-read. */
static void reconcile_now(const char *id)
{
	free(nst_sql("UPDATE namespaces SET last_reconciled_at = now() WHERE status IN ('ready', 'degraded') "
		     "AND id <> $1::uuid", id, NULL));
	free(nst_sql("UPDATE namespaces SET last_reconciled_at = NULL WHERE id = $1::uuid", id, NULL));
	struct db_conn *c = db_acquire(DB_PORTAL);
	cr_assert(c && db_scope(c, "*") && jobs_schedule(c, NAMESPACE_RECONCILE, 0));
	db_release(c);
	for (int i = 0; i < 50; i++) {
		jobs_run_one("it-reconcile");
		long done = nst_sql_long("SELECT count(*) FROM namespaces WHERE id = $1::uuid AND "
					 "last_reconciled_at IS NOT NULL", id, NULL);
		if (done)
			return;
		usleep(100000);
	}
	cr_assert_fail("the namespace was not reconciled");
}

Test(namespaces, drift_is_repaired_and_repeated_failures_make_the_namespace_degraded_until_a_repair_works)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	json_t *ns = nst_create(&t, "drift", "dev", "westeurope", 202);
	const char *id = id_of(ns);
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);
	json_t *g = get_ns(&t, "drift", 200);
	cr_assert(json_is_null(json_object_get(g, "last_reconciled_at")));
	const char *mns_id = k8s(g, "id");
	const char *ra_id = str(json_object_get(g, "resources"), "role_assignment_id");
	const char *aks_ra = json_string_value(json_array_get(json_object_get(json_object_get(g, "kubernetes"),
									      "role_assignment_ids"), 0));
	char *rg = xasprintf("atrium-%s-drift", t.slug);

	/* Nothing drifted: nothing is put back, nothing audited. */
	reconcile_now(id);
	long audits = nst_sql_long("SELECT count(*) FROM audit_log WHERE resource_id = $1 AND action IN "
				   "('namespace.repaired', 'namespace.degraded', 'namespace.recovered')", id, NULL);
	cr_assert_eq(audits, 0);

	/* Behind Atrium's back: both role assignments deleted, the quota and
	 * the egress changed. */
	char *b1 = xasprintf("{\"id\":\"%s\"}", ra_id), *b2 = xasprintf("{\"id\":\"%s\"}", aks_ra);
	json_decref(fake_call("DELETE", "/_fake/role-assignments", b1));
	json_decref(fake_call("DELETE", "/_fake/role-assignments", b2));
	char *b3 = xasprintf("{\"id\":\"%s\",\"properties\":{\"defaultResourceQuota\":{\"cpuRequest\":\"64\","
			     "\"cpuLimit\":\"64\",\"memoryRequest\":\"1Gi\",\"memoryLimit\":\"2Gi\"},"
			     "\"defaultNetworkPolicy\":{\"ingress\":\"AllowAll\",\"egress\":\"AllowAll\"}}}", mns_id);
	json_decref(fake_call("PATCH", "/_fake/managed-namespaces", b3));
	cr_assert_eq(fake_ra_count(rg), 0);
	cr_assert_eq(fake_scope_ra_count(mns_id), 0);

	reconcile_now(id);
	cr_assert_eq(fake_ra_count(rg), 1, "the Contributor assignment is back");
	cr_assert_eq(fake_scope_ra_count(mns_id), 1, "the AKS assignment is back");
	char *k8s_name = xasprintf("%s-drift", t.slug);
	json_t *m = fake_mns(k8s_name);
	json_t *mp = json_object_get(m, "properties");
	cr_assert_str_eq(str(json_object_get(mp, "defaultResourceQuota"), "cpuLimit"), "1");
	cr_assert_str_eq(str(json_object_get(mp, "defaultNetworkPolicy"), "ingress"), "AllowSameNamespace");
	json_decref(m);
	char *repaired = nst_sql("SELECT changes->'repaired' #>> '{}' FROM audit_log WHERE resource_id = $1 "
				 "AND action = 'namespace.repaired'", id, NULL);
	cr_assert_not_null(repaired);
	cr_assert(strstr(repaired, "\"role_assignment\"") && strstr(repaired, "aks_namespace_quota_policy") &&
		  strstr(repaired, "aks_role_assignment"), "%s", repaired);
	json_t *g2 = get_ns(&t, "drift", 200);
	cr_assert_str_eq(str(g2, "status"), "ready");
	cr_assert_not_null(str(g2, "last_reconciled_at"));

	/* ARM keeps failing: degraded after three failed repairs, with the error. */
	char *re = xasprintf("resourcegroups/%s$", rg);
	char *fj = xasprintf("{\"match\":{\"method\":\"GET\",\"path_regex\":\"%s\"},\"status\":500,\"times\":-1}", re);
	char *fault = fake_fault(fj);
	for (int i = 0; i < 3; i++) {
		st = nst_status(id);
		cr_assert_str_eq(st, "ready", "still ready after %d failure(s)", i);
		free(st);
		reconcile_now(id);
	}
	st = nst_status(id);
	cr_assert_str_eq(st, "degraded");
	free(st);
	assert_last_error(id, "InternalServerError");
	fake_fault_del(fault);
	/* A degraded namespace can still be resized and deleted; a repair that
	 * works makes it ready again. */
	reconcile_now(id);
	st = nst_status(id);
	cr_assert_str_eq(st, "ready");
	free(st);
	char *actions = nst_sql("SELECT string_agg(action, ',' ORDER BY created_at) FROM audit_log WHERE "
				"resource_id = $1 AND action IN ('namespace.repaired', 'namespace.degraded', "
				"'namespace.recovered')", id, NULL);
	cr_assert_str_eq(actions, "namespace.repaired,namespace.degraded,namespace.recovered");
	struct resp *d = delete_ns(&t, "drift");
	cr_assert_eq(d->status, 202);
	st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	free(st); resp_free(d); free(actions); free(fj); free(re); json_decref(g2); free(repaired);
	free(k8s_name); free(b3); free(b2); free(b1); free(rg); json_decref(g); json_decref(ns);
	nst_tenant_free(&t);
}

/* ---- expiry of dev namespaces ------------------------------------------------ */

/* An RFC 3339 UTC time `seconds` from now (static buffer per call site). */
static void iso_in(long seconds, char out[32])
{
	time_t t = time(NULL) + seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

Test(namespaces, only_a_dev_namespace_expires_and_at_most_30_days_ahead)
{
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	char soon[32], past[32], far[32];
	iso_in(86400, soon);
	iso_in(-60, past);
	iso_in(31L * 86400, far);
	const char *bodies[][2] = {
		{"staging", soon}, /* only dev expires */
		{"dev", past},     /* in the past */
		{"dev", far},      /* more than 30 days ahead */
		{"dev", "tomorrow"},
		{"dev", "2026-02-30T10:00:00Z"},
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *b = xasprintf("{\"name\":\"exp%zu\",\"environment\":\"%s\",\"location\":\"westeurope\","
				    "\"expires_at\":\"%s\"}", i, bodies[i][0], bodies[i][1]);
		struct resp *r = http("POST", path, t.admin, b, NULL);
		assert_problem(r, 422);
		cr_assert(strstr(r->body, "\"expires_at\""), "%s", r->body);
		resp_free(r);
		free(b);
	}
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM namespaces WHERE tenant_id = $1::uuid", t.id, NULL), 0,
		     "nothing was created");
	/* A dev namespace without expiry never expires; null is the same. */
	struct resp *r = http("POST", path, t.admin,
			      "{\"name\":\"keep\",\"environment\":\"dev\",\"location\":\"westeurope\","
			      "\"expires_at\":null}", NULL);
	cr_assert_eq(r->status, 202, "%s", r->body);
	cr_assert(json_is_null(json_object_get(r->json, "expires_at")));
	resp_free(r);
	/* Another environment cannot get one by PATCH either. */
	json_t *st = nst_create(&t, "stage", "staging", "westeurope", 202);
	char *b = xasprintf("{\"expires_at\":\"%s\"}", soon);
	r = ns_call("PATCH", &t, "stage", NULL, t.admin, b);
	assert_problem(r, 422);
	resp_free(r);
	free(b);
	json_decref(st);
	free(path);
	nst_tenant_free(&t);
}

Test(namespaces, an_expired_dev_namespace_is_deleted_by_the_worker_and_expiry_can_be_extended)
{
	struct nst_tenant t, other;
	nst_tenant(&t, true, NULL);
	nst_tenant(&other, true, NULL);
	char day[32], week[32], far[32];
	iso_in(86400, day);
	iso_in(7 * 86400, week);
	iso_in(31L * 86400, far);
	char *path = xasprintf("/v1/tenants/%s/namespaces", t.id);
	char *b = xasprintf("{\"name\":\"temp\",\"environment\":\"dev\",\"location\":\"westeurope\","
			    "\"expires_at\":\"%s\"}", day);
	struct resp *r = http("POST", path, t.admin, b, NULL);
	free(b);
	cr_assert_eq(r->status, 202, "%s", r->body);
	char *id = xstrdup(id_of(r->json));
	const char *exp = str(r->json, "expires_at");
	cr_assert(exp && strncmp(exp, day, 19) == 0, "expires_at %s, asked %s", exp, day);
	resp_free(r);
	char *st = nst_drive(id, ",ready,failed,", 30);
	cr_assert_str_eq(st, "ready");
	free(st);

	/* Extended by its admin (200, no job), not past 30 days, not by another tenant. */
	b = xasprintf("{\"expires_at\":\"%s\"}", week);
	r = ns_call("PATCH", &t, "temp", NULL, t.admin, b);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(strncmp(str(r->json, "expires_at"), week, 19) == 0);
	cr_assert_str_eq(str(r->json, "status"), "ready");
	resp_free(r);
	char *cross = xasprintf("/v1/tenants/%s/namespaces/temp", t.id);
	r = http("PATCH", cross, other.admin, b, NULL);
	assert_problem(r, 404);
	resp_free(r);
	free(b);
	b = xasprintf("{\"expires_at\":\"%s\"}", far);
	r = ns_call("PATCH", &t, "temp", NULL, t.admin, b);
	assert_problem(r, 422);
	resp_free(r);
	free(b);
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM audit_log WHERE resource_id = $1 AND action = $2",
				  id, "namespace.expiry"), 1, "the extension is audited once");

	/* Time passes: the reconcile run deletes it as a DELETE would. */
	free(nst_sql("UPDATE namespaces SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
		     id, NULL));
	reconcile_now(id);
	st = nst_status(id);
	cr_assert(strcmp(st, "deprovisioning") == 0 || strcmp(st, "deleted") == 0, "status %s", st);
	free(st);
	st = nst_drive(id, ",deleted,failed,", 30);
	cr_assert_str_eq(st, "deleted");
	char *rg = xasprintf("atrium-%s-temp", t.slug);
	cr_assert_eq(fake_rg_count(rg), 0, "nothing is left in Azure");
	cr_assert_eq(nst_sql_long("SELECT count(*) FROM audit_log WHERE resource_id = $1 AND action = $2 "
				  "AND actor_kind = 'system'", id, "namespace.expired"), 1);
	free(rg); free(st); free(cross); free(path); free(id);
	nst_tenant_free(&other);
	nst_tenant_free(&t);
}

/* ---- the members group's AKS Writer (dev namespaces) ---------------------------- */

/* The principal of the assignment of role `role_guid` with exactly `scope`
 * in the fake (heap), NULL when there is none; *n: how many such. */
static char *principal_of_role(const char *scope, const char *role_guid, int *n)
{
	json_t *s = fake_call("GET", "/_fake/state", NULL);
	char *found = NULL;
	*n = 0;
	size_t i;
	json_t *ra;
	json_array_foreach(json_object_get(s, "role_assignments"), i, ra) {
		json_t *p = json_object_get(ra, "properties");
		const char *sc = json_string_value(json_object_get(p, "scope"));
		const char *role = json_string_value(json_object_get(p, "roleDefinitionId"));
		if (sc && role && strcasecmp(sc, scope) == 0 && strcasestr(role, role_guid)) {
			(*n)++;
			free(found);
			found = xstrdup(json_string_value(json_object_get(p, "principalId")));
		}
	}
	json_decref(s);
	return found;
}

Test(namespaces, a_dev_namespace_gives_the_members_group_aks_writer_which_follows_the_group)
{
	const char *writer = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"; /* AKS RBAC Writer */
	struct nst_tenant t;
	nst_tenant(&t, true, NULL);
	char *super = super_token();
	char *tp = xasprintf("/v1/tenants/%s", t.id);
	char m1[37], m2[37], body[128];
	random_uuid(m1);
	random_uuid(m2);
	snprintf(body, sizeof(body), "{\"aad_members_group_id\":\"%s\"}", m1);
	struct resp *r = http("PATCH", tp, super, body, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(str(r->json, "aad_members_group_id"), m1);
	resp_free(r);
	/* A malformed group id is refused. */
	r = http("PATCH", tp, t.admin, "{\"aad_members_group_id\":\"not-a-uuid\"}", NULL);
	assert_problem(r, 422);
	resp_free(r);

	json_t *a = nst_create(&t, "work", "dev", "westeurope", 202);
	json_t *b = nst_create(&t, "stage", "staging", "westeurope", 202);
	char *sa = nst_drive(id_of(a), ",ready,failed,", 30);
	char *sb = nst_drive(id_of(b), ",ready,failed,", 30);
	cr_assert_str_eq(sa, "ready");
	cr_assert_str_eq(sb, "ready");
	char *ka = mns_scope(&t, "work"), *kb = mns_scope(&t, "stage");
	int n;
	char *p = principal_of_role(ka, writer, &n);
	cr_assert_eq(n, 1, "the dev namespace has one Writer assignment");
	cr_assert_str_eq(p, m1, "for the members group");
	free(p);
	cr_assert_eq(fake_scope_ra_count(ka), 2, "admin and members");
	p = principal_of_role(kb, writer, &n);
	cr_assert_eq(n, 0, "members get nothing outside dev");
	cr_assert_null(p);
	cr_assert_eq(fake_scope_ra_count(kb), 1, "admin only");
	json_t *g = get_ns(&t, "work", 200);
	const char *mid = k8s(g, "members_role_assignment_id");
	cr_assert(mid && strncasecmp(mid, ka, strlen(ka)) == 0, "%s", mid);
	char *ra_id = xstrdup(mid);
	json_decref(g);

	/* A new members group: the Writer assignment moves to it. */
	snprintf(body, sizeof(body), "{\"aad_members_group_id\":\"%s\"}", m2);
	r = http("PATCH", tp, super, body, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	cr_assert(nst_drain_kind(t.id, "namespace.regrant", 30));
	p = principal_of_role(ka, writer, &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(p, m2, "the Writer assignment names the new members group");
	free(p);

	/* Deleted behind Atrium's back: drift repair puts it back. */
	char *rb = xasprintf("{\"id\":\"%s\"}", ra_id);
	json_decref(fake_call("DELETE", "/_fake/role-assignments", rb));
	p = principal_of_role(ka, writer, &n);
	cr_assert_eq(n, 0);
	reconcile_now(id_of(a));
	p = principal_of_role(ka, writer, &n);
	cr_assert_eq(n, 1, "repaired");
	cr_assert_str_eq(p, m2);
	free(p);

	/* Cleared: it goes. */
	r = http("PATCH", tp, super, "{\"aad_members_group_id\":null}", NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	cr_assert(nst_drain_kind(t.id, "namespace.regrant", 30));
	p = principal_of_role(ka, writer, &n);
	cr_assert_eq(n, 0, "no members group, no Writer");
	g = get_ns(&t, "work", 200);
	cr_assert(json_is_null(json_object_get(json_object_get(g, "kubernetes"), "members_role_assignment_id")));
	json_decref(g);
	free(rb); free(ra_id); free(ka); free(kb); free(sa); free(sb); free(tp); free(super);
	json_decref(a); json_decref(b);
	nst_tenant_free(&t);
}
