/*
 * Unit tests for the RS256 verifier (server/auth/auth.c auth_verify and
 * auth_rs256_verify, with keys held by server/auth/jwks.c as EVP_PKEYs).
 * Tokens are made and signed here with OpenSSL alone, so these tests do not
 * lean on the library the server used to verify with: a good token passes,
 * every forgery (bit flip, truncation, wrong length, PSS padding, HS256
 * keyed with the public PEM, alg none, another key under the same kid, a
 * payload changed after signing) is refused, and a key replaced by a JWKS
 * refresh while a verification holds it stays alive (ASan checks).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth/auth.h"
#include "server/auth/jwks.h"
#include "server/common/config.h"
#include "server/common/util.h"

#define TID "3c5e7f90-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
#define OID "7d8e9fa0-b1c2-4d3e-8f4a-5b6c7d8e9fa0"
#define ISSUER_TMPL "https://login.example.test/{tenantid}/v2.0"
#define AUD "api://atrium"
#define BAD_SIG "the token signature is not valid"

static EVP_PKEY *good, *other;

static char *bn_b64url(EVP_PKEY *pk, const char *name)
{
	BIGNUM *bn = NULL;
	cr_assert_eq(EVP_PKEY_get_bn_param(pk, name, &bn), 1);
	unsigned char buf[1024];
	int n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return util_b64url_encode(buf, (size_t)n);
}

static char *jwks_of(EVP_PKEY *pk, const char *kid)
{
	char *n = bn_b64url(pk, OSSL_PKEY_PARAM_RSA_N);
	char *e = bn_b64url(pk, OSSL_PKEY_PARAM_RSA_E);
	char *doc = xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"}]}",
			      kid, n, e);
	free(n);
	free(e);
	return doc;
}

static void load(EVP_PKEY *pk, const char *kid)
{
	char *doc = jwks_of(pk, kid);
	cr_assert_eq(jwks_load_for_test(ISSUER_TMPL, doc), 1);
	free(doc);
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
	good = EVP_RSA_gen(2048);
	other = EVP_RSA_gen(2048);
	cr_assert(good && other);
	load(good, "k1");
}

static void teardown(void)
{
	jwks_stop();
	EVP_PKEY_free(good);
	EVP_PKEY_free(other);
}

TestSuite(rs256, .init = setup, .fini = teardown);

static char *b64(const void *data, size_t len)
{
	return util_b64url_encode((const unsigned char *)data, len);
}

/* base64url(header) "." base64url(claims of a good v2 token) */
static char *signing_input(const char *header_json)
{
	int64_t now = util_now_s();
	char *claims = xasprintf("{\"iss\":\"https://login.example.test/" TID "/v2.0\",\"tid\":\"" TID
				 "\",\"oid\":\"" OID "\",\"aud\":\"" AUD "\",\"iat\":%lld,\"nbf\":%lld,"
				 "\"exp\":%lld,\"ver\":\"2.0\",\"roles\":[\"tenant_admin\"]}",
				 (long long)now, (long long)now, (long long)now + 3600);
	char *h = b64(header_json, strlen(header_json));
	char *c = b64(claims, strlen(claims));
	char *in = xasprintf("%s.%s", h, c);
	free(claims);
	free(h);
	free(c);
	return in;
}

