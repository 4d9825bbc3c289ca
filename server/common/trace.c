/*
 * trace.c - traceparent parsing, span ids, the thread's current span and
 * the sink hook. See trace.h.
 */
#include "server/common/trace.h"

#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local const struct trace_span *current;
/* Set at start and stop; read by every thread that ends a span. */
static _Atomic(trace_sink_fn) sink;

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is not valid in a traceparent */
}

/* n lower-case hex digits, not all zero when nonzero is set. */
static bool hex_field(const char *s, size_t n, bool nonzero)
{
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		int v = hexval(s[i]);
		if (v < 0)
			return false;
		any |= v != 0;
	}
	return any || !nonzero;
}

bool trace_parse_traceparent(const char *s, struct trace_parent *out)
{
	if (s == NULL)
		return false;
	size_t len = strnlen(s, TRACEPARENT_LEN + 1);
	if (len < TRACEPARENT_LEN)
		return false;
	if (!hex_field(s, 2, false) || (s[0] == 'f' && s[1] == 'f'))
		return false;
	bool v00 = s[0] == '0' && s[1] == '0';
	/* Version 00 is exactly 55 characters; a later version may append
	 * fields after a dash (3.3: parse what version 00 defines). */
	if (len > TRACEPARENT_LEN && (v00 || s[TRACEPARENT_LEN] != '-'))
		return false;
	if (s[2] != '-' || s[35] != '-' || s[52] != '-')
		return false;
	if (!hex_field(s + 3, 32, true) || !hex_field(s + 36, 16, true) || !hex_field(s + 53, 2, false))
		return false;
	memcpy(out->trace_id, s + 3, 32);
	out->trace_id[32] = '\0';
	memcpy(out->parent_id, s + 36, 16);
	out->parent_id[16] = '\0';
	out->flags = (uint8_t)(hexval(s[53]) * 16 + hexval(s[54]));
	return true;
}

bool trace_state_ok(const char *s)
{
	size_t n = s ? strnlen(s, TRACESTATE_MAX + 1) : 0;
	if (n == 0 || n > TRACESTATE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

void trace_random_hex(char *out, size_t nbytes)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char b[16];
	if (nbytes > sizeof(b))
		abort();
	bool zero = true;
	while (zero) {
		if (RAND_bytes(b, (int)nbytes) != 1)
			abort(); /* the CSPRNG is broken: nothing random is safe */
		for (size_t i = 0; i < nbytes; i++)
			zero &= b[i] == 0;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

uint64_t trace_unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void trace_span_start(struct trace_span *s, const struct trace_span *parent, enum trace_kind kind)
{
	if (parent) {
		memcpy(s->trace_id, parent->trace_id, sizeof(s->trace_id));
		memcpy(s->parent_id, parent->span_id, sizeof(s->parent_id));
		s->flags = parent->flags;
		memcpy(s->tracestate, parent->tracestate, sizeof(s->tracestate));
	} else {
		trace_random_hex(s->trace_id, 16);
		s->parent_id[0] = '\0';
		s->flags = 0x01; /* sampled: every span is exported */
		s->tracestate[0] = '\0';
	}
	trace_random_hex(s->span_id, 8);
	s->kind = kind;
	s->start_unix_ns = atomic_load(&sink) ? trace_unix_ns() : 0;
}

void trace_span_start_remote(struct trace_span *s, const struct trace_parent *p,
			     const char *tracestate, enum trace_kind kind)
{
	memcpy(s->trace_id, p->trace_id, sizeof(s->trace_id));
	memcpy(s->parent_id, p->parent_id, sizeof(s->parent_id));
	/* Only "sampled" is defined in version 00: other bits are zeroed. */
	s->flags = p->flags & 0x01;
	if (trace_state_ok(tracestate))
		snprintf(s->tracestate, sizeof(s->tracestate), "%s", tracestate);
	else
		s->tracestate[0] = '\0';
	trace_random_hex(s->span_id, 8);
	s->kind = kind;
	s->start_unix_ns = atomic_load(&sink) ? trace_unix_ns() : 0;
}

void trace_format_traceparent(const struct trace_span *s, char out[TRACEPARENT_LEN + 1])
{
	snprintf(out, TRACEPARENT_LEN + 1, "00-%.32s-%.16s-%02x", s->trace_id, s->span_id, s->flags);
}

const struct trace_span *trace_current(void)
{
	return current;
}

void trace_set_current(const struct trace_span *s)
{
	current = s;
}

void trace_set_sink(trace_sink_fn fn)
{
	atomic_store(&sink, fn);
}

bool trace_exporting(void)
{
	return atomic_load(&sink) != NULL;
}

void trace_span_end(const struct trace_span *s, const char *name, bool error,
		    const struct trace_attr *attrs, int n_attrs)
{
	trace_sink_fn fn = atomic_load(&sink);
	if (fn == NULL || s == NULL)
		return;
	struct trace_record rec = {
		.span = s,
		.name = name,
		.end_unix_ns = trace_unix_ns(),
		.error = error,
		.attrs = attrs,
		.n_attrs = n_attrs > TRACE_ATTRS_MAX ? TRACE_ATTRS_MAX : n_attrs,
	};
	fn(&rec);
}
