/*
 * webhook_jobs.h - processing of billing webhook events in `atrium worker`:
 * the `webhooks.process` job kind (one job per inbox event) and the sweep
 * that queues events whose job was never queued (a crash between the
 * inbox commit in billing_db and the job insert in portal_db).
 *
 * Processing maps the provider's account (QuickBooks realm, Pax8 company)
 * to a tenant, then applies the event to the tenant's invoices,
 * subscriptions or usage lines. Unknown accounts are kept as `unmatched`
 * until a tenant gets that realm or company id: `webhooks.rematch` (queued
 * by the tenant change) then processes them again. Nothing here calls the
 * providers' APIs: a Pax8 subscription event queues a
 * `pax8.pull_subscription` (workers/pax8_jobs.c) as its second step.
 */
#ifndef ATRIUM_WEBHOOK_JOBS_H
#define ATRIUM_WEBHOOK_JOBS_H

#include <stdbool.h>

#include "services/webhooks.h"

/* Registers the job kind (call from main's register_all, after
 * jobs_register and webhooks_register). */
void webhook_jobs_register(void);

/* One sweep: queues received events older than min_age_s that were never
 * queued. Returns how many, or -1 when a database failed. */
int webhook_jobs_sweep(int min_age_s);

/*
 * A background thread that sweeps at start and then every
 * ATRIUM_WEBHOOK_SWEEP_SECONDS (15) for events older than
 * ATRIUM_WEBHOOK_SWEEP_AGE_SECONDS (30). For `atrium worker`.
 */
void webhook_jobs_sweeper_start(void);
void webhook_jobs_sweeper_stop(void);

#endif
