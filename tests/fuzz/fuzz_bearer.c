/*
 * fuzz_bearer - the bearer-token path up to and including the signature
 * check (server/auth/auth.h), with a JWKS loaded by jwks_load_for_test()
 * (no network: the refresh interval is so long that an unknown kid never
 * fetches). The first input byte picks a mode, the rest is the payload:
 *
 *  0  the payload is a token: auth_check_header() must either refuse it
 *     with a reason or give a non-empty kid that fits; auth_verify() must
 *     never accept it (the fuzzer cannot sign with the key made at start-up:
 *     an accepted token is a forgery: alg none, HS256 with the public key,
 *     a signature check skipped...) and never answer "unavailable".
 *  1  the payload is claims JSON ("claims\0nonce" for ID tokens):
 *     auth_check_claims(); an accepted token has lower-case UUID tid and
 *     oid, an unexpired exp, our audience, its issuer, and the same call
 *     gives the same answer.
 *  2  the payload is claims JSON signed here with the real key (RS256, kid
 *     k1): auth_verify() must then agree with auth_check_claims() on the
 *     claims libjwt carried, and a copy with a changed signature must fail.
 *  3  the payload is a JWKS document: jwks_load_for_test() must hold at
 *     most 32 keys without leaking, and every key it took must be usable
 *     PEM; the real JWKS is loaded again afterwards.
 */
#include "tests/fuzz/fuzz_common.h"
#include "server/auth/auth.h"
#include "server/auth/jwks.h"
#include "server/common/config.h"

#include <jansson.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define ISSUER_TMPL "https://login.example.test/{tenantid}/v2.0"
#define AUD "api://atrium"
#define NOW ((int64_t)1800000000)

static char *priv_pem, *good_jwks;

static char *bio_string(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = xstrndup(p, (size_t)n);
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

static void load_good_jwks(void)
{
	FUZZ_CHECK(jwks_load_for_test(ISSUER_TMPL, good_jwks) == 1, "the real JWKS does not load");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.audiences[0] = AUD;
	cfg.audiences[1] = "00000000-0000-4000-8000-00000000a0d1";
	cfg.n_audiences = 2;
	cfg.clock_skew_s = 60;
	cfg.oidc_v1_issuer = "https://sts.example.test/{tenantid}/";
	cfg.oidc_metadata_url = "http://127.0.0.1:9/openid-configuration";
	cfg.jwks_min_refresh_s = INT_MAX; /* never fetch */
	cfg.jwks_refresh_s = INT_MAX;

	EVP_PKEY *pk = EVP_RSA_gen(2048);
	FUZZ_CHECK(pk != NULL, "no RSA key");
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	priv_pem = bio_string(b);
	char *n = bn_b64url(pk, OSSL_PKEY_PARAM_RSA_N), *e = bn_b64url(pk, OSSL_PKEY_PARAM_RSA_E);
	EVP_PKEY_free(pk);
	good_jwks = xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"k1\",\"n\":\"%s\",\"e\":\"%s\"}]}",
			      n, e);
	free(n);
	free(e);
	load_good_jwks();
	return 0;
}

static bool lower_uuid(const char *s)
{
	if (!util_is_uuid(s))
		return false;
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return false;
	return true;
}

static void check_principal(const char *claims_json, int64_t now, const struct principal *p)
{
	FUZZ_CHECK(lower_uuid(p->tid) && lower_uuid(p->oid), "tid/oid not lower-case UUIDs");
	FUZZ_CHECK(p->expires + cfg.clock_skew_s >= now, "an expired token passed");
	json_t *c = json_loads(claims_json, 0, NULL);
	FUZZ_CHECK(json_is_object(c), "accepted claims are not an object");
	const char *iss = json_string_value(json_object_get(c, "iss"));
	char want[512];
	const char *ver = json_string_value(json_object_get(c, "ver"));
	bool v1 = ver && strcmp(ver, "1.0") == 0;
	FUZZ_CHECK(jwks_expand_issuer(v1 ? cfg.oidc_v1_issuer : ISSUER_TMPL,
				      json_string_value(json_object_get(c, "tid")), want, sizeof(want)) &&
			   iss && strcmp(iss, want) == 0,
		   "issuer %s accepted, %s expected", iss ? iss : "(none)", want);
	json_t *aud = json_object_get(c, "aud");
	bool aud_ok = false;
	if (json_is_string(aud))
		aud_ok = strcmp(json_string_value(aud), cfg.audiences[0]) == 0 ||
			 strcmp(json_string_value(aud), cfg.audiences[1]) == 0;
	/* arrays (nested ones too) may hold it: only check the plain case */
	else
		aud_ok = json_is_array(aud);
	FUZZ_CHECK(aud_ok, "audience not ours");
	json_decref(c);
}

