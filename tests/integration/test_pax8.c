/*
 * Integration: the Pax8 Partner API pulls through the fake Pax8
 * (tests/fake-pax8) — every page of a company's subscriptions with their
 * products and usage, 429 with Retry-After then success, an outage then
 * recovery, an expired token replaced, a pull triggered by a webhook
 * event, events kept unmatched until the tenant gets the company id, the
 * billing reports and their CSV (PostgreSQL's quoting), tenant isolation,
 * and no secret or token in answers or logs.
 *
 * Jobs run in this process (jobs_run_one) or in a worker scripts/test
 * started; the assertions only look at outcomes, so either works.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atrium_build.h"
#include "client.h"
#include "server/common/config.h"
#include "server/common/util.h"
#include "server/jobs/jobs.h"
#include "server/store/db.h"
#include "services/pax8.h"
#include "services/portal.h"
#include "services/webhooks.h"
#include "workers/pax8_jobs.h"
#include "workers/webhook_jobs.h"

static PGconn *billing, *portal;
static char fake[256];

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* Short retries in this process; Retry-After still decides for 429. */
	setenv("ATRIUM_JOB_BACKOFF_BASE_MS", "200", 1);
	setenv("ATRIUM_JOB_BACKOFF_CAP_MS", "1000", 1);
	cr_assert(config_load());
	cr_assert(cfg.pax8_client_id && cfg.pax8_api_url, "the stack's ATRIUM_PAX8_* must be set");
	/* The fake's base: the API URL without its /v1. */
	snprintf(fake, sizeof(fake), "%s", cfg.pax8_api_url);
	char *v1 = strstr(fake, "/v1");
	cr_assert_not_null(v1);
	*v1 = '\0';
	portal_register();
	jobs_register();
	webhooks_register();
	webhook_jobs_register();
	pax8_register();
	pax8_jobs_register();
	db_start(6);
	billing = db_connect("ATRIUM_DB_BILLING_URL");
	portal = db_connect("ATRIUM_DB_PORTAL_URL");
	PQclear(PQexec(billing, "SELECT set_config('atrium.tenant_id', '*', false)"));
	PQclear(PQexec(portal, "SELECT set_config('atrium.tenant_id', '*', false)"));
}

static void teardown(void)
{
	PQfinish(billing);
	PQfinish(portal);
	db_stop();
	config_free();
	curl_global_cleanup();
}

TestSuite(pax8, .init = setup, .fini = teardown, .timeout = 180);

/* ---- helpers ------------------------------------------------------------ */

static json_t *fake_call(const char *method, const char *path, const char *body)
{
	const char *headers[] = {"Content-Type: application/json", NULL};
	struct resp *r = http_at(fake, method, path, NULL, body, headers);
	cr_assert(r->status >= 200 && r->status < 300, "fake %s %s: %ld %s", method, path, r->status,
		  r->body ? r->body : "");
	json_t *j = json_incref(r->json);
	resp_free(r);
	return j;
}

/* A new fake company, its id (heap). */
static char *fake_company(void)
{
	json_t *c = fake_call("POST", "/_fake/companies", "{\"name\":\"Contoso\"}");
	char *id = xstrdup(json_string_value(json_object_get(c, "id")));
	json_decref(c);
	return id;
}

static char *fake_product(const char *name)
{
	json_t *in = json_pack("{s:s, s:s}", "name", name, "vendorName", "Microsoft");
	char *body = json_dumps(in, JSON_COMPACT);
	json_t *p = fake_call("POST", "/_fake/products", body);
	char *id = xstrdup(json_string_value(json_object_get(p, "id")));
	json_decref(p);
	json_decref(in);
	free(body);
	return id;
}

static char *fake_subscription(const char *company, const char *product, int quantity,
			       const char *price, const char *term)
{
	char *body = xasprintf("{\"companyId\":\"%s\",\"productId\":\"%s\",\"quantity\":%d,"
			       "\"price\":%s,\"billingTerm\":\"%s\",\"currencyCode\":\"USD\","
			       "\"startDate\":\"2026-01-01T00:00:00Z\"}",
			       company, product, quantity, price, term);
	json_t *s = fake_call("POST", "/_fake/subscriptions", body);
	char *id = xstrdup(json_string_value(json_object_get(s, "id")));
	json_decref(s);
	free(body);
	return id;
}

/* A fault on `path_re` for requests whose query has `query_re` (NULL:
 * any): other tests' pulls of other companies never meet it. */
