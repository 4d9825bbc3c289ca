/*
 * Integration: money against the real server and databases — SPEC.md
 * section 4's invariants under concurrency, replays and repeated
 * settlement; exact decimal payouts; odds and event checks; who may see
 * and move what; and the database refusing to break the ledger by itself.
 *
 * Settlement runs in the worker: tests that need it run due jobs in this
 * process too (wait_settled), so they pass with or without `atrium worker`.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/betting.h"
#include "services/billing.h"
#include "client.h"
#include "server/common/config.h"
#include "server/store/db.h"
#include "handlers/handlers.h"
#include "workers/settlement_jobs.h"
#include "server/store/idempotency.h"
#include "server/jobs/jobs.h"
#include "money_fixtures.h"
#include "server/common/util.h"

static void setup(void)
{
	cr_assert(config_load());
	jobs_register();
	idem_register();
	betting_register();
	billing_register();
	settlement_register();
	db_start(8);
}

static void teardown(void)
{
	db_stop();
	config_free();
}

TestSuite(money, .init = setup, .fini = teardown, .timeout = 240);

static long long payments_of(const char *user_id)
{
	PGconn *pg = billing_db();
	long long n = sql_ll(pg, "SELECT count(*) FROM payments WHERE user_id = $1::uuid", user_id, NULL, NULL);
	PQfinish(pg);
	return n;
}

static struct resp *pay(const struct money_tenant *m, const struct member *mb, const char *direction,
			long long amount, const char *currency, const char *key)
{
	char *body = xasprintf("{\"direction\":\"%s\",\"amount_minor\":%lld,\"currency\":\"%s\"}", direction,
			       amount, currency);
	char *p = tpath(m, "/payments");
	char *hk = key ? xasprintf("Idempotency-Key: %s", key) : NULL;
	const char *h[] = {hk, NULL};
	struct resp *r = http("POST", p, mb->token, body, hk ? h : NULL);
	free(hk);
	free(p);
	free(body);
	return r;
}

Test(money, deposits_and_withdrawals_move_the_wallet_and_an_overdraft_moves_nothing)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member mb;
	member_create(&m, &mb);
	cr_assert_eq(balance(&m, &mb, "EUR"), 0);
	deposit(&m, &mb, 1000, "EUR");
	struct resp *r = pay(&m, &mb, "withdrawal", 300, "EUR", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "succeeded");
	cr_assert(util_is_uuid(json_string_value(json_object_get(r->json, "transaction_id"))));
	char *loc = resp_header(r, "Location");
	char *want = xasprintf("/v1/tenants/%s/payments/%s", m.t.id, json_string_value(json_object_get(r->json, "id")));
	cr_assert_str_eq(loc, want);
	free(loc);
	free(want);
	resp_free(r);
	cr_assert_eq(balance(&m, &mb, "EUR"), 700);

	long long before = payments_of(mb.user_id);
	r = pay(&m, &mb, "withdrawal", 701, "EUR", NULL);
	assert_problem(r, 422);
	cr_assert(strstr(json_string_value(json_object_get(r->json, "type")), "insufficient-funds"));
	resp_free(r);
	r = pay(&m, &mb, "withdrawal", 1, "USD", NULL);
	assert_problem(r, 422);
	resp_free(r);
	cr_assert_eq(balance(&m, &mb, "EUR"), 700, "a refused withdrawal moves nothing");
	cr_assert_eq(payments_of(mb.user_id), before, "and stores no payment");

	/* A second currency is a second balance. */
	deposit(&m, &mb, 5, "USD");
	cr_assert_eq(balance(&m, &mb, "USD"), 5);
	cr_assert_eq(balance(&m, &mb, "EUR"), 700);
	assert_money_invariants(m.t.id, false);
	member_free(&mb);
	money_tenant_free(&m);
}

