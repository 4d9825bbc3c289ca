/* Unit tests for server/outbound/blob.c: Shared Key signing exactly as the Storage
 * REST API defines it (checked against an independent HMAC computation),
 * container names and the date format. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "server/outbound/blob.h"

#define AZURITE_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

Test(blob, string_to_sign_has_the_twelve_headers_then_canonical_parts)
{
	const char *ms[] = {"x-ms-client-request-id:req-1", "x-ms-date:Sun, 22 Nov 2026 00:25:01 GMT",
			    "x-ms-version:2021-12-02", NULL};
	const char *params[] = {"restype:container", NULL};
	char *res = blob_canonical_resource("devstoreaccount1", "/devstoreaccount1/acme-dev-uploads", params);
	cr_assert_str_eq(res, "/devstoreaccount1/devstoreaccount1/acme-dev-uploads\nrestype:container");
	char *sts = blob_string_to_sign("PUT", 0, "", ms, res);
	cr_assert_str_eq(sts, "PUT\n\n\n\n\n\n\n\n\n\n\n\n"
			      "x-ms-client-request-id:req-1\nx-ms-date:Sun, 22 Nov 2026 00:25:01 GMT\n"
			      "x-ms-version:2021-12-02\n"
			      "/devstoreaccount1/devstoreaccount1/acme-dev-uploads\nrestype:container");
	char *with_len = blob_string_to_sign("PUT", 42, "application/xml", NULL, "/a/b");
	cr_assert_str_eq(with_len, "PUT\n\n\n42\n\napplication/xml\n\n\n\n\n\n\n/a/b");
	free(with_len);
	free(sts);
	free(res);
}

Test(blob, signature_is_base64_hmac_sha256_with_the_decoded_key)
{
	const char *sts = "PUT\n\n\n\n\n\n\n\n\n\n\n\n"
			  "x-ms-client-request-id:req-1\nx-ms-date:Sun, 22 Nov 2026 00:25:01 GMT\n"
			  "x-ms-version:2021-12-02\n"
			  "/devstoreaccount1/devstoreaccount1/acme-dev-uploads\nrestype:container";
	char sig[128];
	cr_assert(blob_signature(AZURITE_KEY, sts, sig, sizeof(sig)));
	/* Python: base64(hmac.new(b64decode(key), sts, sha256).digest()) */
	cr_assert_str_eq(sig, "0CP3cLYhjw0GCuV7tfsytf/1SZXAcG9YpRSv9R/Gyic=");
}

Test(blob, a_key_that_is_not_base64_is_refused)
{
	char sig[128];
	cr_assert_not(blob_signature("", "x", sig, sizeof(sig)));
	cr_assert_not(blob_signature("abc", "x", sig, sizeof(sig)));
	cr_assert_not(blob_signature("!!!!", "x", sig, sizeof(sig)));
	cr_assert_not(blob_signature(AZURITE_KEY, "x", sig, 10), "output too small");
}

Test(blob, container_names_follow_the_storage_rules)
{
	cr_assert(blob_container_name_valid("abc"));
	cr_assert(blob_container_name_valid("acme-dev-uploads"));
	cr_assert_not(blob_container_name_valid("ab"));
	cr_assert_not(blob_container_name_valid("a--b"));
	cr_assert_not(blob_container_name_valid("-ab"));
	cr_assert_not(blob_container_name_valid("ab-"));
	cr_assert_not(blob_container_name_valid("Abc"));
	cr_assert_not(blob_container_name_valid("a_bc"));
	char n[65];
	memset(n, 'a', 64);
	n[64] = '\0';
	cr_assert_not(blob_container_name_valid(n));
	n[63] = '\0';
	cr_assert(blob_container_name_valid(n));
}

Test(blob, http_date_is_rfc_1123_in_gmt)
{
	char d[40];
	blob_http_date(1795307101, d); /* 2026-11-22T00:25:01Z */
	cr_assert_str_eq(d, "Sun, 22 Nov 2026 00:25:01 GMT");
	blob_http_date(0, d);
	cr_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* Service SAS, version 2020-12-06 and later: 16 lines (sp, st, se,
 * resource, si, sip, spr, sv, sr, snapshot, ses, rscc, rscd, rsce, rscl,
 * rsct); Azurite accepting what this signs is tests/integration's. */
Test(blob, service_sas_string_to_sign_has_the_sixteen_fields_of_2020_12_06)
{
	char *sts = blob_sas_string_to_sign("cw", "2026-12-05T18:50:00Z", "acct", "product-images",
					    "t/i/m", "https");
	cr_assert_str_eq(sts, "cw\n\n2026-12-05T18:50:00Z\n/blob/acct/product-images/t/i/m\n\n\nhttps\n"
			      BLOB_API_VERSION "\nb\n\n\n\n\n\n\n");
	int lines = 1;
	for (const char *p = sts; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 16);
	free(sts);
}
