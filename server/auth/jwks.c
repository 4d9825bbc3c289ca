/*
 * jwks.c - discovery document and JWKS fetch (through the outbound
 * exchange), key cache.
 *
 * Each key is held as an OpenSSL EVP_PKEY built once from the JWK's n and e
 * when the JWKS is installed, so a verification never parses key material.
 * Look-ups hand out a reference (EVP_PKEY_up_ref under the cache lock) that
 * the caller frees: a refresh that replaces the keys meanwhile only drops
 * the cache's own reference, and the key lives until its last user is done.
 */
#include "server/auth/jwks.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/common/util.h"
#include "server/outbound/outbound.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 32

struct key {
	char kid[128];
	EVP_PKEY *pkey; /* the cache's reference */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;      /* guards the cache */
static pthread_mutex_t fetch_mu = PTHREAD_MUTEX_INITIALIZER; /* one fetch at a time */
static struct key keys[MAX_KEYS];
static int nkeys;
static char *issuer_template;
static char *authorize_url, *token_url; /* from discovery, for the portal sign-in */
static int64_t last_attempt;  /* wall seconds of the last fetch attempt */

static pthread_t refresher;
static bool refresher_running;
static pthread_mutex_t stop_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cv = PTHREAD_COND_INITIALIZER;
static bool stopping;

/* ---- fetch ---------------------------------------------------------- */

/* GETs url through the one outbound exchange and parses the JSON body; NULL
 * on any failure (logged). Discovery may redirect (to https only); no
 * credentials travel with these requests. */
static json_t *fetch_json(const char *url)
{
	struct outbound_request req = {
		.target = OUT_IDP,
		.method = "GET",
		.url = url,
		.timeout_ms = 5000,
		.follow_redirects = true,
	};
	struct outbound_response resp;
	json_t *doc = NULL;
	if (!outbound_perform(&req, &resp)) {
		log_warn("jwks: GET %s failed: %s", url, resp.error);
	} else if (resp.status != 200) {
		log_warn("jwks: GET %s answered %ld", url, resp.status);
	} else {
		json_error_t err;
		doc = json_loadb(resp.body ? resp.body : "", resp.len, 0, &err);
		if (doc == NULL || !json_is_object(doc)) {
			log_warn("jwks: %s is not a JSON object", url);
			json_decref(doc);
			doc = NULL;
		}
	}
	outbound_response_free(&resp);
	return doc;
}

EVP_PKEY *jwks_jwk_to_pkey(const char *n_b64url, const char *e_b64url)
{
	size_t nlen = 0, elen = 0;
	unsigned char *n = util_b64url_decode(n_b64url, strlen(n_b64url), &nlen);
	unsigned char *e = util_b64url_decode(e_b64url, strlen(e_b64url), &elen);
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (n == NULL || e == NULL || nlen < 256 || nlen > 1024 || elen == 0 || elen > 8)
		goto cleanup;
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	if (bn_n == NULL || bn_e == NULL || BN_num_bits(bn_n) < 2048)
		goto cleanup;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
		goto cleanup;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
cleanup:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(n);
	free(e);
	return pkey;
}

char *jwks_jwk_to_pem(const char *n_b64url, const char *e_b64url)
{
	EVP_PKEY *pkey = jwks_jwk_to_pkey(n_b64url, e_b64url);
	char *pem = NULL;
	BIO *bio = NULL;
	if (pkey == NULL)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio != NULL && PEM_write_bio_PUBKEY(bio, pkey) == 1) {
		char *data;
		long len = BIO_get_mem_data(bio, &data);
		if (len > 0)
			pem = xstrndup(data, (size_t)len);
	}
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return pem;
}

/* Replaces the cache with the keys of `jwks`; keeps the old keys when the
 * document holds none usable. Returns the count loaded. */
static void set_endpoints(json_t *disco)
{
	const char *a = json_string_value(json_object_get(disco, "authorization_endpoint"));
	const char *t = json_string_value(json_object_get(disco, "token_endpoint"));
	pthread_mutex_lock(&mu);
	if (a) {
		free(authorize_url);
		authorize_url = xstrdup(a);
	}
	if (t) {
		free(token_url);
		token_url = xstrdup(t);
	}
	pthread_mutex_unlock(&mu);
}

