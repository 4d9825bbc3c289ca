/*
 * Integration tests of the QuickBooks Online connection (issue 15) against
 * the real server, databases and the fake Intuit (tests/fake-intuit): the
 * OAuth connect flow through the fake's consent redirect, state checks,
 * token refresh and revocation, fetching what webhooks only name, change
 * data capture, throttling and outages, tenant isolation, and no token or
 * client secret in answers or logs. Jobs run in this process
 * (jobs_run_one) unless a test spawns its own worker; a worker started by
 * scripts/test may take some of them: either way they end the same.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atrium_build.h"
#include "client.h"
#include "server/common/config.h"
#include "server/common/util.h"
#include "server/jobs/jobs.h"
#include "server/store/db.h"
#include "services/portal.h"
#include "services/quickbooks.h"
#include "services/webhooks.h"
#include "workers/quickbooks_jobs.h"
#include "workers/webhook_jobs.h"

static PGconn *billing, *portal;
static const char *fake;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cr_assert(config_load());
	portal_register();
	jobs_register();
	webhooks_register();
	webhook_jobs_register();
	quickbooks_register();
	quickbooks_jobs_register();
	db_start(6);
	billing = db_connect("ATRIUM_DB_BILLING_URL");
	portal = db_connect("ATRIUM_DB_PORTAL_URL");
	PQclear(PQexec(billing, "SELECT set_config('atrium.tenant_id', '*', false)"));
	PQclear(PQexec(portal, "SELECT set_config('atrium.tenant_id', '*', false)"));
	fake = getenv("ATRIUM_TEST_FAKE_INTUIT_URL");
	cr_assert(fake && *fake, "ATRIUM_TEST_FAKE_INTUIT_URL must name the fake Intuit (scripts/lib.sh)");
}

static void teardown(void)
{
	PQfinish(billing);
	PQfinish(portal);
	db_stop();
	config_free();
	curl_global_cleanup();
}

TestSuite(quickbooks, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ------------------------------------------------------------ */

static char *q1(PGconn *pg, const char *sql, const char *p1, const char *p2)
{
	const char *v[] = {p1, p2};
	int n = p2 ? 2 : p1 ? 1 : 0;
	PGresult *res = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK,
		  "%s: %s", sql, PQresultErrorMessage(res));
	char *out = PQntuples(res) && !PQgetisnull(res, 0, 0) ? xstrdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	return out;
}

static void exec1(PGconn *pg, const char *sql, const char *p1)
{
	free(q1(pg, sql, p1, NULL));
}

/* Runs jobs here until `sql` (one boolean; $1 = p1, $2 = p2 if not NULL) is true. */
static void until2(const char *sql, const char *p1, const char *p2, int seconds, const char *what)
{
	for (int i = 0; i < seconds * 20; i++) {
		char *v = q1(billing, sql, p1, p2);
		bool done = v && strcmp(v, "t") == 0;
		free(v);
		if (done)
			return;
		if (!jobs_run_one("test-quickbooks"))
			usleep(50000);
	}
	cr_assert_fail("%s did not happen within %d s", what, seconds);
}

static void until(const char *sql, const char *p1, int seconds, const char *what)
{
	until2(sql, p1, NULL, seconds, what);
}

static char *conn_field(const char *tenant, const char *expr)
{
	char *sql = xasprintf("SELECT (%s)::text FROM quickbooks_connections WHERE tenant_id = $1::uuid", expr);
	char *v = q1(billing, sql, tenant, NULL);
	free(sql);
	return v;
}

static struct resp *fake_call(const char *method, const char *path, const char *body)
{
	const char *h[] = {"Content-Type: application/json", NULL};
	return http_at(fake, method, path, NULL, body, h);
}

static void new_realm(char out[24])
{
	char u[37];
	random_uuid(u);
	unsigned long long x = strtoull(u + 24, NULL, 16) % 1000000000000ULL;
	snprintf(out, 24, "9130%012llu", x);
}

struct admin {
	struct tenant t;
	char oid[37];
	char *token;
	char realm[24];
};

static void admin_of_new_tenant(struct admin *a)
{
	create_tenant(&a->t);
	random_uuid(a->oid);
	a->token = mint(a->t.aad, a->oid, "tenant_admin", NULL);
	new_realm(a->realm);
}

/* No token, code or client secret in an answer. */
static void assert_no_secret(const struct resp *r)
{
	const char *body = r->body ? r->body : "";
	const char *secret = getenv("ATRIUM_QUICKBOOKS_CLIENT_SECRET");
	cr_assert_null(strstr(body, "fake-at-"), "an access token in %s", body);
	cr_assert_null(strstr(body, "fake-rt-"), "a refresh token in %s", body);
	cr_assert_null(strstr(body, "fake-code-"), "an authorization code in %s", body);
	cr_assert(secret == NULL || strstr(body, secret) == NULL, "the client secret in %s", body);
}

/* POST connect; returns the authorize URL (heap). */
static char *start_connect(const char *base, struct admin *a)
{
	char *path = xasprintf("/v1/tenants/%s/integrations/quickbooks/connect", a->t.id);
	struct resp *r = http_at(base, "POST", path, a->token, NULL, NULL);
	cr_assert_eq(r->status, 200, "connect: %ld %s", r->status, r->body);
	assert_no_secret(r);
	const char *url = json_string_value(json_object_get(r->json, "authorize_url"));
	cr_assert_not_null(url);
	cr_assert(strncmp(url, fake, strlen(fake)) == 0, "the authorize URL is the fake's: %s", url);
	cr_assert_not_null(strstr(url, "state="));
	cr_assert_not_null(strstr(url, "scope=com.intuit.quickbooks.accounting"));
	char *out = xstrdup(url);
	resp_free(r);
	free(path);
	return out;
}

