/*
 * log.h - structured JSON logs, one object per line on stderr.
 *
 * Never pass secrets (tokens, passwords, keys) to these functions.
 */
#ifndef ATRIUM_LOG_H
#define ATRIUM_LOG_H

#include <jansson.h>
#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(const char *name);
/* True when lines of this level are written (skip building them otherwise). */
bool log_enabled(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Emits `fields` (stolen) with ts and level added. */
void log_json(enum log_level lvl, json_t *fields);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
