/*
 * validate.c - field-table validation of JSON bodies and common queries.
 */
#include "validate.h"
#include "http.h"
#include "reply.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