/* The consent at the fake (the user picks `realm`): the callback's path
 * and query on our server (heap). */
static char *consent(const char *authorize_url, const char *realm)
{
	char *h = xasprintf("x-fake-intuit-realm: %s", realm);
	const char *headers[] = {h, NULL};
	struct resp *r = http_at(fake, "GET", authorize_url + strlen(fake), NULL, NULL, headers);
	cr_assert_eq(r->status, 302, "consent: %ld %s", r->status, r->body);
	char *loc = resp_header(r, "Location");
	cr_assert_not_null(loc);
	const char *p = strstr(loc, "/v1/integrations/quickbooks/callback?");
	cr_assert_not_null(p, "the fake redirects to our callback: %s", loc);
	cr_assert_not_null(strstr(p, "realmId="));
	char *out = xstrdup(p);
	free(loc);
	free(h);
	resp_free(r);
	return out;
}

static struct resp *callback(const char *base, const char *path_query, const char *token)
{
	return http_at(base, "GET", path_query, token, NULL, NULL);
}

/* The whole flow until `connected`. */
static void connect_tenant(struct admin *a)
{
	char *url = start_connect(base_url(), a);
	char *cb = consent(url, a->realm);
	struct resp *r = callback(base_url(), cb, a->token);
	cr_assert_eq(r->status, 303, "callback: %ld %s", r->status, r->body);
	resp_free(r);
	until("SELECT status = 'connected' FROM quickbooks_connections WHERE tenant_id = $1::uuid", a->t.id,
	      30, "the connection");
	/* Tests that want a CDC read ask for it: none runs behind their back. */
	exec1(billing, "UPDATE quickbooks_connections SET next_cdc_at = now() + interval '1 day' "
		       "WHERE tenant_id = $1::uuid", a->t.id);
	free(cb);
	free(url);
}

static json_t *integration(const char *token, const char *tenant, long want_status)
{
	char *path = xasprintf("/v1/tenants/%s/integrations", tenant);
	struct resp *r = http("GET", path, token, NULL, NULL);
	cr_assert_eq(r->status, want_status, "%ld %s", r->status, r->body);
	json_t *out = NULL;
	if (want_status == 200) {
		assert_no_secret(r);
		out = json_incref(json_array_get(json_object_get(r->json, "data"), 0));
		cr_assert_str_eq(json_string_value(json_object_get(out, "provider")), "quickbooks");
	}
	resp_free(r);
	free(path);
	return out;
}

static char *sign(const char *key, const char *body)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, strlen(body), mac, &n);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, mac, (int)n);
	return out;
}

/* A signed QuickBooks CloudEvents notification of one entity change. */
static void notify(const char *realm, const char *type, const char *id, const char *op)
{
	char ev[37];
	random_uuid(ev);
	char *body = xasprintf("[{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"intuit.test\","
			       "\"type\":\"qbo.%s.%s.v1\",\"datacontenttype\":\"application/json\","
			       "\"time\":\"%s\",\"intuitentityid\":\"%s\",\"intuitaccountid\":\"%s\",\"data\":{}}]",
			       ev, type, op, "2026-12-01T10:00:00Z", id, realm);
	char *sig = sign(getenv("ATRIUM_QUICKBOOKS_VERIFIER_TOKEN"), body);
	char *h = xasprintf("intuit-signature: %s", sig);
	const char *headers[] = {"Content-Type: application/json", h, NULL};
	struct resp *r = http("POST", "/v1/webhooks/quickbooks", NULL, body, headers);
	cr_assert_eq(r->status, 200, "webhook: %ld %s", r->status, r->body);
	resp_free(r);
	free(h);
	free(sig);
	free(body);
}

/* Creates an invoice at the fake; returns its id (heap). */
static char *fake_invoice(const char *realm, const char *json)
{
	char *path = xasprintf("/admin/companies/%s/invoice", realm);
	struct resp *r = fake_call("POST", path, json);
	cr_assert_eq(r->status, 201, "%s", r->body);
	char *id = xstrdup(json_string_value(json_object_get(json_object_get(r->json, "Invoice"), "Id")));
	resp_free(r);
	free(path);
	return id;
}

static json_t *invoice_of(const char *token, const char *tenant, const char *external_id)
{
	char *path = xasprintf("/v1/tenants/%s/invoices?limit=100", tenant);
	struct resp *r = http("GET", path, token, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_t *out = NULL, *inv;
	size_t i;
	json_array_foreach(json_object_get(r->json, "data"), i, inv) {
		if (strcmp(json_string_value(json_object_get(inv, "external_id")), external_id) == 0)
			out = json_incref(inv);
	}
	resp_free(r);
	free(path);
	cr_assert_not_null(out, "invoice %s is not listed", external_id);
	return out;
}

static const char *synced_sql =
	"SELECT EXISTS (SELECT 1 FROM invoices WHERE external_id = $1 AND realm_id = $2 AND NOT needs_sync "
	"  AND synced_at IS NOT NULL)";

/* ---- connecting ----------------------------------------------------------- */

Test(quickbooks, connect_through_the_fake_consent_ends_connected_with_the_realm_mapped)
{
	struct admin a;
	admin_of_new_tenant(&a);
	json_t *before = integration(a.token, a.t.id, 200);
	cr_assert_str_eq(json_string_value(json_object_get(before, "status")), "disconnected");
	json_decref(before);

	char *url = start_connect(base_url(), &a);
	char *cb = consent(url, a.realm);
	struct resp *r = callback(base_url(), cb, a.token);
	cr_assert_eq(r->status, 303, "callback: %ld %s", r->status, r->body);
	char *loc = resp_header(r, "Location");
	char *want = xasprintf("/app/tenants/%s/billing", a.t.id);
	cr_assert_not_null(strstr(loc, want), "the browser goes to the portal's billing page: %s", loc);
	resp_free(r);

	json_t *mid = integration(a.token, a.t.id, 200);
	const char *st = json_string_value(json_object_get(mid, "status"));
	cr_assert(strcmp(st, "connecting") == 0 || strcmp(st, "connected") == 0, "%s", st);
	json_decref(mid);
	until("SELECT status = 'connected' FROM quickbooks_connections WHERE tenant_id = $1::uuid", a.t.id, 30,
	      "the connection");

	json_t *after = integration(a.token, a.t.id, 200);
	cr_assert_str_eq(json_string_value(json_object_get(after, "status")), "connected");
	cr_assert_str_eq(json_string_value(json_object_get(after, "realm_id")), a.realm);
	cr_assert(json_is_string(json_object_get(after, "connected_at")));
	cr_assert(json_is_null(json_object_get(after, "last_error")));
	json_decref(after);

	/* The tenant's realm id was set by connecting. */
	char *tpath = xasprintf("/v1/tenants/%s", a.t.id);
	char *su = super_token();
	r = http("GET", tpath, su, NULL, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "quickbooks_realm_id")), a.realm);
	resp_free(r);

	/* At rest: sealed with the key id, no token in the clear. */
	char *rt = conn_field(a.t.id, "refresh_token_sealed");
	char *code = conn_field(a.t.id, "auth_code_sealed");
	cr_assert_not_null(rt);
	cr_assert_null(strstr(rt, "fake-rt-"));
	cr_assert_not_null(strchr(rt, ':'), "key id beside the ciphertext");
	cr_assert_null(code, "the code is dropped once exchanged");
	free(rt);
	free(tpath); free(su); free(want); free(loc); free(cb); free(url); free(a.token);
}

