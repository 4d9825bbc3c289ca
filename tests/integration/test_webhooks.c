/*
 * Integration: billing webhooks end to end against the real server and
 * databases — signature and secret verification over the raw body (every
 * tampering refused, nothing stored), the durable inbox and its dedupe
 * (redeliveries and 200 concurrent deliveries stored exactly once),
 * malformed bodies kept as rejected, processing by `webhooks.process` jobs
 * (in this process, or by a spawned `atrium worker` that is SIGKILLed and
 * restarted), ordering by the provider's timestamps, unknown accounts kept
 * as unmatched, the tenant billing reads and the operators' event list.
 *
 * Payloads are the fixtures in tests/fixtures/webhooks/, in the providers'
 * real shapes, with {{PLACEHOLDERS}} filled per test so runs never collide.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atrium_build.h"
#include "client.h"
#include "server/common/config.h"
#include "server/store/db.h"
#include "server/jobs/jobs.h"
#include "services/portal.h"
#include "server/common/util.h"
#include "workers/webhook_jobs.h"
#include "services/webhooks.h"
#include "services/quickbooks.h"

static PGconn *billing, *portal;

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cr_assert(config_load());
	portal_register();
	jobs_register();
	webhooks_register();
	webhook_jobs_register();
	quickbooks_register(); /* the fetch step of webhooks.process */
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

TestSuite(webhooks, .init = setup, .fini = teardown, .timeout = 240);

/* ---- helpers ------------------------------------------------------------ */

static const char *qbo_token(void)
{
	const char *t = getenv("ATRIUM_QUICKBOOKS_VERIFIER_TOKEN");
	cr_assert(t && *t, "ATRIUM_QUICKBOOKS_VERIFIER_TOKEN must be set");
	return t;
}

static const char *pax8_secret(void)
{
	const char *s = getenv("ATRIUM_PAX8_WEBHOOK_SECRET");
	cr_assert(s && *s, "ATRIUM_PAX8_WEBHOOK_SECRET must be set");
	return s;
}

/* base64(HMAC-SHA256(key, body)), heap. */
static char *sign(const char *key, const char *body, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, len, mac, &n);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, mac, (int)n);
	return out;
}


static struct resp *post_qbo_sig(const char *body, const char *signature)
{
	char *h = signature ? xasprintf("intuit-signature: %s", signature) : NULL;
	const char *headers[] = {"Content-Type: application/json", h, NULL};
	struct resp *r = http("POST", "/v1/webhooks/quickbooks", NULL, body, headers);
	free(h);
	return r;
}

static struct resp *post_qbo(const char *body)
{
	char *sig = sign(qbo_token(), body, strlen(body));
	struct resp *r = post_qbo_sig(body, sig);
	free(sig);
	return r;
}

static struct resp *post_pax8_auth(const char *body, const char *authorization)
{
	char *h = authorization ? xasprintf("Authorization: %s", authorization) : NULL;
	const char *headers[] = {"Content-Type: application/json", h, NULL};
	struct resp *r = http("POST", "/v1/webhooks/pax8", NULL, body, headers);
	free(h);
	return r;
}

static struct resp *post_pax8(const char *body)
{
	return post_pax8_auth(body, pax8_secret());
}

static long receipt(const struct resp *r, const char *field)
{
	cr_assert_eq(r->status, 200, "delivery: %ld %s", r->status, r->body ? r->body : "");
	json_t *v = json_object_get(r->json, field);
	cr_assert(json_is_integer(v), "%s in %s", field, r->body);
	return (long)json_integer_value(v);
}

/* One value of a query on billing_db (or NULL), heap. */
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

static char *event_field(const char *dedupe_key, const char *expr)
{
	char *sql = xasprintf("SELECT (%s)::text FROM webhook_inbox WHERE dedupe_key = $1", expr);
	char *v = q1(billing, sql, dedupe_key, NULL);
	free(sql);
	return v;
}

/* Runs webhook jobs here until no inbox row matching `like` is still
 * `received` (a worker started by scripts/test may take some of them:
 * either way they end processed). */
static void settle(const char *like)
{
	for (int i = 0; i < 600; i++) {
		if (qn(billing, "SELECT count(*) FROM webhook_inbox WHERE dedupe_key LIKE $1 AND status = 'received'",
		       like, NULL) == 0)
			return;
		if (!jobs_run_one("test-webhooks"))
			usleep(50000);
	}
	cr_assert_fail("events %s were not processed in time", like);
}

/* A tenant billed through QuickBooks realm `realm` and Pax8 company `company`. */
static void billed_tenant(struct tenant *t, const char *realm, const char *company)
{
	create_tenant(t);
	char *tok = super_token();
	char *body = xasprintf("{\"quickbooks_realm_id\":\"%s\",\"pax8_company_id\":\"%s\"}", realm, company);
	char *path = xasprintf("/v1/tenants/%s", t->id);
	struct resp *r = http("PATCH", path, tok, body, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	free(path);
	free(body);
	free(tok);
}

static void run_id(char out[13])
{
	char u[37];
	random_uuid(u);
	snprintf(out, 13, "%.8s%.4s", u, u + 9);
}

static long metric(const char *series)
{
	struct resp *r = http("GET", "/metrics", NULL, NULL, NULL);
	cr_assert_eq(r->status, 200);
	const char *p = strstr(r->body, series);
	long v = p ? atol(p + strlen(series) + 1) : -1;
	resp_free(r);
	return v;
}

/* ---- receiving ---------------------------------------------------------- */

Test(webhooks, cloudevents_delivery_with_valid_signature_is_stored_queued_and_answered_200)
{
	char run[13], realm_a[40], realm_b[40], inv[40];
	run_id(run);
	snprintf(realm_a, sizeof(realm_a), "9130%s", run);
	snprintf(realm_b, sizeof(realm_b), "4620%s", run);
	snprintf(inv, sizeof(inv), "%s-145", run);
	const char *subs[] = {"RUN", run, "REALM_A", realm_a, "REALM_B", realm_b, "INVOICE_ID", inv, NULL};
	char *body = fixture("quickbooks_cloudevents.json", subs);
	char *like = xasprintf("%s-%%", run);

	struct resp *r = post_qbo(body);
	cr_assert_eq(receipt(r, "received"), 4);
	cr_assert_eq(receipt(r, "rejected"), 0);
	cr_assert_eq(receipt(r, "duplicates"), 0);
	char *ct = resp_header(r, "Content-Type");
	cr_assert_str_eq(ct, "application/json");
	free(ct);
	resp_free(r);

	/* One inbox row per event, normalised, queued; realms may be mixed. */
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE dedupe_key LIKE $1 "
				 "AND format = 'cloudevents' AND enqueued AND provider = 'quickbooks'", like, NULL), 4);
	char *k = xasprintf("%s-0d3c7a42-Invoice-%s", run, inv);
	char *et = event_field(k, "entity_type || '/' || operation || '/' || account_id || '/' || entity_id");
	char *want = xasprintf("invoice/create/%s/%s", realm_a, inv);
	cr_assert_str_eq(et, want);
	char *m = xasprintf("%s-9a41c2d7-Customer-123", run);
	char *acct = event_field(m, "account_id");
	cr_assert_str_eq(acct, realm_b);
	/* The raw body is kept byte for byte with its signature header. */
	char *same = q1(billing, "SELECT (d.raw_body = convert_to($2, 'UTF8') "
				 "AND d.headers ? 'intuit-signature')::text FROM webhook_inbox e "
				 "JOIN webhook_deliveries d ON d.id = e.delivery_id WHERE e.dedupe_key = $1", k, body);
	cr_assert_str_eq(same, "true");
	/* Each event has its job. */
	char *ids = q1(billing, "SELECT string_agg(id::text, ',') FROM webhook_inbox WHERE dedupe_key LIKE $1", like, NULL);
	char *arr = xasprintf("{%s}", ids);
	cr_assert_eq(qn(portal, "SELECT count(*) FROM jobs WHERE kind = 'webhooks.process' "
				"AND payload->>'event_id' = ANY($1::text[])", arr, NULL), 4);
	free(k); free(et); free(want); free(m); free(acct); free(same); free(ids); free(arr);
	free(like); free(body);
}

