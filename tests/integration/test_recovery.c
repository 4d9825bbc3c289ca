/*
 * Integration: crashes. A server killed with SIGKILL in the middle of a
 * stream of bets, restarted, with a worker reconciling, leaves no money
 * created or lost and every accepted bet with exactly one stake; and each
 * half-done state reconciliation knows is repaired the way it should be.
 *
 * The killed server and the worker are real `atrium` processes
 * (ATRIUM_TEST_BINARY) on ATRIUM_TEST_RL_PORT (the port test_http.c's
 * second server uses; integration programs run one at a time), with a
 * pending-bet timeout and a reconciliation interval of one second. Their
 * logs go to ATRIUM_TEST_RUNDIR/logs (or /tmp).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
	/* This process reconciles too (see reconcile_now()), with the same
	 * short timeouts as the worker it spawns. */
	setenv("ATRIUM_BET_PENDING_TIMEOUT_SECONDS", "1", 1);
	setenv("ATRIUM_RECONCILE_INTERVAL_SECONDS", "1", 1);
	cr_assert(config_load());
	jobs_register();
	idem_register();
	betting_register();
	billing_register();
	settlement_register();
	db_start(8);
}

/* Processes this program started, killed at teardown if a failed
 * assertion left them running. */
static pid_t children[8];
static int nchildren;

static void teardown(void)
{
	for (int i = 0; i < nchildren; i++)
		if (children[i] > 0 && waitpid(children[i], NULL, WNOHANG) == 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
		}
	db_stop();
	config_free();
}

TestSuite(recovery, .init = setup, .fini = teardown, .timeout = 300);

static const char *spare_port(void)
{
	const char *p = getenv("ATRIUM_TEST_RL_PORT");
	return p && *p ? p : "28444";
}

static char *log_path(const char *name)
{
	const char *dir = getenv("ATRIUM_TEST_RUNDIR");
	if (dir && *dir)
		return xasprintf("%s/logs/%s", dir, name);
	return xasprintf("/tmp/atrium-test-%s", name);
}

/* Starts `atrium <cmd>` with the test's environment plus overrides. */
static pid_t spawn(const char *cmd, const char *log)
{
	const char *bin = getenv("ATRIUM_TEST_BINARY");
	cr_assert_not_null(bin, "ATRIUM_TEST_BINARY must name the atrium binary");
	char *path = log_path(log);
	pid_t pid = fork();
	if (pid == 0) {
		test_child_dies_with_parent();
		char listen[64];
		snprintf(listen, sizeof(listen), "127.0.0.1:%s", spare_port());
		setenv("ATRIUM_LISTEN", listen, 1);
		setenv("ATRIUM_RATE_LIMIT_IP_PER_MINUTE", "100000000", 1);
		setenv("ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE", "100000000", 1);
		setenv("ATRIUM_WORKER_POLL_MS", "100", 1);
		setenv("ATRIUM_WORKER_CONCURRENCY", "2", 1);
		if (freopen(path, "a", stderr) == NULL || freopen(path, "a", stdout) == NULL)
			_exit(126);
		execl(bin, bin, cmd, (char *)NULL);
		_exit(127);
	}
	cr_assert_gt(pid, 0, "fork");
	if (nchildren < 8)
		children[nchildren++] = pid;
	free(path);
	return pid;
}

static char *spare_base(void)
{
	return xasprintf("https://127.0.0.1:%s", spare_port());
}

static void wait_healthy(const char *base, pid_t pid)
{
	for (int i = 0; i < 300; i++) {
		struct resp *r = http_at(base, "GET", "/healthz", NULL, NULL, NULL);
		long st = r->status;
		resp_free(r);
		if (st == 200)
			return;
		int status;
		cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "the server exited at start");
		usleep(100000);
	}
	cr_assert_fail("the server on %s did not start", base);
}

/* SIGTERM, then the exit status must be 0 (sanitizers report through it). */
static void stop_cleanly(pid_t pid, const char *what)
{
	kill(pid, SIGTERM);
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited with status %d", what, status);
}

/* ---- a stream of bets through a server that is killed ------------------ */

#define MEMBERS 4
#define THREADS 8
#define MAX_REQ 4000

struct placed {
	int member;
	long long stake;
	char key[64];     /* "" when sent without one */
	long status;      /* 0: no answer (the server died) */
	char bet_id[37];
};

