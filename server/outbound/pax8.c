/*
 * pax8.c - Pax8 Partner API client: cached client-credentials token and
 * authenticated GETs (see pax8.h). The token cache follows azure_token.c:
 * `mu` guards the value, `fetch_mu` makes the fetch single-flight.
 */
#include "server/outbound/pax8.h"
#include "server/outbound/azure_token.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/util.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t fetch_mu = PTHREAD_MUTEX_INITIALIZER;
static char *cached;
static uint64_t refresh_at;

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

bool pax8_configured(void)
{
	return cfg.pax8_client_id && *cfg.pax8_client_id && cfg.pax8_client_secret &&
	       *cfg.pax8_client_secret && cfg.pax8_api_url && *cfg.pax8_api_url;
}

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
	free_secret(cached);
	cached = xstrdup(token);
	int keep = expires_in - azure_token_refresh_margin(expires_in);
	refresh_at = util_now_ns() + (uint64_t)(keep > 0 ? keep : 0) * 1000000000ULL;
	pthread_mutex_unlock(&mu);
}

/* Drops the cached token if it is still `token` (the API refused it). */
static void invalidate(const char *token)
{
	pthread_mutex_lock(&mu);
	if (cached && token && strcmp(cached, token) == 0) {
		free_secret(cached);
		cached = NULL;
	}
	pthread_mutex_unlock(&mu);
}

void pax8_token_reset(void)
{
	pthread_mutex_lock(&mu);
	free_secret(cached);
	cached = NULL;
	pthread_mutex_unlock(&mu);
}

static pthread_once_t announce_once = PTHREAD_ONCE_INIT;

static void announce(void)
{
	log_info("pax8: the worker authenticates to %s with its client id and secret", cfg.pax8_token_url);
}

/* One call to the token endpoint; the body (JSON, as Pax8 documents it)
 * holds the secret and is cleansed. */
static bool fetch(char **token, struct outbound_result *err)
{
	pthread_once(&announce_once, announce);
	json_t *req_body = json_pack("{s:s, s:s, s:s, s:s}", "client_id", cfg.pax8_client_id,
				     "client_secret", cfg.pax8_client_secret, "audience", PAX8_AUDIENCE,
				     "grant_type", "client_credentials");
	char *body = req_body ? json_dumps(req_body, JSON_COMPACT) : NULL;
	json_decref(req_body);
	bool ok = false;
	struct outbound_response resp = {0};
	if (body == NULL) {
		outbound_result_set(err, OUT_RETRY, "InternalError", "could not build the token request");
		goto cleanup;
	}
	const char *headers[] = {"Content-Type: application/json", "Accept: application/json", NULL};
	struct outbound_request req = {.target = OUT_PAX8, .method = "POST", .url = cfg.pax8_token_url,
				       .headers = headers, .body = body, .body_len = strlen(body)};
	outbound_perform(&req, &resp);
	outbound_result_from(OUT_READ, &req, &resp, "Pax8 token request", err);
	if (err->cls != OUT_OK) {
		/* A refused client id or secret is no expired token: permanent. */
		if (resp.status == 401 || resp.status == 403)
			err->cls = OUT_PERMANENT;
		goto cleanup;
	}
	const char *tok = json_string_value(json_object_get(err->body, "access_token"));
	json_int_t expires_in = json_integer_value(json_object_get(err->body, "expires_in"));
	if (tok == NULL || *tok == '\0' || expires_in <= 0) {
		outbound_result_set(err, OUT_RETRY, "InvalidTokenResponse",
				    "the Pax8 token endpoint answered %ld without access_token and expires_in",
				    resp.status);
		goto cleanup;
	}
	if (expires_in > 86400)
		expires_in = 86400;
	cache_put(tok, (int)expires_in);
	*token = xstrdup(tok);
	log_info("pax8: obtained a token, valid %lld s", (long long)expires_in);
	ok = true;
cleanup:
	if (resp.body)
		OPENSSL_cleanse(resp.body, resp.len);
	outbound_response_free(&resp);
	if (err->body && ok) {
		json_decref(err->body); /* it holds the token */
		err->body = NULL;
	}
	free_secret(body);
	return ok;
}

static bool token_get(char **token, struct outbound_result *err)
{
	*token = cache_take();
	if (*token)
		return true;
	pthread_mutex_lock(&fetch_mu);
	*token = cache_take();
	bool ok = *token != NULL || fetch(token, err);
	pthread_mutex_unlock(&fetch_mu);
	return ok;
}

static void get_once(const char *url, const char *token, const struct outbound_ctx *ctx,
		     const char *path, struct outbound_result *out)
{
	char *auth = xasprintf("Authorization: Bearer %s", token);
	char *rid = ctx && ctx->request_id ? xasprintf("X-Request-Id: %s", ctx->request_id) : NULL;
	const char *headers[] = {"Accept: application/json", auth, rid, NULL};
	struct outbound_request req = {.target = OUT_PAX8, .method = "GET", .url = url,
				       .headers = headers};
	struct outbound_response resp = {0};
	outbound_perform(&req, &resp);
	char what[160];
	snprintf(what, sizeof(what), "GET Pax8 %.120s", path);
	outbound_result_from(OUT_READ, &req, &resp, what, out);
	outbound_response_free(&resp);
	free_secret(auth);
	free(rid);
}

bool pax8_get(const char *path, const struct outbound_ctx *ctx, struct outbound_result *out)
{
	memset(out, 0, sizeof(*out));
	if (!pax8_configured()) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationMissing",
				    "ATRIUM_PAX8_CLIENT_ID and ATRIUM_PAX8_CLIENT_SECRET must be set to call Pax8");
		return false;
	}
	size_t blen = strlen(cfg.pax8_api_url);
	while (blen > 0 && cfg.pax8_api_url[blen - 1] == '/')
		blen--;
	char *url = xasprintf("%.*s%s", (int)blen, cfg.pax8_api_url, path);
	char *token = NULL;
	/* Two rounds at most: a 401 means the cached token expired or was
	 * revoked early; the second round uses a new one. */
	for (int round = 0; round < 2; round++) {
		if (!token_get(&token, out))
			break;
		get_once(url, token, ctx, path, out);
		if (out->status != 401)
			break;
		invalidate(token);
		free_secret(token);
		token = NULL;
		if (round == 0)
			log_info("pax8: the API refused the cached token (401); getting a new one");
	}
	free_secret(token);
	free(url);
	return out->cls == OUT_OK;
}
