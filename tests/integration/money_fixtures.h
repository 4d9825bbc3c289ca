/*
 * money_fixtures.h - set-up and invariant checks shared by the money
 * integration tests (events, bets, payments, crash recovery).
 *
 * The invariant checks read betting_db and billing_db directly (as the
 * application role, RLS scope "*") and fail the test with a precise
 * message on the first violation.
 */
#ifndef ATRIUM_TEST_MONEY_FIXTURES_H
#define ATRIUM_TEST_MONEY_FIXTURES_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "client.h"

/* A tenant with its admin, billing viewer and support user tokens. */
struct money_tenant {
	struct tenant t;
	char *admin, *viewer, *support;
};

/* A member of a tenant: its token and Atrium user id. */
struct member {
	char *token;
	char user_id[37];
};

void money_tenant_create(struct money_tenant *m);
void money_tenant_free(struct money_tenant *m);
void member_create(const struct money_tenant *m, struct member *out);
void member_free(struct member *mb);

/* "/v1/tenants/<id><suffix>" (heap). */
char *tpath(const struct money_tenant *m, const char *suffix);

/* An open event starting in a week with selections home (odds_home) and
 * away (odds_away); its id in id_out. */
void event_create(const struct money_tenant *m, const char *odds_home, const char *odds_away,
		  char id_out[37]);
/* Deposits as the member, asserting 201. */
void deposit(const struct money_tenant *m, const struct member *mb, long long amount,
	     const char *currency);
/* The member's balance in currency (0 when it has none). */
long long balance(const struct money_tenant *m, const struct member *mb, const char *currency);
/* POST /bets; returns the response (caller frees). key may be NULL. */
struct resp *place_bet(const struct money_tenant *m, const struct member *mb, const char *event_id,
		       const char *selection, long long stake, const char *odds, const char *key);
/* A base URL's variant of place_bet (another server). */
struct resp *place_bet_at(const char *base, const struct money_tenant *m, const struct member *mb,
			  const char *event_id, const char *selection, long long stake,
			  const char *odds, const char *key);

/* Direct connections, scoped "*". */
PGconn *betting_db(void);
PGconn *billing_db(void);
/* A single value of a query with up to 3 text parameters (heap, NULL for
 * SQL NULL); the test fails if the query fails or returns no row. */
char *sql_value(PGconn *pg, const char *sql, const char *p1, const char *p2, const char *p3);
long long sql_ll(PGconn *pg, const char *sql, const char *p1, const char *p2, const char *p3);

/*
 * Section 4 of SPEC.md for one tenant:
 *  - every ledger transaction has 2+ entries summing to zero per currency;
 *  - every wallet's balance is >= 0 and equals the sum of its entries;
 *  - every accepted/won/lost/void bet has exactly one stake of its
 *    stake_minor; a won bet exactly one payout of its potential payout, a
 *    void bet exactly one refund of its stake, no other bet a payout;
 *  - a rejected bet's stake, if any, is refunded; a stake whose bet does
 *    not exist is refunded;
 *  - pending bets only when allow_pending.
 */
void assert_money_invariants(const char *tenant_id, bool allow_pending);

/* Waits until the event's bets are all settled (bets_settled_at), running
 * due settlement jobs in this process meanwhile when run_jobs (so the test
 * does not depend on a worker being up). */
void wait_settled(const char *tenant_id, const char *event_id, bool run_jobs);

#endif
