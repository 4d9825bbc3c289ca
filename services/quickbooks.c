/*
 * quickbooks.c - billing_db statements for QuickBooks Online connections,
 * OAuth states and the data read from the Accounting API (see quickbooks.h).
 *
 * Storing what was read is one statement per entity, guarded by QuickBooks'
 * own MetaData.LastUpdatedTime: a slower read of an older version never
 * overwrites a newer one, and running it twice changes nothing more.
 */
#include "services/quickbooks.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INV_COLS "tenant_id, realm_id, external_id, status, last_operation, issued_at, " \
	"source_updated_at, needs_sync, customer_id, customer_name, total_minor, balance_minor, " \
	"currency, due_date, txn_date, doc_number, line_items, sync_token, qbo_updated_at, synced_at"

static const struct db_stmt stmts[] = {
	{"qb_state_put",
	 "WITH gc AS (DELETE FROM quickbooks_oauth_states "
	 "  WHERE expires_at < clock_timestamp() - interval '1 day') "
	 "INSERT INTO quickbooks_oauth_states (state_hash, tenant_id, user_id, expires_at) "
	 "VALUES ($1, $2::uuid, $3, clock_timestamp() + make_interval(secs => $4::int))"},
	{"qb_state_take",
	 "UPDATE quickbooks_oauth_states SET used_at = clock_timestamp() "
	 "WHERE state_hash = $1 AND used_at IS NULL "
	 "RETURNING tenant_id::text, user_id, (expires_at > clock_timestamp())::text"},
	{"qb_conn_get",
	 "SELECT quickbooks_connection_json(c)::text FROM quickbooks_connections c "
	 "WHERE tenant_id = $1::uuid"},
	{"qb_connecting",
	 "INSERT INTO quickbooks_connections (tenant_id, realm_id, status, auth_code_sealed, connected_by) "
	 "VALUES ($1::uuid, $2, 'connecting', $3, $4) "
	 "ON CONFLICT (tenant_id) DO UPDATE SET realm_id = EXCLUDED.realm_id, status = 'connecting', "
	 "  auth_code_sealed = EXCLUDED.auth_code_sealed, connected_by = EXCLUDED.connected_by, "
	 /* A reconnect replaces the tokens; the old ones are not revoked: at
	  * Intuit they may share the new consent's grant. */
	 "  refresh_token_sealed = NULL, access_token_sealed = NULL, access_expires_at = NULL, "
	 "  last_error = NULL, version = quickbooks_connections.version + 1, updated_at = clock_timestamp()"},
	{"qb_conn_load",
	 "SELECT COALESCE(realm_id, ''), status, auth_code_sealed, refresh_token_sealed, access_token_sealed, "
	 "  revoke_token_sealed, "
	 "  COALESCE(access_expires_at > clock_timestamp() + make_interval(secs => $2::int), false)::text, "
	 "  COALESCE(rfc3339(last_sync_at), '') "
	 "FROM quickbooks_connections WHERE tenant_id = $1::uuid"},
	{"qb_conn_lock",
	 "SELECT COALESCE(realm_id, ''), status, auth_code_sealed, refresh_token_sealed, access_token_sealed, "
	 "  revoke_token_sealed, "
	 "  COALESCE(access_expires_at > clock_timestamp() + make_interval(secs => $2::int), false)::text, "
	 "  COALESCE(rfc3339(last_sync_at), '') "
	 "FROM quickbooks_connections WHERE tenant_id = $1::uuid FOR UPDATE"},
	{"qb_conn_tokens",
	 "UPDATE quickbooks_connections SET status = 'connected', refresh_token_sealed = $2, "
	 "  access_token_sealed = $3, access_expires_at = clock_timestamp() + make_interval(secs => $4::int), "
	 "  refresh_expires_at = CASE WHEN $5::int > 0 THEN clock_timestamp() + make_interval(secs => $5::int) END, "
	 "  auth_code_sealed = NULL, last_error = NULL, "
	 "  connected_at = CASE WHEN $6::bool THEN clock_timestamp() ELSE connected_at END, "
	 "  next_cdc_at = CASE WHEN $6::bool THEN clock_timestamp() + interval '1 second' ELSE next_cdc_at END, "
	 "  version = version + 1, updated_at = clock_timestamp() "
	 "WHERE tenant_id = $1::uuid AND status = CASE WHEN $6::bool THEN 'connecting' ELSE 'connected' END"},
	{"qb_conn_fail",
	 "UPDATE quickbooks_connections SET status = $2, last_error = $3, auth_code_sealed = NULL, "
	 "  refresh_token_sealed = NULL, access_token_sealed = NULL, access_expires_at = NULL, "
	 "  next_cdc_at = NULL, version = version + 1, updated_at = clock_timestamp() "
	 "WHERE tenant_id = $1::uuid"},
	{"qb_conn_note",
	 "UPDATE quickbooks_connections SET last_error = $2, updated_at = clock_timestamp() "
	 "WHERE tenant_id = $1::uuid"},
	{"qb_disconnect",
	 "UPDATE quickbooks_connections c SET status = 'disconnected', last_error = $2, "
	 "  revoke_token_sealed = COALESCE(c.refresh_token_sealed, c.revoke_token_sealed), "
	 "  refresh_token_sealed = NULL, access_token_sealed = NULL, auth_code_sealed = NULL, "
	 "  access_expires_at = NULL, next_cdc_at = NULL, version = c.version + 1, "
	 "  updated_at = clock_timestamp() "
	 "WHERE tenant_id = $1::uuid "
	 "RETURNING quickbooks_connection_json(c)::text, (c.revoke_token_sealed IS NOT NULL)::text"},
	{"qb_revoke_done",
	 "UPDATE quickbooks_connections SET revoke_token_sealed = NULL WHERE tenant_id = $1::uuid"},
	{"qb_due_refresh",
	 "SELECT tenant_id::text FROM quickbooks_connections WHERE status = 'connected' "
	 "  AND access_expires_at < clock_timestamp() + make_interval(secs => $1::int) "
	 "ORDER BY access_expires_at LIMIT $2::int"},
	{"qb_due_cdc",
	 "UPDATE quickbooks_connections SET next_cdc_at = clock_timestamp() + make_interval(secs => $1::int) "
	 "WHERE tenant_id IN (SELECT tenant_id FROM quickbooks_connections WHERE status = 'connected' "
	 "    AND next_cdc_at <= clock_timestamp() ORDER BY next_cdc_at LIMIT $2::int FOR UPDATE SKIP LOCKED) "
	 "RETURNING tenant_id::text"},
	{"qb_synced",
	 "UPDATE quickbooks_connections SET last_sync_at = GREATEST(last_sync_at, $2::timestamptz), "
	 "  last_error = NULL, updated_at = clock_timestamp() WHERE tenant_id = $1::uuid"},
	{"qb_store_invoice",
	 "WITH v AS (SELECT e, upper(COALESCE(e->'CurrencyRef'->>'value', 'USD')) AS cur, "
	 "    webhook_ts(e->'MetaData'->>'LastUpdatedTime') AS upd, "
	 "    webhook_ts(e->'MetaData'->>'CreateTime') AS crt FROM (SELECT $3::jsonb AS e) x) "
	 "INSERT INTO invoices AS i (" INV_COLS ") "
	 "SELECT $1::uuid, $2, e->>'Id', "
	 "  CASE WHEN e->>'PrivateNote' = 'Voided' THEN 'voided' ELSE 'open' END, 'read', "
	 "  COALESCE(crt, upd, clock_timestamp()), COALESCE(upd, clock_timestamp()), false, "
	 "  e->'CustomerRef'->>'value', e->'CustomerRef'->>'name', "
	 "  webhook_minor_units((e->>'TotalAmt')::numeric, cur), webhook_minor_units((e->>'Balance')::numeric, cur), "
	 "  cur, quickbooks_date(e->>'DueDate'), quickbooks_date(e->>'TxnDate'), e->>'DocNumber', "
	 "  quickbooks_lines(e, cur), e->>'SyncToken', upd, clock_timestamp() FROM v "
	 "WHERE e->>'Id' ~ '^[0-9]{1,20}$' "
	 "ON CONFLICT ON CONSTRAINT invoices_external_key DO UPDATE SET "
	 /* QuickBooks never re-opens a voided or deleted invoice. */
	 "  status = CASE WHEN i.status IN ('voided', 'deleted') AND EXCLUDED.status = 'open' "
	 "    THEN i.status ELSE EXCLUDED.status END, "
	 "  needs_sync = false, customer_id = EXCLUDED.customer_id, customer_name = EXCLUDED.customer_name, "
	 "  total_minor = EXCLUDED.total_minor, balance_minor = EXCLUDED.balance_minor, "
	 "  currency = EXCLUDED.currency, due_date = EXCLUDED.due_date, txn_date = EXCLUDED.txn_date, "
	 "  doc_number = EXCLUDED.doc_number, line_items = EXCLUDED.line_items, "
	 "  sync_token = EXCLUDED.sync_token, qbo_updated_at = EXCLUDED.qbo_updated_at, "
	 "  source_updated_at = GREATEST(i.source_updated_at, EXCLUDED.source_updated_at), "
	 "  synced_at = clock_timestamp(), version = i.version + 1, updated_at = clock_timestamp() "
	 "WHERE i.qbo_updated_at IS NULL OR EXCLUDED.qbo_updated_at IS NULL "
	 "  OR EXCLUDED.qbo_updated_at >= i.qbo_updated_at "
	 "RETURNING i.id::text"},
	{"qb_invoice_gone",
	 "UPDATE invoices SET status = 'deleted', last_operation = 'delete', needs_sync = false, "
	 "  synced_at = clock_timestamp(), version = version + 1, updated_at = clock_timestamp() "
	 "WHERE tenant_id = $1::uuid AND realm_id = $2 AND external_id = $3"},
	{"qb_store_entity",
	 "WITH v AS (SELECT $4::jsonb AS e, webhook_ts($4::jsonb->'MetaData'->>'LastUpdatedTime') AS upd) "
	 "INSERT INTO external_entities AS x (tenant_id, provider, account_id, entity_type, external_id, "
	 "  last_operation, source_updated_at, data, synced_at) "
	 "SELECT $1::uuid, 'quickbooks', $2, $3, e->>'Id', "
	 "  CASE WHEN e->>'status' = 'Deleted' THEN 'delete' ELSE 'read' END, "
	 "  COALESCE(upd, clock_timestamp()), e, clock_timestamp() FROM v WHERE e->>'Id' ~ '^[0-9]{1,20}$' "
	 "ON CONFLICT (tenant_id, provider, account_id, entity_type, external_id) DO UPDATE SET "
	 "  data = EXCLUDED.data, synced_at = clock_timestamp(), "
	 "  last_operation = CASE WHEN EXCLUDED.last_operation = 'delete' THEN 'delete' ELSE x.last_operation END, "
	 "  source_updated_at = GREATEST(x.source_updated_at, EXCLUDED.source_updated_at), "
	 "  updated_at = clock_timestamp() "
	 "WHERE EXCLUDED.source_updated_at >= x.source_updated_at OR x.data IS NULL"},
	{"qb_invoice_totals",
	 "SELECT COALESCE(json_agg(json_build_object('currency', x.currency, 'count', x.n, "
	 "    'total_minor', x.total, 'balance_minor', x.balance) ORDER BY x.currency), '[]')::text "
	 "FROM (SELECT currency, count(*) AS n, sum(total_minor) AS total, sum(balance_minor) AS balance "
	 "  FROM invoices i WHERE i.tenant_id = $1::uuid AND i.currency IS NOT NULL "
	 "  AND ($2::text IS NULL OR (i.issued_at >= ($2 || '-01T00:00:00Z')::timestamptz "
	 "       AND i.issued_at < ($2 || '-01T00:00:00Z')::timestamptz + interval '1 month')) "
	 "  AND ($3::text IS NULL OR i.status = $3) GROUP BY currency) x"},
	{"qb_event_load",
	 "SELECT status, COALESCE(tenant_id::text, ''), provider, entity_type, entity_id, account_id, operation "
	 "FROM webhook_inbox WHERE id = $1::uuid"},
};

