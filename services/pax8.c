/*
 * pax8.c - billing_db upserts of Pax8 API data and the queueing of pulls
 * (see pax8.h).
 */
#include "services/pax8.h"
#include "server/jobs/jobs.h"

#include <stdlib.h>
#include <string.h>

static const struct db_stmt stmts[] = {
	{"pax8_upsert_subscription",
	 "WITH d AS (SELECT $2::jsonb AS s, $3::jsonb AS p) "
	 "INSERT INTO subscriptions AS x (tenant_id, company_id, external_id, product_id, product_name, "
	 "    vendor_name, quantity, status, billing_term, price_minor, currency, start_date, end_date, "
	 "    source_updated_at, last_event_id, source, synced_at) "
	 "SELECT $1::uuid, d.s->>'companyId', d.s->>'id', d.s->>'productId', d.p->>'name', "
	 "  d.p->>'vendorName', (d.s->>'quantity')::numeric, "
	 "  COALESCE(webhook_snake(NULLIF(d.s->>'status', '')), 'active'), d.s->>'billingTerm', "
	 "  webhook_minor_units((d.s->>'price')::numeric, d.s->>'currencyCode'), "
	 "  upper(d.s->>'currencyCode'), pax8_ts(d.s->>'startDate'), pax8_ts(d.s->>'endDate'), "
	 "  COALESCE(pax8_ts(d.s->>'updatedDate'), clock_timestamp()), NULL, 'api', clock_timestamp() "
	 "FROM d "
	 "ON CONFLICT ON CONSTRAINT subscriptions_external_key DO UPDATE SET "
	 "  company_id = EXCLUDED.company_id, product_id = EXCLUDED.product_id, "
	 "  product_name = COALESCE(EXCLUDED.product_name, x.product_name), "
	 "  vendor_name = COALESCE(EXCLUDED.vendor_name, x.vendor_name), "
	 "  quantity = EXCLUDED.quantity, status = EXCLUDED.status, billing_term = EXCLUDED.billing_term, "
	 "  price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency, "
	 "  start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date, "
	 "  source_updated_at = GREATEST(x.source_updated_at, EXCLUDED.source_updated_at), "
	 "  source = 'api', synced_at = EXCLUDED.synced_at, version = x.version + 1, "
	 "  updated_at = clock_timestamp() "
	 "RETURNING x.id::text"},
	{"pax8_upsert_usage",
	 "WITH d AS (SELECT $2::jsonb AS u) "
	 "INSERT INTO usage_lines AS x (tenant_id, company_id, usage_summary_id, subscription_id, "
	 "    product_id, product_name, usage_date, quantity, amount_minor, partner_total_minor, "
	 "    currency, is_trial, source_updated_at, last_event_id, source, synced_at) "
	 "SELECT $1::uuid, d.u->>'companyId', d.u->>'id', d.u->>'subscriptionId', d.u->>'productId', "
	 "  $3, (date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC'))::date, NULL, "
	 "  webhook_minor_units((d.u->>'currentCharges')::numeric, d.u->>'currencyCode'), "
	 "  webhook_minor_units((d.u->>'partnerTotal')::numeric, d.u->>'currencyCode'), "
	 "  upper(d.u->>'currencyCode'), COALESCE((d.u->>'isTrial')::boolean, false), "
	 "  clock_timestamp(), NULL, 'api', clock_timestamp() FROM d "
	 "ON CONFLICT ON CONSTRAINT usage_lines_external_key DO UPDATE SET "
	 "  company_id = EXCLUDED.company_id, subscription_id = EXCLUDED.subscription_id, "
	 "  product_name = COALESCE(EXCLUDED.product_name, x.product_name), "
	 "  amount_minor = EXCLUDED.amount_minor, partner_total_minor = EXCLUDED.partner_total_minor, "
	 "  currency = EXCLUDED.currency, is_trial = EXCLUDED.is_trial, "
	 "  source_updated_at = GREATEST(x.source_updated_at, EXCLUDED.source_updated_at), "
	 "  source = 'api', synced_at = EXCLUDED.synced_at, updated_at = clock_timestamp() "
	 "RETURNING x.id::text"},
};

void pax8_register(void)
{
	db_register(DB_BILLING, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

static enum status upsert(struct db_conn *c, const char *stmt, const char *tenant_id, json_t *obj,
			  const char *third)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (text == NULL)
		return ST_INVALID;
	const char *v[] = {tenant_id, text, third};
	PGresult *res = db_exec(c, stmt, 3, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		st = ST_OK;
	} else if (res && PQresultStatus(res) == PGRES_FATAL_ERROR) {
		/* 22 data exception, 23 constraint: the API's data, not us. */
		const char *code = db_sqlstate(res);
		if (strncmp(code, "22", 2) == 0 || strncmp(code, "23", 2) == 0)
			st = ST_INVALID;
	}
	PQclear(res);
	free(text);
	return st;
}

enum status pax8_upsert_subscription(struct db_conn *c, const char *tenant_id, json_t *sub,
				     json_t *product)
{
	char *p = product ? json_dumps(product, JSON_COMPACT) : NULL;
	enum status st = upsert(c, "pax8_upsert_subscription", tenant_id, sub, p);
	free(p);
	return st;
}

enum status pax8_upsert_usage(struct db_conn *c, const char *tenant_id, json_t *summary,
			      const char *product_name)
{
	return upsert(c, "pax8_upsert_usage", tenant_id, summary, product_name);
}

bool pax8_queue_pull_company(struct db_conn *portal, const char *tenant_id, const char *company_id,
			     const char *request_id)
{
	json_t *p = json_pack("{s:s, s:s}", "tenant_id", tenant_id, "company_id", company_id);
	char id[37];
	bool ok = p && jobs_enqueue(portal, PAX8_PULL_COMPANY_KIND, tenant_id, p, request_id, id);
	json_decref(p);
	return ok;
}

bool pax8_queue_pull_subscription(struct db_conn *portal, const char *tenant_id,
				  const char *company_id, const char *subscription_id,
				  const char *request_id)
{
	json_t *p = json_pack("{s:s, s:s, s:s}", "tenant_id", tenant_id, "company_id", company_id,
			      "subscription_id", subscription_id);
	char id[37];
	bool ok = p && jobs_enqueue(portal, PAX8_PULL_SUBSCRIPTION_KIND, tenant_id, p, request_id, id);
	json_decref(p);
	return ok;
}
