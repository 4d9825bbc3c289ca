/*
 * azure_token.c - client credentials token for ARM, cached, with a
 * federated token, a certificate assertion or a secret. See azure_token.h.
 *
 * Two locks: `mu` guards the cached value and is held only to read or
 * swap it; `fetch_mu` makes the fetch single-flight, so twenty runners
 * finding the cache cold make one call to Entra, not twenty.
 */
#include "server/outbound/azure_token.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fetch_mu = PTHREAD_MUTEX_INITIALIZER;
static char *cached;          /* the token, or NULL */
static uint64_t refresh_at;   /* monotonic ns after which it is renewed */

int azure_token_refresh_margin(int expires_in)
{
	if (expires_in <= 0)
		return 0;
	return expires_in > 1200 ? 300 : expires_in / 4;
}

/* The cached token if still fresh (heap copy), else NULL. */
static char *cache_take(void)
{
	char *t = NULL;
	pthread_mutex_lock(&mu);
	if (cached && util_now_ns() < refresh_at)
		t = xstrdup(cached);
	pthread_mutex_unlock(&mu);
	return t;
}

static void cache_put(const char *token, int expires_in)
{
	pthread_mutex_lock(&mu);
	if (cached) {
		OPENSSL_cleanse(cached, strlen(cached));
		free(cached);
	}
	cached = xstrdup(token);
	int keep = expires_in - azure_token_refresh_margin(expires_in);
	refresh_at = util_now_ns() + (uint64_t)(keep > 0 ? keep : 0) * 1000000000ULL;
	pthread_mutex_unlock(&mu);
}

void azure_token_invalidate(const char *token)
{
	pthread_mutex_lock(&mu);
	if (cached && token && strcmp(cached, token) == 0) {
		OPENSSL_cleanse(cached, strlen(cached));
		free(cached);
		cached = NULL;
	}
	pthread_mutex_unlock(&mu);
}

void azure_token_reset(void)
{
	pthread_mutex_lock(&mu);
	if (cached) {
		OPENSSL_cleanse(cached, strlen(cached));
		free(cached);
		cached = NULL;
	}
	pthread_mutex_unlock(&mu);
}

enum azure_credential azure_token_credential(void)
{
	if (cfg.azure_federated_token_file)
		return AZURE_CRED_FEDERATED;
	if (cfg.azure_client_certificate)
		return AZURE_CRED_CERTIFICATE;
	if (cfg.azure_client_secret)
		return AZURE_CRED_SECRET;
	return AZURE_CRED_NONE;
}

const char *azure_credential_name(enum azure_credential c)
{
	switch (c) {
	case AZURE_CRED_FEDERATED:
		return "federated token file";
	case AZURE_CRED_CERTIFICATE:
		return "client certificate";
	case AZURE_CRED_SECRET:
		return "client secret";
	default:
		return "none";
	}
}

#define MAX_CRED_FILE (64 * 1024)

