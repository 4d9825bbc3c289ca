/*
 * idempotency.c - stored responses keyed by (scope, Idempotency-Key).
 */
#include "server/store/idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt stmts[] = {
	{"idem_claim",
	 "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) "
	 "ON CONFLICT (scope, key) DO NOTHING RETURNING 1"},
	{"idem_get",
	 "SELECT request_hash, status, response_body, location, etag FROM idempotency_keys "
	 "WHERE scope = $1 AND key = $2"},
	{"idem_purge",
	 "DELETE FROM idempotency_keys WHERE ctid IN ("
	 "  SELECT ctid FROM idempotency_keys "
	 "  WHERE created_at < now() - make_interval(hours => $1::int) AND status IS NOT NULL "
	 "  LIMIT 10000)"},
	{"idem_finish",
	 "UPDATE idempotency_keys SET status = $3::int, response_body = $4, location = NULLIF($5, ''), "
	 "etag = NULLIF($6, '') WHERE scope = $1 AND key = $2"},
};

void idem_register(void)
{
	for (int s = 0; s < DB_SERVICE_COUNT; s++)
		if (s != DB_AUTH)
			db_register((enum db_service)s, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

bool idem_key_valid(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	if (n < 1 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (key[i] < 0x21 || key[i] > 0x7e)
			return false;
	return true;
}

enum idem_result idem_begin(struct db_conn *c, const char *scope, const char *key,
			    const char *request_hash, struct arena *a, struct idem_record *out)
{
	const char *v[] = {scope, key, request_hash};
	PGresult *res = db_exec(c, "idem_claim", 3, v);
	if (!db_ok(res)) {
		PQclear(res);
		return IDEM_ERROR;
	}
	bool claimed = PQntuples(res) == 1;
	PQclear(res);
	if (claimed)
		return IDEM_PROCEED;

	res = db_exec(c, "idem_get", 2, v);
	enum idem_result r = IDEM_ERROR;
	if (db_ok(res) && PQntuples(res) == 1) {
		if (strcmp(PQgetvalue(res, 0, 0), request_hash) != 0) {
			r = IDEM_MISMATCH;
		} else if (!PQgetisnull(res, 0, 1)) {
			out->status = atoi(PQgetvalue(res, 0, 1));
			out->body = arena_strdup(a, PQgetvalue(res, 0, 2));
			out->location = PQgetisnull(res, 0, 3) ? NULL : arena_strdup(a, PQgetvalue(res, 0, 3));
			out->etag = PQgetisnull(res, 0, 4) ? NULL : arena_strdup(a, PQgetvalue(res, 0, 4));
			r = IDEM_REPLAY;
		}
	}
	PQclear(res);
	return r;
}

bool idem_finish(struct db_conn *c, const char *scope, const char *key, int status,
		 const char *body, const char *location, const char *etag)
{
	char st[12];
	snprintf(st, sizeof(st), "%d", status);
	const char *v[] = {scope, key, st, body, location ? location : "", etag ? etag : ""};
	PGresult *res = db_exec(c, "idem_finish", 6, v);
	bool ok = db_ok(res);
	PQclear(res);
	return ok;
}

long idem_purge(struct db_conn *c, int hours)
{
	char h[12];
	snprintf(h, sizeof(h), "%d", hours);
	const char *v[] = {h};
	PGresult *res = db_exec(c, "idem_purge", 1, v);
	long n = db_ok(res) ? atol(PQcmdTuples(res)) : -1;
	PQclear(res);
	return n;
}