Test(webhooks, each_tampering_is_refused_with_401_and_stores_nothing)
{
	char run[13], realm[40], inv[40];
	run_id(run);
	snprintf(realm, sizeof(realm), "7%s", run);
	snprintf(inv, sizeof(inv), "%s-9", run);
	const char *subs[] = {"RUN", run, "REALM_A", realm, "REALM_B", realm, "INVOICE_ID", inv, NULL};
	char *body = fixture("quickbooks_cloudevents.json", subs);
	char *good = sign(qbo_token(), body, strlen(body));
	long before = qn(billing, "SELECT count(*) FROM webhook_deliveries", NULL, NULL);
	long refused_before = metric("atrium_webhook_deliveries_total{provider=\"quickbooks\",outcome=\"bad_signature\"}");

	/* One byte of the body changed, under the original signature. */
	char *tampered = xstrdup(body);
	char *digit = strstr(tampered, "\"time\": \"2026-03-04T15:26:11Z\"");
	cr_assert_not_null(digit);
	digit[strlen("\"time\": \"2026-03-04T15:26:1")] = '2';
	/* One character of the signature changed. */
	char *flipped = xstrdup(good);
	flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
	char *wrong_secret = sign("not-the-verifier-token", body, strlen(body));
	char *truncated = xstrndup(good, 43);
	char *short_b64 = xstrndup(good, 40);
	char *longer = xasprintf("%sAAAA", good);
	char *no_pad = xstrndup(good, 43);
	char *client_secret = sign("the-oauth-client-secret", body, strlen(body));
	char *of_empty = sign(qbo_token(), "", 0);
	const struct {
		const char *what, *body, *sig;
	} cases[] = {
		{"one byte of the body", tampered, good},
		{"one character of the signature", body, flipped},
		{"no intuit-signature header", body, NULL},
		{"signed with another secret", body, wrong_secret},
		{"truncated base64 (43 characters)", body, truncated},
		{"truncated base64 (40 characters)", body, short_b64},
		{"base64 with extra characters", body, longer},
		{"unpadded base64", body, no_pad},
		{"the OAuth client secret instead of the verifier token", body, client_secret},
		{"a signature of the empty body", body, of_empty},
		{"an empty header", body, ""},
		{"not base64 at all", body, "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!="},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp *r = post_qbo_sig(cases[i].body, cases[i].sig);
		cr_assert_eq(r->status, 401, "%s: got %ld %s", cases[i].what, r->status, r->body ? r->body : "");
		assert_problem(r, 401);
		char *www = resp_header(r, "WWW-Authenticate");
		cr_assert(www && strncmp(www, "Webhook ", 8) == 0, "%s", www ? www : "(none)");
		free(www);
		resp_free(r);
	}
	char *like = xasprintf("%s-%%", run);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE dedupe_key LIKE $1", like, NULL), 0,
		     "a refused delivery stored events");
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_deliveries", NULL, NULL), before,
		     "a refused delivery was recorded");
	long refused = metric("atrium_webhook_deliveries_total{provider=\"quickbooks\",outcome=\"bad_signature\"}");
	cr_assert(refused >= refused_before + (long)(sizeof(cases) / sizeof(cases[0])), "%ld -> %ld",
		  refused_before, refused);

	/* The untouched delivery still verifies. */
	struct resp *r = post_qbo_sig(body, good);
	cr_assert_eq(receipt(r, "received"), 4);
	resp_free(r);
	free(like); free(tampered); free(flipped); free(wrong_secret); free(truncated); free(short_b64);
	free(longer); free(no_pad); free(client_secret); free(of_empty); free(good); free(body);
}

Test(webhooks, pax8_secret_must_match_exactly_and_refusals_store_nothing)
{
	char run[13], ev[64], sub[64], company[64];
	run_id(run);
	snprintf(ev, sizeof(ev), "%s-pax8-ev", run);
	snprintf(sub, sizeof(sub), "%s-sub", run);
	snprintf(company, sizeof(company), "%s-company", run);
	const char *subs[] = {"EVENT_ID", ev, "SENT_AT", "2026-03-10T10:00:05Z", "ACTION", "UPDATED",
			      "SUBSCRIPTION_ID", sub, "COMPANY_ID", company, "QUANTITY", "25",
			      "START_DATE", "2026-01-02T00:00:00Z", "UPDATED_AT", "2026-03-10T10:00:00Z",
			      "STATUS", "Active", NULL};
	char *body = fixture("pax8_subscription_updated.json", subs);
	char *prefix = xstrndup(pax8_secret(), strlen(pax8_secret()) - 1);
	char *longer = xasprintf("%sx", pax8_secret());
	char *bearer = xasprintf("Bearer %s", pax8_secret());
	char *upper = xstrdup(pax8_secret());
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	const char *bad[] = {prefix, longer, bearer, upper, "", "wrong"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct resp *r = post_pax8_auth(body, bad[i]);
		assert_problem(r, 401);
		resp_free(r);
	}
	struct resp *r = post_pax8_auth(body, NULL);
	assert_problem(r, 401);
	resp_free(r);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE dedupe_key = $1", ev, NULL), 0);

	r = post_pax8(body);
	cr_assert_eq(receipt(r, "received"), 1);
	resp_free(r);
	/* The secret itself is never stored with the delivery. */
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox e JOIN webhook_deliveries d "
				 "ON d.id = e.delivery_id WHERE e.dedupe_key = $1 AND d.headers::text LIKE '%' || $2 || '%'",
			ev, pax8_secret()), 0);
	char *t = event_field(ev, "entity_type || '/' || operation || '/' || account_id || '/' || entity_id");
	char *want = xasprintf("subscription/updated/%s/%s", company, sub);
	cr_assert_str_eq(t, want);
	free(t); free(want); free(prefix); free(longer); free(bearer); free(upper); free(body);
}