/* The whole of a small file (heap, NUL-terminated), or NULL with errno. */
static char *read_small_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = xmalloc(MAX_CRED_FILE + 1);
	size_t n = fread(buf, 1, MAX_CRED_FILE + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad || n > MAX_CRED_FILE) {
		OPENSSL_cleanse(buf, n);
		free(buf);
		errno = bad ? EIO : EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* Never prompt for a passphrase: an encrypted key is refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static char *b64url_json(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	if (text == NULL)
		return NULL;
	char *b = util_b64url_encode((const unsigned char *)text, strlen(text));
	free(text);
	return b;
}

bool azure_token_cert_assertion(const char *pem_path, const char *client_id, const char *aud,
				int64_t now, char **out, char *err, size_t errlen, bool *unreadable)
{
	*out = NULL;
	*unreadable = false;
	size_t len = 0;
	char *pem = read_small_file(pem_path, &len);
	if (pem == NULL) {
		snprintf(err, errlen, "cannot read the client certificate file %s: %s", pem_path,
			 strerror(errno));
		*unreadable = true;
		return false;
	}
	bool ok = false;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	EVP_MD_CTX *md = NULL;
	json_t *hdr = NULL, *claims = NULL;
	char *h64 = NULL, *c64 = NULL, *input = NULL, *s64 = NULL;
	unsigned char *sig = NULL;
	/* Two passes over the same bytes: each reader skips the other's block,
	 * so the key and the certificate may come in either order. */
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	if (b)
		key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(pem, (int)len);
	if (b)
		cert = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	if (key == NULL || cert == NULL) {
		snprintf(err, errlen, "%s must hold an unencrypted private key and its certificate (PEM)",
			 pem_path);
		goto done;
	}
	if (!EVP_PKEY_is_a(key, "RSA")) {
		snprintf(err, errlen, "the key in %s is not an RSA key (RS256 needs one)", pem_path);
		goto done;
	}
	if (X509_check_private_key(cert, key) != 1) {
		snprintf(err, errlen, "the certificate in %s does not match its private key", pem_path);
		goto done;
	}
	unsigned char thumb[EVP_MAX_MD_SIZE];
	unsigned int tlen = 0;
	if (!X509_digest(cert, EVP_sha256(), thumb, &tlen)) {
		snprintf(err, errlen, "cannot hash the certificate in %s", pem_path);
		goto done;
	}
	char *x5t = util_b64url_encode(thumb, tlen);
	hdr = x5t ? json_pack("{s:s, s:s, s:s}", "alg", "RS256", "typ", "JWT", "x5t#S256", x5t) : NULL;
	free(x5t);
	char jti[37];
	util_uuid_v4(jti);
	claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "aud", aud, "iss", client_id,
			   "sub", client_id, "jti", jti, "nbf", (json_int_t)now, "iat",
			   (json_int_t)now, "exp", (json_int_t)(now + AZURE_ASSERTION_LIFETIME_S));
	h64 = hdr ? b64url_json(hdr) : NULL;
	c64 = claims ? b64url_json(claims) : NULL;
	if (h64 == NULL || c64 == NULL) {
		snprintf(err, errlen, "cannot encode the client assertion");
		goto done;
	}
	input = xasprintf("%s.%s", h64, c64);
	size_t siglen = 0;
	md = EVP_MD_CTX_new();
	/* RSA's default signature padding is PKCS#1 v1.5. */
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
		snprintf(err, errlen, "cannot sign the client assertion");
		goto done;
	}
	sig = xmalloc(siglen);
	if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
		snprintf(err, errlen, "cannot sign the client assertion");
		goto done;
	}
	s64 = util_b64url_encode(sig, siglen);
	if (s64 == NULL) {
		snprintf(err, errlen, "cannot encode the client assertion");
		goto done;
	}
	*out = xasprintf("%s.%s", input, s64);
	ok = true;
done:
	OPENSSL_cleanse(pem, len);
	free(pem);
	EVP_PKEY_free(key);
	X509_free(cert);
	EVP_MD_CTX_free(md);
	json_decref(hdr);
	json_decref(claims);
	free(h64);
	free(c64);
	free(input);
	free(sig);
	free(s64);
	return ok;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The federated token (heap, surrounding whitespace trimmed), read afresh
 * on every fetch: the kubelet rotates the file. */
static char *federated_token(struct outbound_result *err)
{
	size_t len = 0;
	char *t = read_small_file(cfg.azure_federated_token_file, &len);
	if (t == NULL) {
		outbound_result_set(err, OUT_RETRY, "FederatedTokenUnreadable",
				    "cannot read AZURE_FEDERATED_TOKEN_FILE %s: %s",
				    cfg.azure_federated_token_file, strerror(errno));
		return NULL;
	}
	size_t a = 0;
	while (a < len && is_space(t[a]))
		a++;
	while (len > a && is_space(t[len - 1]))
		len--;
	if (len == a) {
		free(t);
		outbound_result_set(err, OUT_RETRY, "FederatedTokenUnreadable",
				    "AZURE_FEDERATED_TOKEN_FILE %s is empty", cfg.azure_federated_token_file);
		return NULL;
	}
	memmove(t, t + a, len - a);
	t[len - a] = '\0';
	return t;
}

/* application/x-www-form-urlencoded body of the token request (heap; the
 * caller cleanses and frees it: it holds the credential). `url` is the
 * token endpoint, the audience of a certificate assertion. */
static char *form_body(CURL *c, enum azure_credential kind, const char *url,
		       struct outbound_result *err)
{
	char *cred = NULL;
	if (kind == AZURE_CRED_FEDERATED) {
		cred = federated_token(err);
	} else if (kind == AZURE_CRED_CERTIFICATE) {
		char why[512];
		bool unreadable = false;
		if (!azure_token_cert_assertion(cfg.azure_client_certificate, cfg.azure_client_id, url,
						util_now_s(), &cred, why, sizeof(why), &unreadable))
			outbound_result_set(err, unreadable ? OUT_RETRY : OUT_PERMANENT,
					    "ClientCertificateUnusable", "%s", why);
	} else {
		cred = xstrdup(cfg.azure_client_secret);
	}
	if (cred == NULL)
		return NULL;
	char *id = curl_easy_escape(c, cfg.azure_client_id, 0);
	char *ecred = curl_easy_escape(c, cred, 0);
	char *scope = curl_easy_escape(c, cfg.arm_scope, 0);
	char *body = NULL;
	if (id && ecred && scope) {
		if (kind == AZURE_CRED_SECRET)
			body = xasprintf("grant_type=client_credentials&client_id=%s&client_secret=%s"
					 "&scope=%s",
					 id, ecred, scope);
		else
			body = xasprintf("grant_type=client_credentials&client_id=%s"
					 "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3A"
					 "client-assertion-type%%3Ajwt-bearer&client_assertion=%s&scope=%s",
					 id, ecred, scope);
	}
	if (body == NULL)
		outbound_result_set(err, OUT_RETRY, "InternalError", "could not build the token request");
	if (ecred)
		OPENSSL_cleanse(ecred, strlen(ecred));
	free_secret(cred);
	curl_free(id);
	curl_free(ecred);
	curl_free(scope);
	return body;
}

