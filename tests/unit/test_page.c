/* Unit tests for server/store/page.c: cursors are opaque but strictly parsed. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "server/store/page.h"

Test(page, cursor_round_trips)
{
	const char *key = "1795307101123456|0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f";
	char *enc = util_b64url_encode((const unsigned char *)key, strlen(key));
	struct page_cursor c;
	cr_assert(page_cursor_decode(enc, &c));
	cr_assert(c.present);
	cr_assert_str_eq(c.us, "1795307101123456");
	cr_assert_str_eq(c.id, "0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f");
	free(enc);
}

Test(page, malformed_cursors_are_refused)
{
	const char *bad[] = {"", "!!not-a-cursor!!", "MTIz", /* "123" */
			     "MTIzfG5vdC1hLXV1aWQ", /* "123|not-a-uuid" */
			     "fDBiOWY4YzFlLTJmNGEtNGMzYi05ZDFlLTdhNmI1YzRkM2UyZg", /* "|uuid" */
			     "MXgyfDBiOWY4YzFlLTJmNGEtNGMzYi05ZDFlLTdhNmI1YzRkM2UyZg"}; /* "1x2|uuid" */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct page_cursor c;
		cr_assert_not(page_cursor_decode(bad[i], &c), "accepted %s", bad[i]);
		cr_assert_not(c.present);
	}
}

/* Regression: a cursor whose number overflows bigint (or the timestamp
 * range) used to reach SQL and come back as a 503; it is refused here. */
Test(page, cursors_with_more_than_sixteen_digits_are_refused)
{
	const char *keys[] = {"99999999999999999999|0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f",
			      "9223372036854775808|0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f",
			      "12345678901234567|0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *enc = util_b64url_encode((const unsigned char *)keys[i], strlen(keys[i]));
		struct page_cursor c;
		cr_assert_not(page_cursor_decode(enc, &c), "accepted %s", keys[i]);
		free(enc);
	}
	const char *max = "9999999999999999|0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f";
	char *enc = util_b64url_encode((const unsigned char *)max, strlen(max));
	struct page_cursor c;
	cr_assert(page_cursor_decode(enc, &c));
	free(enc);
}
