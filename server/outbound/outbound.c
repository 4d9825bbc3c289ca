/*
 * outbound.c - the one libcurl exchange (Azure clients, identity
 * provider), and the classification of its answer. See outbound.h.
 *
 * Each call uses its own easy handle (no shared state between runner
 * threads); timeouts come from the configuration (or the request), redirects
 * are followed only when the request asks (discovery documents; never with
 * credentials: a bearer token must not travel to another host), and the
 * response body is bounded.
 */
#include "server/outbound/outbound.h"
#include "atrium_build.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/common/trace.h"
#include "server/common/util.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const target_names[OUT_TARGET_COUNT] = {
	[OUT_ENTRA] = "entra",
	[OUT_ARM] = "arm",
	[OUT_BLOB] = "blob",
	[OUT_IDP] = "idp",
	[OUT_PAX8] = "pax8",
	[OUT_INTUIT] = "intuit",
};

void outbound_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void outbound_global_cleanup(void)
{
	curl_global_cleanup();
}

const char *outbound_library_version(void)
{
	return curl_version();
}

char *outbound_escape(const char *s)
{
	/* A NULL handle is allowed since libcurl 7.82. */
	char *esc = curl_easy_escape(NULL, s, 0);
	if (esc == NULL)
		abort(); /* only fails on out-of-memory */
	char *out = xstrdup(esc);
	curl_free(esc);
	return out;
}

const char *outbound_target_name(enum outbound_target t)
{
	return t >= 0 && t < OUT_TARGET_COUNT ? target_names[t] : "other";
}

/* ---- the exchange ------------------------------------------------------ */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct outbound_response *r = ud;
	size_t n = size * nmemb;
	if (r->len + n > (r->limit ? r->limit : OUTBOUND_MAX_BODY)) {
		r->too_large = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (r->sink) {
		r->sink(ptr, n, r->sink_arg);
		r->len += n;
		return n;
	}
	r->body = xrealloc(r->body, r->len + n + 1);
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Copies the value of header line `line` into *slot when its name is `name`. */
static void take_header(const char *line, size_t len, const char *name, char **slot)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	const char *v = line + n + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	if ((size_t)(end - v) > 4096)
		return; /* no protocol header of ours is that long */
	free(*slot);
	*slot = xstrndup(v, (size_t)(end - v));
}

static void clear_headers(struct outbound_response *r)
{
	free(r->retry_after);
	free(r->location);
	free(r->async_operation);
	free(r->ms_error_code);
	free(r->content_type);
	r->retry_after = r->location = r->async_operation = r->ms_error_code = NULL;
	r->content_type = NULL;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct outbound_response *r = ud;
	size_t n = size * nmemb;
	/* A new status line (after 100 Continue): forget the earlier block. */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
		clear_headers(r);
	take_header(ptr, n, "Retry-After", &r->retry_after);
	take_header(ptr, n, "Location", &r->location);
	take_header(ptr, n, "Azure-AsyncOperation", &r->async_operation);
	take_header(ptr, n, "x-ms-error-code", &r->ms_error_code);
	take_header(ptr, n, "Content-Type", &r->content_type);
	return n;
}

static enum metric_outbound_outcome outcome_of(const struct outbound_response *r)
{
	if (r->curl_code == CURLE_OPERATION_TIMEDOUT)
		return MO_TIMEOUT;
	if (r->curl_code != CURLE_OK)
		return MO_NETWORK_ERROR;
	if (r->status >= 200 && r->status < 300)
		return MO_SUCCESS;
	if (r->status == 429)
		return MO_THROTTLED;
	if (r->status >= 500)
		return MO_SERVER_ERROR;
	return MO_CLIENT_ERROR;
}

/* Ends the span of a call: target, method, URL without its query (no
 * signatures or tokens), status. */
static void end_call_span(const struct trace_span *span, const struct outbound_request *req,
			  const struct outbound_response *resp)
{
	if (!trace_exporting())
		return;
	const char *target = outbound_target_name(req->target);
	char name[64], url[512];
	snprintf(name, sizeof(name), "%s %s", req->method, target);
	size_t n = strcspn(req->url, "?#");
	snprintf(url, sizeof(url), "%.*s", (int)(n < sizeof(url) ? n : sizeof(url) - 1), req->url);
	struct trace_attr a[] = {
		{"atrium.outbound.target", target, 0},
		{"http.request.method", req->method, 0},
		{"url.full", url, 0},
		{"http.response.status_code", NULL, resp->status},
		{"atrium.outbound.curl_code", NULL, resp->curl_code},
	};
	trace_span_end(span, name, resp->curl_code != 0 || resp->status >= 500 || resp->status == 0, a, 5);
}

