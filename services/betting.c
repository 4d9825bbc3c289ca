/*
 * betting.c - events and bets statements (betting_db).
 *
 * Placing a bet is one statement: it locks the event's row FOR SHARE, so
 * the status and odds it checks cannot change before it commits (a PATCH,
 * result or cancel takes the row FOR UPDATE and waits), and it computes
 * the potential payout floor(stake x odds) in numeric. Settlement moves
 * bets only from the state it expects (WHERE status = ...), and the
 * bets_guard trigger refuses any other transition, so every step can be
 * repeated safely.
 */
#include "services/betting.h"
#include "server/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SORT_KEY(a) \
	"((extract(epoch FROM " a ".created_at) * 1000000)::bigint)::text || '|' || " a ".id::text"
#define BEFORE_CURSOR(a, us, id) \
	"(" us "::bigint IS NULL OR (" a ".created_at, " a ".id) < " \
	"('epoch'::timestamptz + " us "::bigint * interval '1 microsecond', " id "::uuid))"
/* The columns struct bet_row is read from (take_bet()). */
#define BET_COLS(b) \
	b ".id::text, " b ".tenant_id::text, " b ".user_id::text, " b ".currency, " \
	b ".stake_minor::text, " b ".status, COALESCE(" b ".rejection_reason, ''), bet_json(" b ")::text"
#define SELECTIONS_IN(param) \
	"(SELECT jsonb_agg(jsonb_build_object('key', a.x->>'key', 'name', a.x->>'name', " \
	"   'odds', ((a.x->>'odds')::numeric)::text) ORDER BY a.o) " \
	" FROM jsonb_array_elements(" param ") WITH ORDINALITY AS a(x, o))"

