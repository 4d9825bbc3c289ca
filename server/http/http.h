/*
 * http.h - the request object and the HTTP server on libmicrohttpd.
 *
 * A request owns everything a handler touches: an arena for strings, the
 * parsed JSON body, database leases and the response. http.c frees them all
 * in the request-completed callback, so handlers never free on their paths.
 */
#ifndef ATRIUM_HTTP_H
#define ATRIUM_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/auth/auth.h"
#include "server/store/db.h"
#include "server/common/trace.h"
#include "server/common/util.h"

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_DELETE = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
	HTTP_OTHER = 1 << 7,
};

#define REQ_MAX_PARAMS 4

struct route;

struct request {
	struct MHD_Connection *conn;
	enum http_method method;
	const char *method_name;
	const char *path;              /* decoded path, owned by MHD */
	char request_id[129];
	char client_ip[64];
	struct arena arena;
	uint64_t start_ns;
	/* This request's span: a child of a valid incoming traceparent, else
	 * the root of a new trace. Current on its thread while it is worked. */
	struct trace_span span;

	/* body */
	char *body;
	size_t body_len, body_cap;
	size_t body_limit;             /* max body bytes for this request's route */
	bool body_too_large;
	bool body_started;
	json_t *json;                  /* parsed body, owned */

	/* routing */
	const struct route *route;
	int route_id;
	const char *params[REQ_MAX_PARAMS];
	int n_params;
	const char *tenant_id;         /* the path's {tenant_id}, on tenant routes */

	/* auth */
	struct principal principal;
	bool authenticated;

	/* rate limits this request was counted against ("address", "tenant"),
	 * sent back as RateLimit-Policy and RateLimit */
	struct rl_seen {
		const char *policy;
		int quota, remaining, reset;
	} rl[2];
	int n_rl;

	/* owned resources */
	struct db_conn *db[DB_SERVICE_COUNT];
	json_t *owned_json[16];        /* req_own_json() */
	int n_owned_json;

	/* response */
	struct MHD_Response *response;
	int status;
	bool queued;

	/* In-process requests (http_inproc_*, conn == NULL): what libmicrohttpd
	 * would have parsed, as NULL-terminated {name, value, ...} lists, and
	 * the reply's body, kept for the caller to read. */
	const char *const *inproc_headers;
	const char *const *inproc_query;
	const char *const *inproc_cookies;
	char *reply_body;              /* arena */
	size_t reply_len;
};

/*
 * In-process requests: the whole pipeline (router, authentication, rate
 * limits, tenant scope, roles, body checks, the handler, the reply) without
 * libmicrohttpd or a socket, for tests that drive handlers with a real
 * database. The lists are {name, value, ..., NULL} and borrowed until
 * http_inproc_free(). client_ip NULL means "127.0.0.1".
 */
struct inproc_request {
	const char *method, *path;
	const char *const *headers, *const *query, *const *cookies;
	const char *body;              /* may be NULL */
	const char *client_ip;
};
struct request *http_inproc_run(const struct inproc_request *in);
/* A request that has not been dispatched, for driving reply_* directly. */
struct request *http_inproc_new(const struct inproc_request *in);
/* A header of the reply, or NULL. */
const char *http_inproc_reply_header(struct request *r, const char *name);
void http_inproc_free(struct request *r);

/* Starts the daemon. Returns false (and logs why) on failure. */
bool http_start(void);
/* libmicrohttpd's version text, for `atrium version`. */
const char *http_library_version(void);

/* Behind trusted proxies (comma-separated addresses or CIDR blocks): the
 * client is the last X-Forwarded-For hop that is not itself a trusted
 * proxy. Walks xff from the right and overwrites client_ip (len bytes)
 * with each valid hop it passes; leaves it as it is when xff is NULL or
 * its last hop is not an address. Split out of request_new() for
 * tests/fuzz/fuzz_cookie_header. */
void http_forwarded_client_ip(const char *xff, const char *trusted, char *client_ip, size_t len);
/* Stops accepting, lets in-flight requests finish, and frees the daemon. */
void http_stop(void);

/* Request accessors. Returned strings are owned by MHD or the arena. */
const char *req_header(struct request *r, const char *name);
const char *req_query(struct request *r, const char *name);
/* A cookie of the request, or NULL. */
const char *req_cookie(struct request *r, const char *name);
/*
 * CSRF check for cookie-authenticated state changes: Origin (or Referer)
 * must be ATRIUM_PUBLIC_URL and X-CSRF-Token must equal the session's
 * token. False after answering 403.
 */
bool http_csrf_ok_or_reply(struct request *r, const char *session_csrf);

/* Leases a connection of `svc` for the rest of the request, scoped for RLS
 * to `tenant` ("*" for the whole platform). NULL when the database is
 * unreachable; the caller answers 503 with reply_unavailable(). */
struct db_conn *req_db(struct request *r, enum db_service svc, const char *tenant);
/* Hands a jansson root (may be NULL) to the request, which decrefs it in
 * its destructor; returns it. For temporaries a handler would otherwise
 * free on every path. At most 16 per request (more aborts: a bug). */
json_t *req_own_json(struct request *r, json_t *j);
/* As req_db(); NULL after answering 503 "<db> is unreachable". */
struct db_conn *req_db_or_reply(struct request *r, enum db_service svc, const char *tenant);

#endif
