/*
 * page.c - opaque cursors and page bodies built straight from the
 * database's JSON text, without parsing it again.
 */
#include "server/store/page.h"

#include <stdlib.h>
#include <string.h>

bool page_cursor_decode(const char *s, struct page_cursor *c)
{
	memset(c, 0, sizeof(*c));
	size_t n = 0;
	if (s == NULL || strlen(s) > 128)
		return false;
	unsigned char *raw = util_b64url_decode(s, strlen(s), &n);
	if (raw == NULL)
		return false;
	bool ok = false;
	char *bar = memchr(raw, '|', n);
	if (bar) {
		size_t ulen = (size_t)(bar - (char *)raw);
		size_t ilen = n - ulen - 1;
		/* At most 16 digits (microseconds up to the year 2286): a larger
		 * number would overflow bigint or the timestamp range in SQL,
		 * and no cursor this API hands out has one. */
		bool digits = ulen > 0 && ulen <= 16;
		for (size_t i = 0; digits && i < ulen; i++)
			digits = raw[i] >= '0' && raw[i] <= '9';
		if (digits && ilen == 36) {
			memcpy(c->us, raw, ulen);
			memcpy(c->id, bar + 1, 36);
			ok = util_is_uuid(c->id);
		}
	}
	free(raw);
	c->present = ok;
	return ok;
}

char *page_json(PGresult *res, int limit, struct arena *a)
{
	int rows = PQntuples(res);
	int shown = rows > limit ? limit : rows;
	size_t len = 32;
	for (int i = 0; i < shown; i++)
		len += (size_t)PQgetlength(res, i, 0) + 1;
	char *cursor = NULL;
	if (rows > limit) {
		const char *key = PQgetvalue(res, limit - 1, 1);
		cursor = util_b64url_encode((const unsigned char *)key, strlen(key));
		len += strlen(cursor) + 2;
	}
	char *out = arena_alloc(a, len + 32);
	char *p = out;
	memcpy(p, "{\"data\":[", 9);
	p += 9;
	for (int i = 0; i < shown; i++) {
		if (i)
			*p++ = ',';
		size_t n = (size_t)PQgetlength(res, i, 0);
		memcpy(p, PQgetvalue(res, i, 0), n);
		p += n;
	}
	if (cursor) {
		p += sprintf(p, "],\"next_cursor\":\"%s\"}", cursor);
		free(cursor);
	} else {
		p += sprintf(p, "],\"next_cursor\":null}");
	}
	return out;
}