static pthread_once_t announce_once = PTHREAD_ONCE_INIT;

static void announce(void)
{
	log_info("azure token: the worker authenticates to Entra with its %s",
		 azure_credential_name(azure_token_credential()));
}

/* One call to the token endpoint. */
static bool fetch(char **token, struct outbound_result *err)
{
	enum azure_credential kind = azure_token_credential();
	pthread_once(&announce_once, announce);
	if (!cfg.azure_tenant_id || !cfg.azure_client_id || kind == AZURE_CRED_NONE) {
		outbound_result_set(err, OUT_PERMANENT, "ConfigurationMissing",
				    "ATRIUM_AZURE_TENANT_ID, ATRIUM_AZURE_CLIENT_ID and one of "
				    "AZURE_FEDERATED_TOKEN_FILE, ATRIUM_AZURE_CLIENT_CERTIFICATE or "
				    "ATRIUM_AZURE_CLIENT_SECRET must be set to call Azure");
		return false;
	}
	CURL *c = curl_easy_init();
	char *tenant = c ? curl_easy_escape(c, cfg.azure_tenant_id, 0) : NULL;
	char *url = NULL;
	char *body = NULL;
	bool ok = false;
	struct outbound_response resp = {0};
	if (tenant == NULL) {
		outbound_result_set(err, OUT_RETRY, "InternalError", "could not build the token request");
		goto cleanup;
	}
	size_t alen = strlen(cfg.azure_authority);
	while (alen > 0 && cfg.azure_authority[alen - 1] == '/')
		alen--;
	url = xasprintf("%.*s/%s/oauth2/v2.0/token", (int)alen, cfg.azure_authority, tenant);
	body = form_body(c, kind, url, err);
	if (body == NULL)
		goto cleanup;
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
				 "Accept: application/json", NULL};
	struct outbound_request req = {.target = OUT_ENTRA, .method = "POST", .url = url,
				       .headers = headers, .body = body, .body_len = strlen(body)};
	outbound_perform(&req, &resp);
	outbound_result_from(OUT_READ, &req, &resp, "token request", err);
	if (err->cls != OUT_OK)
		goto cleanup;
	const char *tok = json_string_value(json_object_get(err->body, "access_token"));
	json_t *exp = json_object_get(err->body, "expires_in");
	/* v2 endpoints answer a number; v1 answered a string. */
	long long expires_in = json_is_integer(exp)  ? json_integer_value(exp)
			       : json_is_string(exp) ? atoll(json_string_value(exp))
						     : 0;
	if (tok == NULL || *tok == '\0' || expires_in <= 0) {
		outbound_result_set(err, OUT_RETRY, "InvalidTokenResponse",
				    "the token endpoint answered %ld without access_token and expires_in",
				    resp.status);
		goto cleanup;
	}
	if (expires_in > 86400)
		expires_in = 86400;
	cache_put(tok, (int)expires_in);
	*token = xstrdup(tok);
	log_info("azure token: obtained a token for %s, valid %lld s", cfg.arm_scope, expires_in);
	ok = true;
cleanup:
	if (resp.body)
		OPENSSL_cleanse(resp.body, resp.len);
	outbound_response_free(&resp);
	if (err->body && ok) {
		/* the body holds the token: do not keep it around */
		json_decref(err->body);
		err->body = NULL;
	}
	if (body) {
		OPENSSL_cleanse(body, strlen(body));
		free(body);
	}
	curl_free(tenant);
	free(url);
	if (c)
		curl_easy_cleanup(c);
	return ok;
}

bool azure_token_get(char **token, struct outbound_result *err)
{
	*token = cache_take();
	if (*token)
		return true;
	pthread_mutex_lock(&fetch_mu);
	/* Another thread may have fetched while this one waited. */
	*token = cache_take();
	bool ok = *token != NULL || fetch(token, err);
	pthread_mutex_unlock(&fetch_mu);
	return ok;
}
