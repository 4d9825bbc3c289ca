/*
 * Unit tests for server/auth/auth.c and server/auth/jwks.c: the bearer token checks
 * in SPEC.md's order, with tokens signed here by a key whose JWK is loaded
 * into the cache, and forged ones (alg none, HS256 keyed with the public
 * PEM, wrong key, tampered payload).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth/auth.h"
#include "server/common/config.h"
#include "server/auth/jwks.h"
#include "server/common/util.h"

#define TID "3c5e7f90-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
#define OID "7d8e9fa0-b1c2-4d3e-8f4a-5b6c7d8e9fa0"
#define ISSUER_TMPL "https://login.example.test/{tenantid}/v2.0"
#define AUD "api://atrium"

struct keypair {
	char *priv_pem, *pub_pem, *jwk_n, *jwk_e;
};

static struct keypair good, other;

static char *bio_string(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = xstrndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

static char *bn_b64url(EVP_PKEY *pk, const char *name)
{
	BIGNUM *bn = NULL;
	EVP_PKEY_get_bn_param(pk, name, &bn);
	unsigned char buf[1024];
	int n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return util_b64url_encode(buf, (size_t)n);
}

static void make_key(struct keypair *k, unsigned bits)
{
	EVP_PKEY *pk = EVP_RSA_gen(bits);
	cr_assert_not_null(pk);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	k->priv_pem = bio_string(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(b, pk);
	k->pub_pem = bio_string(b);
	k->jwk_n = bn_b64url(pk, OSSL_PKEY_PARAM_RSA_N);
	k->jwk_e = bn_b64url(pk, OSSL_PKEY_PARAM_RSA_E);
	EVP_PKEY_free(pk);
}

static void free_key(struct keypair *k)
{
	free(k->priv_pem);
	free(k->pub_pem);
	free(k->jwk_n);
	free(k->jwk_e);
}

static void setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.audiences[0] = AUD;
	cfg.n_audiences = 1;
	cfg.clock_skew_s = 60;
	cfg.oidc_v1_issuer = "https://sts.example.test/{tenantid}/";
	/* Nothing listens here: an unknown kid's refresh fails fast. */
	cfg.oidc_metadata_url = "http://127.0.0.1:9/openid-configuration";
	cfg.jwks_min_refresh_s = 3600;
	make_key(&good, 2048);
	make_key(&other, 2048);
	char *jwks = xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"k1\",\"n\":\"%s\",\"e\":\"%s\"}]}",
			       good.jwk_n, good.jwk_e);
	cr_assert_eq(jwks_load_for_test(ISSUER_TMPL, jwks), 1);
	free(jwks);
}

static void teardown(void)
{
	jwks_stop();
	free_key(&good);
	free_key(&other);
}

TestSuite(auth, .init = setup, .fini = teardown);

/* Claims of a good v2 token, with overrides merged in. */
static char *claims_json(const char *overrides)
{
	int64_t now = util_now_s();
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:[s]}",
			      "iss", "https://login.example.test/" TID "/v2.0", "tid", TID, "oid", OID,
			      "aud", AUD, "iat", (json_int_t)now, "nbf", (json_int_t)now,
			      "exp", (json_int_t)(now + 3600), "ver", "2.0", "roles", "tenant_admin");
	if (overrides) {
		json_t *o = json_loads(overrides, 0, NULL);
		cr_assert_not_null(o, "bad overrides");
		json_object_update(c, o);
		const char *k;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(c, tmp, k, v)
			if (json_is_null(v))
				json_object_del(c, k);
		json_decref(o);
	}
	char *s = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return s;
}

static char *sign(jwt_alg_t alg, const char *key, const char *kid, const char *overrides)
{
	jwt_t *jwt = NULL;
	jwt_new(&jwt);
	char *claims = claims_json(overrides);
	cr_assert_eq(jwt_add_grants_json(jwt, claims), 0);
	free(claims);
	if (kid)
		jwt_add_header(jwt, "kid", kid);
	cr_assert_eq(jwt_set_alg(jwt, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0), 0);
	char *tok = jwt_encode_str(jwt);
	cr_assert_not_null(tok);
	jwt_free(jwt);
	return tok;
}

