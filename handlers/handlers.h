/*
 * handlers.h - every handler module's route table, wired into the router
 * by main(), and the helpers handlers share.
 */
#ifndef ATRIUM_HANDLERS_H
#define ATRIUM_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "portal.h"
#include "router.h"

#define ROUTES(name)                          \
	extern const struct route name##_routes[]; \
	extern const size_t name##_routes_len

ROUTES(ops);
ROUTES(me);
ROUTES(tenants);
ROUTES(audit);
ROUTES(jobs);
ROUTES(auth_flow);
ROUTES(namespaces);
ROUTES(webhooks);
ROUTES(billing_reads);

/* atrium_webhook_deliveries_total, for the /metrics gauge writer. */
void webhook_metrics_write(char **buf, size_t *len, size_t *cap);
ROUTES(events);
ROUTES(bets);
ROUTES(payments);
ROUTES(wallet);

/* Settlement and reconciliation job kinds (handlers/settlement.c). */
void settlement_register(void);
/* In `atrium worker`: asks for a reconciliation run at once. */
void settlement_worker_start(void);

/* Audit actor and request id of this request. */
struct audit_ctx handler_audit_ctx(struct request *r);

/* Sends JSON text produced by the database, without reparsing it. */
void reply_json_text(struct request *r, int status, const char *json);

/* Strong ETag for a resource version: "\"<version>\"" (arena). */
char *handler_etag(struct request *r, long long version);

/*
 * Reads If-Match: *out = -1 when absent or "*". False after answering 412
 * when it names no version this server could have issued.
 */
bool handler_if_match_or_reply(struct request *r, long long *out);

/* Canonical hash of this request for Idempotency-Key comparison. */
void handler_request_hash(struct request *r, char out[65]);

#endif