static const struct db_stmt stmts[] = {
	{"betting_event_create",
	 "INSERT INTO events (tenant_id, name, sport, starts_at, status, selections) "
	 "VALUES ($1::uuid, $2::text, $3::text, $4::timestamptz, COALESCE($5::text, 'scheduled'), "
	 "        " SELECTIONS_IN("$6::jsonb") ") "
	 "RETURNING event_json(events)::text, version, id::text"},
	{"betting_event_get",
	 "SELECT event_json(e)::text, e.version, e.id::text FROM events e "
	 "WHERE e.id = $2::uuid AND e.tenant_id = $1::uuid"},
	{"betting_event_list",
	 "SELECT event_json(e)::text, " SORT_KEY("e") " FROM events e "
	 "WHERE e.tenant_id = $1::uuid AND ($2::text IS NULL OR event_status(e) = $2) "
	 "  AND ($3::text IS NULL OR e.sport = $3) "
	 "  AND ($4::timestamptz IS NULL OR e.starts_at >= $4::timestamptz) "
	 "  AND ($5::timestamptz IS NULL OR e.starts_at < $5::timestamptz) "
	 "  AND " BEFORE_CURSOR("e", "$6", "$7") " "
	 "ORDER BY e.created_at DESC, e.id DESC LIMIT $8"},
	/* Returns (rows found, their status, json, version, id): json is NULL
	 * when the event is final or If-Match failed. */
	{"betting_event_update",
	 "WITH cur AS (SELECT id, version, status FROM events "
	 "             WHERE id = $2::uuid AND tenant_id = $1::uuid FOR UPDATE), "
	 "u AS (UPDATE events e SET "
	 "    name = COALESCE($3::jsonb->>'name', e.name), "
	 "    sport = COALESCE($3::jsonb->>'sport', e.sport), "
	 "    starts_at = COALESCE(($3::jsonb->>'starts_at')::timestamptz, e.starts_at), "
	 "    status = COALESCE($3::jsonb->>'status', e.status), "
	 "    selections = CASE WHEN $3::jsonb ? 'selections' "
	 "      THEN event_merge_selections(e.selections, $3::jsonb->'selections') ELSE e.selections END, "
	 "    version = e.version + 1, updated_at = now() "
	 "  FROM cur WHERE e.id = cur.id AND cur.status NOT IN ('settled', 'cancelled') "
	 "    AND ($4::bigint IS NULL OR cur.version = $4::bigint) "
	 "  RETURNING event_json(e) AS j, e.version, e.id) "
	 "SELECT (SELECT count(*) FROM cur)::int, (SELECT status FROM cur), u.j::text, u.version, u.id::text "
	 "FROM (SELECT 1) one LEFT JOIN u ON true"},
	/* Returns (rows found, their status, selection exists, json, version, id). */
	{"betting_event_finish",
	 "WITH cur AS (SELECT id, version, status, "
	 "               ($4::text IS NULL OR selections @> jsonb_build_array(jsonb_build_object('key', $4::text))) AS sel_ok "
	 "             FROM events WHERE id = $2::uuid AND tenant_id = $1::uuid FOR UPDATE), "
	 "u AS (UPDATE events e SET status = $3::text, result = $4::text, version = e.version + 1, "
	 "        updated_at = now() "
	 "  FROM cur WHERE e.id = cur.id AND cur.status NOT IN ('settled', 'cancelled') AND cur.sel_ok "
	 "    AND ($5::bigint IS NULL OR cur.version = $5::bigint) "
	 "  RETURNING event_json(e) AS j, e.version, e.id) "
	 "SELECT (SELECT count(*) FROM cur)::int, (SELECT status FROM cur), "
	 "  COALESCE((SELECT sel_ok FROM cur), false), u.j::text, u.version, u.id::text "
	 "FROM (SELECT 1) one LEFT JOIN u ON true"},
	/* Returns (event status, current odds, then the bet's columns when it
	 * was placed). */
	{"betting_bet_place",
	 "WITH ev AS (SELECT e.id, event_status(e) AS st, event_odds(e, $4::text) AS odds FROM events e "
	 "            WHERE e.id = $3::uuid AND e.tenant_id = $1::uuid FOR SHARE), "
	 "b AS (INSERT INTO bets (tenant_id, user_id, event_id, selection, stake_minor, currency, odds, "
	 "        potential_payout_minor, idempotency_key, request_id) "
	 "      SELECT $1::uuid, $2::uuid, ev.id, $4::text, $5::bigint, $6::text, ev.odds, "
	 "        floor($5::bigint::numeric * ev.odds)::bigint, $8::text, $9::text "
	 "      FROM ev WHERE ev.st = 'open' AND ev.odds = $7::numeric "
	 "      RETURNING *) "
	 "SELECT (SELECT st FROM ev), (SELECT odds::text FROM ev), " BET_COLS("b") " "
	 "FROM (SELECT 1) one LEFT JOIN b ON true"},
	{"betting_bet_by_key",
	 "SELECT " BET_COLS("b") " FROM bets b "
	 "WHERE b.tenant_id = $1::uuid AND b.user_id = $2::uuid AND b.idempotency_key = $3::text"},
	{"betting_bet_by_id", "SELECT " BET_COLS("b") " FROM bets b WHERE b.id = $1::uuid"},
	{"betting_bet_accept",
	 "UPDATE bets b SET status = 'accepted', updated_at = now() "
	 "WHERE b.id = $1::uuid AND b.status = 'pending' RETURNING " BET_COLS("b")},
	{"betting_bet_reject",
	 "UPDATE bets b SET status = 'rejected', rejection_reason = $2::text, updated_at = now() "
	 "WHERE b.id = $1::uuid AND b.status = 'pending' RETURNING " BET_COLS("b")},
	{"betting_bet_get",
	 "SELECT " BET_COLS("b") " FROM bets b "
	 "WHERE b.id = $2::uuid AND b.tenant_id = $1::uuid AND ($3::uuid IS NULL OR b.user_id = $3::uuid)"},
	{"betting_bet_list",
	 "SELECT bet_json(b)::text, " SORT_KEY("b") " FROM bets b "
	 "WHERE b.tenant_id = $1::uuid AND ($2::uuid IS NULL OR b.user_id = $2::uuid) "
	 "  AND ($3::uuid IS NULL OR b.event_id = $3::uuid) AND ($4::text IS NULL OR b.status = $4) "
	 "  AND " BEFORE_CURSOR("b", "$5", "$6") " "
	 "ORDER BY b.created_at DESC, b.id DESC LIMIT $7"},
	/* ---- settlement and reconciliation ---- */
	{"betting_event_state",
	 "SELECT status, COALESCE(result, ''), bets_settled_at IS NOT NULL FROM events WHERE id = $1::uuid"},
	{"betting_event_bets",
	 "SELECT id::text, selection, potential_payout_minor, "
	 "  created_at < now() - make_interval(secs => $3::int) "
	 "FROM bets WHERE event_id = $1::uuid AND status = $2::text ORDER BY id LIMIT $4::int"},
	{"betting_bets_settle",
	 "UPDATE bets SET "
	 "  status = CASE WHEN $2::text = 'cancelled' THEN 'void' "
	 "                WHEN selection = $3::text THEN 'won' ELSE 'lost' END, "
	 "  payout_minor = CASE WHEN $2::text = 'cancelled' THEN stake_minor "
	 "                      WHEN selection = $3::text THEN potential_payout_minor ELSE 0 END, "
	 "  settled_at = now(), updated_at = now() "
	 "WHERE id = ANY($1::uuid[]) AND status = 'accepted'"},
	{"betting_event_bets_settled",
	 "WITH u AS (UPDATE events SET bets_settled_at = now() "
	 "  WHERE id = $1::uuid AND bets_settled_at IS NULL AND status IN ('settled', 'cancelled') "
	 "    AND NOT EXISTS (SELECT 1 FROM bets WHERE event_id = $1::uuid "
	 "                    AND status IN ('pending', 'accepted')) RETURNING 1) "
	 "SELECT (SELECT count(*) FROM u) > 0 OR EXISTS (SELECT 1 FROM events "
	 "  WHERE id = $1::uuid AND bets_settled_at IS NOT NULL)"},
	{"betting_pending_bets",
	 "SELECT id::text FROM bets WHERE status = 'pending' "
	 "  AND created_at < now() - make_interval(secs => $1::int) ORDER BY created_at LIMIT $2::int"},
	{"betting_bets_accept_many",
	 "UPDATE bets SET status = 'accepted', updated_at = now() "
	 "WHERE id = ANY($1::uuid[]) AND status = 'pending'"},
	{"betting_bets_expire_many",
	 "UPDATE bets SET status = 'rejected', rejection_reason = 'expired', updated_at = now() "
	 "WHERE id = ANY($1::uuid[]) AND status = 'pending'"},
	{"betting_bet_statuses",
	 "SELECT id::text, status FROM bets WHERE id = ANY($1::uuid[])"},
	{"betting_unfinished_events",
	 "SELECT id::text, tenant_id::text FROM events "
	 "WHERE status IN ('settled', 'cancelled') AND bets_settled_at IS NULL "
	 "  AND updated_at < now() - make_interval(secs => $1::int) ORDER BY updated_at LIMIT $2::int"},
};