static enum auth_status verify(const char *tok, const char **why)
{
	struct principal p;
	*why = NULL;
	return auth_verify(tok, NULL, &p, why);
}

Test(auth, accepts_a_good_rs256_token_and_reads_identity)
{
	char *tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", "{\"name\":\"Ada\",\"preferred_username\":\"ada@contoso.test\"}");
	struct principal p;
	const char *why = NULL;
	cr_assert_eq(auth_verify(tok, NULL, &p, &why), AUTH_OK, "%s", why);
	cr_assert_str_eq(p.tid, TID);
	cr_assert_str_eq(p.oid, OID);
	cr_assert_str_eq(p.name, "Ada");
	cr_assert_str_eq(p.username, "ada@contoso.test");
	cr_assert(p.roles & ROLE_TENANT_ADMIN);
	free(tok);
}

Test(auth, refuses_alg_none)
{
	char *claims = claims_json(NULL);
	char *h = util_b64url_encode((const unsigned char *)"{\"alg\":\"none\",\"kid\":\"k1\"}", 25);
	char *b = util_b64url_encode((const unsigned char *)claims, strlen(claims));
	char *tok = xasprintf("%s.%s.", h, b);
	char *tok2 = xasprintf("%s.%s.c2ln", h, b);
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_eq(verify(tok2, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token must be signed with RS256");
	free(claims); free(h); free(b); free(tok); free(tok2);
}

Test(auth, refuses_hs256_keyed_with_the_public_key_pem)
{
	/* libjwt 1.10 would verify this with the RSA public key's PEM as the
	 * HMAC secret if the header were not checked first. */
	char *tok = sign(JWT_ALG_HS256, good.pub_pem, "k1", NULL);
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token must be signed with RS256");
	free(tok);
}

Test(auth, refuses_other_rsa_algorithms)
{
	char *tok = sign(JWT_ALG_RS512, good.priv_pem, "k1", NULL);
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
}

Test(auth, refuses_a_signature_by_another_key_under_a_known_kid)
{
	char *tok = sign(JWT_ALG_RS256, other.priv_pem, "k1", NULL);
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token signature is not valid");
	free(tok);
}

Test(auth, refuses_unknown_kid_and_missing_kid)
{
	char *tok = sign(JWT_ALG_RS256, good.priv_pem, "k-unknown", NULL);
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
	tok = sign(JWT_ALG_RS256, good.priv_pem, NULL, NULL);
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token header has no usable kid");
	free(tok);
}

Test(auth, refuses_a_tampered_payload)
{
	char *tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", NULL);
	char *evil_claims = claims_json("{\"roles\":[\"super_admin\"]}");
	char *evil = util_b64url_encode((const unsigned char *)evil_claims, strlen(evil_claims));
	char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
	char *forged = xasprintf("%.*s.%s%s", (int)(d1 - tok), tok, evil, d2);
	const char *why;
	cr_assert_eq(verify(forged, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token signature is not valid");
	free(tok); free(evil_claims); free(evil); free(forged);
}

Test(auth, refuses_malformed_compact_forms)
{
	const char *bad[] = {"", "abc", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "!!.b.c",
			     "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" /* no kid */};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why;
		cr_assert_eq(verify(bad[i], &why), AUTH_INVALID, "accepted '%s'", bad[i]);
	}
}

Test(auth, exp_and_nbf_honour_the_clock_skew)
{
	int64_t now = util_now_s();
	char ov[128];
	const char *why;
	snprintf(ov, sizeof(ov), "{\"exp\":%lld}", (long long)(now - 30));
	char *tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", ov);
	cr_assert_eq(verify(tok, &why), AUTH_OK, "30 s past exp is within skew: %s", why);
	free(tok);
	snprintf(ov, sizeof(ov), "{\"exp\":%lld}", (long long)(now - 120));
	tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", ov);
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token has expired");
	free(tok);
	snprintf(ov, sizeof(ov), "{\"nbf\":%lld}", (long long)(now + 600));
	tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", ov);
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
	tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", "{\"exp\":null}");
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
}

Test(auth, issuer_must_be_the_tokens_own_directory)
{
	const char *why;
	char *tok = sign(JWT_ALG_RS256, good.priv_pem, "k1",
			 "{\"iss\":\"https://login.example.test/00000000-0000-4000-8000-000000000000/v2.0\"}");
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
	tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", "{\"iss\":\"https://evil.test/" TID "/v2.0\"}");
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
	tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", "{\"tid\":null}");
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
}

Test(auth, accepts_v1_issuer_for_v1_tokens_only)
{
	const char *why;
	char *tok = sign(JWT_ALG_RS256, good.priv_pem, "k1",
			 "{\"ver\":\"1.0\",\"iss\":\"https://sts.example.test/" TID "/\"}");
	cr_assert_eq(verify(tok, &why), AUTH_OK, "%s", why);
	free(tok);
	tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", "{\"iss\":\"https://sts.example.test/" TID "/\"}");
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
}

Test(auth, audience_must_be_ours)
{
	const char *why;
	char *tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", "{\"aud\":\"api://someone-else\"}");
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token audience is not this API");
	free(tok);
	tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", "{\"aud\":[\"api://x\",\"" AUD "\"]}");
	cr_assert_eq(verify(tok, &why), AUTH_OK);
	free(tok);
}

Test(auth, roles_claim_must_be_an_array_of_strings)
{
	const char *why;
	char *tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", "{\"roles\":\"super_admin\"}");
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
	tok = sign(JWT_ALG_RS256, good.priv_pem, "k1", "{\"roles\":[1]}");
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	free(tok);
}

Test(auth, jwks_ignores_small_and_non_signing_keys)
{
	struct keypair small;
	make_key(&small, 1024);
	char *jwks = xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"s\",\"n\":\"%s\",\"e\":\"%s\"},"
			       "{\"kty\":\"RSA\",\"use\":\"enc\",\"kid\":\"e\",\"n\":\"%s\",\"e\":\"%s\"},"
			       "{\"kty\":\"EC\",\"kid\":\"ec\"}]}",
			       small.jwk_n, small.jwk_e, good.jwk_n, good.jwk_e);
	cr_assert_eq(jwks_load_for_test(ISSUER_TMPL, jwks), 0);
	free(jwks);
	free_key(&small);
}

Test(auth, issuer_template_expansion)
{
	char out[128];
	cr_assert(jwks_expand_issuer("https://login.microsoftonline.com/{tenantid}/v2.0", TID, out, sizeof(out)));
	cr_assert_str_eq(out, "https://login.microsoftonline.com/" TID "/v2.0");
	cr_assert_not(jwks_expand_issuer("https://login.microsoftonline.com/{tenantid}/v2.0", TID, out, 20));
}

Test(auth, role_names_map_to_bits)
{
	cr_assert_eq(auth_role_from_name("super_admin"), ROLE_SUPER_ADMIN);
	cr_assert_eq(auth_role_from_name("billing_viewer"), ROLE_BILLING_VIEWER);
	cr_assert_eq(auth_role_from_name("Super_Admin"), 0);
	struct principal p = {.roles = ROLE_SUPPORT_USER};
	cr_assert(auth_has_role(&p, ROLE_ANY));
	cr_assert(auth_has_role(&p, ROLE_TENANT_ADMIN | ROLE_SUPPORT_USER));
	cr_assert_not(auth_has_role(&p, ROLE_TENANT_ADMIN));
	p.roles = ROLE_SUPER_ADMIN;
	cr_assert(auth_has_role(&p, ROLE_TENANT_ADMIN));
}