Test(money, invalid_money_requests_are_4xx_naming_fields_and_change_nothing)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member mb;
	member_create(&m, &mb);
	deposit(&m, &mb, 100, "EUR");
	char ev[37];
	event_create(&m, "2.00", "2.00", ev);
	char *pp = tpath(&m, "/payments"), *bp = tpath(&m, "/bets");
	struct {
		const char *path, *body, *field;
	} cases[] = {
		{pp, "{\"direction\":\"deposit\",\"amount_minor\":0,\"currency\":\"EUR\"}", "amount_minor"},
		{pp, "{\"direction\":\"deposit\",\"amount_minor\":-5,\"currency\":\"EUR\"}", "amount_minor"},
		{pp, "{\"direction\":\"deposit\",\"amount_minor\":1.5,\"currency\":\"EUR\"}", "amount_minor"},
		{pp, "{\"direction\":\"deposit\",\"amount_minor\":\"10\",\"currency\":\"EUR\"}", "amount_minor"},
		{pp, "{\"direction\":\"deposit\",\"amount_minor\":1000000000001,\"currency\":\"EUR\"}", "amount_minor"},
		{pp, "{\"direction\":\"refund\",\"amount_minor\":10,\"currency\":\"EUR\"}", "direction"},
		{pp, "{\"direction\":\"deposit\",\"amount_minor\":10,\"currency\":\"eur\"}", "currency"},
		{pp, "{\"direction\":\"deposit\",\"amount_minor\":10}", "currency"},
		{pp, "{\"direction\":\"deposit\",\"amount_minor\":10,\"currency\":\"EUR\",\"status\":\"succeeded\"}", "status"},
		{pp, "{\"direction\":\"deposit\",\"amount_minor\":10,\"currency\":\"EUR\",\"user_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\"}", "user_id"},
		{bp, "{\"event_id\":\"nope\",\"selection\":\"home\",\"stake_minor\":10,\"currency\":\"EUR\",\"odds\":\"2.00\"}", "event_id"},
		{bp, "{\"event_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\",\"selection\":\"home\",\"stake_minor\":10,\"currency\":\"EUR\",\"odds\":\"2.00\"}", "event_id"},
		{bp, "{\"selection\":\"home\",\"stake_minor\":10,\"currency\":\"EUR\",\"odds\":\"2.00\"}", "event_id"},
		{bp, "{\"event_id\":\"EV\",\"selection\":\"home\",\"stake_minor\":10,\"currency\":\"EUR\",\"odds\":2.0}", "odds"},
		{bp, "{\"event_id\":\"EV\",\"selection\":\"home\",\"stake_minor\":10,\"currency\":\"EUR\",\"odds\":\"2.00001\"}", "odds"},
		{bp, "{\"event_id\":\"EV\",\"selection\":\"home\",\"stake_minor\":10,\"currency\":\"EUR\",\"odds\":\"1e1\"}", "odds"},
		{bp, "{\"event_id\":\"EV\",\"selection\":\"home\",\"stake_minor\":0,\"currency\":\"EUR\",\"odds\":\"2.00\"}", "stake_minor"},
		{bp, "{\"event_id\":\"EV\",\"selection\":\"draw\",\"stake_minor\":10,\"currency\":\"EUR\",\"odds\":\"2.00\"}", "selection"},
		{bp, "{\"event_id\":\"EV\",\"selection\":\"home\",\"stake_minor\":10,\"currency\":\"EUR\",\"odds\":\"2.00\",\"status\":\"won\"}", "status"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = xstrdup(cases[i].body);
		char *evp = strstr(body, "\"EV\"");
		if (evp) {
			char *fixed = xasprintf("%.*s\"%s\"%s", (int)(evp - body), body, ev, evp + 4);
			free(body);
			body = fixed;
		}
		struct resp *r = http("POST", cases[i].path, mb.token, body, NULL);
		assert_problem(r, 422);
		bool named = false;
		size_t j;
		json_t *e;
		json_array_foreach(json_object_get(r->json, "errors"), j, e)
			named = named || strcmp(json_string_value(json_object_get(e, "field")), cases[i].field) == 0;
		cr_assert(named, "case %zu: errors[] should name %s: %s", i, cases[i].field, r->body);
		resp_free(r);
		free(body);
	}
	struct resp *r = http("POST", pp, mb.token, "{\"direction\":", NULL);
	assert_problem(r, 400);
	resp_free(r);
	r = http("POST", pp, mb.token, "{\"direction\":\"deposit\",\"amount_minor\":99999999999999999999,\"currency\":\"EUR\"}", NULL);
	assert_problem(r, 400); /* beyond any integer: not even JSON we can read */
	resp_free(r);
	const char *ct[] = {"Content-Type: text/plain", NULL};
	r = http("POST", bp, mb.token, "{}", ct);
	assert_problem(r, 415);
	resp_free(r);
	cr_assert_eq(balance(&m, &mb, "EUR"), 100, "nothing moved");
	PGconn *bet = betting_db();
	cr_assert_eq(sql_ll(bet, "SELECT count(*) FROM bets WHERE user_id = $1::uuid", mb.user_id, NULL, NULL), 0);
	PQfinish(bet);
	free(pp);
	free(bp);
	member_free(&mb);
	money_tenant_free(&m);
}

/* ---- concurrency ------------------------------------------------------ */

struct racer {
	const struct money_tenant *m;
	const struct member *mb;
	const char *event_id;
	int n;
	int bets_ok, bets_refused, wd_ok, wd_refused, other;
};

static void *race_wallet(void *arg)
{
	struct racer *x = arg;
	for (int i = 0; i < x->n; i++) {
		struct resp *r;
		bool is_bet = i % 2 == 0;
		if (is_bet)
			r = place_bet(x->m, x->mb, x->event_id, "home", 100, "2.00", NULL);
		else
			r = pay(x->m, x->mb, "withdrawal", 150, "EUR", NULL);
		if (r->status == 201)
			is_bet ? x->bets_ok++ : x->wd_ok++;
		else if (r->status == 422)
			is_bet ? x->bets_refused++ : x->wd_refused++;
		else
			x->other++;
		resp_free(r);
	}
	return NULL;
}

Test(money, concurrent_bets_and_withdrawals_never_overdraw_one_wallet)
{
	enum { THREADS = 16, EACH = 25 };
	struct money_tenant m;
	money_tenant_create(&m);
	struct member mb;
	member_create(&m, &mb);
	char ev[37];
	event_create(&m, "2.00", "1.50", ev);
	deposit(&m, &mb, 20000, "EUR");
	struct racer xs[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		xs[i] = (struct racer){.m = &m, .mb = &mb, .event_id = ev, .n = EACH};
		pthread_create(&th[i], NULL, race_wallet, &xs[i]);
	}
	int bets = 0, wds = 0, refused = 0, other = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		bets += xs[i].bets_ok;
		wds += xs[i].wd_ok;
		refused += xs[i].bets_refused + xs[i].wd_refused;
		other += xs[i].other;
	}
	cr_log_info("%d requests: %d bets and %d withdrawals accepted, %d refused", THREADS * EACH, bets, wds, refused);
	cr_assert_eq(other, 0, "every request was accepted (201) or refused (422)");
	cr_assert_gt(refused, 0, "the wallet ran dry: demand was 50000 for 20000");
	long long left = balance(&m, &mb, "EUR");
	cr_assert_eq(left, 20000 - 100LL * bets - 150LL * wds, "balance %lld after %d bets and %d withdrawals", left, bets, wds);
	cr_assert_geq(left, 0);
	cr_assert_lt(left, 100, "refusals happened only when the balance could not cover the smallest request");
	PGconn *bet = betting_db();
	cr_assert_eq(sql_ll(bet, "SELECT count(*) FROM bets WHERE user_id = $1::uuid AND status = 'accepted'", mb.user_id, NULL, NULL), bets);
	PQfinish(bet);
	assert_money_invariants(m.t.id, false);
	member_free(&mb);
	money_tenant_free(&m);
}

struct replayer {
	const struct money_tenant *m;
	const struct member *mb;
	const char *event_id, *key;
	bool bet;
	long status;
	char id[37];
};

static void *replay_one(void *arg)
{
	struct replayer *x = arg;
	struct resp *r = x->bet ? place_bet(x->m, x->mb, x->event_id, "home", 250, "2.00", x->key)
				: pay(x->m, x->mb, "deposit", 777, "EUR", x->key);
	x->status = r->status;
	const char *id = json_string_value(json_object_get(r->json, "id"));
	snprintf(x->id, sizeof(x->id), "%s", id ? id : "");
	resp_free(r);
	return NULL;
}

