/*
 * webhooks.c - billing_db statements for the webhook inbox and the billing
 * data its events maintain (see webhooks.h).
 *
 * Applying an event is one statement per kind: it locks the inbox row while
 * it is still `received`, upserts the tenant's row only when the event is
 * newer than what is stored (the provider's timestamp is kept on the row),
 * and marks the event processed. So an event applied twice, or an older
 * event arriving late, changes nothing, and a crash leaves either all of it
 * or none of it.
 */
#include "services/webhooks.h"
#include "server/common/log.h"
#include "server/jobs/jobs.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The inbox row of $1 while it is still to be processed, locked. */
#define EV_CTE(cols)                                                          \
	"WITH ev AS (SELECT " cols " FROM webhook_inbox "                    \
	"  WHERE id = $1::uuid AND status = 'received' FOR UPDATE), "

/* Marks the event processed; `up` is the upsert CTE (rows only when applied). */
#define MARK_CTE                                                              \
	"mark AS (UPDATE webhook_inbox w SET status = 'processed', tenant_id = $2::uuid, " \
	"    outcome = CASE WHEN EXISTS (SELECT 1 FROM up) THEN 'applied' ELSE 'superseded' END, " \
	"    applied_count = w.applied_count + CASE WHEN EXISTS (SELECT 1 FROM up) THEN 1 ELSE 0 END, " \
	"    error = NULL, processed_at = clock_timestamp(), updated_at = clock_timestamp() " \
	"  FROM ev WHERE w.id = ev.id RETURNING 1) "

#define NEWER(alias) "EXCLUDED.source_updated_at > " alias ".source_updated_at"