static void fake_fault(const char *path_re, const char *query_re, int status, int count, int retry_after)
{
	json_t *f = json_pack("{s:s, s:i, s:i}", "path", path_re, "status", status, "count", count);
	if (query_re)
		json_object_set_new(f, "query", json_string(query_re));
	if (retry_after >= 0)
		json_object_set_new(f, "retryAfter", json_integer(retry_after));
	char *body = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	json_decref(fake_call("POST", "/_fake/faults", body));
	free(body);
}

/* How many requests the fake logged whose path contains `path` with
 * `status` (0: any) and whose query contains `query` (NULL: any). */
static int fake_count(const char *path, long status, const char *query)
{
	json_t *log = fake_call("GET", "/_fake/requests", NULL);
	int n = 0;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(log, "requests"), i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *q = json_string_value(json_object_get(e, "query"));
		if (p && strstr(p, path) && (status == 0 || json_integer_value(json_object_get(e, "status")) == status) &&
		    (query == NULL || (q && strstr(q, query))))
			n++;
	}
	json_decref(log);
	return n;
}

static char *q1(PGconn *pg, const char *sql, const char *p1, const char *p2)
{
	const char *v[] = {p1, p2};
	int n = p2 ? 2 : p1 ? 1 : 0;
	PGresult *res = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
	char *out = PQntuples(res) && !PQgetisnull(res, 0, 0) ? xstrdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	return out;
}

static long qn(PGconn *pg, const char *sql, const char *p1, const char *p2)
{
	char *s = q1(pg, sql, p1, p2);
	long n = s ? atol(s) : 0;
	free(s);
	return n;
}

/* Runs jobs until the tenant has none queued or running, and no webhook
 * event of `account` is still `received`. */
static void drain(const char *tenant, const char *account)
{
	for (int i = 0; i < 1200; i++) {
		long busy = qn(portal, "SELECT count(*) FROM jobs WHERE tenant_id = $1::uuid "
				       "AND status IN ('queued', 'running')", tenant, NULL);
		if (account)
			busy += qn(billing, "SELECT count(*) FROM webhook_inbox WHERE account_id = $1 "
					    "AND status = 'received'", account, NULL);
		if (busy == 0)
			return;
		if (!jobs_run_one("test-pax8"))
			usleep(50000);
	}
	cr_assert_fail("the jobs of tenant %s did not finish in time", tenant);
}

/* A job of the tenant: "status attempts last_error.code" of the newest of `kind`. */
static char *job_summary(const char *tenant, const char *kind)
{
	return q1(portal, "SELECT status || ' ' || attempts || ' ' || COALESCE(last_error->>'code', '-') "
			  "FROM jobs WHERE tenant_id = $1::uuid AND kind = $2 ORDER BY created_at DESC LIMIT 1",
		  tenant, kind);
}

/* The jobs of `kind` of the tenant, as "status/attempts" sorted: workers
 * other tests start queue their own syncs, so a company may be pulled by
 * more than one job; assertions hold for any of them. */
static char *jobs_of(const char *tenant, const char *kind)
{
	return q1(portal, "SELECT string_agg(status || '/' || attempts, ',' ORDER BY attempts DESC, status) "
			  "FROM jobs WHERE tenant_id = $1::uuid AND kind = $2", tenant, kind);
}

