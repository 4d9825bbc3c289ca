/*
 * quickbooks_jobs.h - the QuickBooks Online job kinds: `quickbooks.connect`
 * (exchange the callback's code), `quickbooks.cdc` (change data capture for
 * one tenant), `quickbooks.revoke` (revoke a disconnected token at Intuit),
 * `quickbooks.tick` (periodic: refresh access tokens before they expire,
 * queue the CDC reads that are due), and the `fetch` step of
 * `webhooks.process` (read the entity a QuickBooks event names).
 */
#ifndef ATRIUM_QUICKBOOKS_JOBS_H
#define ATRIUM_QUICKBOOKS_JOBS_H

#include "server/jobs/jobs.h"

void quickbooks_jobs_register(void);
/* Queues the first tick when a worker starts. */
void quickbooks_worker_start(void);

/* The `fetch` step of webhooks.process: reads the invoice, payment or
 * customer a processed QuickBooks event names, with the tenant's token, and
 * stores it. Nothing to do (OK) for other events or unconnected tenants. */
enum job_result quickbooks_step_fetch(struct job *j);

#endif