bool outbound_perform(const struct outbound_request *req, struct outbound_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->limit = req->max_body;
	resp->sink = req->sink;
	resp->sink_arg = req->sink_arg;
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	uint64_t t0 = util_now_ns();
	struct trace_span span;
	bool spanned = false;
	if (c == NULL) {
		resp->curl_code = CURLE_FAILED_INIT;
		snprintf(resp->error, sizeof(resp->error), "curl_easy_init failed");
		goto cleanup;
	}
	for (const char *const *h = req->headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	/* The call is a child span of the thread's span (a job step, a
	 * request), or the root of its own trace (background refreshes). */
	trace_span_start(&span, trace_current(), TRACE_CLIENT);
	spanned = true;
	{
		char tp[TRACEPARENT_LEN + 1], line[16 + TRACESTATE_MAX + 1];
		trace_format_traceparent(&span, tp);
		snprintf(line, sizeof(line), "traceparent: %s", tp);
		hl = curl_slist_append(hl, line);
		if (span.tracestate[0]) {
			snprintf(line, sizeof(line), "tracestate: %s", span.tracestate);
			hl = curl_slist_append(hl, line);
		}
	}
	/* No "Expect: 100-continue" round trip on small bodies. */
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 (long)(req->timeout_ms > 0 ? req->timeout_ms : cfg.outbound_timeout_ms));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg.outbound_connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "atrium/" ATRIUM_VERSION);
	rc = curl_easy_perform(c);
	resp->curl_code = (int)rc;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	} else {
		resp->status = 0;
		snprintf(resp->error, sizeof(resp->error), "%s",
			 resp->too_large ? "the response body is larger than 1 MiB"
			 : errbuf[0]     ? errbuf
					 : curl_easy_strerror(rc));
	}
cleanup:
	resp->duration_ns = util_now_ns() - t0;
	metrics_observe_outbound((int)req->target, outbound_target_name(req->target), outcome_of(resp),
				 resp->duration_ns);
	if (spanned)
		end_call_span(&span, req, resp);
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	log_debug("outbound %s %s %s -> %ld (curl %d) in %.1f ms", outbound_target_name(req->target),
		  req->method, req->url, resp->status, resp->curl_code, (double)resp->duration_ns / 1e6);
	return resp->curl_code == CURLE_OK;
}

void outbound_response_free(struct outbound_response *r)
{
	free(r->body);
	r->body = NULL;
	clear_headers(r);
}

/* ---- classification ---------------------------------------------------- */

/* 409 codes meaning "what you create is already there". */
static const char *const already_exists_codes[] = {
	"ContainerAlreadyExists", /* Storage: Create Container */
	"RoleAssignmentExists",   /* ARM: same role, principal and scope under another name */
	NULL,
};

/* 4xx codes Azure documents as transient. */
static const char *const transient_codes[] = {
	"PrincipalNotFound",          /* Entra replication delay after a group is made */
	"ResourceGroupBeingDeleted",  /* an earlier namespace of this name is going away */
	"ContainerBeingDeleted",      /* Storage: a container of this name is going away */
	"AnotherOperationInProgress",
	"OperationNotAllowed_ConcurrentOperation",
	NULL,
};

static bool in_list(const char *const *list, const char *code)
{
	if (code == NULL)
		return false;
	for (; *list; list++)
		if (strcmp(*list, code) == 0)
			return true;
	return false;
}

enum outbound_class outbound_classify(enum outbound_verb verb, long status, int curl_code,
				      const char *error_code, bool *already)
{
	if (already)
		*already = false;
	if (curl_code != 0 || status == 0)
		return OUT_RETRY;
	if (status >= 200 && status < 300)
		return OUT_OK;
	if (verb == OUT_DELETE && status == 404) {
		if (already)
			*already = true;
		return OUT_OK;
	}
	if (verb == OUT_CREATE && status == 409 && in_list(already_exists_codes, error_code)) {
		if (already)
			*already = true;
		return OUT_OK;
	}
	if (status == 408 || status == 429 || status >= 500 || status == 401)
		return OUT_RETRY;
	if (status >= 400 && status < 500 && in_list(transient_codes, error_code))
		return OUT_RETRY;
	return OUT_PERMANENT;
}

