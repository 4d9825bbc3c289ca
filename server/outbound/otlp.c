/*
 * otlp.c - the batching OTLP/HTTP JSON span exporter. See otlp.h.
 *
 * The sink runs on the thread that ends a span (a request's, a runner's):
 * it builds the span's JSON object and appends it to the queue under a
 * mutex, or drops it when the queue is full. The exporter thread wakes
 * every second (or when a batch is ready), takes everything queued and
 * POSTs one ExportTraceServiceRequest:
 *   {"resourceSpans":[{"resource":{"attributes":[service.name]},
 *     "scopeSpans":[{"scope":{"name":"atrium"},"spans":[...]}]}]}
 * Ids are lower-case hex strings and times unix nanoseconds as decimal
 * strings (the OTLP JSON encoding). A failed POST drops that batch (a
 * collector outage must not grow the process) and is counted.
 */
#include "server/outbound/otlp.h"
#include "atrium_build.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/trace.h"
#include "server/common/util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static json_t *queue[OTLP_QUEUE_MAX];
static size_t queued;
static bool running, stop_asked;
static pthread_t thread;
static char *url;
static char service_name[32];
static atomic_ullong dropped, failed;

char *otlp_traces_url(const char *endpoint)
{
	size_t n = strlen(endpoint);
	while (n > 0 && endpoint[n - 1] == '/')
		n--;
	static const char suffix[] = "/v1/traces";
	size_t sl = sizeof(suffix) - 1;
	if (n >= sl && strncmp(endpoint + n - sl, suffix, sl) == 0)
		return xstrndup(endpoint, n);
	return xasprintf("%.*s%s", (int)n, endpoint, suffix);
}

static json_t *str_attr(const char *key, const char *value)
{
	return json_pack("{s:s, s:{s:s}}", "key", key, "value", "stringValue", value);
}

static json_t *span_json(const struct trace_record *rec)
{
	const struct trace_span *s = rec->span;
	char start[24], end[24];
	snprintf(start, sizeof(start), "%llu", (unsigned long long)s->start_unix_ns);
	snprintf(end, sizeof(end), "%llu", (unsigned long long)rec->end_unix_ns);
	json_t *attrs = json_array();
	for (int i = 0; i < rec->n_attrs; i++) {
		const struct trace_attr *a = &rec->attrs[i];
		json_t *kv;
		if (a->str) {
			kv = str_attr(a->key, a->str);
		} else {
			char num[24];
			snprintf(num, sizeof(num), "%lld", a->num);
			kv = json_pack("{s:s, s:{s:s}}", "key", a->key, "value", "intValue", num);
		}
		if (kv) /* NULL only for a value that is not UTF-8 */
			json_array_append_new(attrs, kv);
	}
	json_t *o = json_pack("{s:s, s:s, s:s?, s:i, s:s, s:s, s:o, s:{s:i}}", "traceId", s->trace_id,
			      "spanId", s->span_id, "name", rec->name ? rec->name : "span", "kind",
			      (int)s->kind, "startTimeUnixNano", start, "endTimeUnixNano", end,
			      "attributes", attrs, "status", "code", rec->error ? 2 : 0);
	if (o == NULL)
		return NULL;
	if (s->parent_id[0])
		json_object_set_new(o, "parentSpanId", json_string(s->parent_id));
	if (s->tracestate[0])
		json_object_set_new(o, "traceState", json_string(s->tracestate));
	return o;
}

/* The trace sink: never blocks longer than the queue's mutex. */
static void on_span(const struct trace_record *rec)
{
	json_t *o = span_json(rec);
	if (o == NULL)
		return;
	pthread_mutex_lock(&mu);
	if (queued == OTLP_QUEUE_MAX) {
		pthread_mutex_unlock(&mu);
		json_decref(o);
		atomic_fetch_add(&dropped, 1);
		return;
	}
	queue[queued++] = o;
	if (queued >= OTLP_BATCH)
		pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb;
}

/* POSTs spans (stolen). */
static void export_batch(json_t *spans)
{
	size_t n = json_array_size(spans);
	json_t *req = json_pack("{s:[{s:{s:[o]}, s:[{s:{s:s, s:s}, s:o}]}]}", "resourceSpans",
				"resource", "attributes", str_attr("service.name", service_name),
				"scopeSpans", "scope", "name", "atrium", "version", ATRIUM_VERSION, "spans",
				spans);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (body == NULL) {
		atomic_fetch_add(&failed, n);
		return;
	}
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc = CURLE_FAILED_INIT;
	struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg.outbound_connect_timeout_ms);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_USERAGENT, "atrium/" ATRIUM_VERSION);
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
	}
	curl_slist_free_all(hl);
	free(body);
	if (rc != CURLE_OK || status < 200 || status >= 300) {
		atomic_fetch_add(&failed, n);
		log_warn("otlp: exporting %zu spans failed (curl %d, HTTP %ld)", n, (int)rc, status);
	}
}

/* Takes everything queued as one array; NULL when nothing is. */
static json_t *take_locked(void)
{
	if (queued == 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < queued; i++)
		json_array_append_new(a, queue[i]);
	queued = 0;
	return a;
}

static void *exporter_main(void *arg)
{
	(void)arg;
	unsigned long long reported = 0;
	pthread_mutex_lock(&mu);
	for (;;) {
		if (!stop_asked && queued < OTLP_BATCH) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&cv, &mu, &ts);
		}
		json_t *batch = take_locked();
		bool last = stop_asked;
		pthread_mutex_unlock(&mu);
		if (batch)
			export_batch(batch);
		unsigned long long d = atomic_load(&dropped);
		if (d != reported) {
			log_warn("otlp: %llu spans dropped so far (queue full)", d);
			reported = d;
		}
		pthread_mutex_lock(&mu);
		if (last && queued == 0)
			break;
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

bool otlp_start(const char *service)
{
	if (cfg.otlp_endpoint == NULL || running)
		return false;
	snprintf(service_name, sizeof(service_name), "%s", service);
	url = otlp_traces_url(cfg.otlp_endpoint);
	stop_asked = false;
	if (pthread_create(&thread, NULL, exporter_main, NULL) != 0) {
		log_error("otlp: cannot start the exporter thread");
		free(url);
		url = NULL;
		return false;
	}
	running = true;
	trace_set_sink(on_span);
	log_info("otlp: exporting spans to %s as %s", url, service_name);
	return true;
}

void otlp_stop(void)
{
	if (!running)
		return;
	trace_set_sink(NULL);
	pthread_mutex_lock(&mu);
	stop_asked = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	/* A span ended while the sink was being removed: not sent. */
	pthread_mutex_lock(&mu);
	json_decref(take_locked());
	pthread_mutex_unlock(&mu);
	running = false;
	free(url);
	url = NULL;
}

unsigned long long otlp_dropped(void)
{
	return atomic_load(&dropped);
}

unsigned long long otlp_failed(void)
{
	return atomic_load(&failed);
}