Test(webhooks, a_redelivery_is_acknowledged_and_stored_once)
{
	char run[13], realm[40], inv[40];
	run_id(run);
	snprintf(realm, sizeof(realm), "5%s", run);
	snprintf(inv, sizeof(inv), "%s-77", run);
	const char *subs[] = {"RUN", run, "REALM_A", realm, "INVOICE_ID", inv, NULL};
	char *legacy = fixture("quickbooks_legacy.json", subs);
	char *like = xasprintf("legacy:%%");
	long before = qn(billing, "SELECT count(*) FROM webhook_inbox WHERE dedupe_key LIKE $1", like, NULL);
	struct resp *r = post_qbo(legacy);
	cr_assert_eq(receipt(r, "received"), 3);
	resp_free(r);
	r = post_qbo(legacy);
	cr_assert_eq(receipt(r, "received"), 0);
	cr_assert_eq(receipt(r, "duplicates"), 3);
	resp_free(r);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE dedupe_key LIKE $1", like, NULL),
		     before + 3, "the legacy changes were stored once");
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_deliveries WHERE raw_body = convert_to($1, 'UTF8')",
			legacy, NULL), 1, "the redelivery itself is not kept");

	/* Pax8 without an event id: the body's hash is the key. */
	char sub[64], company[64];
	snprintf(sub, sizeof(sub), "%s-sub", run);
	snprintf(company, sizeof(company), "%s-co", run);
	const char *psubs[] = {"EVENT_ID", "unused", "SENT_AT", "2026-03-10T10:00:05Z", "ACTION", "UPDATED",
			       "SUBSCRIPTION_ID", sub, "COMPANY_ID", company, "QUANTITY", "3",
			       "START_DATE", "2026-01-02T00:00:00Z", "UPDATED_AT", "2026-03-10T10:00:00Z",
			       "STATUS", "Active", NULL};
	char *pax8 = fixture("pax8_subscription_updated.json", psubs);
	json_t *j = json_loads(pax8, 0, NULL);
	json_object_del(j, "id");
	char *no_id = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	for (int i = 0; i < 3; i++) {
		r = post_pax8(no_id);
		cr_assert_eq(receipt(r, "received"), i == 0 ? 1 : 0);
		cr_assert_eq(receipt(r, "duplicates"), i == 0 ? 0 : 1);
		resp_free(r);
	}
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE provider = 'pax8' AND entity_id = $1",
			sub, NULL), 1);
	free(no_id); free(pax8); free(like); free(legacy);
}

Test(webhooks, malformed_bodies_with_a_valid_signature_are_kept_as_rejected_and_answered_400)
{
	char run[13];
	run_id(run);
	char *bodies[] = {
		xasprintf("{\"eventNotifications\": [{\"realmId\": \"%s\"", run), /* cut short */
		xasprintf("{\"hello\": \"%s\"}", run),                              /* neither format */
		xasprintf("\"%s\"", run),                                           /* a string */
		xasprintf("{\"a\": 1, \"a\": \"%s\"}", run),                         /* duplicate keys */
		/* a NUL escape, which neither the parser nor PostgreSQL accept */
		xasprintf("[{\"specversion\":\"1.0\",\"id\":\"%s-nul\",\"data\":{\"note\":\"a\\u0000b\"}}]", run),
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		for (int attempt = 0; attempt < 2; attempt++) {
			struct resp *r = post_qbo(bodies[i]);
			assert_problem(r, 400);
			const char *type = json_string_value(json_object_get(r->json, "type"));
			cr_assert(type && strstr(type, "/problems/malformed-webhook") &&
					  strcmp(strstr(type, "/problems/"), "/problems/malformed-webhook") == 0,
				  "type %s", type);
			resp_free(r);
		}
		char hex[65];
		util_sha256_hex(bodies[i], strlen(bodies[i]), hex);
		char *key = xasprintf("sha256:%s", hex);
		char *st = event_field(key, "status || '/' || format || '/' || (error IS NOT NULL)::text || '/' || enqueued::text");
		cr_assert_str_eq(st, "rejected/unparsed/true/false", "body %zu: %s", i, st ? st : "(not stored)");
		cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE dedupe_key = $1", key, NULL), 1);
		free(st);
		free(key);
		free(bodies[i]);
	}
	/* A usable delivery with one unusable event: the event is kept as
	 * rejected, the others are received, and the answer is 200. */
	char *mixed = xasprintf("[{\"specversion\":\"1.0\",\"id\":\"%s-ok\",\"source\":\"intuit.x\","
				"\"type\":\"qbo.invoice.updated.v1\",\"time\":\"2026-03-01T00:00:00Z\","
				"\"intuitentityid\":\"1\",\"intuitaccountid\":\"%s\"},"
				"{\"specversion\":\"1.0\",\"id\":\"%s-bad-type\",\"type\":\"invoice\","
				"\"time\":\"2026-03-01T00:00:00Z\",\"intuitentityid\":\"1\",\"intuitaccountid\":\"1\"},"
				"{\"specversion\":\"1.0\",\"id\":\"%s-bad-time\",\"type\":\"qbo.invoice.updated.v1\","
				"\"time\":\"yesterday\",\"intuitentityid\":\"1\",\"intuitaccountid\":\"1\"}]",
				run, run, run, run);
	struct resp *r = post_qbo(mixed);
	cr_assert_eq(receipt(r, "received"), 1);
	cr_assert_eq(receipt(r, "rejected"), 2);
	resp_free(r);
	char *k1 = xasprintf("%s-bad-type", run), *k2 = xasprintf("%s-bad-time", run);
	char *e1 = event_field(k1, "status || ': ' || error"), *e2 = event_field(k2, "status || ': ' || error");
	cr_assert(strncmp(e1, "rejected: type", 14) == 0, "%s", e1);
	cr_assert(strncmp(e2, "rejected: ", 10) == 0, "%s", e2);
	free(k1); free(k2); free(e1); free(e2); free(mixed);
}

Test(webhooks, an_oversize_body_is_refused_with_413_and_not_stored)
{
	char run[13];
	run_id(run);
	/* Over the webhook limit (256 KiB) though under the API's (1 MiB). */
	size_t n = 300 * 1024;
	char *pad = xmalloc(n + 1);
	memset(pad, 'x', n);
	pad[n] = '\0';
	char *body = xasprintf("[{\"specversion\":\"1.0\",\"id\":\"%s-big\",\"pad\":\"%s\"}]", run, pad);
	struct resp *r = post_qbo(body);
	assert_problem(r, 413);
	resp_free(r);
	char *key = xasprintf("%s-big", run);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE dedupe_key = $1", key, NULL), 0);
	free(key); free(body); free(pad);
}

/* ---- concurrency ------------------------------------------------------ */

struct delivery_thread {
	pthread_t th;
	char *body;
	char request_id[96];
	long status;
	long received, duplicates;
};

