/*
 * http.c - libmicrohttpd glue: the request object's life, body intake,
 * authentication, rate limits, dispatch to the router's handler, common
 * headers, the log line and metrics.
 *
 * Threading: MHD runs a pool of epoll threads (ATRIUM_THREADS); a handler
 * runs on the thread that owns its connection and may block on the
 * database, so the pool is sized above the core count.
 */
#include "server/http/http.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/store/redis.h"
#include "server/http/reply.h"
#include "server/http/router.h"
#include "server/auth/session.h"
#include "server/http/static.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <unistd.h>

/* Oversize bodies up to this size are read and dropped so the client can
 * read its 413; larger ones get the answer and a closed connection. */
#define DISCARD_CAP_BYTES (64ull * 1024 * 1024)

static struct MHD_Daemon *daemon_;
/* Requests between their first callback and their completion, for the
 * drain on SIGTERM. */
static atomic_int inflight;
static char *tls_cert_pem, *tls_key_pem;

/* ---- request object --------------------------------------------------- */

static enum http_method parse_method(const char *m)
{
	static const struct {
		const char *name;
		enum http_method m;
	} t[] = {{"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
		 {"PUT", HTTP_PUT},     {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE},
		 {"OPTIONS", HTTP_OPTIONS}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].name, m) == 0)
			return t[i].m;
	return HTTP_OTHER;
}

static bool sane_request_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

void http_forwarded_client_ip(const char *xff, const char *trusted, char *client_ip, size_t len)
{
	/* From the header's real end: the hops a trusted proxy appended are
	 * last. (Reading only its first 1024 bytes let a client who sent a
	 * longer header have its own last hop taken as its address.) Each hop
	 * is looked at once, and libmicrohttpd bounds the header's size. */
	size_t n = xff ? strlen(xff) : 0;
	while (n > 0) {
		size_t end = n;
		while (n > 0 && xff[n - 1] != ',')
			n--;
		size_t start = n;
		while (start < end && xff[start] == ' ')
			start++;
		while (end > start && xff[end - 1] == ' ')
			end--;
		char hop[64];
		if (end > start && end - start < sizeof(hop)) {
			memcpy(hop, xff + start, end - start);
			hop[end - start] = '\0';
			unsigned char tmp[16];
			bool valid = inet_pton(strchr(hop, ':') ? AF_INET6 : AF_INET, hop, tmp) == 1;
			if (!valid)
				break;
			snprintf(client_ip, len, "%s", hop);
			if (!util_ip_in_list(hop, trusted))
				break;
		} else {
			break;
		}
		if (n > 0)
			n--; /* past the comma */
	}
}

/* What every request starts with, however it arrived. */
static struct request *request_alloc(const char *method, const char *url, const char *rid,
				     const char *traceparent, const char *tracestate)
{
	struct request *r = xcalloc(1, sizeof(*r));
	atomic_fetch_add(&inflight, 1);
	r->start_ns = util_now_ns();
	r->method = parse_method(method);
	r->method_name = method;
	r->path = url;
	r->route_id = ROUTE_ID_UNMATCHED;
	if (sane_request_id(rid))
		snprintf(r->request_id, sizeof(r->request_id), "%s", rid);
	else
		util_uuid_v4(r->request_id);
	/* A malformed traceparent is ignored (W3C: restart the trace), never
	 * refused. */
	struct trace_parent tp;
	if (trace_parse_traceparent(traceparent, &tp))
		trace_span_start_remote(&r->span, &tp, tracestate, TRACE_SERVER);
	else
		trace_span_start(&r->span, NULL, TRACE_SERVER);
	return r;
}

/* Behind trusted proxies the client is the last X-Forwarded-For hop that
 * is not itself one of them. */
static void client_behind_proxies(struct request *r)
{
	if (cfg.trusted_proxies && util_ip_in_list(r->client_ip, cfg.trusted_proxies)) {
		const char *xff = req_header(r, "X-Forwarded-For");
		http_forwarded_client_ip(xff, cfg.trusted_proxies, r->client_ip, sizeof(r->client_ip));
	}
}

static struct request *request_new(struct MHD_Connection *conn, const char *url, const char *method)
{
	struct request *r = request_alloc(method, url,
					  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id"),
					  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent"),
					  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "tracestate"));
	r->conn = conn;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->client_ip,
				  sizeof(r->client_ip));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->client_ip,
				  sizeof(r->client_ip));
	}
	if (r->client_ip[0] == '\0')
		snprintf(r->client_ip, sizeof(r->client_ip), "unknown");
	client_behind_proxies(r);
	return r;
}

