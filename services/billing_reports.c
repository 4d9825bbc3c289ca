/*
 * billing_reports.c - billing_db reports (see billing_reports.h).
 */
#include "services/billing_reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TENANT "current_setting('atrium.tenant_id')::uuid"
#define P_FROM "NULLIF(current_setting('atrium.r_from', true), '')::date"
#define P_TO "NULLIF(current_setting('atrium.r_to', true), '')::date"
#define P_STATUS "NULLIF(current_setting('atrium.r_status', true), '')"
#define P_SUB "NULLIF(current_setting('atrium.r_sub', true), '')"
#define UTC_MONTH(col) "to_char(date_trunc('month', " col " AT TIME ZONE 'UTC'), 'YYYY-MM')"
#define LIMIT_ROWS " LIMIT 100000"
/* A text column from a provider, neutralised in CSV (0013_csv_cells.sql). */
#define TXT(t, col) "report_text(" t "." col ") AS " col

static const struct db_stmt stmts[] = {
	{"billing_report_params",
	 "SELECT set_config('atrium.r_from', COALESCE($1, ''), true), "
	 "  set_config('atrium.r_to', COALESCE($2, ''), true), "
	 "  set_config('atrium.r_status', COALESCE($3, ''), true), "
	 "  set_config('atrium.r_sub', COALESCE($4, ''), true)"},
	{"billing_report_csv_mode", "SELECT set_config('atrium.r_csv', 'on', true)"},
};

/* The rows of each report, newest first for the lists. */
static const char *const report_sql[BR_COUNT] = {
	[BR_INVOICES] =
	"SELECT i.id, " TXT("i", "external_id") ", " TXT("i", "realm_id") ", i.status, "
	"  rfc3339(i.issued_at) AS issued_at, " TXT("i", "customer_id") ", i.total_minor, "
	"  i.balance_minor, i.currency, i.needs_sync, "
	"  rfc3339(i.updated_at) AS updated_at "
	"FROM invoices i WHERE i.tenant_id = " TENANT " "
	"  AND (" P_FROM " IS NULL OR i.issued_at >= " P_FROM "::timestamp AT TIME ZONE 'UTC') "
	"  AND (" P_TO " IS NULL OR i.issued_at < " P_TO "::timestamp AT TIME ZONE 'UTC') "
	"  AND (" P_STATUS " IS NULL OR i.status = " P_STATUS ") "
	"ORDER BY i.created_at DESC, i.id DESC" LIMIT_ROWS,
	[BR_SUBSCRIPTIONS] =
	"SELECT s.id, " TXT("s", "external_id") ", " TXT("s", "company_id") ", " TXT("s", "product_id") ", "
	"  " TXT("s", "product_name") ", " TXT("s", "vendor_name") ", s.quantity, "
	"  " TXT("s", "billing_term") ", s.price_minor, s.currency, "
	"  subscription_monthly_minor(s) AS monthly_cost_minor, s.status, "
	"  rfc3339(s.start_date) AS start_date, rfc3339(s.end_date) AS end_date, s.source, "
	"  rfc3339(s.synced_at) AS synced_at "
	"FROM subscriptions s WHERE s.tenant_id = " TENANT " "
	"  AND (" P_TO " IS NULL OR s.start_date IS NULL OR s.start_date < " P_TO "::timestamp AT TIME ZONE 'UTC') "
	"  AND (" P_FROM " IS NULL OR s.end_date IS NULL OR s.end_date >= " P_FROM "::timestamp AT TIME ZONE 'UTC') "
	"  AND (" P_STATUS " IS NULL OR s.status = " P_STATUS ") "
	"ORDER BY s.created_at DESC, s.id DESC" LIMIT_ROWS,
	[BR_USAGE] =
	"SELECT u.id, to_char(u.usage_date, 'YYYY-MM-DD') AS usage_date, " TXT("u", "subscription_id") ", "
	"  " TXT("u", "product_id") ", " TXT("u", "product_name") ", u.quantity, "
	"  " TXT("u", "unit_of_measure") ", u.amount_minor, "
	"  u.partner_total_minor, u.currency, u.source "
	"FROM usage_lines u WHERE u.tenant_id = " TENANT " "
	"  AND (" P_FROM " IS NULL OR u.usage_date >= " P_FROM ") "
	"  AND (" P_TO " IS NULL OR u.usage_date < " P_TO ") "
	"  AND (" P_SUB " IS NULL OR u.subscription_id = " P_SUB ") "
	"ORDER BY u.created_at DESC, u.id DESC" LIMIT_ROWS,
	[BR_USAGE_BY_PRODUCT] =
	"SELECT " TXT("u", "product_id") ", report_text(max(u.product_name)) AS product_name, "
	"  u.currency, count(*) AS lines, "
	"  sum(u.quantity) AS quantity, sum(u.amount_minor) AS amount_minor, "
	"  sum(u.partner_total_minor) AS partner_total_minor "
	"FROM usage_lines u WHERE u.tenant_id = " TENANT " "
	"  AND (" P_FROM " IS NULL OR u.usage_date >= " P_FROM ") "
	"  AND (" P_TO " IS NULL OR u.usage_date < " P_TO ") "
	"GROUP BY u.product_id, u.currency "
	"ORDER BY sum(u.amount_minor) DESC NULLS LAST, u.product_id, u.currency" LIMIT_ROWS,
	[BR_INVOICE_TOTALS] =
	"SELECT " UTC_MONTH("i.issued_at") " AS month, i.currency, count(*) AS invoice_count, "
	"  sum(i.total_minor) AS total_minor, sum(i.balance_minor) AS open_balance_minor, "
	"  count(*) FILTER (WHERE i.total_minor IS NULL) AS unsynced_count "
	"FROM invoices i WHERE i.tenant_id = " TENANT " AND i.status = 'open' "
	"  AND (" P_FROM " IS NULL OR i.issued_at >= " P_FROM "::timestamp AT TIME ZONE 'UTC') "
	"  AND (" P_TO " IS NULL OR i.issued_at < " P_TO "::timestamp AT TIME ZONE 'UTC') "
	"GROUP BY 1, 2 ORDER BY 1, 2 NULLS LAST" LIMIT_ROWS,
};