/* Raw signature of input under pk: PKCS#1 v1.5 or PSS, SHA-256. */
static unsigned char *rsa_sign(EVP_PKEY *pk, const char *input, int padding, size_t *len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	cr_assert_eq(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, pk), 1);
	cr_assert_eq(EVP_PKEY_CTX_set_rsa_padding(pctx, padding), 1);
	cr_assert_eq(EVP_DigestSign(md, NULL, len, (const unsigned char *)input, strlen(input)), 1);
	unsigned char *sig = xmalloc(*len);
	cr_assert_eq(EVP_DigestSign(md, sig, len, (const unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(md);
	return sig;
}

static char *join(const char *input, const unsigned char *sig, size_t len)
{
	char *s = b64(sig, len);
	char *tok = xasprintf("%s.%s", input, s);
	free(s);
	return tok;
}

static char *rs256_token(EVP_PKEY *pk, const char *kid)
{
	char *hdr = xasprintf("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	char *in = signing_input(hdr);
	size_t len;
	unsigned char *sig = rsa_sign(pk, in, RSA_PKCS1_PADDING, &len);
	char *tok = join(in, sig, len);
	free(hdr);
	free(in);
	free(sig);
	return tok;
}

static enum auth_status verify(const char *tok, const char **why)
{
	struct principal p;
	*why = NULL;
	return auth_verify(tok, NULL, &p, why);
}

/* The token with its signature segment replaced by base64url(sig). */
static char *with_signature(const char *tok, const unsigned char *sig, size_t len)
{
	const char *dot2 = strrchr(tok, '.');
	char *in = xstrndup(tok, (size_t)(dot2 - tok));
	char *t = join(in, sig, len);
	free(in);
	return t;
}

static unsigned char *signature_of(const char *tok, size_t *len)
{
	const char *s = strrchr(tok, '.') + 1;
	unsigned char *sig = util_b64url_decode(s, strlen(s), len);
	cr_assert_not_null(sig);
	return sig;
}

Test(rs256, a_good_token_verifies)
{
	char *tok = rs256_token(good, "k1");
	struct principal p;
	const char *why = NULL;
	cr_assert_eq(auth_verify(tok, NULL, &p, &why), AUTH_OK, "%s", why);
	cr_assert_str_eq(p.tid, TID);
	cr_assert_str_eq(p.oid, OID);
	cr_assert(p.roles & ROLE_TENANT_ADMIN);
	free(tok);
}

Test(rs256, a_flipped_signature_bit_is_refused)
{
	char *tok = rs256_token(good, "k1");
	size_t len;
	unsigned char *sig = signature_of(tok, &len);
	cr_assert_eq(len, 256);
	size_t at[] = {0, 100, 255};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		sig[at[i]] ^= 0x01;
		char *bad = with_signature(tok, sig, len);
		const char *why;
		cr_assert_eq(verify(bad, &why), AUTH_INVALID, "bit flipped in byte %zu accepted", at[i]);
		cr_assert_str_eq(why, BAD_SIG);
		sig[at[i]] ^= 0x01;
		free(bad);
	}
	/* The thread's verify context, reused after those failures, still
	 * accepts the good signature. */
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_OK, "%s", why);
	free(sig);
	free(tok);
}

Test(rs256, a_truncated_signature_is_refused)
{
	char *tok = rs256_token(good, "k1");
	size_t len;
	unsigned char *sig = signature_of(tok, &len);
	size_t cut[] = {255, 254, 128, 1};
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		char *bad = with_signature(tok, sig, cut[i]);
		const char *why;
		cr_assert_eq(verify(bad, &why), AUTH_INVALID, "%zu bytes accepted", cut[i]);
		cr_assert_str_eq(why, BAD_SIG);
		free(bad);
	}
	/* And cut in the middle of a base64url quantum (not base64url). */
	char *odd = xstrndup(tok, strlen(tok) - 3);
	const char *why;
	cr_assert_eq(verify(odd, &why), AUTH_INVALID);
	free(odd);
	free(sig);
	free(tok);
}

Test(rs256, a_signature_of_the_wrong_length_is_refused)
{
	char *tok = rs256_token(good, "k1");
	size_t len;
	unsigned char *sig = signature_of(tok, &len);
	/* The same integer with a leading zero byte: one byte too long. */
	unsigned char longer[257] = {0};
	memcpy(longer + 1, sig, 256);
	char *bad = with_signature(tok, longer, sizeof(longer));
	const char *why;
	cr_assert_eq(verify(bad, &why), AUTH_INVALID);
	cr_assert_str_eq(why, BAD_SIG);
	free(bad);
	/* Twice the length, and far more than any key takes. */
	unsigned char twice[512];
	memcpy(twice, sig, 256);
	memcpy(twice + 256, sig, 256);
	bad = with_signature(tok, twice, sizeof(twice));
	cr_assert_eq(verify(bad, &why), AUTH_INVALID);
	cr_assert_str_eq(why, BAD_SIG);
	free(bad);
	unsigned char *huge = xcalloc(4096, 1);
	bad = with_signature(tok, huge, 4096);
	cr_assert_eq(verify(bad, &why), AUTH_INVALID);
	cr_assert_str_eq(why, BAD_SIG);
	free(bad);
	free(huge);
	/* The direct check says the same. */
	const char *dot2 = strrchr(tok, '.');
	EVP_PKEY *pk = NULL;
	cr_assert_eq(jwks_key("k1", &pk), JWKS_FOUND);
	cr_assert(auth_rs256_verify(pk, tok, (size_t)(dot2 - tok), sig, len));
	cr_assert_not(auth_rs256_verify(pk, tok, (size_t)(dot2 - tok), longer, sizeof(longer)));
	cr_assert_not(auth_rs256_verify(pk, tok, (size_t)(dot2 - tok), sig, len - 1));
	cr_assert_not(auth_rs256_verify(pk, tok, (size_t)(dot2 - tok), sig, 0));
	EVP_PKEY_free(pk);
	free(sig);
	free(tok);
}

