/*
 * billing_reports.h - billing_db's reports for people: CSV exports of the
 * tenant billing lists (invoices, subscriptions, usage), usage by product,
 * invoice totals and open balance per month, and the platform summary
 * (revenue by month, top tenants, overdue invoices).
 *
 * Every report is one SQL text whose filters are transaction-local
 * settings (atrium.r_from, atrium.r_to, atrium.r_status, atrium.r_sub) set
 * from bound parameters, so the same text serves JSON (json_agg) and CSV
 * (COPY ... TO STDOUT (FORMAT csv, HEADER): PostgreSQL quotes every field;
 * nothing here writes CSV by hand). Tenant reports run on a connection
 * scoped to the tenant and name it by atrium.tenant_id (RLS holds too).
 */
#ifndef ATRIUM_SERVICE_BILLING_REPORTS_H
#define ATRIUM_SERVICE_BILLING_REPORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "server/store/db.h"
#include "server/store/status.h"
#include "server/common/util.h"

enum billing_report {
	BR_INVOICES,          /* list; CSV only here (JSON is the paged list) */
	BR_SUBSCRIPTIONS,     /* list; CSV only here */
	BR_USAGE,             /* list; CSV only here */
	BR_USAGE_BY_PRODUCT,  /* JSON and CSV */
	BR_INVOICE_TOTALS,    /* per month and currency; JSON and CSV */
	BR_COUNT
};

/* Filters; NULL = none. from/to are the first days of months
 * ("2026-11-01"), to exclusive. */
struct report_filter {
	const char *from, *to;
	const char *status;
	const char *subscription_id;
};

void billing_reports_register(void);

/*
 * The report as CSV with a header line, streamed: open() takes a billing_db
 * connection of its own (db_acquire_stream) scoped to `tenant` ("*"
 * platform-wide) and starts the COPY: ST_OK and *out, ST_BUSY when as many
 * exports as allowed are running, ST_UNAVAILABLE when the database
 * cannot; read() fills buf with up to max
 * bytes of it and returns their number, 0 at the end, -1 when the query
 * failed part way; close() ends it (cancelling a COPY the reader left) and
 * returns the connection. Every row, however many.
 */
struct billing_csv;
enum status billing_csv_open(enum billing_report rep, const char *tenant,
			     const struct report_filter *f, struct billing_csv **out);
long billing_csv_read(void *state, char *buf, size_t max);
void billing_csv_close(void *state);
/* {data: [...]} of the report's rows (arena); for BR_INVOICE_TOTALS also
 * totals per currency, unsynced_count and the monthly subscription cost. */
enum status billing_report_json(struct db_conn *c, enum billing_report rep,
				const struct report_filter *f, struct arena *a, char **json);
/* The platform summary (connection scoped "*"). */
enum status billing_summary_json(struct db_conn *c, const struct report_filter *f,
				 struct arena *a, char **json);

#endif