Test(money, concurrent_replays_of_one_key_move_money_once)
{
	enum { N = 12 };
	struct money_tenant m;
	money_tenant_create(&m);
	struct member mb;
	member_create(&m, &mb);
	char ev[37], key_pay[64], key_bet[64], u[37];
	event_create(&m, "2.00", "2.00", ev);
	random_uuid(u);
	snprintf(key_pay, sizeof(key_pay), "pay-%s", u);
	snprintf(key_bet, sizeof(key_bet), "bet-%s", u);
	for (int round = 0; round < 2; round++) {
		bool is_bet = round == 1;
		struct replayer xs[N];
		pthread_t th[N];
		for (int i = 0; i < N; i++) {
			xs[i] = (struct replayer){.m = &m, .mb = &mb, .event_id = ev, .key = is_bet ? key_bet : key_pay, .bet = is_bet};
			pthread_create(&th[i], NULL, replay_one, &xs[i]);
		}
		for (int i = 0; i < N; i++)
			pthread_join(th[i], NULL);
		const char *first = NULL;
		for (int i = 0; i < N; i++) {
			/* 409: "still in progress, retry" is the only other answer allowed. */
			cr_assert(xs[i].status == 201 || xs[i].status == 409, "%s replay %d: %ld", is_bet ? "bet" : "deposit", i, xs[i].status);
			if (xs[i].status != 201)
				continue;
			if (first == NULL)
				first = xs[i].id;
			cr_assert_str_eq(xs[i].id, first, "every replay names the same resource");
		}
		cr_assert_not_null(first, "at least one request succeeded");
	}
	/* Afterwards, sequential replays all answer the original. */
	struct replayer again = {.m = &m, .mb = &mb, .event_id = ev, .key = key_bet, .bet = true};
	replay_one(&again);
	cr_assert_eq(again.status, 201);
	cr_assert_eq(balance(&m, &mb, "EUR"), 777 - 250, "one deposit of 777 and one stake of 250");
	PGconn *bill = billing_db(), *bet = betting_db();
	cr_assert_eq(sql_ll(bill, "SELECT count(*) FROM payments WHERE user_id = $1::uuid", mb.user_id, NULL, NULL), 1);
	cr_assert_eq(sql_ll(bet, "SELECT count(*) FROM bets WHERE user_id = $1::uuid", mb.user_id, NULL, NULL), 1);
	PQfinish(bill);
	PQfinish(bet);
	/* The same key with another body is refused and moves nothing. */
	struct resp *r = place_bet(&m, &mb, ev, "home", 251, "2.00", key_bet);
	assert_problem(r, 422);
	cr_assert(strstr(json_string_value(json_object_get(r->json, "type")), "idempotency-key-reused"));
	resp_free(r);
	r = pay(&m, &mb, "deposit", 778, "EUR", key_pay);
	assert_problem(r, 422);
	resp_free(r);
	cr_assert_eq(balance(&m, &mb, "EUR"), 777 - 250);
	assert_money_invariants(m.t.id, false);
	member_free(&mb);
	money_tenant_free(&m);
}

Test(money, a_refused_withdrawal_replays_its_refusal)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member mb;
	member_create(&m, &mb);
	deposit(&m, &mb, 100, "EUR");
	char key[64], u[37];
	random_uuid(u);
	snprintf(key, sizeof(key), "wd-%s", u);
	struct resp *r = pay(&m, &mb, "withdrawal", 150, "EUR", key);
	assert_problem(r, 422);
	resp_free(r);
	deposit(&m, &mb, 100, "EUR");
	r = pay(&m, &mb, "withdrawal", 150, "EUR", key);
	assert_problem(r, 422);
	char *rep = resp_header(r, "Idempotent-Replayed");
	cr_assert_str_eq(rep, "true", "the original answer, though the wallet could now pay");
	free(rep);
	resp_free(r);
	cr_assert_eq(balance(&m, &mb, "EUR"), 200);
	member_free(&mb);
	money_tenant_free(&m);
}

/* ---- the saga resumed ---------------------------------------------------- */

/* What handler_request_hash() computes for a POST of `body` to `path`. */
static void request_hash(const char *path, const char *body, char out[65])
{
	json_t *j = json_loads(body, 0, NULL);
	char *canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	char *material = xasprintf("POST %s\n%s", path, canon);
	util_sha256_hex(material, strlen(material), out);
	free(material);
	free(canon);
	json_decref(j);
}

/*
 * Leaves a bet as a crash after step 1 (or step 2) would: recorded pending
 * with its key's record unanswered (and, with staked, its stake posted).
 */
static void half_done_bet(const struct money_tenant *m, const struct member *mb, const char *ev,
			  const char *key, bool staked, char bet_id[37])
{
	char *path = tpath(m, "/bets");
	char *body = xasprintf("{\"event_id\":\"%s\",\"selection\":\"home\",\"stake_minor\":400,"
			       "\"currency\":\"EUR\",\"odds\":\"2.00\"}", ev);
	char hash[65];
	request_hash(path, body, hash);
	struct db_conn *c = db_acquire(DB_BETTING);
	cr_assert_not_null(c);
	cr_assert(db_scope(c, m->t.id));
	cr_assert(db_begin(c));
	char *scope = xasprintf("%s:%s", m->t.id, mb->user_id);
	struct arena ar = {0};
	struct idem_record rec;
	cr_assert_eq(idem_begin(c, scope, key, hash, &ar, &rec), IDEM_PROCEED);
	struct bet_row b;
	char cur[64];
	cr_assert_eq(betting_bet_place(c, m->t.id, mb->user_id, ev, "home", "400", "EUR", "2.00", key,
				       "test", cur, &ar, &b), ST_OK);
	cr_assert(db_commit(c));
	db_release(c);
	snprintf(bet_id, 37, "%s", b.id);
	if (staked) {
		struct db_conn *mc = db_acquire(DB_BILLING);
		cr_assert(db_scope(mc, m->t.id));
		cr_assert_eq(billing_stake(mc, m->t.id, mb->user_id, "EUR", "400", b.id, "test"), ST_OK);
		db_release(mc);
	}
	arena_free(&ar);
	free(scope);
	free(body);
	free(path);
}

