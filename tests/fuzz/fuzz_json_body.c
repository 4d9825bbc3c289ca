/*
 * fuzz_json_body - request body validation (server/http/validate.h).
 *
 * The input is parsed as http.c parses a JSON body (json_loadb with
 * JSON_REJECT_DUPLICATES). Then:
 *  - an object body goes through validate_body_or_reply() with each field
 *    table the handlers use (their exported X_bodies[] tables, never
 *    copies), on a bare struct request; the verdict must match the reply (no
 *    response on success, a 422 problem on failure) and an independent
 *    recomputation from validate_value() and the table's flags;
 *  - every value in the document (nested ones too) goes through
 *    validate_value() with a spec of every field type, and an accepted
 *    value must really have that type's shape (a UUID is a UUID, an
 *    integer is in range, a decimal has its digits, ...).
 */
#include "tests/fuzz/fuzz_common.h"
#include "server/http/validate.h"
#include "server/http/http.h"
#include "handlers/handlers.h"

#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the handlers' tables, as the server has them ---- */
static const struct {
	const struct body_table *t;
	const size_t *n;
} handler_tables[] = {
	{tenants_bodies, &tenants_bodies_len},     {events_bodies, &events_bodies_len},
	{namespaces_bodies, &namespaces_bodies_len}, {payments_bodies, &payments_bodies_len},
	{bets_bodies, &bets_bodies_len},         {catalog_bodies, &catalog_bodies_len},
};

/* ---- one spec of every type ---- */
static const char *const any_enum[] = {"a", "bb", "", NULL};
static const struct field_spec every_type[] = {
	{"string", FT_STRING, 0, 1, 200, NULL},
	{"string_nullable", FT_STRING, F_NULLABLE, 0, 3, NULL},
	{"uuid", FT_UUID, 0, 0, 0, NULL},
	{"dns", FT_DNS_LABEL, 0, 1, 63, NULL},
	{"enum", FT_ENUM, 0, 0, 0, any_enum},
	{"map", FT_STRING_MAP, 0, 0, 50, NULL},
	{"map_patch", FT_STRING_MAP_PATCH, 0, 0, 50, NULL},
	{"int", FT_INTEGER, 0, -5, 1000000000000LL, NULL},
	{"int_wide", FT_INTEGER, 0, LLONG_MIN, LLONG_MAX, NULL},
	{"bool", FT_BOOLEAN, 0, 0, 0, NULL},
	{"decimal", FT_DECIMAL, 0, 0, 4, NULL},
	{"timestamp", FT_TIMESTAMP, 0, 0, 0, NULL},
	{"array", FT_ARRAY, 0, 1, 50, NULL},
	{"currency", FT_CURRENCY, 0, 0, 0, NULL},
};

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static bool no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* What an accepted value must look like, per type. */
static void check_accepted(const struct field_spec *f, json_t *v)
{
	if (json_is_null(v)) {
		FUZZ_CHECK(f->flags & F_NULLABLE, "null accepted for %s", f->name);
		return;
	}
	const char *s = json_string_value(v);
	switch (f->type) {
	case FT_STRING:
		FUZZ_CHECK(s && (long long)utf8_chars(s) >= f->min && (long long)utf8_chars(s) <= f->max &&
				   no_controls(s),
			   "bad string accepted for %s", f->name);
		break;
	case FT_UUID:
		FUZZ_CHECK(s && util_is_uuid(s), "bad uuid accepted");
		break;
	case FT_DNS_LABEL:
		FUZZ_CHECK(s && util_is_dns_label(s) && strlen(s) <= 63, "bad dns label accepted");
		break;
	case FT_ENUM: {
		bool found = false;
		for (const char *const *e = f->enum_values; s && *e; e++)
			found |= strcmp(*e, s) == 0;
		FUZZ_CHECK(found, "value outside the enum accepted");
		break;
	}
	case FT_STRING_MAP:
	case FT_STRING_MAP_PATCH: {
		FUZZ_CHECK(json_is_object(v) && (long long)json_object_size(v) <= f->max, "bad map accepted");
		const char *k;
		json_t *m;
		json_object_foreach(v, k, m) {
			FUZZ_CHECK(utf8_chars(k) >= 1 && utf8_chars(k) <= 128 && no_controls(k), "bad map key");
			if (json_is_null(m)) {
				FUZZ_CHECK(f->type == FT_STRING_MAP_PATCH, "null map value accepted");
				continue;
			}
			FUZZ_CHECK(json_is_string(m) && utf8_chars(json_string_value(m)) <= 256 &&
					   no_controls(json_string_value(m)),
				   "bad map value accepted");
		}
		break;
	}
	case FT_INTEGER:
		FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) >= f->min &&
				   json_integer_value(v) <= f->max,
			   "bad integer accepted");
		break;
	case FT_BOOLEAN:
		FUZZ_CHECK(json_is_boolean(v), "bad boolean accepted");
		break;
	case FT_DECIMAL: {
		FUZZ_CHECK(s != NULL, "non-string decimal accepted");
		size_t i = 0;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		FUZZ_CHECK(i >= 1 && i <= 6, "decimal integer part: %s", s);
		if (s[i] == '.') {
			size_t j = ++i;
			while (s[i] >= '0' && s[i] <= '9')
				i++;
			FUZZ_CHECK(i > j && (long long)(i - j) <= f->max, "decimal fraction: %s", s);
		}
		FUZZ_CHECK(s[i] == '\0', "decimal trailing text: %s", s);
		break;
	}
	case FT_TIMESTAMP:
		FUZZ_CHECK(s && strlen(s) >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
				   s[13] == ':' && s[16] == ':' && validate_rfc3339(s),
			   "bad timestamp accepted: %s", s ? s : "(not a string)");
		break;
	case FT_ARRAY:
		FUZZ_CHECK(json_is_array(v) && (long long)json_array_size(v) >= f->min &&
				   (long long)json_array_size(v) <= f->max,
			   "bad array accepted");
		break;
	case FT_CURRENCY:
		FUZZ_CHECK(s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
				   s[2] >= 'A' && s[2] <= 'Z',
			   "bad currency accepted");
		break;
	}
}

