/*
 * intuit.c - Intuit OAuth 2.0 and the QuickBooks Online Accounting API
 * (see intuit.h). Intuit's documentation:
 * https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
 * https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles
 */
#include "server/outbound/intuit.h"
#include "server/common/config.h"
#include "server/common/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool configured(struct outbound_result *res)
{
	if (cfg.quickbooks_client_id && *cfg.quickbooks_client_id && cfg.quickbooks_client_secret &&
	    *cfg.quickbooks_client_secret)
		return true;
	outbound_result_set(res, OUT_PERMANENT, "NotConfigured",
			    "ATRIUM_QUICKBOOKS_CLIENT_ID and ATRIUM_QUICKBOOKS_CLIENT_SECRET are not set");
	return false;
}

/* "Authorization: Basic base64(id:secret)": heap, the caller cleanses and frees. */
static char *basic_header(void)
{
	size_t n = strlen(cfg.quickbooks_client_id) + 1 + strlen(cfg.quickbooks_client_secret);
	char *pair = xmalloc(n + 1);
	snprintf(pair, n + 1, "%s:%s", cfg.quickbooks_client_id, cfg.quickbooks_client_secret);
	size_t hl = 21 + 4 * ((n + 2) / 3) + 1;
	char *h = xmalloc(hl);
	memcpy(h, "Authorization: Basic ", 21);
	EVP_EncodeBlock((unsigned char *)h + 21, (const unsigned char *)pair, (int)n);
	OPENSSL_cleanse(pair, n);
	free(pair);
	return h;
}

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void intuit_tokens_free(struct intuit_tokens *t)
{
	free_secret(t->access_token);
	free_secret(t->refresh_token);
	memset(t, 0, sizeof(*t));
}

bool intuit_token(const char *grant, const char *value, const struct outbound_ctx *ctx,
		  struct intuit_tokens *out, struct outbound_result *res)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	outbound_result_clear(res);
	if (!configured(res))
		return false;
	bool code = strcmp(grant, "authorization_code") == 0;
	char *ev = outbound_escape(value);
	char *eru = outbound_escape(cfg.quickbooks_redirect_uri);
	size_t blen = strlen(ev) + strlen(eru) + 96;
	char *body = xmalloc(blen);
	if (code)
		snprintf(body, blen, "grant_type=authorization_code&code=%s&redirect_uri=%s", ev, eru);
	else
		snprintf(body, blen, "grant_type=refresh_token&refresh_token=%s", ev);
	char *auth = basic_header();
	const char *headers[] = {auth, "Content-Type: application/x-www-form-urlencoded",
				 "Accept: application/json", NULL};
	struct outbound_request req = {.target = OUT_INTUIT, .method = "POST",
				       .url = cfg.quickbooks_token_url, .headers = headers,
				       .body = body, .body_len = strlen(body)};
	struct outbound_response resp;
	outbound_perform(&req, &resp);
	outbound_result_from(OUT_READ, &req, &resp, code ? "exchange the authorization code" : "refresh the token",
			     res);
	outbound_response_free(&resp);
	free_secret(body);
	free_secret(auth);
	free_secret(ev);
	free(eru);
	if (res->cls != OUT_OK)
		return false;
	const char *at = json_string_value(json_object_get(res->body, "access_token"));
	const char *rt = json_string_value(json_object_get(res->body, "refresh_token"));
	json_t *exp = json_object_get(res->body, "expires_in");
	if (at == NULL || rt == NULL || !json_is_integer(exp) || json_integer_value(exp) <= 0) {
		outbound_result_set(res, OUT_RETRY, "MalformedTokenResponse",
				    "Intuit's token answer has no access_token, refresh_token or expires_in");
		return false;
	}
	out->access_token = xstrdup(at);
	out->refresh_token = xstrdup(rt);
	json_int_t e = json_integer_value(exp);
	out->expires_in = e > 86400 ? 86400 : (int)e;
	json_t *rexp = json_object_get(res->body, "x_refresh_token_expires_in");
	json_int_t r = json_is_integer(rexp) ? json_integer_value(rexp) : 0;
	out->refresh_expires_in = r < 0 ? 0 : r > 2000000000 ? 2000000000 : (int)r;
	/* The body held the tokens: do not keep it around. */
	json_decref(res->body);
	res->body = NULL;
	return true;
}

bool intuit_revoke(const char *token, const struct outbound_ctx *ctx, struct outbound_result *res)
{
	(void)ctx;
	outbound_result_clear(res);
	if (!configured(res))
		return false;
	json_t *b = json_pack("{s:s}", "token", token);
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	char *auth = basic_header();
	const char *headers[] = {auth, "Content-Type: application/json", "Accept: application/json", NULL};
	struct outbound_request req = {.target = OUT_INTUIT, .method = "POST",
				       .url = cfg.quickbooks_revoke_url, .headers = headers,
				       .body = body, .body_len = strlen(body)};
	struct outbound_response resp;
	outbound_perform(&req, &resp);
	outbound_result_from(OUT_DELETE, &req, &resp, "revoke the token", res);
	outbound_response_free(&resp);
	free_secret(body);
	free_secret(auth);
	return res->cls == OUT_OK;
}

bool intuit_get(const char *access_token, const char *realm, const char *path,
		const struct outbound_ctx *ctx, struct outbound_result *res)
{
	outbound_result_clear(res);
	size_t ul = strlen(cfg.quickbooks_api_url) + strlen(realm) + strlen(path) + 32;
	char *url = xmalloc(ul);
	snprintf(url, ul, "%s/v3/company/%s/%s", cfg.quickbooks_api_url, realm, path);
	size_t hl = strlen(access_token) + 32;
	char *auth = xmalloc(hl);
	snprintf(auth, hl, "Authorization: Bearer %s", access_token);
	char rid[200] = "";
	if (ctx && ctx->request_id && *ctx->request_id)
		snprintf(rid, sizeof(rid), "Request-Id: %.128s", ctx->request_id);
	const char *headers[] = {auth, "Accept: application/json", rid[0] ? rid : NULL, NULL};
	struct outbound_request req = {.target = OUT_INTUIT, .method = "GET", .url = url, .headers = headers};
	struct outbound_response resp;
	outbound_perform(&req, &resp);
	outbound_result_from(OUT_READ, &req, &resp, "read from QuickBooks", res);
	outbound_response_free(&resp);
	free_secret(auth);
	free(url);
	return res->cls == OUT_OK;
}

const char *intuit_fault_code(json_t *body)
{
	json_t *e = json_array_get(json_object_get(json_object_get(body, "Fault"), "Error"), 0);
	return json_string_value(json_object_get(e, "code"));
}