struct streamer {
	int index;
	const char *base;
	const struct money_tenant *m;
	const struct member *members;
	const char *event_id;
	atomic_bool *stop;
	atomic_int *accepted;     /* 201s of every streamer, for the kill's timing */
	struct placed *req;
	int n;
};

static void *stream(void *arg)
{
	struct streamer *x = arg;
	unsigned seed = (unsigned)x->index * 7919u + 1;
	while (!atomic_load(x->stop) && x->n < MAX_REQ) {
		struct placed *p = &x->req[x->n++];
		p->member = (x->index + x->n) % MEMBERS;
		p->stake = 100 + rand_r(&seed) % 400;
		if (x->n % 2)
			snprintf(p->key, sizeof(p->key), "stream-%d-%d-%u", x->index, x->n, rand_r(&seed));
		struct resp *r = place_bet_at(x->base, x->m, &x->members[p->member], x->event_id, "home",
					      p->stake, "2.00", p->key[0] ? p->key : NULL);
		p->status = r->status;
		const char *id = json_string_value(json_object_get(r->json, "id"));
		snprintf(p->bet_id, sizeof(p->bet_id), "%s", r->status == 201 && id ? id : "");
		if (r->status == 201)
			atomic_fetch_add(x->accepted, 1);
		resp_free(r);
		if (p->status == 0)
			usleep(20000); /* the server is gone: do not spin */
	}
	return NULL;
}

/* Makes a reconciliation run due now. */
static void ask_reconcile(void)
{
	struct db_conn *c = db_acquire(DB_PORTAL);
	cr_assert_not_null(c);
	cr_assert(db_scope(c, "*"));
	cr_assert(jobs_schedule(c, "bets.reconcile", 0));
	db_release(c);
}

static long long count_where(PGconn *pg, const char *sql, const char *tenant)
{
	return sql_ll(pg, sql, tenant, NULL, NULL);
}