Test(rs256, a_pss_signature_under_rs256_is_refused)
{
	char *in = signing_input("{\"alg\":\"RS256\",\"kid\":\"k1\"}");
	size_t len;
	unsigned char *sig = rsa_sign(good, in, RSA_PKCS1_PSS_PADDING, &len);
	char *tok = join(in, sig, len);
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, BAD_SIG);
	free(in);
	free(sig);
	free(tok);
}

Test(rs256, hs256_keyed_with_the_public_key_pem_is_refused)
{
	BIO *b = BIO_new(BIO_s_mem());
	cr_assert_eq(PEM_write_bio_PUBKEY(b, good), 1);
	char *pem;
	long pem_len = BIO_get_mem_data(b, &pem);
	char *in = signing_input("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
	unsigned char mac[32];
	unsigned int mac_len = 0;
	cr_assert_not_null(HMAC(EVP_sha256(), pem, (int)pem_len, (const unsigned char *)in,
				strlen(in), mac, &mac_len));
	char *tok = join(in, mac, mac_len);
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token must be signed with RS256");
	/* The same MAC under an RS256 header is no RSA signature either. */
	char *in2 = signing_input("{\"alg\":\"RS256\",\"kid\":\"k1\"}");
	cr_assert_not_null(HMAC(EVP_sha256(), pem, (int)pem_len, (const unsigned char *)in2,
				strlen(in2), mac, &mac_len));
	char *tok2 = join(in2, mac, mac_len);
	cr_assert_eq(verify(tok2, &why), AUTH_INVALID);
	cr_assert_str_eq(why, BAD_SIG);
	BIO_free(b);
	free(in);
	free(in2);
	free(tok);
	free(tok2);
}

Test(rs256, alg_none_is_refused)
{
	char *in = signing_input("{\"alg\":\"none\",\"kid\":\"k1\"}");
	char *tok = xasprintf("%s.", in);
	char *tok2 = xasprintf("%s.c2ln", in);
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_eq(verify(tok2, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token must be signed with RS256");
	/* "None", "rs256", a missing alg: nothing but RS256 exactly. */
	const char *hdrs[] = {"{\"alg\":\"None\",\"kid\":\"k1\"}", "{\"alg\":\"rs256\",\"kid\":\"k1\"}",
			      "{\"kid\":\"k1\"}", "{\"alg\":\"RS512\",\"kid\":\"k1\"}"};
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		char *in3 = signing_input(hdrs[i]);
		size_t len;
		unsigned char *sig = rsa_sign(good, in3, RSA_PKCS1_PADDING, &len);
		char *t = join(in3, sig, len);
		cr_assert_eq(verify(t, &why), AUTH_INVALID, "accepted %s", hdrs[i]);
		cr_assert_str_eq(why, "the token must be signed with RS256");
		free(in3);
		free(sig);
		free(t);
	}
	free(in);
	free(tok);
	free(tok2);
}

Test(rs256, another_key_under_the_same_kid_is_refused)
{
	char *tok = rs256_token(other, "k1");
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, BAD_SIG);
	free(tok);
}

Test(rs256, a_payload_changed_after_signing_is_refused)
{
	char *tok = rs256_token(good, "k1");
	const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
	size_t clen;
	unsigned char *claims = util_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &clen);
	json_t *c = json_loads((const char *)claims, 0, NULL);
	json_object_set_new(c, "roles", json_pack("[s]", "super_admin"));
	char *evil = json_dumps(c, JSON_COMPACT);
	char *evil64 = b64(evil, strlen(evil));
	char *forged = xasprintf("%.*s.%s%s", (int)(d1 - tok), tok, evil64, d2);
	const char *why;
	cr_assert_eq(verify(forged, &why), AUTH_INVALID);
	cr_assert_str_eq(why, BAD_SIG);
	/* One character of the header changed (kid kept) is refused too. */
	char *hdr_forged = xasprintf("%s", tok);
	char *in = signing_input("{\"alg\":\"RS256\",\"typ\":\"JWS\",\"kid\":\"k1\"}");
	char *h = xstrndup(in, (size_t)(strchr(in, '.') - in));
	char *t2 = xasprintf("%s%s", h, d1);
	cr_assert_eq(verify(t2, &why), AUTH_INVALID);
	cr_assert_str_eq(why, BAD_SIG);
	json_decref(c);
	free(claims);
	free(evil);
	free(evil64);
	free(forged);
	free(hdr_forged);
	free(in);
	free(h);
	free(t2);
	free(tok);
}