static void patch_company(const char *tenant, const char *company)
{
	char *tok = super_token();
	char *body = xasprintf("{\"pax8_company_id\":\"%s\"}", company);
	char *path = xasprintf("/v1/tenants/%s", tenant);
	struct resp *r = http("PATCH", path, tok, body, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	free(path);
	free(body);
	free(tok);
}

/* A tenant mapped to a new fake company; the company id (heap). */
static char *mapped_tenant(struct tenant *t)
{
	create_tenant(t);
	char *company = fake_company();
	patch_company(t->id, company);
	return company;
}

static char *viewer_token(const struct tenant *t)
{
	char oid[37];
	random_uuid(oid);
	return mint(t->aad, oid, "billing_viewer", NULL);
}

static struct resp *get_as(const char *token, const char *path, const char *accept)
{
	char *h = accept ? xasprintf("Accept: %s", accept) : NULL;
	const char *headers[] = {h, NULL};
	struct resp *r = http("GET", path, token, NULL, h ? headers : NULL);
	free(h);
	return r;
}

static long subs_count(const char *tenant, const char *cond)
{
	char *sql = xasprintf("SELECT count(*) FROM subscriptions WHERE tenant_id = $1::uuid AND %s", cond);
	long n = qn(billing, sql, tenant, NULL);
	free(sql);
	return n;
}

/* ---- pulls -------------------------------------------------------------- */

Test(pax8, a_pull_reads_every_page_with_products_prices_and_usage)
{
	struct tenant t;
	create_tenant(&t);
	char *company = fake_company();
	char *product = fake_product("Microsoft 365 Business Premium");
	enum { N = 401 }; /* three pages of 200 */
	char *last = NULL;
	for (int i = 0; i < N; i++) {
		free(last);
		last = fake_subscription(company, product, 1 + i % 5, "22.00", i % 2 ? "Annual" : "Monthly");
	}
	char *ub = xasprintf("{\"subscriptionId\":\"%s\",\"currentCharges\":12.34,\"partnerTotal\":10.5}", last);
	json_decref(fake_call("POST", "/_fake/usage-summaries", ub));
	patch_company(t.id, company);
	drain(t.id, NULL);

	cr_assert_eq(subs_count(t.id, "source = 'api' AND synced_at IS NOT NULL"), N);
	char *pages = xasprintf("companyId=%s&page=2", company);
	cr_assert_geq(fake_count("/v1/subscriptions", 200, pages), 1, "the third page was read");
	cr_assert_eq(subs_count(t.id, "product_name = 'Microsoft 365 Business Premium' "
				     "AND vendor_name = 'Microsoft' AND price_minor = 2200 AND currency = 'USD'"),
		     N);
	/* Monthly cost: quantity x price, an annual price over 12 months. */
	char *cost = q1(billing, "SELECT subscription_monthly_minor(s)::text FROM subscriptions s "
				 "WHERE tenant_id = $1::uuid AND external_id = $2", t.id, last);
	char *term = q1(billing, "SELECT billing_term || ' ' || quantity FROM subscriptions "
				 "WHERE tenant_id = $1::uuid AND external_id = $2", t.id, last);
	cr_assert_str_eq(term, "Monthly 1"); /* i = 400: monthly, quantity 1 */
	cr_assert_str_eq(cost, "2200");
	char *usage = q1(billing, "SELECT amount_minor || ' ' || partner_total_minor || ' ' || source "
				  "FROM usage_lines WHERE tenant_id = $1::uuid AND subscription_id = $2",
			 t.id, last);
	cr_assert_str_eq(usage, "1234 1050 api");
	char *job = jobs_of(t.id, PAX8_PULL_COMPANY_KIND);
	cr_assert(strstr(job, "failed") == NULL, "%s", job);

	/* A second pull changes nothing but synced_at: idempotent. */
	const char *v[] = {t.id, company};
	PGresult *res = PQexecParams(portal, "INSERT INTO jobs (tenant_id, kind, payload) VALUES ($1::uuid, "
					     "'pax8.pull_company', json_build_object('tenant_id', $1::text, "
					     "'company_id', $2::text))", 2, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
	PQclear(res);
	drain(t.id, NULL);
	cr_assert_eq(subs_count(t.id, "true"), N);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM usage_lines WHERE tenant_id = $1::uuid", t.id, NULL), 1);
	free(job); free(usage); free(cost); free(term); free(pages); free(ub); free(last);
	free(product); free(company);
}

Test(pax8, a_429_waits_for_retry_after_then_succeeds)
{
	struct tenant t;
	create_tenant(&t);
	char *company = fake_company();
	char *product = fake_product("Exchange Online");
	free(fake_subscription(company, product, 2, "4.00", "Monthly"));
	char *q = xasprintf("companyId=%s", company);
	fake_fault("^/v1/subscriptions$", q, 429, 1, 1);
	patch_company(t.id, company);
	drain(t.id, NULL);
	cr_assert_eq(fake_count("/v1/subscriptions", 429, q), 1, "the fake throttled the pull once");
	char *jobs = jobs_of(t.id, PAX8_PULL_COMPANY_KIND);
	cr_assert(strncmp(jobs, "succeeded/2", 11) == 0 && strstr(jobs, "failed") == NULL,
		  "the throttled pull succeeded on its second attempt: %s", jobs);
	cr_assert_eq(subs_count(t.id, "price_minor = 400"), 1);
	/* The retry came no sooner than Retry-After (1 s) after the 429. */
	char *gap = q1(portal, "SELECT (updated_at - created_at >= interval '1 second')::text FROM jobs "
			       "WHERE tenant_id = $1::uuid AND kind = 'pax8.pull_company' AND attempts = 2",
		       t.id, NULL);
	cr_assert_str_eq(gap, "true");
	free(gap); free(jobs); free(q); free(product); free(company);
}

Test(pax8, an_outage_retries_the_job_and_it_recovers)
{
	struct tenant t;
	create_tenant(&t);
	char *company = fake_company();
	char *product = fake_product("Azure plan");
	free(fake_subscription(company, product, 1, "100.00", "Monthly"));
	char *q = xasprintf("companyId=%s", company);
	fake_fault("^/v1/subscriptions$", q, 503, 3, -1);
	patch_company(t.id, company);
	drain(t.id, NULL);
	cr_assert_eq(fake_count("/v1/subscriptions", 503, q), 3, "three answers of the outage");
	char *jobs = jobs_of(t.id, PAX8_PULL_COMPANY_KIND);
	cr_assert(strstr(jobs, "failed") == NULL && strncmp(jobs, "succeeded/", 10) == 0 && atoi(jobs + 10) >= 2,
		  "the pull was retried through the outage and succeeded: %s", jobs);
	cr_assert_eq(subs_count(t.id, "price_minor = 10000"), 1);
	free(jobs); free(q); free(product); free(company);
}

Test(pax8, an_expired_token_is_replaced_after_a_401)
{
	struct tenant t;
	create_tenant(&t);
	char *company = fake_company();
	char *product = fake_product("Defender");
	free(fake_subscription(company, product, 1, "3.00", "Monthly"));
	patch_company(t.id, company);
	drain(t.id, NULL);
	int tokens_before = fake_count("/oauth/token", 200, NULL);
	int refused_before = fake_count("/v1/subscriptions", 401, NULL);
	json_decref(fake_call("POST", "/_fake/expire-tokens", "{}"));
	free(fake_subscription(company, product, 7, "3.00", "Monthly"));
	patch_company(t.id, company); /* queues another pull */
	drain(t.id, NULL);
	cr_assert_eq(subs_count(t.id, "true"), 2);
	cr_assert_gt(fake_count("/v1/subscriptions", 401, NULL), refused_before, "the old token was refused");
	cr_assert_gt(fake_count("/oauth/token", 200, NULL), tokens_before, "a new token was fetched");
	char *jobs = jobs_of(t.id, PAX8_PULL_COMPANY_KIND);
	cr_assert(strncmp(jobs, "succeeded/1", 11) == 0, "a 401 costs no retry: %s", jobs);
	free(jobs); free(product); free(company);
}

/* `atrium worker` with a short lease. */
static const char *const short_lease[] = {"ATRIUM_JOB_LEASE_SECONDS=2", "ATRIUM_WORKER_POLL_MS=200",
					  "ATRIUM_WORKER_METRICS_LISTEN=", NULL};

Test(pax8, a_worker_killed_mid_pull_leaves_a_job_that_another_worker_finishes)
{
	struct tenant t;
	create_tenant(&t);
	char *company = fake_company();
	char *product = fake_product("Killed mid-pull");
	enum { N = 60 };
	char *sub = NULL, *first = NULL;
	for (int i = 0; i < N; i++) {
		free(sub);
		sub = fake_subscription(company, product, 1, "2.00", "Monthly");
		if (first == NULL)
			first = xstrdup(sub);
	}
	/* The first subscription's usage answers slowly: the worker is then
	 * inside the second step. */
	char *fault = xasprintf("{\"path\":\"^/v1/subscriptions/%s/usage-summaries$\",\"status\":0,"
				"\"delayMs\":4000,\"count\":1}", first);
	json_decref(fake_call("POST", "/_fake/faults", fault));
	char log[512];
	snprintf(log, sizeof(log), "%s/pax8-kill-%d.log", getenv("ATRIUM_TEST_RUNDIR") ?: "/tmp", getpid());
	pid_t w = spawn_worker(log, short_lease);
	patch_company(t.id, company);
	/* Wait for the slow usage call (its fault is used up when it
	 * starts), then kill the worker in it. */
	for (int i = 0; i < 1500; i++) {
		json_t *faults = fake_call("GET", "/_fake/faults", NULL);
		bool hit = json_array_size(json_object_get(faults, "faults")) == 0;
		json_decref(faults);
		if (hit)
			break;
		usleep(20000);
	}
	kill(w, SIGKILL);
	int st;
	waitpid(w, &st, 0);
	char *mid = q1(portal, "SELECT id::text FROM jobs WHERE tenant_id = $1::uuid AND kind = 'pax8.pull_company' "
			       "AND status = 'running' AND steps @> '[{\"name\":\"subscriptions\"}]'", t.id, NULL);
	cr_assert_not_null(mid, "a pull was cut short while running, after its first step");
	cr_assert_eq(subs_count(t.id, "true"), N, "the first step was done");
	/* Another worker takes the job once its lease ends, and finishes it. */
	w = spawn_worker(log, short_lease);
	char *end = NULL;
	for (int i = 0; i < 600; i++) {
		free(end);
		end = q1(portal, "SELECT status FROM jobs WHERE id = $1::uuid", mid, NULL);
		if (strcmp(end, "succeeded") == 0)
			break;
		usleep(50000);
	}
	kill(w, SIGTERM);
	waitpid(w, &st, 0);
	cr_assert_str_eq(end, "succeeded");
	cr_assert_eq(subs_count(t.id, "true"), N, "each subscription once");
	char *steps = q1(portal, "SELECT string_agg(s->>'name', ',') FROM jobs j, jsonb_array_elements(j.steps) s "
				 "WHERE j.id = $1::uuid", mid, NULL);
	cr_assert_str_eq(steps, "subscriptions,usage", "the first step was not run again");
	char *attempts = q1(portal, "SELECT attempts::text FROM jobs WHERE id = $1::uuid", mid, NULL);
	cr_assert_str_eq(attempts, "2");
	free(attempts);
	unlink(log);
	free(steps); free(end); free(mid); free(sub); free(first); free(fault); free(product); free(company);
}

/* ---- webhooks ----------------------------------------------------------- */


/* Posts a Pax8 SUBSCRIPTION.UPDATED event for (company, subscription). */
static void post_subscription_event(const char *company, const char *sub, char event_id[37])
{
	random_uuid(event_id);
	const char *subs[] = {"EVENT_ID", event_id, "SENT_AT", "2026-03-05T10:00:00Z", "ACTION", "UPDATED",
			      "SUBSCRIPTION_ID", sub, "COMPANY_ID", company, "QUANTITY", "1",
			      "START_DATE", "2026-01-02T00:00:00Z", "UPDATED_AT", "2026-03-05T09:59:00Z",
			      "STATUS", "Active", NULL};
	char *body = fixture("pax8_subscription_updated.json", subs);
	char *h = xasprintf("Authorization: %s", getenv("ATRIUM_PAX8_WEBHOOK_SECRET"));
	const char *headers[] = {"Content-Type: application/json", h, NULL};
	struct resp *r = http("POST", "/v1/webhooks/pax8", NULL, body, headers);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	free(h);
	free(body);
}

Test(pax8, a_subscription_webhook_triggers_a_pull_of_that_subscription)
{
	struct tenant t;
	create_tenant(&t);
	char *company = fake_company();
	char *product = fake_product("Teams Premium");
	/* Mapped with no pull yet: the company is set directly. */
	const char *v[] = {company, t.id};
	PGresult *res = PQexecParams(portal, "UPDATE tenants SET pax8_company_id = $1 WHERE id = $2::uuid",
				     2, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	char *sub = fake_subscription(company, product, 9, "7.50", "Monthly");
	char ev[37];
	post_subscription_event(company, sub, ev);
	drain(t.id, company);
	/* The webhook said quantity 1 and no price; the API says 9 x 7.50. */
	char *row = q1(billing, "SELECT quantity || ' ' || price_minor || ' ' || product_name || ' ' || source "
				"FROM subscriptions WHERE tenant_id = $1::uuid AND external_id = $2", t.id, sub);
	cr_assert_str_eq(row, "9 750 Teams Premium api");
	char *job = jobs_of(t.id, PAX8_PULL_SUBSCRIPTION_KIND);
	cr_assert_str_eq(job, "succeeded/1");
	char *path = xasprintf("/v1/subscriptions/%s", sub);
	cr_assert_geq(fake_count(path, 200, NULL), 1);
	free(path); free(job); free(row); free(sub); free(product); free(company);
}

Test(pax8, events_for_an_unknown_company_are_processed_once_the_tenant_gets_its_id)
{
	struct tenant t;
	create_tenant(&t);
	char *company = fake_company();
	char *product = fake_product("Intune");
	char *sub = fake_subscription(company, product, 3, "8.00", "Monthly");
	char ev[37];
	post_subscription_event(company, sub, ev);
	for (int i = 0; i < 400 && qn(billing, "SELECT count(*) FROM webhook_inbox WHERE payload->>'id' = $1 "
					       "AND status = 'unmatched'", ev, NULL) == 0; i++)
		if (!jobs_run_one("test-pax8"))
			usleep(50000);
	char *st = q1(billing, "SELECT status FROM webhook_inbox WHERE payload->>'id' = $1", ev, NULL);
	cr_assert_str_eq(st, "unmatched");
	cr_assert_eq(subs_count(t.id, "true"), 0);

	patch_company(t.id, company);
	drain(t.id, company);
	char *after = q1(billing, "SELECT status || ' ' || tenant_id FROM webhook_inbox WHERE payload->>'id' = $1", ev, NULL);
	char *want = xasprintf("processed %s", t.id);
	cr_assert_str_eq(after, want);
	char *row = q1(billing, "SELECT quantity || ' ' || price_minor FROM subscriptions "
				"WHERE tenant_id = $1::uuid AND external_id = $2", t.id, sub);
	cr_assert_str_eq(row, "3 800");
	char *job = job_summary(t.id, WEBHOOK_REMATCH_KIND);
	cr_assert_str_eq(job, "succeeded 1 -");
	free(job); free(row); free(want); free(after); free(st); free(sub); free(product); free(company);
}

/* ---- reads and CSV ------------------------------------------------------ */

/* Names come from Pax8: one a spreadsheet would run as a formula is
 * exported as text (a leading '), and the JSON keeps it as Pax8 sent it. */
/* A new tenant mapped to a new Pax8 company with one subscription of a
 * product named `product_name` and its usage (5.00 charged, 4.00 partner
 * total), pulled in; returns its billing viewer's token (heap). */
static char *tenant_with_one_subscription(struct tenant *t, const char *product_name, int quantity,
					  const char *price, const char *term)
{
	create_tenant(t);
	char *company = fake_company();
	char *product = fake_product(product_name);
	char *sub = fake_subscription(company, product, quantity, price, term);
	char *ub = xasprintf("{\"subscriptionId\":\"%s\",\"currentCharges\":5,\"partnerTotal\":4}", sub);
	json_decref(fake_call("POST", "/_fake/usage-summaries", ub));
	patch_company(t->id, company);
	drain(t->id, NULL);
	free(ub); free(sub); free(product); free(company);
	return viewer_token(t);
}

Test(pax8, csv_cells_that_spreadsheets_read_as_formulas_are_neutralised)
{
	struct tenant t;
	char *tok = tenant_with_one_subscription(&t, "=HYPERLINK(\"http://evil\")", 1, "10.00", "Monthly");
	const char *what[] = {"subscriptions", "usage", "usage/by-product"};
	for (size_t i = 0; i < 3; i++) {
		char *path = xasprintf("/v1/tenants/%s/%s", t.id, what[i]);
		struct resp *r = get_as(tok, path, "text/csv");
		cr_assert_eq(r->status, 200, "%s: %s", path, r->body);
		cr_assert_not_null(strstr(r->body, ",\"'=HYPERLINK(\"\"http://evil\"\")\","), "%s: %s", path, r->body);
		resp_free(r);
		r = get_as(tok, path, NULL);
		cr_assert_eq(r->status, 200, "%s: %s", path, r->body);
		json_t *first = json_array_get(json_object_get(r->json, "data"), 0);
		cr_assert_str_eq(json_string_value(json_object_get(first, "product_name")),
				 "=HYPERLINK(\"http://evil\")", "%s: %s", path, r->body);
		resp_free(r);
		free(path);
	}
	free(tok);
}

Test(pax8, csv_is_quoted_by_postgresql_and_other_accepts_are_406)
{
	struct tenant t;
	char *tok = tenant_with_one_subscription(&t, "Office \"E3\", annual", 2, "240.00", "Annual");

	char *path = xasprintf("/v1/tenants/%s/subscriptions", t.id);
	struct resp *r = get_as(tok, path, "text/csv");
	cr_assert_eq(r->status, 200, "%s", r->body);
	char *ct = resp_header(r, "Content-Type");
	cr_assert_str_eq(ct, "text/csv; charset=utf-8");
	char *cd = resp_header(r, "Content-Disposition");
	char *want_cd = xasprintf("attachment; filename=\"subscriptions-%s.csv\"", t.id);
	cr_assert_str_eq(cd, want_cd);
	cr_assert(strncmp(r->body, "id,external_id,company_id,product_id,product_name,", 50) == 0, "%s", r->body);
	/* A comma and quotes: the field quoted, its quotes doubled; 2 x 240 / 12. */
	cr_assert_not_null(strstr(r->body, ",\"Office \"\"E3\"\", annual\",Microsoft,2,Annual,24000,USD,4000,active,"),
			   "%s", r->body);
	resp_free(r);

	/* JSON by default and for application/json; 406 for anything else. */
	r = get_as(tok, path, NULL);
	cr_assert_eq(r->status, 200);
	json_t *first = json_array_get(json_object_get(r->json, "data"), 0);
	cr_assert_eq(json_integer_value(json_object_get(first, "monthly_cost_minor")), 4000);
	cr_assert_str_eq(json_string_value(json_object_get(first, "source")), "api");
	resp_free(r);
	r = get_as(tok, path, "image/png");
	cr_assert_eq(r->status, 406);
	assert_problem(r, 406);
	resp_free(r);
	r = get_as(tok, path, "text/csv;q=0, application/json");
	cr_assert_eq(r->status, 200);
	cr_assert_not_null(r->json);
	resp_free(r);

	/* Usage by product and invoice totals, JSON and CSV. */
	char *bp = xasprintf("/v1/tenants/%s/usage/by-product", t.id);
	r = get_as(tok, bp, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_t *row = json_array_get(json_object_get(r->json, "data"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(row, "product_name")), "Office \"E3\", annual");
	cr_assert_eq(json_integer_value(json_object_get(row, "amount_minor")), 500);
	resp_free(r);
	r = get_as(tok, bp, "text/csv");
	cr_assert_eq(r->status, 200);
	cr_assert_not_null(strstr(r->body, "\"Office \"\"E3\"\", annual\",USD,1,,500,400"), "%s", r->body);
	resp_free(r);
	char *tp = xasprintf("/v1/tenants/%s/billing/totals?period=2026-11", t.id);
	r = get_as(tok, tp, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "from")), "2026-11");
	cr_assert_eq(json_integer_value(json_object_get(r->json, "unsynced_count")), 0);
	json_t *sm = json_array_get(json_object_get(r->json, "subscriptions_monthly"), 0);
	cr_assert_eq(json_integer_value(json_object_get(sm, "monthly_cost_minor")), 4000);
	resp_free(r);
	/* Bad ranges are 400. */
	const char *bad[] = {"?period=2026-13", "?from=2026-05&to=2026-01", "?period=2026-01&from=2026-01", "?from=x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = xasprintf("/v1/tenants/%s/billing/totals%s", t.id, bad[i]);
		r = get_as(tok, p, NULL);
		cr_assert_eq(r->status, 400, "%s: %ld", bad[i], r->status);
		assert_problem(r, 400);
		resp_free(r);
		free(p);
	}
	/* The platform summary is the super admin's, JSON only. */
	r = get_as(tok, "/v1/billing/summary", NULL);
	cr_assert_eq(r->status, 403);
	resp_free(r);
	char *su = super_token();
	r = get_as(su, "/v1/billing/summary?from=2026-01&to=2026-12", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_is_array(json_object_get(r->json, "revenue_by_month")));
	cr_assert(json_is_array(json_object_get(r->json, "top_tenants")));
	cr_assert(json_is_array(json_object_get(r->json, "overdue_invoices")));
	resp_free(r);
	r = get_as(su, "/v1/billing/summary", "text/csv");
	cr_assert_eq(r->status, 406);
	resp_free(r);
	free(su); free(tp); free(bp); free(want_cd); free(cd); free(ct); free(path); free(tok);
}

Test(pax8, another_tenants_billing_data_is_never_visible)
{
	struct tenant a, b;
	char *ca = mapped_tenant(&a);
	char *cb = mapped_tenant(&b);
	char *product = fake_product("Tenant A only");
	char *sa = fake_subscription(ca, product, 1, "1.00", "Monthly");
	patch_company(a.id, ca);
	drain(a.id, NULL);
	drain(b.id, NULL);
	char *tb = viewer_token(&b);
	const char *paths[] = {"subscriptions", "usage", "invoices", "usage/by-product", "billing/totals"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *p = xasprintf("/v1/tenants/%s/%s", a.id, paths[i]);
		struct resp *r = get_as(tb, p, "text/csv");
		cr_assert_eq(r->status, 404, "%s: %ld", p, r->status);
		resp_free(r);
		free(p);
		p = xasprintf("/v1/tenants/%s/%s", b.id, paths[i]);
		r = get_as(tb, p, "text/csv");
		cr_assert_eq(r->status, 200, "%s: %ld", p, r->status);
		cr_assert_null(strstr(r->body, sa), "%s shows tenant A's subscription", p);
		cr_assert_null(strstr(r->body, "Tenant A only"));
		resp_free(r);
		free(p);
	}
	/* A pull naming another company's subscription stores nothing. */
	const char *v[] = {b.id, cb, sa};
	PGresult *res = PQexecParams(portal, "INSERT INTO jobs (tenant_id, kind, payload) VALUES ($1::uuid, "
					     "'pax8.pull_subscription', json_build_object('tenant_id', $1::text, "
					     "'company_id', $2::text, 'subscription_id', $3::text))",
				     3, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
	PQclear(res);
	drain(b.id, NULL);
	cr_assert_eq(subs_count(b.id, "true"), 0);
	free(tb); free(sa); free(product); free(cb); free(ca);
}

/* ---- secrets ------------------------------------------------------------ */

static bool file_contains(const char *path, const char *needle)
{
	char *text = slurp_file(path);
	bool found = text && strstr(text, needle) != NULL;
	free(text);
	return found;
}

Test(pax8, no_secret_or_token_in_answers_or_in_serve_and_worker_logs)
{
	char log[512];
	snprintf(log, sizeof(log), "%s/pax8-worker-%d.log", getenv("ATRIUM_TEST_RUNDIR") ?: "/tmp", getpid());
	unlink(log);
	const char *env[] = {"ATRIUM_WORKER_POLL_MS=200", "ATRIUM_LOG_LEVEL=debug", "ATRIUM_WORKER_METRICS_LISTEN=", NULL};
	pid_t pid = spawn_worker(log, env);
	struct tenant t;
	create_tenant(&t);
	char *company = fake_company();
	char *product = fake_product("Secret check");
	free(fake_subscription(company, product, 1, "1.00", "Monthly"));
	json_decref(fake_call("POST", "/_fake/expire-tokens", "{}")); /* a 401 and a new token */
	patch_company(t.id, company);
	/* Only the spawned worker runs jobs here. */
	for (int i = 0; i < 600 && subs_count(t.id, "true") == 0; i++)
		usleep(50000);
	kill(pid, SIGTERM);
	int wst;
	waitpid(pid, &wst, 0);
	cr_assert_eq(subs_count(t.id, "true"), 1, "the spawned worker pulled");

	char *tok = viewer_token(&t);
	char *p1 = xasprintf("/v1/tenants/%s/subscriptions", t.id);
	struct resp *answers[] = {get_as(tok, p1, NULL), get_as(tok, p1, "text/csv")};
	json_t *tokens = fake_call("GET", "/_fake/tokens", NULL);
	cr_assert_gt(json_array_size(json_object_get(tokens, "tokens")), 0);
	char serve_log[512];
	snprintf(serve_log, sizeof(serve_log), "%s/logs/serve.log", getenv("ATRIUM_TEST_RUNDIR") ?: "/tmp");
	const char *logs[] = {log, serve_log};
	const char *secret = cfg.pax8_client_secret;
	for (size_t l = 0; l < 2; l++)
		cr_assert(!file_contains(logs[l], secret), "%s holds the client secret", logs[l]);
	for (size_t a = 0; a < 2; a++)
		cr_assert_null(strstr(answers[a]->body, secret));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(tokens, "tokens"), i, v) {
		for (size_t l = 0; l < 2; l++)
			cr_assert(!file_contains(logs[l], json_string_value(v)), "%s holds a Pax8 token", logs[l]);
		for (size_t a = 0; a < 2; a++)
			cr_assert_null(strstr(answers[a]->body, json_string_value(v)));
	}
	cr_assert(file_contains(log, "pax8: obtained a token"), "the worker log is the right one");
	for (size_t a = 0; a < 2; a++)
		resp_free(answers[a]);
	json_decref(tokens);
	unlink(log);
	free(p1); free(tok); free(product); free(company);
}
