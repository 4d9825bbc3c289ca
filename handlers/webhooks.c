/*
 * webhooks.c - POST /v1/webhooks/quickbooks, POST /v1/webhooks/pax8 (the
 * providers' callbacks, outside bearer auth) and GET /v1/webhooks/events
 * (super admins: what arrived and what became of it).
 *
 * A delivery is verified over the raw body before anything is parsed or
 * stored (401 otherwise, counted in atrium_webhook_deliveries_total), then
 * its events go to the billing_db inbox in one transaction and get one
 * worker job each; the answer follows at once (Intuit retries after 3 s,
 * Pax8 gives up after 10 s). A redelivery is answered 200 and adds nothing.
 * A body that verifies but cannot be used is kept as a rejected event and
 * answered 400. Raw-body routes have their own body limit
 * (ATRIUM_WEBHOOK_MAX_BODY_KIB), enforced by the core before reading.
 */
#include "handlers/handlers.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/http/reply.h"
#include "server/http/validate.h"
#include "handlers/webhook_verify.h"
#include "services/webhooks.h"

#include <stdatomic.h>
#include <string.h>

enum { P_QUICKBOOKS, P_PAX8, P_COUNT };
enum outcome {
	O_ACCEPTED,       /* stored (at least one new event) */
	O_DUPLICATE,      /* every event was stored already */
	O_MALFORMED,      /* verified, unusable: stored as rejected, 400 */
	O_BAD_SIGNATURE,  /* missing or wrong signature / secret: 401 */
	O_NOT_CONFIGURED, /* no secret configured: 401 */
	O_UNAVAILABLE,    /* billing_db down: 503, the provider retries */
	O_COUNT
};

static const char *const provider_names[P_COUNT] = {"quickbooks", "pax8"};
static const char *const outcome_names[O_COUNT] = {"accepted",      "duplicate",      "malformed",
						   "bad_signature", "not_configured", "unavailable"};
static _Atomic unsigned long long deliveries[P_COUNT][O_COUNT];
static atomic_bool warned_unconfigured[P_COUNT];

static void count(int p, enum outcome o)
{
	atomic_fetch_add_explicit(&deliveries[p][o], 1, memory_order_relaxed);
}

void webhook_metrics_write(char **buf, size_t *len, size_t *cap)
{
	metrics_family(buf, len, cap, "atrium_webhook_deliveries_total", "counter",
		       "Webhook deliveries received, by provider and outcome.");
	for (int p = 0; p < P_COUNT; p++)
		for (int o = 0; o < O_COUNT; o++)
			metrics_appendf(buf, len, cap,
				"atrium_webhook_deliveries_total{provider=\"%s\",outcome=\"%s\"} %llu\n",
				provider_names[p], outcome_names[o],
				(unsigned long long)atomic_load_explicit(&deliveries[p][o],
									 memory_order_relaxed));
}

static void reply_unverified(struct request *r, int p, const char *detail)
{
	reply_problem(r, 401, "invalid-webhook-signature", "Unauthorized", detail, NULL);
	reply_header(r, "WWW-Authenticate",
		     p == P_QUICKBOOKS ? "Webhook realm=\"quickbooks\"" : "Webhook realm=\"pax8\"");
}