void betting_register(void)
{
	db_register(DB_BETTING, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/* "{a,b,c}" of validated UUIDs. Caller frees. */
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

/* Reads the BET_COLS starting at column col. */
static void take_bet(PGresult *res, int row, int col, struct arena *ar, struct bet_row *out)
{
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, row, col));
	snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", PQgetvalue(res, row, col + 1));
	snprintf(out->user_id, sizeof(out->user_id), "%s", PQgetvalue(res, row, col + 2));
	snprintf(out->currency, sizeof(out->currency), "%s", PQgetvalue(res, row, col + 3));
	snprintf(out->stake_minor, sizeof(out->stake_minor), "%s", PQgetvalue(res, row, col + 4));
	snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, row, col + 5));
	snprintf(out->rejection_reason, sizeof(out->rejection_reason), "%s", PQgetvalue(res, row, col + 6));
	out->json = arena_strdup(ar, PQgetvalue(res, row, col + 7));
}

static void take_event(PGresult *res, int row, int col, struct arena *ar, struct event_out *out)
{
	out->json = arena_strdup(ar, PQgetvalue(res, row, col));
	out->version = atoll(PQgetvalue(res, row, col + 1));
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, row, col + 2));
}

/* A statement error that means the input cannot be stored. */
static bool invalid_input(PGresult *res, const char **field)
{
	const char *state = db_sqlstate(res);
	if (strncmp(state, "22", 2) == 0) { /* a timestamp PostgreSQL cannot take */
		*field = "starts_at";
		return true;
	}
	if (strcmp(state, "23514") == 0) {
		*field = "selections";
		return true;
	}
	return false;
}

