/*
 * router.h - routes are data. Each handler module exports a table of
 * struct route; main() hands the tables to router_add(). Matching walks the
 * path segment by segment; `{name}` segments capture into req->params.
 */
#ifndef ATRIUM_ROUTER_H
#define ATRIUM_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "server/auth/auth.h"

struct request;
struct field_spec;

typedef void (*route_handler)(struct request *r);

enum route_auth {
	AUTH_NONE,      /* public: health, webhooks (they verify signatures) */
	AUTH_REQUIRED,  /* bearer token (or session cookie) */
};

enum route_body {
	BODY_NONE,      /* a body is ignored */
	BODY_JSON,      /* application/json object required */
	BODY_RAW,       /* raw bytes kept for the handler (webhooks) */
};

struct route {
	unsigned methods;           /* enum http_method bits */
	const char *pattern;        /* "/v1/tenants/{tenant_id}" */
	route_handler handler;
	enum route_auth auth;
	unsigned roles;             /* any of these roles passes; 0 = any caller */
	enum route_body body;
	const char *name;           /* stable id for logs, e.g. "tenants.get" */
};

void router_add(const struct route *table, size_t n);
void router_reset(void);

enum route_match { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/*
 * Finds the route for method+path and fills r->route, r->params.
 * On ROUTE_BAD_METHOD, *allowed receives the methods the path accepts.
 * Params point into the request arena.
 */
enum route_match router_match(struct request *r, unsigned *allowed);
/* Renders method bits as "GET, HEAD, POST" into buf. */
void router_allow_header(unsigned methods, char *buf, size_t len);
/* Number of routes registered (route ids are 0..n-1). */
int router_count(void);
/* Route id for unmatched requests, for metrics. */
#define ROUTE_ID_UNMATCHED (METRICS_MAX_ROUTES - 1)

#endif
