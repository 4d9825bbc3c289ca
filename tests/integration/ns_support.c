/*
 * ns_support.c - see ns_support.h.
 */
#include "ns_support.h"
#include "client.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/outbound/azure_token.h"
#include "server/outbound/blob.h"
#include "server/common/config.h"
#include "server/store/db.h"
#include "server/jobs/jobs.h"
#include "workers/namespace_jobs.h"
#include "workers/tenant_jobs.h"
#include "services/namespaces.h"
#include "services/portal.h"
#include "server/common/util.h"

static PGconn *pg;

void nst_setup(void)
{
	/* Short enough for the slow-answer tests, long enough for a loaded CI. */
	setenv("ATRIUM_OUTBOUND_TIMEOUT_MS", "1500", 1);
	cr_assert(config_load());
	jobs_register();
	portal_register();
	namespaces_register();
	namespace_jobs_register();
	tenant_jobs_register();
	db_start(8);
	pg = db_connect("ATRIUM_DB_PORTAL_URL");
	PQclear(PQexec(pg, "SELECT set_config('atrium.tenant_id', '*', false)"));
	/* Leftovers of earlier runs must not be claimed by these tests. */
	PQclear(PQexec(pg, "UPDATE jobs SET status = 'failed' WHERE kind LIKE 'namespace.%' "
			   "AND status IN ('queued', 'running')"));
	json_decref(fake_call("POST", "/_fake/config", "{\"async_put\":false}"));
	json_decref(fake_call("DELETE", "/_fake/faults", NULL));
}

void nst_teardown(void)
{
	PQfinish(pg);
	pg = NULL;
	azure_token_reset();
	db_stop();
	config_free();
}

char *nst_sql(const char *sql, const char *p1, const char *p2)
{
	const char *v[] = {p1, p2};
	int n = p2 ? 2 : p1 ? 1 : 0;
	PGresult *res = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK,
		  "%s: %s", sql, PQresultErrorMessage(res));
	char *out = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? xstrdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	return out;
}

long nst_sql_long(const char *sql, const char *p1, const char *p2)
{
	char *s = nst_sql(sql, p1, p2);
	cr_assert_not_null(s, "%s returned no value", sql);
	long n = atol(s);
	free(s);
	return n;
}

void nst_tenant(struct nst_tenant *t, bool with_admin_group, const char *slug)
{
	memset(t, 0, sizeof(*t));
	char u[37];
	random_uuid(u);
	random_uuid(t->aad);
	if (slug)
		snprintf(t->slug, sizeof(t->slug), "%s", slug);
	else
		snprintf(t->slug, sizeof(t->slug), "n%.10s", u);
	if (with_admin_group)
		random_uuid(t->admin_group);
	json_t *req = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "slug", t->slug, "name", t->slug,
				"aad_tenant_id", t->aad, "tags", "Owner", "owner@example.test",
				"CostCenter", "CC-42");
	if (with_admin_group)
		json_object_set_new(req, "aad_admin_group_id", json_string(t->admin_group));
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	char *tok = super_token();
	struct resp *r = http("POST", "/v1/tenants", tok, body, NULL);
	cr_assert_eq(r->status, 201, "create tenant: %ld %s", r->status, r->body ? r->body : "");
	snprintf(t->id, sizeof(t->id), "%s", json_string_value(json_object_get(r->json, "id")));
	resp_free(r);
	free(tok);
	free(body);
	t->admin = mint(t->aad, "5a5a5a5a-0000-4000-8000-00000000b001", "tenant_admin", NULL);
}

void nst_tenant_free(struct nst_tenant *t)
{
	free(t->admin);
	t->admin = NULL;
}

json_t *nst_create(const struct nst_tenant *t, const char *name, const char *env,
		   const char *location, long want)
{
	json_t *req = json_pack("{s:s, s:s, s:s}", "name", name, "environment", env, "location", location);
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	char *path = xasprintf("/v1/tenants/%s/namespaces", t->id);
	struct resp *r = http("POST", path, t->admin, body, NULL);
	cr_assert_eq(r->status, want, "create namespace %s: %ld %s", name, r->status, r->body ? r->body : "");
	json_t *out = json_incref(r->json);
	resp_free(r);
	free(path);
	free(body);
	return out;
}