Test(recovery, a_server_killed_mid_stream_loses_no_money_once_reconciled)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member members[MEMBERS];
	const long long funds = 1000000;
	for (int i = 0; i < MEMBERS; i++) {
		member_create(&m, &members[i]);
		deposit(&m, &members[i], funds, "EUR");
	}
	char ev[37];
	event_create(&m, "2.00", "2.00", ev);
	char *base = spare_base();

	pid_t server = spawn("serve", "recovery-serve-1.log");
	wait_healthy(base, server);
	atomic_bool stop = false;
	atomic_int accepted = 0;
	struct streamer xs[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		xs[i] = (struct streamer){.index = i, .base = base, .m = &m, .members = members,
					  .event_id = ev, .stop = &stop, .accepted = &accepted,
					  .req = xcalloc(MAX_REQ, sizeof(struct placed))};
		pthread_create(&th[i], NULL, stream, &xs[i]);
	}
	/* Kill mid-stream: once the stream is well under way (a loaded
	 * machine places bets slowly, so wait for them, not for a time),
	 * and never later than 60 s. */
	for (int waited = 0; atomic_load(&accepted) < 40 && waited < 600; waited++)
		usleep(100000);
	usleep(200000);
	kill(server, SIGKILL);
	int status;
	waitpid(server, &status, 0);
	usleep(300000);
	atomic_store(&stop, true);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the first server died of SIGKILL");

	PGconn *bet = betting_db(), *bill = billing_db();
	long long pending_at_kill = count_where(bet, "SELECT count(*) FROM bets WHERE tenant_id = $1::uuid AND status = 'pending'", m.t.id);
	long long unanswered = 0, answered = 0, keyed_lost = 0;
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < xs[i].n; k++) {
			struct placed *p = &xs[i].req[k];
			if (p->status == 201)
				answered++;
			else if (p->status == 0 || p->status >= 500)
				unanswered++;
			else
				cr_assert_fail("bet answered %ld before the kill", p->status);
			if (p->status != 201 && p->key[0])
				keyed_lost++;
		}
	cr_assert_gt(answered, 20, "the stream ran before the kill (%lld bets)", answered);

	/* Restart; a client retries what it sent with a key and got no answer
	 * to: the same key completes the same bet. */
	server = spawn("serve", "recovery-serve-2.log");
	wait_healthy(base, server);
	long long retried = 0;
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < xs[i].n; k++) {
			struct placed *p = &xs[i].req[k];
			if (p->status == 201 || p->key[0] == '\0')
				continue;
			struct resp *r = place_bet_at(base, &m, &members[p->member], ev, "home", p->stake, "2.00", p->key);
			cr_assert(r->status == 201 || r->status == 409, "retry of %s: %ld %s", p->key, r->status, r->body);
			p->status = r->status;
			const char *id = json_string_value(json_object_get(r->json, "id"));
			snprintf(p->bet_id, sizeof(p->bet_id), "%s", r->status == 201 && id ? id : "");
			resp_free(r);
			retried++;
		}

	/* The worker reconciles what nobody retried. Another worker (with
	 * the default, slower cadence) may share the queue, so the next run
	 * is asked for now and then, as a starting worker does. */
	pid_t worker = spawn("worker", "recovery-worker.log");
	bool settled = false;
	for (int i = 0; i < 600 && !settled; i++) {
		if (i % 5 == 4)
			ask_reconcile();
		long long pending = count_where(bet, "SELECT count(*) FROM bets WHERE tenant_id = $1::uuid AND status = 'pending'", m.t.id);
		long long unconfirmed = count_where(bill, "SELECT count(*) FROM ledger_transactions WHERE tenant_id = $1::uuid "
						     "AND kind = 'stake' AND confirmed_at IS NULL", m.t.id);
		settled = pending == 0 && unconfirmed == 0;
		if (!settled)
			usleep(100000);
	}
	cr_assert(settled, "reconciliation did not resolve every pending bet and stake within a minute");
	stop_cleanly(worker, "atrium worker");
	stop_cleanly(server, "atrium serve");

	long long expired = count_where(bet, "SELECT count(*) FROM bets WHERE tenant_id = $1::uuid AND rejection_reason = 'expired'", m.t.id);
	long long refunds = count_where(bill, "SELECT count(*) FROM ledger_transactions WHERE tenant_id = $1::uuid AND kind = 'refund'", m.t.id);
	cr_log_info("stream: %lld bets answered before the kill, %lld unanswered (%lld with a key, %lld retried), "
		    "%lld pending at the kill; reconciliation rejected %lld as expired and refunded %lld stakes",
		    answered, unanswered, keyed_lost, retried, pending_at_kill, expired, refunds);

	assert_money_invariants(m.t.id, false);
	/* No money created or lost: each wallet holds its deposit minus the
	 * stakes of its accepted bets, by the API and by the ledger. */
	for (int i = 0; i < MEMBERS; i++) {
		char *sum = sql_value(bet, "SELECT COALESCE(sum(stake_minor), 0)::text FROM bets "
					   "WHERE tenant_id = $1::uuid AND user_id = $2::uuid AND status = 'accepted'",
				      m.t.id, members[i].user_id, NULL);
		long long staked = atoll(sum);
		free(sum);
		cr_assert_eq(balance(&m, &members[i], "EUR"), funds - staked, "member %d", i);
	}
	/* Every bet a client was told was placed is accepted, with its stake. */
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < xs[i].n; k++) {
			struct placed *p = &xs[i].req[k];
			if (p->status != 201)
				continue;
			char *st = sql_value(bet, "SELECT status FROM bets WHERE id = $1::uuid", p->bet_id, NULL, NULL);
			cr_assert_str_eq(st, "accepted", "bet %s answered 201", p->bet_id);
			free(st);
			cr_assert_eq(sql_ll(bill, "SELECT count(*) FROM ledger_transactions WHERE kind = 'stake' AND reference = $1::uuid",
					    p->bet_id, NULL, NULL), 1);
		}
	PQfinish(bet);
	PQfinish(bill);
	for (int i = 0; i < THREADS; i++)
		free(xs[i].req);
	for (int i = 0; i < MEMBERS; i++)
		member_free(&members[i]);
	free(base);
	money_tenant_free(&m);
}

/* ---- each half-done state, repaired ------------------------------------ */

/* Runs reconciliation in this process until done() or a deadline. */
static void reconcile_until(bool (*done)(void *), void *arg)
{
	for (int i = 0; i < 300; i++) {
		if (done(arg))
			return;
		ask_reconcile();
		if (!jobs_run_one("test-reconciler"))
			usleep(100000);
	}
	cr_assert(done(arg), "reconciliation did not repair everything within the deadline");
}

struct scene {
	const char *tenant;
	char unstaked[37], staked[37], orphan[37], late[37], event[37];
};

