/*
 * webhooks.h - billing_db's webhook inbox and what its events maintain:
 * QuickBooks invoices, Pax8 subscriptions and usage lines.
 *
 * Functions take a billing_db connection leased and scoped by the caller
 * ("*" for the inbox and for processing; a tenant for its reads) and return
 * JSON text built by PostgreSQL in the arena. They never build HTTP replies
 * and never read another service's database.
 */
#ifndef ATRIUM_SERVICE_WEBHOOKS_H
#define ATRIUM_SERVICE_WEBHOOKS_H

#include <jansson.h>
#include <stdbool.h>

#include "server/store/db.h"
#include "server/store/status.h"
#include "server/store/page.h"
#include "server/common/util.h"


void webhooks_register(void);

/* One delivery as received, for webhooks_intake(). Strings are borrowed. */
struct webhook_delivery {
	const char *provider;    /* "quickbooks" or "pax8" */
	const char *body;
	size_t body_len;
	json_t *headers;         /* object of header name -> value (no secrets) */
	const char *client_ip;
	const char *request_id;
	json_t *events;          /* inbox events (see handlers/webhook_verify.h) */
};

struct webhook_intake_result {
	int stored;              /* new inbox rows */
	int duplicates;          /* events already in the inbox */
	int rejected;            /* new rows stored as rejected */
	char **received_ids;     /* arena: ids of new rows to process */
	int n_received;
};

/*
 * Stores the delivery and its new events in one transaction on `c`. When
 * every event was already stored, nothing is kept (not even the delivery).
 * ST_INVALID: the database refused the events' JSON (nothing stored).
 */
enum status webhooks_intake(struct db_conn *c, const struct webhook_delivery *d,
				     struct arena *a, struct webhook_intake_result *out);

/* Marks events as queued for processing. */
bool webhooks_mark_enqueued(struct db_conn *c, char *const *ids, int n);

/*
 * Locks up to `limit` received events that were never queued and are older
 * than `min_age_s`, inside the caller's transaction (FOR UPDATE SKIP
 * LOCKED, so two sweepers split the work). ids are heap strings: the caller
 * frees each and the array.
 */
bool webhooks_unenqueued(struct db_conn *c, int min_age_s, int limit, char ***ids, int *n);

/* An inbox event as the worker needs it (heap copies, free with
 * webhooks_event_free). */
struct webhook_event {
	char id[37];
	char provider[16];
	char status[16];
	char *account_id;
	char *entity_type;
	char *operation;
	char *entity_id;
	char tenant_id[37];      /* "" until matched */
};

enum status webhooks_event_load(struct db_conn *c, const char *id, struct webhook_event *e);
void webhooks_event_free(struct webhook_event *e);

/*
 * Ends an event that is still `received` with `status` (processed,
 * unmatched, rejected, failed), its outcome (may be NULL), tenant (may be
 * NULL) and error (may be NULL). Returns false on database failure; an
 * event no longer `received` is left as it is (true).
 */
bool webhooks_event_finish(struct db_conn *c, const char *id, const char *status,
			   const char *outcome, const char *tenant_id, const char *error);

/* What applying an event did. */
struct webhook_applied {
	bool processed;          /* false: the event was not `received` any more */
	bool applied;            /* true: the tenant's data changed */
	char resource_id[37];    /* the invoice/subscription/usage line, when applied */
	const char *resource_type;
	char *error;             /* on ST_INVALID: the database's reason (heap) */
};

/*
 * Applies a received event for `tenant_id` and marks it processed, in one
 * statement: an event older than what is stored is kept as `superseded`
 * and changes nothing. `kind` is one of "invoice", "qbo_entity",
 * "subscription", "usage".
 */
enum status webhooks_apply(struct db_conn *c, const char *kind, const char *event_id,
				    const char *tenant_id, struct webhook_applied *out);

/* Lists. */
struct webhook_event_filter {
	const char *provider;
	const char *status;
	int unmatched;           /* -1: any, 1: only unmatched, 0: only matched */
	const char *tenant_id;
	struct page_cursor cursor;
	int limit;
};
enum status webhooks_event_list(struct db_conn *c, const struct webhook_event_filter *f,
					 struct arena *a, char **page);

struct billing_filter {
	const char *tenant_id;
	const char *period;          /* "YYYY-MM" or NULL */
	const char *status;          /* or NULL */
	const char *subscription_id; /* usage only, or NULL */
	struct page_cursor cursor;
	int limit;
};
enum status webhooks_invoice_list(struct db_conn *c, const struct billing_filter *f,
					   struct arena *a, char **page);
enum status webhooks_subscription_list(struct db_conn *c, const struct billing_filter *f,
						struct arena *a, char **page);
enum status webhooks_usage_list(struct db_conn *c, const struct billing_filter *f,
					 struct arena *a, char **page);

/* The job kind that processes one inbox event (workers/webhook_jobs.c). */
#define WEBHOOK_JOB_KIND "webhooks.process"
/* {provider, account_id}: re-processes the account's unmatched events once
 * a tenant has that QuickBooks realm or Pax8 company id. */
#define WEBHOOK_REMATCH_KIND "webhooks.rematch"

/* Queues a rematch on the caller's portal_db connection (its transaction). */
bool webhooks_queue_rematch(struct db_conn *portal, const char *tenant_id, const char *provider,
			    const char *account_id, const char *request_id);

/*
 * Puts the account's unmatched events back to `received` (not enqueued),
 * locked inside the caller's transaction; ids are heap strings the caller
 * frees (each and the array).
 */
bool webhooks_reopen_unmatched(struct db_conn *c, const char *provider, const char *account_id,
			       char ***ids, int *n);

/*
 * Queues one job per event id in portal_db (one transaction on `portal`),
 * then marks the events enqueued on `billing`. False when either failed:
 * the events stay unenqueued and the sweep queues them later.
 */
bool webhooks_enqueue_processing(struct db_conn *portal, struct db_conn *billing, char *const *ids,
				  int n, const char *request_id);

#endif
