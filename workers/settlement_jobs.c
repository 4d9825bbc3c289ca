/*
 * settlement_jobs.c - the worker's side of the money: settling and cancelling
 * events, and reconciling bets a crash left half-done. Job kinds:
 *
 *   event.settle, event.cancel   queued by POST …/events/{id}/result and
 *       …/cancel. Winners are paid floor(stake x odds) (computed when the
 *       bet was placed, in SQL numeric), losers closed, a cancelled
 *       event's stakes refunded. Batch by batch: billing_db first (payout
 *       or refund, at most one per bet: a unique index), then betting_db
 *       (accepted -> won/lost/void, only from accepted). A crash between
 *       the two repeats the first as a no-op, so a bet is paid once however
 *       often settlement runs.
 *   bets.reconcile   periodic, platform-wide. (1) Pending bets older than
 *       ATRIUM_BET_PENDING_TIMEOUT_SECONDS: accepted if their stake exists,
 *       else rejected (expired). (2) Stakes not yet confirmed, as old: a
 *       stake whose bet is missing or rejected is refunded; the others
 *       are confirmed. (3) Ended events whose bets are not all settled
 *       (their job was lost): settled here.
 *
 * Scheduling of reconciliation: every run queues the next one
 * ATRIUM_RECONCILE_INTERVAL_SECONDS later (jobs_schedule(), which merges
 * the cycles of several workers into one), and a starting worker asks for
 * a run at once, so whatever a crash left is repaired when the worker
 * comes back. Settlement jobs also resolve their event's old pending bets
 * themselves, and wait (retry) while younger ones may still complete.
 *
 * Only the worker runs these; they lease their own connections (scoped to
 * the job's tenant, or "*" for reconciliation).
 */
#include "server/common/config.h"
#include "services/betting.h"
#include "services/billing.h"
#include "workers/settlement_jobs.h"
#include "server/jobs/jobs.h"
#include "server/common/log.h"
#include "server/common/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 200

static int pending_timeout_s = 30;
static int reconcile_interval_s = 60;

/* The request id postings carry: the job's, else one naming the job. */
static const char *posting_request_id(struct job *j, char buf[80])
{
	if (j->request_id[0])
		return j->request_id;
	snprintf(buf, 80, "job:%s", j->id);
	return buf;
}

/*
 * Resolves pending bets: accepted when their stake exists, rejected
 * (expired) otherwise. A stake that lands after the rejection is refunded
 * by reconciliation's stakes pass.
 */
static bool resolve_pending(struct db_conn *cb, struct db_conn *cm, int n, const char *const *ids)
{
	if (n == 0)
		return true;
	bool *has = xcalloc((size_t)n, sizeof(bool));
	const char **acc = xcalloc((size_t)n, sizeof(char *));
	const char **rej = xcalloc((size_t)n, sizeof(char *));
	int na = 0, nr = 0;
	bool ok = false;
	if (billing_stakes_exist(cm, n, ids, has) != ST_OK)
		goto cleanup;
	for (int i = 0; i < n; i++) {
		if (has[i])
			acc[na++] = ids[i];
		else
			rej[nr++] = ids[i];
	}
	ok = betting_bets_reconcile(cb, na, acc, nr, rej) == ST_OK;
	if (ok && (na || nr))
		log_info("reconcile: %d pending bet(s) accepted (stake found), %d rejected (expired)", na, nr);
cleanup:
	free(has);
	free(acc);
	free(rej);
	return ok;
}

/*
 * Settles (or, for a cancelled event, refunds) every bet of one ended
 * event. JOB_RETRY while younger pending bets may still complete or a
 * database fails; JOB_FAIL for an event that has not ended.
 */