static void *deliver(void *arg)
{
	struct delivery_thread *d = arg;
	char *sig = sign(qbo_token(), d->body, strlen(d->body));
	char *h1 = xasprintf("intuit-signature: %s", sig);
	char *h2 = xasprintf("X-Request-Id: %s", d->request_id);
	const char *headers[] = {"Content-Type: application/json", h1, h2, NULL};
	struct resp *r = http("POST", "/v1/webhooks/quickbooks", NULL, d->body, headers);
	d->status = r->status;
	d->received = (long)json_integer_value(json_object_get(r->json, "received"));
	d->duplicates = (long)json_integer_value(json_object_get(r->json, "duplicates"));
	resp_free(r);
	free(h1); free(h2); free(sig);
	return NULL;
}

Test(webhooks, two_hundred_concurrent_deliveries_are_each_stored_exactly_once)
{
	enum { DISTINCT = 100, COPIES = 2, N = DISTINCT * COPIES, EVENTS = 2 };
	char run[13];
	run_id(run);
	char *bodies[DISTINCT];
	for (int i = 0; i < DISTINCT; i++)
		bodies[i] = xasprintf(
			"[{\"specversion\":\"1.0\",\"id\":\"%s-%d-a\",\"source\":\"intuit.x\","
			"\"type\":\"qbo.invoice.updated.v1\",\"time\":\"2026-03-01T10:00:%02dZ\","
			"\"intuitentityid\":\"%d\",\"intuitaccountid\":\"conc-%s\",\"data\":{}},"
			"{\"specversion\":\"1.0\",\"id\":\"%s-%d-b\",\"source\":\"intuit.x\","
			"\"type\":\"qbo.payment.created.v1\",\"time\":\"2026-03-01T10:01:%02dZ\","
			"\"intuitentityid\":\"%d\",\"intuitaccountid\":\"conc-%s\",\"data\":{}}]",
			run, i, i % 60, i, run, run, i, i % 60, i, run);
	struct delivery_thread *t = xcalloc(N, sizeof(*t));
	for (int i = 0; i < N; i++) {
		t[i].body = bodies[i % DISTINCT];
		snprintf(t[i].request_id, sizeof(t[i].request_id), "conc-%s-%d", run, i);
	}
	for (int i = 0; i < N; i++)
		cr_assert_eq(pthread_create(&t[i].th, NULL, deliver, &t[i]), 0);
	long received = 0, duplicates = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i].th, NULL);
		cr_assert_eq(t[i].status, 200, "delivery %d answered %ld", i, t[i].status);
		received += t[i].received;
		duplicates += t[i].duplicates;
	}
	cr_assert_eq(received, DISTINCT * EVENTS, "received %ld", received);
	cr_assert_eq(duplicates, (N - DISTINCT) * EVENTS, "duplicates %ld", duplicates);
	char *like = xasprintf("%s-%%", run);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE dedupe_key LIKE $1", like, NULL),
		     DISTINCT * EVENTS);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM (SELECT dedupe_key FROM webhook_inbox WHERE dedupe_key LIKE $1 "
				 "GROUP BY dedupe_key HAVING count(*) > 1) d", like, NULL), 0);
	char *rlike = xasprintf("conc-%s-%%", run);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_deliveries WHERE request_id LIKE $1", rlike, NULL),
		     DISTINCT, "one delivery record per distinct delivery");
	char *ids = q1(billing, "SELECT string_agg(id::text, ',') FROM webhook_inbox WHERE dedupe_key LIKE $1", like, NULL);
	char *arr = xasprintf("{%s}", ids);
	cr_assert_eq(qn(portal, "SELECT count(*) FROM jobs WHERE kind = 'webhooks.process' "
				"AND payload->>'event_id' = ANY($1::text[])", arr, NULL), DISTINCT * EVENTS,
		     "one job per stored event");
	for (int i = 0; i < DISTINCT; i++)
		free(bodies[i]);
	free(t); free(like); free(rlike); free(ids); free(arr);
}

/* ---- processing ------------------------------------------------------- */

static char *invoice_event(const char *run, const char *realm, const char *invoice, const char *event,
			   const char *op, const char *time)
{
	char id[96];
	snprintf(id, sizeof(id), "%s-%s", run, event);
	const char *subs[] = {"EVENT_ID", id, "OPERATION", op, "TIME", time, "INVOICE_ID", invoice,
			      "REALM_A", realm, NULL};
	return fixture("quickbooks_invoice_event.json", subs);
}

static void deliver_and_settle(const char *body, const char *like, bool pax8)
{
	struct resp *r = pax8 ? post_pax8(body) : post_qbo(body);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	settle(like);
}

Test(webhooks, quickbooks_changes_are_applied_to_the_tenants_invoices_and_unknown_realms_kept)
{
	char run[13], realm[40], unknown[40], inv[40];
	run_id(run);
	snprintf(realm, sizeof(realm), "3%s", run);
	snprintf(unknown, sizeof(unknown), "8%s", run);
	snprintf(inv, sizeof(inv), "%s-145", run);
	struct tenant t;
	billed_tenant(&t, realm, run);
	const char *subs[] = {"RUN", run, "REALM_A", realm, "REALM_B", unknown, "INVOICE_ID", inv, NULL};
	char *body = fixture("quickbooks_cloudevents.json", subs);
	char *like = xasprintf("%s-%%", run);
	deliver_and_settle(body, like, false);

	char *k_inv = xasprintf("%s-0d3c7a42-Invoice-%s", run, inv);
	char *k_pay = xasprintf("%s-5b6e1f09-Payment-412", run);
	char *k_cus = xasprintf("%s-9a41c2d7-Customer-123", run);
	char *k_sr = xasprintf("%s-77e0aa15-SalesReceipt-150", run);
	char *s;
	s = event_field(k_inv, "status || '/' || outcome || '/' || tenant_id || '/' || applied_count");
	char *want = xasprintf("processed/applied/%s/1", t.id);
	cr_assert_str_eq(s, want);
	free(s); free(want);
	s = event_field(k_pay, "status || '/' || outcome");
	cr_assert_str_eq(s, "processed/applied");
	free(s);
	/* The sales receipt is recorded but changes no billing data. */
	s = event_field(k_sr, "status || '/' || outcome");
	cr_assert_str_eq(s, "processed/ignored");
	free(s);
	/* The unknown realm's event is kept and flagged, never dropped. */
	s = event_field(k_cus, "status || '/' || (tenant_id IS NULL)::text || '/' || error");
	want = xasprintf("unmatched/true/no tenant has quickbooks_realm_id %s", unknown);
	cr_assert_str_eq(s, want);
	free(s); free(want);

	char *admin = mint(t.aad, NULL, "tenant_admin", NULL);
	char *path = xasprintf("/v1/tenants/%s/invoices", t.id);
	struct resp *r = http("GET", path, admin, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_t *data = json_object_get(r->json, "data");
	cr_assert_eq(json_array_size(data), 1);
	json_t *i0 = json_array_get(data, 0);
	cr_assert_str_eq(json_string_value(json_object_get(i0, "external_id")), inv);
	cr_assert_str_eq(json_string_value(json_object_get(i0, "realm_id")), realm);
	cr_assert_str_eq(json_string_value(json_object_get(i0, "status")), "open");
	cr_assert_str_eq(json_string_value(json_object_get(i0, "last_operation")), "create");
	cr_assert_str_eq(json_string_value(json_object_get(i0, "issued_at")), "2026-03-04T15:25:05.179852Z");
	cr_assert(json_is_true(json_object_get(i0, "needs_sync")));
	resp_free(r);

	/* Operators see the unmatched event. */
	char *super = super_token();
	r = http("GET", "/v1/webhooks/events?unmatched=true&provider=quickbooks&limit=100", super, NULL, NULL);
	cr_assert_eq(r->status, 200);
	bool seen = false;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r->json, "data"), i, e) {
		cr_assert_str_eq(json_string_value(json_object_get(e, "status")), "unmatched");
		if (strcmp(json_string_value(json_object_get(e, "dedupe_key")), k_cus) == 0)
			seen = true;
	}
	cr_assert(seen, "the unmatched event is listed");
	resp_free(r);

	/* The audit log of the tenant records the system's change. */
	char *apath = xasprintf("/v1/tenants/%s/audit?action=invoice.create", t.id);
	r = http("GET", apath, super, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(
				 json_array_get(json_object_get(r->json, "data"), 0), "actor"), "kind")), "system");
	resp_free(r);
	free(apath); free(super); free(path); free(admin);
	free(k_inv); free(k_pay); free(k_cus); free(k_sr); free(like); free(body);
}

