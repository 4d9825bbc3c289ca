/*
 * reply.c - building responses. The only place problem JSON is made.
 */
#include "server/http/reply.h"
#include "server/common/config.h"
#include "server/http/http.h"
#include "server/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_response(struct request *r, int status, struct MHD_Response *resp)
{
	if (r->response)
		MHD_destroy_response(r->response);
	r->response = resp;
	r->status = status;
}

/* An in-process request (no connection) keeps the body for its caller:
 * libmicrohttpd offers no way to read it back from the response. */
static void keep_body(struct request *r, const void *data, size_t len)
{
	if (r->conn != NULL)
		return;
	r->reply_body = arena_strndup(&r->arena, data, len);
	r->reply_len = len;
}

void reply_bytes(struct request *r, int status, const char *content_type, const void *data,
		 size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	keep_body(r, data, len);
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	set_response(r, status, resp);
}

static void reply_json_typed(struct request *r, int status, json_t *body, const char *type)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (s == NULL) {
		reply_internal(r);
		return;
	}
	keep_body(r, s, strlen(s));
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", type);
	set_response(r, status, resp);
}

void reply_json(struct request *r, int status, json_t *body)
{
	reply_json_typed(r, status, body, "application/json");
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct reply_stream *s = cls;
	long n = s->read(s->state, buf, max);
	if (n > 0)
		return (ssize_t)n;
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
	struct reply_stream *s = cls;
	s->done(s->state);
	free(s);
}

void reply_stream(struct request *r, int status, const char *content_type,
		  const struct reply_stream *s)
{
	if (r->conn == NULL) {
		/* In-process: the whole body, kept for the caller. */
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		char buf[16384];
		long n;
		while (mem && (n = s->read(s->state, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, mem);
		if (mem)
			fclose(mem);
		s->done(s->state);
		reply_bytes(r, status, content_type, text ? text : "", text ? len : 0);
		free(text);
		return;
	}
	struct reply_stream *own = xmalloc(sizeof(*own));
	*own = *s;
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, own, stream_free);
	if (resp == NULL) {
		stream_free(own);
		reply_internal(r);
		return;
	}
	MHD_add_response_header(resp, "Content-Type", content_type);
	set_response(r, status, resp);
}

void reply_empty(struct request *r, int status)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	set_response(r, status, resp);
}

void reply_header(struct request *r, const char *name, const char *value)
{
	if (r->response)
		MHD_add_response_header(r->response, name, value);
}

/* The origin problem types live under ("" before the configuration is
 * loaded, as in unit tests: the type is then a relative reference). */
static const char *problem_base(void)
{
	return cfg.public_url ? cfg.public_url : "";
}

void reply_problem(struct request *r, int status, const char *code, const char *title,
		   const char *detail, json_t *errors)
{
	json_t *p = json_object();
	/* Resolves: this server serves the catalogue (handlers/problems.c). */
	json_object_set_new(p, "type", json_sprintf("%s/problems/%s", problem_base(), code));
	json_object_set_new(p, "title", json_string(title));
	json_object_set_new(p, "status", json_integer(status));
	json_object_set_new(p, "detail", json_string(detail ? detail : title));
	if (r->path) {
		/* instance is the client's path: bounded, and dropped if not UTF-8. */
		json_t *inst = json_stringn(r->path, strnlen(r->path, 512));
		if (inst)
			json_object_set_new(p, "instance", inst);
	}
	json_object_set_new(p, "request_id", json_string(r->request_id));
	if (errors)
		json_object_set_new(p, "errors", errors);
	reply_json_typed(r, status, p, "application/problem+json");
}

void reply_not_found(struct request *r)
{
	reply_problem(r, 404, "not-found", "Not Found",
		      "No resource exists at this path, or it is not visible to you.", NULL);
}

void reply_forbidden(struct request *r, const char *detail)
{
	reply_problem(r, 403, "forbidden", "Forbidden",
		      detail ? detail : "Your role does not allow this action.", NULL);
}

void reply_unavailable(struct request *r, const char *what)
{
	reply_problem(r, 503, "unavailable", "Service Unavailable", what, NULL);
	reply_header(r, "Retry-After", "1");
}

