/*
 * pax8.h - billing_db's Pax8 data as the Partner API reports it
 * (subscriptions and usage summaries pulled by the worker), and the job
 * kinds that pull it, so handlers can queue a pull without knowing the
 * worker (workers/pax8_jobs.c).
 *
 * Upserts take a billing_db connection scoped "*" and the API's JSON
 * object (borrowed); a pull always wins over what is stored (it is the
 * provider's state when read) and marks the row source = 'api'.
 */
#ifndef ATRIUM_SERVICE_PAX8_H
#define ATRIUM_SERVICE_PAX8_H

#include <jansson.h>
#include <stdbool.h>

#include "server/store/db.h"
#include "server/store/status.h"

/* Periodic (every ATRIUM_PAX8_SYNC_SECONDS): one pull per mapped company. */
#define PAX8_SYNC_KIND "pax8.sync"
/* {tenant_id, company_id}: every subscription of the company and its usage. */
#define PAX8_PULL_COMPANY_KIND "pax8.pull_company"
/* {tenant_id, company_id, subscription_id}: one subscription (a webhook named it). */
#define PAX8_PULL_SUBSCRIPTION_KIND "pax8.pull_subscription"

void pax8_register(void);

/*
 * Upserts one subscription of `tenant_id` from the API's object `sub` and
 * its product `product` (may be NULL). ST_INVALID: the API's data does not
 * fit (a bad number or date); nothing stored.
 */
enum status pax8_upsert_subscription(struct db_conn *c, const char *tenant_id, json_t *sub,
				     json_t *product);
/* Upserts one usage summary for the current month. */
enum status pax8_upsert_usage(struct db_conn *c, const char *tenant_id, json_t *summary,
			      const char *product_name);

/* Queues a pull on the caller's portal_db connection (its transaction). */
bool pax8_queue_pull_company(struct db_conn *portal, const char *tenant_id, const char *company_id,
			     const char *request_id);
bool pax8_queue_pull_subscription(struct db_conn *portal, const char *tenant_id,
				  const char *company_id, const char *subscription_id,
				  const char *request_id);

#endif
