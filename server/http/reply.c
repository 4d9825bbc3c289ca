/*
 * reply.c - building responses. The only place problem JSON is made.
 */
#include "server/http/reply.h"
#include "server/http/http.h"
#include "server/common/log.h"

#include <stdlib.h>
#include <string.h>

static void set_response(struct request *r, int status, struct MHD_Response *resp)
{
	if (r->response)
		MHD_destroy_response(r->response);
	r->response = resp;
	r->status = status;
}

void reply_bytes(struct request *r, int status, const char *content_type, const void *data,
		 size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
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
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", type);
	set_response(r, status, resp);
}

void reply_json(struct request *r, int status, json_t *body)
{
	reply_json_typed(r, status, body, "application/json");
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

void reply_problem(struct request *r, int status, const char *code, const char *title,
		   const char *detail, json_t *errors)
{
	json_t *p = json_object();
	json_object_set_new(p, "type", json_sprintf("https://atrium.dev/problems/%s", code));
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
	static const char fmt[] =
		"{\"type\":\"https://atrium.dev/problems/internal\",\"title\":\"Internal Server Error\","
		"\"status\":500,\"detail\":\"An unexpected error occurred; it has been logged.\","
		"\"request_id\":\"%s\"}";
	char buf[sizeof(fmt) + sizeof(r->request_id)];
	int n = snprintf(buf, sizeof(buf), fmt, r->request_id);
	if (n < 0)
		n = 0;
	/* Never more than was written, whatever the id's length. */
	size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	reply_bytes(r, 500, "application/problem+json", buf, len);
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