static void request_free(struct request *r)
{
	for (int i = 0; i < DB_SERVICE_COUNT; i++)
		db_release(r->db[i]);
	json_decref(r->json);
	for (int i = 0; i < r->n_owned_json; i++)
		json_decref(r->owned_json[i]);
	if (r->response && !r->queued)
		MHD_destroy_response(r->response);
	free(r->body);
	arena_free(&r->arena);
	free(r);
	atomic_fetch_sub(&inflight, 1);
}

/* The value of `name` in an in-process {name, value, ..., NULL} list. */
static const char *inproc_lookup(const char *const *list, const char *name, bool nocase)
{
	for (; list && list[0] && list[1]; list += 2)
		if (nocase ? strcasecmp(list[0], name) == 0 : strcmp(list[0], name) == 0)
			return list[1];
	return NULL;
}

const char *req_header(struct request *r, const char *name)
{
	if (r->conn == NULL)
		return inproc_lookup(r->inproc_headers, name, true);
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_cookie(struct request *r, const char *name)
{
	if (r->conn == NULL)
		return inproc_lookup(r->inproc_cookies, name, false);
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *req_query(struct request *r, const char *name)
{
	if (r->conn == NULL)
		return inproc_lookup(r->inproc_query, name, false);
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct db_conn *req_db(struct request *r, enum db_service svc, const char *tenant)
{
	if (r->db[svc] == NULL) {
		r->db[svc] = db_acquire(svc);
		if (r->db[svc] == NULL)
			return NULL;
	}
	if (!db_scope(r->db[svc], tenant)) {
		db_release(r->db[svc]);
		r->db[svc] = NULL;
		return NULL;
	}
	return r->db[svc];
}

json_t *req_own_json(struct request *r, json_t *j)
{
	if (j == NULL)
		return NULL;
	if (r->n_owned_json == (int)(sizeof(r->owned_json) / sizeof(r->owned_json[0])))
		abort();
	r->owned_json[r->n_owned_json++] = j;
	return j;
}

struct db_conn *req_db_or_reply(struct request *r, enum db_service svc, const char *tenant)
{
	struct db_conn *c = req_db(r, svc, tenant);
	if (c == NULL)
		reply_db_unreachable(r, svc);
	return c;
}

/* ---- pipeline steps ----------------------------------------------------- */

static bool state_changing(const struct request *r)
{
	return r->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE);
}

bool http_csrf_ok_or_reply(struct request *r, const char *session_csrf)
{
	switch (session_csrf_check(req_header(r, "Origin"), req_header(r, "Referer"),
				   req_header(r, "X-CSRF-Token"), session_csrf, cfg.public_url)) {
	case CSRF_OK:
		return true;
	case CSRF_CROSS_SITE:
		reply_forbidden(r, "Cross-site request refused: Origin does not match this site.");
		return false;
	case CSRF_BAD_TOKEN:
		break;
	}
	reply_forbidden(r, "The X-CSRF-Token header is missing or does not match the session.");
	return false;
}

static bool cookie_auth_or_reply(struct request *r, const char *sid)
{
	char csrf[65];
	const char *why = NULL;
	switch (session_get(sid, &r->principal, csrf)) {
	case SESSION_UNAVAILABLE:
		reply_unavailable(r, "The session store (Redis) is unreachable.");
		return false;
	case SESSION_MISSING:
		reply_problem(r, 401, "unauthenticated", "Unauthorized",
			      "The session has expired or was signed out; sign in again.", NULL);
		reply_header(r, "WWW-Authenticate", "Bearer realm=\"atrium\"");
		return false;
	case SESSION_OK:
		break;
	}
	switch (auth_resolve(&r->principal, false, &why)) {
	case AUTH_OK:
		break;
	case AUTH_UNAVAILABLE:
		reply_unavailable(r, why);
		return false;
	case AUTH_INVALID:
		reply_problem(r, 401, "unauthenticated", "Unauthorized", why, NULL);
		reply_header(r, "WWW-Authenticate", "Bearer realm=\"atrium\"");
		return false;
	}
	if (state_changing(r) && !http_csrf_ok_or_reply(r, csrf))
		return false;
	r->authenticated = true;
	return true;
}

static bool authenticate_or_reply(struct request *r)
{
	const char *h = req_header(r, "Authorization");
	const char *sid = req_cookie(r, SESSION_COOKIE);
	if (h == NULL && sid != NULL)
		return cookie_auth_or_reply(r, sid);
	if (h == NULL) {
		reply_problem(r, 401, "unauthenticated", "Unauthorized",
			      "This endpoint needs a bearer token (Authorization: Bearer <JWT>).", NULL);
		reply_header(r, "WWW-Authenticate", "Bearer realm=\"atrium\"");
		return false;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		reply_problem(r, 401, "unauthenticated", "Unauthorized",
			      "The Authorization header must use the Bearer scheme.", NULL);
		reply_header(r, "WWW-Authenticate", "Bearer realm=\"atrium\"");
		return false;
	}
	const char *token = h + 7;
	while (*token == ' ')
		token++;
	const char *why = "the token is not valid";
	switch (auth_bearer(token, &r->principal, &why)) {
	case AUTH_OK:
		r->authenticated = true;
		return true;
	case AUTH_UNAVAILABLE:
		reply_unavailable(r, why);
		return false;
	case AUTH_INVALID:
		break;
	}
	reply_problem(r, 401, "invalid-token", "Unauthorized", why, NULL);
	char *www = arena_printf(&r->arena,
				 "Bearer realm=\"atrium\", error=\"invalid_token\", error_description=\"%s\"",
				 why);
	reply_header(r, "WWW-Authenticate", www);
	return false;
}

/*
 * The two limits, taken at two moments: the per-address one before
 * authentication (so failed authentications, 401s, count against the
 * address that sends them: guessing and forging cost the attacker its own
 * quota), the per-tenant one once the caller's tenant is known.
 */
static bool rate_limit_or_reply(struct request *r, bool tenant)
{
	char key[80];
	int limit;
	if (tenant) {
		if (!r->authenticated || r->principal.tenant_id[0] == '\0' || cfg.rate_limit_tenant <= 0)
			return true;
		snprintf(key, sizeof(key), "t:%s", r->principal.tenant_id);
		limit = cfg.rate_limit_tenant;
	} else {
		if (cfg.rate_limit_ip <= 0)
			return true;
		snprintf(key, sizeof(key), "ip:%s", r->client_ip);
		limit = cfg.rate_limit_ip;
	}
	int retry = 60, remaining = -1;
	enum rl_result rl = redis_rate_limit(key, limit, NULL, 0, &retry, &remaining);
	if (rl != RL_ERROR && remaining >= 0 && r->n_rl < (int)(sizeof(r->rl) / sizeof(r->rl[0])))
		r->rl[r->n_rl++] = (struct rl_seen){tenant ? "tenant" : "address", limit, remaining, retry};
	if (rl == RL_ERROR) {
		/* Bearer callers are not locked out by a Redis outage; it is counted
		 * and alerted on through atrium_redis_errors_total. */
		return true;
	}
	if (rl == RL_ALLOW)
		return true;
	metrics_inc(M_RATE_LIMITED);
	reply_problem(r, 429, "rate-limited", "Too Many Requests",
		      "The request rate limit for this tenant or address was exceeded; retry later.", NULL);
	char ra[16];
	snprintf(ra, sizeof(ra), "%d", retry);
	reply_header(r, "Retry-After", ra);
	return false;
}

static bool json_content_type(const char *ct)
{
	if (ct == NULL)
		return false;
	size_t n = strcspn(ct, ";");
	while (n > 0 && ct[n - 1] == ' ')
		n--;
	if ((n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	    (n == 28 && strncasecmp(ct, "application/merge-patch+json", 28) == 0))
		return true;
	return false;
}

static bool parse_body_or_reply(struct request *r)
{
	if (r->method != HTTP_POST && r->method != HTTP_PUT && r->method != HTTP_PATCH)
		return true;
	if (r->route->body == BODY_NONE)
		return true;
	if (r->route->body == BODY_RAW)
		return true;
	if (!json_content_type(req_header(r, "Content-Type"))) {
		reply_problem(r, 415, "unsupported-media-type", "Unsupported Media Type",
			      "The request body must be JSON (Content-Type: application/json).", NULL);
		return false;
	}
	json_error_t err;
	r->json = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &err);
	if (r->json == NULL) {
		char *detail = arena_printf(&r->arena, "The body is not valid JSON: %s (line %d, column %d).",
					    err.text, err.line, err.column);
		reply_problem(r, 400, "malformed-json", "Bad Request", detail, NULL);
		return false;
	}
	if (!json_is_object(r->json)) {
		reply_problem(r, 400, "malformed-json", "Bad Request", "The body must be a JSON object.", NULL);
		return false;
	}
	return true;
}

static void dispatch_route(struct request *r)
{
	unsigned allowed = 0;
	switch (router_match(r, &allowed)) {
	case ROUTE_NOT_FOUND:
		if ((r->method == HTTP_GET || r->method == HTTP_HEAD) && static_serve(r))
			return;
		reply_not_found(r);
		return;
	case ROUTE_BAD_METHOD: {
		char allow[96];
		router_allow_header(allowed, allow, sizeof(allow));
		reply_problem(r, 405, "method-not-allowed", "Method Not Allowed",
			      "This path does not accept that method; see the Allow header.", NULL);
		reply_header(r, "Allow", allow);
		return;
	}
	case ROUTE_FOUND:
		break;
	}
	if (!rate_limit_or_reply(r, false))
		return;
	if (r->route->auth == AUTH_REQUIRED && !authenticate_or_reply(r))
		return;
	if (!rate_limit_or_reply(r, true))
		return;
	if (r->authenticated && !(r->principal.roles & ROLE_SUPER_ADMIN) &&
	    auth_tenant_closed(r->principal.tenant_status)) {
		reply_forbidden(r, auth_tenant_closed_reason(r->principal.tenant_status));
		return;
	}
	if (r->authenticated && r->tenant_id) {
		switch (auth_tenant_access(&r->principal, r->tenant_id)) {
		case ACCESS_OK:
			break;
		case ACCESS_NOT_FOUND:
			reply_not_found(r);
			return;
		case ACCESS_SUSPENDED:
			reply_forbidden(r, auth_tenant_closed_reason(r->principal.tenant_status));
			return;
		case ACCESS_UNAVAILABLE:
			reply_unavailable(r, "portal_db is unreachable");
			return;
		}
	}
	if (r->route->roles != ROLE_ANY && !auth_has_role(&r->principal, r->route->roles)) {
		reply_forbidden(r, NULL);
		return;
	}
	if (!parse_body_or_reply(r))
		return;
	r->route->handler(r);
	if (r->response == NULL) {
		log_error("handler %s produced no response", r->route->name);
		reply_internal(r);
	}
}

/* Runs the pipeline with the request's span current on this thread, so
 * every log line and queued job of the handler carries it. (A thread of
 * the MHD pool interleaves connections: the span is set per callback.) */
static void dispatch(struct request *r)
{
	trace_set_current(&r->span);
	dispatch_route(r);
	trace_set_current(NULL);
}

/* Ends the request's span: route template, method and status. */
static void end_request_span(struct request *r, int status)
{
	if (!trace_exporting())
		return;
	const char *route = r->route ? r->route->pattern : "unmatched";
	char name[160];
	snprintf(name, sizeof(name), "%s %s", r->method_name, route);
	struct trace_attr a[] = {
		{"http.request.method", r->method_name, 0},
		{"http.route", route, 0},
		{"http.response.status_code", NULL, status},
		{"atrium.request_id", r->request_id, 0},
	};
	trace_span_end(&r->span, name, status >= 500 || status == 0, a, 4);
}

/* ---- in-process requests --------------------------------------------------- */

static void add_common_headers(struct request *r);

struct request *http_inproc_new(const struct inproc_request *in)
{
	struct request *r = request_alloc(in->method, in->path,
					  inproc_lookup(in->headers, "X-Request-Id", true),
					  inproc_lookup(in->headers, "traceparent", true),
					  inproc_lookup(in->headers, "tracestate", true));
	r->inproc_headers = in->headers;
	r->inproc_query = in->query;
	r->inproc_cookies = in->cookies;
	snprintf(r->client_ip, sizeof(r->client_ip), "%s", in->client_ip ? in->client_ip : "127.0.0.1");
	client_behind_proxies(r);
	if (in->body) {
		r->body_len = strlen(in->body);
		r->body = xstrndup(in->body, r->body_len);
	}
	return r;
}

struct request *http_inproc_run(const struct inproc_request *in)
{
	struct request *r = http_inproc_new(in);
	dispatch(r);
	if (r->response)
		add_common_headers(r);
	return r;
}

const char *http_inproc_reply_header(struct request *r, const char *name)
{
	return r->response ? MHD_get_response_header(r->response, name) : NULL;
}

void http_inproc_free(struct request *r)
{
	request_free(r);
}

/*
 * RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers-10:
 * Structured Field lists, one item per limit the request was counted
 * against), e.g.
 *   RateLimit-Policy: "address";q=600;w=60, "tenant";q=6000;w=60
 *   RateLimit: "address";r=597;t=41, "tenant";r=5980;t=41
 * r is approximate (see redis_rate_limit). Every 429 and 503 carries
 * Retry-After: the seconds to the window's end for a rate limit, else 1.
 */
static void add_rate_limit_headers(struct request *r)
{
	struct MHD_Response *resp = r->response;
	if (r->n_rl > 0) {
		char policy[160] = "", now[160] = "";
		size_t pl = 0, nl = 0;
		for (int i = 0; i < r->n_rl; i++) {
			const struct rl_seen *l = &r->rl[i];
			int a = snprintf(policy + pl, sizeof(policy) - pl, "%s\"%s\";q=%d;w=60",
					 i ? ", " : "", l->policy, l->quota);
			int b = snprintf(now + nl, sizeof(now) - nl, "%s\"%s\";r=%d;t=%d",
					 i ? ", " : "", l->policy, l->remaining, l->reset);
			if (a < 0 || b < 0 || (size_t)a >= sizeof(policy) - pl || (size_t)b >= sizeof(now) - nl)
				return;
			pl += (size_t)a;
			nl += (size_t)b;
		}
		MHD_add_response_header(resp, "RateLimit-Policy", policy);
		MHD_add_response_header(resp, "RateLimit", now);
	}
	if ((r->status == 429 || r->status == 503) &&
	    MHD_get_response_header(resp, "Retry-After") == NULL)
		MHD_add_response_header(resp, "Retry-After", "1");
}

static void add_common_headers(struct request *r)
{
	struct MHD_Response *resp = r->response;
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (MHD_get_response_header(resp, "Content-Security-Policy") == NULL)
		MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	if (cfg.tls_cert)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=63072000; includeSubDomains");
	if (MHD_get_response_header(resp, "Cache-Control") == NULL)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	add_rate_limit_headers(r);
}

static enum MHD_Result send_reply(struct request *r)
{
	add_common_headers(r);
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, r->response);
	MHD_destroy_response(r->response);
	r->queued = true;
	return ret;
}

static void reply_too_large(struct request *r)
{
	reply_problem(r, 413, "payload-too-large", "Content Too Large",
		      "The request body exceeds the configured maximum size.", NULL);
	reply_header(r, "Connection", "close");
}

/* ---- MHD callbacks --------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct request *r = *con_cls;
	if (r == NULL) {
		r = request_new(conn, url, method);
		*con_cls = r;
		/* Raw-body routes (webhooks) take smaller bodies than JSON ones;
		 * the route is known from the request line, before any body. */
		unsigned allowed = 0;
		r->body_limit = cfg.max_body_bytes;
		if (router_match(r, &allowed) == ROUTE_FOUND && r->route->body == BODY_RAW)
			r->body_limit = cfg.webhook_max_body_bytes;
		/*
		 * An announced oversize body is refused without being stored. A
		 * client waiting on "Expect: 100-continue" (curl does for large
		 * bodies) gets the 413 at once and sends nothing; any other client
		 * is already sending, so the body is discarded as it arrives and
		 * the 413 follows it (closing mid-upload would make the client see
		 * a reset instead of the answer). Past a hard cap we close anyway.
		 */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
		if (announced > r->body_limit) {
			r->body_too_large = true;
			const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
			if ((expect && strcasecmp(expect, "100-continue") == 0) ||
			    announced > DISCARD_CAP_BYTES) {
				reply_too_large(r);
				return send_reply(r);
			}
		}
		return MHD_YES;
	}
	if (r->queued) {
		/* Already answered (413): discard whatever still arrives. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->body_too_large)
			return MHD_YES;
		if (r->body_len + n > r->body_limit) {
			/* A chunked body grew past the limit: stop reading and close. */
			r->body_too_large = true;
			free(r->body);
			r->body = NULL;
			r->body_len = 0;
			return MHD_NO;
		}
		if (r->body_len + n + 1 > r->body_cap) {
			size_t cap = r->body_cap ? r->body_cap : 1024;
			while (cap < r->body_len + n + 1)
				cap *= 2;
			r->body = xrealloc(r->body, cap);
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, upload_data, n);
		r->body_len += n;
		r->body[r->body_len] = '\0';
		return MHD_YES;
	}
	if (r->body_too_large)
		reply_too_large(r);
	else
		dispatch(r);
	return send_reply(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	struct request *r = *con_cls;
	if (r == NULL)
		return;
	*con_cls = NULL;
	uint64_t dur = util_now_ns() - r->start_ns;
	int status = r->queued ? r->status : 0;
	metrics_observe_request(r->route_id, r->method_name, status, dur);
	end_request_span(r, status);
	enum log_level lvl = status >= 500 ? LOG_ERROR : LOG_INFO;
	if (!log_enabled(lvl)) {
		request_free(r);
		return;
	}

	json_t *f = json_object();
	json_object_set_new(f, "msg", json_string("request"));
	json_object_set_new(f, "method", json_string(r->method_name));
	json_object_set_new(f, "route", json_string(r->route ? r->route->pattern : "unmatched"));
	json_t *path = json_stringn(r->path, strnlen(r->path, 256));
	if (path)
		json_object_set_new(f, "path", path);
	json_object_set_new(f, "status", json_integer(status));
	json_object_set_new(f, "duration_ms", json_real((double)dur / 1e6));
	json_object_set_new(f, "request_id", json_string(r->request_id));
	json_object_set_new(f, "client", json_string(r->client_ip));
	if (r->authenticated) {
		if (r->principal.tenant_id[0])
			json_object_set_new(f, "tenant", json_string(r->principal.tenant_id));
		json_object_set_new(f, "user", json_string(r->principal.oid));
	}
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		json_object_set_new(f, "terminated", json_integer(toe));
	trace_set_current(&r->span);
	log_json(lvl, f);
	trace_set_current(NULL);
	request_free(r);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		size_t n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("mhd: %s", buf);
}