int outbound_retry_after_ms(const char *value, int64_t now, int cap_ms)
{
	if (value == NULL || *value == '\0')
		return -1;
	char *end;
	long long secs = strtoll(value, &end, 10);
	if (end != value && *end == '\0') {
		if (secs < 0)
			return -1;
	} else {
		time_t when = curl_getdate(value, NULL);
		if (when == -1)
			return -1;
		secs = (long long)when - now;
		if (secs < 0)
			secs = 0;
	}
	long long ms = secs * 1000;
	return ms > cap_ms ? cap_ms : (int)ms;
}

void outbound_result_clear(struct outbound_result *r)
{
	json_decref(r->body);
	memset(r, 0, sizeof(*r));
}

void outbound_result_set(struct outbound_result *r, enum outbound_class cls, const char *code,
			 const char *fmt, ...)
{
	r->cls = cls;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/*
 * Copies an error message for people to read: when it does not fit, it is
 * cut at a UTF-8 character boundary and ends in "..." so the cut shows.
 */
static void copy_message(char *out, size_t len, const char *msg)
{
	size_t n = strlen(msg);
	if (n < len) {
		memcpy(out, msg, n + 1);
		return;
	}
	size_t keep = len - 4;
	while (keep > 0 && ((unsigned char)msg[keep] & 0xC0) == 0x80)
		keep--; /* do not split a multi-byte character */
	memcpy(out, msg, keep);
	memcpy(out + keep, "...", 4);
}

/* Azure's error code and message from the body or headers, if any. */
static void azure_error(const struct outbound_response *resp, json_t *body, char *code,
			size_t code_len, char *msg, size_t msg_len)
{
	json_t *e = json_object_get(body, "error");
	if (json_is_object(e)) { /* ARM: {"error":{"code","message"}} */
		const char *c = json_string_value(json_object_get(e, "code"));
		const char *m = json_string_value(json_object_get(e, "message"));
		if (c)
			snprintf(code, code_len, "%s", c);
		if (m)
			copy_message(msg, msg_len, m);
	} else if (json_is_string(e)) { /* Entra: {"error","error_description"} */
		snprintf(code, code_len, "%s", json_string_value(e));
		const char *d = json_string_value(json_object_get(body, "error_description"));
		if (d) {
			/* Keep the AADSTS line, not the trace and correlation ids. */
			size_t n = strcspn(d, "\r\n");
			snprintf(msg, msg_len, "%.*s", (int)(n < msg_len ? n : msg_len - 1), d);
		}
	} else if (json_is_string(json_object_get(body, "message"))) { /* Pax8: {type, message, status} */
		const char *c = json_string_value(json_object_get(body, "type"));
		if (c)
			snprintf(code, code_len, "%s", c);
		copy_message(msg, msg_len, json_string_value(json_object_get(body, "message")));
	}
	if (code[0] == '\0' && resp->ms_error_code) /* Storage: x-ms-error-code */
		snprintf(code, code_len, "%s", resp->ms_error_code);
}

void outbound_result_from(enum outbound_verb verb, const struct outbound_request *req,
			  const struct outbound_response *resp, const char *what,
			  struct outbound_result *out)
{
	outbound_result_clear(out);
	out->status = resp->status;
	if (resp->body && resp->len)
		out->body = json_loadb(resp->body, resp->len, 0, NULL);
	out->retry_after_ms = outbound_retry_after_ms(resp->retry_after, util_now_s(), 300000);
	if (out->retry_after_ms < 0)
		out->retry_after_ms = 0;
	const char *target = outbound_target_name(req->target);

	if (resp->curl_code != 0) {
		bool timeout = resp->curl_code == CURLE_OPERATION_TIMEDOUT;
		outbound_result_set(out, OUT_RETRY,
				    resp->too_large ? "ResponseTooLarge" : timeout ? "Timeout" : "NetworkError",
				    "%s: %s (%s)", what, resp->error, target);
		return;
	}
	char code[128] = "", msg[2048] = "";
	azure_error(resp, out->body, code, sizeof(code), msg, sizeof(msg));
	out->cls = outbound_classify(verb, resp->status, 0, code[0] ? code : NULL, &out->already);
	if (out->cls == OUT_OK)
		return;
	if (code[0] == '\0')
		snprintf(code, sizeof(code), "HTTP%ld", resp->status);
	snprintf(out->code, sizeof(out->code), "%s", code);
	if (msg[0])
		copy_message(out->message, sizeof(out->message), msg);
	else
		snprintf(out->message, sizeof(out->message), "%s: %s answered %ld %s", what, target,
			 resp->status, code);
}
