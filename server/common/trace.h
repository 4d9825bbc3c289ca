/*
 * trace.h - W3C Trace Context (level 1) and spans.
 *
 * A request, a job attempt, a job step and an outbound call each are a
 * span: a trace id shared end to end, its own span id and its parent's.
 * The span a thread works for is its current context (thread-local): the
 * request pipeline and the job runner set it, log lines carry its
 * trace_id/span_id, outbound calls send it as `traceparent` and the job
 * row stores it. Finished spans go to the sink (the OTLP exporter in
 * server/outbound/otlp.c) when one is installed; without one ending a span
 * costs nothing.
 */
#ifndef ATRIUM_TRACE_H
#define ATRIUM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A "traceparent" value: 00-<32 hex>-<16 hex>-<2 hex>. */
#define TRACEPARENT_LEN 55
/* tracestate longer than this is dropped (W3C: at most 32 members, and
 * vendors may cut at 512 characters). */
#define TRACESTATE_MAX 512

struct trace_parent {
	char trace_id[33];   /* lower-case hex */
	char parent_id[17];
	uint8_t flags;
};

/*
 * Parses a traceparent header strictly (W3C Trace Context level 1, 3.2):
 * lower-case hex only; version "ff" is invalid; version 00 is exactly 55
 * characters; a higher version is parsed as 00 for its first 55
 * characters, which must be followed by nothing or '-'; all-zero trace or
 * parent ids are invalid. False (and *out untouched) when it is not valid.
 */
bool trace_parse_traceparent(const char *s, struct trace_parent *out);

/* True when `s` may be carried on as tracestate: 1..TRACESTATE_MAX
 * printable ASCII characters (the list's own syntax is not checked). */
bool trace_state_ok(const char *s);

/* OTLP span kinds. */
enum trace_kind { TRACE_INTERNAL = 1, TRACE_SERVER = 2, TRACE_CLIENT = 3, TRACE_CONSUMER = 5 };

struct trace_span {
	char trace_id[33];
	char span_id[17];
	char parent_id[17];  /* "" for a root span */
	uint8_t flags;
	char tracestate[TRACESTATE_MAX + 1];
	enum trace_kind kind;
	uint64_t start_unix_ns;
};

/* Fresh random ids (OpenSSL RAND_bytes), never all zero. */
void trace_random_hex(char *out, size_t nbytes);

/*
 * Starts span s: a child of `parent` (same trace, parent_id = its span id,
 * flags and tracestate carried on) or, with parent NULL, the root of a new
 * trace. Does not make it current.
 */
void trace_span_start(struct trace_span *s, const struct trace_span *parent, enum trace_kind kind);
/* Starts s as a child of a remote parent (a traceparent header or a job
 * row); tracestate may be NULL. */
void trace_span_start_remote(struct trace_span *s, const struct trace_parent *p,
			     const char *tracestate, enum trace_kind kind);

/* "00-<trace>-<span>-<flags>" for span s (out: TRACEPARENT_LEN + 1). */
void trace_format_traceparent(const struct trace_span *s, char out[TRACEPARENT_LEN + 1]);

/* The thread's current span (borrowed; NULL when none) and setting it:
 * the caller keeps s alive until it sets another or NULL. */
const struct trace_span *trace_current(void);
void trace_set_current(const struct trace_span *s);

/* One attribute of a finished span: a string or an integer. */
struct trace_attr {
	const char *key;
	const char *str;     /* NULL: the integer */
	long long num;
};
#define TRACE_ATTRS_MAX 8

/* What the sink receives: borrowed for the call only. */
struct trace_record {
	const struct trace_span *span;
	const char *name;
	uint64_t end_unix_ns;
	bool error;
	const struct trace_attr *attrs;
	int n_attrs;
};

typedef void (*trace_sink_fn)(const struct trace_record *rec);
/* Installs the sink (NULL: none). Call before threads start spans. */
void trace_set_sink(trace_sink_fn fn);
/* True when a sink is installed: skip building attributes otherwise. */
bool trace_exporting(void);
/* Ends s: hands it to the sink, if any. */
void trace_span_end(const struct trace_span *s, const char *name, bool error,
		    const struct trace_attr *attrs, int n_attrs);

uint64_t trace_unix_ns(void);

#endif