static enum job_result settle_event(struct job *j, struct db_conn *cb, struct db_conn *cm,
				    const char *event_id)
{
	char status[16], result[65], rid[80];
	bool settled = false;
	switch (betting_event_state(cb, event_id, status, result, &settled)) {
	case ST_OK:
		break;
	case ST_NOT_FOUND:
		job_error(j, "EventNotFound", "the event does not exist");
		return JOB_FAIL;
	default:
		job_error(j, "DatabaseUnavailable", "betting_db failed");
		return JOB_RETRY;
	}
	if (strcmp(status, "settled") != 0 && strcmp(status, "cancelled") != 0) {
		job_error(j, "EventNotEnded", "the event is neither settled nor cancelled");
		return JOB_FAIL;
	}
	if (settled)
		return JOB_OK;
	bool cancel = strcmp(status, "cancelled") == 0;
	struct settle_item *items = xcalloc(BATCH, sizeof(struct settle_item));
	const char **ids = xcalloc(BATCH, sizeof(char *));
	const char **won = xcalloc(BATCH, sizeof(char *));
	long long *amounts = xcalloc(BATCH, sizeof(long long));
	enum job_result out = JOB_RETRY;
	int paid = 0, closed = 0;

	for (;;) {
		int n = 0;
		/* Pending bets first: old ones are resolved now; young ones may
		 * still be completing, so wait for them. */
		if (betting_event_bets(cb, event_id, "pending", pending_timeout_s, BATCH, items, &n) !=
		    ST_OK) {
			job_error(j, "DatabaseUnavailable", "betting_db failed");
			goto cleanup;
		}
		int expired = 0;
		for (int i = 0; i < n; i++)
			if (items[i].expired)
				ids[expired++] = items[i].id;
		if (!resolve_pending(cb, cm, expired, ids)) {
			job_error(j, "DatabaseUnavailable", "resolving pending bets failed");
			goto cleanup;
		}
		if (expired < n) {
			job_error(j, "BetsPending", "bets of this event are still being placed");
			/* 1 s, 2 s, 3 s...: past the pending timeout within a few tries. */
			j->retry_after_ms = 1000 * (j->attempts > 0 ? j->attempts : 1);
			goto cleanup;
		}
		if (betting_event_bets(cb, event_id, "accepted", 0, BATCH, items, &n) != ST_OK) {
			job_error(j, "DatabaseUnavailable", "betting_db failed");
			goto cleanup;
		}
		if (n == 0)
			break;
		int nw = 0, posted = 0;
		for (int i = 0; i < n; i++) {
			ids[i] = items[i].id;
			if (!cancel && strcmp(items[i].selection, result) == 0) {
				won[nw] = items[i].id;
				amounts[nw++] = items[i].payout_if_won;
			}
		}
		enum status ms = cancel ? billing_refund_stakes(cm, n, ids, posting_request_id(j, rid), &posted)
						: billing_pay_winners(cm, nw, won, amounts, posting_request_id(j, rid), &posted);
		if (ms != ST_OK) {
			job_error(j, "DatabaseUnavailable", "billing_db failed while paying");
			goto cleanup;
		}
		if (betting_bets_settle(cb, n, ids, status, result) != ST_OK) {
			job_error(j, "DatabaseUnavailable", "betting_db failed while settling");
			goto cleanup;
		}
		paid += posted;
		closed += n;
		if (jobs_stopping()) {
			job_error(j, "Stopping", "the worker is stopping; settlement resumes later");
			j->retry_after_ms = 100;
			goto cleanup;
		}
	}
	bool done = false;
	if (betting_event_bets_settled(cb, event_id, &done) != ST_OK) {
		job_error(j, "DatabaseUnavailable", "marking the event's bets settled failed");
		goto cleanup;
	}
	/* A concurrent run may have marked it a moment ago: look again. */
	if (!done && (betting_event_state(cb, event_id, status, result, &done) != ST_OK || !done)) {
		job_error(j, "BetsPending", "bets of this event are still open");
		j->retry_after_ms = 1000;
		goto cleanup;
	}
	log_info("event %s %s: %d bet(s) closed, %d %s posted", event_id, status, closed, paid,
		 cancel ? "refund(s)" : "payout(s)");
	j->output = json_pack("{s:i, s:i}", "bets", closed, cancel ? "refunds" : "payouts", paid);
	out = JOB_OK;
cleanup:
	free(items);
	free(ids);
	free(won);
	free(amounts);
	return out;
}

/* Leases a betting_db and a billing_db connection scoped to `scope`. */
static bool lease_both(struct db_conn **cb, struct db_conn **cm, const char *scope)
{
	*cb = db_acquire(DB_BETTING);
	*cm = *cb ? db_acquire(DB_BILLING) : NULL;
	if (*cb && *cm && db_scope(*cb, scope) && db_scope(*cm, scope))
		return true;
	db_release(*cb);
	db_release(*cm);
	*cb = *cm = NULL;
	return false;
}

static enum job_result step_settle(struct job *j)
{
	const char *event_id = json_string_value(json_object_get(j->payload, "event_id"));
	if (event_id == NULL || !util_is_uuid(event_id) || j->tenant_id[0] == '\0') {
		job_error(j, "InvalidPayload", "the job names no event or tenant");
		return JOB_FAIL;
	}
	struct db_conn *cb, *cm;
	if (!lease_both(&cb, &cm, j->tenant_id)) {
		job_error(j, "DatabaseUnavailable", "betting_db or billing_db is unreachable");
		return JOB_RETRY;
	}
	enum job_result res = settle_event(j, cb, cm, event_id);
	db_release(cb);
	db_release(cm);
	return res;
}

/* ---- reconciliation --------------------------------------------------- */

static enum job_result step_pending_bets(struct job *j)
{
	struct db_conn *cb, *cm;
	if (!lease_both(&cb, &cm, "*")) {
		job_error(j, "DatabaseUnavailable", "betting_db or billing_db is unreachable");
		return JOB_RETRY;
	}
	enum job_result res = JOB_OK;
	char *ids[BATCH];
	for (int round = 0; round < 50 && !jobs_stopping(); round++) {
		int n = 0;
		if (betting_pending_bets(cb, pending_timeout_s, BATCH, &j->arena, ids, &n) != ST_OK ||
		    !resolve_pending(cb, cm, n, (const char *const *)ids)) {
			job_error(j, "DatabaseUnavailable", "resolving pending bets failed");
			res = JOB_RETRY;
			break;
		}
		if (n < BATCH)
			break;
	}
	db_release(cb);
	db_release(cm);
	return res;
}

