/*
 * fuzz_cursor - page_cursor_decode() (server/store/page.h), the ?cursor=
 * of every list endpoint.
 *
 * Two views of each input:
 *  1. the input as the ?cursor= text: a decoded cursor must be present,
 *     with `us` 1..23 decimal digits and `id` a UUID, and encoding
 *     "us|id" again must decode to the same cursor; a refused one must
 *     not be marked present (its us/id may hold a partial copy: callers
 *     only look at the return value and `present`).
 *  2. the input as the raw sort key: its base64url is decoded, and the
 *     result must agree with a direct model of the accepted shape
 *     (^[0-9]{1,23}\|<uuid>$, cursor text at most 128 characters).
 */
#include "tests/fuzz/fuzz_common.h"
#include "server/store/page.h"

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void check_decoded(const char *text, const struct page_cursor *c)
{
	FUZZ_CHECK(c->present, "decoded cursor not marked present: %s", text);
	FUZZ_CHECK(all_digits(c->us) && strlen(c->us) < sizeof(c->us), "us not digits: %s", text);
	FUZZ_CHECK(util_is_uuid(c->id), "id not a UUID: %s", text);
	/* Round trip: what the API would hand out for this key decodes the same. */
	char key[sizeof(c->us) + 1 + sizeof(c->id)];
	snprintf(key, sizeof(key), "%s|%s", c->us, c->id);
	char *again = util_b64url_encode((const unsigned char *)key, strlen(key));
	struct page_cursor c2;
	FUZZ_CHECK(page_cursor_decode(again, &c2), "re-encoded cursor refused: %s", again);
	FUZZ_CHECK(strcmp(c2.us, c->us) == 0 && strcmp(c2.id, c->id) == 0, "round trip differs: %s", text);
	free(again);
}

/* The accepted shape of a raw sort key, written independently of page.c. */
static bool model_accepts(const uint8_t *raw, size_t n)
{
	const uint8_t *bar = memchr(raw, '|', n);
	if (bar == NULL)
		return false;
	size_t ulen = (size_t)(bar - raw);
	/* At most 16 digits: a longer number overflows bigint or the
	 * timestamp range in SQL (page.c refuses it; a 400, not a 503). */
	if (ulen < 1 || ulen > 16 || n - ulen - 1 != 36)
		return false;
	for (size_t i = 0; i < ulen; i++)
		if (raw[i] < '0' || raw[i] > '9')
			return false;
	char id[37];
	memcpy(id, bar + 1, 36);
	id[36] = '\0';
	return strlen(id) == 36 && util_is_uuid(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 1. as cursor text */
	char *text = fuzz_cstr(data, size);
	struct page_cursor c;
	memset(&c, 0xAA, sizeof(c));
	bool ok = page_cursor_decode(text, &c);
	if (ok)
		check_decoded(text, &c);
	else
		FUZZ_CHECK(!c.present, "refused cursor marked present: %s", text);
	free(text);

	/* 2. as the raw sort key, base64url-encoded the way page_json() does */
	char *enc = util_b64url_encode(data, size);
	ok = page_cursor_decode(enc, &c);
	bool want = strlen(enc) <= 128 && model_accepts(data, size);
	FUZZ_CHECK(ok == want, "decode says %d, model says %d for %s", ok, want, enc);
	if (ok)
		check_decoded(enc, &c);
	free(enc);
	return 0;
}
