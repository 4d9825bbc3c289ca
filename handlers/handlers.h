/*
 * handlers.h - every handler module's route table, wired into the router
 * by main(), and the helpers handlers share.
 */
#ifndef ATRIUM_HANDLERS_H
#define ATRIUM_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>

#include "server/http/http.h"
#include "server/store/idempotency.h"
#include "services/portal.h"
#include "server/http/router.h"

#define ROUTES(name)                          \
	extern const struct route name##_routes[]; \
	extern const size_t name##_routes_len

/*
 * The field tables a handler validates request bodies with, exported so
 * the fuzzers and tests drive the very tables the server uses (never
 * copies). min_fields is validate_body_or_reply()'s: 1 for a PATCH.
 */
struct body_table {
	const char *name;
	const struct field_spec *fields;
	size_t n, min_fields;
};
#define BODIES(name)                                       \
	extern const struct body_table name##_bodies[];     \
	extern const size_t name##_bodies_len

BODIES(tenants);
BODIES(events);
BODIES(namespaces);
BODIES(payments);
BODIES(bets);
BODIES(catalog);

ROUTES(ops);
ROUTES(problems);
ROUTES(me);
ROUTES(tenants);
ROUTES(audit);
ROUTES(jobs);
ROUTES(auth_flow);
ROUTES(namespaces);
ROUTES(webhooks);
ROUTES(billing_reads);
ROUTES(integrations);

/* atrium_webhook_deliveries_total, for the /metrics gauge writer. */
void webhook_metrics_write(char **buf, size_t *len, size_t *cap);
ROUTES(events);
ROUTES(bets);
ROUTES(payments);
ROUTES(wallet);
ROUTES(catalog);

/* Audit actor and request id of this request. */
struct audit_ctx handler_audit_ctx(struct request *r);

/*
 * Records a change made in another service's database (betting_db,
 * billing_db) in portal_db's audit log, on the request's own portal_db
 * lease (scoped to the tenant; released by the request): after that
 * change's commit, so best effort, and logged when it fails. Changes in
 * portal_db write their record in their own statement instead.
 * `changes` is borrowed.
 */
void handler_audit(struct request *r, const char *tenant, const char *action, const char *type,
		   const char *id, json_t *changes);

/* Sends JSON text produced by the database, without reparsing it. */
void reply_json_text(struct request *r, int status, const char *json);

/* Strong ETag for a resource version: "\"<version>\"" (arena). */
char *handler_etag(struct request *r, long long version);

/*
 * Reads If-Match: *out = -1 when absent or "*". False after answering 412
 * when it names no version this server could have issued.
 */
bool handler_if_match_or_reply(struct request *r, long long *out);

/* The request's Idempotency-Key header, NULL when absent. False after
 * answering 400 for a malformed one. */
bool handler_idem_key_or_reply(struct request *r, const char **key);

/*
 * Claims `key` (not NULL) in `scope` inside the transaction already open
 * on c. True: proceed with the write, then idem_finish() and COMMIT.
 * False: the transaction was rolled back and the answer sent — the
 * original response replayed (through `replay`, or as stored when NULL),
 * 422 for a key reused with another request, or 503; with `in_progress`
 * given, a database failure is left unanswered and flagged there instead.
 */
bool handler_idem_claim_or_reply(struct request *r, struct db_conn *c, const char *scope,
				 const char *key,
				 void (*replay)(struct request *r, const struct idem_record *rec),
				 bool *in_progress);
/* Sends a stored response again, marked Idempotent-Replayed. */
void handler_idem_replay(struct request *r, const struct idem_record *rec);
void handler_idem_mismatch(struct request *r);

/*
 * Content negotiation for reads offered as JSON and (csv_ok) CSV: the
 * format Accept asks for (no Accept, application/json or any type: JSON;
 * text/csv first when offered; ranges with q=0 refused); FMT_NONE after
 * answering 406 not-acceptable.
 */
enum reply_format { FMT_JSON, FMT_CSV, FMT_NONE };
enum reply_format handler_format_or_reply(struct request *r, bool csv_ok);

/* Canonical hash of this request for Idempotency-Key comparison. */
void handler_request_hash(struct request *r, char out[65]);

#endif