Test(quickbooks, forged_reused_expired_and_foreign_states_are_refused)
{
	struct admin a;
	admin_of_new_tenant(&a);
	/* Forged. */
	struct resp *r = callback(base_url(), "/v1/integrations/quickbooks/callback?code=x&realmId=1&state=forged", a.token);
	assert_problem(r, 400);
	cr_assert_not_null(strstr(r->body, "oauth-state-invalid"));
	resp_free(r);
	/* No state at all. */
	r = callback(base_url(), "/v1/integrations/quickbooks/callback?code=x&realmId=1", a.token);
	assert_problem(r, 400);
	resp_free(r);

	/* Another user of the same tenant cannot finish someone else's connect. */
	char *url = start_connect(base_url(), &a);
	char *cb = consent(url, a.realm);
	char other_oid[37];
	random_uuid(other_oid);
	char *other = mint(a.t.aad, other_oid, "tenant_admin", NULL);
	r = callback(base_url(), cb, other);
	assert_problem(r, 403);
	resp_free(r);
	/* ... and the state was spent by that attempt. */
	r = callback(base_url(), cb, a.token);
	assert_problem(r, 400);
	resp_free(r);
	free(cb); free(url);

	/* Used once, refused the second time. */
	url = start_connect(base_url(), &a);
	cb = consent(url, a.realm);
	r = callback(base_url(), cb, a.token);
	cr_assert_eq(r->status, 303, "%s", r->body);
	resp_free(r);
	r = callback(base_url(), cb, a.token);
	assert_problem(r, 400);
	cr_assert_not_null(strstr(r->body, "oauth-state-invalid"));
	resp_free(r);
	free(cb); free(url);

	/* Expired. */
	url = start_connect(base_url(), &a);
	cb = consent(url, a.realm);
	exec1(billing, "UPDATE quickbooks_oauth_states SET expires_at = now() - interval '1 second' "
		       "WHERE tenant_id = $1::uuid AND used_at IS NULL", a.t.id);
	r = callback(base_url(), cb, a.token);
	assert_problem(r, 400);
	cr_assert_not_null(strstr(r->body, "expired"));
	resp_free(r);
	free(cb); free(url); free(other); free(a.token);
}

Test(quickbooks, a_realm_mapped_to_another_tenant_is_refused_with_409)
{
	struct admin a, b;
	admin_of_new_tenant(&a);
	admin_of_new_tenant(&b);
	connect_tenant(&a);
	char *url = start_connect(base_url(), &b);
	char *cb = consent(url, a.realm); /* b's user picks a's company */
	struct resp *r = callback(base_url(), cb, b.token);
	assert_problem(r, 409);
	resp_free(r);
	json_t *i = integration(b.token, b.t.id, 200);
	cr_assert_str_eq(json_string_value(json_object_get(i, "status")), "disconnected");
	json_decref(i);
	free(cb); free(url); free(a.token); free(b.token);
}