Test(rs256, unknown_kid_is_refused_before_any_signature_work)
{
	char *tok = rs256_token(good, "k-unknown");
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, "the token is signed with an unknown key (kid)");
	free(tok);
}

Test(rs256, a_key_replaced_by_a_refresh_stays_alive_while_held)
{
	char *tok = rs256_token(good, "k1");
	const char *dot2 = strrchr(tok, '.');
	size_t len;
	unsigned char *sig = signature_of(tok, &len);
	EVP_PKEY *held = NULL;
	cr_assert_eq(jwks_key("k1", &held), JWKS_FOUND);
	/* A refresh replaces k1 with another key, twice: the cache drops its
	 * reference to the key held here. */
	load(other, "k1");
	load(other, "k2");
	cr_assert(auth_rs256_verify(held, tok, (size_t)(dot2 - tok), sig, len),
		  "the held key must still verify (and ASan must see no use after free)");
	EVP_PKEY_free(held);
	const char *why;
	cr_assert_eq(verify(tok, &why), AUTH_INVALID, "k1 is gone after the refresh");
	free(sig);
	free(tok);
}

/* Verifications on two threads while the main thread swaps k1 between two
 * keys: each answer is OK or a bad signature, never a crash (ASan). */
static atomic_bool swapping;
static atomic_int verified;

static void *verifier(void *arg)
{
	const char *tok = arg;
	while (atomic_load(&swapping)) {
		struct principal p;
		const char *why = NULL;
		enum auth_status st = auth_verify(tok, NULL, &p, &why);
		if (st == AUTH_OK)
			atomic_fetch_add(&verified, 1);
		else if (st != AUTH_INVALID || strcmp(why, BAD_SIG) != 0)
			abort();
	}
	return NULL;
}

Test(rs256, concurrent_refreshes_never_free_a_key_in_use)
{
	char *tok = rs256_token(good, "k1");
	pthread_t th[2];
	atomic_store(&swapping, true);
	atomic_store(&verified, 0);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, verifier, tok), 0);
	for (int i = 0; i < 200; i++)
		load(i % 2 ? good : other, "k1");
	load(good, "k1");
	while (atomic_load(&verified) == 0)
		;
	atomic_store(&swapping, false);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cr_assert_gt(atomic_load(&verified), 0);
	free(tok);
}

/* The per-thread verify context follows the cache: after k1 changes key,
 * the same thread refuses the old key's tokens and accepts the new one's. */
Test(rs256, the_threads_verify_context_follows_a_refresh)
{
	char *old_tok = rs256_token(good, "k1");
	char *new_tok = rs256_token(other, "k1");
	const char *why;
	cr_assert_eq(verify(old_tok, &why), AUTH_OK, "%s", why);
	cr_assert_eq(verify(new_tok, &why), AUTH_INVALID);
	load(other, "k1");
	cr_assert_eq(verify(new_tok, &why), AUTH_OK, "%s", why);
	cr_assert_eq(verify(old_tok, &why), AUTH_INVALID);
	cr_assert_str_eq(why, BAD_SIG);
	load(good, "k1");
	cr_assert_eq(verify(old_tok, &why), AUTH_OK, "%s", why);
	cr_assert_eq(verify(new_tok, &why), AUTH_INVALID);
	free(old_tok);
	free(new_tok);
}
