/*
 * billing_reads.c - a tenant's billing data as the providers' webhooks and
 * API pulls reported it: GET /v1/tenants/{tenant_id}/invoices (QuickBooks),
 * …/subscriptions and …/usage (Pax8). Read-only; tenant admins and billing
 * viewers (super admins pass every role check). Newest first, paginated,
 * filterable by period (YYYY-MM) and status (usage: subscription_id).
 *
 * Reports: …/usage/by-product and …/billing/totals (period, or from/to
 * months), and GET /v1/billing/summary for super admins. Every list and
 * report answers CSV for `Accept: text/csv` (PostgreSQL's COPY, streamed,
 * services/billing_reports.c) with a Content-Disposition file name; an
 * Accept naming neither JSON nor CSV is 406.
 */
#include "handlers/handlers.h"
#include "server/http/reply.h"
#include "server/http/validate.h"
#include "services/billing_reports.h"
#include "services/portal.h"
#include "services/webhooks.h"
#include "services/quickbooks.h"

#include <stdio.h>
#include <strings.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* "YYYY-MM" + months, as the first day "YYYY-MM-01" (arena). */
static char *month_start(struct request *r, const char *ym, int add)
{
	int y = atoi(ym), m = atoi(ym + 5) - 1 + add;
	y += m / 12;
	m %= 12;
	return arena_printf(&r->arena, "%04d-%02d-01", y, m + 1);
}

