/*
 * test_trace.c - W3C traceparent parsing, span ids and parents, the sink
 * hook and the OTLP URL (server/common/trace.h, server/outbound/otlp.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/common/trace.h"
#include "server/outbound/otlp.h"

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PID "00f067aa0ba902b7"

Test(traceparent, accepts_version_00_and_reads_the_fields)
{
	struct trace_parent p;
	cr_assert(trace_parse_traceparent("00-" TID "-" PID "-01", &p));
	cr_assert_str_eq(p.trace_id, TID);
	cr_assert_str_eq(p.parent_id, PID);
	cr_assert_eq(p.flags, 1);
	cr_assert(trace_parse_traceparent("00-" TID "-" PID "-00", &p));
	cr_assert_eq(p.flags, 0);
}

Test(traceparent, refuses_malformed_values)
{
	static const char *const bad[] = {
		NULL,
		"",
		"00-" TID "-" PID "-0",                     /* short */
		"00-" TID "-" PID "-01-",                   /* v00 with a suffix */
		"00-" TID "-" PID "-011",                   /* v00 too long */
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-" PID "-01", /* upper case */
		"00-00000000000000000000000000000000-" PID "-01", /* zero trace id */
		"00-" TID "-0000000000000000-01",           /* zero parent id */
		"ff-" TID "-" PID "-01",                    /* forbidden version */
		"0x-" TID "-" PID "-01",
		"00_" TID "-" PID "-01",
		"00-" TID "_" PID "-01",
		"00-" TID "-" PID "_01",
		"00-" TID "-" PID "-0g",
		"00-4bf92f3577b34da6a3ce929d0e0e473-" PID "-011", /* shifted fields */
		" 00-" TID "-" PID "-01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct trace_parent p = {.flags = 0x77};
		cr_assert_not(trace_parse_traceparent(bad[i], &p), "accepted %s", bad[i] ? bad[i] : "NULL");
		cr_assert_eq(p.flags, 0x77, "wrote into out for %s", bad[i] ? bad[i] : "NULL");
	}
}

Test(traceparent, parses_a_future_version_by_its_version_00_prefix)
{
	struct trace_parent p;
	cr_assert(trace_parse_traceparent("01-" TID "-" PID "-01", &p));
	cr_assert(trace_parse_traceparent("cc-" TID "-" PID "-09-what-the-future-adds", &p));
	cr_assert_str_eq(p.trace_id, TID);
	cr_assert_eq(p.flags, 9);
	cr_assert_not(trace_parse_traceparent("cc-" TID "-" PID "-09x", &p));
}

Test(tracestate, bounded_printable_text_only)
{
	cr_assert(trace_state_ok("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"));
	cr_assert_not(trace_state_ok(""));
	cr_assert_not(trace_state_ok(NULL));
	cr_assert_not(trace_state_ok("a=b\nc=d"));
	char big[TRACESTATE_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_not(trace_state_ok(big));
	big[TRACESTATE_MAX] = '\0';
	cr_assert(trace_state_ok(big));
}

Test(span, child_keeps_the_trace_and_points_at_its_parent)
{
	struct trace_parent p;
	cr_assert(trace_parse_traceparent("00-" TID "-" PID "-03", &p));
	struct trace_span req, child, root;
	trace_span_start_remote(&req, &p, "k=v", TRACE_SERVER);
	cr_assert_str_eq(req.trace_id, TID);
	cr_assert_str_eq(req.parent_id, PID);
	cr_assert_eq(strlen(req.span_id), 16);
	cr_assert_str_neq(req.span_id, PID);
	cr_assert_eq(req.flags, 1, "only the sampled bit is carried on");
	cr_assert_str_eq(req.tracestate, "k=v");
	trace_span_start(&child, &req, TRACE_CLIENT);
	cr_assert_str_eq(child.trace_id, TID);
	cr_assert_str_eq(child.parent_id, req.span_id);
	cr_assert_str_neq(child.span_id, req.span_id);
	cr_assert_str_eq(child.tracestate, "k=v");
	char tp[TRACEPARENT_LEN + 1];
	trace_format_traceparent(&child, tp);
	struct trace_parent back;
	cr_assert(trace_parse_traceparent(tp, &back), "%s", tp);
	cr_assert_str_eq(back.trace_id, TID);
	cr_assert_str_eq(back.parent_id, child.span_id);
	trace_span_start(&root, NULL, TRACE_SERVER);
	cr_assert_eq(strlen(root.trace_id), 32);
	cr_assert_str_neq(root.trace_id, TID);
	cr_assert_str_eq(root.parent_id, "");
	trace_format_traceparent(&root, tp);
	cr_assert(trace_parse_traceparent(tp, &back), "%s", tp);
}

Test(span, a_bad_tracestate_is_not_carried)
{
	struct trace_parent p;
	cr_assert(trace_parse_traceparent("00-" TID "-" PID "-01", &p));
	struct trace_span s;
	trace_span_start_remote(&s, &p, "bad\x01value", TRACE_SERVER);
	cr_assert_str_eq(s.tracestate, "");
}

static int seen;
static char seen_name[64], seen_trace[33];
static void test_sink(const struct trace_record *rec)
{
	seen++;
	snprintf(seen_name, sizeof(seen_name), "%s", rec->name);
	snprintf(seen_trace, sizeof(seen_trace), "%s", rec->span->trace_id);
	cr_assert_geq(rec->end_unix_ns, rec->span->start_unix_ns);
	cr_assert_gt(rec->span->start_unix_ns, 0);
}

Test(span, ending_reaches_the_sink_only_when_one_is_installed)
{
	struct trace_span s;
	trace_span_start(&s, NULL, TRACE_INTERNAL);
	trace_span_end(&s, "off", false, NULL, 0);
	cr_assert_eq(seen, 0);
	cr_assert_not(trace_exporting());
	trace_set_sink(test_sink);
	trace_span_start(&s, NULL, TRACE_INTERNAL);
	trace_span_end(&s, "on", false, NULL, 0);
	trace_set_sink(NULL);
	cr_assert_eq(seen, 1);
	cr_assert_str_eq(seen_name, "on");
	cr_assert_str_eq(seen_trace, s.trace_id);
}

Test(span, current_is_per_thread_state)
{
	cr_assert_null(trace_current());
	struct trace_span s;
	trace_span_start(&s, NULL, TRACE_INTERNAL);
	trace_set_current(&s);
	cr_assert_eq(trace_current(), &s);
	trace_set_current(NULL);
	cr_assert_null(trace_current());
}

Test(otlp, traces_url_appends_the_signal_path_once)
{
	char *u = otlp_traces_url("http://127.0.0.1:4318");
	cr_assert_str_eq(u, "http://127.0.0.1:4318/v1/traces");
	free(u);
	u = otlp_traces_url("http://c:4318/");
	cr_assert_str_eq(u, "http://c:4318/v1/traces");
	free(u);
	u = otlp_traces_url("https://c/v1/traces");
	cr_assert_str_eq(u, "https://c/v1/traces");
	free(u);
}
