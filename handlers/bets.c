/*
 * bets.c - /v1/tenants/{tenant_id}/bets: a member places and reads its own
 * bets; admins and support users read all of them (billing viewers none:
 * bets are not billing).
 *
 * Placing a bet touches two databases, so it is a saga keyed by the bet's
 * id, each step idempotent:
 *   1. betting_db: record the bet `pending` (with its Idempotency-Key, and
 *      the key's record, in one transaction), having checked under the
 *      event's row lock that betting is open and the odds are current;
 *   2. billing_db: post the stake, wallet -> house, reference = bet id
 *      (unique per kind: a repeat is a no-op; a wallet that cannot cover
 *      it refuses it and nothing moves);
 *   3. betting_db: mark the bet `accepted` (or `rejected`,
 *      insufficient_funds) and store the answer with the key, in one
 *      transaction.
 * We chose a saga over two-phase commit: prepared transactions hold locks
 * (the wallet's, the event's) until a coordinator resolves them, need
 * max_prepared_transactions and an operator when the coordinator dies,
 * and are not offered by every managed PostgreSQL; the saga's steps are
 * short, commit on their own, and are repaired by code.
 *
 * A crash between steps leaves a pending bet. A retry with the same
 * Idempotency-Key resumes the saga where it stopped (the key finds the
 * bet); without one, the worker's reconciliation (workers/settlement_jobs.c)
 * accepts a pending bet whose stake exists, rejects one without a stake
 * (expired), and refunds a stake whose bet is missing or rejected.
 *
 * Audit: the bet row is the record (member, time, request id); a
 * portal_db audit record is written after the saga (best effort).
 */
#include "services/betting.h"
#include "services/billing.h"
#include "handlers/handlers.h"
#include "server/common/log.h"
#include "handlers/money.h"
#include "server/http/reply.h"
#include "server/http/validate.h"

#include <string.h>
#include <strings.h>

#define NFIELDS(a) (sizeof(a) / sizeof(a[0]))
#define MAX_STAKE_MINOR 100000000000LL   /* 1e11 minor units */

static const char *const bet_status[] = {"pending", "accepted", "rejected", "won", "lost", "void", NULL};