Test(quickbooks, another_tenants_admin_cannot_connect_see_or_disconnect)
{
	struct admin a, b;
	admin_of_new_tenant(&a);
	admin_of_new_tenant(&b);
	char *p1 = xasprintf("/v1/tenants/%s/integrations/quickbooks/connect", a.t.id);
	char *p2 = xasprintf("/v1/tenants/%s/integrations", a.t.id);
	char *p3 = xasprintf("/v1/tenants/%s/integrations/quickbooks", a.t.id);
	struct resp *r = http("POST", p1, b.token, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = http("GET", p2, b.token, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = http("DELETE", p3, b.token, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	/* A billing viewer of a sees the status but cannot connect. */
	char *viewer = mint(a.t.aad, NULL, "billing_viewer", NULL);
	r = http("POST", p1, viewer, NULL, NULL);
	assert_problem(r, 403);
	resp_free(r);
	json_t *i = integration(viewer, a.t.id, 200);
	json_decref(i);
	/* A state a's admin started cannot be finished by b's admin. */
	char *url = start_connect(base_url(), &a);
	char *cb = consent(url, a.realm);
	r = callback(base_url(), cb, b.token);
	assert_problem(r, 403);
	resp_free(r);
	free(cb); free(url); free(viewer); free(p1); free(p2); free(p3); free(a.token); free(b.token);
}

/* ---- tokens --------------------------------------------------------------- */

static void run_tick(void)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	cr_assert(c && db_scope(c, "*") && jobs_schedule(c, QUICKBOOKS_TICK_JOB, 0));
	db_release(c);
}

Test(quickbooks, the_access_token_is_refreshed_before_it_expires)
{
	struct admin a;
	admin_of_new_tenant(&a);
	connect_tenant(&a);
	char *old = conn_field(a.t.id, "access_token_sealed");
	exec1(billing, "UPDATE quickbooks_connections SET access_expires_at = now() + interval '20 seconds' "
		       "WHERE tenant_id = $1::uuid", a.t.id);
	run_tick();
	until("SELECT access_expires_at > now() + interval '30 minutes' FROM quickbooks_connections "
	      "WHERE tenant_id = $1::uuid", a.t.id, 30, "the refresh");
	char *now = conn_field(a.t.id, "access_token_sealed");
	cr_assert_str_neq(old, now, "a new access token is stored");
	char *status = conn_field(a.t.id, "status");
	cr_assert_str_eq(status, "connected");
	free(old); free(now); free(status); free(a.token);
}

Test(quickbooks, a_connection_revoked_in_quickbooks_becomes_disconnected_with_the_reason)
{
	struct admin a;
	admin_of_new_tenant(&a);
	connect_tenant(&a);
	char *path = xasprintf("/admin/companies/%s/revoke", a.realm);
	struct resp *r = fake_call("POST", path, "{}");
	cr_assert_eq(r->status, 200);
	resp_free(r);
	exec1(billing, "UPDATE quickbooks_connections SET access_expires_at = now() "
		       "WHERE tenant_id = $1::uuid", a.t.id);
	run_tick();
	until("SELECT status = 'disconnected' FROM quickbooks_connections WHERE tenant_id = $1::uuid", a.t.id, 30,
	      "the disconnection");
	json_t *i = integration(a.token, a.t.id, 200);
	cr_assert_str_eq(json_string_value(json_object_get(i, "status")), "disconnected");
	cr_assert_not_null(strstr(json_string_value(json_object_get(i, "last_error")), "invalid_grant"));
	json_decref(i);
	char *rt = conn_field(a.t.id, "refresh_token_sealed IS NULL AND access_token_sealed IS NULL");
	cr_assert_str_eq(rt, "true");
	free(rt); free(path); free(a.token);
}

Test(quickbooks, disconnect_revokes_at_intuit_and_deletes_the_tokens)
{
	struct admin a;
	admin_of_new_tenant(&a);
	connect_tenant(&a);
	char *path = xasprintf("/v1/tenants/%s/integrations/quickbooks", a.t.id);
	struct resp *r = http("DELETE", path, a.token, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	assert_no_secret(r);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "disconnected");
	resp_free(r);
	char *gone = conn_field(a.t.id, "refresh_token_sealed IS NULL AND access_token_sealed IS NULL");
	cr_assert_str_eq(gone, "true");
	until("SELECT revoke_token_sealed IS NULL FROM quickbooks_connections WHERE tenant_id = $1::uuid", a.t.id,
	      30, "the revocation");
	char *tp = xasprintf("/admin/companies/%s/tokens", a.realm);
	r = fake_call("GET", tp, NULL);
	cr_assert_eq(json_integer_value(json_object_get(r->json, "live_refresh_tokens")), 0, "%s", r->body);
	resp_free(r);
	/* A second disconnect is harmless, and so is one of a tenant never connected. */
	r = http("DELETE", path, a.token, NULL, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	struct admin b;
	admin_of_new_tenant(&b);
	char *pb = xasprintf("/v1/tenants/%s/integrations/quickbooks", b.t.id);
	r = http("DELETE", pb, b.token, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "disconnected");
	resp_free(r);
	free(pb); free(tp); free(gone); free(path); free(a.token); free(b.token);
}

/* ---- fetching -------------------------------------------------------------- */

Test(quickbooks, a_webhook_event_becomes_an_invoice_with_amounts_lines_and_due_date)
{
	struct admin a;
	admin_of_new_tenant(&a);
	connect_tenant(&a);
	char *id = fake_invoice(a.realm, "{\"Line\":[{\"Amount\":120.5,\"Description\":\"Hosting\"},"
					 "{\"Amount\":30,\"Description\":\"Support\"}],\"Balance\":100.25,"
					 "\"DueDate\":\"2027-01-15\",\"CustomerId\":7,\"CustomerName\":\"Contoso\"}");
	notify(a.realm, "invoice", id, "created");
	until2(synced_sql, id, a.realm, 30, "the invoice fetch");
	json_t *inv = invoice_of(a.token, a.t.id, id);
	cr_assert_eq(json_integer_value(json_object_get(inv, "total_minor")), 15050);
	cr_assert_eq(json_integer_value(json_object_get(inv, "balance_minor")), 10025);
	cr_assert_str_eq(json_string_value(json_object_get(inv, "currency")), "USD");
	cr_assert_str_eq(json_string_value(json_object_get(inv, "due_date")), "2027-01-15");
	cr_assert_str_eq(json_string_value(json_object_get(inv, "customer_id")), "7");
	cr_assert_str_eq(json_string_value(json_object_get(inv, "customer_name")), "Contoso");
	cr_assert(json_is_false(json_object_get(inv, "needs_sync")));
	json_t *lines = json_object_get(inv, "line_items");
	cr_assert_eq(json_array_size(lines), 2);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(lines, 0), "amount_minor")), 12050);
	json_decref(inv);
	/* The list's totals per currency. */
	char *lp = xasprintf("/v1/tenants/%s/invoices?status=open", a.t.id);
	struct resp *l = http("GET", lp, a.token, NULL, NULL);
	json_t *tot = json_array_get(json_object_get(l->json, "totals"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(tot, "currency")), "USD", "%s", l->body);
	cr_assert_eq(json_integer_value(json_object_get(tot, "total_minor")), 15050, "%s", l->body);
	cr_assert_eq(json_integer_value(json_object_get(tot, "balance_minor")), 10025, "%s", l->body);
	resp_free(l);
	free(lp);

	/* Voided in QuickBooks: the invoice follows. */
	char *vp = xasprintf("/admin/companies/%s/invoice/%s/void", a.realm, id);
	struct resp *r = fake_call("POST", vp, "{}");
	resp_free(r);
	free(q1(billing, "UPDATE invoices SET synced_at = NULL WHERE external_id = $1 AND realm_id = $2", id, a.realm));
	notify(a.realm, "invoice", id, "voided");
	until2(synced_sql, id, a.realm, 30, "the voided invoice fetch");
	inv = invoice_of(a.token, a.t.id, id);
	cr_assert_str_eq(json_string_value(json_object_get(inv, "status")), "voided");
	cr_assert_eq(json_integer_value(json_object_get(inv, "total_minor")), 0);
	json_decref(inv);
	free(vp); free(id); free(a.token);
}

