/*
 * validate.h - request bodies checked against a table of fields, so every
 * handler rejects bad input the same way: 422 with errors[] naming each bad
 * field, unknown fields included, and nothing changed.
 */
#ifndef ATRIUM_VALIDATE_H
#define ATRIUM_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "server/store/page.h"

struct request;

enum field_type {
	FT_STRING,      /* min/max in characters */
	FT_UUID,
	FT_DNS_LABEL,
	FT_ENUM,        /* one of enum_values */
	FT_STRING_MAP,  /* object of string -> string; max keys, key<=128, value<=256 */
	FT_STRING_MAP_PATCH, /* as FT_STRING_MAP, and a null value removes the key */
	FT_INTEGER,     /* min/max inclusive */
	FT_BOOLEAN,
	FT_DECIMAL,     /* decimal string like "2.50": min/max digits after point */
	FT_TIMESTAMP,   /* RFC 3339 date-time with a zone, e.g. "2026-11-22T18:00:00Z" */
	FT_ARRAY,       /* array of min..max items; the caller checks the items */
	FT_CURRENCY,    /* ISO 4217 alphabetic code: three upper-case letters */
};

enum field_flags {
	F_REQUIRED = 1 << 0,
	F_NULLABLE = 1 << 1,
	F_READONLY = 1 << 2,  /* present in the resource, refused in the body */
};

struct field_spec {
	const char *name;
	enum field_type type;
	unsigned flags;
	long long min, max;
	const char *const *enum_values; /* NULL-terminated, for FT_ENUM */
};

/*
 * Checks `body` (a JSON object) against the specs. On failure it has
 * already answered 422 and returns false. `min_fields` > 0 requires at
 * least that many known fields (PATCH with nothing to change).
 */
bool validate_body_or_reply(struct request *r, json_t *body, const struct field_spec *specs,
			    size_t nspecs, size_t min_fields);

/* Single-value check, used by the above and by query parsing. Returns NULL
 * when valid, or a static message. */
const char *validate_value(const struct field_spec *spec, json_t *v);

/* True when s is an RFC 3339 date-time with a zone (Z or +hh:mm) naming a
 * real instant (no February 30th). */
bool validate_rfc3339(const char *s);

/* Parses ?limit= (default, 1..max). False after answering 400. */
bool validate_limit_or_reply(struct request *r, int def, int max, int *out);

/* Reads ?cursor=; false after answering 400 for a malformed one. */
bool page_cursor_or_reply(struct request *r, struct page_cursor *c);

#endif