char *jwks_endpoint(bool token_endpoint)
{
	pthread_mutex_lock(&mu);
	const char *u = token_endpoint ? token_url : authorize_url;
	char *copy = u ? xstrdup(u) : NULL;
	pthread_mutex_unlock(&mu);
	return copy;
}

static int install(const char *issuer, json_t *jwks)
{
	struct key fresh[MAX_KEYS];
	int n = 0;
	json_t *arr = json_object_get(jwks, "keys");
	size_t i;
	json_t *k;
	json_array_foreach(arr, i, k) {
		if (n == MAX_KEYS)
			break;
		const char *kty = json_string_value(json_object_get(k, "kty"));
		const char *kid = json_string_value(json_object_get(k, "kid"));
		const char *use = json_string_value(json_object_get(k, "use"));
		const char *alg = json_string_value(json_object_get(k, "alg"));
		const char *nn = json_string_value(json_object_get(k, "n"));
		const char *ee = json_string_value(json_object_get(k, "e"));
		if (!kty || strcmp(kty, "RSA") != 0 || !kid || strlen(kid) >= sizeof(fresh[0].kid) ||
		    !nn || !ee || (use && strcmp(use, "sig") != 0) || (alg && strcmp(alg, "RS256") != 0))
			continue;
		EVP_PKEY *pkey = jwks_jwk_to_pkey(nn, ee);
		if (pkey == NULL)
			continue;
		snprintf(fresh[n].kid, sizeof(fresh[n].kid), "%s", kid);
		fresh[n].pkey = pkey;
		n++;
	}
	if (n == 0)
		return 0;
	struct key old[MAX_KEYS];
	int nold;
	pthread_mutex_lock(&mu);
	memcpy(old, keys, sizeof(struct key) * (size_t)nkeys);
	nold = nkeys;
	memcpy(keys, fresh, sizeof(struct key) * (size_t)n);
	nkeys = n;
	if (issuer) {
		free(issuer_template);
		issuer_template = xstrdup(issuer);
	}
	pthread_mutex_unlock(&mu);
	/* Drops only the cache's references: a verification holding one keeps
	 * its key alive until it frees it. */
	for (int j = 0; j < nold; j++)
		EVP_PKEY_free(old[j].pkey);
	return n;
}

/* One full refresh: discovery, then JWKS. Serialised by fetch_mu. */
static bool refresh(void)
{
	bool ok = false;
	json_t *jwks = NULL;
	json_t *disco = fetch_json(cfg.oidc_metadata_url);
	if (disco == NULL)
		goto cleanup;
	const char *issuer = json_string_value(json_object_get(disco, "issuer"));
	const char *jwks_uri = json_string_value(json_object_get(disco, "jwks_uri"));
	if (issuer == NULL || jwks_uri == NULL) {
		log_warn("jwks: discovery document lacks issuer or jwks_uri");
		goto cleanup;
	}
	jwks = fetch_json(jwks_uri);
	if (jwks == NULL)
		goto cleanup;
	set_endpoints(disco);
	int n = install(issuer, jwks);
	if (n == 0) {
		log_warn("jwks: no usable RS256 keys at %s; keeping the previous keys", jwks_uri);
		goto cleanup;
	}
	log_info("jwks: loaded %d keys", n);
	ok = true;
cleanup:
	json_decref(disco);
	json_decref(jwks);
	metrics_jwks_refresh(ok);
	return ok;
}

static bool refresh_locked(void)
{
	pthread_mutex_lock(&fetch_mu);
	last_attempt = util_now_s();
	bool ok = refresh();
	pthread_mutex_unlock(&fetch_mu);
	return ok;
}