static bool scene_done(void *arg)
{
	struct scene *s = arg;
	PGconn *bet = betting_db(), *bill = billing_db();
	char *a = sql_value(bet, "SELECT string_agg(status, ',' ORDER BY ord) FROM "
				 "(SELECT status, array_position(ARRAY[$1, $2]::uuid[], id) AS ord FROM bets "
				 " WHERE id IN ($1::uuid, $2::uuid)) x",
			    s->unstaked, s->staked, NULL);
	char *ev = sql_value(bet, "SELECT (bets_settled_at IS NOT NULL)::text FROM events WHERE id = $1::uuid",
			     s->event, NULL, NULL);
	long long refunds = sql_ll(bill, "SELECT count(*) FROM ledger_transactions WHERE kind = 'refund' "
					 "AND reference IN ($1::uuid, $2::uuid)", s->orphan, s->late, NULL);
	bool done = a && strcmp(a, "rejected,accepted") == 0 && ev && strcmp(ev, "true") == 0 && refunds == 2;
	free(a);
	free(ev);
	PQfinish(bet);
	PQfinish(bill);
	return done;
}

Test(recovery, reconciliation_repairs_each_half_done_state)
{
	struct money_tenant m;
	money_tenant_create(&m);
	struct member a;
	member_create(&m, &a);
	deposit(&m, &a, 10000, "EUR");
	char ev[37], ev2[37];
	event_create(&m, "2.00", "2.00", ev);
	event_create(&m, "3.00", "2.00", ev2);
	struct scene s = {.tenant = m.t.id};
	struct arena ar = {0};
	struct bet_row b;
	char cur[64];
	bool changed;
	struct db_conn *cb = db_acquire(DB_BETTING), *cm = db_acquire(DB_BILLING);
	cr_assert(db_scope(cb, m.t.id) && db_scope(cm, m.t.id));

	/* 1. Crash after step 1: a pending bet without a stake. */
	cr_assert_eq(betting_bet_place(cb, m.t.id, a.user_id, ev, "home", "100", "EUR", "2.00", NULL, "t", cur, &ar, &b), ST_OK);
	snprintf(s.unstaked, sizeof(s.unstaked), "%s", b.id);
	/* 2. Crash after step 2: a pending bet with its stake. */
	cr_assert_eq(betting_bet_place(cb, m.t.id, a.user_id, ev, "home", "200", "EUR", "2.00", NULL, "t", cur, &ar, &b), ST_OK);
	snprintf(s.staked, sizeof(s.staked), "%s", b.id);
	cr_assert_eq(billing_stake(cm, m.t.id, a.user_id, "EUR", "200", b.id, "t"), ST_OK);
	/* 3. A stake without any bet. */
	random_uuid(s.orphan);
	cr_assert_eq(billing_stake(cm, m.t.id, a.user_id, "EUR", "300", s.orphan, "t"), ST_OK);
	/* 4. A slow request whose stake landed after its bet expired. */
	cr_assert_eq(betting_bet_place(cb, m.t.id, a.user_id, ev, "home", "400", "EUR", "2.00", NULL, "t", cur, &ar, &b), ST_OK);
	snprintf(s.late, sizeof(s.late), "%s", b.id);
	cr_assert_eq(betting_bet_resolve(cb, b.id, false, "expired", &ar, &b, &changed), ST_OK);
	cr_assert_eq(billing_stake(cm, m.t.id, a.user_id, "EUR", "400", s.late, "t"), ST_OK);
	/* 5. An event whose result was posted but whose settlement job was
	 *    lost, with an accepted bet. */
	struct resp *r = place_bet(&m, &a, ev2, "home", 500, "3.00", NULL);
	cr_assert_eq(r->status, 201);
	resp_free(r);
	snprintf(s.event, sizeof(s.event), "%s", ev2);
	PGconn *bet = betting_db();
	PQclear(PQexecParams(bet, "UPDATE events SET status = 'settled', result = 'home', updated_at = now() - interval '1 hour' "
				  "WHERE id = $1::uuid", 1, NULL, (const char *[]){ev2}, NULL, NULL, 0));
	PQfinish(bet);
	db_release(cb);
	db_release(cm);
	cr_assert_eq(balance(&m, &a, "EUR"), 10000 - 200 - 300 - 400 - 500);

	usleep(1200000); /* past the one-second pending timeout */
	reconcile_until(scene_done, &s);
	/* Repaired: the staked bet kept its stake, the orphan and late stakes
	 * came back, the lost settlement paid 3 x 500. */
	cr_assert_eq(balance(&m, &a, "EUR"), 10000 - 200 - 500 + 1500);
	assert_money_invariants(m.t.id, false);
	arena_free(&ar);
	member_free(&a);
	money_tenant_free(&m);
}
