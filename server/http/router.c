/*
 * router.c - matches method and path against the merged route tables.
 *
 * Patterns are split into segments once, at router_add(); matching is a
 * linear walk over the routes (a few dozen), comparing segments without
 * allocating, then copying captured params into the request arena.
 */
#include "server/http/router.h"
#include "server/http/http.h"
#include "server/common/metrics.h"
#include "server/common/util.h"

#include <stdio.h>
#include <string.h>

#define MAX_ROUTES (METRICS_MAX_ROUTES - 1)
#define MAX_SEGS 8

struct compiled {
	const struct route *route;
	int nsegs;
	const char *seg[MAX_SEGS];
	size_t seglen[MAX_SEGS];
	bool param[MAX_SEGS];
	bool tenant_scoped;   /* /v1/tenants/{tenant_id}/... : params[0] is the tenant */
};

static struct compiled routes[MAX_ROUTES];
static int nroutes;

static const struct {
	unsigned bit;
	const char *name;
} method_names[] = {
	{HTTP_GET, "GET"},       {HTTP_HEAD, "HEAD"},     {HTTP_POST, "POST"},
	{HTTP_PUT, "PUT"},       {HTTP_PATCH, "PATCH"},   {HTTP_DELETE, "DELETE"},
	{HTTP_OPTIONS, "OPTIONS"},
};

void router_reset(void)
{
	nroutes = 0;
}

int router_count(void)
{
	return nroutes;
}

static int split(const char *path, const char **seg, size_t *len, int max)
{
	int n = 0;
	const char *p = path;
	if (*p != '/')
		return -1;
	while (*p == '/') {
		p++;
		const char *start = p;
		while (*p && *p != '/')
			p++;
		if (p == start && *p == '\0' && n > 0)
			return -1; /* trailing slash */
		if (n == max)
			return -1;
		seg[n] = start;
		len[n] = (size_t)(p - start);
		n++;
	}
	return n;
}

void router_add(const struct route *table, size_t n)
{
	for (size_t i = 0; i < n && nroutes < MAX_ROUTES; i++) {
		struct compiled *c = &routes[nroutes];
		c->route = &table[i];
		c->nsegs = split(table[i].pattern, c->seg, c->seglen, MAX_SEGS);
		for (int s = 0; s < c->nsegs; s++)
			c->param[s] = c->seglen[s] > 2 && c->seg[s][0] == '{';
		c->tenant_scoped = c->nsegs >= 3 && c->seglen[2] == 11 &&
				   memcmp(c->seg[2], "{tenant_id}", 11) == 0 && c->seglen[1] == 7 &&
				   memcmp(c->seg[1], "tenants", 7) == 0;
		/* The metrics label is the route template, never the raw path;
		 * the method is the request's (metrics_observe_request). */
		metrics_set_route_name(nroutes, table[i].pattern);
		nroutes++;
	}
	metrics_set_route_name(ROUTE_ID_UNMATCHED, "unmatched");
}

void router_allow_header(unsigned methods, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	if (methods & HTTP_GET)
		methods |= HTTP_HEAD;
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
		if (!(methods & method_names[i].bit))
			continue;
		int w = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", method_names[i].name);
		if (w < 0 || (size_t)w >= len - off)
			break;
		off += (size_t)w;
	}
}

enum route_match router_match(struct request *r, unsigned *allowed)
{
	const char *seg[MAX_SEGS];
	size_t len[MAX_SEGS];
	int n = split(r->path, seg, len, MAX_SEGS);
	*allowed = 0;
	if (n < 0)
		return ROUTE_NOT_FOUND;
	unsigned m = r->method == HTTP_HEAD ? HTTP_GET : r->method;
	for (int i = 0; i < nroutes; i++) {
		struct compiled *c = &routes[i];
		if (c->nsegs != n)
			continue;
		bool ok = true;
		for (int s = 0; s < n && ok; s++) {
			if (c->param[s])
				ok = len[s] > 0;
			else
				ok = len[s] == c->seglen[s] && memcmp(seg[s], c->seg[s], len[s]) == 0;
		}
		if (!ok)
			continue;
		if (!(c->route->methods & m)) {
			*allowed |= c->route->methods;
			continue;
		}
		r->route = c->route;
		r->route_id = i;
		r->n_params = 0;
		for (int s = 0; s < n && r->n_params < REQ_MAX_PARAMS; s++) {
			if (!c->param[s])
				continue;
			char *v = arena_strndup(&r->arena, seg[s], len[s]);
			/* UUIDs compare case-insensitively, but the tenant scope
			 * of the database (RLS) compares text: the tenant id
			 * gets one spelling, lower case, from here on. */
			if (c->tenant_scoped && r->n_params == 0)
				for (char *t = v; *t; t++)
					*t = (char)(*t >= 'A' && *t <= 'Z' ? *t + 32 : *t);
			r->params[r->n_params++] = v;
		}
		r->tenant_id = c->tenant_scoped ? r->params[0] : NULL;
		return ROUTE_FOUND;
	}
	return *allowed ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}