void quickbooks_register(void)
{
	db_register(DB_BILLING, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/* Runs a statement; NULL (and the result cleared) unless it succeeded. */
static PGresult *run(struct db_conn *c, const char *name, int n, const char *const *v)
{
	PGresult *res = db_exec(c, name, n, v);
	if (res && !db_ok(res)) {
		PQclear(res);
		return NULL;
	}
	return res;
}

static bool run_ok(struct db_conn *c, const char *name, int n, const char *const *v)
{
	PGresult *res = run(c, name, n, v);
	PQclear(res);
	return res != NULL;
}

static char *dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

bool quickbooks_state_put(struct db_conn *c, const char *hash, const char *tenant_id,
			  const char *user_id, int ttl_s)
{
	char ttl[16];
	snprintf(ttl, sizeof(ttl), "%d", ttl_s);
	const char *v[] = {hash, tenant_id, user_id, ttl};
	return run_ok(c, "qb_state_put", 4, v);
}

enum status quickbooks_state_take(struct db_conn *c, const char *hash, char tenant_id[37],
				  char user_id[96], bool *fresh)
{
	const char *v[] = {hash};
	PGresult *res = run(c, "qb_state_take", 1, v);
	if (res == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_NOT_FOUND;
	if (PQntuples(res) == 1) {
		snprintf(tenant_id, 37, "%s", PQgetvalue(res, 0, 0));
		snprintf(user_id, 96, "%s", PQgetvalue(res, 0, 1));
		*fresh = strcmp(PQgetvalue(res, 0, 2), "true") == 0;
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status quickbooks_connection_get(struct db_conn *c, const char *tenant_id, struct arena *a,
				      char **json)
{
	const char *v[] = {tenant_id};
	PGresult *res = run(c, "qb_conn_get", 1, v);
	if (res == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_NOT_FOUND;
	if (PQntuples(res) == 1) {
		*json = arena_strdup(a, PQgetvalue(res, 0, 0));
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

bool quickbooks_connecting(struct db_conn *c, const char *tenant_id, const char *realm_id,
			   const char *code_sealed, const char *connected_by)
{
	const char *v[] = {tenant_id, realm_id, code_sealed, connected_by};
	return run_ok(c, "qb_connecting", 4, v);
}

enum status quickbooks_conn_load(struct db_conn *c, const char *tenant_id, int margin_s, bool lock,
				 struct qb_conn *out)
{
	memset(out, 0, sizeof(*out));
	char m[16];
	snprintf(m, sizeof(m), "%d", margin_s);
	const char *v[] = {tenant_id, m};
	PGresult *res = run(c, lock ? "qb_conn_lock" : "qb_conn_load", 2, v);
	if (res == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_NOT_FOUND;
	if (PQntuples(res) == 1) {
		snprintf(out->realm_id, sizeof(out->realm_id), "%s", PQgetvalue(res, 0, 0));
		snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 1));
		out->code_sealed = dup_or_null(res, 0, 2);
		out->refresh_sealed = dup_or_null(res, 0, 3);
		out->access_sealed = dup_or_null(res, 0, 4);
		out->revoke_sealed = dup_or_null(res, 0, 5);
		out->access_fresh = strcmp(PQgetvalue(res, 0, 6), "true") == 0;
		snprintf(out->last_sync_at, sizeof(out->last_sync_at), "%s", PQgetvalue(res, 0, 7));
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

void quickbooks_conn_free(struct qb_conn *q)
{
	free(q->code_sealed);
	free(q->refresh_sealed);
	free(q->access_sealed);
	free(q->revoke_sealed);
	memset(q, 0, sizeof(*q));
}

bool quickbooks_conn_tokens(struct db_conn *c, const char *tenant_id, const char *refresh_sealed,
			    const char *access_sealed, int expires_in, int refresh_expires_in,
			    bool initial, bool *applied)
{
	char e[16], r[16];
	snprintf(e, sizeof(e), "%d", expires_in);
	snprintf(r, sizeof(r), "%d", refresh_expires_in);
	const char *v[] = {tenant_id, refresh_sealed, access_sealed, e, r, initial ? "true" : "false"};
	PGresult *res = run(c, "qb_conn_tokens", 6, v);
	if (res == NULL)
		return false;
	*applied = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	return true;
}

bool quickbooks_conn_fail(struct db_conn *c, const char *tenant_id, const char *status,
			  const char *reason)
{
	const char *v[] = {tenant_id, status, reason};
	return run_ok(c, "qb_conn_fail", 3, v);
}

bool quickbooks_conn_note(struct db_conn *c, const char *tenant_id, const char *error)
{
	const char *v[] = {tenant_id, error};
	return run_ok(c, "qb_conn_note", 2, v);
}

enum status quickbooks_disconnect(struct db_conn *c, const char *tenant_id, const char *reason,
				  struct arena *a, char **json, bool *revoke)
{
	const char *v[] = {tenant_id, reason};
	PGresult *res = run(c, "qb_disconnect", 2, v);
	if (res == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_NOT_FOUND;
	if (PQntuples(res) == 1) {
		*json = arena_strdup(a, PQgetvalue(res, 0, 0));
		*revoke = strcmp(PQgetvalue(res, 0, 1), "true") == 0;
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

bool quickbooks_revoke_done(struct db_conn *c, const char *tenant_id)
{
	const char *v[] = {tenant_id};
	return run_ok(c, "qb_revoke_done", 1, v);
}

static int ids_of(struct db_conn *c, const char *name, int arg, char (*ids)[37], int max)
{
	char a[16], m[16];
	snprintf(a, sizeof(a), "%d", arg);
	snprintf(m, sizeof(m), "%d", max);
	const char *v[] = {a, m};
	PGresult *res = run(c, name, 2, v);
	if (res == NULL)
		return -1;
	int n = PQntuples(res);
	for (int i = 0; i < n && i < max; i++)
		snprintf(ids[i], 37, "%s", PQgetvalue(res, i, 0));
	PQclear(res);
	return n < max ? n : max;
}

int quickbooks_due_refresh(struct db_conn *c, int horizon_s, char (*ids)[37], int max)
{
	return ids_of(c, "qb_due_refresh", horizon_s, ids, max);
}

int quickbooks_due_cdc(struct db_conn *c, int every_s, char (*ids)[37], int max)
{
	return ids_of(c, "qb_due_cdc", every_s, ids, max);
}

bool quickbooks_synced(struct db_conn *c, const char *tenant_id, const char *since)
{
	const char *v[] = {tenant_id, since};
	return run_ok(c, "qb_synced", 2, v);
}

/* A statement that may refuse the data: ST_INVALID for data errors (class
 * 22 and 23), ST_UNAVAILABLE for the rest. */
static enum status store(struct db_conn *c, const char *name, int n, const char *const *v)
{
	PGresult *res = db_exec(c, name, n, v);
	if (res == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_OK;
	if (!db_ok(res)) {
		const char *s = db_sqlstate(res);
		st = (strncmp(s, "22", 2) == 0 || strncmp(s, "23", 2) == 0) ? ST_INVALID : ST_UNAVAILABLE;
	}
	PQclear(res);
	return st;
}

enum status quickbooks_store_invoice(struct db_conn *c, const char *tenant_id, const char *realm_id,
				     const char *entity_json)
{
	const char *v[] = {tenant_id, realm_id, entity_json};
	return store(c, "qb_store_invoice", 3, v);
}

enum status quickbooks_store_entity(struct db_conn *c, const char *tenant_id, const char *realm_id,
				    const char *type, const char *entity_json)
{
	const char *v[] = {tenant_id, realm_id, type, entity_json};
	return store(c, "qb_store_entity", 4, v);
}

bool quickbooks_invoice_gone(struct db_conn *c, const char *tenant_id, const char *realm_id,
			     const char *external_id)
{
	const char *v[] = {tenant_id, realm_id, external_id};
	return run_ok(c, "qb_invoice_gone", 3, v);
}

enum status quickbooks_event_load(struct db_conn *c, const char *id, struct qb_event *e)
{
	memset(e, 0, sizeof(*e));
	const char *v[] = {id};
	PGresult *res = run(c, "qb_event_load", 1, v);
	if (res == NULL)
		return ST_UNAVAILABLE;
	enum status st = ST_NOT_FOUND;
	if (PQntuples(res) == 1) {
		snprintf(e->status, sizeof(e->status), "%s", PQgetvalue(res, 0, 0));
		snprintf(e->tenant_id, sizeof(e->tenant_id), "%s", PQgetvalue(res, 0, 1));
		snprintf(e->provider, sizeof(e->provider), "%s", PQgetvalue(res, 0, 2));
		e->entity_type = dup_or_null(res, 0, 3);
		e->entity_id = dup_or_null(res, 0, 4);
		e->account_id = dup_or_null(res, 0, 5);
		e->operation = dup_or_null(res, 0, 6);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

void quickbooks_event_free(struct qb_event *e)
{
	free(e->entity_type);
	free(e->entity_id);
	free(e->account_id);
	free(e->operation);
	memset(e, 0, sizeof(*e));
}

enum status quickbooks_invoice_totals(struct db_conn *c, const char *tenant_id, const char *period,
				      const char *status, struct arena *a, char **json)
{
	const char *v[] = {tenant_id, period, status};
	PGresult *res = run(c, "qb_invoice_totals", 3, v);
	if (res == NULL)
		return ST_UNAVAILABLE;
	*json = arena_strdup(a, PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "[]");
	PQclear(res);
	return ST_OK;
}