/* Verifies the delivery; false after answering 401. */
static bool verified_or_reply(struct request *r, int p, const char *body, size_t len)
{
	const char *secret = p == P_QUICKBOOKS ? cfg.quickbooks_verifier_token : cfg.pax8_webhook_secret;
	const char *header = p == P_QUICKBOOKS ? "intuit-signature" : "Authorization";
	if (secret == NULL || *secret == '\0') {
		if (!atomic_exchange(&warned_unconfigured[p], true))
			log_error("webhooks: %s is not set: every %s delivery is refused (401)",
				  p == P_QUICKBOOKS ? "ATRIUM_QUICKBOOKS_VERIFIER_TOKEN"
						    : "ATRIUM_PAX8_WEBHOOK_SECRET",
				  provider_names[p]);
		count(p, O_NOT_CONFIGURED);
		/* The same answer as a wrong signature: callers learn nothing
		 * about the configuration. */
		reply_unverified(r, p, p == P_QUICKBOOKS
					       ? "The intuit-signature header does not verify against the body."
					       : "The Authorization header does not match this webhook's secret.");
		return false;
	}
	const char *value = req_header(r, header);
	if (value == NULL) {
		count(p, O_BAD_SIGNATURE);
		reply_unverified(r, p, p == P_QUICKBOOKS ? "The intuit-signature header is missing."
							 : "The Authorization header is missing.");
		return false;
	}
	bool ok = p == P_QUICKBOOKS ? webhook_quickbooks_signature_ok(secret, body, len, value)
				    : webhook_pax8_secret_ok(secret, value);
	if (!ok) {
		count(p, O_BAD_SIGNATURE);
		reply_unverified(r, p, p == P_QUICKBOOKS
					       ? "The intuit-signature header does not verify against the body."
					       : "The Authorization header does not match this webhook's secret.");
		return false;
	}
	return true;
}

/* The request headers worth keeping with the delivery. Never a secret:
 * Pax8's Authorization header is the shared secret itself. */
static json_t *headers_of_interest(struct request *r, int p)
{
	static const char *const names[] = {"Content-Type", "User-Agent", "X-Request-Id",
					    "intuit-signature", "intuit-created-time", "intuit-t-id"};
	json_t *h = json_object();
	size_t n = p == P_QUICKBOOKS ? sizeof(names) / sizeof(names[0]) : 3;
	for (size_t i = 0; i < n; i++) {
		const char *v = req_header(r, names[i]);
		json_t *s = v ? json_stringn(v, strnlen(v, 512)) : NULL;
		if (s)
			json_object_set_new(h, names[i], s);
	}
	return h;
}

static void receive(struct request *r, int p)
{
	const char *body = r->body ? r->body : "";
	size_t len = r->body_len;
	if (!verified_or_reply(r, p, body, len))
		return;

	json_t *events = NULL, *headers = NULL;
	const char *why = NULL;
	enum webhook_parse parsed = p == P_QUICKBOOKS ? webhook_parse_quickbooks(body, len, &events, &why)
						      : webhook_parse_pax8(body, len, &events, &why);
	if (parsed == WEBHOOK_PARSE_MALFORMED) {
		events = json_array();
		json_array_append_new(events, webhook_rejected_body_event(body, len, why));
	}
	headers = headers_of_interest(r, p);
	struct db_conn *billing = req_db(r, DB_BILLING, "*");
	struct webhook_delivery d = {
		.provider = provider_names[p], .body = body, .body_len = len, .headers = headers,
		.client_ip = r->client_ip, .request_id = r->request_id, .events = events,
	};
	struct webhook_intake_result in;
	enum status st = billing ? webhooks_intake(billing, &d, &r->arena, &in)
					  : ST_UNAVAILABLE;
	if (st == ST_INVALID) {
		/* JSON jansson reads but PostgreSQL will not store: keep the raw
		 * delivery as one rejected event instead. */
		parsed = WEBHOOK_PARSE_MALFORMED;
		why = "The body holds JSON that cannot be stored (e.g. a \\u0000 escape).";
		json_decref(events);
		events = json_array();
		json_array_append_new(events, webhook_rejected_body_event(body, len, why));
		d.events = events;
		st = webhooks_intake(billing, &d, &r->arena, &in);
	}
	if (st != ST_OK) {
		count(p, O_UNAVAILABLE);
		reply_unavailable(r, "billing_db is unavailable; the delivery was not stored");
		goto cleanup;
	}
	if (in.n_received > 0) {
		/* The events are durable now; a failure to queue their jobs is
		 * repaired by the worker's sweep, so the provider still gets 200. */
		struct db_conn *portal = req_db(r, DB_PORTAL, "*");
		if (portal == NULL ||
		    !webhooks_enqueue_processing(portal, billing, in.received_ids, in.n_received, r->request_id))
			log_warn("webhooks: %d %s event(s) stored but not queued; the sweep will queue them",
				 in.n_received, provider_names[p]);
	}
	if (parsed == WEBHOOK_PARSE_MALFORMED) {
		count(p, O_MALFORMED);
		reply_problem(r, 400, "malformed-webhook", "Bad Request", why, NULL);
		goto cleanup;
	}
	count(p, in.stored > 0 || json_array_size(events) == 0 ? O_ACCEPTED : O_DUPLICATE);
	reply_json(r, 200, json_pack("{s:i, s:i, s:i}", "received", in.n_received, "rejected",
				     in.rejected, "duplicates", in.duplicates));
cleanup:
	json_decref(events);
	json_decref(headers);
}

