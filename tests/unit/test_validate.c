/* Unit tests for server/http/validate.c: each field type's rules. */
#include <criterion/criterion.h>
#include <jansson.h>

#include "server/http/validate.h"

static const char *const colours[] = {"red", "green", NULL};

static const char *check(enum field_type t, unsigned flags, long long min, long long max, const char *json)
{
	struct field_spec f = {"f", t, flags, min, max, colours};
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	cr_assert_not_null(v, "bad test json %s", json);
	const char *msg = validate_value(&f, v);
	json_decref(v);
	return msg;
}

Test(validate, strings_count_characters_not_bytes)
{
	cr_assert_null(check(FT_STRING, 0, 1, 3, "\"\\u00e9\\u00e9\\u00e9\""));
	cr_assert_not_null(check(FT_STRING, 0, 1, 3, "\"abcd\""));
	cr_assert_not_null(check(FT_STRING, 0, 1, 3, "\"\""));
	cr_assert_not_null(check(FT_STRING, 0, 1, 3, "3"));
	cr_assert_not_null(check(FT_STRING, 0, 1, 10, "\"a\\nb\""));
}

Test(validate, null_only_when_nullable)
{
	cr_assert_not_null(check(FT_STRING, 0, 1, 3, "null"));
	cr_assert_null(check(FT_STRING, F_NULLABLE, 1, 3, "null"));
}

Test(validate, enums_uuids_labels)
{
	cr_assert_null(check(FT_ENUM, 0, 0, 0, "\"red\""));
	cr_assert_not_null(check(FT_ENUM, 0, 0, 0, "\"blue\""));
	cr_assert_null(check(FT_UUID, 0, 0, 0, "\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\""));
	cr_assert_not_null(check(FT_UUID, 0, 0, 0, "\"nope\""));
	cr_assert_not_null(check(FT_DNS_LABEL, 0, 0, 0, "\"Bad_Label\""));
}

Test(validate, integers_reject_floats_and_out_of_range)
{
	cr_assert_null(check(FT_INTEGER, 0, 1, 100, "100"));
	cr_assert_not_null(check(FT_INTEGER, 0, 1, 100, "101"));
	cr_assert_not_null(check(FT_INTEGER, 0, 1, 100, "1.5"));
	cr_assert_not_null(check(FT_INTEGER, 0, 1, 100, "\"5\""));
}

Test(validate, decimals_are_strings_with_bounded_precision)
{
	cr_assert_null(check(FT_DECIMAL, 0, 0, 2, "\"2.50\""));
	cr_assert_null(check(FT_DECIMAL, 0, 0, 2, "\"3\""));
	cr_assert_not_null(check(FT_DECIMAL, 0, 0, 2, "\"2.505\""));
	cr_assert_not_null(check(FT_DECIMAL, 0, 0, 2, "2.5"));
	cr_assert_not_null(check(FT_DECIMAL, 0, 0, 2, "\"-1.00\""));
	cr_assert_not_null(check(FT_DECIMAL, 0, 0, 2, "\"1e3\""));
	cr_assert_not_null(check(FT_DECIMAL, 0, 0, 2, "\"2.\""));
}

Test(validate, string_maps_bound_keys_and_values)
{
	cr_assert_null(check(FT_STRING_MAP, 0, 0, 2, "{\"Owner\":\"a\",\"CostCenter\":\"b\"}"));
	cr_assert_not_null(check(FT_STRING_MAP, 0, 0, 2, "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}"));
	cr_assert_not_null(check(FT_STRING_MAP, 0, 0, 2, "{\"a\":1}"));
	cr_assert_not_null(check(FT_STRING_MAP, 0, 0, 2, "{\"a\":null}"));
	cr_assert_null(check(FT_STRING_MAP_PATCH, 0, 0, 2, "{\"a\":null}"));
	cr_assert_not_null(check(FT_STRING_MAP, 0, 0, 2, "[]"));
}

Test(validate, timestamps_are_rfc3339_with_a_zone_and_a_real_date)
{
	cr_assert_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-11-22T18:00:00Z\""));
	cr_assert_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-11-22T18:00:00.123456Z\""));
	cr_assert_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-11-22T18:00:00+01:00\""));
	cr_assert_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2028-02-29T00:00:00Z\""), "a leap day");
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-02-29T00:00:00Z\""), "no such day");
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-02-30T10:00:00Z\""));
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-13-01T10:00:00Z\""));
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-11-22T24:00:00Z\""));
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-11-22T18:00:00\""), "no zone");
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-11-22 18:00:00Z\""));
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "\"2026-11-22T18:00:00+25:00\""));
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "\"tomorrow\""));
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "1764000000"));
	cr_assert_not_null(check(FT_TIMESTAMP, 0, 0, 0, "\"0001-01-01T00:00:00Z\""), "before 1900");
}

Test(validate, arrays_bound_their_length)
{
	cr_assert_null(check(FT_ARRAY, 0, 2, 3, "[1, 2]"));
	cr_assert_not_null(check(FT_ARRAY, 0, 2, 3, "[1]"));
	cr_assert_not_null(check(FT_ARRAY, 0, 2, 3, "[1, 2, 3, 4]"));
	cr_assert_not_null(check(FT_ARRAY, 0, 2, 3, "{}"));
}

Test(validate, currencies_are_three_upper_case_letters)
{
	cr_assert_null(check(FT_CURRENCY, 0, 0, 0, "\"EUR\""));
	cr_assert_not_null(check(FT_CURRENCY, 0, 0, 0, "\"eur\""));
	cr_assert_not_null(check(FT_CURRENCY, 0, 0, 0, "\"EURO\""));
	cr_assert_not_null(check(FT_CURRENCY, 0, 0, 0, "\"E1R\""));
	cr_assert_not_null(check(FT_CURRENCY, 0, 0, 0, "978"));
}
