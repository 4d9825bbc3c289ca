/*
 * money_fixtures.c - see money_fixtures.h.
 */
#include "money_fixtures.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/jobs/jobs.h"
#include "server/common/util.h"

void money_tenant_create(struct money_tenant *m)
{
	create_tenant(&m->t);
	char oid[37];
	random_uuid(oid);
	m->admin = mint(m->t.aad, oid, "tenant_admin", NULL);
	random_uuid(oid);
	m->viewer = mint(m->t.aad, oid, "billing_viewer", NULL);
	random_uuid(oid);
	m->support = mint(m->t.aad, oid, "support_user", NULL);
}

void money_tenant_free(struct money_tenant *m)
{
	free(m->admin);
	free(m->viewer);
	free(m->support);
}

void member_create(const struct money_tenant *m, struct member *out)
{
	char oid[37];
	random_uuid(oid);
	out->token = mint(m->t.aad, oid, NULL, NULL);
	struct resp *r = http("GET", "/v1/me", out->token, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	const char *id = json_string_value(json_object_get(json_object_get(r->json, "user"), "id"));
	cr_assert(id && util_is_uuid(id));
	snprintf(out->user_id, sizeof(out->user_id), "%s", id);
	resp_free(r);
}

void member_free(struct member *mb)
{
	free(mb->token);
}

char *tpath(const struct money_tenant *m, const char *suffix)
{
	return xasprintf("/v1/tenants/%s%s", m->t.id, suffix);
}

void event_create(const struct money_tenant *m, const char *odds_home, const char *odds_away,
		  char id_out[37])
{
	char *body = xasprintf("{\"name\":\"Match\",\"sport\":\"football\",\"starts_at\":\"2036-01-01T18:00:00Z\","
			       "\"status\":\"open\",\"selections\":[{\"key\":\"home\",\"name\":\"Home\",\"odds\":\"%s\"},"
			       "{\"key\":\"away\",\"name\":\"Away\",\"odds\":\"%s\"}]}",
			       odds_home, odds_away);
	char *p = tpath(m, "/events");
	struct resp *r = http("POST", p, m->admin, body, NULL);
	cr_assert_eq(r->status, 201, "create event: %ld %s", r->status, r->body);
	snprintf(id_out, 37, "%s", json_string_value(json_object_get(r->json, "id")));
	resp_free(r);
	free(p);
	free(body);
}

void deposit(const struct money_tenant *m, const struct member *mb, long long amount,
	     const char *currency)
{
	char *body = xasprintf("{\"direction\":\"deposit\",\"amount_minor\":%lld,\"currency\":\"%s\"}",
			       amount, currency);
	char *p = tpath(m, "/payments");
	struct resp *r = http("POST", p, mb->token, body, NULL);
	cr_assert_eq(r->status, 201, "deposit: %ld %s", r->status, r->body);
	resp_free(r);
	free(p);
	free(body);
}

long long balance(const struct money_tenant *m, const struct member *mb, const char *currency)
{
	char *p = tpath(m, "/wallet");
	struct resp *r = http("GET", p, mb->token, NULL, NULL);
	cr_assert_eq(r->status, 200, "wallet: %ld %s", r->status, r->body);
	long long out = 0;
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(r->json, "balances"), i, b)
		if (strcmp(json_string_value(json_object_get(b, "currency")), currency) == 0)
			out = json_integer_value(json_object_get(b, "available_minor"));
	resp_free(r);
	free(p);
	return out;
}

struct resp *place_bet_at(const char *base, const struct money_tenant *m, const struct member *mb,
			  const char *event_id, const char *selection, long long stake,
			  const char *odds, const char *key)
{
	char *body = xasprintf("{\"event_id\":\"%s\",\"selection\":\"%s\",\"stake_minor\":%lld,"
			       "\"currency\":\"EUR\",\"odds\":\"%s\"}",
			       event_id, selection, stake, odds);
	char *p = tpath(m, "/bets");
	char *hk = key ? xasprintf("Idempotency-Key: %s", key) : NULL;
	const char *h[] = {hk, NULL};
	struct resp *r = http_at(base, "POST", p, mb->token, body, hk ? h : NULL);
	free(hk);
	free(p);
	free(body);
	return r;
}

struct resp *place_bet(const struct money_tenant *m, const struct member *mb, const char *event_id,
		       const char *selection, long long stake, const char *odds, const char *key)
{
	return place_bet_at(base_url(), m, mb, event_id, selection, stake, odds, key);
}

