/*
 * validate.c - field-table validation of JSON bodies and common queries.
 */
#include "server/http/validate.h"
#include "server/http/http.h"
#include "server/http/reply.h"
#include "server/common/util.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static regex_t rfc3339_re;
static bool rfc3339_re_ok;
static pthread_once_t rfc3339_once = PTHREAD_ONCE_INIT;

static void rfc3339_compile(void)
{
	rfc3339_re_ok = regcomp(&rfc3339_re,
				"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?"
				"(Z|[+-][0-9]{2}:[0-9]{2})$",
				REG_EXTENDED | REG_NOSUB) == 0;
}

bool validate_rfc3339(const char *s)
{
	pthread_once(&rfc3339_once, rfc3339_compile);
	if (!rfc3339_re_ok || s == NULL || regexec(&rfc3339_re, s, 0, NULL, 0) != 0)
		return false;
	/* The shape is right; now the calendar: strptime checks the ranges,
	 * and a round trip through timegm() catches days a month lacks. */
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || tm.tm_year < 0) /* before 1900: not a date this API takes */
		return false;
	struct tm in = tm;
	time_t t = timegm(&tm);
	struct tm back;
	if (gmtime_r(&t, &back) == NULL)
		return false;
	if (back.tm_mday != in.tm_mday || back.tm_mon != in.tm_mon || back.tm_year != in.tm_year)
		return false;
	const char *zone = strpbrk(end, "Z+-");
	if (zone && (*zone == '+' || *zone == '-')) {
		int hh = (zone[1] - '0') * 10 + (zone[2] - '0');
		int mm = (zone[4] - '0') * 10 + (zone[5] - '0');
		if (hh > 23 || mm > 59)
			return false;
	}
	return true;
}

const char *validate_value(const struct field_spec *f, json_t *v)
{
	if (json_is_null(v))
		return (f->flags & F_NULLABLE) ? NULL : "must not be null";
	switch (f->type) {
	case FT_STRING: {
		if (!json_is_string(v))
			return "must be a string";
		const char *s = json_string_value(v);
		size_t n = utf8_chars(s);
		if ((long long)n < f->min)
			return f->min == 1 ? "must not be empty" : "is too short";
		if ((long long)n > f->max)
			return "is too long";
		if (has_control(s))
			return "must not contain control characters";
		return NULL;
	}
	case FT_UUID:
		if (!json_is_string(v) || !util_is_uuid(json_string_value(v)))
			return "must be a UUID";
		return NULL;
	case FT_DNS_LABEL:
		if (!json_is_string(v) || !util_is_dns_label(json_string_value(v)))
			return "must be a DNS label: 1-63 lower-case letters, digits or '-', not starting or ending with '-'";
		return NULL;
	case FT_ENUM:
		if (!json_is_string(v))
			return "must be a string";
		for (const char *const *e = f->enum_values; *e; e++)
			if (strcmp(*e, json_string_value(v)) == 0)
				return NULL;
		return "is not one of the allowed values";
	case FT_STRING_MAP:
	case FT_STRING_MAP_PATCH: {
		if (!json_is_object(v))
			return "must be an object of strings";
		if ((long long)json_object_size(v) > f->max)
			return "has too many keys";
		const char *k;
		json_t *val;
		json_object_foreach(v, k, val) {
			size_t kl = utf8_chars(k);
			if (kl < 1 || kl > 128 || has_control(k))
				return "keys must be 1-128 characters without control characters";
			if (f->type == FT_STRING_MAP_PATCH && json_is_null(val))
				continue;
			if (!json_is_string(val))
				return "values must be strings";
			if (utf8_chars(json_string_value(val)) > 256 || has_control(json_string_value(val)))
				return "values must be at most 256 characters without control characters";
		}
		return NULL;
	}
	case FT_INTEGER: {
		if (!json_is_integer(v))
			return "must be an integer";
		json_int_t n = json_integer_value(v);
		if (n < f->min || n > f->max)
			return "is out of range";
		return NULL;
	}
	case FT_BOOLEAN:
		return json_is_boolean(v) ? NULL : "must be a boolean";
	case FT_DECIMAL: {
		if (!json_is_string(v))
			return "must be a decimal string such as \"2.50\"";
		const char *s = json_string_value(v);
		size_t i = 0, int_digits = 0, frac_digits = 0;
		while (s[i] >= '0' && s[i] <= '9') {
			i++;
			int_digits++;
		}
		if (s[i] == '.') {
			i++;
			while (s[i] >= '0' && s[i] <= '9') {
				i++;
				frac_digits++;
			}
			if (frac_digits == 0)
				return "must be a decimal string such as \"2.50\"";
		}
		if (s[i] != '\0' || int_digits == 0 || int_digits > 6 || (long long)frac_digits > f->max)
			return "must be a decimal string such as \"2.50\"";
		return NULL;
	}
	case FT_TIMESTAMP:
		if (!json_is_string(v) || !validate_rfc3339(json_string_value(v)))
			return "must be an RFC 3339 date-time with a time zone, e.g. \"2026-11-22T18:00:00Z\"";
		return NULL;
	case FT_ARRAY:
		if (!json_is_array(v))
			return "must be an array";
		if ((long long)json_array_size(v) < f->min)
			return "has too few items";
		if ((long long)json_array_size(v) > f->max)
			return "has too many items";
		return NULL;
	case FT_CURRENCY: {
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		if (s == NULL || strlen(s) != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' ||
		    s[2] < 'A' || s[2] > 'Z')
			return "must be an ISO 4217 currency code of three upper-case letters, e.g. \"EUR\"";
		return NULL;
	}
	}
	return "is not valid";
}