static const struct field_spec place_fields[] = {
	{"event_id", FT_UUID, F_REQUIRED, 0, 0, NULL},
	{"selection", FT_STRING, F_REQUIRED, 1, 64, NULL},
	{"stake_minor", FT_INTEGER, F_REQUIRED, 1, MAX_STAKE_MINOR, NULL},
	{"currency", FT_CURRENCY, F_REQUIRED, 0, 0, NULL},
	{"odds", FT_DECIMAL, F_REQUIRED, 0, 4, NULL},
	{"id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"user_id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"status", FT_STRING, F_READONLY, 0, 0, NULL},
	{"potential_payout_minor", FT_INTEGER, F_READONLY, 0, 0, NULL},
	{"payout_minor", FT_INTEGER, F_READONLY, 0, 0, NULL},
	{"created_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"settled_at", FT_STRING, F_READONLY, 0, 0, NULL},
};

static void reply_field_problem(struct request *r, int status, const char *code, const char *title,
				const char *field, const char *message, const char *detail)
{
	json_t *errors = NULL;
	problem_add_error(&errors, field, message);
	reply_problem(r, status, code, title, detail, errors);
}

/* Answers step 1's refusals. */
static void reply_place_refused(struct request *r, enum status st, const char *current)
{
	switch (st) {
	case ST_NOT_FOUND:
		reply_field_problem(r, 422, "validation", "Unprocessable Content", "event_id",
				    "names no event of this tenant",
				    "The request body has invalid fields; see errors.");
		return;
	case ST_NO_SELECTION:
		reply_field_problem(r, 422, "validation", "Unprocessable Content", "selection",
				    "is not one of the event's selections",
				    "The request body has invalid fields; see errors.");
		return;
	case ST_CLOSED:
		reply_problem(r, 409, "betting-closed", "Conflict",
			      "The event takes no bets: it is not open, or it has started.", NULL);
		return;
	case ST_ODDS_CHANGED: {
		char *msg = arena_printf(&r->arena, "the current odds are \"%s\"", current);
		char *detail = arena_printf(&r->arena,
					    "The odds have changed: the current odds are \"%s\". "
					    "Place the bet again with those odds to accept them.",
					    current);
		reply_field_problem(r, 409, "odds-changed", "Conflict", "odds", msg, detail);
		return;
	}
	case ST_DUPLICATE:
		reply_problem(r, 409, "idempotency-key-in-use", "Conflict",
			      "A request with this Idempotency-Key is still being processed; retry shortly.", NULL);
		return;
	default:
		reply_db_failed(r, DB_BETTING);
		return;
	}
}

static char *bet_location(struct request *r, const char *tenant, const char *id)
{
	return arena_printf(&r->arena, "/v1/tenants/%s/bets/%s", tenant, id);
}

/*
 * Steps 2 and 3 for a bet in any state, then the answer: a pending bet is
 * staked and resolved; a bet resolved before (by an earlier attempt or by
 * reconciliation) is answered as it stands. With a key, step 3 and the
 * stored answer commit together.
 */
static void complete_bet(struct request *r, const char *tenant, struct db_conn *cb,
			 struct bet_row *bet, const char *key)
{
	bool changed = false;
	if (strcmp(bet->status, "pending") == 0) {
		struct db_conn *cm = req_db(r, DB_BILLING, tenant);
		if (cm == NULL) {
			reply_unavailable(r, "billing_db is unreachable; the bet stays pending and is "
					     "resolved by a retry with the same Idempotency-Key or by reconciliation");
			return;
		}
		enum status ms = billing_stake(cm, tenant, bet->user_id, bet->currency,
						       bet->stake_minor, bet->id, r->request_id);
		if (ms != ST_OK && ms != ST_ALREADY && ms != ST_INSUFFICIENT) {
			reply_unavailable(r, "billing_db failed; the bet stays pending and is resolved by "
					     "a retry with the same Idempotency-Key or by reconciliation");
			return;
		}
		bool accept = ms != ST_INSUFFICIENT;
		if (key && !db_begin(cb)) {
			reply_db_failed(r, DB_BETTING);
			return;
		}
		enum status st = betting_bet_resolve(cb, bet->id, accept, "insufficient_funds",
							     &r->arena, bet, &changed);
		if (st != ST_OK) {
			db_rollback(cb);
			reply_db_failed(r, DB_BETTING);
			return;
		}
	} else if (key && !db_begin(cb)) {
		reply_db_failed(r, DB_BETTING);
		return;
	}

	/* The bet is resolved: answer, and store the answer with the key. */
	if (strcmp(bet->status, "rejected") == 0) {
		bool expired = strcmp(bet->rejection_reason, "expired") == 0;
		if (expired) {
			/* Reconciliation gave up on it while this request was
			 * slow: a stake this request just posted goes back now
			 * (reconciliation would refund it too; refunds are once). */
			struct db_conn *cm = req_db(r, DB_BILLING, tenant);
			int posted = 0;
			if (cm == NULL || billing_refund_stakes(cm, 1, (const char *[]){bet->id},
								r->request_id, &posted) != ST_OK)
				log_warn("bet %s: refund deferred to reconciliation", bet->id);
		}
		if (!money_idem_close_or_reply(r, cb, key, expired ? 409 : 422,
					       expired ? MONEY_PROBLEM_EXPIRED : MONEY_PROBLEM_INSUFFICIENT,
					       NULL, NULL))
			return;
		if (expired)
			money_reply_expired(r);
		else
			money_reply_insufficient(r);
		return;
	}
	char *location = bet_location(r, tenant, bet->id);
	if (!money_idem_close_or_reply(r, cb, key, 201, bet->json, location, NULL))
		return;
	if (changed) {
		handler_audit(r, tenant, "bet.place", "bet", bet->id,
			      req_own_json(r, json_loads(bet->json, 0, NULL)));
	}
	reply_json_text(r, 201, bet->json);
	reply_header(r, "Location", location);
}

static void place_bet(struct request *r)
{
	if (!validate_body_or_reply(r, r->json, place_fields, NFIELDS(place_fields), 0) ||
	    !money_self_or_reply(r))
		return;
	const char *key;
	if (!handler_idem_key_or_reply(r, &key))
		return;
	const char *tenant = money_tenant(r);
	struct db_conn *cb = req_db_or_reply(r, DB_BETTING, tenant);
	if (cb == NULL)
		return;
	struct bet_row bet;
	bool in_progress = false;
	if (!money_idem_open_or_reply(r, cb, key, &in_progress)) {
		if (!in_progress)
			return;
		/* The key's first request recorded its bet and never answered
		 * (it crashed, or it is still running): resume its saga. */
		switch (betting_bet_by_key(cb, tenant, r->principal.user_id, key, &r->arena, &bet)) {
		case ST_OK:
			complete_bet(r, tenant, cb, &bet, key);
			return;
		case ST_NOT_FOUND:
			reply_problem(r, 409, "idempotency-key-in-use", "Conflict",
				      "A request with this Idempotency-Key is still being processed; retry shortly.",
				      NULL);
			return;
		default:
			reply_db_failed(r, DB_BETTING);
			return;
		}
	}
	json_t *in = r->json;
	char stake[24], current[64];
	snprintf(stake, sizeof(stake), "%lld", (long long)json_integer_value(json_object_get(in, "stake_minor")));
	enum status st = betting_bet_place(
		cb, tenant, r->principal.user_id, json_string_value(json_object_get(in, "event_id")),
		json_string_value(json_object_get(in, "selection")), stake,
		json_string_value(json_object_get(in, "currency")),
		json_string_value(json_object_get(in, "odds")), key, r->request_id, current, &r->arena,
		&bet);
	if (st != ST_OK) {
		db_rollback(cb);
		reply_place_refused(r, st, current);
		return;
	}
	if (key && !db_commit(cb)) {
		db_rollback(cb);
		reply_db_failed(r, DB_BETTING);
		return;
	}
	complete_bet(r, tenant, cb, &bet, key);
}

static void list_bets(struct request *r)
{
	struct bet_filter f = {0};
	if (!validate_limit_or_reply(r, 20, 100, &f.limit) || !page_cursor_or_reply(r, &f.cursor) ||
	    !money_query_enum_or_reply(r, "status", bet_status, &f.status) ||
	    !money_query_uuid_or_reply(r, "event_id", &f.event_id) ||
	    !money_query_uuid_or_reply(r, "user_id", &f.user_id))
		return;
	f.tenant_id = money_tenant(r);
	if (!money_own_records_or_reply(r, &f.user_id))
		return;
	struct db_conn *c = req_db(r, DB_BETTING, f.tenant_id);
	char *page = NULL;
	if (c == NULL || betting_bet_list(c, &f, &r->arena, &page) != ST_OK) {
		reply_db_unreachable(r, DB_BETTING);
		return;
	}
	reply_json_text(r, 200, page);
}

static void get_bet(struct request *r)
{
	const char *id = r->params[1];
	if (!util_is_uuid(id)) {
		reply_not_found(r);
		return;
	}
	const char *tenant = money_tenant(r);
	struct db_conn *c = req_db_or_reply(r, DB_BETTING, tenant);
	if (c == NULL)
		return;
	struct bet_row bet;
	const char *only = money_sees_all(&r->principal) ? NULL : r->principal.user_id;
	switch (betting_bet_get(c, tenant, id, only, &r->arena, &bet)) {
	case ST_OK:
		reply_json_text(r, 200, bet.json);
		return;
	case ST_NOT_FOUND:
		reply_not_found(r);
		return;
	default:
		reply_db_failed(r, DB_BETTING);
		return;
	}
}

const struct route bets_routes[] = {
	{HTTP_POST, "/v1/tenants/{tenant_id}/bets", place_bet, AUTH_REQUIRED, ROLE_MEMBER, BODY_JSON, "bets.create"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/bets", list_bets, AUTH_REQUIRED, ROLE_MEMBER | ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER, BODY_NONE, "bets.list"},
	{HTTP_GET, "/v1/tenants/{tenant_id}/bets/{bet_id}", get_bet, AUTH_REQUIRED, ROLE_MEMBER | ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER, BODY_NONE, "bets.get"},
};
const size_t bets_routes_len = sizeof(bets_routes) / sizeof(bets_routes[0]);

const struct body_table bets_bodies[] = {
	{"bets.create", place_fields, NFIELDS(place_fields), 0},
};
const size_t bets_bodies_len = sizeof(bets_bodies) / sizeof(bets_bodies[0]);