Test(money, a_retry_with_the_key_completes_a_bet_a_crash_left_half_done)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member mb;
	member_create(&m, &mb);
	char ev[37], u[37], k1[64], k2[64], b1[37], b2[37];
	event_create(&m, "2.00", "2.00", ev);
	deposit(&m, &mb, 1000, "EUR");
	random_uuid(u);
	snprintf(k1, sizeof(k1), "crash-after-step-1-%s", u);
	snprintf(k2, sizeof(k2), "crash-after-step-2-%s", u);
	half_done_bet(&m, &mb, ev, k1, false, b1);
	half_done_bet(&m, &mb, ev, k2, true, b2);
	cr_assert_eq(balance(&m, &mb, "EUR"), 600, "the second crashed after taking its stake");

	struct resp *r = place_bet(&m, &mb, ev, "home", 400, "2.00", k1);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "id")), b1, "the same bet, completed");
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "accepted");
	resp_free(r);
	r = place_bet(&m, &mb, ev, "home", 400, "2.00", k2);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "id")), b2);
	resp_free(r);
	cr_assert_eq(balance(&m, &mb, "EUR"), 200, "two stakes of 400, each taken once");
	/* And now they replay. */
	r = place_bet(&m, &mb, ev, "home", 400, "2.00", k2);
	cr_assert_eq(r->status, 201);
	char *rep = resp_header(r, "Idempotent-Replayed");
	cr_assert_str_eq(rep, "true");
	free(rep);
	resp_free(r);
	assert_money_invariants(m.t.id, false);
	member_free(&mb);
	money_tenant_free(&m);
}

/* ---- settlement ------------------------------------------------------- */

static void *run_jobs(void *arg)
{
	(void)arg;
	for (int idle = 0; idle < 5;) {
		if (jobs_run_one("test-racer"))
			idle = 0;
		else
			idle++;
	}
	return NULL;
}

static char *bet_id_of(struct resp *r)
{
	cr_assert_eq(r->status, 201, "%s", r->body);
	return xstrdup(json_string_value(json_object_get(r->json, "id")));
}

Test(money, settlement_pays_each_winner_exactly_once_however_often_it_runs)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a, b;
	member_create(&m, &a);
	member_create(&m, &b);
	deposit(&m, &a, 10000, "EUR");
	deposit(&m, &b, 10000, "EUR");
	char ev[37];
	event_create(&m, "2.50", "1.60", ev);
	enum { N = 30 };
	char *won[N], *lost[N];
	for (int i = 0; i < N; i++) {
		struct resp *r = place_bet(&m, &a, ev, "home", 100 + i, "2.50", NULL);
		won[i] = bet_id_of(r);
		resp_free(r);
		r = place_bet(&m, &b, ev, "away", 100, "1.60", NULL);
		lost[i] = bet_id_of(r);
		resp_free(r);
	}
	long long staked_a = 0;
	for (int i = 0; i < N; i++)
		staked_a += 100 + i;
	char *p = xasprintf("/v1/tenants/%s/events/%s/result", m.t.id, ev);
	struct resp *r = http("POST", p, m.admin, "{\"winning_selection\":\"home\"}", NULL);
	cr_assert_eq(r->status, 202, "%s", r->body);
	resp_free(r);
	r = http("POST", p, m.admin, "{\"winning_selection\":\"away\"}", NULL);
	assert_problem(r, 409);
	resp_free(r);
	/* Two more settlement jobs for the same event, run concurrently with
	 * the first by several runners: every bet must still be paid once. */
	struct db_conn *c = db_acquire(DB_PORTAL);
	cr_assert(db_scope(c, "*"));
	json_t *payload = json_pack("{s:s}", "event_id", ev);
	char jid[37];
	cr_assert(jobs_enqueue(c, "event.settle", m.t.id, payload, "test", jid));
	cr_assert(jobs_enqueue(c, "event.settle", m.t.id, payload, "test", jid));
	json_decref(payload);
	db_release(c);
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, run_jobs, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	wait_settled(m.t.id, ev, true);

	long long paid_a = 0;
	for (int i = 0; i < N; i++)
		paid_a += (100 + i) * 5 / 2; /* floor(stake x 2.5) */
	cr_assert_eq(balance(&m, &a, "EUR"), 10000 - staked_a + paid_a);
	cr_assert_eq(balance(&m, &b, "EUR"), 10000 - 100 * N);
	char *bp = xasprintf("/v1/tenants/%s/bets/%s", m.t.id, won[0]);
	r = http("GET", bp, a.token, NULL, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "won");
	cr_assert_eq(json_integer_value(json_object_get(r->json, "payout_minor")), 250);
	cr_assert_not_null(json_string_value(json_object_get(r->json, "settled_at")));
	resp_free(r);
	free(bp);

	/* Paying again, straight through the service, posts nothing. */
	struct db_conn *mc = db_acquire(DB_BILLING);
	cr_assert(db_scope(mc, "*"));
	long long amounts[N];
	for (int i = 0; i < N; i++)
		amounts[i] = 1000000;
	int posted = -1;
	cr_assert_eq(billing_pay_winners(mc, N, (const char *const *)won, amounts, "test", &posted), ST_OK);
	cr_assert_eq(posted, 0, "a second payout for a bet is a no-op");
	cr_assert_eq(billing_refund_stakes(mc, N, (const char *const *)won, "test", &posted), ST_OK);
	cr_assert_eq(posted, 0, "and so is a refund after its payout");
	db_release(mc);
	cr_assert_eq(balance(&m, &a, "EUR"), 10000 - staked_a + paid_a);
	assert_money_invariants(m.t.id, false);
	for (int i = 0; i < N; i++) {
		free(won[i]);
		free(lost[i]);
	}
	free(p);
	member_free(&a);
	member_free(&b);
	money_tenant_free(&m);
}

