/* Unit tests for server/auth/session.c: ids, secrets and the CSRF decision. */
#include <criterion/criterion.h>

#include "server/auth/session.h"

#define SITE "https://portal.example.test"
#define TOKEN "4ef7377e77c8e0a1425f731dca53c2a3af7afa0396eb208d4b5e6a0d3d482299"

Test(session, ids_are_64_lower_hex)
{
	cr_assert(session_id_valid(TOKEN));
	cr_assert_not(session_id_valid("4EF7377E77C8E0A1425F731DCA53C2A3AF7AFA0396EB208D4B5E6A0D3D482299"));
	cr_assert_not(session_id_valid("abc"));
	cr_assert_not(session_id_valid(TOKEN "00"));
	cr_assert_not(session_id_valid("zzf7377e77c8e0a1425f731dca53c2a3af7afa0396eb208d4b5e6a0d3d482299"));
	cr_assert_not(session_id_valid(""));
	cr_assert_not(session_id_valid(NULL));
}

Test(session, secrets_compare_whole_and_never_empty)
{
	cr_assert(session_secret_equal(TOKEN, TOKEN));
	cr_assert_not(session_secret_equal(TOKEN, TOKEN "x"));
	cr_assert_not(session_secret_equal("abc", "abd"));
	cr_assert_not(session_secret_equal("", ""));
}

Test(session, csrf_needs_same_origin_and_the_sessions_token)
{
	cr_assert_eq(session_csrf_check(SITE, NULL, TOKEN, TOKEN, SITE), CSRF_OK);
	cr_assert_eq(session_csrf_check(NULL, SITE "/app/tenants", TOKEN, TOKEN, SITE), CSRF_OK);
	cr_assert_eq(session_csrf_check("https://evil.test", NULL, TOKEN, TOKEN, SITE), CSRF_CROSS_SITE);
	cr_assert_eq(session_csrf_check(SITE ".evil.test", NULL, TOKEN, TOKEN, SITE), CSRF_CROSS_SITE);
	cr_assert_eq(session_csrf_check("null", NULL, TOKEN, TOKEN, SITE), CSRF_CROSS_SITE);
	cr_assert_eq(session_csrf_check(NULL, NULL, TOKEN, TOKEN, SITE), CSRF_CROSS_SITE);
	cr_assert_eq(session_csrf_check(NULL, SITE ".evil.test/x", TOKEN, TOKEN, SITE), CSRF_CROSS_SITE);
	cr_assert_eq(session_csrf_check(SITE, NULL, NULL, TOKEN, SITE), CSRF_BAD_TOKEN);
	cr_assert_eq(session_csrf_check(SITE, NULL, "5ef7377e77c8e0a1425f731dca53c2a3af7afa0396eb208d4b5e6a0d3d482299", TOKEN, SITE), CSRF_BAD_TOKEN);
	cr_assert_eq(session_csrf_check(SITE, NULL, "", "", SITE), CSRF_BAD_TOKEN);
}
