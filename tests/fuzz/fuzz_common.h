/*
 * fuzz_common.h - small helpers shared by the libFuzzer targets.
 *
 * FUZZ_CHECK is the invariant check: unlike assert() it stays on in every
 * build type, prints what failed, and abort()s so libFuzzer keeps the input.
 */
#ifndef ATRIUM_FUZZ_COMMON_H
#define ATRIUM_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/common/util.h"

#define FUZZ_CHECK(cond, ...)                                                        \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__,   \
				__LINE__, #cond);                                    \
			fprintf(stderr, __VA_ARGS__);                                \
			fputc('\n', stderr);                                         \
			abort();                                                     \
		}                                                                    \
	} while (0)

/* The input as a NUL-terminated heap string (embedded NULs cut it short). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	return xstrndup((const char *)data, size);
}

/*
 * Splits the input at separator bytes `sep` into at most `max` heap strings
 * (missing fields are ""). Returns how many fields the input really had.
 * Free each with free().
 */
static inline size_t fuzz_fields(const uint8_t *data, size_t size, char sep, char **out, size_t max)
{
	size_t n = 0, start = 0;
	while (n < max) {
		const uint8_t *p = n == max - 1 ? NULL : memchr(data + start, sep, size - start);
		size_t end = p ? (size_t)(p - data) : size;
		out[n++] = xstrndup((const char *)data + start, end - start);
		if (p == NULL)
			break;
		start = end + 1;
	}
	size_t had = n;
	while (n < max)
		out[n++] = xstrdup("");
	return had;
}

static inline void fuzz_free_fields(char **f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i]);
}

static inline bool fuzz_is_lower_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

#endif