Test(money, cancelling_an_event_refunds_every_stake_once)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a;
	member_create(&m, &a);
	deposit(&m, &a, 1000, "EUR");
	char ev[37];
	event_create(&m, "2.00", "2.00", ev);
	for (int i = 0; i < 5; i++) {
		struct resp *r = place_bet(&m, &a, ev, i % 2 ? "home" : "away", 100, "2.00", NULL);
		cr_assert_eq(r->status, 201);
		resp_free(r);
	}
	cr_assert_eq(balance(&m, &a, "EUR"), 500);
	char *p = xasprintf("/v1/tenants/%s/events/%s/cancel", m.t.id, ev);
	struct resp *r = http("POST", p, m.admin, NULL, NULL);
	cr_assert_eq(r->status, 202, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "cancelled");
	resp_free(r);
	r = http("POST", p, m.admin, NULL, NULL);
	assert_problem(r, 409);
	resp_free(r);
	wait_settled(m.t.id, ev, true);
	cr_assert_eq(balance(&m, &a, "EUR"), 1000, "every stake came back");
	PGconn *bet = betting_db();
	cr_assert_eq(sql_ll(bet, "SELECT count(*) FROM bets WHERE event_id = $1::uuid AND status = 'void' "
				 "AND payout_minor = stake_minor", ev, NULL, NULL), 5);
	PQfinish(bet);
	assert_money_invariants(m.t.id, false);
	free(p);
	member_free(&a);
	money_tenant_free(&m);
}

Test(money, payouts_are_floor_of_stake_times_odds_in_exact_decimals)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a;
	member_create(&m, &a);
	deposit(&m, &a, 1000000, "EUR");
	/* 100 x 1.13 is 112.99999999999999 in binary floating point. */
	struct {
		const char *odds;
		long long stake, payout;
	} cases[] = {
		{"1.13", 100, 113}, {"1.15", 3, 3}, {"2.675", 3, 8}, {"3.3333", 3, 9}, {"1.0001", 9999, 9999},
		{"999999.9999", 1, 999999}, {"1.5", 1, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char ev[37];
		event_create(&m, cases[i].odds, "2.00", ev);
		struct resp *r = place_bet(&m, &a, ev, "home", cases[i].stake, cases[i].odds, NULL);
		cr_assert_eq(r->status, 201, "%s", r->body);
		cr_assert_eq(json_integer_value(json_object_get(r->json, "potential_payout_minor")), cases[i].payout,
			     "odds %s stake %lld: %s", cases[i].odds, cases[i].stake, r->body);
		resp_free(r);
		long long before = balance(&m, &a, "EUR");
		char *p = xasprintf("/v1/tenants/%s/events/%s/result", m.t.id, ev);
		r = http("POST", p, m.admin, "{\"winning_selection\":\"home\"}", NULL);
		cr_assert_eq(r->status, 202);
		resp_free(r);
		free(p);
		wait_settled(m.t.id, ev, true);
		cr_assert_eq(balance(&m, &a, "EUR") - before, cases[i].payout, "odds %s", cases[i].odds);
	}
	assert_money_invariants(m.t.id, false);
	member_free(&a);
	money_tenant_free(&m);
}

/* ---- odds and events ---------------------------------------------------- */

Test(money, odds_must_equal_the_current_odds_as_decimals)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a;
	member_create(&m, &a);
	deposit(&m, &a, 1000, "EUR");
	char ev[37];
	event_create(&m, "2.50", "1.60", ev);
	struct resp *r = place_bet(&m, &a, ev, "home", 10, "2.5", NULL);
	cr_assert_eq(r->status, 201, "2.5 equals 2.50: %s", r->body);
	resp_free(r);
	r = place_bet(&m, &a, ev, "home", 10, "02.5000", NULL);
	cr_assert_eq(r->status, 201, "02.5000 equals 2.50: %s", r->body);
	resp_free(r);
	r = place_bet(&m, &a, ev, "home", 10, "2.51", NULL);
	assert_problem(r, 409);
	cr_assert(strstr(json_string_value(json_object_get(r->json, "detail")), "\"2.50\""), "%s", r->body);
	resp_free(r);
	char *p = xasprintf("/v1/tenants/%s/events/%s", m.t.id, ev);
	r = http("PATCH", p, m.admin, "{\"selections\":[{\"key\":\"home\",\"odds\":\"2.45\"}]}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	r = place_bet(&m, &a, ev, "home", 10, "2.50", NULL);
	assert_problem(r, 409);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r->json, "errors"), 0), "message")),
			 "the current odds are \"2.45\"");
	resp_free(r);
	r = place_bet(&m, &a, ev, "home", 10, "2.45", NULL);
	cr_assert_eq(r->status, 201);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "odds")), "2.45");
	resp_free(r);
	cr_assert_eq(balance(&m, &a, "EUR"), 970, "refused bets moved nothing");
	free(p);
	member_free(&a);
	money_tenant_free(&m);
}

