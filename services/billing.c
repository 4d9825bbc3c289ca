/*
 * billing.c - accounts, ledger and payments statements (billing_db).
 *
 * Each posting is a single statement of data-modifying CTEs: the ledger
 * transaction, its entries (inserted in account id order, so concurrent
 * postings lock wallets in one global order and never deadlock) and the
 * payment. The entry trigger applies balances; the CHECK on wallets and
 * the deferred zero-sum triggers make a wrong posting fail as a whole.
 * Outcomes are read from SQLSTATE: 23514 on accounts_wallet_not_negative
 * is "insufficient funds", 22003 a balance overflow.
 */
#include "services/billing.h"
#include "server/common/log.h"
#include "server/common/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WALLET(t, u, cur) \
	"SELECT id FROM accounts WHERE tenant_id = " t " AND kind = 'user_wallet' " \
	"AND owner_user_id = " u " AND currency = " cur
#define SYSTEM_ACCOUNT(kind, t, cur) \
	"SELECT id FROM accounts WHERE tenant_id = " t " AND kind = '" kind "' " \
	"AND owner_user_id IS NULL AND currency = " cur
#define SORT_KEY(a) \
	"((extract(epoch FROM " a ".created_at) * 1000000)::bigint)::text || '|' || " a ".id::text"
#define BEFORE_CURSOR(a, us, id) \
	"(" us "::bigint IS NULL OR (" a ".created_at, " a ".id) < " \
	"('epoch'::timestamptz + " us "::bigint * interval '1 microsecond', " id "::uuid))"