Test(quickbooks, a_lost_webhook_is_recovered_by_change_data_capture)
{
	struct admin a;
	admin_of_new_tenant(&a);
	connect_tenant(&a);
	/* Let the first CDC (soon after connecting) pass, then change things
	 * with no webhook at all. */
	exec1(billing, "UPDATE quickbooks_connections SET next_cdc_at = now() WHERE tenant_id = $1::uuid", a.t.id);
	run_tick();
	until("SELECT last_sync_at IS NOT NULL FROM quickbooks_connections WHERE tenant_id = $1::uuid", a.t.id, 30,
	      "the first CDC read");
	char *id = fake_invoice(a.realm, "{\"TotalAmt\":42.42,\"DueDate\":\"2027-02-01\"}");
	char *gone = fake_invoice(a.realm, "{\"TotalAmt\":5}");
	exec1(billing, "UPDATE quickbooks_connections SET next_cdc_at = now(), "
		       "last_sync_at = now() - interval '10 seconds' WHERE tenant_id = $1::uuid", a.t.id);
	run_tick();
	until2(synced_sql, id, a.realm, 30, "the CDC recovery");
	json_t *inv = invoice_of(a.token, a.t.id, id);
	cr_assert_eq(json_integer_value(json_object_get(inv, "total_minor")), 4242);
	cr_assert_str_eq(json_string_value(json_object_get(inv, "status")), "open");
	json_decref(inv);
	/* Deleted in QuickBooks, seen by the next CDC read. */
	char *dp = xasprintf("/admin/companies/%s/invoice/%s", a.realm, gone);
	struct resp *r = fake_call("DELETE", dp, NULL);
	resp_free(r);
	exec1(billing, "UPDATE quickbooks_connections SET next_cdc_at = now() WHERE tenant_id = $1::uuid", a.t.id);
	run_tick();
	until2("SELECT EXISTS (SELECT 1 FROM invoices WHERE external_id = $1 AND realm_id = $2 AND status = 'deleted')",
	       gone, a.realm, 30, "the deletion");
	char *synced = conn_field(a.t.id, "last_sync_at > now() - interval '1 minute'");
	cr_assert_str_eq(synced, "true");
	free(synced); free(dp); free(gone); free(id); free(a.token);
}

/* More changes than a CDC answer holds (1,000 an entity): the rest are read
 * page by page with the query operation, none is lost. */
Test(quickbooks, more_than_a_thousand_changes_are_all_read_through_query_pages, .timeout = 240)
{
	struct admin a;
	admin_of_new_tenant(&a);
	connect_tenant(&a);
	char *bp = xasprintf("/admin/companies/%s/invoice?count=1203", a.realm);
	struct resp *r = fake_call("POST", bp, "{\"TotalAmt\":3}");
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	exec1(billing, "UPDATE quickbooks_connections SET next_cdc_at = now(), "
		       "last_sync_at = now() - interval '10 seconds' WHERE tenant_id = $1::uuid", a.t.id);
	run_tick();
	until("SELECT count(*) = 1203 FROM invoices WHERE realm_id = $1 AND NOT needs_sync AND total_minor = 300",
	      a.realm, 120, "all 1203 invoices");
	char *pages = q1(portal, "SELECT max((s->'output'->>'query_pages')::int) FROM jobs j, "
				 "jsonb_array_elements(j.steps) s WHERE j.kind = 'quickbooks.cdc' AND j.tenant_id = $1::uuid",
			 a.t.id, NULL);
	cr_assert_str_eq(pages, "2", "the query read two pages (1000 + 203)");
	free(pages); free(bp); free(a.token);
}