static const char *opt_str(json_t *in, const char *key)
{
	return json_string_value(json_object_get(in, key));
}

enum status betting_event_create(struct db_conn *c, const char *tenant_id, json_t *in,
					 struct arena *ar, struct event_out *out, const char **field)
{
	char *sel = json_dumps(json_object_get(in, "selections"), JSON_COMPACT);
	const char *v[] = {tenant_id, opt_str(in, "name"), opt_str(in, "sport"),
			   opt_str(in, "starts_at"), opt_str(in, "status"), sel};
	PGresult *res = db_exec(c, "betting_event_create", 6, v);
	free(sel);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		take_event(res, 0, 0, ar, out);
		st = ST_OK;
	} else if (res && invalid_input(res, field)) {
		st = ST_INVALID;
	}
	PQclear(res);
	return st;
}

enum status betting_event_get(struct db_conn *c, const char *tenant_id, const char *id,
				      struct arena *ar, struct event_out *out)
{
	const char *v[] = {tenant_id, id};
	PGresult *res = db_exec(c, "betting_event_get", 2, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK)
			take_event(res, 0, 0, ar, out);
	}
	PQclear(res);
	return st;
}

enum status betting_event_list(struct db_conn *c, const struct event_filter *f,
				       struct arena *ar, char **page)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	const char *v[] = {f->tenant_id, f->status, f->sport, f->starts_after, f->starts_before,
			   f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim};
	PGresult *res = db_exec(c, "betting_event_list", 8, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		*page = page_json(res, f->limit, ar);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

/* Reads (found, status, [sel_ok,] json, version, id) of an event change. */
static enum status event_change_result(PGresult *res, bool has_sel, struct arena *ar,
					       struct event_out *out)
{
	int json_col = has_sel ? 3 : 2;
	if (atoi(PQgetvalue(res, 0, 0)) == 0)
		return ST_NOT_FOUND;
	const char *status = PQgetvalue(res, 0, 1);
	if (strcmp(status, "settled") == 0 || strcmp(status, "cancelled") == 0)
		return ST_FINAL;
	if (has_sel && strcmp(PQgetvalue(res, 0, 2), "t") != 0)
		return ST_NO_SELECTION;
	if (PQgetisnull(res, 0, json_col))
		return ST_PRECONDITION;
	take_event(res, 0, json_col, ar, out);
	return ST_OK;
}

enum status betting_event_update(struct db_conn *c, const char *tenant_id, const char *id,
					 json_t *patch, long long if_match, struct arena *ar,
					 struct event_out *out, const char **field)
{
	char *p = json_dumps(patch, JSON_COMPACT);
	char ver[24];
	snprintf(ver, sizeof(ver), "%lld", if_match);
	const char *v[] = {tenant_id, id, p, if_match < 0 ? NULL : ver};
	PGresult *res = db_exec(c, "betting_event_update", 4, v);
	free(p);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1)
		st = event_change_result(res, false, ar, out);
	else if (res && invalid_input(res, field))
		st = ST_INVALID;
	PQclear(res);
	return st;
}

enum status betting_event_finish(struct db_conn *c, const char *tenant_id, const char *id,
					 const char *status, const char *result,
					 long long if_match, struct arena *ar, struct event_out *out)
{
	char ver[24];
	snprintf(ver, sizeof(ver), "%lld", if_match);
	const char *v[] = {tenant_id, id, status, result, if_match < 0 ? NULL : ver};
	PGresult *res = db_exec(c, "betting_event_finish", 5, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1)
		st = event_change_result(res, true, ar, out);
	PQclear(res);
	return st;
}