static const struct db_stmt stmts[] = {
	{"webhooks_intake",
	 "WITH d AS (INSERT INTO webhook_deliveries (provider, raw_body, headers, client_ip, request_id) "
	 "  VALUES ($1, decode($2, 'base64'), $3::jsonb, $4, $5) RETURNING id), "
	 "ev AS (SELECT x.*, webhook_ts(x.occurred_at) AS ts FROM jsonb_to_recordset($6::jsonb) AS x("
	 "  dedupe_key text, format text, event_type text, account_id text, entity_type text, "
	 "  entity_id text, operation text, occurred_at text, payload jsonb, status text, error text)), "
	 "ins AS (INSERT INTO webhook_inbox (delivery_id, provider, dedupe_key, format, event_type, "
	 "    account_id, entity_type, entity_id, operation, occurred_at, payload, status, error, processed_at) "
	 "  SELECT d.id, $1, ev.dedupe_key, ev.format, ev.event_type, ev.account_id, ev.entity_type, "
	 "    ev.entity_id, ev.operation, ev.ts, ev.payload, "
	 "    CASE WHEN ev.status = 'received' AND ev.ts IS NULL THEN 'rejected' ELSE ev.status END, "
	 "    CASE WHEN ev.status = 'received' AND ev.ts IS NULL "
	 "      THEN 'the event time is not a timestamp' ELSE ev.error END, "
	 "    CASE WHEN ev.status = 'received' AND ev.ts IS NOT NULL THEN NULL ELSE clock_timestamp() END "
	 "  FROM d CROSS JOIN ev "
	 "  ON CONFLICT ON CONSTRAINT webhook_inbox_dedupe DO NOTHING "
	 "  RETURNING id, status) "
	 "SELECT id::text, status FROM ins"},
	{"webhooks_mark_enqueued",
	 "UPDATE webhook_inbox SET enqueued = true, updated_at = clock_timestamp() "
	 "WHERE id = ANY($1::uuid[])"},
	{"webhooks_unenqueued",
	 "SELECT id::text FROM webhook_inbox "
	 "WHERE enqueued = false AND status = 'received' "
	 "  AND received_at < clock_timestamp() - make_interval(secs => $1::int) "
	 "ORDER BY received_at LIMIT $2::int FOR UPDATE SKIP LOCKED"},
	{"webhooks_event_load",
	 "SELECT id::text, provider, status, account_id, entity_type, operation, entity_id, "
	 "  COALESCE(tenant_id::text, '') FROM webhook_inbox WHERE id = $1::uuid"},
	{"webhooks_reopen_unmatched",
	 "UPDATE webhook_inbox SET status = 'received', outcome = NULL, tenant_id = NULL, error = NULL, "
	 "  enqueued = false, processed_at = NULL, updated_at = clock_timestamp() "
	 "WHERE id IN (SELECT id FROM webhook_inbox WHERE status = 'unmatched' AND provider = $1 "
	 "  AND account_id = $2 ORDER BY received_at LIMIT 1000 FOR UPDATE SKIP LOCKED) "
	 "RETURNING id::text"},
	{"webhooks_event_finish",
	 "UPDATE webhook_inbox SET status = $2, outcome = $3, tenant_id = COALESCE($4::uuid, tenant_id), "
	 "  error = $5, processed_at = clock_timestamp(), updated_at = clock_timestamp() "
	 "WHERE id = $1::uuid AND status = 'received'"},

	{"webhooks_apply_invoice",
	 EV_CTE("id, account_id, entity_id, operation, occurred_at")
	 "up AS (INSERT INTO invoices AS i (tenant_id, realm_id, external_id, status, last_operation, "
	 "    issued_at, source_updated_at, last_event_id) "
	 "  SELECT $2::uuid, ev.account_id, ev.entity_id, "
	 "    CASE ev.operation WHEN 'void' THEN 'voided' WHEN 'delete' THEN 'deleted' ELSE 'open' END, "
	 "    ev.operation, ev.occurred_at, ev.occurred_at, ev.id FROM ev "
	 "  ON CONFLICT ON CONSTRAINT invoices_external_key DO UPDATE SET "
	 "    status = CASE WHEN " NEWER("i") " THEN CASE EXCLUDED.last_operation "
	 "        WHEN 'void' THEN 'voided' WHEN 'delete' THEN 'deleted' WHEN 'create' THEN 'open' "
	 "        ELSE i.status END ELSE i.status END, "
	 "    last_operation = CASE WHEN " NEWER("i") " THEN EXCLUDED.last_operation ELSE i.last_operation END, "
	 "    last_event_id = CASE WHEN " NEWER("i") " THEN EXCLUDED.last_event_id ELSE i.last_event_id END, "
	 "    needs_sync = i.needs_sync OR " NEWER("i") ", "
	 "    source_updated_at = GREATEST(i.source_updated_at, EXCLUDED.source_updated_at), "
	 "    issued_at = LEAST(i.issued_at, EXCLUDED.issued_at), "
	 "    version = i.version + 1, updated_at = clock_timestamp() "
	 "  WHERE " NEWER("i") " OR EXCLUDED.issued_at < i.issued_at "
	 /* Only the newer side counts as applied; an older Create that only
	  * moves issued_at back is still superseded. */
	 "  RETURNING i.id, i.last_event_id = $1::uuid AS applied), "
	 "upa AS (SELECT id FROM up WHERE applied), "
	 "mark AS (UPDATE webhook_inbox w SET status = 'processed', tenant_id = $2::uuid, "
	 "    outcome = CASE WHEN EXISTS (SELECT 1 FROM upa) THEN 'applied' ELSE 'superseded' END, "
	 "    applied_count = w.applied_count + CASE WHEN EXISTS (SELECT 1 FROM upa) THEN 1 ELSE 0 END, "
	 "    error = NULL, processed_at = clock_timestamp(), updated_at = clock_timestamp() "
	 "  FROM ev WHERE w.id = ev.id RETURNING 1) "
	 "SELECT (SELECT count(*) FROM ev)::int, EXISTS (SELECT 1 FROM upa), "
	 "  COALESCE((SELECT id::text FROM upa), '')"},

	{"webhooks_apply_qbo_entity",
	 EV_CTE("id, account_id, entity_type, entity_id, operation, occurred_at, payload")
	 "up AS (INSERT INTO external_entities AS x (tenant_id, provider, account_id, entity_type, "
	 "    external_id, last_operation, merged_from, source_updated_at, last_event_id) "
	 "  SELECT $2::uuid, 'quickbooks', ev.account_id, ev.entity_type, ev.entity_id, ev.operation, "
	 "    COALESCE(ev.payload->'data'->>'deletedid', ev.payload->'entity'->>'deletedId'), "
	 "    ev.occurred_at, ev.id FROM ev "
	 "  ON CONFLICT (tenant_id, provider, account_id, entity_type, external_id) DO UPDATE SET "
	 "    last_operation = EXCLUDED.last_operation, "
	 "    merged_from = COALESCE(EXCLUDED.merged_from, x.merged_from), "
	 "    source_updated_at = EXCLUDED.source_updated_at, last_event_id = EXCLUDED.last_event_id, "
	 "    updated_at = clock_timestamp() "
	 "  WHERE " NEWER("x") " "
	 "  RETURNING x.external_id), "
	/* A payment or a customer change may change the realm's open invoices:
	 * flag them for the follow-up fetch from the QuickBooks API. */
	 "inv AS (UPDATE invoices SET needs_sync = true, version = version + 1, "
	 "    updated_at = clock_timestamp() "
	 "  WHERE tenant_id = $2::uuid AND realm_id = (SELECT account_id FROM ev) AND status = 'open' "
	 "    AND NOT needs_sync AND EXISTS (SELECT 1 FROM up) RETURNING 1), "
	 MARK_CTE
	 "SELECT (SELECT count(*) FROM ev)::int, EXISTS (SELECT 1 FROM up), ''"},

	{"webhooks_apply_subscription",
	 EV_CTE("id, account_id, entity_id, operation, occurred_at, "
		"COALESCE(payload->'payloadData', payload->'data') AS d")
	 "st AS (SELECT COALESCE(webhook_snake(NULLIF(ev.d->>'status', '')), "
	 "    CASE WHEN ev.operation IN ('cancelled', 'canceled', 'deleted') THEN 'cancelled' END) AS new_status "
	 "  FROM ev), "
	 "up AS (INSERT INTO subscriptions AS s (tenant_id, company_id, external_id, product_id, "
	 "    product_name, quantity, status, billing_term, price_minor, currency, start_date, end_date, "
	 "    source_updated_at, last_event_id) "
	 "  SELECT $2::uuid, ev.account_id, ev.entity_id, ev.d->>'productId', ev.d->>'productName', "
	 "    (ev.d->>'quantity')::numeric, COALESCE((SELECT new_status FROM st), 'active'), ev.d->>'billingTerm', "
	 "    webhook_minor_units((ev.d->>'price')::numeric, ev.d->>'currencyCode'), "
	 "    upper(ev.d->>'currencyCode'), (ev.d->>'startDate')::timestamptz, "
	 "    (ev.d->>'endDate')::timestamptz, ev.occurred_at, ev.id FROM ev "
	 "  ON CONFLICT ON CONSTRAINT subscriptions_external_key DO UPDATE SET "
	 "    company_id = EXCLUDED.company_id, "
	 "    product_id = COALESCE(EXCLUDED.product_id, s.product_id), "
	 "    product_name = COALESCE(EXCLUDED.product_name, s.product_name), "
	 "    quantity = COALESCE(EXCLUDED.quantity, s.quantity), "
	 "    status = COALESCE((SELECT new_status FROM st), s.status), "
	 "    billing_term = COALESCE(EXCLUDED.billing_term, s.billing_term), "
	 "    price_minor = COALESCE(EXCLUDED.price_minor, s.price_minor), "
	 "    currency = COALESCE(EXCLUDED.currency, s.currency), "
	 "    start_date = COALESCE(EXCLUDED.start_date, s.start_date), "
	 "    end_date = CASE WHEN (SELECT d ? 'endDate' FROM ev) THEN EXCLUDED.end_date ELSE s.end_date END, "
	 "    source_updated_at = EXCLUDED.source_updated_at, last_event_id = EXCLUDED.last_event_id, "
	 "    version = s.version + 1, updated_at = clock_timestamp() "
	 "  WHERE " NEWER("s") " "
	 "  RETURNING s.id), "
	 MARK_CTE
	 "SELECT (SELECT count(*) FROM ev)::int, EXISTS (SELECT 1 FROM up), "
	 "  COALESCE((SELECT id::text FROM up), '')"},

	{"webhooks_apply_usage",
	 EV_CTE("id, account_id, entity_id, occurred_at, "
		"COALESCE(payload->'payloadData', payload->'data') AS d")
	 "up AS (INSERT INTO usage_lines AS u (tenant_id, company_id, usage_summary_id, subscription_id, "
	 "    product_id, product_name, usage_date, unit_of_measure, quantity, unit_price, amount_minor, "
	 "    partner_total_minor, currency, is_trial, source_updated_at, last_event_id) "
	 "  SELECT $2::uuid, ev.account_id, ev.entity_id, ev.d->>'subscriptionId', ev.d->>'productId', "
	 "    ev.d->>'productName', (ev.d->>'usageDate')::date, ev.d->>'unitOfMeasure', "
	 "    (ev.d->>'quantity')::numeric, (ev.d->>'unitPrice')::numeric, "
	 "    webhook_minor_units((ev.d->>'currentCharges')::numeric, ev.d->>'currencyCode'), "
	 "    webhook_minor_units((ev.d->>'partnerTotal')::numeric, ev.d->>'currencyCode'), "
	 "    upper(ev.d->>'currencyCode'), COALESCE((ev.d->>'isTrial')::boolean, false), "
	 "    ev.occurred_at, ev.id FROM ev "
	 "  ON CONFLICT ON CONSTRAINT usage_lines_external_key DO UPDATE SET "
	 "    company_id = EXCLUDED.company_id, subscription_id = EXCLUDED.subscription_id, "
	 "    product_name = EXCLUDED.product_name, unit_of_measure = EXCLUDED.unit_of_measure, "
	 "    quantity = EXCLUDED.quantity, unit_price = EXCLUDED.unit_price, "
	 "    amount_minor = EXCLUDED.amount_minor, partner_total_minor = EXCLUDED.partner_total_minor, "
	 "    currency = EXCLUDED.currency, is_trial = EXCLUDED.is_trial, "
	 "    source_updated_at = EXCLUDED.source_updated_at, last_event_id = EXCLUDED.last_event_id, "
	 "    updated_at = clock_timestamp() "
	 "  WHERE " NEWER("u") " "
	 "  RETURNING u.id), "
	 MARK_CTE
	 "SELECT (SELECT count(*) FROM ev)::int, EXISTS (SELECT 1 FROM up), "
	 "  COALESCE((SELECT id::text FROM up), '')"},

	{"webhooks_event_list",
	 "SELECT webhook_event_json(e)::text, "
	 "  ((extract(epoch FROM e.received_at) * 1000000)::bigint)::text || '|' || e.id::text "
	 "FROM webhook_inbox e "
	 "WHERE ($1::text IS NULL OR e.provider = $1) "
	 "  AND ($2::text IS NULL OR e.status = $2) "
	 "  AND ($3::int IS NULL OR ($3 = 1 AND e.status = 'unmatched') "
	 "       OR ($3 = 0 AND e.tenant_id IS NOT NULL)) "
	 "  AND ($4::uuid IS NULL OR e.tenant_id = $4) "
	 "  AND ($5::bigint IS NULL OR (e.received_at, e.id) < "
	 "       ('epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6::uuid)) "
	 "ORDER BY e.received_at DESC, e.id DESC LIMIT $7"},
	{"webhooks_invoice_list",
	 "SELECT invoice_json(i)::text, "
	 "  ((extract(epoch FROM i.created_at) * 1000000)::bigint)::text || '|' || i.id::text "
	 "FROM invoices i "
	 "WHERE i.tenant_id = $1::uuid "
	 "  AND ($2::text IS NULL OR (i.issued_at >= ($2 || '-01T00:00:00Z')::timestamptz "
	 "       AND i.issued_at < ($2 || '-01T00:00:00Z')::timestamptz + interval '1 month')) "
	 "  AND ($3::text IS NULL OR i.status = $3) "
	 "  AND ($4::bigint IS NULL OR (i.created_at, i.id) < "
	 "       ('epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::uuid)) "
	 "ORDER BY i.created_at DESC, i.id DESC LIMIT $6"},
	{"webhooks_subscription_list",
	 "SELECT subscription_json(s)::text, "
	 "  ((extract(epoch FROM s.created_at) * 1000000)::bigint)::text || '|' || s.id::text "
	 "FROM subscriptions s "
	 "WHERE s.tenant_id = $1::uuid "
	 "  AND ($2::text IS NULL OR ("
	 "       (s.start_date IS NULL OR s.start_date < ($2 || '-01T00:00:00Z')::timestamptz + interval '1 month') "
	 "       AND (s.end_date IS NULL OR s.end_date >= ($2 || '-01T00:00:00Z')::timestamptz))) "
	 "  AND ($3::text IS NULL OR s.status = $3) "
	 "  AND ($4::bigint IS NULL OR (s.created_at, s.id) < "
	 "       ('epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::uuid)) "
	 "ORDER BY s.created_at DESC, s.id DESC LIMIT $6"},
	{"webhooks_usage_list",
	 "SELECT usage_line_json(u)::text, "
	 "  ((extract(epoch FROM u.created_at) * 1000000)::bigint)::text || '|' || u.id::text "
	 "FROM usage_lines u "
	 "WHERE u.tenant_id = $1::uuid "
	 "  AND ($2::text IS NULL OR (u.usage_date >= ($2 || '-01')::date "
	 "       AND u.usage_date < ($2 || '-01')::date + interval '1 month')) "
	 "  AND ($3::text IS NULL OR u.subscription_id = $3) "
	 "  AND ($4::bigint IS NULL OR (u.created_at, u.id) < "
	 "       ('epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::uuid)) "
	 "ORDER BY u.created_at DESC, u.id DESC LIMIT $6"},
};

