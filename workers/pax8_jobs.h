/*
 * pax8_jobs.h - pulls from the Pax8 Partner API in `atrium worker`:
 * `pax8.sync` (periodic, every ATRIUM_PAX8_SYNC_SECONDS: one
 * `pax8.pull_company` per tenant with a Pax8 company id),
 * `pax8.pull_company` (every subscription of the company, all pages, with
 * its product, then each subscription's usage summaries) and
 * `pax8.pull_subscription` (one subscription a webhook event named).
 *
 * Every step upserts, so a step cut short and run again converges. 429
 * and 5xx retry the job (Retry-After honoured); a 401 gets a new token
 * once (server/outbound/pax8.c). Without ATRIUM_PAX8_CLIENT_ID/SECRET the
 * pulls are skipped, and the worker says so once.
 */
#ifndef ATRIUM_PAX8_JOBS_H
#define ATRIUM_PAX8_JOBS_H

void pax8_jobs_register(void);
/* Queues the first sync when a worker starts. */
void pax8_jobs_worker_start(void);

#endif