static void reply_csv(struct request *r, const char *what, const char *tenant,
		      const struct report_filter *rf, enum billing_report rep)
{
	struct billing_csv *csv;
	enum status st = billing_csv_open(rep, tenant ? tenant : "*", rf, &csv);
	if (st != ST_OK) {
		reply_status(r, st, DB_BILLING);
		return;
	}
	struct reply_stream s = {billing_csv_read, billing_csv_close, csv};
	reply_stream(r, 200, "text/csv; charset=utf-8", &s);
	/* Ids and months only: nothing in the name needs quoting. */
	char *name = arena_printf(&r->arena, "attachment; filename=\"%s%s%s%s%s.csv\"", what,
				  tenant ? "-" : "", tenant ? tenant : "", rf->from ? "-" : "",
				  rf->from ? arena_printf(&r->arena, "%.7s", rf->from) : "");
	reply_header(r, "Content-Disposition", name);
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

/* A list as CSV: every row its filters select (no paging). */
static void csv_of_list(struct request *r, const char *what, const struct billing_filter *f,
			enum billing_report rep)
{
	struct report_filter rf = {.status = f->status, .subscription_id = f->subscription_id};
	if (f->period) {
		rf.from = month_start(r, f->period, 0);
		rf.to = month_start(r, f->period, 1);
	}
	reply_csv(r, what, f->tenant_id, &rf, rep);
}

static void list_invoices(struct request *r)
{
	static const char *const statuses[] = {"open", "voided", "deleted", NULL};
	struct billing_filter f;
	enum reply_format fmt = handler_format_or_reply(r, true);
	if (fmt == FMT_NONE || !common_filter_or_reply(r, &f))
		return;
	f.status = req_query(r, "status");
	if (f.status && !one_of(f.status, statuses)) {
		bad_query(r, "status", "must be open, voided or deleted");
		return;
	}
	if (fmt == FMT_CSV) {
		csv_of_list(r, "invoices", &f, BR_INVOICES);
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
	enum reply_format fmt = handler_format_or_reply(r, true);
	if (fmt == FMT_NONE || !common_filter_or_reply(r, &f))
		return;
	f.status = req_query(r, "status");
	if (f.status && !one_of(f.status, statuses)) {
		bad_query(r, "status", "must be one of Pax8's subscription statuses, e.g. active or cancelled");
		return;
	}
	if (fmt == FMT_CSV)
		csv_of_list(r, "subscriptions", &f, BR_SUBSCRIPTIONS);
	else
		answer(r, &f, webhooks_subscription_list);
}

static void list_usage(struct request *r)
{
	struct billing_filter f;
	enum reply_format fmt = handler_format_or_reply(r, true);
	if (fmt == FMT_NONE || !common_filter_or_reply(r, &f))
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
	if (fmt == FMT_CSV)
		csv_of_list(r, "usage", &f, BR_USAGE);
	else
		answer(r, &f, webhooks_usage_list);
}

/* period=YYYY-MM, or from=YYYY-MM and/or to=YYYY-MM (inclusive months);
 * false after answering 400. */
static bool range_or_reply(struct request *r, struct report_filter *rf)
{
	memset(rf, 0, sizeof(*rf));
	const char *period = req_query(r, "period");
	const char *from = req_query(r, "from");
	const char *to = req_query(r, "to");
	if (period && (from || to)) {
		bad_query(r, "period", "give period, or from and to, not both");
		return false;
	}
	const struct {
		const char *name, *value;
	} q[] = {{"period", period}, {"from", from}, {"to", to}};
	for (size_t i = 0; i < 3; i++)
		if (q[i].value && !valid_period(q[i].value)) {
			bad_query(r, q[i].name, "must be a month as YYYY-MM");
			return false;
		}
	if (from && to && strcmp(from, to) > 0) {
		bad_query(r, "from", "must not be after to");
		return false;
	}
	if (period) {
		rf->from = month_start(r, period, 0);
		rf->to = month_start(r, period, 1);
	} else {
		rf->from = from ? month_start(r, from, 0) : NULL;
		rf->to = to ? month_start(r, to, 1) : NULL;
	}
	return true;
}

static void report(struct request *r, enum billing_report rep, const char *what)
{
	struct report_filter rf;
	enum reply_format fmt = handler_format_or_reply(r, true);
	if (fmt == FMT_NONE || !range_or_reply(r, &rf))
		return;
	const char *tenant = r->params[0];
	if (fmt == FMT_CSV) {
		reply_csv(r, what, tenant, &rf, rep);
		return;
	}
	struct db_conn *c = req_db(r, DB_BILLING, tenant);
	char *json = NULL;
	if (c == NULL || billing_report_json(c, rep, &rf, &r->arena, &json) != ST_OK) {
		reply_db_unreachable(r, DB_BILLING);
		return;
	}
	reply_json_text(r, 200, json);
}

static void usage_by_product(struct request *r)
{
	report(r, BR_USAGE_BY_PRODUCT, "usage-by-product");
}

static void invoice_totals(struct request *r)
{
	report(r, BR_INVOICE_TOTALS, "billing-totals");
}

/* Each top tenant and overdue invoice of the summary gets its tenant's
 * name (portal_db) beside the id; null when portal_db cannot say. */
static void name_tenants(struct request *r, json_t *summary)
{
	const char *lists[] = {"top_tenants", "overdue_invoices"};
	json_t *ids = json_array(), *item;
	size_t i;
	for (size_t l = 0; l < 2; l++)
		json_array_foreach(json_object_get(summary, lists[l]), i, item)
			json_array_append(ids, json_object_get(item, "tenant_id"));
	char *text = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	struct db_conn *p = text ? req_db(r, DB_PORTAL, "*") : NULL;
	char *names_json = NULL;
	json_t *names = NULL;
	if (p && portal_tenant_names(p, text, &r->arena, &names_json) == ST_OK)
		names = json_loads(names_json, 0, NULL);
	free(text);
	for (size_t l = 0; l < 2; l++)
		json_array_foreach(json_object_get(summary, lists[l]), i, item) {
			json_t *name = json_object_get(names, json_string_value(json_object_get(item, "tenant_id")));
			json_object_set_new(item, "tenant_name", name ? json_incref(name) : json_null());
		}
	json_decref(names);
}

static void platform_summary(struct request *r)
{
	struct report_filter rf;
	if (handler_format_or_reply(r, false) == FMT_NONE || !range_or_reply(r, &rf))
		return;
	/* Twelve months to this one when no range is given. */
	if (rf.from == NULL && rf.to == NULL) {
		char now[8];
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m", &tm);
		rf.from = month_start(r, now, -11);
		rf.to = month_start(r, now, 1);
	}
	struct db_conn *c = req_db(r, DB_BILLING, "*");
	char *json = NULL;
	if (c == NULL || billing_summary_json(c, &rf, &r->arena, &json) != ST_OK) {
		reply_db_unreachable(r, DB_BILLING);
		return;
	}
	json_t *summary = json_loads(json, 0, NULL);
	if (summary == NULL) {
		reply_internal(r);
		return;
	}
	name_tenants(r, summary);
	reply_json(r, 200, summary);
}

#define BILLING_READERS (ROLE_TENANT_ADMIN | ROLE_BILLING_VIEWER)

const struct route billing_reads_routes[] = {
	{HTTP_GET, "/v1/tenants/{tenant_id}/invoices", list_invoices, AUTH_REQUIRED, BILLING_READERS,
	 BODY_NONE, "invoices.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/subscriptions", list_subscriptions, AUTH_REQUIRED,
	 BILLING_READERS, BODY_NONE, "subscriptions.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/usage", list_usage, AUTH_REQUIRED, BILLING_READERS, BODY_NONE,
	 "usage.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/usage/by-product", usage_by_product, AUTH_REQUIRED,
	 BILLING_READERS, BODY_NONE, "usage.by_product"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/billing/totals", invoice_totals, AUTH_REQUIRED,
	 BILLING_READERS, BODY_NONE, "billing.totals"},
	{HTTP_GET, "/v1/billing/summary", platform_summary, AUTH_REQUIRED, ROLE_SUPER_ADMIN, BODY_NONE,
	 "billing.summary"},
};
const size_t billing_reads_routes_len = sizeof(billing_reads_routes) / sizeof(billing_reads_routes[0]);