/*
 * Reviews stakes nobody confirmed yet: refunds those whose bet is missing
 * or rejected, confirms the others; a stake whose bet is still pending is
 * left for the next run.
 */
static enum job_result step_stakes(struct job *j)
{
	struct db_conn *cb, *cm;
	if (!lease_both(&cb, &cm, "*")) {
		job_error(j, "DatabaseUnavailable", "betting_db or billing_db is unreachable");
		return JOB_RETRY;
	}
	enum job_result res = JOB_OK;
	char *ids[BATCH];
	char (*status)[16] = xcalloc(BATCH, sizeof(*status));
	const char *orphans[BATCH], *done[BATCH];
	char rid[80];
	for (int round = 0; round < 50 && !jobs_stopping(); round++) {
		int n = 0;
		if (billing_unconfirmed_stakes(cm, pending_timeout_s, BATCH, &j->arena, ids, &n) != ST_OK ||
		    betting_bet_statuses(cb, n, (const char *const *)ids, status) != ST_OK) {
			job_error(j, "DatabaseUnavailable", "reviewing stakes failed");
			res = JOB_RETRY;
			break;
		}
		int no = 0, nd = 0, posted = 0;
		for (int i = 0; i < n; i++) {
			if (status[i][0] == '\0' || strcmp(status[i], "rejected") == 0) {
				orphans[no++] = ids[i];
				done[nd++] = ids[i];
			} else if (strcmp(status[i], "pending") != 0) {
				done[nd++] = ids[i];
			}
		}
		if (billing_refund_stakes(cm, no, orphans, posting_request_id(j, rid), &posted) != ST_OK ||
		    billing_confirm_stakes(cm, nd, done) != ST_OK) {
			job_error(j, "DatabaseUnavailable", "refunding or confirming stakes failed");
			res = JOB_RETRY;
			break;
		}
		if (posted) {
			log_warn("reconcile: refunded %d stake(s) whose bet was missing or rejected", posted);
			metrics_saga_repairs(MR_ORPHAN_STAKE_REFUNDED, posted);
		}
		if (n < BATCH || nd == 0)
			break;
	}
	free(status);
	db_release(cb);
	db_release(cm);
	return res;
}

static enum job_result step_unfinished_events(struct job *j)
{
	struct db_conn *cb, *cm;
	if (!lease_both(&cb, &cm, "*")) {
		job_error(j, "DatabaseUnavailable", "betting_db or billing_db is unreachable");
		return JOB_RETRY;
	}
	char *ids[50], *tenants[50];
	int n = 0;
	enum job_result res = JOB_OK;
	if (betting_unfinished_events(cb, pending_timeout_s, 50, &j->arena, ids, tenants, &n) != ST_OK) {
		job_error(j, "DatabaseUnavailable", "betting_db failed");
		res = JOB_RETRY;
	}
	for (int i = 0; i < n && !jobs_stopping(); i++) {
		log_warn("reconcile: event %s ended without its bets settled; settling now", ids[i]);
		metrics_saga_repairs(MR_EVENT_RESUMED, 1);
		/* One that must wait for pending bets is taken up next run. */
		if (settle_event(j, cb, cm, ids[i]) == JOB_FAIL)
			log_warn("reconcile: event %s could not be settled", ids[i]);
		json_decref(j->output);
		j->output = NULL;
	}
	db_release(cb);
	db_release(cm);
	return res;
}

/* Queues the next reconciliation run, whatever became of this one. */
static void schedule_next(struct job *j)
{
	(void)j;
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") ||
	    !jobs_schedule(c, "bets.reconcile", reconcile_interval_s * 1000))
		log_error("reconcile: could not schedule the next run; a worker restart schedules one");
	db_release(c);
}

static const struct job_step settle_steps[] = {{"settle", step_settle}};
static const struct job_step reconcile_steps[] = {
	{"pending_bets", step_pending_bets},
	{"stakes", step_stakes},
	{"unfinished_events", step_unfinished_events},
};

static const struct job_kind settle_kind = {"event.settle", settle_steps, 1, 20, NULL, NULL};
static const struct job_kind cancel_kind = {"event.cancel", settle_steps, 1, 20, NULL, NULL};
static const struct job_kind reconcile_kind = {"bets.reconcile", reconcile_steps, 3, 3,
					       schedule_next, schedule_next};

void settlement_register(void)
{
	pending_timeout_s = cfg.bet_pending_timeout_s;
	reconcile_interval_s = cfg.reconcile_interval_s;
	jobs_register_kind(&settle_kind);
	jobs_register_kind(&cancel_kind);
	jobs_register_kind(&reconcile_kind);
}

void settlement_worker_start(void)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	if (c == NULL || !db_scope(c, "*") || !jobs_schedule(c, "bets.reconcile", 0))
		log_warn("reconcile: could not queue the start-up run");
	db_release(c);
}