static void every_value(json_t *v, int depth)
{
	for (size_t i = 0; i < N(every_type); i++) {
		const char *msg = validate_value(&every_type[i], v);
		if (msg == NULL)
			check_accepted(&every_type[i], v);
		else
			FUZZ_CHECK(*msg != '\0', "empty message");
	}
	if (json_is_string(v))
		(void)validate_rfc3339(json_string_value(v));
	if (depth > 8)
		return;
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach(v, k, m)
			every_value(m, depth + 1);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
			every_value(m, depth + 1);
	}
}

/* The verdict recomputed from validate_value() and the flags. */
static bool expected_verdict(json_t *body, const struct field_spec *specs, size_t n, size_t min_fields)
{
	size_t known = 0;
	bool ok = true;
	const char *k;
	json_t *v;
	json_object_foreach(body, k, v) {
		const struct field_spec *f = NULL;
		for (size_t i = 0; i < n && !f; i++)
			if (strcmp(specs[i].name, k) == 0)
				f = &specs[i];
		if (f == NULL || (f->flags & F_READONLY)) {
			ok = false;
			continue;
		}
		known++;
		if (validate_value(f, v) != NULL)
			ok = false;
		else
			check_accepted(f, v);
	}
	for (size_t i = 0; i < n; i++)
		if ((specs[i].flags & F_REQUIRED) && json_object_get(body, specs[i].name) == NULL)
			ok = false;
	return ok && known >= min_fields;
}

static void check_table(json_t *body, const struct field_spec *specs, size_t n, size_t min_fields)
{
	struct request r;
	memset(&r, 0, sizeof(r));
	r.method_name = "POST";
	r.path = "/v1/fuzz";
	snprintf(r.request_id, sizeof(r.request_id), "fuzz");
	bool ok = validate_body_or_reply(&r, body, specs, n, min_fields);
	bool want = expected_verdict(body, specs, n, min_fields);
	FUZZ_CHECK(ok == want, "validate_body_or_reply says %d, recomputation %d", ok, want);
	if (ok)
		FUZZ_CHECK(r.response == NULL && r.status == 0, "accepted body but a reply was made");
	else
		FUZZ_CHECK(r.response != NULL && r.status == 422, "refused body without a 422 (status %d)",
			   r.status);
	if (r.response)
		MHD_destroy_response(r.response);
	arena_free(&r.arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t err;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
	if (doc == NULL)
		return 0;
	if (json_is_object(doc))
		for (size_t i = 0; i < N(handler_tables); i++)
			for (size_t k = 0; k < *handler_tables[i].n; k++)
				check_table(doc, handler_tables[i].t[k].fields, handler_tables[i].t[k].n,
					    handler_tables[i].t[k].min_fields);
	every_value(doc, 0);
	json_decref(doc);
	return 0;
}