static const struct db_stmt stmts[] = {
	/* The member's wallet row, locked until the transaction ends: deposits
	 * of one member and currency are counted one after another. */
	{"billing_wallet_lock", WALLET("$1::uuid", "$2::uuid", "$3::text") " FOR UPDATE"},
	/* What the member deposited today (UTC), in this currency. Run after
	 * billing_wallet_lock, in the same transaction, so it sees every
	 * deposit committed before the lock was granted. */
	{"billing_deposits_today",
	 "SELECT COALESCE(sum(amount_minor), 0)::text FROM payments "
	 "WHERE tenant_id = $1::uuid AND user_id = $2::uuid AND currency = $3 "
	 "  AND direction = 'deposit' AND status = 'succeeded' "
	 "  AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"},
	{"billing_accounts_ensure",
	 "INSERT INTO accounts (tenant_id, kind, owner_user_id, currency, balance_minor) "
	 "VALUES ($1::uuid, 'user_wallet', $2::uuid, $3, 0), ($1::uuid, 'house', NULL, $3, NULL), "
	 "       ($1::uuid, 'external', NULL, $3, NULL) "
	 "ON CONFLICT DO NOTHING"},
	/* $5 is the direction: a deposit moves external -> wallet, a
	 * withdrawal wallet -> external. */
	{"billing_payment_create",
	 "WITH w AS (" WALLET("$1::uuid", "$2::uuid", "$3::text") "), "
	 "x AS (" SYSTEM_ACCOUNT("external", "$1::uuid", "$3::text") "), "
	 "ids AS (SELECT gen_random_uuid() AS pid), "
	 "t AS (INSERT INTO ledger_transactions (tenant_id, kind, reference, user_id, request_id) "
	 "      SELECT $1::uuid, $5::text, ids.pid, $2::uuid, $6::text FROM ids, w, x "
	 "      RETURNING id, reference), "
	 "legs AS (SELECT w.id AS account_id, "
	 "           CASE WHEN $5::text = 'deposit' THEN $4::bigint ELSE -$4::bigint END AS amount FROM w "
	 "         UNION ALL SELECT x.id, "
	 "           CASE WHEN $5::text = 'deposit' THEN -$4::bigint ELSE $4::bigint END FROM x), "
	 "e AS (INSERT INTO ledger_entries (transaction_id, tenant_id, account_id, amount_minor, currency) "
	 "      SELECT t.id, $1::uuid, legs.account_id, legs.amount, $3::text FROM t, legs "
	 "      ORDER BY legs.account_id RETURNING 1), "
	 "p AS (INSERT INTO payments (id, tenant_id, user_id, direction, amount_minor, currency, "
	 "        status, transaction_id, request_id) "
	 "      SELECT t.reference, $1::uuid, $2::uuid, $5::text, $4::bigint, $3::text, 'succeeded', "
	 "        t.id, $6::text FROM t RETURNING *) "
	 "SELECT payment_json(p)::text, p.id::text FROM p"},
	{"billing_payment_get",
	 "SELECT payment_json(p)::text FROM payments p "
	 "WHERE p.id = $2::uuid AND p.tenant_id = $1::uuid AND ($3::uuid IS NULL OR p.user_id = $3::uuid)"},
	{"billing_payment_list",
	 "SELECT payment_json(p)::text, " SORT_KEY("p") " FROM payments p "
	 "WHERE p.tenant_id = $1::uuid AND ($2::uuid IS NULL OR p.user_id = $2::uuid) "
	 "  AND ($3::text IS NULL OR p.direction = $3) AND ($4::text IS NULL OR p.status = $4) "
	 "  AND ($5::text IS NULL OR p.currency = $5) "
	 "  AND " BEFORE_CURSOR("p", "$6", "$7") " "
	 "ORDER BY p.created_at DESC, p.id DESC LIMIT $8"},
	{"billing_wallet",
	 "SELECT json_build_object('user_id', $2::uuid, 'balances', "
	 "  COALESCE(json_agg(json_build_object('currency', a.currency, "
	 "    'available_minor', a.balance_minor) ORDER BY a.currency), '[]'::json))::text "
	 "FROM accounts a "
	 "WHERE a.tenant_id = $1::uuid AND a.kind = 'user_wallet' AND a.owner_user_id = $2::uuid"},
	{"billing_ledger_list",
	 "SELECT ledger_transaction_json(t)::text, " SORT_KEY("t") " FROM ledger_transactions t "
	 "WHERE t.tenant_id = $1::uuid AND ($2::text IS NULL OR t.kind = $2) "
	 "  AND ($3::uuid IS NULL OR t.reference = $3::uuid) "
	 "  AND ($4::uuid IS NULL OR t.user_id = $4::uuid) "
	 "  AND " BEFORE_CURSOR("t", "$5", "$6") " "
	 "ORDER BY t.created_at DESC, t.id DESC LIMIT $7"},
	/* Returns (transactions written, wallets found). */
	{"billing_stake",
	 "WITH w AS (" WALLET("$1::uuid", "$2::uuid", "$3::text") "), "
	 "h AS (" SYSTEM_ACCOUNT("house", "$1::uuid", "$3::text") "), "
	 "t AS (INSERT INTO ledger_transactions (tenant_id, kind, reference, user_id, request_id) "
	 "      SELECT $1::uuid, 'stake', $5::uuid, $2::uuid, $6::text FROM w, h "
	 "      ON CONFLICT (kind, reference) DO NOTHING RETURNING id), "
	 "legs AS (SELECT w.id AS account_id, -$4::bigint AS amount FROM w "
	 "         UNION ALL SELECT h.id, $4::bigint FROM h), "
	 "e AS (INSERT INTO ledger_entries (transaction_id, tenant_id, account_id, amount_minor, currency) "
	 "      SELECT t.id, $1::uuid, legs.account_id, legs.amount, $3::text FROM t, legs "
	 "      ORDER BY legs.account_id RETURNING 1) "
	 "SELECT (SELECT count(*) FROM t)::int, (SELECT count(*) FROM w)::int"},
	/* A payout mirrors the bet's stake: the stake's wallet leg (negative)
	 * receives the amount, its house leg pays it. */
	{"billing_pay_winners",
	 "WITH items AS (SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS i(bet_id, amount)), "
	 "s AS (SELECT t.id, t.tenant_id, t.reference, t.user_id, i.amount FROM ledger_transactions t "
	 "      JOIN items i ON t.kind = 'stake' AND t.reference = i.bet_id), "
	 "p AS (INSERT INTO ledger_transactions (tenant_id, kind, reference, user_id, request_id) "
	 "      SELECT s.tenant_id, 'payout', s.reference, s.user_id, $3::text FROM s "
	 "      ON CONFLICT DO NOTHING RETURNING id, reference), "
	 "e AS (INSERT INTO ledger_entries (transaction_id, tenant_id, account_id, amount_minor, currency) "
	 "      SELECT p.id, se.tenant_id, se.account_id, "
	 "        CASE WHEN se.amount_minor < 0 THEN s.amount ELSE -s.amount END, se.currency "
	 "      FROM p JOIN s ON s.reference = p.reference "
	 "      JOIN ledger_entries se ON se.transaction_id = s.id "
	 "      ORDER BY se.account_id RETURNING 1) "
	 "SELECT count(*)::int FROM p"},
	/* A refund reverses the bet's stake entry by entry. */
	{"billing_refund_stakes",
	 "WITH s AS (SELECT t.id, t.tenant_id, t.reference, t.user_id FROM ledger_transactions t "
	 "      WHERE t.kind = 'stake' AND t.reference = ANY($1::uuid[])), "
	 "r AS (INSERT INTO ledger_transactions (tenant_id, kind, reference, user_id, request_id) "
	 "      SELECT s.tenant_id, 'refund', s.reference, s.user_id, $2::text FROM s "
	 "      ON CONFLICT DO NOTHING RETURNING id, reference), "
	 "e AS (INSERT INTO ledger_entries (transaction_id, tenant_id, account_id, amount_minor, currency) "
	 "      SELECT r.id, se.tenant_id, se.account_id, -se.amount_minor, se.currency "
	 "      FROM r JOIN s ON s.reference = r.reference "
	 "      JOIN ledger_entries se ON se.transaction_id = s.id "
	 "      ORDER BY se.account_id RETURNING 1) "
	 "SELECT count(*)::int FROM r"},
	{"billing_stakes_exist",
	 "SELECT reference::text FROM ledger_transactions "
	 "WHERE kind = 'stake' AND reference = ANY($1::uuid[])"},
	{"billing_unconfirmed_stakes",
	 "SELECT reference::text FROM ledger_transactions "
	 "WHERE kind = 'stake' AND confirmed_at IS NULL "
	 "  AND created_at < now() - make_interval(secs => $1::int) "
	 "ORDER BY created_at LIMIT $2::int"},
	{"billing_confirm_stakes",
	 "UPDATE ledger_transactions SET confirmed_at = now() "
	 "WHERE kind = 'stake' AND reference = ANY($1::uuid[]) AND confirmed_at IS NULL"},
};

