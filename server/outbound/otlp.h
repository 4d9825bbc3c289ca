/*
 * otlp.h - exports finished spans (server/common/trace.h) as OTLP/HTTP
 * JSON to ATRIUM_OTLP_ENDPOINT: a bounded in-memory queue filled by the
 * trace sink (never blocks: a full queue drops the span and counts it),
 * drained by one thread every second or at OTLP_BATCH spans, and flushed
 * at otlp_stop(). Off (no sink, no thread) when the endpoint is not set.
 *
 * The export's own POST is not traced (it would trace itself) and does
 * not go through outbound_perform().
 */
#ifndef ATRIUM_OTLP_H
#define ATRIUM_OTLP_H

#include <stdbool.h>
#include <stddef.h>

#define OTLP_QUEUE_MAX 2048
#define OTLP_BATCH 256

/* Starts the exporter when cfg.otlp_endpoint is set, with service.name
 * `service` ("atrium-serve", "atrium-worker"). True when it runs. */
bool otlp_start(const char *service);
/* Flushes what is queued (one last POST) and stops the thread. */
void otlp_stop(void);
/* Spans dropped because the queue was full, and spans whose export
 * failed, since start. */
unsigned long long otlp_dropped(void);
unsigned long long otlp_failed(void);

/* The URL spans are POSTed to: the endpoint itself when it already ends
 * in /v1/traces, else endpoint + "/v1/traces". Heap. */
char *otlp_traces_url(const char *endpoint);

#endif
