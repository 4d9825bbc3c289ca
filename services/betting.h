/*
 * betting.h - the betting service's data (betting_db): events with their
 * selections and odds, and bets.
 *
 * A bet is the betting half of a saga whose money half is the stake in
 * billing_db (services/billing.h); handlers/bets.c and workers/settlement_jobs.c
 * orchestrate the two. This module only knows betting_db: it records a bet
 * as pending (after checking, under the event's row lock, that the event
 * is open and the odds are the current ones), and moves bets through
 * accepted/rejected and won/lost/void.
 *
 * Functions take a connection leased by the caller, already scoped for RLS
 * (the tenant, or "*" in the worker), and return JSON text built by
 * PostgreSQL, copied into the arena. They never build HTTP replies.
 */
#ifndef ATRIUM_BETTING_H
#define ATRIUM_BETTING_H

#include <jansson.h>
#include <stdbool.h>

#include "server/store/db.h"
#include "server/store/status.h"
#include "server/store/page.h"
#include "server/common/util.h"


struct event_out {
	char *json;         /* arena */
	char id[37];
	long long version;
};

struct event_filter {
	const char *tenant_id;
	const char *status;
	const char *sport;
	const char *starts_after;   /* RFC 3339 */
	const char *starts_before;
	struct page_cursor cursor;
	int limit;
};

/* A bet as the saga needs it. */
struct bet_row {
	char id[37];
	char tenant_id[37];
	char user_id[37];
	char currency[4];
	char stake_minor[24];
	char status[16];          /* pending, accepted, rejected, won, lost, void */
	char rejection_reason[24];
	char *json;               /* arena */
};

struct bet_filter {
	const char *tenant_id;
	const char *user_id;      /* NULL: every member's */
	const char *event_id;
	const char *status;
	struct page_cursor cursor;
	int limit;
};

/* A bet to settle. */
struct settle_item {
	char id[37];
	char selection[65];
	long long payout_if_won;  /* floor(stake x odds), computed in SQL numeric */
	bool expired;             /* pending bets: older than the age asked for */
};

void betting_register(void);

/* in: the validated body {name, sport, starts_at, status?, selections[]}. */
/* On ST_INVALID, *field names the offending member. */
enum status betting_event_create(struct db_conn *c, const char *tenant_id, json_t *in,
					 struct arena *ar, struct event_out *out, const char **field);
enum status betting_event_get(struct db_conn *c, const char *tenant_id, const char *id,
				      struct arena *ar, struct event_out *out);
enum status betting_event_list(struct db_conn *c, const struct event_filter *f,
				       struct arena *ar, char **page);
/* A merge patch; selections[] items update existing keys or add new ones.
 * if_match < 0: unconditional. */
enum status betting_event_update(struct db_conn *c, const char *tenant_id, const char *id,
					 json_t *patch, long long if_match, struct arena *ar,
					 struct event_out *out, const char **field);
/*
 * Ends an event: status "settled" with the winning selection `result`, or
 * "cancelled" (result NULL). ST_FINAL when it had already ended,
 * ST_NO_SELECTION for an unknown selection.
 */
enum status betting_event_finish(struct db_conn *c, const char *tenant_id, const char *id,
					 const char *status, const char *result,
					 long long if_match, struct arena *ar, struct event_out *out);

/*
 * Records a pending bet (the saga's first step), checking under the
 * event's row lock that it is open and that `odds` equal the selection's
 * current odds (as decimals). On ST_ODDS_CHANGED, current_odds (64
 * bytes) holds them. idem_key may be NULL.
 */
enum status betting_bet_place(struct db_conn *c, const char *tenant_id,
				      const char *user_id, const char *event_id,
				      const char *selection, const char *stake_minor,
				      const char *currency, const char *odds, const char *idem_key,
				      const char *request_id, char *current_odds, struct arena *ar,
				      struct bet_row *out);
/* The bet this member placed with this Idempotency-Key. */
enum status betting_bet_by_key(struct db_conn *c, const char *tenant_id,
				       const char *user_id, const char *key, struct arena *ar,
				       struct bet_row *out);
/* pending -> accepted (stake posted) or rejected (reason). When the bet was
 * no longer pending, *out is its current state and *changed is false. */
enum status betting_bet_resolve(struct db_conn *c, const char *id, bool accept,
					const char *reason, struct arena *ar, struct bet_row *out,
					bool *changed);
/* only_user != NULL: the bet must be that member's (else NOT_FOUND). */
enum status betting_bet_get(struct db_conn *c, const char *tenant_id, const char *id,
				    const char *only_user, struct arena *ar, struct bet_row *out);
enum status betting_bet_list(struct db_conn *c, const struct bet_filter *f,
				     struct arena *ar, char **page);

/* ---- settlement and reconciliation (the worker, scope "*") ---------- */

/* The event's status ("settled"/"cancelled"/...), result (65 bytes, "" if
 * none) and whether its bets are all settled. */
enum status betting_event_state(struct db_conn *c, const char *id, char *status,
					char *result, bool *bets_settled);
/* Up to max bets of the event in `status` (pending or accepted); pending
 * ones older than min_age_s are marked expired. */
enum status betting_event_bets(struct db_conn *c, const char *event_id,
				       const char *status, int min_age_s, int max,
				       struct settle_item *items, int *n);
/* accepted -> won/lost (event settled with `result`) or void (cancelled). */
enum status betting_bets_settle(struct db_conn *c, int n, const char *const *ids,
					const char *event_status, const char *result);
/* Marks the event's bets settled when none is pending or accepted any
 * more. *done tells whether it is (now or before). */
enum status betting_event_bets_settled(struct db_conn *c, const char *id, bool *done);
/* Pending bets older than min_age_s, any tenant: ids (arena). */
enum status betting_pending_bets(struct db_conn *c, int min_age_s, int max,
					 struct arena *ar, char **ids, int *n);
/* pending -> accepted for ids with a stake, -> rejected (expired) for the
 * others. */
enum status betting_bets_reconcile(struct db_conn *c, int n_accept,
					   const char *const *accept, int n_reject,
					   const char *const *reject);
/* The status of each bet (16 bytes each; "" when there is no such bet). */
enum status betting_bet_statuses(struct db_conn *c, int n, const char *const *ids,
					 char (*statuses)[16]);
/* Ended events whose bets are not all settled, updated more than
 * min_age_s ago: ids and tenants (arena). */
enum status betting_unfinished_events(struct db_conn *c, int min_age_s, int max,
					      struct arena *ar, char **ids, char **tenants, int *n);

#endif