char *nst_status(const char *ns_id)
{
	return nst_sql("SELECT status FROM namespaces WHERE id = $1", ns_id, NULL);
}

static bool status_in(const char *status, const char *until)
{
	char want[64];
	snprintf(want, sizeof(want), ",%s,", status ? status : "");
	return strstr(until, want) != NULL;
}

char *nst_drive(const char *ns_id, const char *until, int timeout_s)
{
	uint64_t deadline = util_now_ns() + (uint64_t)timeout_s * 1000000000ULL;
	for (;;) {
		char *st = nst_status(ns_id);
		if (status_in(st, until) || util_now_ns() > deadline)
			return st;
		free(st);
		if (!jobs_run_one("it-namespaces"))
			usleep(100000);
	}
}

char *nst_wait(const char *ns_id, const char *until, int timeout_s)
{
	uint64_t deadline = util_now_ns() + (uint64_t)timeout_s * 1000000000ULL;
	for (;;) {
		char *st = nst_status(ns_id);
		if (status_in(st, until) || util_now_ns() > deadline)
			return st;
		free(st);
		usleep(100000);
	}
}

char *nst_job(const char *ns_id, const char *expr)
{
	char *sql = xasprintf("SELECT (%s)::text FROM jobs j JOIN namespaces n ON n.job_id = j.id "
			      "WHERE n.id = $1", expr);
	char *out = nst_sql(sql, ns_id, NULL);
	free(sql);
	return out;
}

/* ---- fake ARM ----------------------------------------------------------- */

json_t *fake_call(const char *method, const char *path, const char *body)
{
	cr_assert_not_null(cfg.arm_url);
	struct resp *r = http_at(cfg.arm_url, method, path, NULL, body, NULL);
	cr_assert(r->status >= 200 && r->status < 300, "fake ARM %s %s: %ld %s", method, path, r->status,
		  r->body ? r->body : "");
	json_t *out = json_incref(r->json);
	resp_free(r);
	return out;
}

char *fake_fault(const char *json)
{
	json_t *f = fake_call("POST", "/_fake/faults", json);
	const char *id = json_string_value(json_object_get(f, "id"));
	cr_assert_not_null(id, "no fault id");
	char *out = xstrdup(id);
	json_decref(f);
	return out;
}

void fake_fault_del(char *id)
{
	char *path = xasprintf("/_fake/faults/%s", id);
	struct resp *r = http_at(cfg.arm_url, "DELETE", path, NULL, NULL, NULL);
	resp_free(r); /* 404 when it was used up: fine */
	free(path);
	free(id);
}

int fake_count(const char *method, const char *path_regex)
{
	char *path = xasprintf("/_fake/requests?kind=arm&method=%s&path_regex=%s", method, path_regex);
	json_t *r = fake_call("GET", path, NULL);
	int n = (int)json_integer_value(json_object_get(r, "count"));
	json_decref(r);
	free(path);
	return n;
}

int fake_rg_count(const char *name)
{
	json_t *s = fake_call("GET", "/_fake/state", NULL);
	int n = 0;
	size_t i;
	json_t *rg;
	json_array_foreach(json_object_get(s, "resource_groups"), i, rg) {
		const char *rn = json_string_value(json_object_get(rg, "name"));
		if (rn && strcasecmp(rn, name) == 0)
			n++;
	}
	json_decref(s);
	return n;
}

int fake_ra_count(const char *rg)
{
	json_t *s = fake_call("GET", "/_fake/state", NULL);
	char *suffix = xasprintf("/resourceGroups/%s", rg);
	int n = 0;
	size_t i;
	json_t *ra;
	json_array_foreach(json_object_get(s, "role_assignments"), i, ra) {
		const char *scope = json_string_value(json_object_get(json_object_get(ra, "properties"), "scope"));
		size_t sl = scope ? strlen(scope) : 0, fl = strlen(suffix);
		if (sl >= fl && strcasecmp(scope + sl - fl, suffix) == 0)
			n++;
	}
	free(suffix);
	json_decref(s);
	return n;
}