Test(money, bets_on_events_not_open_or_already_started_are_refused)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a;
	member_create(&m, &a);
	deposit(&m, &a, 1000, "EUR");
	char ev[37];
	event_create(&m, "2.00", "2.00", ev);
	char *p = xasprintf("/v1/tenants/%s/events/%s", m.t.id, ev);
	struct resp *r = http("PATCH", p, m.admin, "{\"status\":\"closed\"}", NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	r = place_bet(&m, &a, ev, "home", 10, "2.00", NULL);
	assert_problem(r, 409);
	cr_assert(strstr(json_string_value(json_object_get(r->json, "type")), "betting-closed"));
	resp_free(r);
	/* Open again, but it started a minute ago: shown and treated as closed. */
	r = http("PATCH", p, m.admin, "{\"status\":\"open\",\"starts_at\":\"2020-01-01T00:00:00Z\"}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "closed");
	resp_free(r);
	r = place_bet(&m, &a, ev, "home", 10, "2.00", NULL);
	assert_problem(r, 409);
	resp_free(r);
	cr_assert_eq(balance(&m, &a, "EUR"), 1000);
	free(p);
	member_free(&a);
	money_tenant_free(&m);
}

/* ---- who sees and moves what --------------------------------------------- */

Test(money, members_see_only_their_own_bets_and_payments_and_other_tenants_nothing)
{
	struct money_tenant m, other_t;
	money_tenant_create(&m);
	money_tenant_create(&other_t);
	struct member a, b, outsider;
	member_create(&m, &a);
	member_create(&m, &b);
	member_create(&other_t, &outsider);
	deposit(&m, &a, 1000, "EUR");
	char ev[37];
	event_create(&m, "2.00", "2.00", ev);
	struct resp *r = place_bet(&m, &a, ev, "home", 100, "2.00", NULL);
	char *bet = bet_id_of(r);
	resp_free(r);
	r = http("GET", "/v1/tenants/x/payments", a.token, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	char *bp = xasprintf("/v1/tenants/%s/bets/%s", m.t.id, bet);
	r = http("GET", bp, b.token, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = http("GET", bp, outsider.token, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = http("GET", bp, other_t.admin, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	char *obp = xasprintf("/v1/tenants/%s/bets/%s", other_t.t.id, bet);
	r = http("GET", obp, outsider.token, NULL, NULL);
	assert_problem(r, 404); /* a bet id of another tenant under one's own tenant */
	resp_free(r);
	for (const char *const *tok = (const char *const[]){m.admin, m.support, NULL}; *tok; tok++) {
		r = http("GET", bp, *tok, NULL, NULL);
		cr_assert_eq(r->status, 200, "admins and support read any bet");
		resp_free(r);
	}
	/* Bets are not billing: a billing viewer reads none, listed or one. */
	r = http("GET", bp, m.viewer, NULL, NULL);
	assert_problem(r, 403);
	resp_free(r);
	char *lp = xasprintf("/v1/tenants/%s/bets?user_id=%s", m.t.id, a.user_id);
	r = http("GET", lp, b.token, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 0, "b sees none of a's bets");
	resp_free(r);
	r = http("GET", lp, m.admin, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1);
	resp_free(r);
	r = http("GET", lp, m.viewer, NULL, NULL);
	assert_problem(r, 403);
	resp_free(r);
	char *pp = xasprintf("/v1/tenants/%s/payments", m.t.id);
	r = http("GET", pp, b.token, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 0);
	resp_free(r);
	r = http("GET", pp, m.viewer, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1);
	const char *pay_id = json_string_value(json_object_get(json_array_get(json_object_get(r->json, "data"), 0), "id"));
	char *one = xasprintf("/v1/tenants/%s/payments/%s", m.t.id, pay_id);
	resp_free(r);
	r = http("GET", one, b.token, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	r = http("GET", one, outsider.token, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	char *wp = xasprintf("/v1/tenants/%s/wallet?user_id=%s", m.t.id, a.user_id);
	r = http("GET", wp, b.token, NULL, NULL);
	assert_problem(r, 404);
	resp_free(r);
	/* Nor a member's wallet; support does. */
	r = http("GET", wp, m.viewer, NULL, NULL);
	assert_problem(r, 403);
	resp_free(r);
	r = http("GET", wp, m.support, NULL, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(r->json, "balances"), 0), "available_minor")), 900);
	resp_free(r);
	/* Row-level security in billing_db itself. */
	PGconn *pg = db_connect("ATRIUM_DB_BILLING_URL");
	const char *sv[] = {other_t.t.id};
	PQclear(PQexecParams(pg, "SELECT set_config('atrium.tenant_id', $1, false)", 1, NULL, sv, NULL, NULL, 0));
	cr_assert_eq(sql_ll(pg, "SELECT count(*) FROM accounts WHERE tenant_id = $1::uuid", m.t.id, NULL, NULL), 0);
	cr_assert_eq(sql_ll(pg, "SELECT count(*) FROM ledger_entries WHERE tenant_id = $1::uuid", m.t.id, NULL, NULL), 0);
	PQfinish(pg);
	free(bet); free(bp); free(obp); free(lp); free(pp); free(one); free(wp);
	member_free(&a);
	member_free(&b);
	member_free(&outsider);
	money_tenant_free(&m);
	money_tenant_free(&other_t);
}

Test(money, members_cannot_settle_and_viewers_cannot_move_money)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a;
	member_create(&m, &a);
	char ev[37];
	event_create(&m, "2.00", "2.00", ev);
	char *rp = xasprintf("/v1/tenants/%s/events/%s/result", m.t.id, ev);
	char *cp = xasprintf("/v1/tenants/%s/events/%s/cancel", m.t.id, ev);
	const char *others[] = {a.token, m.viewer, m.support};
	for (int i = 0; i < 3; i++) {
		struct resp *r = http("POST", rp, others[i], "{\"winning_selection\":\"home\"}", NULL);
		assert_problem(r, 403);
		resp_free(r);
		r = http("POST", cp, others[i], NULL, NULL);
		assert_problem(r, 403);
		resp_free(r);
	}
	char *pp = tpath(&m, "/payments"), *bp = tpath(&m, "/bets"), *lp = tpath(&m, "/ledger");
	char *bet = xasprintf("{\"event_id\":\"%s\",\"selection\":\"home\",\"stake_minor\":1,\"currency\":\"EUR\",\"odds\":\"2.00\"}", ev);
	char *su = super_token();
	const char *no_money[] = {m.viewer, m.support, m.admin, su};
	for (int i = 0; i < 4; i++) {
		struct resp *r = http("POST", pp, no_money[i], "{\"direction\":\"deposit\",\"amount_minor\":1,\"currency\":\"EUR\"}", NULL);
		assert_problem(r, 403);
		resp_free(r);
		r = http("POST", bp, no_money[i], bet, NULL);
		assert_problem(r, 403);
		resp_free(r);
	}
	struct resp *r = http("GET", lp, a.token, NULL, NULL);
	assert_problem(r, 403);
	resp_free(r);
	r = http("GET", lp, m.support, NULL, NULL);
	assert_problem(r, 403);
	resp_free(r);
	r = http("GET", lp, m.viewer, NULL, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	char *ep = tpath(&m, "/events");
	r = http("POST", ep, a.token, "{}", NULL);
	assert_problem(r, 403);
	resp_free(r);
	PGconn *pg = betting_db();
	cr_assert_eq(sql_ll(pg, "SELECT count(*) FROM events WHERE id = $1::uuid AND status = 'open'", ev, NULL, NULL), 1);
	PQfinish(pg);
	free(rp); free(cp); free(pp); free(bp); free(lp); free(bet); free(su); free(ep);
	member_free(&a);
	money_tenant_free(&m);
}

/* ---- the database itself ---------------------------------------------------- */

/* Runs sql (no parameters) and returns its SQLSTATE ("" on success). */
static char *try_sql(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);
	const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	char *out = xstrdup(PQresultStatus(res) == PGRES_FATAL_ERROR ? (s ? s : "?") : "");
	PQclear(res);
	return out;
}

Test(money, the_database_refuses_what_would_break_the_ledger)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a;
	member_create(&m, &a);
	deposit(&m, &a, 500, "EUR");
	char ev[37];
	event_create(&m, "2.00", "2.00", ev);
	struct resp *r = place_bet(&m, &a, ev, "home", 100, "2.00", NULL);
	char *bet = bet_id_of(r);
	resp_free(r);
	PGconn *pg = billing_db();
	char *wallet = sql_value(pg, "SELECT id::text FROM accounts WHERE owner_user_id = $1::uuid", a.user_id, NULL, NULL);
	char *house = sql_value(pg, "SELECT id::text FROM accounts WHERE tenant_id = $1::uuid AND kind = 'house'", m.t.id, NULL, NULL);
	char *sql, *st;

	sql = xasprintf("UPDATE accounts SET balance_minor = 1000000 WHERE id = '%s'", wallet);
	st = try_sql(pg, sql);
	cr_assert_neq(strlen(st), 0, "a balance cannot be set directly");
	free(sql); free(st);
	sql = xasprintf("DELETE FROM ledger_entries WHERE account_id = '%s'", wallet);
	st = try_sql(pg, sql);
	cr_assert_neq(strlen(st), 0, "entries are append-only");
	free(sql); free(st);
	/* An unbalanced transaction fails at COMMIT. */
	sql = xasprintf("BEGIN; "
			"INSERT INTO ledger_transactions (id, tenant_id, kind, reference, user_id) "
			"  VALUES ('11111111-1111-4111-8111-%.12s', '%s', 'deposit', gen_random_uuid(), '%s'); "
			"INSERT INTO ledger_entries (transaction_id, tenant_id, account_id, amount_minor, currency) "
			"  VALUES ('11111111-1111-4111-8111-%.12s', '%s', '%s', 50, 'EUR'), "
			"         ('11111111-1111-4111-8111-%.12s', '%s', '%s', -49, 'EUR'); COMMIT",
			bet + 24, m.t.id, a.user_id, bet + 24, m.t.id, wallet, bet + 24, m.t.id, house);
	st = try_sql(pg, sql);
	cr_assert_neq(strlen(st), 0, "a transaction that does not sum to zero never commits");
	if (PQtransactionStatus(pg) != PQTRANS_IDLE)
		PQclear(PQexec(pg, "ROLLBACK"));
	free(sql); free(st);
	/* A debit the wallet cannot cover fails the CHECK, even balanced. */
	sql = xasprintf("BEGIN; "
			"INSERT INTO ledger_transactions (id, tenant_id, kind, reference, user_id) "
			"  VALUES ('22222222-1111-4111-8111-%.12s', '%s', 'withdrawal', gen_random_uuid(), '%s'); "
			"INSERT INTO ledger_entries (transaction_id, tenant_id, account_id, amount_minor, currency) "
			"  VALUES ('22222222-1111-4111-8111-%.12s', '%s', '%s', -401, 'EUR'), "
			"         ('22222222-1111-4111-8111-%.12s', '%s', '%s', 401, 'EUR'); COMMIT",
			bet + 24, m.t.id, a.user_id, bet + 24, m.t.id, wallet, bet + 24, m.t.id, house);
	st = try_sql(pg, sql);
	cr_assert_str_eq(st, "23514", "the wallet holds 400: a debit of 401 violates its CHECK");
	if (PQtransactionStatus(pg) != PQTRANS_IDLE)
		PQclear(PQexec(pg, "ROLLBACK"));
	free(sql); free(st);
	/* A second stake for the bet is a unique violation. */
	sql = xasprintf("INSERT INTO ledger_transactions (tenant_id, kind, reference, user_id) "
			"VALUES ('%s', 'stake', '%s', '%s')", m.t.id, bet, a.user_id);
	st = try_sql(pg, sql);
	cr_assert_str_eq(st, "23505");
	free(sql); free(st);
	cr_assert_eq(balance(&m, &a, "EUR"), 400);
	PQfinish(pg);
	/* betting_db: a settled bet cannot be settled again. */
	PGconn *bg = betting_db();
	sql = xasprintf("UPDATE bets SET status = 'pending' WHERE id = '%s'", bet);
	st = try_sql(bg, sql);
	cr_assert_neq(strlen(st), 0, "an accepted bet never goes back to pending");
	free(sql); free(st);
	sql = xasprintf("UPDATE bets SET stake_minor = 1 WHERE id = '%s'", bet);
	st = try_sql(bg, sql);
	cr_assert_neq(strlen(st), 0, "a bet's terms never change");
	free(sql); free(st);
	PQfinish(bg);
	assert_money_invariants(m.t.id, false);
	free(wallet); free(house); free(bet);
	member_free(&a);
	money_tenant_free(&m);
}

/* ---- events ------------------------------------------------------------- */

static int audit_count(const struct money_tenant *m, const char *action, const char *resource_id)
{
	char *p = xasprintf("/v1/tenants/%s/audit?action=%s&limit=100", m->t.id, action);
	struct resp *r = http("GET", p, m->admin, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	int n = 0;
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(r->json, "data"), i, a)
		if (strcmp(json_string_value(json_object_get(a, "resource_id")), resource_id) == 0)
			n++;
	resp_free(r);
	free(p);
	return n;
}

Test(money, events_are_listed_newest_first_filtered_and_their_changes_audited)
{
	struct money_tenant m;
	money_tenant_create(&m);
	char e1[37], e2[37], e3[37];
	event_create(&m, "2.00", "2.00", e1);
	event_create(&m, "2.00", "2.00", e2);
	event_create(&m, "2.00", "2.00", e3);
	char *p = xasprintf("/v1/tenants/%s/events/%s", m.t.id, e2);
	struct resp *r = http("PATCH", p, m.admin, "{\"sport\":\"tennis\",\"starts_at\":\"2030-06-01T12:00:00+02:00\"}", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "starts_at")), "2030-06-01T10:00:00.000000Z");
	char *etag = resp_header(r, "ETag");
	cr_assert_str_eq(etag, "\"2\"");
	free(etag);
	resp_free(r);
	/* Newest first, a page at a time, every event once. */
	char *lp = xasprintf("/v1/tenants/%s/events?limit=2", m.t.id);
	r = http("GET", lp, m.support, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r->json, "data"), 0), "id")), e3);
	char *next = xasprintf("/v1/tenants/%s/events?limit=2&cursor=%s", m.t.id,
			       json_string_value(json_object_get(r->json, "next_cursor")));
	resp_free(r);
	r = http("GET", next, m.support, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r->json, "data"), 0), "id")), e1);
	cr_assert(json_is_null(json_object_get(r->json, "next_cursor")));
	resp_free(r);
	char *fp = xasprintf("/v1/tenants/%s/events?sport=tennis&starts_after=2030-06-01T10:00:00Z&starts_before=2030-06-01T10:00:01Z", m.t.id);
	r = http("GET", fp, m.admin, NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->json, "data")), 1, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r->json, "data"), 0), "id")), e2);
	resp_free(r);
	cr_assert_eq(audit_count(&m, "event.create", e1), 1);
	cr_assert_eq(audit_count(&m, "event.update", e2), 1);
	char *cp = xasprintf("/v1/tenants/%s/events/%s/cancel", m.t.id, e3);
	r = http("POST", cp, m.admin, NULL, NULL);
	cr_assert_eq(r->status, 202);
	resp_free(r);
	cr_assert_eq(audit_count(&m, "event.cancel", e3), 1);
	free(p); free(lp); free(next); free(fp); free(cp);
	money_tenant_free(&m);
}