void billing_register(void)
{
	db_register(DB_BILLING, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/* "{a,b,c}": a PostgreSQL array literal of ids the caller has validated as
 * UUIDs (no quoting needed). Caller frees. */
static char *id_array(int n, const char *const *ids)
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

static char *int_array(int n, const long long *v)
{
	size_t len = 3 + (size_t)n * 21;
	char *s = xmalloc(len);
	size_t off = 0;
	s[off++] = '{';
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, len - off, "%s%lld", i ? "," : "", v[i]);
	snprintf(s + off, len - off, "}");
	return s;
}

/* Maps a failed posting to its meaning. */
static enum status posting_error(const PGresult *res)
{
	const char *state = db_sqlstate(res);
	if (strcmp(state, "23514") == 0) {
		const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		if (cons && strcmp(cons, "accounts_wallet_not_negative") == 0)
			return ST_INSUFFICIENT;
		log_error("billing: posting violated %s", cons ? cons : "a constraint");
	} else if (strcmp(state, "22003") == 0) {
		return ST_LIMIT;
	}
	return ST_UNAVAILABLE;
}

enum status billing_accounts_ensure(struct db_conn *c, const char *tenant_id,
					    const char *user_id, const char *currency)
{
	const char *v[] = {tenant_id, user_id, currency};
	PGresult *res = db_exec(c, "billing_accounts_ensure", 3, v);
	enum status st = db_ok(res) ? ST_OK : ST_UNAVAILABLE;
	PQclear(res);
	return st;
}

enum status billing_deposits_today(struct db_conn *c, const char *tenant_id,
					   const char *user_id, const char *currency,
					   long long *total)
{
	const char *v[] = {tenant_id, user_id, currency};
	PGresult *res = db_exec(c, "billing_wallet_lock", 3, v);
	bool locked = db_ok(res) && PQntuples(res) == 1;
	PQclear(res);
	if (!locked)
		return ST_UNAVAILABLE;
	res = db_exec(c, "billing_deposits_today", 3, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		*total = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status billing_payment_create(struct db_conn *c, const char *tenant_id,
					   const char *user_id, const char *direction,
					   const char *amount_minor, const char *currency,
					   const char *request_id, struct arena *ar, char **json,
					   char id_out[37])
{
	const char *v[] = {tenant_id, user_id, currency, amount_minor, direction, request_id};
	PGresult *res = db_exec(c, "billing_payment_create", 6, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		if (PQntuples(res) == 1) {
			*json = arena_strdup(ar, PQgetvalue(res, 0, 0));
			snprintf(id_out, 37, "%s", PQgetvalue(res, 0, 1));
			st = ST_OK;
			metrics_ledger_postings(strcmp(direction, "deposit") == 0 ? MP_DEPOSIT : MP_WITHDRAWAL, 1);
		} else {
			/* No wallet (or no external account) in this currency. */
			st = strcmp(direction, "withdrawal") == 0 ? ST_INSUFFICIENT : ST_NOT_FOUND;
		}
	} else if (res) {
		st = posting_error(res);
	}
	PQclear(res);
	return st;
}

enum status billing_payment_get(struct db_conn *c, const char *tenant_id, const char *id,
					const char *only_user, struct arena *ar, char **json)
{
	const char *v[] = {tenant_id, id, only_user};
	PGresult *res = db_exec(c, "billing_payment_get", 3, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK)
			*json = arena_strdup(ar, PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return st;
}

enum status billing_payment_list(struct db_conn *c, const struct payment_filter *f,
					 struct arena *ar, char **page)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	const char *v[] = {f->tenant_id, f->user_id, f->direction, f->status, f->currency,
			   f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim};
	PGresult *res = db_exec(c, "billing_payment_list", 8, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		*page = page_json(res, f->limit, ar);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status billing_wallet(struct db_conn *c, const char *tenant_id, const char *user_id,
				   struct arena *ar, char **json)
{
	const char *v[] = {tenant_id, user_id};
	PGresult *res = db_exec(c, "billing_wallet", 2, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		*json = arena_strdup(ar, PQgetvalue(res, 0, 0));
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status billing_ledger_list(struct db_conn *c, const struct ledger_filter *f,
					struct arena *ar, char **page)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	const char *v[] = {f->tenant_id, f->kind, f->reference, f->user_id,
			   f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim};
	PGresult *res = db_exec(c, "billing_ledger_list", 7, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		*page = page_json(res, f->limit, ar);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status billing_stake(struct db_conn *c, const char *tenant_id, const char *user_id,
				  const char *currency, const char *amount_minor, const char *bet_id,
				  const char *request_id)
{
	const char *v[] = {tenant_id, user_id, currency, amount_minor, bet_id, request_id};
	PGresult *res = db_exec(c, "billing_stake", 6, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		if (atoi(PQgetvalue(res, 0, 0)) == 1) {
			st = ST_OK;
			metrics_ledger_postings(MP_STAKE, 1);
		}
		else if (atoi(PQgetvalue(res, 0, 1)) == 0)
			st = ST_INSUFFICIENT; /* no wallet in this currency */
		else
			st = ST_ALREADY;
	} else if (res && !db_ok(res)) {
		st = posting_error(res);
	}
	PQclear(res);
	return st;
}

/* Runs a settlement statement whose one row is the count of postings. */
static enum status run_count(struct db_conn *c, const char *stmt, int nparams,
				     const char *const *v, int *count)
{
	PGresult *res = db_exec(c, stmt, nparams, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		*count = atoi(PQgetvalue(res, 0, 0));
		st = ST_OK;
	} else if (res && !db_ok(res)) {
		st = posting_error(res);
	}
	PQclear(res);
	return st;
}

enum status billing_pay_winners(struct db_conn *c, int n, const char *const *bet_ids,
					const long long *amounts, const char *request_id,
					int *posted)
{
	*posted = 0;
	if (n == 0)
		return ST_OK;
	char *ids = id_array(n, bet_ids);
	char *amts = int_array(n, amounts);
	const char *v[] = {ids, amts, request_id};
	enum status st = run_count(c, "billing_pay_winners", 3, v, posted);
	if (st == ST_OK)
		metrics_ledger_postings(MP_PAYOUT, *posted);
	free(ids);
	free(amts);
	return st;
}

enum status billing_refund_stakes(struct db_conn *c, int n, const char *const *bet_ids,
					  const char *request_id, int *posted)
{
	*posted = 0;
	if (n == 0)
		return ST_OK;
	char *ids = id_array(n, bet_ids);
	const char *v[] = {ids, request_id};
	enum status st = run_count(c, "billing_refund_stakes", 2, v, posted);
	if (st == ST_OK)
		metrics_ledger_postings(MP_REFUND, *posted);
	free(ids);
	return st;
}

enum status billing_stakes_exist(struct db_conn *c, int n, const char *const *bet_ids,
					 bool *has_stake)
{
	for (int i = 0; i < n; i++)
		has_stake[i] = false;
	if (n == 0)
		return ST_OK;
	char *ids = id_array(n, bet_ids);
	const char *v[] = {ids};
	PGresult *res = db_exec(c, "billing_stakes_exist", 1, v);
	free(ids);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		for (int r = 0; r < PQntuples(res); r++)
			for (int i = 0; i < n; i++)
				if (strcasecmp(PQgetvalue(res, r, 0), bet_ids[i]) == 0)
					has_stake[i] = true;
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status billing_unconfirmed_stakes(struct db_conn *c, int min_age_s, int max,
					       struct arena *ar, char **ids_out, int *n_out)
{
	char age[12], lim[12];
	snprintf(age, sizeof(age), "%d", min_age_s);
	snprintf(lim, sizeof(lim), "%d", max);
	const char *v[] = {age, lim};
	PGresult *res = db_exec(c, "billing_unconfirmed_stakes", 2, v);
	enum status st = ST_UNAVAILABLE;
	*n_out = 0;
	if (db_ok(res)) {
		*n_out = db_copy_column(res, 0, max, ar, ids_out);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status billing_confirm_stakes(struct db_conn *c, int n, const char *const *bet_ids)
{
	if (n == 0)
		return ST_OK;
	char *ids = id_array(n, bet_ids);
	const char *v[] = {ids};
	PGresult *res = db_exec(c, "billing_confirm_stakes", 1, v);
	free(ids);
	enum status st = db_ok(res) ? ST_OK : ST_UNAVAILABLE;
	PQclear(res);
	return st;
}