Test(quickbooks, throttling_and_an_outage_are_retried_until_the_fetch_succeeds)
{
	struct admin a;
	admin_of_new_tenant(&a);
	connect_tenant(&a);
	char *id = fake_invoice(a.realm, "{\"TotalAmt\":10}");
	char *f1 = xasprintf("{\"path\":\"/v3/company/%s/invoice/%s\",\"status\":429,\"retry_after\":1,\"count\":1}",
			     a.realm, id);
	char *f2 = xasprintf("{\"path\":\"/v3/company/%s/invoice/%s\",\"status\":503,\"count\":2}", a.realm, id);
	struct resp *r = fake_call("POST", "/admin/faults", f1);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	r = fake_call("POST", "/admin/faults", f2);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	/* A revoked access token (401) on top: one refresh, then on. */
	exec1(billing, "UPDATE quickbooks_connections SET access_token_sealed = NULL, "
		       "access_expires_at = now() - interval '1 second' WHERE tenant_id = $1::uuid", a.t.id);
	notify(a.realm, "invoice", id, "created");
	until2(synced_sql, id, a.realm, 60, "the fetch after throttling and an outage");
	char *lp = xasprintf("/admin/log?realmId=%s", a.realm);
	r = fake_call("GET", lp, NULL);
	char *want = xasprintf("/invoice/%s", id);
	int throttled = 0, outage = 0, ok = 0;
	size_t i;
	json_t *e;
	json_array_foreach(r->json, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		if (path == NULL || strstr(path, want) == NULL)
			continue;
		json_int_t f = json_integer_value(json_object_get(e, "fault"));
		throttled += f == 429;
		outage += f == 503;
		ok += f == 0;
	}
	cr_assert_eq(throttled, 1);
	cr_assert_eq(outage, 2);
	cr_assert_geq(ok, 1);
	resp_free(r);
	json_t *inv = invoice_of(a.token, a.t.id, id);
	cr_assert_eq(json_integer_value(json_object_get(inv, "total_minor")), 1000);
	json_decref(inv);
	free(want); free(lp); free(f1); free(f2); free(id); free(a.token);
}

Test(quickbooks, events_of_an_unconnected_tenant_stay_needs_sync)
{
	struct admin a;
	admin_of_new_tenant(&a);
	char *su = super_token();
	char *tp = xasprintf("/v1/tenants/%s", a.t.id);
	char *body = xasprintf("{\"quickbooks_realm_id\":\"%s\"}", a.realm);
	struct resp *r = http("PATCH", tp, su, body, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	notify(a.realm, "invoice", "77", "created");
	until("SELECT EXISTS (SELECT 1 FROM invoices WHERE external_id = '77' AND realm_id = $1)", a.realm, 30,
	      "the event");
	json_t *inv = invoice_of(a.token, a.t.id, "77");
	cr_assert(json_is_true(json_object_get(inv, "needs_sync")));
	cr_assert(json_is_null(json_object_get(inv, "total_minor")));
	json_decref(inv);
	free(body); free(tp); free(su); free(a.token);
}

/* Stops taking the body after its first piece: a client that goes away
 * mid-download. */
static size_t take_one_piece(char *p, size_t size, size_t n, void *seen)
{
	(void)p;
	*(size_t *)seen += size * n;
	return 0;
}

/* GET url with Accept: text/csv, the body given to fn(arg) as it comes;
 * returns curl's result. */
static CURLcode csv_download(const char *url, const char *token, curl_write_callback fn, void *arg)
{
	CURL *c = curl_easy_init();
	char *auth = xasprintf("Authorization: Bearer %s", token);
	struct curl_slist *hl = curl_slist_append(NULL, auth);
	hl = curl_slist_append(hl, "Accept: text/csv");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fn);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, arg);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 1024L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	const char *ca = getenv("ATRIUM_TEST_CA");
	if (ca && *ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	free(auth);
	return rc;
}

static size_t abandoned_download(const char *path, const char *token)
{
	char *url = xasprintf("%s%s", base_url(), path);
	size_t seen = 0;
	CURLcode rc = csv_download(url, token, take_one_piece, &seen);
	cr_assert_eq(rc, CURLE_WRITE_ERROR, "the download was cut by the client: %s", curl_easy_strerror(rc));
	free(url);
	return seen;
}

/* `rows` open invoices of a's tenant and realm, straight into billing_db. */
static void insert_invoices(const struct admin *a, int rows)
{
	char n[16];
	snprintf(n, sizeof(n), "%d", rows);
	const char *v[] = {a->t.id, a->realm, n};
	PGresult *res = PQexecParams(billing,
		"INSERT INTO invoices (tenant_id, realm_id, external_id, status, last_operation, issued_at, "
		"  source_updated_at, last_event_id) "
		"SELECT $1::uuid, $2, g::text, 'open', 'Create', now(), now(), gen_random_uuid() "
		"FROM generate_series(1, $3::int) g", 3, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(billing));
	PQclear(res);
}

/* A CSV export is streamed as PostgreSQL's COPY produces it: chunked, no
 * length known ahead, every row however many; clients that leave part way
 * give their database connections back (later requests are served). */
Test(quickbooks, csv_exports_stream_every_row_and_survive_clients_leaving_mid_download, .timeout = 240)
{
	struct admin a;
	admin_of_new_tenant(&a);
	enum { ROWS = 120000 };
	insert_invoices(&a, ROWS);
	char *path = xasprintf("/v1/tenants/%s/invoices", a.t.id);
	const char *accept[] = {"Accept: text/csv", NULL};
	struct resp *r = http("GET", path, a.token, NULL, accept);
	cr_assert_eq(r->status, 200, "%ld", r->status);
	char *te = resp_header(r, "Transfer-Encoding");
	char *cl = resp_header(r, "Content-Length");
	cr_assert(te && strcasecmp(te, "chunked") == 0, "Transfer-Encoding: %s", te ? te : "(none)");
	cr_assert_null(cl, "no Content-Length: the length is not known ahead");
	size_t lines = 0;
	for (size_t i = 0; i < r->len; i++)
		lines += r->body[i] == '\n';
	cr_assert_eq(lines, (size_t)ROWS + 1, "the header and every row: %zu lines", lines);
	cr_assert(strncmp(r->body, "id,external_id,realm_id,status,", 31) == 0);
	free(te);
	resp_free(r);
	/* More clients walk away than the pool has connections. */
	for (int i = 0; i < 24; i++)
		cr_assert_gt(abandoned_download(path, a.token), 0);
	/* The server notices the last ones left at its next write: until then
	 * they hold the export slots (429 exports-busy, as a client would wait). */
	r = http("GET", path, a.token, NULL, accept);
	for (int i = 0; i < 50 && r->status == 429; i++) {
		resp_free(r);
		usleep(100000);
		r = http("GET", path, a.token, NULL, accept);
	}
	cr_assert_eq(r->status, 200, "%ld", r->status);
	lines = 0;
	for (size_t i = 0; i < r->len; i++)
		lines += r->body[i] == '\n';
	cr_assert_eq(lines, (size_t)ROWS + 1);
	resp_free(r);
	r = http("GET", "/readyz", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	free(path); free(a.token);
}

/* A download whose client stops reading after its first piece and holds
 * the connection open until `release` is set (or 30 s passed, so that a
 * failed test does not leave it behind); then it leaves. */
struct stalled {
	const char *url, *token;
	atomic_int started, release;
};

static size_t stall_until_released(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)size;
	(void)n;
	struct stalled *s = arg;
	atomic_store(&s->started, 1);
	for (int i = 0; i < 1500 && !atomic_load(&s->release); i++)
		usleep(20000);
	return 0;
}