static void *refresher_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&stop_mu);
	while (!stopping) {
		pthread_mutex_lock(&mu);
		bool have = nkeys > 0;
		pthread_mutex_unlock(&mu);
		/* Hourly when warm; every 10 s while we have no keys at all. */
		int wait = have ? cfg.jwks_refresh_s : 10;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait;
		pthread_cond_timedwait(&stop_cv, &stop_mu, &ts);
		if (stopping)
			break;
		pthread_mutex_unlock(&stop_mu);
		refresh_locked();
		pthread_mutex_lock(&stop_mu);
	}
	pthread_mutex_unlock(&stop_mu);
	return NULL;
}

void jwks_start(void)
{
	if (!refresh_locked())
		log_warn("jwks: initial fetch failed; retrying in the background");
	stopping = false;
	if (pthread_create(&refresher, NULL, refresher_main, NULL) == 0)
		refresher_running = true;
}

void jwks_stop(void)
{
	if (refresher_running) {
		pthread_mutex_lock(&stop_mu);
		stopping = true;
		pthread_cond_signal(&stop_cv);
		pthread_mutex_unlock(&stop_mu);
		pthread_join(refresher, NULL);
		refresher_running = false;
	}
	pthread_mutex_lock(&mu);
	for (int j = 0; j < nkeys; j++)
		EVP_PKEY_free(keys[j].pkey);
	nkeys = 0;
	free(issuer_template);
	free(authorize_url);
	free(token_url);
	issuer_template = authorize_url = token_url = NULL;
	pthread_mutex_unlock(&mu);
}

/* A new reference to kid's key (or NULL), taken under the lock so a
 * concurrent install() cannot free it first. */
static EVP_PKEY *lookup(const char *kid, int *count)
{
	EVP_PKEY *pkey = NULL;
	pthread_mutex_lock(&mu);
	for (int i = 0; i < nkeys; i++)
		if (strcmp(keys[i].kid, kid) == 0) {
			if (EVP_PKEY_up_ref(keys[i].pkey) == 1)
				pkey = keys[i].pkey;
			break;
		}
	*count = nkeys;
	pthread_mutex_unlock(&mu);
	return pkey;
}

bool jwks_has_kid(const char *kid)
{
	bool found = false;
	pthread_mutex_lock(&mu);
	for (int i = 0; i < nkeys && !found; i++)
		found = strcmp(keys[i].kid, kid) == 0;
	pthread_mutex_unlock(&mu);
	return found;
}

enum jwks_lookup jwks_key(const char *kid, EVP_PKEY **pkey)
{
	int count;
	*pkey = lookup(kid, &count);
	if (*pkey)
		return JWKS_FOUND;
	/* Unknown kid: the provider may have rotated. Refresh at most once per
	 * min interval, whoever asks; everyone else answers from the cache. */
	int64_t now = util_now_s();
	bool tried = false;
	if (pthread_mutex_trylock(&fetch_mu) == 0) {
		if (now - last_attempt >= cfg.jwks_min_refresh_s || (count == 0 && now - last_attempt >= 2)) {
			last_attempt = now;
			refresh();
			tried = true;
		}
		pthread_mutex_unlock(&fetch_mu);
	}
	if (tried)
		*pkey = lookup(kid, &count);
	if (*pkey)
		return JWKS_FOUND;
	return count == 0 ? JWKS_UNAVAILABLE : JWKS_UNKNOWN_KID;
}

bool jwks_expand_issuer(const char *tmpl, const char *tid, char *out, size_t len)
{
	const char *mark = strstr(tmpl, "{tenantid}");
	int n;
	if (mark == NULL)
		n = snprintf(out, len, "%s", tmpl);
	else
		n = snprintf(out, len, "%.*s%s%s", (int)(mark - tmpl), tmpl, tid,
			     mark + strlen("{tenantid}"));
	return n >= 0 && (size_t)n < len;
}

bool jwks_issuer_for(const char *tid, char *out, size_t len)
{
	pthread_mutex_lock(&mu);
	bool ok = issuer_template && jwks_expand_issuer(issuer_template, tid, out, len);
	pthread_mutex_unlock(&mu);
	return ok;
}

int jwks_load_for_test(const char *issuer, const char *jwks_json)
{
	json_t *doc = json_loads(jwks_json, 0, NULL);
	if (doc == NULL)
		return 0;
	int n = install(issuer, doc);
	json_decref(doc);
	return n;
}