Test(webhooks, legacy_notifications_are_processed_like_cloudevents)
{
	char run[13], realm[40], inv[40];
	run_id(run);
	snprintf(realm, sizeof(realm), "6%s", run);
	snprintf(inv, sizeof(inv), "%s-1", run);
	struct tenant t;
	billed_tenant(&t, realm, run);
	const char *subs[] = {"RUN", run, "REALM_A", realm, "INVOICE_ID", inv, NULL};
	char *body = fixture("quickbooks_legacy.json", subs);
	struct resp *r = post_qbo(body);
	cr_assert_eq(receipt(r, "received"), 3);
	resp_free(r);
	for (int i = 0; i < 600 && qn(billing, "SELECT count(*) FROM webhook_inbox WHERE account_id = $1 "
						"AND status = 'received'", realm, NULL) > 0; i++)
		if (!jobs_run_one("test-webhooks"))
			usleep(50000);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE account_id = $1 AND format = 'legacy' "
				 "AND status = 'processed' AND outcome = 'applied'", realm, NULL), 3);
	char *iss = q1(billing, "SELECT rfc3339(issued_at) || '/' || status FROM invoices WHERE realm_id = $1", realm, NULL);
	cr_assert_str_eq(iss, "2026-03-05T17:12:44.000000Z/open");
	char *merged = q1(billing, "SELECT merged_from FROM external_entities WHERE account_id = $1 "
				   "AND entity_type = 'customer'", realm, NULL);
	char *want = xasprintf("%s-29", run);
	cr_assert_str_eq(merged, want);
	free(want); free(merged); free(iss); free(body);
}

Test(webhooks, out_of_order_updates_end_in_the_newer_state)
{
	char run[13], realm[40], inv[40], company[40], sub[40];
	run_id(run);
	snprintf(realm, sizeof(realm), "2%s", run);
	snprintf(inv, sizeof(inv), "%s-inv", run);
	snprintf(company, sizeof(company), "%s-co", run);
	snprintf(sub, sizeof(sub), "%s-sub", run);
	struct tenant t;
	billed_tenant(&t, realm, company);
	char *like = xasprintf("%s-%%", run);

	/* QuickBooks: the void (newer) arrives and is processed before the
	 * update (older) it followed. */
	char *newer = invoice_event(run, realm, inv, "void", "voided", "2026-03-06T12:00:00Z");
	char *older = invoice_event(run, realm, inv, "update", "updated", "2026-03-06T11:00:00Z");
	deliver_and_settle(newer, like, false);
	deliver_and_settle(older, like, false);
	/* The older update changes none of the state; it only shows the invoice
	 * existed earlier (issued_at is the earliest change reported). */
	char *s = q1(billing, "SELECT status || '/' || last_operation || '/' || rfc3339(source_updated_at) "
			      "|| '/' || rfc3339(issued_at) FROM invoices WHERE realm_id = $1 AND external_id = $2",
		     realm, inv);
	cr_assert_str_eq(s, "voided/void/2026-03-06T12:00:00.000000Z/2026-03-06T11:00:00.000000Z");
	free(s);
	char *k = xasprintf("%s-update", run);
	s = event_field(k, "status || '/' || outcome || '/' || applied_count");
	cr_assert_str_eq(s, "processed/superseded/0");
	free(s); free(k);

	/* In order, the newer one wins too. */
	char inv2[48];
	snprintf(inv2, sizeof(inv2), "%s-2", inv);
	char *first = invoice_event(run, realm, inv2, "i2-update", "updated", "2026-03-07T09:00:00Z");
	char *second = invoice_event(run, realm, inv2, "i2-void", "voided", "2026-03-07T10:00:00Z");
	deliver_and_settle(first, like, false);
	deliver_and_settle(second, like, false);
	s = q1(billing, "SELECT status || '/' || version FROM invoices WHERE realm_id = $1 AND external_id = $2",
	       realm, inv2);
	cr_assert_str_eq(s, "voided/2");
	free(s);

	/* Pax8: quantity 30 (newer) first, then 25 (older). */
	char ev_new[64], ev_old[64];
	snprintf(ev_new, sizeof(ev_new), "%s-p-new", run);
	snprintf(ev_old, sizeof(ev_old), "%s-p-old", run);
	const char *n_subs[] = {"EVENT_ID", ev_new, "SENT_AT", "2026-03-10T10:05:00Z", "ACTION", "UPDATED",
				"SUBSCRIPTION_ID", sub, "COMPANY_ID", company, "QUANTITY", "30",
				"START_DATE", "2026-01-02T00:00:00Z", "UPDATED_AT", "2026-03-10T10:04:00Z",
				"STATUS", "Active", NULL};
	const char *o_subs[] = {"EVENT_ID", ev_old, "SENT_AT", "2026-03-10T10:05:30Z", "ACTION", "UPDATED",
				"SUBSCRIPTION_ID", sub, "COMPANY_ID", company, "QUANTITY", "25",
				"START_DATE", "2026-01-02T00:00:00Z", "UPDATED_AT", "2026-03-10T09:00:00Z",
				"STATUS", "Active", NULL};
	char *pn = fixture("pax8_subscription_updated.json", n_subs);
	char *po = fixture("pax8_subscription_updated.json", o_subs);
	deliver_and_settle(pn, like, true);
	deliver_and_settle(po, like, true);
	s = q1(billing, "SELECT quantity::text || '/' || rfc3339(source_updated_at) FROM subscriptions "
			"WHERE external_id = $1", sub, NULL);
	cr_assert_str_eq(s, "30/2026-03-10T10:04:00.000000Z");
	free(s);
	s = event_field(ev_old, "outcome");
	cr_assert_str_eq(s, "superseded");
	free(s);
	free(pn); free(po); free(first); free(second); free(newer); free(older); free(like);
}