static void *stalled_download(void *arg)
{
	struct stalled *s = arg;
	csv_download(s->url, s->token, stall_until_released, s);
	return NULL;
}

/* Each streamed export holds a database connection until its client has
 * read it all. With ATRIUM_EXPORTS_MAX=1, a slow downloader's export is the
 * only one: another CSV is 429 exports-busy with Retry-After, while JSON
 * reads of the same data and another database's export are served; once
 * the downloader leaves, exports are served again. */
Test(quickbooks, a_slow_csv_download_holds_the_only_export_slot_and_other_requests_are_served, .timeout = 120)
{
	struct admin a;
	admin_of_new_tenant(&a);
	/* More than the socket buffers between us hold, so the export cannot
	 * finish while nobody reads it. */
	insert_invoices(&a, 300000);
	char base[64];
	const char *env[] = {"ATRIUM_EXPORTS_MAX=1", "ATRIUM_DB_POOL_SIZE=4", NULL};
	pid_t pid = spawn_serve(0, env, NULL, base, sizeof(base));
	char *path = xasprintf("/v1/tenants/%s/invoices", a.t.id);
	struct stalled s = {.token = a.token};
	s.url = xasprintf("%s%s", base, path);
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, stalled_download, &s), 0);
	for (int i = 0; i < 300 && !atomic_load(&s.started); i++)
		usleep(50000);
	cr_assert(atomic_load(&s.started), "the slow download began");

	const char *csv[] = {"Accept: text/csv", NULL};
	for (int i = 0; i < 3; i++) {
		struct resp *r = http_at(base, "GET", path, a.token, NULL, csv);
		cr_assert_eq(r->status, 429, "another export while the slot is held: %ld", r->status);
		assert_problem(r, 429);
		const char *type = json_string_value(json_object_get(r->json, "type"));
		cr_assert(type && strstr(type, "/problems/exports-busy"), "%s", r->body);
		char *ra = resp_header(r, "Retry-After");
		cr_assert(ra && atoi(ra) >= 1, "Retry-After: %s", ra ? ra : "(none)");
		free(ra);
		resp_free(r);
	}
	struct resp *r = http_at(base, "GET", path, a.token, NULL, NULL);
	cr_assert_eq(r->status, 200, "a JSON page of the same list: %s", r->body);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 20);
	resp_free(r);
	char *cat = xasprintf("/v1/tenants/%s/catalog/products", a.t.id);
	r = http_at(base, "GET", cat, a.token, NULL, csv);
	cr_assert_eq(r->status, 200, "catalog_db's exports are counted apart: %ld %s", r->status, r->body);
	resp_free(r);

	atomic_store(&s.release, 1);
	pthread_join(th, NULL);
	long status = 0;
	for (int i = 0; i < 100 && status != 200; i++) {
		r = http_at(base, "GET", path, a.token, NULL, csv);
		status = r->status;
		size_t lines = 0;
		for (size_t k = 0; status == 200 && k < r->len; k++)
			lines += r->body[k] == '\n';
		if (status == 200)
			cr_assert_eq(lines, 300001u, "every row once the slot is free: %zu lines", lines);
		else
			cr_assert_eq(status, 429, "%ld", status);
		resp_free(r);
		if (status != 200)
			usleep(100000);
	}
	cr_assert_eq(status, 200, "the export slot was given back when the slow client left");
	cr_assert_eq(stop_serve(pid), 0);
	free(cat); free((char *)s.url); free(path); free(a.token);
}

/* The super admin's summary names the tenants it lists: the top tenants by
 * invoiced total and the overdue invoices, each with its tenant's name. */
