/* Unit tests for server/common/secretbox.c: AES-256-GCM secrets at rest. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "server/common/secretbox.h"

/* base64 of 32 bytes: "A"*32 and "B"*32. */
#define KA "a1:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
#define KB "b2:QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="

static struct secretbox_keys keys(const char *spec)
{
	struct secretbox_keys k;
	char err[256];
	cr_assert(secretbox_parse(spec, &k, err, sizeof(err)), "%s: %s", spec, err);
	return k;
}

static char *open_str(const struct secretbox_keys *k, const char *aad, const char *sealed,
		      enum secretbox_status *st)
{
	unsigned char *pt;
	size_t len;
	*st = secretbox_open_with(k, aad, sealed, &pt, &len);
	return (char *)pt;
}

Test(secretbox, round_trip_with_key_id_prefix_and_fresh_nonce)
{
	struct secretbox_keys k = keys(KA);
	const char *secret = "refresh-token-AB11946…";
	char *s1 = secretbox_seal_with(&k, "qbo.rt:t1", (const unsigned char *)secret, strlen(secret));
	char *s2 = secretbox_seal_with(&k, "qbo.rt:t1", (const unsigned char *)secret, strlen(secret));
	cr_assert_not_null(s1);
	cr_assert(strncmp(s1, "a1:", 3) == 0);
	cr_assert_null(strstr(s1, "refresh"));
	cr_assert_str_neq(s1, s2, "each seal uses a new random nonce");
	enum secretbox_status st;
	char *pt = open_str(&k, "qbo.rt:t1", s1, &st);
	cr_assert_eq(st, SB_OK);
	cr_assert_str_eq(pt, secret);
	free(pt);
	free(s1);
	free(s2);
}

Test(secretbox, wrong_key_with_the_same_id_fails)
{
	struct secretbox_keys k = keys(KA);
	struct secretbox_keys other = keys("a1:QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=");
	char *s = secretbox_seal_with(&k, "x", (const unsigned char *)"secret", 6);
	enum secretbox_status st;
	cr_assert_null(open_str(&other, "x", s, &st));
	cr_assert_eq(st, SB_FORGED);
	free(s);
}

Test(secretbox, unknown_key_id_is_reported)
{
	struct secretbox_keys k = keys(KA), kb = keys(KB);
	char *s = secretbox_seal_with(&k, "x", (const unsigned char *)"secret", 6);
	enum secretbox_status st;
	cr_assert_null(open_str(&kb, "x", s, &st));
	cr_assert_eq(st, SB_UNKNOWN_KEY);
	free(s);
}

Test(secretbox, any_tampered_byte_fails)
{
	struct secretbox_keys k = keys(KA);
	char *s = secretbox_seal_with(&k, "x", (const unsigned char *)"a-secret-value", 14);
	size_t n = strlen(s);
	for (size_t i = 3; i < n; i++) {
		if (s[i] == '=')
			continue;
		char saved = s[i];
		s[i] = saved == 'A' ? 'B' : 'A';
		enum secretbox_status st;
		char *pt = open_str(&k, "x", s, &st);
		cr_assert_null(pt, "byte %zu changed and still opened", i);
		cr_assert_neq(st, SB_OK);
		s[i] = saved;
	}
	free(s);
}

Test(secretbox, swapped_associated_data_fails)
{
	struct secretbox_keys k = keys(KA);
	char *s = secretbox_seal_with(&k, "quickbooks.refresh_token:tenant-1",
				      (const unsigned char *)"secret", 6);
	enum secretbox_status st;
	cr_assert_null(open_str(&k, "quickbooks.refresh_token:tenant-2", s, &st));
	cr_assert_eq(st, SB_FORGED);
	cr_assert_null(open_str(&k, "quickbooks.access_token:tenant-1", s, &st));
	cr_assert_eq(st, SB_FORGED);
	free(s);
}

Test(secretbox, rotation_old_key_still_opens_new_key_seals)
{
	struct secretbox_keys old = keys(KA);
	struct secretbox_keys rotated = keys(KB "," KA);
	char *before = secretbox_seal_with(&old, "x", (const unsigned char *)"s1", 2);
	char *after = secretbox_seal_with(&rotated, "x", (const unsigned char *)"s2", 2);
	cr_assert(strncmp(after, "b2:", 3) == 0, "the first key seals");
	enum secretbox_status st;
	char *pt = open_str(&rotated, "x", before, &st);
	cr_assert_eq(st, SB_OK);
	cr_assert_str_eq(pt, "s1");
	free(pt);
	cr_assert_null(open_str(&old, "x", after, &st));
	cr_assert_eq(st, SB_UNKNOWN_KEY);
	free(before);
	free(after);
}

Test(secretbox, malformed_sealed_values_are_refused)
{
	struct secretbox_keys k = keys(KA);
	const char *bad[] = {"", "a1", "a1:", ":abcd", "a1:!!!!", "a1:QUFB", "a1:QUFBQUFBQUFBQUFBQUFBQUFBQUFB",
			     "nokeyid-at-all-and-long-enough-to-be-more-than-32-characters:QUFB"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum secretbox_status st;
		cr_assert_null(open_str(&k, "x", bad[i], &st), "%s", bad[i]);
		cr_assert_neq(st, SB_OK);
	}
}

Test(secretbox, key_lists_are_validated_without_echoing_key_material)
{
	const char *bad[] = {
		"", "nocolon", ":QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", "a1:short",
		"a1:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", /* 30 bytes */
		"a b:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", KA "," KA, KA ",",
		"a1:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==", /* 33 bytes */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct secretbox_keys k;
		char err[256] = "";
		cr_assert_not(secretbox_parse(bad[i], &k, err, sizeof(err)), "accepted: %s", bad[i]);
		cr_assert(err[0] != '\0');
		cr_assert_null(strstr(err, "QUFB"), "the reason shows key material: %s", err);
	}
	struct secretbox_keys two = keys(KB "," KA);
	cr_assert_eq(two.n, 2);
	cr_assert_str_eq(two.k[0].id, "b2");
}

Test(secretbox, process_keys_seal_and_open_text)
{
	char err[128];
	cr_assert(secretbox_load(KA, err, sizeof(err)));
	cr_assert(secretbox_ready());
	char *s = secretbox_seal("p:1", "hello");
	enum secretbox_status st;
	char *pt = secretbox_open("p:1", s, &st);
	cr_assert_str_eq(pt, "hello");
	secretbox_free(pt);
	free(s);
	cr_assert_not(secretbox_load("bad", err, sizeof(err)));
}
