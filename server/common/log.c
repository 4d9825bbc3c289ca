/*
 * log.c - JSON lines on stderr. A single fputs per line keeps lines whole
 * when several threads log at once.
 */
#include "server/common/log.h"
#include "server/common/trace.h"
#include "server/common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static enum log_level min_level = LOG_INFO;
static const char *names[] = {"debug", "info", "warn", "error"};

void log_set_level(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (name && strcmp(name, names[i]) == 0)
			min_level = (enum log_level)i;
}

bool log_enabled(enum log_level lvl)
{
	return lvl >= min_level;
}

void log_json(enum log_level lvl, json_t *fields)
{
	if (lvl < min_level) {
		json_decref(fields);
		return;
	}
	struct timeval tv;
	gettimeofday(&tv, NULL);
	char ts[32];
	util_format_rfc3339_us((int64_t)tv.tv_sec * 1000000 + tv.tv_usec, ts);
	json_t *line = json_object();
	json_object_set_new(line, "ts", json_string(ts));
	json_object_set_new(line, "level", json_string(names[lvl]));
	/* The span this thread works for (a request, a job step). */
	const struct trace_span *sp = trace_current();
	if (sp) {
		json_object_set_new(line, "trace_id", json_string(sp->trace_id));
		json_object_set_new(line, "span_id", json_string(sp->span_id));
	}
	json_object_update(line, fields);
	json_decref(fields);
	char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (s) {
		size_t n = strlen(s);
		s = xrealloc(s, n + 2);
		s[n] = '\n';
		s[n + 1] = '\0';
		fputs(s, stderr);
		free(s);
	}
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (lvl < min_level)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_t *f = json_object();
	json_object_set_new(f, "msg", json_string(buf));
	log_json(lvl, f);
}