Test(webhooks, an_event_processed_twice_changes_nothing_more)
{
	char run[13], realm[40], inv[40];
	run_id(run);
	snprintf(realm, sizeof(realm), "1%s", run);
	snprintf(inv, sizeof(inv), "%s-twice", run);
	struct tenant t;
	billed_tenant(&t, realm, run);
	char *like = xasprintf("%s-%%", run);
	char *body = invoice_event(run, realm, inv, "once", "created", "2026-03-08T08:00:00Z");
	deliver_and_settle(body, like, false);
	char *key = xasprintf("%s-once", run);
	char *id = event_field(key, "id");
	char *before = q1(billing, "SELECT version || '/' || updated_at FROM invoices WHERE external_id = $1", inv, NULL);

	/* A second job for the same event (a duplicate from the sweep). */
	struct db_conn *c = db_acquire(DB_PORTAL);
	cr_assert_not_null(c);
	cr_assert(db_scope(c, "*"));
	json_t *p = json_pack("{s:s}", "event_id", id);
	char job[37];
	cr_assert(jobs_enqueue(c, WEBHOOK_JOB_KIND, NULL, p, "test-twice", job));
	json_decref(p);
	db_release(c);
	for (int i = 0; i < 200; i++) {
		char *st = q1(portal, "SELECT status FROM jobs WHERE id = $1", job, NULL);
		bool done = strcmp(st, "succeeded") == 0;
		free(st);
		if (done)
			break;
		if (!jobs_run_one("test-webhooks"))
			usleep(50000);
	}
	char *out = q1(portal, "SELECT status || '/' || (steps->0->'output'->>'status') FROM jobs WHERE id = $1", job, NULL);
	cr_assert_str_eq(out, "succeeded/processed");
	char *after = q1(billing, "SELECT version || '/' || updated_at FROM invoices WHERE external_id = $1", inv, NULL);
	cr_assert_str_eq(after, before);
	char *count = event_field(key, "applied_count");
	cr_assert_str_eq(count, "1");
	free(count); free(after); free(out); free(before); free(id); free(key); free(body); free(like);
}

/* `atrium worker` with a short lease. */
static const char *const short_lease[] = {"ATRIUM_JOB_LEASE_SECONDS=2", "ATRIUM_WORKER_CONCURRENCY=2",
					  "ATRIUM_WORKER_POLL_MS=200", NULL};