enum status betting_bet_place(struct db_conn *c, const char *tenant_id,
				      const char *user_id, const char *event_id,
				      const char *selection, const char *stake_minor,
				      const char *currency, const char *odds, const char *idem_key,
				      const char *request_id, char *current_odds, struct arena *ar,
				      struct bet_row *out)
{
	const char *v[] = {tenant_id, user_id, event_id, selection, stake_minor, currency, odds,
			   idem_key, request_id};
	PGresult *res = db_exec(c, "betting_bet_place", 9, v);
	enum status st = ST_UNAVAILABLE;
	current_odds[0] = '\0';
	if (db_ok(res) && PQntuples(res) == 1) {
		if (PQgetisnull(res, 0, 0))
			st = ST_NOT_FOUND;
		else if (strcmp(PQgetvalue(res, 0, 0), "open") != 0)
			st = ST_CLOSED;
		else if (PQgetisnull(res, 0, 1))
			st = ST_NO_SELECTION;
		else if (PQgetisnull(res, 0, 2)) {
			snprintf(current_odds, 64, "%s", PQgetvalue(res, 0, 1));
			st = ST_ODDS_CHANGED;
		} else {
			take_bet(res, 0, 2, ar, out);
			st = ST_OK;
		}
	} else if (res && strcmp(db_sqlstate(res), "23505") == 0) {
		st = ST_DUPLICATE;
	}
	PQclear(res);
	return st;
}

/* Runs a statement that returns at most one bet (BET_COLS at column 0). */
static enum status one_bet(struct db_conn *c, const char *stmt, int n, const char *const *v,
				   struct arena *ar, struct bet_row *out)
{
	PGresult *res = db_exec(c, stmt, n, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK)
			take_bet(res, 0, 0, ar, out);
	}
	PQclear(res);
	return st;
}

enum status betting_bet_by_key(struct db_conn *c, const char *tenant_id,
				       const char *user_id, const char *key, struct arena *ar,
				       struct bet_row *out)
{
	const char *v[] = {tenant_id, user_id, key};
	return one_bet(c, "betting_bet_by_key", 3, v, ar, out);
}

enum status betting_bet_resolve(struct db_conn *c, const char *id, bool accept,
					const char *reason, struct arena *ar, struct bet_row *out,
					bool *changed)
{
	*changed = false;
	enum status st;
	if (accept) {
		const char *v[] = {id};
		st = one_bet(c, "betting_bet_accept", 1, v, ar, out);
	} else {
		const char *v[] = {id, reason};
		st = one_bet(c, "betting_bet_reject", 2, v, ar, out);
	}
	if (st == ST_OK) {
		*changed = true;
		return st;
	}
	if (st != ST_NOT_FOUND)
		return st;
	/* No longer pending: someone else resolved it. Read where it is. */
	const char *v[] = {id};
	return one_bet(c, "betting_bet_by_id", 1, v, ar, out);
}

enum status betting_bet_get(struct db_conn *c, const char *tenant_id, const char *id,
				    const char *only_user, struct arena *ar, struct bet_row *out)
{
	const char *v[] = {tenant_id, id, only_user};
	return one_bet(c, "betting_bet_get", 3, v, ar, out);
}

enum status betting_bet_list(struct db_conn *c, const struct bet_filter *f,
				     struct arena *ar, char **page)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	const char *v[] = {f->tenant_id, f->user_id, f->event_id, f->status,
			   f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim};
	PGresult *res = db_exec(c, "betting_bet_list", 7, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		*page = page_json(res, f->limit, ar);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

/* ---- settlement and reconciliation ------------------------------------ */

enum status betting_event_state(struct db_conn *c, const char *id, char *status,
					char *result, bool *bets_settled)
{
	const char *v[] = {id};
	PGresult *res = db_exec(c, "betting_event_state", 1, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK) {
			snprintf(status, 16, "%s", PQgetvalue(res, 0, 0));
			snprintf(result, 65, "%s", PQgetvalue(res, 0, 1));
			*bets_settled = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		}
	}
	PQclear(res);
	return st;
}

