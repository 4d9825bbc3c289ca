/* Unit tests for server/common/util.c: identifiers, encodings, time format, arena. */
#include <criterion/criterion.h>
#include <string.h>
#include <stdlib.h>

#include "server/common/util.h"

Test(util, uuid_accepts_canonical_and_rejects_malformed)
{
	cr_assert(util_is_uuid("0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f"));
	cr_assert(util_is_uuid("0B9F8C1E-2F4A-4C3B-9D1E-7A6B5C4D3E2F"));
	cr_assert_not(util_is_uuid("0b9f8c1e2f4a4c3b9d1e7a6b5c4d3e2f"));
	cr_assert_not(util_is_uuid("0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2"));
	cr_assert_not(util_is_uuid("0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2fz"));
	cr_assert_not(util_is_uuid("zb9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f"));
	cr_assert_not(util_is_uuid(""));
	cr_assert_not(util_is_uuid(NULL));
}

Test(util, dns_label_rules)
{
	cr_assert(util_is_dns_label("a"));
	cr_assert(util_is_dns_label("contoso-dev-1"));
	cr_assert_not(util_is_dns_label("-lead"));
	cr_assert_not(util_is_dns_label("trail-"));
	cr_assert_not(util_is_dns_label("Upper"));
	cr_assert_not(util_is_dns_label("under_score"));
	cr_assert_not(util_is_dns_label(""));
	char long_label[65];
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	cr_assert_not(util_is_dns_label(long_label));
	long_label[63] = '\0';
	cr_assert(util_is_dns_label(long_label));
}

Test(util, b64url_round_trips_every_length)
{
	unsigned char in[40];
	for (int i = 0; i < 40; i++)
		in[i] = (unsigned char)(i * 37 + 250);
	for (size_t n = 0; n < sizeof(in); n++) {
		char *enc = util_b64url_encode(in, n);
		cr_assert_null(strchr(enc, '='));
		cr_assert_null(strchr(enc, '+'));
		cr_assert_null(strchr(enc, '/'));
		size_t outlen = 0;
		unsigned char *dec = util_b64url_decode(enc, strlen(enc), &outlen);
		cr_assert_not_null(dec, "decode failed for length %zu", n);
		cr_assert_eq(outlen, n);
		cr_assert_eq(memcmp(dec, in, n), 0);
		free(enc);
		free(dec);
	}
}

Test(util, b64url_rejects_standard_alphabet_padding_and_garbage)
{
	size_t n;
	cr_assert_null(util_b64url_decode("ab+c", 4, &n));
	cr_assert_null(util_b64url_decode("ab/c", 4, &n));
	cr_assert_null(util_b64url_decode("abc=", 4, &n));
	cr_assert_null(util_b64url_decode("a", 1, &n));
	cr_assert_null(util_b64url_decode("ab.c", 4, &n));
}

Test(util, rfc3339_formats_utc_with_microseconds)
{
	char out[32];
	util_format_rfc3339_us(0, out);
	cr_assert_str_eq(out, "1970-01-01T00:00:00.000000Z");
	util_format_rfc3339_us(1795307101123456LL, out);
	cr_assert_str_eq(out, "2026-11-22T00:25:01.123456Z");
}

Test(util, uuid_v4_is_random_and_versioned)
{
	char a[37], b[37];
	util_uuid_v4(a);
	util_uuid_v4(b);
	cr_assert(util_is_uuid(a));
	cr_assert_eq(a[14], '4');
	cr_assert(strchr("89ab", a[19]) != NULL);
	cr_assert_str_neq(a, b);
}

Test(util, sha256_hex_matches_known_vector)
{
	char out[65];
	util_sha256_hex("abc", 3, out);
	cr_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(util, arena_keeps_allocations_apart_and_aligned)
{
	struct arena a = {0};
	char *s1 = arena_strdup(&a, "first");
	char *big = arena_alloc(&a, 10000);
	memset(big, 'x', 10000);
	char *s2 = arena_printf(&a, "%s-%d", "second", 2);
	cr_assert_str_eq(s1, "first");
	cr_assert_str_eq(s2, "second-2");
	cr_assert_eq((uintptr_t)big % _Alignof(max_align_t), 0);
	arena_free(&a);
	cr_assert_null(a.head);
}

Test(util, uuid_v5_matches_the_rfc_example)
{
	char out[37];
	util_uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com", out);
	cr_assert_str_eq(out, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
}

Test(util, ip_lists_match_addresses_and_cidr_blocks)
{
	const char *list = "10.0.0.0/8, 192.168.1.7,fd00::/8";
	cr_assert(util_ip_in_list("10.1.2.3", list));
	cr_assert(util_ip_in_list("192.168.1.7", list));
	cr_assert_not(util_ip_in_list("192.168.1.8", list));
	cr_assert(util_ip_in_list("fd12::1", list));
	cr_assert_not(util_ip_in_list("fe80::1", list));
	cr_assert_not(util_ip_in_list("11.0.0.1", list));
	cr_assert_not(util_ip_in_list("not-an-ip", list));
	cr_assert_not(util_ip_in_list("10.0.0.1", NULL));
	cr_assert(util_ip_in_list("172.16.5.4", "172.16.0.0/12"));
	cr_assert_not(util_ip_in_list("172.32.0.1", "172.16.0.0/12"));
}