Test(webhooks, processing_after_a_worker_crash_completes_each_event_once, .timeout = 240)
{
	enum { N = 150 };
	char run[13], realm[40];
	run_id(run);
	snprintf(realm, sizeof(realm), "4%s", run);
	struct tenant t;
	billed_tenant(&t, realm, run);
	/* One delivery of N invoice changes... */
	size_t cap = 64 + N * 320, off = 0;
	char *body = xmalloc(cap);
	off += (size_t)snprintf(body + off, cap - off, "[");
	for (int i = 0; i < N; i++)
		off += (size_t)snprintf(body + off, cap - off,
					"%s{\"specversion\":\"1.0\",\"id\":\"%s-c-%d\",\"source\":\"intuit.x\","
					"\"type\":\"qbo.invoice.created.v1\",\"time\":\"2026-03-09T10:%02d:%02dZ\","
					"\"intuitentityid\":\"%s-%d\",\"intuitaccountid\":\"%s\",\"data\":{}}",
					i ? "," : "", run, i, i / 60, i % 60, run, i, realm);
	snprintf(body + off, cap - off, "]");
	struct resp *r = post_qbo(body);
	cr_assert_eq(receipt(r, "received"), N);
	resp_free(r);
	/* ...and one event whose job was lost: the request died between the
	 * inbox commit and the job insert. Only the worker's sweep can save it. */
	char *lost = xasprintf("%s-lost", run);
	const char *v[] = {lost, realm};
	PGresult *res = PQexecParams(billing,
		"INSERT INTO webhook_inbox (delivery_id, provider, dedupe_key, format, event_type, account_id, "
		"  entity_type, entity_id, operation, occurred_at, payload, received_at) "
		"SELECT delivery_id, 'quickbooks', $1, 'cloudevents', 'qbo.invoice.created.v1', $2, 'invoice', "
		"  $1, 'create', now(), '{}'::jsonb, now() - interval '5 minutes' "
		"FROM webhook_inbox WHERE account_id = $2 LIMIT 1", 2, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
	PQclear(res);

	char *log = xasprintf("/tmp/atrium-test-worker-%s.log", run);
	pid_t w1 = spawn_worker(log, short_lease);
	/* Kill it hard as soon as it has started on the batch. */
	for (int i = 0; i < 400; i++) {
		if (qn(billing, "SELECT count(*) FROM webhook_inbox WHERE account_id = $1 AND status <> 'received'",
		       realm, NULL) > 0)
			break;
		usleep(10000);
	}
	kill(w1, SIGKILL);
	int status;
	waitpid(w1, &status, 0);
	cr_assert(WIFSIGNALED(status));
	long done_at_crash = qn(billing, "SELECT count(*) FROM webhook_inbox WHERE account_id = $1 "
					 "AND status = 'processed'", realm, NULL);

	cr_log_info("%ld of %d events were processed when the worker was killed", done_at_crash, N + 1);
	pid_t w2 = spawn_worker(log, short_lease);
	bool all = false;
	for (int i = 0; i < 1200 && !all; i++) {
		all = qn(billing, "SELECT count(*) FROM webhook_inbox WHERE account_id = $1 AND status = 'processed'",
			 realm, NULL) == N + 1;
		if (!all)
			usleep(50000);
	}
	kill(w2, SIGTERM);
	waitpid(w2, &status, 0);
	cr_assert(all, "not every event was processed after the restart (%ld done at the crash); see %s",
		  done_at_crash, log);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the restarted worker exited badly; see %s", log);
	cr_assert_eq(qn(billing, "SELECT count(*) FROM webhook_inbox WHERE account_id = $1 "
				 "AND (applied_count <> 1 OR outcome <> 'applied')", realm, NULL), 0,
		     "an event was applied other than exactly once");
	cr_assert_eq(qn(billing, "SELECT count(*) FROM invoices WHERE realm_id = $1 AND version = 1", realm, NULL),
		     N + 1);
	char *ev_lost = event_field(lost, "status || '/' || enqueued::text");
	cr_assert_str_eq(ev_lost, "processed/true");
	unlink(log);
	free(ev_lost); free(log); free(lost); free(body);
}

/* ---- reads ------------------------------------------------------------ */

static json_t *get_data(const char *token, const char *path, long want_status)
{
	struct resp *r = http("GET", path, token, NULL, NULL);
	cr_assert_eq(r->status, want_status, "GET %s: %ld %s", path, r->status, r->body ? r->body : "");
	json_t *data = NULL;
	if (want_status == 200) {
		data = json_incref(json_object_get(r->json, "data"));
		cr_assert(json_is_array(data));
	} else {
		assert_problem(r, want_status);
	}
	resp_free(r);
	return data;
}

/* Items on the first page of /v1/tenants/{tenant}/{what}. */
static size_t count_at(const char *token, const char *tenant, const char *what)
{
	char *path = xasprintf("/v1/tenants/%s/%s", tenant, what);
	json_t *d = get_data(token, path, 200);
	size_t n = json_array_size(d);
	json_decref(d);
	free(path);
	return n;
}

Test(webhooks, billing_reads_are_for_admins_and_billing_viewers_with_period_and_status_filters)
{
	char run[13], realm[40], company[40];
	run_id(run);
	snprintf(realm, sizeof(realm), "55%s", run);
	snprintf(company, sizeof(company), "%s-company", run);
	struct tenant t, other;
	billed_tenant(&t, realm, company);
	create_tenant(&other);
	char *like = xasprintf("%s-%%", run);
	char inv[3][48];
	const char *times[] = {"2026-03-02T10:00:00Z", "2026-03-20T10:00:00Z", "2026-04-01T00:00:00Z"};
	for (int i = 0; i < 3; i++) {
		snprintf(inv[i], sizeof(inv[i]), "%s-r%d", run, i);
		char ev[16];
		snprintf(ev, sizeof(ev), "r%d", i);
		char *b = invoice_event(run, realm, inv[i], ev, i == 1 ? "voided" : "created", times[i]);
		deliver_and_settle(b, like, false);
		free(b);
	}
	const char *statuses[] = {"Active", "Cancelled"};
	char subid[2][48];
	for (int i = 0; i < 2; i++) {
		char ev[64];
		snprintf(ev, sizeof(ev), "%s-s%d", run, i);
		snprintf(subid[i], sizeof(subid[i]), "%s-sub%d", run, i);
		const char *subs[] = {"EVENT_ID", ev, "SENT_AT", "2026-03-10T10:05:00Z", "ACTION", "UPDATED",
				      "SUBSCRIPTION_ID", subid[i], "COMPANY_ID", company, "QUANTITY", "25",
				      "START_DATE", i ? "2026-04-15T00:00:00Z" : "2026-01-02T00:00:00Z",
				      "UPDATED_AT", "2026-03-10T10:04:00Z", "STATUS", statuses[i], NULL};
		char *b = fixture("pax8_subscription_updated.json", subs);
		deliver_and_settle(b, like, true);
		free(b);
	}
	const char *dates[] = {"2026-03-01", "2026-03-02", "2026-04-01"};
	for (int i = 0; i < 3; i++) {
		char ev[64], summary[64];
		snprintf(ev, sizeof(ev), "%s-u%d", run, i);
		snprintf(summary, sizeof(summary), "%s-summary", run);
		const char *subs[] = {"EVENT_ID", ev, "SENT_AT", "2026-04-02T00:00:00Z", "SUMMARY_ID", summary,
				      "COMPANY_ID", company, "SUBSCRIPTION_ID", subid[i == 2],
				      "USAGE_DATE", dates[i], NULL};
		char *b = fixture("pax8_usage_updated.json", subs);
		deliver_and_settle(b, like, true);
		free(b);
	}

	char *admin = mint(t.aad, NULL, "tenant_admin", NULL);
	char *viewer = mint(t.aad, NULL, "billing_viewer", NULL);
	char *support = mint(t.aad, NULL, "support_user", NULL);
	char *member = mint(t.aad, NULL, NULL, NULL);
	char *outsider = mint(other.aad, NULL, "tenant_admin,billing_viewer", NULL);
	char *super = super_token();
	const char *kinds[] = {"invoices", "subscriptions", "usage"};
	for (int k = 0; k < 3; k++) {
		char *path = xasprintf("/v1/tenants/%s/%s", t.id, kinds[k]);
		json_decref(get_data(admin, path, 200));
		json_decref(get_data(viewer, path, 200));
		json_decref(get_data(super, path, 200));
		json_decref(get_data(support, path, 403));
		json_decref(get_data(member, path, 403));
		json_decref(get_data(outsider, path, 404));
		json_decref(get_data(NULL, path, 401));
		free(path);
		path = xasprintf("/v1/tenants/%s/%s", other.id, kinds[k]);
		json_t *d = get_data(outsider, path, 200);
		cr_assert_eq(json_array_size(d), 0, "another tenant's billing data never shows");
		json_decref(d);
		free(path);
		const char *bad[] = {"period=2026-13", "period=2026-3", "period=march", "period=", "limit=0",
				     "limit=101", "cursor=nope"};
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			path = xasprintf("/v1/tenants/%s/%s?%s", t.id, kinds[k], bad[b]);
			json_decref(get_data(admin, path, 400));
			free(path);
		}
	}
	cr_assert_eq(count_at(viewer, t.id, "invoices"), 3);
	cr_assert_eq(count_at(viewer, t.id, "invoices?period=2026-03"), 2);
	cr_assert_eq(count_at(viewer, t.id, "invoices?period=2026-04"), 1);
	cr_assert_eq(count_at(viewer, t.id, "invoices?status=voided"), 1);
	cr_assert_eq(count_at(viewer, t.id, "invoices?status=open&period=2026-03"), 1);
	char *p = xasprintf("/v1/tenants/%s/invoices?status=paid", t.id);
	json_decref(get_data(viewer, p, 400));
	free(p);

	/* Pagination: newest first, pages of one, no repeats. */
	char *next = NULL;
	char seen[3][40];
	for (int page = 0; page < 3; page++) {
		char *path = next ? xasprintf("/v1/tenants/%s/invoices?limit=1&cursor=%s", t.id, next)
				  : xasprintf("/v1/tenants/%s/invoices?limit=1", t.id);
		struct resp *r = http("GET", path, viewer, NULL, NULL);
		cr_assert_eq(r->status, 200);
		json_t *item = json_array_get(json_object_get(r->json, "data"), 0);
		snprintf(seen[page], sizeof(seen[page]), "%s", json_string_value(json_object_get(item, "id")));
		for (int q = 0; q < page; q++)
			cr_assert_str_neq(seen[q], seen[page]);
		free(next);
		const char *nc = json_string_value(json_object_get(r->json, "next_cursor"));
		next = nc ? xstrdup(nc) : NULL;
		cr_assert((page < 2) == (next != NULL), "page %d next_cursor", page);
		resp_free(r);
		free(path);
	}

	cr_assert_eq(count_at(admin, t.id, "subscriptions"), 2);
	cr_assert_eq(count_at(admin, t.id, "subscriptions?status=cancelled"), 1);
	cr_assert_eq(count_at(admin, t.id, "subscriptions?period=2026-03"), 1,
		     "a subscription starting in April was not active in March");
	p = xasprintf("/v1/tenants/%s/subscriptions?status=Active", t.id);
	json_decref(get_data(admin, p, 400));
	free(p);
	p = xasprintf("/v1/tenants/%s/subscriptions?status=active", t.id);
	json_t *subs = get_data(admin, p, 200);
	free(p);
	json_t *s0 = json_array_get(subs, 0);
	cr_assert_eq(json_integer_value(json_object_get(s0, "quantity")), 25);
	cr_assert_eq(json_integer_value(json_object_get(s0, "price_minor")), 2200);
	cr_assert_str_eq(json_string_value(json_object_get(s0, "currency")), "USD");
	cr_assert_str_eq(json_string_value(json_object_get(s0, "company_id")), company);
	cr_assert_str_eq(json_string_value(json_object_get(s0, "billing_term")), "Monthly");
	json_decref(subs);

	cr_assert_eq(count_at(admin, t.id, "usage"), 3);
	cr_assert_eq(count_at(admin, t.id, "usage?period=2026-03"), 2);
	p = xasprintf("/v1/tenants/%s/usage?subscription_id=%s", t.id, subid[1]);
	json_t *usage = get_data(admin, p, 200);
	free(p);
	cr_assert_eq(json_array_size(usage), 1);
	json_t *u0 = json_array_get(usage, 0);
	cr_assert_str_eq(json_string_value(json_object_get(u0, "usage_date")), "2026-04-01");
	cr_assert_eq(json_integer_value(json_object_get(u0, "amount_minor")), 3095);
	cr_assert_eq(json_integer_value(json_object_get(u0, "partner_total_minor")), 2631);
	cr_assert_str_eq(json_string_value(json_object_get(u0, "unit_price")), "0.0416");
	cr_assert_eq(json_integer_value(json_object_get(u0, "quantity")), 744);
	json_decref(usage);
	free(admin); free(viewer); free(support); free(member); free(outsider); free(super); free(like);
}