enum status betting_event_bets(struct db_conn *c, const char *event_id,
				       const char *status, int min_age_s, int max,
				       struct settle_item *items, int *n)
{
	char age[12], lim[12];
	snprintf(age, sizeof(age), "%d", min_age_s);
	snprintf(lim, sizeof(lim), "%d", max);
	const char *v[] = {event_id, status, age, lim};
	PGresult *res = db_exec(c, "betting_event_bets", 4, v);
	enum status st = ST_UNAVAILABLE;
	*n = 0;
	if (db_ok(res)) {
		for (int r = 0; r < PQntuples(res) && r < max; r++) {
			struct settle_item *it = &items[(*n)++];
			snprintf(it->id, sizeof(it->id), "%s", PQgetvalue(res, r, 0));
			snprintf(it->selection, sizeof(it->selection), "%s", PQgetvalue(res, r, 1));
			it->payout_if_won = atoll(PQgetvalue(res, r, 2));
			it->expired = strcmp(PQgetvalue(res, r, 3), "t") == 0;
		}
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

static enum status exec_ids(struct db_conn *c, const char *stmt, int n,
				    const char *const *ids, const char *p2, const char *p3)
{
	if (n == 0)
		return ST_OK;
	char *arr = id_array(n, ids);
	const char *v[] = {arr, p2, p3};
	int np = p3 ? 3 : p2 ? 2 : 1;
	PGresult *res = db_exec(c, stmt, np, v);
	free(arr);
	enum status st = db_ok(res) ? ST_OK : ST_UNAVAILABLE;
	PQclear(res);
	return st;
}

enum status betting_bets_settle(struct db_conn *c, int n, const char *const *ids,
					const char *event_status, const char *result)
{
	return exec_ids(c, "betting_bets_settle", n, ids, event_status, result ? result : "");
}

enum status betting_event_bets_settled(struct db_conn *c, const char *id, bool *done)
{
	const char *v[] = {id};
	PGresult *res = db_exec(c, "betting_event_bets_settled", 1, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		*done = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status betting_pending_bets(struct db_conn *c, int min_age_s, int max,
					 struct arena *ar, char **ids, int *n)
{
	char age[12], lim[12];
	snprintf(age, sizeof(age), "%d", min_age_s);
	snprintf(lim, sizeof(lim), "%d", max);
	const char *v[] = {age, lim};
	PGresult *res = db_exec(c, "betting_pending_bets", 2, v);
	enum status st = ST_UNAVAILABLE;
	*n = 0;
	if (db_ok(res)) {
		*n = db_copy_column(res, 0, max, ar, ids);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status betting_bets_reconcile(struct db_conn *c, int n_accept,
					   const char *const *accept, int n_reject,
					   const char *const *reject)
{
	enum status st = exec_ids(c, "betting_bets_accept_many", n_accept, accept, NULL, NULL);
	if (st != ST_OK)
		return st;
	return exec_ids(c, "betting_bets_expire_many", n_reject, reject, NULL, NULL);
}

enum status betting_bet_statuses(struct db_conn *c, int n, const char *const *ids,
					 char (*statuses)[16])
{
	for (int i = 0; i < n; i++)
		statuses[i][0] = '\0';
	if (n == 0)
		return ST_OK;
	char *arr = id_array(n, ids);
	const char *v[] = {arr};
	PGresult *res = db_exec(c, "betting_bet_statuses", 1, v);
	free(arr);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		for (int r = 0; r < PQntuples(res); r++)
			for (int i = 0; i < n; i++)
				if (strcasecmp(PQgetvalue(res, r, 0), ids[i]) == 0)
					snprintf(statuses[i], 16, "%s", PQgetvalue(res, r, 1));
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

enum status betting_unfinished_events(struct db_conn *c, int min_age_s, int max,
					      struct arena *ar, char **ids, char **tenants, int *n)
{
	char age[12], lim[12];
	snprintf(age, sizeof(age), "%d", min_age_s);
	snprintf(lim, sizeof(lim), "%d", max);
	const char *v[] = {age, lim};
	PGresult *res = db_exec(c, "betting_unfinished_events", 2, v);
	enum status st = ST_UNAVAILABLE;
	*n = 0;
	if (db_ok(res)) {
		*n = db_copy_column(res, 0, max, ar, ids);
		db_copy_column(res, 1, max, ar, tenants);
		st = ST_OK;
	}
	PQclear(res);
	return st;
}
