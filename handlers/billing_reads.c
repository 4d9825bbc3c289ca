/*
 * billing_reads.c - a tenant's billing data as the providers' webhooks
 * reported it: GET /v1/tenants/{tenant_id}/invoices (QuickBooks),
 * …/subscriptions and …/usage (Pax8). Read-only; tenant admins and billing
 * viewers (super admins pass every role check). Newest first, paginated,
 * filterable by period (YYYY-MM) and status (usage: subscription_id).
 */
#include "handlers/handlers.h"
#include "server/http/reply.h"
#include "server/http/validate.h"
#include "services/webhooks.h"
#include "services/quickbooks.h"

#include <ctype.h>
#include <string.h>

static void bad_query(struct request *r, const char *field, const char *message)
{
	json_t *errors = NULL;
	problem_add_error(&errors, field, message);
	char *detail = arena_printf(&r->arena, "The query parameter %s is invalid.", field);
	reply_problem(r, 400, "invalid-query", "Bad Request", detail, errors);
}

/* "YYYY-MM", months 01..12, years 1970..9999. */
static bool valid_period(const char *s)
{
	if (strlen(s) != 7 || s[4] != '-')
		return false;
	for (int i = 0; i < 7; i++)
		if (i != 4 && !isdigit((unsigned char)s[i]))
			return false;
	int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int month = (s[5] - '0') * 10 + (s[6] - '0');
	return year >= 1970 && month >= 1 && month <= 12;
}

static bool one_of(const char *v, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(v, *allowed) == 0)
			return true;
	return false;
}

/* Reads limit, cursor and period; false after answering 400. */
static bool common_filter_or_reply(struct request *r, struct billing_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->tenant_id = r->params[0];
	if (!validate_limit_or_reply(r, 20, 100, &f->limit) || !page_cursor_or_reply(r, &f->cursor))
		return false;
	f->period = req_query(r, "period");
	if (f->period && !valid_period(f->period)) {
		bad_query(r, "period", "must be a month as YYYY-MM");
		return false;
	}
	return true;
}

typedef enum status (*list_fn)(struct db_conn *, const struct billing_filter *,
					struct arena *, char **);

static void answer(struct request *r, const struct billing_filter *f, list_fn fn)
{
	struct db_conn *c = req_db(r, DB_BILLING, f->tenant_id);
	char *page = NULL;
	if (c == NULL || fn(c, f, &r->arena, &page) != ST_OK) {
		reply_db_unreachable(r, DB_BILLING);
		return;
	}
	reply_json_text(r, 200, page);
}

static void list_invoices(struct request *r)
{
	static const char *const statuses[] = {"open", "voided", "deleted", NULL};
	struct billing_filter f;
	if (!common_filter_or_reply(r, &f))
		return;
	f.status = req_query(r, "status");
	if (f.status && !one_of(f.status, statuses)) {
		bad_query(r, "status", "must be open, voided or deleted");
		return;
	}
	/* The page, plus totals per currency over the whole filter (issue 15). */
	struct db_conn *c = req_db(r, DB_BILLING, f.tenant_id);
	char *page = NULL, *totals = NULL;
	if (c == NULL || webhooks_invoice_list(c, &f, &r->arena, &page) != ST_OK ||
	    quickbooks_invoice_totals(c, f.tenant_id, f.period, f.status, &r->arena, &totals) != ST_OK ||
	    page[0] != '{') {
		reply_db_unreachable(r, DB_BILLING);
		return;
	}
	reply_json_text(r, 200, arena_printf(&r->arena, "{\"totals\":%s,%s", totals, page + 1));
}

static void list_subscriptions(struct request *r)
{
	/* Pax8's subscription statuses, as API enum values. */
	static const char *const statuses[] = {
		"active", "cancelled", "pending_manual", "pending_automated", "pending_cancel",
		"waiting_for_details", "trial", "converted", "pending_activation", "activated", NULL};
	struct billing_filter f;
	if (!common_filter_or_reply(r, &f))
		return;
	f.status = req_query(r, "status");
	if (f.status && !one_of(f.status, statuses)) {
		bad_query(r, "status", "must be one of Pax8's subscription statuses, e.g. active or cancelled");
		return;
	}
	answer(r, &f, webhooks_subscription_list);
}

static void list_usage(struct request *r)
{
	struct billing_filter f;
	if (!common_filter_or_reply(r, &f))
		return;
	f.subscription_id = req_query(r, "subscription_id");
	if (f.subscription_id) {
		size_t n = strlen(f.subscription_id);
		bool ok = n >= 1 && n <= 128;
		for (size_t i = 0; ok && i < n; i++)
			ok = f.subscription_id[i] > 0x20 && f.subscription_id[i] < 0x7f;
		if (!ok) {
			bad_query(r, "subscription_id", "must be 1-128 visible ASCII characters");
			return;
		}
	}
	answer(r, &f, webhooks_usage_list);
}

#define BILLING_READERS (ROLE_TENANT_ADMIN | ROLE_BILLING_VIEWER)

const struct route billing_reads_routes[] = {
	{HTTP_GET, "/v1/tenants/{tenant_id}/invoices", list_invoices, AUTH_REQUIRED, BILLING_READERS,
	 BODY_NONE, "invoices.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/subscriptions", list_subscriptions, AUTH_REQUIRED,
	 BILLING_READERS, BODY_NONE, "subscriptions.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/usage", list_usage, AUTH_REQUIRED, BILLING_READERS, BODY_NONE,
	 "usage.list"},
};
const size_t billing_reads_routes_len = sizeof(billing_reads_routes) / sizeof(billing_reads_routes[0]);