Test(webhooks, the_event_list_is_for_super_admins_and_filters)
{
	char *super = super_token();
	struct tenant t;
	create_tenant(&t);
	char *admin = mint(t.aad, NULL, "tenant_admin", NULL);
	json_decref(get_data(admin, "/v1/webhooks/events", 403));
	json_decref(get_data(NULL, "/v1/webhooks/events", 401));
	const char *filters[] = {"provider=pax8", "status=rejected", "unmatched=true", "status=processed"};
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		char *path = xasprintf("/v1/webhooks/events?limit=50&%s", filters[i]);
		json_t *d = get_data(super, path, 200);
		size_t k;
		json_t *e;
		json_array_foreach(d, k, e) {
			if (i == 0)
				cr_assert_str_eq(json_string_value(json_object_get(e, "provider")), "pax8");
			if (i == 1)
				cr_assert_str_eq(json_string_value(json_object_get(e, "status")), "rejected");
			if (i == 2)
				cr_assert(json_is_null(json_object_get(e, "tenant_id")));
			if (i == 3)
				cr_assert(json_is_string(json_object_get(e, "tenant_id")));
		}
		json_decref(d);
		free(path);
	}
	const char *bad[] = {"provider=stripe", "status=done", "unmatched=yes", "tenant_id=nope", "limit=0",
			     "cursor=%%%%"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = xasprintf("/v1/webhooks/events?%s", bad[i]);
		json_decref(get_data(super, path, 400));
		free(path);
	}
	free(admin);
	free(super);
}

Test(webhooks, row_level_security_keeps_billing_rows_to_their_tenant)
{
	char run[13], realm[40];
	run_id(run);
	snprintf(realm, sizeof(realm), "99%s", run);
	struct tenant a, b;
	billed_tenant(&a, realm, run);
	create_tenant(&b);
	char *like = xasprintf("%s-%%", run);
	char inv[48];
	snprintf(inv, sizeof(inv), "%s-rls", run);
	char *body = invoice_event(run, realm, inv, "rls", "created", "2026-03-03T00:00:00Z");
	deliver_and_settle(body, like, false);
	PGconn *pg = db_connect("ATRIUM_DB_BILLING_URL");
	const char *v[] = {b.id};
	PQclear(PQexecParams(pg, "SELECT set_config('atrium.tenant_id', $1, false)", 1, NULL, v, NULL, NULL, 0));
	cr_assert_eq(qn(pg, "SELECT count(*) FROM invoices WHERE realm_id = $1", realm, NULL), 0);
	cr_assert_eq(qn(pg, "SELECT count(*) FROM webhook_inbox WHERE account_id = $1", realm, NULL), 0);
	cr_assert_eq(qn(pg, "SELECT count(*) FROM webhook_deliveries", NULL, NULL), 0);
	const char *va[] = {a.id};
	PQclear(PQexecParams(pg, "SELECT set_config('atrium.tenant_id', $1, false)", 1, NULL, va, NULL, NULL, 0));
	cr_assert_eq(qn(pg, "SELECT count(*) FROM invoices WHERE realm_id = $1", realm, NULL), 1);
	PQclear(PQexec(pg, "SELECT set_config('atrium.tenant_id', '', false)"));
	cr_assert_eq(qn(pg, "SELECT count(*) FROM invoices", NULL, NULL), 0);
	PQfinish(pg);
	free(body); free(like);
}

Test(webhooks, a_server_without_secrets_refuses_every_delivery, .timeout = 60)
{
	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin, "ATRIUM_TEST_BINARY must name the atrium binary");
	const char *port = getenv("ATRIUM_TEST_RL_PORT") ? getenv("ATRIUM_TEST_RL_PORT") : "28444";
	char listen[64], base[96];
	snprintf(listen, sizeof(listen), "127.0.0.1:%s", port);
	snprintf(base, sizeof(base), "https://127.0.0.1:%s", port);
	char *qbo = xstrdup(qbo_token()), *pax = xstrdup(pax8_secret());
	pid_t pid = fork();
	if (pid == 0) {
		test_child_dies_with_parent();
		setenv("ATRIUM_LISTEN", listen, 1);
		unsetenv("ATRIUM_QUICKBOOKS_VERIFIER_TOKEN");
		setenv("ATRIUM_PAX8_WEBHOOK_SECRET", "", 1);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
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
	const char *body = "[]";
	char *sig = sign(qbo, body, 2);
	char *h = xasprintf("intuit-signature: %s", sig);
	const char *qh[] = {h, NULL};
	r = http_at(base, "POST", "/v1/webhooks/quickbooks", NULL, body, qh);
	assert_problem(r, 401);
	resp_free(r);
	char *ph = xasprintf("Authorization: %s", pax);
	const char *pheaders[] = {ph, NULL};
	r = http_at(base, "POST", "/v1/webhooks/pax8", NULL, "{}", pheaders);
	assert_problem(r, 401);
	resp_free(r);
	r = http_at(base, "GET", "/metrics", NULL, NULL, NULL);
	cr_assert(strstr(r->body, "atrium_webhook_deliveries_total{provider=\"quickbooks\",outcome=\"not_configured\"} 1"),
		  "the refusal is counted");
	resp_free(r);
	kill(pid, SIGTERM);
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(h); free(ph); free(sig); free(qbo); free(pax);
}
