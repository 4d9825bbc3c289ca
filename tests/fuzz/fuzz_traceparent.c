/*
 * fuzz_traceparent - trace_parse_traceparent() (server/common/trace.h), the
 * `traceparent` header of every request and the one stored with a job.
 *
 * Each input is the header's text. Whatever it is, the parser must not
 * crash or read past the string, and its verdict must agree with a direct
 * model of W3C Trace Context level 1 written with strspn: a version of two
 * lower-case hex digits other than "ff", then -32 hex-16 hex-2 hex with
 * nonzero ids, exactly 55 characters for version 00 and 55 followed by
 * nothing or '-' for later versions. An accepted value must survive the
 * round trip through a child span and its formatted traceparent.
 */
#include "tests/fuzz/fuzz_common.h"
#include "server/common/trace.h"

static const char HEX[] = "0123456789abcdef";

static bool hex_run(const char *s, size_t n)
{
	return strspn(s, HEX) >= n;
}

static bool all_zero(const char *s, size_t n)
{
	return strspn(s, "0") >= n;
}

static bool model(const char *s)
{
	size_t len = strlen(s);
	if (len < 55)
		return false;
	if (!hex_run(s, 2) || strncmp(s, "ff", 2) == 0)
		return false;
	if (strncmp(s, "00", 2) == 0 ? len != 55 : (len > 55 && s[55] != '-'))
		return false;
	if (s[2] != '-' || s[35] != '-' || s[52] != '-')
		return false;
	if (!hex_run(s + 3, 32) || !hex_run(s + 36, 16) || !hex_run(s + 53, 2))
		return false;
	return !all_zero(s + 3, 32) && !all_zero(s + 36, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct trace_parent p;
	bool ok = trace_parse_traceparent(s, &p);
	FUZZ_CHECK(ok == model(s), "parser says %d, model %d: %s", ok, !ok, s);
	if (ok) {
		FUZZ_CHECK(strlen(p.trace_id) == 32 && strncmp(p.trace_id, s + 3, 32) == 0, "%s", s);
		FUZZ_CHECK(strlen(p.parent_id) == 16 && strncmp(p.parent_id, s + 36, 16) == 0, "%s", s);
		struct trace_span span;
		trace_span_start_remote(&span, &p, s + 55, TRACE_SERVER);
		char tp[TRACEPARENT_LEN + 1];
		trace_format_traceparent(&span, tp);
		struct trace_parent back;
		FUZZ_CHECK(trace_parse_traceparent(tp, &back), "own traceparent refused: %s", tp);
		FUZZ_CHECK(strcmp(back.trace_id, p.trace_id) == 0, "trace id changed: %s", tp);
		FUZZ_CHECK(strcmp(back.parent_id, span.span_id) == 0, "span id lost: %s", tp);
		FUZZ_CHECK(back.flags == (p.flags & 1), "flags: %s", tp);
	}
	free(s);
	return 0;
}