const char *http_library_version(void)
{
	return MHD_get_version();
}

bool http_start(void)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", cfg.listen_port);
	const char *host = strcmp(cfg.listen_host, "*") == 0 ? NULL : cfg.listen_host;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
		log_error("cannot resolve listen address %s", cfg.listen_host);
		return false;
	}

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg.tls_cert) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			log_error("libmicrohttpd was built without TLS support");
			freeaddrinfo(ai);
			return false;
		}
		tls_cert_pem = read_file(cfg.tls_cert);
		tls_key_pem = read_file(cfg.tls_key);
		if (tls_cert_pem == NULL || tls_key_pem == NULL) {
			log_error("cannot read ATRIUM_TLS_CERT or ATRIUM_TLS_KEY");
			freeaddrinfo(ai);
			return false;
		}
		flags |= MHD_USE_TLS;
	}

	struct MHD_OptionItem tls_opts[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert_pem},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key_pem},
		/* TLS 1.2 and 1.3 only. */
		{MHD_OPTION_HTTPS_PRIORITIES, 0,
		 (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};

	daemon_ = MHD_start_daemon(
		flags, cfg.listen_port, NULL, NULL, &on_request, NULL,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg.threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg.per_ip_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg.connection_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, &on_completed, NULL,
		MHD_OPTION_EXTERNAL_LOGGER, &on_mhd_log, NULL,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_ARRAY, cfg.tls_cert ? tls_opts : no_opts,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (daemon_ == NULL) {
		log_error("cannot listen on %s:%u", cfg.listen_host, cfg.listen_port);
		return false;
	}
	if (cfg.tls_cert)
		log_info("serving HTTPS (TLS 1.2+) on %s:%u with %d threads", cfg.listen_host,
			 cfg.listen_port, cfg.threads);
	else
		log_info("serving plain HTTP on %s:%u with %d threads: TLS is expected to be terminated "
			 "by an ingress (set ATRIUM_TLS_CERT and ATRIUM_TLS_KEY to serve HTTPS)",
			 cfg.listen_host, cfg.listen_port, cfg.threads);
	return true;
}

void http_stop(void)
{
	if (daemon_) {
		/* Stop accepting; let requests in flight finish and their answers
		 * go out (bounded by ATRIUM_DRAIN_SECONDS); then close what is left
		 * (idle keep-alive connections) and join the threads. */
		MHD_socket fd = MHD_quiesce_daemon(daemon_);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
		uint64_t deadline = util_now_ns() + (uint64_t)cfg.drain_s * 1000000000ull;
		while (atomic_load(&inflight) > 0 && util_now_ns() < deadline)
			usleep(20000);
		if (atomic_load(&inflight) > 0)
			log_warn("drain: %d requests still running after %d s; closing", atomic_load(&inflight),
				 cfg.drain_s);
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
	}
	free(tls_cert_pem);
	free(tls_key_pem);
	tls_cert_pem = tls_key_pem = NULL;
}