bool validate_body_or_reply(struct request *r, json_t *body, const struct field_spec *specs,
			    size_t nspecs, size_t min_fields)
{
	json_t *errors = NULL;
	size_t known = 0;
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v) {
		const struct field_spec *f = NULL;
		for (size_t i = 0; i < nspecs; i++)
			if (strcmp(specs[i].name, key) == 0) {
				f = &specs[i];
				break;
			}
		if (f == NULL) {
			problem_add_error(&errors, key, "is not a known field");
			continue;
		}
		if (f->flags & F_READONLY) {
			problem_add_error(&errors, key, "is read-only");
			continue;
		}
		known++;
		const char *msg = validate_value(f, v);
		if (msg)
			problem_add_error(&errors, key, msg);
	}
	for (size_t i = 0; i < nspecs; i++)
		if ((specs[i].flags & F_REQUIRED) && json_object_get(body, specs[i].name) == NULL)
			problem_add_error(&errors, specs[i].name, "is required");
	if (errors == NULL && known < min_fields)
		problem_add_error(&errors, "", "the body must name at least one field to change");
	if (errors == NULL)
		return true;
	reply_problem(r, 422, "validation", "Unprocessable Content",
		      "The request body has invalid fields; see errors.", errors);
	return false;
}

bool validate_limit_or_reply(struct request *r, int def, int max, int *out)
{
	const char *s = req_query(r, "limit");
	if (s == NULL) {
		*out = def;
		return true;
	}
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || n < 1 || n > max) {
		json_t *errors = NULL;
		problem_add_error(&errors, "limit", "must be an integer from 1 to the maximum page size");
		reply_problem(r, 400, "invalid-query", "Bad Request", "The query parameter limit is invalid.",
			      errors);
		return false;
	}
	*out = (int)n;
	return true;
}

bool page_cursor_or_reply(struct request *r, struct page_cursor *c)
{
	const char *s = req_query(r, "cursor");
	memset(c, 0, sizeof(*c));
	if (s == NULL)
		return true;
	if (page_cursor_decode(s, c))
		return true;
	json_t *errors = NULL;
	problem_add_error(&errors, "cursor", "is not a cursor this API returned");
	reply_problem(r, 400, "invalid-query", "Bad Request", "The query parameter cursor is invalid.", errors);
	return false;
}