json_t *fake_mns(const char *name)
{
	json_t *s = fake_call("GET", "/_fake/state", NULL);
	json_t *found = NULL;
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(s, "managed_namespaces"), i, m) {
		const char *n = json_string_value(json_object_get(m, "name"));
		if (n && strcmp(n, name) == 0) {
			cr_assert_null(found, "one managed namespace named %s", name);
			found = json_incref(m);
		}
	}
	json_decref(s);
	return found;
}

int fake_scope_ra_count(const char *scope)
{
	json_t *s = fake_call("GET", "/_fake/state", NULL);
	int n = 0;
	size_t i;
	json_t *ra;
	json_array_foreach(json_object_get(s, "role_assignments"), i, ra) {
		const char *sc = json_string_value(json_object_get(json_object_get(ra, "properties"), "scope"));
		if (sc && strcasecmp(sc, scope) == 0)
			n++;
	}
	json_decref(s);
	return n;
}

/* The principal of the one role assignment whose scope is `scope` (or,
 * with suffix, ends with it); NULL when none. */
static char *principal_on(const char *scope, bool suffix)
{
	json_t *s = fake_call("GET", "/_fake/state", NULL);
	char *found = NULL;
	int n = 0;
	size_t i, fl = strlen(scope);
	json_t *ra;
	json_array_foreach(json_object_get(s, "role_assignments"), i, ra) {
		json_t *p = json_object_get(ra, "properties");
		const char *sc = json_string_value(json_object_get(p, "scope"));
		size_t sl = sc ? strlen(sc) : 0;
		if (sc && (suffix ? sl >= fl && strcasecmp(sc + sl - fl, scope) == 0
				  : strcasecmp(sc, scope) == 0)) {
			n++;
			free(found);
			found = xstrdup(json_string_value(json_object_get(p, "principalId")));
		}
	}
	cr_assert(n <= 1, "%d role assignments on %s", n, scope);
	json_decref(s);
	return found;
}

char *fake_ra_principal(const char *rg)
{
	char *suffix = xasprintf("/resourceGroups/%s", rg);
	char *p = principal_on(suffix, true);
	free(suffix);
	return p;
}

char *fake_scope_ra_principal(const char *scope)
{
	return principal_on(scope, false);
}

bool nst_drain_kind(const char *tenant_id, const char *kind, int timeout_s)
{
	uint64_t deadline = util_now_ns() + (uint64_t)timeout_s * 1000000000ULL;
	for (;;) {
		long left = nst_sql_long("SELECT count(*) FROM jobs WHERE tenant_id = $1::uuid AND kind = $2 "
					 "AND status IN ('queued', 'running')", tenant_id, kind);
		if (left == 0)
			return true;
		if (util_now_ns() > deadline)
			return false;
		if (!jobs_run_one("it-namespaces"))
			usleep(100000);
	}
}

long fake_counter(const char *name)
{
	json_t *s = fake_call("GET", "/_fake/state", NULL);
	json_t *v = json_object_get(json_object_get(s, "counters"), name);
	long n = json_is_integer(v) ? (long)json_integer_value(v) : 0;
	json_decref(s);
	return n;
}

bool nst_container_exists(const char *name)
{
	struct outbound_result r = {0};
	blob_container_get(NULL, name, &r);
	cr_assert(r.cls == OUT_OK || r.status == 404, "Azurite: %s %s", r.code, r.message);
	bool exists = r.cls == OUT_OK;
	outbound_result_clear(&r);
	return exists;
}

/* ---- processes ----------------------------------------------------------- */

int nst_stop(pid_t pid, int sig, int timeout_s)
{
	kill(pid, sig);
	int status = 0;
	for (int i = 0; i < timeout_s * 10; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

unsigned short nst_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

bool nst_log_clean(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return true;
	char line[4096];
	bool clean = true;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "ERROR: AddressSanitizer") || strstr(line, "ERROR: LeakSanitizer") ||
		    strstr(line, "runtime error:"))
			clean = false;
	fclose(f);
	return clean;
}

char *nst_log_path(const char *what)
{
	const char *dir = getenv("ATRIUM_TEST_RUNDIR");
	char u[37];
	random_uuid(u);
	return xasprintf("%s/%s-%.8s.log", dir && *dir ? dir : "/tmp", what, u);
}