void billing_reports_register(void)
{
	db_register(DB_BILLING, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/* Opens the report's transaction with its filters set. */
static bool begin_with(struct db_conn *c, const struct report_filter *f)
{
	if (!db_begin(c))
		return false;
	const char *v[] = {f->from, f->to, f->status, f->subscription_id};
	PGresult *res = db_exec(c, "billing_report_params", 4, v);
	bool ok = db_ok(res);
	PQclear(res);
	if (!ok)
		db_rollback(c);
	return ok;
}

/* One JSON text from literal SQL (read-only; no parameters), arena. */
static enum status one_json(struct db_conn *c, const char *sql, struct arena *a, char **json)
{
	PGresult *res = PQexec(db_pg(c), sql);
	enum status st = ST_UNAVAILABLE;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		*json = arena_strdup(a, PQgetvalue(res, 0, 0));
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

/* A CSV export being streamed: its own connection, mid-COPY, and the
 * line PostgreSQL gave last (sent from off on). */
struct billing_csv {
	struct db_conn *c;
	char *line;
	int len, off;
	bool ended, failed;
};

enum status billing_csv_open(enum billing_report rep, const char *tenant,
			     const struct report_filter *f, struct billing_csv **out)
{
	*out = NULL;
	if (rep < 0 || rep >= BR_COUNT)
		return ST_UNAVAILABLE;
	bool busy;
	struct db_conn *c = db_acquire_stream(DB_BILLING, &busy);
	if (c == NULL)
		return busy ? ST_BUSY : ST_UNAVAILABLE;
	if (!db_scope(c, tenant) || !begin_with(c, f)) {
		db_release(c);
		return ST_UNAVAILABLE;
	}
	/* Text cells that a spreadsheet would run as formulas get a leading '. */
	PGresult *res = db_exec(c, "billing_report_csv_mode", 0, NULL);
	bool ok = db_ok(res);
	PQclear(res);
	if (!ok) {
		db_release(c);
		return ST_UNAVAILABLE;
	}
	/* Streamed, so every row: the lists' LIMIT is for JSON answers. */
	const char *sql = report_sql[rep];
	size_t n = strlen(sql), tail = strlen(LIMIT_ROWS);
	if (n > tail && strcmp(sql + n - tail, LIMIT_ROWS) == 0)
		n -= tail;
	char *copy = xasprintf("COPY (%.*s) TO STDOUT (FORMAT csv, HEADER)", (int)n, sql);
	res = PQexec(db_pg(c), copy);
	free(copy);
	ok = PQresultStatus(res) == PGRES_COPY_OUT;
	PQclear(res);
	if (!ok) {
		db_release(c);
		return ST_UNAVAILABLE;
	}
	struct billing_csv *s = xcalloc(1, sizeof(*s));
	s->c = c;
	*out = s;
	return ST_OK;
}

long billing_csv_read(void *state, char *buf, size_t max)
{
	struct billing_csv *s = state;
	PGconn *pg = db_pg(s->c);
	size_t n = 0;
	while (n < max) {
		if (s->off == s->len) {
			PQfreemem(s->line);
			s->line = NULL;
			s->len = s->off = 0;
			if (s->ended)
				break;
			int got = PQgetCopyData(pg, &s->line, 0);
			if (got > 0) {
				s->len = got;
				continue;
			}
			/* -1: the COPY is over; its result says whether it all went. */
			s->ended = true;
			PGresult *res = got == -1 ? PQgetResult(pg) : NULL;
			s->failed = PQresultStatus(res) != PGRES_COMMAND_OK;
			while (res) {
				PQclear(res);
				res = PQgetResult(pg);
			}
			break;
		}
		size_t take = (size_t)(s->len - s->off);
		if (take > max - n)
			take = max - n;
		memcpy(buf + n, s->line + s->off, take);
		n += take;
		s->off += (int)take;
	}
	if (n > 0)
		return (long)n;
	return s->failed ? -1 : 0;
}

void billing_csv_close(void *state)
{
	struct billing_csv *s = state;
	PGconn *pg = db_pg(s->c);
	PQfreemem(s->line);
	if (!s->ended) {
		/* The client went away mid-export: stop the query, then read
		 * what is still in flight (a connection left mid-COPY is unusable). */
		PGcancel *cancel = PQgetCancel(pg);
		char err[256];
		if (cancel) {
			PQcancel(cancel, err, sizeof(err));
			PQfreeCancel(cancel);
		}
		char *line;
		while (PQgetCopyData(pg, &line, 0) > 0)
			PQfreemem(line);
		PGresult *res;
		while ((res = PQgetResult(pg)) != NULL)
			PQclear(res);
	}
	db_release(s->c); /* read-only; rolled back, the settings go with it */
	free(s);
}

enum status billing_report_json(struct db_conn *c, enum billing_report rep,
				const struct report_filter *f, struct arena *a, char **json)
{
	if (rep < 0 || rep >= BR_COUNT || !begin_with(c, f))
		return ST_UNAVAILABLE;
	char *sql;
	if (rep == BR_INVOICE_TOTALS)
		sql = xasprintf(
			"SELECT json_build_object("
			"  'from', to_char(" P_FROM ", 'YYYY-MM'), "
			"  'to', to_char(" P_TO " - 1, 'YYYY-MM'), "
			"  'data', (SELECT COALESCE(json_agg(row_to_json(q)), '[]') FROM (%s) q), "
			"  'totals', (SELECT COALESCE(json_agg(json_build_object('currency', currency, "
			"      'invoice_count', n, 'total_minor', t, 'open_balance_minor', b) "
			"      ORDER BY currency), '[]') FROM (SELECT currency, count(*) n, "
			"      sum(total_minor) t, sum(balance_minor) b FROM invoices i "
			"      WHERE i.tenant_id = " TENANT " AND i.status = 'open' AND i.currency IS NOT NULL "
			"        AND (" P_FROM " IS NULL OR i.issued_at >= " P_FROM "::timestamp AT TIME ZONE 'UTC') "
			"        AND (" P_TO " IS NULL OR i.issued_at < " P_TO "::timestamp AT TIME ZONE 'UTC') "
			"      GROUP BY currency) t), "
			"  'unsynced_count', (SELECT count(*) FROM invoices i WHERE i.tenant_id = " TENANT " "
			"      AND i.status = 'open' AND i.total_minor IS NULL "
			"      AND (" P_FROM " IS NULL OR i.issued_at >= " P_FROM "::timestamp AT TIME ZONE 'UTC') "
			"      AND (" P_TO " IS NULL OR i.issued_at < " P_TO "::timestamp AT TIME ZONE 'UTC')), "
			"  'subscriptions_monthly', (SELECT COALESCE(json_agg(json_build_object('currency', "
			"      currency, 'subscription_count', n, 'monthly_cost_minor', m) ORDER BY currency), '[]') "
			"      FROM (SELECT s.currency, count(*) n, sum(subscription_monthly_minor(s)) m "
			"        FROM subscriptions s WHERE s.tenant_id = " TENANT " "
			"          AND s.status NOT IN ('cancelled', 'converted') AND s.currency IS NOT NULL "
			"        GROUP BY s.currency) x)"
			")::text",
			report_sql[rep]);
	else
		sql = xasprintf("SELECT json_build_object('from', to_char(" P_FROM ", 'YYYY-MM'), "
				"'to', to_char(" P_TO " - 1, 'YYYY-MM'), "
				"'data', (SELECT COALESCE(json_agg(row_to_json(q)), '[]') FROM (%s) q))::text",
				report_sql[rep]);
	enum status st = one_json(c, sql, a, json);
	free(sql);
	db_rollback(c);
	return st;
}

enum status billing_summary_json(struct db_conn *c, const struct report_filter *f,
				 struct arena *a, char **json)
{
	/* The due date is the invoice's when billing_db has one (QuickBooks'
	 * DueDate, read through to_jsonb so this works with or without that
	 * column), else net 30 from issue. An invoice is overdue when it is
	 * open, has a known balance left and is past due. */
	static const char sql[] =
		"WITH inv AS (SELECT i.*, COALESCE((to_jsonb(i)->>'due_date')::date, "
		"    (i.issued_at AT TIME ZONE 'UTC')::date + 30) AS due FROM invoices i "
		"  WHERE i.status = 'open'), "
		"win AS (SELECT * FROM inv WHERE (" P_FROM " IS NULL OR issued_at >= " P_FROM "::timestamp AT TIME ZONE 'UTC') "
		"    AND (" P_TO " IS NULL OR issued_at < " P_TO "::timestamp AT TIME ZONE 'UTC')) "
		"SELECT json_build_object("
		"  'from', to_char(" P_FROM ", 'YYYY-MM'), 'to', to_char(" P_TO " - 1, 'YYYY-MM'), "
		"  'revenue_by_month', (SELECT COALESCE(json_agg(json_build_object('month', m, 'currency', "
		"      currency, 'total_minor', t, 'invoice_count', n, 'unsynced_count', u) "
		"      ORDER BY m, currency NULLS LAST), '[]') FROM (SELECT " UTC_MONTH("issued_at") " m, currency, "
		"      sum(total_minor) t, count(*) n, count(*) FILTER (WHERE total_minor IS NULL) u "
		"      FROM win GROUP BY 1, 2) r), "
		"  'top_tenants', (SELECT COALESCE(json_agg(json_build_object('tenant_id', tenant_id, "
		"      'currency', currency, 'total_minor', t, 'open_balance_minor', b, 'invoice_count', n) "
		"      ORDER BY t DESC, tenant_id), '[]') FROM (SELECT tenant_id, currency, sum(total_minor) t, "
		"      sum(balance_minor) b, count(*) n FROM win WHERE currency IS NOT NULL "
		"      GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 10) tt), "
		"  'overdue_invoices', (SELECT COALESCE(json_agg(json_build_object('id', id, 'tenant_id', "
		"      tenant_id, 'external_id', external_id, 'due_date', to_char(due, 'YYYY-MM-DD'), "
		"      'balance_minor', balance_minor, 'currency', currency, 'days_overdue', current_date - due) "
		"      ORDER BY due, id), '[]') FROM (SELECT * FROM inv WHERE balance_minor > 0 "
		"      AND due < current_date ORDER BY due, id LIMIT 50) o), "
		"  'overdue_count', (SELECT count(*) FROM inv WHERE balance_minor > 0 AND due < current_date), "
		"  'unsynced_count', (SELECT count(*) FROM win WHERE total_minor IS NULL)"
		")::text";
	if (!begin_with(c, f))
		return ST_UNAVAILABLE;
	enum status st = one_json(c, sql, a, json);
	db_rollback(c);
	return st;
}