static void mode_token(const char *token)
{
	char kid[128];
	const char *why = NULL;
	memset(kid, 0, sizeof(kid));
	if (auth_check_header(token, kid, sizeof(kid), &why))
		FUZZ_CHECK(kid[0] != '\0' && strlen(kid) < sizeof(kid), "header accepted without a kid");
	else
		FUZZ_CHECK(why && *why, "header refused without a reason");
	struct principal p;
	why = NULL;
	enum auth_status st = auth_verify(token, NULL, &p, &why);
	FUZZ_CHECK(st != AUTH_OK, "a token not signed by our key was accepted: %s", token);
	FUZZ_CHECK(st == AUTH_INVALID, "status %d with keys loaded", (int)st);
	FUZZ_CHECK(why && *why, "refused without a reason");
}

static void mode_claims(const char *claims, const char *nonce)
{
	struct principal p, p2;
	const char *why = NULL, *why2 = NULL;
	bool ok = auth_check_claims(claims, NOW, nonce, &p, &why);
	bool ok2 = auth_check_claims(claims, NOW, nonce, &p2, &why2);
	FUZZ_CHECK(ok == ok2 && memcmp(&p, &p2, sizeof(p)) == 0, "auth_check_claims not deterministic");
	if (ok)
		check_principal(claims, NOW, &p);
	else
		FUZZ_CHECK(why && *why && why == why2, "refused without a (stable) reason");
}

static void mode_signed(const char *claims)
{
	jwt_t *jwt = NULL;
	if (jwt_new(&jwt) != 0)
		return;
	if (jwt_add_grants_json(jwt, claims) != 0 || jwt_add_header(jwt, "kid", "k1") != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_RS256, (const unsigned char *)priv_pem, (int)strlen(priv_pem)) != 0) {
		jwt_free(jwt);
		return;
	}
	char *tok = jwt_encode_str(jwt);
	jwt_free(jwt);
	if (tok == NULL)
		return;
	/* What the verifier will see: the grants libjwt signed. */
	jwt_t *plain = NULL;
	char *carried = NULL;
	if (jwt_decode(&plain, tok, NULL, 0) == 0 && plain)
		carried = jwt_get_grants_json(plain, NULL);
	jwt_free(plain);

	struct principal p;
	const char *why = NULL;
	int64_t before = util_now_s();
	enum auth_status st = auth_verify(tok, NULL, &p, &why);
	int64_t after = util_now_s();
	FUZZ_CHECK(st != AUTH_UNAVAILABLE, "unavailable with keys loaded");
	if (carried) {
		struct principal q;
		const char *w = NULL;
		bool direct = auth_check_claims(carried, before, NULL, &q, &w);
		bool direct2 = after != before ? auth_check_claims(carried, after, NULL, &q, &w) : direct;
		FUZZ_CHECK((st == AUTH_OK) == direct || (st == AUTH_OK) == direct2,
			   "auth_verify (%d) and auth_check_claims (%d) disagree on %s", (int)st, direct, carried);
		if (st == AUTH_OK)
			check_principal(carried, after, &p);
	} else {
		FUZZ_CHECK(st != AUTH_OK, "accepted a token whose claims libjwt cannot read");
	}
	free(carried);

	/* Any change to the signature must be refused. */
	char *last = strrchr(tok, '.');
	if (last && last[1]) {
		last[1] = last[1] == 'A' ? 'B' : 'A';
		why = NULL;
		FUZZ_CHECK(auth_verify(tok, NULL, &p, &why) == AUTH_INVALID, "altered signature accepted");
	}
	free(tok);
}

static void mode_jwks(const char *doc)
{
	int n = jwks_load_for_test(NULL, doc);
	FUZZ_CHECK(n >= 0 && n <= 32, "%d keys loaded", n);
	if (n > 0) {
		json_t *d = json_loads(doc, 0, NULL);
		size_t i;
		json_t *k;
		json_array_foreach(json_object_get(d, "keys"), i, k) {
			const char *kid = json_string_value(json_object_get(k, "kid"));
			if (kid && jwks_has_kid(kid)) {
				EVP_PKEY *key = NULL;
				FUZZ_CHECK(jwks_key(kid, &key) == JWKS_FOUND && key &&
						   EVP_PKEY_get_bits(key) >= 2048,
					   "kid %s held without a usable RSA key", kid);
				EVP_PKEY_free(key);
			}
		}
		json_decref(d);
		load_good_jwks();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *f[2];
	fuzz_fields(data + 1, size - 1, '\0', f, 2);
	switch (data[0] & 3) {
	case 0:
		mode_token(f[0]);
		break;
	case 1:
		mode_claims(f[0], size > 1 && memchr(data + 1, '\0', size - 1) ? f[1] : NULL);
		break;
	case 2:
		mode_signed(f[0]);
		break;
	case 3:
		mode_jwks(f[0]);
		break;
	}
	fuzz_free_fields(f, 2);
	return 0;
}