void webhooks_register(void)
{
	db_register(DB_BILLING, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/* Standard base64 (no line breaks) of the body, in the arena. */
static char *b64(struct arena *a, const char *data, size_t len)
{
	char *out = arena_alloc(a, 4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
	return out;
}

enum status webhooks_intake(struct db_conn *c, const struct webhook_delivery *d,
				     struct arena *a, struct webhook_intake_result *out)
{
	memset(out, 0, sizeof(*out));
	char *headers = json_dumps(d->headers, JSON_COMPACT);
	/* 15 significant digits give back any decimal of up to 15 digits
	 * exactly (0.0416, not 0.041599999999999998); PostgreSQL then keeps
	 * the numbers as the decimals the provider sent. */
	char *events = json_dumps(d->events, JSON_COMPACT | JSON_REAL_PRECISION(15));
	enum status st = ST_UNAVAILABLE;
	PGresult *res = NULL;
	const char *v[] = {d->provider, b64(a, d->body, d->body_len), headers, d->client_ip,
			   d->request_id, events};
	if (headers == NULL || events == NULL || !db_begin(c))
		goto cleanup;
	res = db_exec(c, "webhooks_intake", 6, v);
	if (!db_ok(res)) {
		/* PostgreSQL refuses some JSON that jansson accepts (a \u0000
		 * inside a string): the caller keeps the delivery unparsed. */
		if (res && strncmp(db_sqlstate(res), "22", 2) == 0)
			st = ST_INVALID;
		db_rollback(c);
		goto cleanup;
	}
	int rows = PQntuples(res);
	int total = (int)json_array_size(d->events);
	out->stored = rows;
	out->duplicates = total - rows;
	out->received_ids = arena_alloc(a, sizeof(char *) * (size_t)(rows ? rows : 1));
	for (int i = 0; i < rows; i++) {
		if (strcmp(PQgetvalue(res, i, 1), "received") == 0)
			out->received_ids[out->n_received++] = arena_strdup(a, PQgetvalue(res, i, 0));
		else
			out->rejected++;
	}
	/* A pure redelivery keeps nothing, not even the delivery record. */
	if (rows == 0) {
		db_rollback(c);
		st = ST_OK;
	} else if (db_commit(c)) {
		st = ST_OK;
	} else {
		db_rollback(c);
		memset(out, 0, sizeof(*out));
	}
cleanup:
	PQclear(res);
	free(headers);
	free(events);
	return st;
}

/* "{id1,id2}" for a uuid[] parameter (ids are uuids from the database). */
static char *uuid_array(char *const *ids, int n)
{
	size_t len = 3 + (size_t)n * 38;
	char *s = xmalloc(len);
	size_t off = 0;
	s[off++] = '{';
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, len - off, "%s%s", i ? "," : "", ids[i]);
	snprintf(s + off, len - off, "}");
	return s;
}

bool webhooks_mark_enqueued(struct db_conn *c, char *const *ids, int n)
{
	if (n == 0)
		return true;
	char *arr = uuid_array(ids, n);
	const char *v[] = {arr};
	PGresult *res = db_exec(c, "webhooks_mark_enqueued", 1, v);
	bool ok = db_ok(res);
	PQclear(res);
	free(arr);
	return ok;
}

bool webhooks_unenqueued(struct db_conn *c, int min_age_s, int limit, char ***ids, int *n)
{
	char age[16], lim[16];
	snprintf(age, sizeof(age), "%d", min_age_s);
	snprintf(lim, sizeof(lim), "%d", limit);
	const char *v[] = {age, lim};
	PGresult *res = db_exec(c, "webhooks_unenqueued", 2, v);
	*ids = NULL;
	*n = 0;
	bool ok = db_ok(res);
	if (ok) {
		int rows = PQntuples(res);
		*ids = xcalloc((size_t)(rows ? rows : 1), sizeof(char *));
		for (int i = 0; i < rows; i++)
			(*ids)[i] = xstrdup(PQgetvalue(res, i, 0));
		*n = rows;
	}
	PQclear(res);
	return ok;
}

static char *opt_dup(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

enum status webhooks_event_load(struct db_conn *c, const char *id, struct webhook_event *e)
{
	memset(e, 0, sizeof(*e));
	const char *v[] = {id};
	PGresult *res = db_exec(c, "webhooks_event_load", 1, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK) {
			snprintf(e->id, sizeof(e->id), "%s", PQgetvalue(res, 0, 0));
			snprintf(e->provider, sizeof(e->provider), "%s", PQgetvalue(res, 0, 1));
			snprintf(e->status, sizeof(e->status), "%s", PQgetvalue(res, 0, 2));
			e->account_id = opt_dup(res, 0, 3);
			e->entity_type = opt_dup(res, 0, 4);
			e->operation = opt_dup(res, 0, 5);
			e->entity_id = opt_dup(res, 0, 6);
			snprintf(e->tenant_id, sizeof(e->tenant_id), "%s", PQgetvalue(res, 0, 7));
		}
	}
	PQclear(res);
	return st;
}

void webhooks_event_free(struct webhook_event *e)
{
	free(e->account_id);
	free(e->entity_type);
	free(e->operation);
	free(e->entity_id);
	e->account_id = e->entity_type = e->operation = e->entity_id = NULL;
}

bool webhooks_event_finish(struct db_conn *c, const char *id, const char *status,
			   const char *outcome, const char *tenant_id, const char *error)
{
	const char *v[] = {id, status, outcome, tenant_id, error};
	PGresult *res = db_exec(c, "webhooks_event_finish", 5, v);
	bool ok = db_ok(res);
	PQclear(res);
	return ok;
}

enum status webhooks_apply(struct db_conn *c, const char *kind, const char *event_id,
				    const char *tenant_id, struct webhook_applied *out)
{
	static const struct {
		const char *kind, *stmt, *resource;
	} kinds[] = {
		{"invoice", "webhooks_apply_invoice", "invoice"},
		{"qbo_entity", "webhooks_apply_qbo_entity", NULL},
		{"subscription", "webhooks_apply_subscription", "subscription"},
		{"usage", "webhooks_apply_usage", "usage_line"},
	};
	memset(out, 0, sizeof(*out));
	const char *stmt = NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0) {
			stmt = kinds[i].stmt;
			out->resource_type = kinds[i].resource;
		}
	if (stmt == NULL)
		return ST_NOT_FOUND;
	const char *v[] = {event_id, tenant_id};
	PGresult *res = db_exec(c, stmt, 2, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		out->processed = atoi(PQgetvalue(res, 0, 0)) == 1;
		out->applied = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		snprintf(out->resource_id, sizeof(out->resource_id), "%s", PQgetvalue(res, 0, 2));
		st = ST_OK;
	} else if (res && PQresultStatus(res) == PGRES_FATAL_ERROR) {
		/* Data exceptions (22) and constraint violations (23) come from the
		 * event's content: retrying cannot help. */
		const char *code = db_sqlstate(res);
		if (strncmp(code, "22", 2) == 0 || strncmp(code, "23", 2) == 0) {
			const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
			out->error = xstrdup(msg ? msg : "the event's data is invalid");
			st = ST_INVALID;
		}
	}
	PQclear(res);
	return st;
}

static enum status list(struct db_conn *c, const char *stmt, int n, const char *const *v,
				 int limit, struct arena *a, char **page)
{
	PGresult *res = db_exec(c, stmt, n, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		*page = page_json(res, limit, a);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status webhooks_event_list(struct db_conn *c, const struct webhook_event_filter *f,
					 struct arena *a, char **page)
{
	char lim[12], um[4];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	snprintf(um, sizeof(um), "%d", f->unmatched);
	const char *v[] = {f->provider, f->status, f->unmatched < 0 ? NULL : um, f->tenant_id,
			   f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim};
	return list(c, "webhooks_event_list", 7, v, f->limit, a, page);
}

static enum status billing_list(struct db_conn *c, const char *stmt,
					 const struct billing_filter *f, const char *third,
					 struct arena *a, char **page)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	const char *v[] = {f->tenant_id, f->period, third, f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim};
	return list(c, stmt, 6, v, f->limit, a, page);
}

enum status webhooks_invoice_list(struct db_conn *c, const struct billing_filter *f,
					   struct arena *a, char **page)
{
	return billing_list(c, "webhooks_invoice_list", f, f->status, a, page);
}

enum status webhooks_subscription_list(struct db_conn *c, const struct billing_filter *f,
						struct arena *a, char **page)
{
	return billing_list(c, "webhooks_subscription_list", f, f->status, a, page);
}

enum status webhooks_usage_list(struct db_conn *c, const struct billing_filter *f,
					 struct arena *a, char **page)
{
	return billing_list(c, "webhooks_usage_list", f, f->subscription_id, a, page);
}

bool webhooks_enqueue_processing(struct db_conn *portal, struct db_conn *billing, char *const *ids, int n,
				  const char *request_id)
{
	if (n == 0)
		return true;
	if (!db_begin(portal))
		return false;
	for (int i = 0; i < n; i++) {
		json_t *p = json_pack("{s:s}", "event_id", ids[i]);
		char job_id[37];
		bool ok = jobs_enqueue(portal, WEBHOOK_JOB_KIND, NULL, p, request_id, job_id);
		json_decref(p);
		if (!ok) {
			db_rollback(portal);
			return false;
		}
	}
	if (!db_commit(portal)) {
		db_rollback(portal);
		return false;
	}
	/* A failure here leaves the jobs queued and the events unenqueued: the
	 * sweep queues them again, and the second job finds them processed. */
	return webhooks_mark_enqueued(billing, ids, n);
}

bool webhooks_queue_rematch(struct db_conn *portal, const char *tenant_id, const char *provider,
			    const char *account_id, const char *request_id)
{
	json_t *p = json_pack("{s:s, s:s}", "provider", provider, "account_id", account_id);
	char id[37];
	bool ok = p && jobs_enqueue(portal, WEBHOOK_REMATCH_KIND, tenant_id, p, request_id, id);
	json_decref(p);
	return ok;
}

bool webhooks_reopen_unmatched(struct db_conn *c, const char *provider, const char *account_id,
			       char ***ids, int *n)
{
	const char *v[] = {provider, account_id};
	PGresult *res = db_exec(c, "webhooks_reopen_unmatched", 2, v);
	*ids = NULL;
	*n = 0;
	bool ok = db_ok(res);
	if (ok) {
		int rows = PQntuples(res);
		*ids = xcalloc((size_t)(rows ? rows : 1), sizeof(char *));
		for (int i = 0; i < rows; i++)
			(*ids)[i] = xstrdup(PQgetvalue(res, i, 0));
		*n = rows;
	}
	PQclear(res);
	return ok;
}
