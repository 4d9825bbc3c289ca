/*
 * page.h - cursor pagination shared by every list endpoint.
 *
 * List statements return two text columns per row: the row's JSON and its
 * sort key "<created_at microseconds>|<id>", and fetch limit+1 rows so the
 * presence of a next page is known without a count. The cursor handed to
 * clients is the base64url of the last row's sort key: opaque to them.
 */
#ifndef ATRIUM_PAGE_H
#define ATRIUM_PAGE_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "server/common/util.h"

struct page_cursor {
	bool present;
	char us[24];  /* microseconds since the epoch, decimal */
	char id[37];
};

/* Decodes a cursor this API handed out; false for anything else.
 * (Reading ?cursor= and answering 400 is validate.h's
 * page_cursor_or_reply().) */
bool page_cursor_decode(const char *s, struct page_cursor *c);

/* Builds {"data":[...],"next_cursor":...} from a list result (arena). */
char *page_json(PGresult *res, int limit, struct arena *a);

#endif