static void receive_quickbooks(struct request *r)
{
	receive(r, P_QUICKBOOKS);
}

static void receive_pax8(struct request *r)
{
	receive(r, P_PAX8);
}

static bool one_of(const char *v, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(v, *allowed) == 0)
			return true;
	return false;
}

static void bad_query(struct request *r, const char *field, const char *message)
{
	json_t *errors = NULL;
	problem_add_error(&errors, field, message);
	char *detail = arena_printf(&r->arena, "The query parameter %s is invalid.", field);
	reply_problem(r, 400, "invalid-query", "Bad Request", detail, errors);
}

static void list_events(struct request *r)
{
	static const char *const providers[] = {"quickbooks", "pax8", NULL};
	static const char *const statuses[] = {"received", "processed", "rejected", "unmatched", "failed",
					       NULL};
	struct webhook_event_filter f = {.unmatched = -1};
	if (!validate_limit_or_reply(r, 20, 100, &f.limit) || !page_cursor_or_reply(r, &f.cursor))
		return;
	f.provider = req_query(r, "provider");
	f.status = req_query(r, "status");
	f.tenant_id = req_query(r, "tenant_id");
	const char *um = req_query(r, "unmatched");
	if (f.provider && !one_of(f.provider, providers)) {
		bad_query(r, "provider", "must be quickbooks or pax8");
		return;
	}
	if (f.status && !one_of(f.status, statuses)) {
		bad_query(r, "status", "must be received, processed, rejected, unmatched or failed");
		return;
	}
	if (um) {
		if (strcmp(um, "true") == 0) {
			f.unmatched = 1;
		} else if (strcmp(um, "false") == 0) {
			f.unmatched = 0;
		} else {
			bad_query(r, "unmatched", "must be true or false");
			return;
		}
	}
	if (f.tenant_id && !util_is_uuid(f.tenant_id)) {
		bad_query(r, "tenant_id", "must be a UUID");
		return;
	}
	struct db_conn *c = req_db(r, DB_BILLING, "*");
	char *page = NULL;
	if (c == NULL || webhooks_event_list(c, &f, &r->arena, &page) != ST_OK) {
		reply_db_unreachable(r, DB_BILLING);
		return;
	}
	reply_json_text(r, 200, page);
}

const struct route webhooks_routes[] = {
	{HTTP_POST, "/v1/webhooks/quickbooks", receive_quickbooks, AUTH_NONE, ROLE_ANY, BODY_RAW,
	 "webhooks.quickbooks"},
	{HTTP_POST, "/v1/webhooks/pax8", receive_pax8, AUTH_NONE, ROLE_ANY, BODY_RAW, "webhooks.pax8"},
	{HTTP_GET, "/v1/webhooks/events", list_events, AUTH_REQUIRED, ROLE_SUPER_ADMIN, BODY_NONE,
	 "webhooks.events.list"},
};
const size_t webhooks_routes_len = sizeof(webhooks_routes) / sizeof(webhooks_routes[0]);
