/*
 * billing.h - the billing service's money data (billing_db): accounts, the
 * double-entry ledger, and payments.
 *
 * Every money movement is one statement that writes a ledger transaction
 * and its entries (and the payment, for deposits and withdrawals); the
 * database applies the entries to the wallets' balances and refuses any
 * that would take a wallet below zero (see db/migrations/billing/
 * 0002_ledger.sql). Postings keyed by a reference are idempotent: a second
 * stake, payout or refund for the same bet is a no-op that says so.
 *
 * Functions take a connection leased by the caller, already scoped for RLS
 * (a tenant, or "*" in the worker), and return JSON text built by
 * PostgreSQL, copied into the arena. They never build HTTP replies and
 * never read another service's database.
 */
#ifndef ATRIUM_BILLING_H
#define ATRIUM_BILLING_H

#include <stdbool.h>

#include "server/store/db.h"
#include "server/store/status.h"
#include "server/store/page.h"
#include "server/common/util.h"


struct payment_filter {
	const char *tenant_id;
	const char *user_id;     /* NULL: every member's */
	const char *direction;
	const char *status;
	const char *currency;
	struct page_cursor cursor;
	int limit;
};

struct ledger_filter {
	const char *tenant_id;
	const char *kind;
	const char *reference;
	const char *user_id;
	struct page_cursor cursor;
	int limit;
};

void billing_register(void);

/* Makes sure the member's wallet and the tenant's house and external
 * accounts exist in `currency`. */
/*
 * In a transaction, after billing_accounts_ensure(): locks the member's
 * wallet in `currency` until the transaction ends and sums its deposits of
 * today (UTC) into *total, so a cap checked against it holds under any
 * concurrency.
 */
enum status billing_deposits_today(struct db_conn *c, const char *tenant_id,
					   const char *user_id, const char *currency,
					   long long *total);
enum status billing_accounts_ensure(struct db_conn *c, const char *tenant_id,
					    const char *user_id, const char *currency);

/*
 * A deposit or withdrawal (direction) settled at once by the built-in
 * provider: the payment and its ledger transaction in one statement.
 * *json (arena) is the payment, id_out its id. A withdrawal the wallet
 * cannot cover (or with no wallet in that currency) is ST_INSUFFICIENT
 * and stores nothing; a deposit needs billing_accounts_ensure() first.
 */
enum status billing_payment_create(struct db_conn *c, const char *tenant_id,
					   const char *user_id, const char *direction,
					   const char *amount_minor, const char *currency,
					   const char *request_id, struct arena *ar, char **json,
					   char id_out[37]);
/* only_user != NULL: the payment must be that member's (else NOT_FOUND). */
enum status billing_payment_get(struct db_conn *c, const char *tenant_id, const char *id,
					const char *only_user, struct arena *ar, char **json);
enum status billing_payment_list(struct db_conn *c, const struct payment_filter *f,
					 struct arena *ar, char **page);

/* The member's balances: {user_id, balances:[{currency, available_minor}]}. */
enum status billing_wallet(struct db_conn *c, const char *tenant_id, const char *user_id,
				   struct arena *ar, char **json);
enum status billing_ledger_list(struct db_conn *c, const struct ledger_filter *f,
					struct arena *ar, char **page);

/*
 * The stake of bet `bet_id`: wallet -> house. ST_OK when posted now,
 * ST_ALREADY when the bet's stake exists already, ST_INSUFFICIENT
 * when the wallet cannot cover it (nothing moved).
 */
enum status billing_stake(struct db_conn *c, const char *tenant_id, const char *user_id,
				  const char *currency, const char *amount_minor, const char *bet_id,
				  const char *request_id);

/*
 * Settlement postings for n bets, each at most once per bet (a bet gets
 * one payout or one refund, never both; a repeat is skipped). Payouts move
 * amounts[i] house -> wallet on the accounts of the bet's stake; refunds
 * reverse the bet's stake. A bet without a stake gets nothing.
 * *posted counts the transactions written now.
 */
enum status billing_pay_winners(struct db_conn *c, int n, const char *const *bet_ids,
					const long long *amounts, const char *request_id,
					int *posted);
enum status billing_refund_stakes(struct db_conn *c, int n, const char *const *bet_ids,
					  const char *request_id, int *posted);

/* Which of the n bets have a stake: has_stake[i]. */
enum status billing_stakes_exist(struct db_conn *c, int n, const char *const *bet_ids,
					 bool *has_stake);

/*
 * Stakes not yet confirmed by reconciliation, older than min_age_s, oldest
 * first: up to max bet ids (arena strings) in ids_out[] (size >= max).
 */
enum status billing_unconfirmed_stakes(struct db_conn *c, int min_age_s, int max,
					       struct arena *ar, char **ids_out, int *n_out);
/* Marks the stakes of these bets confirmed. */
enum status billing_confirm_stakes(struct db_conn *c, int n, const char *const *bet_ids);

#endif