Test(money, payments_and_bets_are_audited)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a;
	member_create(&m, &a);
	char *pp = tpath(&m, "/payments");
	struct resp *r = http("POST", pp, a.token, "{\"direction\":\"deposit\",\"amount_minor\":100,\"currency\":\"EUR\"}", NULL);
	cr_assert_eq(r->status, 201);
	char *pay = xstrdup(json_string_value(json_object_get(r->json, "id")));
	resp_free(r);
	char ev[37];
	event_create(&m, "2.00", "2.00", ev);
	r = place_bet(&m, &a, ev, "home", 10, "2.00", NULL);
	char *bet = bet_id_of(r);
	resp_free(r);
	cr_assert_eq(audit_count(&m, "payment.deposit", pay), 1);
	cr_assert_eq(audit_count(&m, "bet.place", bet), 1);
	free(pp); free(pay); free(bet);
	member_free(&a);
	money_tenant_free(&m);
}

/* ---- deposit caps ------------------------------------------------------ */

struct depositor {
	const struct money_tenant *m;
	const struct member *mb;
	int ok, refused, other;
};

static void *deposit_once(void *arg)
{
	struct depositor *d = arg;
	struct resp *r = pay(d->m, d->mb, "deposit", 1000000, "EUR", NULL);
	if (r->status == 201)
		d->ok++;
	else if (r->status == 422 && strstr(r->body, "deposit-limit"))
		d->refused++;
	else
		d->other++;
	resp_free(r);
	return NULL;
}

