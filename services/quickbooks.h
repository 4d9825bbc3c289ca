/*
 * quickbooks.h - billing_db's QuickBooks Online connections (one per
 * tenant), OAuth states, and the Accounting API data the worker stores on
 * invoices and external entities (db/migrations/billing/0011_quickbooks.sql).
 *
 * Tokens arrive here sealed (server/common/secretbox.h) and leave sealed:
 * this module never sees a token in the clear. Connections are scoped like
 * every tenant-owned row: "*" for the worker and the OAuth callback.
 */
#ifndef ATRIUM_SERVICE_QUICKBOOKS_H
#define ATRIUM_SERVICE_QUICKBOOKS_H

#include <stdbool.h>

#include "server/common/util.h"
#include "server/store/db.h"
#include "server/store/status.h"

/* Job kinds working on connections (workers/quickbooks_jobs.c). */
#define QUICKBOOKS_CONNECT_JOB "quickbooks.connect"  /* exchange the callback's code */
#define QUICKBOOKS_CDC_JOB "quickbooks.cdc"          /* change data capture for one tenant */
#define QUICKBOOKS_REVOKE_JOB "quickbooks.revoke"    /* revoke a disconnected token at Intuit */
#define QUICKBOOKS_TICK_JOB "quickbooks.tick"        /* periodic: refreshes, CDC due */

/* Associated data of each sealed secret: purpose and tenant. */
#define QB_AAD_CODE "quickbooks.auth_code:"
#define QB_AAD_REFRESH "quickbooks.refresh_token:"
#define QB_AAD_ACCESS "quickbooks.access_token:"

void quickbooks_register(void);

/* OAuth state (stored as its SHA-256 hex). */
bool quickbooks_state_put(struct db_conn *c, const char *hash, const char *tenant_id,
			  const char *user_id, int ttl_s);
/* Consumes a state: ST_NOT_FOUND when unknown or used; *fresh false when expired. */
enum status quickbooks_state_take(struct db_conn *c, const char *hash, char tenant_id[37],
				  char user_id[96], bool *fresh);

/* The connection as people see it (JSON, arena); ST_NOT_FOUND when none. */
enum status quickbooks_connection_get(struct db_conn *c, const char *tenant_id, struct arena *a,
				      char **json);
/* After a valid callback: status connecting with the sealed code. */
bool quickbooks_connecting(struct db_conn *c, const char *tenant_id, const char *realm_id,
			   const char *code_sealed, const char *connected_by);

struct qb_conn {
	char realm_id[33];
	char status[16];
	char *code_sealed, *refresh_sealed, *access_sealed, *revoke_sealed; /* heap or NULL */
	bool access_fresh;       /* access token valid beyond the margin asked */
	char last_sync_at[40];   /* "" when never */
};
/* lock: FOR UPDATE (inside the caller's transaction). */
enum status quickbooks_conn_load(struct db_conn *c, const char *tenant_id, int margin_s, bool lock,
				 struct qb_conn *out);
void quickbooks_conn_free(struct qb_conn *q);
/* New tokens. initial: the first exchange (connected_at, first CDC soon);
 * only a `connecting` row takes them then. *applied says whether a row did. */
bool quickbooks_conn_tokens(struct db_conn *c, const char *tenant_id, const char *refresh_sealed,
			    const char *access_sealed, int expires_in, int refresh_expires_in,
			    bool initial, bool *applied);
/* status disconnected or error with the reason; every token is dropped. */
bool quickbooks_conn_fail(struct db_conn *c, const char *tenant_id, const char *status,
			  const char *reason);
/* A transient problem, shown as last_error; the status stays. */
bool quickbooks_conn_note(struct db_conn *c, const char *tenant_id, const char *error);
/* A user disconnects: tokens dropped, the refresh token kept sealed for the
 * revocation job (*revoke). ST_NOT_FOUND when there is no connection. */
enum status quickbooks_disconnect(struct db_conn *c, const char *tenant_id, const char *reason,
				  struct arena *a, char **json, bool *revoke);
bool quickbooks_revoke_done(struct db_conn *c, const char *tenant_id);
/* Tenants whose access token expires within horizon_s; whose CDC is due
 * (their next one is pushed every_s ahead, in the caller's transaction). */
int quickbooks_due_refresh(struct db_conn *c, int horizon_s, char (*ids)[37], int max);
int quickbooks_due_cdc(struct db_conn *c, int every_s, char (*ids)[37], int max);
bool quickbooks_synced(struct db_conn *c, const char *tenant_id, const char *since);

/* Stores an entity read from QuickBooks (its JSON text): ST_INVALID when
 * the data breaks a constraint (a bad currency, amount or id). */
enum status quickbooks_store_invoice(struct db_conn *c, const char *tenant_id, const char *realm_id,
				     const char *entity_json);
enum status quickbooks_store_entity(struct db_conn *c, const char *tenant_id, const char *realm_id,
				    const char *type, const char *entity_json);
bool quickbooks_invoice_gone(struct db_conn *c, const char *tenant_id, const char *realm_id,
			     const char *external_id);

/* Per currency: count, total and open balance of the tenant's invoices
 * with known amounts, for the invoice list's filter (period "YYYY-MM" and
 * status may be NULL). JSON array text in the arena. */
enum status quickbooks_invoice_totals(struct db_conn *c, const char *tenant_id, const char *period,
				      const char *status, struct arena *a, char **json);

/* The inbox event a fetch step works on (heap strings, free with _free). */
struct qb_event {
	char status[16];
	char tenant_id[37];
	char provider[16];
	char *entity_type, *entity_id, *account_id, *operation;
};
enum status quickbooks_event_load(struct db_conn *c, const char *id, struct qb_event *e);
void quickbooks_event_free(struct qb_event *e);

#endif
