/*
 * azure_token.c - client credentials token for ARM, cached. See azure_token.h.
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
#include <openssl/crypto.h>
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

/* application/x-www-form-urlencoded body of the token request (heap; the
 * caller cleanses and frees it: it holds the client secret). */
static char *form_body(CURL *c)
{
	char *id = curl_easy_escape(c, cfg.azure_client_id, 0);
	char *secret = curl_easy_escape(c, cfg.azure_client_secret, 0);
	char *scope = curl_easy_escape(c, cfg.arm_scope, 0);
	char *body = NULL;
	if (id && secret && scope)
		body = xasprintf("grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s", id,
				 secret, scope);
	if (secret)
		OPENSSL_cleanse(secret, strlen(secret));
	curl_free(id);
	curl_free(secret);
	curl_free(scope);
	return body;
}

/* One call to the token endpoint. */
static bool fetch(char **token, struct outbound_result *err)
{
	if (!cfg.azure_tenant_id || !cfg.azure_client_id || !cfg.azure_client_secret) {
		outbound_result_set(err, OUT_PERMANENT, "ConfigurationMissing",
				    "ATRIUM_AZURE_TENANT_ID, ATRIUM_AZURE_CLIENT_ID and "
				    "ATRIUM_AZURE_CLIENT_SECRET must be set to call Azure");
		return false;
	}
	CURL *c = curl_easy_init();
	char *body = c ? form_body(c) : NULL;
	char *tenant = c ? curl_easy_escape(c, cfg.azure_tenant_id, 0) : NULL;
	char *url = NULL;
	bool ok = false;
	struct outbound_response resp = {0};
	if (body == NULL || tenant == NULL) {
		outbound_result_set(err, OUT_RETRY, "InternalError", "could not build the token request");
		goto cleanup;
	}
	size_t alen = strlen(cfg.azure_authority);
	while (alen > 0 && cfg.azure_authority[alen - 1] == '/')
		alen--;
	url = xasprintf("%.*s/%s/oauth2/v2.0/token", (int)alen, cfg.azure_authority, tenant);
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
