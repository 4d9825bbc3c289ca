/*
 * settlement_jobs.h - the worker's side of the money: the event.settle,
 * event.cancel and bets.reconcile job kinds (workers/settlement_jobs.c).
 * The names of the kinds a handler queues are in services/betting.h.
 */
#ifndef ATRIUM_SETTLEMENT_JOBS_H
#define ATRIUM_SETTLEMENT_JOBS_H

/* Registers the three kinds with the job runtime. */
void settlement_register(void);
/* In `atrium worker`: asks for a reconciliation run at once. */
void settlement_worker_start(void);

#endif
