/*
 * bench/verify.c - the cold path's token check alone, without HTTP or the
 * database: how many RS256 tokens per second auth_verify() (header, key
 * look-up, signature, claims) and auth_rs256_verify() (the signature only)
 * accept on THREADS threads, to set beside `openssl speed -multi THREADS
 * rsa2048` verify/s. Built as build/tests/bench_verify; bench/run.sh runs it.
 *
 * usage: bench_verify [threads] [seconds]   (default 2 5)
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/auth/auth.h"
#include "server/auth/jwks.h"
#include "server/common/config.h"
#include "server/common/util.h"

#define TID "3c5e7f90-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
#define OID "7d8e9fa0-b1c2-4d3e-8f4a-5b6c7d8e9fa0"

static char *token;
static EVP_PKEY *key; /* a reference from the JWKS cache */
static size_t input_len;
static unsigned char *sig;
static size_t sig_len;
static char *claims_text;
static atomic_bool running;
static enum { SIG, HEADER, KEY, CLAIMS, FULL } mode;

static char *bn_b64url(EVP_PKEY *pk, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	EVP_PKEY_get_bn_param(pk, name, &bn);
	int n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return util_b64url_encode(buf, (size_t)n);
}

static void make_token(void)
{
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	char *n = bn_b64url(pk, OSSL_PKEY_PARAM_RSA_N), *e = bn_b64url(pk, OSSL_PKEY_PARAM_RSA_E);
	char *jwks = xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"k1\",\"n\":\"%s\",\"e\":\"%s\"}]}", n, e);
	if (jwks_load_for_test("https://login.example.test/{tenantid}/v2.0", jwks) != 1)
		abort();
	long long now = (long long)util_now_s();
	const char *hdr = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}";
	char *claims = xasprintf("{\"iss\":\"https://login.example.test/" TID "/v2.0\",\"tid\":\"" TID
				 "\",\"oid\":\"" OID "\",\"sub\":\"" OID "\",\"aud\":\"api://atrium\",\"iat\":%lld,"
				 "\"nbf\":%lld,\"exp\":%lld,\"ver\":\"2.0\",\"roles\":[\"tenant_admin\"]}",
				 now, now, now + 3600);
	char *h = util_b64url_encode((const unsigned char *)hdr, strlen(hdr));
	char *c = util_b64url_encode((const unsigned char *)claims, strlen(claims));
	char *in = xasprintf("%s.%s", h, c);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t len = 0;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(md, NULL, &len, (unsigned char *)in, strlen(in)) != 1)
		abort();
	sig = xmalloc(len);
	if (EVP_DigestSign(md, sig, &len, (unsigned char *)in, strlen(in)) != 1)
		abort();
	sig_len = len;
	char *s = util_b64url_encode(sig, len);
	token = xasprintf("%s.%s", in, s);
	claims_text = xstrdup(claims);
	input_len = strlen(in);
	if (jwks_key("k1", &key) != JWKS_FOUND)
		abort();
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	free(n); free(e); free(jwks); free(claims); free(h); free(c); free(in); free(s);
}

static void *worker(void *arg)
{
	long *count = arg;
	struct principal p;
	const char *why;
	while (atomic_load_explicit(&running, memory_order_relaxed)) {
		bool ok = false;
		char kid[128];
		EVP_PKEY *k = NULL;
		switch (mode) {
		case SIG:
			ok = auth_rs256_verify(key, token, input_len, sig, sig_len);
			break;
		case HEADER:
			ok = auth_check_header(token, kid, sizeof(kid), &why);
			break;
		case KEY:
			ok = jwks_key("k1", &k) == JWKS_FOUND;
			EVP_PKEY_free(k);
			break;
		case CLAIMS:
			ok = auth_check_claims(claims_text, util_now_s(), NULL, &p, &why);
			break;
		case FULL:
			ok = auth_verify(token, NULL, &p, &why) == AUTH_OK;
			break;
		}
		if (!ok) {
			fprintf(stderr, "bench_verify: a good token was refused\n");
			abort();
		}
		(*count)++;
	}
	return NULL;
}

static double run(int threads, int seconds)
{
	pthread_t th[64];
	long counts[64] = {0};
	struct timespec t0, t1;
	atomic_store(&running, true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &counts[i]);
	sleep((unsigned)seconds);
	atomic_store(&running, false);
	long total = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		total += counts[i];
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)total / ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	int seconds = argc > 2 ? atoi(argv[2]) : 5;
	if (threads < 1 || threads > 64 || seconds < 1)
		return 2;
	static char aud[] = "api://atrium";
	cfg.audiences[0] = aud;
	cfg.n_audiences = 1;
	cfg.clock_skew_s = 60;
	cfg.oidc_metadata_url = "http://127.0.0.1:9/openid-configuration";
	cfg.jwks_min_refresh_s = 3600;
	make_token();
	mode = SIG;
	printf("%-34s %10.1f verify/s\n", "auth_rs256_verify (signature)", run(threads, seconds));
	mode = FULL;
	printf("%-34s %10.1f verify/s\n", "auth_verify (header+sig+claims)", run(threads, seconds));
	if (getenv("BENCH_VERIFY_PARTS")) { /* where the rest of auth_verify goes */
		mode = HEADER;
		printf("%-34s %10.1f /s\n", "  auth_check_header", run(threads, seconds));
		mode = KEY;
		printf("%-34s %10.1f /s\n", "  jwks_key + EVP_PKEY_free", run(threads, seconds));
		mode = CLAIMS;
		printf("%-34s %10.1f /s\n", "  auth_check_claims", run(threads, seconds));
	}
	EVP_PKEY_free(key);
	jwks_stop();
	free(token);
	free(claims_text);
	free(sig);
	return 0;
}