void reply_internal(struct request *r)
{
	/* Built by hand: reply_internal must not fail the way it reports. */
	/* (public_url is an origin: config.c allows no character JSON escapes.) */
	static const char fmt[] =
		"{\"type\":\"%s/problems/internal\",\"title\":\"Internal Server Error\","
		"\"status\":500,\"detail\":\"An unexpected error occurred; it has been logged.\","
		"\"request_id\":\"%s\"}";
	char buf[sizeof(fmt) + 512 + sizeof(r->request_id)];
	int n = snprintf(buf, sizeof(buf), fmt, problem_base(), r->request_id);
	if (n < 0)
		n = 0;
	/* Never more than was written, whatever the id's length. */
	size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	reply_bytes(r, 500, "application/problem+json", buf, len);
}

/* ---- the status table --------------------------------------------------- */

static const struct {
	int http;
	const char *code, *title, *detail;
} status_table[ST_COUNT] = {
	[ST_OK] = {500, "internal", "Internal Server Error", "A success was answered as a problem."},
	[ST_NOT_FOUND] = {404, "not-found", "Not Found",
			  "No resource exists at this path, or it is not visible to you."},
	[ST_CONFLICT] = {409, "conflict", "Conflict", "The change conflicts with the resource's state."},
	[ST_PRECONDITION] = {412, "precondition-failed", "Precondition Failed",
			     "If-Match does not match the resource's current ETag."},
	[ST_GONE] = {409, "deleted", "Conflict", "A deleted resource cannot be changed."},
	[ST_FINAL] = {409, "event-final", "Conflict",
		      "The event is settled or cancelled: it cannot change any more."},
	[ST_INVALID] = {422, "validation", "Unprocessable Content",
			"The request body has invalid fields; see errors."},
	[ST_ALREADY] = {409, "conflict", "Conflict", "This was done before."},
	[ST_INSUFFICIENT] = {422, "insufficient-funds", "Unprocessable Content",
			     "The wallet's balance does not cover this amount; nothing was moved."},
	[ST_LIMIT] = {422, "balance-limit", "Unprocessable Content",
		      "The wallet's balance would exceed the largest amount it can hold; nothing was moved."},
	[ST_NO_SELECTION] = {422, "validation", "Unprocessable Content", "The event has no such selection."},
	[ST_CLOSED] = {409, "betting-closed", "Conflict", "The event takes no bets now."},
	[ST_ODDS_CHANGED] = {409, "odds-changed", "Conflict", "The odds have changed."},
	[ST_DUPLICATE] = {409, "idempotency-key-in-use", "Conflict",
			  "A request with this Idempotency-Key is still being processed; retry later."},
	[ST_UNAVAILABLE] = {503, "unavailable", "Service Unavailable", "A database failed."},
	[ST_BUSY] = {429, "exports-busy", "Too Many Requests",
		     "As many CSV exports as this server streams at once are being downloaded; "
		     "retry after Retry-After seconds."},
};

int reply_status_code(enum status st)
{
	return st >= 0 && st < ST_COUNT ? status_table[st].http : 500;
}

void reply_status(struct request *r, enum status st, enum db_service svc)
{
	if (st < 0 || st >= ST_COUNT) {
		reply_internal(r);
		return;
	}
	if (st == ST_UNAVAILABLE) {
		reply_db_failed(r, svc);
		return;
	}
	if (st == ST_OK)
		log_error("reply_status: a success (ST_OK) was answered as a problem");
	reply_problem(r, status_table[st].http, status_table[st].code, status_table[st].title,
		      status_table[st].detail, NULL);
	if (st == ST_BUSY) /* a download takes a while: no sooner than that */
		reply_header(r, "Retry-After", "5");
}

void reply_db_unreachable(struct request *r, enum db_service svc)
{
	reply_unavailable(r, arena_printf(&r->arena, "%s is unreachable", db_service_name(svc)));
}

void reply_db_failed(struct request *r, enum db_service svc)
{
	reply_unavailable(r, arena_printf(&r->arena, "%s failed", db_service_name(svc)));
}

void problem_add_error(json_t **errors, const char *field, const char *message)
{
	if (*errors == NULL)
		*errors = json_array();
	json_t *e = json_object();
	json_object_set_new(e, "field", json_string(field));
	json_object_set_new(e, "message", json_string(message));
	json_array_append_new(*errors, e);
}