Test(quickbooks, the_platform_summary_names_top_tenants_and_overdue_invoices_tenants)
{
	struct admin a;
	admin_of_new_tenant(&a);
	connect_tenant(&a);
	char *id = fake_invoice(a.realm, "{\"TotalAmt\":9999999,\"Balance\":9999999,\"DueDate\":\"2020-01-02\"}");
	notify(a.realm, "invoice", id, "created");
	until2(synced_sql, id, a.realm, 30, "the invoice fetch");
	char *name = q1(portal, "SELECT name FROM tenants WHERE id = $1::uuid", a.t.id, NULL);
	char *su = super_token();
	struct resp *r = http("GET", "/v1/billing/summary", su, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	const char *lists[] = {"top_tenants", "overdue_invoices"};
	for (size_t l = 0; l < 2; l++) {
		json_t *item, *mine = NULL;
		size_t i;
		json_array_foreach(json_object_get(r->json, lists[l]), i, item) {
			cr_assert(json_object_get(item, "tenant_name") != NULL, "%s[%zu] has tenant_name", lists[l], i);
			if (strcmp(json_string_value(json_object_get(item, "tenant_id")), a.t.id) == 0)
				mine = item;
		}
		cr_assert_not_null(mine, "the tenant is in %s: %s", lists[l], r->body);
		cr_assert_str_eq(json_string_value(json_object_get(mine, "tenant_name")), name);
	}
	resp_free(r);
	free(su); free(name); free(id); free(a.token);
}

/* An event for a company no tenant has yet stays unmatched; connecting a
 * tenant to that company through the consent maps the realm and the event
 * is processed and fetched without anyone touching it. */
Test(quickbooks, an_event_unmatched_before_connect_is_processed_once_the_consent_maps_the_realm)
{
	struct admin a;
	admin_of_new_tenant(&a);
	char *id = fake_invoice(a.realm, "{\"Line\":[{\"Amount\":42,\"Description\":\"Backup\"}],"
					 "\"Balance\":42,\"DueDate\":\"2027-02-01\"}");
	notify(a.realm, "invoice", id, "created");
	until("SELECT EXISTS (SELECT 1 FROM webhook_inbox WHERE provider = 'quickbooks' AND account_id = $1 "
	      "  AND status = 'unmatched')", a.realm, 30, "the event kept unmatched");
	char *none = q1(billing, "SELECT count(*) FROM invoices WHERE realm_id = $1", a.realm, NULL);
	cr_assert_str_eq(none, "0");

	connect_tenant(&a);
	until2(synced_sql, id, a.realm, 30, "the rematched event's invoice");
	char *after = q1(billing, "SELECT status || ' ' || tenant_id FROM webhook_inbox "
				  "WHERE provider = 'quickbooks' AND account_id = $1", a.realm, NULL);
	char *want = xasprintf("processed %s", a.t.id);
	cr_assert_str_eq(after, want);
	json_t *inv = invoice_of(a.token, a.t.id, id);
	cr_assert_eq(json_integer_value(json_object_get(inv, "total_minor")), 4200);
	json_decref(inv);
	free(want); free(after); free(none); free(id); free(a.token);
}

/* ---- no secret in logs -------------------------------------------------------- */

/* The whole log (heap). */
static char *slurp(const char *path)
{
	char *text = slurp_file(path);
	cr_assert_not_null(text, "%s", path);
	return text;
}

static void assert_log_clean(const char *path)
{
	char *text = slurp(path);
	const char *secret = getenv("ATRIUM_QUICKBOOKS_CLIENT_SECRET");
	const char *key = getenv("ATRIUM_SECRETS_KEY");
	cr_assert_null(strstr(text, "fake-at-"), "an access token in %s", path);
	cr_assert_null(strstr(text, "fake-rt-"), "a refresh token in %s", path);
	cr_assert_null(strstr(text, "fake-code-"), "an authorization code in %s", path);
	cr_assert_null(strstr(text, secret), "the client secret in %s", path);
	cr_assert_null(strstr(text, strchr(key, ':') + 1), "the secrets key in %s", path);
	free(text);
}

Test(quickbooks, no_token_code_or_client_secret_appears_in_serve_or_worker_logs, .timeout = 180)
{
	char serve_base[96];
	char *serve_log = xasprintf("/tmp/atrium-test-qbo-serve-%d.log", (int)getpid());
	char *worker_log = xasprintf("/tmp/atrium-test-qbo-worker-%d.log", (int)getpid());
	const char *env[] = {"ATRIUM_LOG_LEVEL=debug", NULL};
	pid_t serve = spawn_serve(0, env, serve_log, serve_base, sizeof(serve_base));
	unlink(worker_log);
	const char *wenv[] = {"ATRIUM_LOG_LEVEL=debug", "ATRIUM_WORKER_POLL_MS=100", "ATRIUM_QUICKBOOKS_TICK_SECONDS=1",
			      NULL};
	pid_t worker = spawn_worker(worker_log, wenv);

	struct admin a;
	admin_of_new_tenant(&a);
	char *url = start_connect(serve_base, &a);
	char *cb = consent(url, a.realm);
	struct resp *r = callback(serve_base, cb, a.token);
	cr_assert_eq(r->status, 303, "%s", r->body);
	resp_free(r);
	/* The spawned worker (or this process) connects, refreshes, fetches. */
	until("SELECT status = 'connected' FROM quickbooks_connections WHERE tenant_id = $1::uuid", a.t.id, 60,
	      "the connection");
	exec1(billing, "UPDATE quickbooks_connections SET access_expires_at = now() WHERE tenant_id = $1::uuid",
	      a.t.id);
	char *id = fake_invoice(a.realm, "{\"TotalAmt\":1}");
	notify(a.realm, "invoice", id, "created");
	until2(synced_sql, id, a.realm, 60, "the fetch");
	char *path = xasprintf("/v1/tenants/%s/integrations/quickbooks", a.t.id);
	r = http_at(serve_base, "DELETE", path, a.token, NULL, NULL);
	cr_assert_eq(r->status, 200);
	assert_no_secret(r);
	resp_free(r);
	until("SELECT revoke_token_sealed IS NULL FROM quickbooks_connections WHERE tenant_id = $1::uuid", a.t.id, 60,
	      "the revocation");
	kill(worker, SIGTERM);
	int status;
	waitpid(worker, &status, 0);
	stop_serve(serve);
	assert_log_clean(serve_log);
	assert_log_clean(worker_log);
	/* The logs are real: the flow shows in them. */
	char *wl = slurp(worker_log);
	char *sl = slurp(serve_log);
	cr_assert_not_null(strstr(sl, "/v1/integrations/quickbooks/callback"), "serve logged the callback");
	/* (Another worker, scripts/test's, may have run some of the jobs.) */
	cr_assert_not_null(strstr(wl, "worker"), "the worker logged at all");
	free(wl); free(sl);
	unlink(serve_log);
	unlink(worker_log);
	free(path); free(id); free(cb); free(url); free(serve_log); free(worker_log); free(a.token);
}