static PGconn *scoped(const char *env)
{
	PGconn *pg = db_connect(env);
	PQclear(PQexec(pg, "SELECT set_config('atrium.tenant_id', '*', false)"));
	return pg;
}

PGconn *betting_db(void)
{
	return scoped("ATRIUM_DB_BETTING_URL");
}

PGconn *billing_db(void)
{
	return scoped("ATRIUM_DB_BILLING_URL");
}

char *sql_value(PGconn *pg, const char *sql, const char *p1, const char *p2, const char *p3)
{
	const char *v[] = {p1, p2, p3};
	int n = p3 ? 3 : p2 ? 2 : p1 ? 1 : 0;
	PGresult *res = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
	cr_assert_geq(PQntuples(res), 1, "%s: no row", sql);
	char *out = PQgetisnull(res, 0, 0) ? NULL : xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

long long sql_ll(PGconn *pg, const char *sql, const char *p1, const char *p2, const char *p3)
{
	char *s = sql_value(pg, sql, p1, p2, p3);
	long long v = s ? atoll(s) : 0;
	free(s);
	return v;
}

/* Rows of a query as "a|b|c" lines, for error messages. */
static char *rows_text(PGresult *res, int max)
{
	size_t cap = 4096, len = 0;
	char *out = xmalloc(cap);
	out[0] = '\0';
	for (int r = 0; r < PQntuples(res) && r < max; r++) {
		for (int c = 0; c < PQnfields(res); c++)
			len += (size_t)snprintf(out + len, cap > len ? cap - len : 0, "%s%s", c ? "|" : "",
						PQgetvalue(res, r, c));
		len += (size_t)snprintf(out + len, cap > len ? cap - len : 0, "; ");
		if (len >= cap - 200)
			break;
	}
	return out;
}

/* Fails with the offending rows when the query returns any. */
static void assert_no_rows(PGconn *pg, const char *what, const char *sql, const char *tenant)
{
	const char *v[] = {tenant};
	PGresult *res = PQexecParams(pg, sql, 1, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", what, PQresultErrorMessage(res));
	if (PQntuples(res) > 0) {
		char *rows = rows_text(res, 10);
		cr_assert_fail("invariant violated: %s (%d rows): %s", what, PQntuples(res), rows);
	}
	PQclear(res);
}

void assert_money_invariants(const char *tenant_id, bool allow_pending)
{
	PGconn *bill = billing_db();
	PGconn *bet = betting_db();
	assert_no_rows(bill, "every transaction's entries sum to zero per currency",
		       "SELECT transaction_id, currency, sum(amount_minor) FROM ledger_entries "
		       "WHERE tenant_id = $1::uuid GROUP BY 1, 2 HAVING sum(amount_minor) <> 0",
		       tenant_id);
	assert_no_rows(bill, "every transaction has two entries at least",
		       "SELECT t.id, t.kind FROM ledger_transactions t WHERE t.tenant_id = $1::uuid "
		       "AND (SELECT count(*) FROM ledger_entries e WHERE e.transaction_id = t.id) < 2",
		       tenant_id);
	assert_no_rows(bill, "no wallet is negative and each equals the sum of its entries",
		       "SELECT a.id, a.balance_minor, (SELECT sum(amount_minor) FROM ledger_entries e "
		       "  WHERE e.account_id = a.id) FROM accounts a "
		       "WHERE a.tenant_id = $1::uuid AND a.kind = 'user_wallet' AND (a.balance_minor < 0 "
		       "  OR a.balance_minor <> COALESCE((SELECT sum(amount_minor) FROM ledger_entries e "
		       "     WHERE e.account_id = a.id), 0))",
		       tenant_id);

	/* Cross-database: the bets against their money. */
	const char *v[] = {tenant_id};
	PGresult *bets = PQexecParams(bet,
		"SELECT id::text, status, stake_minor, potential_payout_minor, COALESCE(payout_minor, -1) "
		"FROM bets WHERE tenant_id = $1::uuid",
		1, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(bets), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(bets));
	/* Per reference and kind: count and the amount the wallet received. */
	PGresult *money = PQexecParams(bill,
		"SELECT t.reference::text, t.kind, count(*), "
		"  sum((SELECT sum(e.amount_minor) FROM ledger_entries e JOIN accounts a ON a.id = e.account_id "
		"       WHERE e.transaction_id = t.id AND a.kind = 'user_wallet')) "
		"FROM ledger_transactions t WHERE t.tenant_id = $1::uuid AND t.kind IN ('stake', 'payout', 'refund') "
		"GROUP BY 1, 2",
		1, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQresultStatus(money), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(money));

	for (int i = 0; i < PQntuples(bets); i++) {
		const char *id = PQgetvalue(bets, i, 0), *status = PQgetvalue(bets, i, 1);
		long long stake = atoll(PQgetvalue(bets, i, 2)), potential = atoll(PQgetvalue(bets, i, 3));
		long long n_stake = 0, n_payout = 0, n_refund = 0, staked = 0, paid = 0, refunded = 0;
		for (int k = 0; k < PQntuples(money); k++) {
			if (strcmp(PQgetvalue(money, k, 0), id) != 0)
				continue;
			const char *kind = PQgetvalue(money, k, 1);
			long long n = atoll(PQgetvalue(money, k, 2)), amt = atoll(PQgetvalue(money, k, 3));
			if (strcmp(kind, "stake") == 0) {
				n_stake = n;
				staked = -amt;
			} else if (strcmp(kind, "payout") == 0) {
				n_payout = n;
				paid = amt;
			} else {
				n_refund = n;
				refunded = amt;
			}
		}
		cr_assert_leq(n_stake, 1, "bet %s has %lld stakes", id, n_stake);
		cr_assert_leq(n_payout + n_refund, 1, "bet %s has %lld payouts and %lld refunds", id, n_payout, n_refund);
		if (strcmp(status, "pending") == 0) {
			cr_assert(allow_pending, "bet %s is still pending", id);
			continue;
		}
		if (strcmp(status, "rejected") == 0) {
			cr_assert(n_stake == 0 || (n_refund == 1 && refunded == staked),
				  "rejected bet %s keeps a stake (stakes %lld, refunds %lld)", id, n_stake, n_refund);
			continue;
		}
		cr_assert_eq(n_stake, 1, "%s bet %s has %lld stakes", status, id, n_stake);
		cr_assert_eq(staked, stake, "bet %s: stake %lld taken for a stake of %lld", id, staked, stake);
		if (strcmp(status, "won") == 0) {
			cr_assert(n_payout == 1 && paid == potential && n_refund == 0,
				  "won bet %s: %lld payouts of %lld (want one of %lld)", id, n_payout, paid, potential);
			cr_assert_eq(atoll(PQgetvalue(bets, i, 4)), potential);
		} else if (strcmp(status, "void") == 0) {
			cr_assert(n_refund == 1 && refunded == stake && n_payout == 0,
				  "void bet %s: %lld refunds of %lld", id, n_refund, refunded);
		} else {
			cr_assert(n_payout == 0 && n_refund == 0, "%s bet %s was paid or refunded", status, id);
		}
	}
	/* Stakes whose bet does not exist must have been refunded. */
	for (int k = 0; k < PQntuples(money); k++) {
		if (strcmp(PQgetvalue(money, k, 1), "stake") != 0)
			continue;
		const char *ref = PQgetvalue(money, k, 0);
		bool found = false;
		for (int i = 0; i < PQntuples(bets) && !found; i++)
			found = strcmp(PQgetvalue(bets, i, 0), ref) == 0;
		if (found)
			continue;
		bool refunded = false;
		for (int j = 0; j < PQntuples(money) && !refunded; j++)
			refunded = strcmp(PQgetvalue(money, j, 0), ref) == 0 &&
				   strcmp(PQgetvalue(money, j, 1), "refund") == 0;
		cr_assert(refunded || allow_pending, "stake %s has no bet and no refund", ref);
	}
	PQclear(bets);
	PQclear(money);
	PQfinish(bill);
	PQfinish(bet);
}

void wait_settled(const char *tenant_id, const char *event_id, bool run_jobs)
{
	PGconn *bet = betting_db();
	for (int i = 0; i < 600; i++) {
		char *done = sql_value(bet, "SELECT (bets_settled_at IS NOT NULL)::text FROM events "
					    "WHERE id = $1::uuid AND tenant_id = $2::uuid",
				       event_id, tenant_id, NULL);
		bool ok = done && strcmp(done, "true") == 0;
		free(done);
		if (ok) {
			PQfinish(bet);
			return;
		}
		if (!run_jobs || !jobs_run_one("test-settler"))
			usleep(100000);
	}
	PQfinish(bet);
	cr_assert_fail("event %s was not settled within a minute", event_id);
}