/*
 * No payment provider stands behind deposits yet, so a member could credit
 * itself without bound: deposits are capped per payment
 * (ATRIUM_DEPOSIT_MAX_MINOR, 1 000 000 here) and per member, currency and
 * UTC day (ATRIUM_DEPOSIT_DAILY_MAX_MINOR, 5 000 000), and the daily cap
 * holds when eight deposits race for the last room.
 */
Test(money, deposits_are_capped_per_payment_and_per_day_even_when_racing, .timeout = 120)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a, b;
	member_create(&m, &a);
	member_create(&m, &b);
	struct resp *r = pay(&m, &a, "deposit", 1000001, "EUR", NULL);
	assert_problem(r, 422);
	cr_assert(strstr(r->body, "amount_minor"), "names the field: %s", r->body);
	resp_free(r);
	cr_assert_eq(balance(&m, &a, "EUR"), 0, "nothing moved");

	enum { RACERS = 8 };
	struct depositor ds[RACERS];
	pthread_t th[RACERS];
	for (int i = 0; i < RACERS; i++) {
		ds[i] = (struct depositor){.m = &m, .mb = &a};
		pthread_create(&th[i], NULL, deposit_once, &ds[i]);
	}
	int ok = 0, refused = 0, other = 0;
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		ok += ds[i].ok;
		refused += ds[i].refused;
		other += ds[i].other;
	}
	cr_assert_eq(other, 0, "each deposit was accepted or refused by the cap");
	cr_assert_eq(ok, 5, "five deposits fill the day's 5 000 000, %d passed", ok);
	cr_assert_eq(refused, 3);
	cr_assert_eq(balance(&m, &a, "EUR"), 5000000);

	/* A retry of a refused deposit with its key answers the same refusal. */
	const char *key = "deposit-over-the-cap";
	r = pay(&m, &a, "deposit", 1, "EUR", key);
	assert_problem(r, 422);
	cr_assert(strstr(r->body, "deposit-limit"));
	resp_free(r);
	r = pay(&m, &a, "deposit", 1, "EUR", key);
	assert_problem(r, 422);
	cr_assert(strstr(r->body, "deposit-limit"), "replayed: %s", r->body);
	resp_free(r);
	/* Other currencies and other members have their own room; withdrawals
	 * are not capped. */
	deposit(&m, &a, 1000000, "USD");
	deposit(&m, &b, 1000000, "EUR");
	r = pay(&m, &a, "withdrawal", 5000000, "EUR", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	resp_free(r);
	cr_assert_eq(balance(&m, &a, "EUR"), 0);
	assert_money_invariants(m.t.id, false);
	member_free(&a);
	member_free(&b);
	money_tenant_free(&m);
}
