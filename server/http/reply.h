/*
 * reply.h - the one way handlers answer. Each reply_* function builds the
 * response and records it on the request; http.c queues it, adds the common
 * headers (X-Request-Id, security headers) and logs the line.
 *
 * Problem JSON (RFC 9457) is built only here, by reply_problem().
 */
#ifndef ATRIUM_REPLY_H
#define ATRIUM_REPLY_H

#include <jansson.h>

#include "server/store/db.h"
#include "server/store/status.h"

struct request;

/* Sends `body` (stolen) as application/json with `status`. */
void reply_json(struct request *r, int status, json_t *body);
/* Sends bytes as-is with the given content type (copied). */
void reply_bytes(struct request *r, int status, const char *content_type, const void *data,
		 size_t len);
void reply_empty(struct request *r, int status);
/*
 * Sends an application/problem+json body. `code` names the problem type
 * (its URI is https://atrium.dev/problems/<code>); `errors` (stolen, may be
 * NULL) is the errors[] array of {field, message}.
 */
void reply_problem(struct request *r, int status, const char *code, const char *title,
		   const char *detail, json_t *errors);
/*
 * Sends a body made piece by piece as the client takes it (chunked):
 * read(state, buf, max) fills buf with up to max bytes and returns their
 * number (> 0), 0 at the end, -1 on a failure after the status was sent (the
 * connection is then cut, so the client sees an incomplete body); done(state)
 * runs once the response is finished with, sent or not. An in-process
 * request reads it all at once.
 */
struct reply_stream {
	long (*read)(void *state, char *buf, size_t max);
	void (*done)(void *state);
	void *state;
};
void reply_stream(struct request *r, int status, const char *content_type,
		  const struct reply_stream *s);
/* Adds a header to the response already built by a reply_* call. */
void reply_header(struct request *r, const char *name, const char *value);

/* Common problems, so titles stay consistent. */
void reply_not_found(struct request *r);
void reply_forbidden(struct request *r, const char *detail);
void reply_unavailable(struct request *r, const char *what);
void reply_internal(struct request *r);

/*
 * THE map from a service's result to a reply: one table of HTTP status,
 * problem type, title and detail per enum status value (ST_OK is not a
 * problem: it answers 500, a handler bug). `svc` names the database for
 * ST_UNAVAILABLE's detail ("portal_db failed").
 */
void reply_status(struct request *r, enum status st, enum db_service svc);
/* 503 naming the database: "<db> is unreachable" / "<db> failed". */
void reply_db_unreachable(struct request *r, enum db_service svc);
void reply_db_failed(struct request *r, enum db_service svc);
/* The HTTP status reply_status() would send, for tests and logs. */
int reply_status_code(enum status st);

/* Problem error list helper: appends {field, message} to *errors
 * (created on first use). */
void problem_add_error(json_t **errors, const char *field, const char *message);

#endif
