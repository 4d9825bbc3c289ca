/*
 * oidc_client.c - authorize URL and token exchange (libcurl).
 */
#include "oidc_client.h"
#include "config.h"
#include "jwks.h"
#include "log.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANSWER (64 * 1024)

char *oidc_redirect_uri(void)
{
	return xasprintf("%s/auth/callback", cfg.public_url);
}

/* Appends "&name=<escaped value>" (or "?name=" first) to *url. */
static void add_param(CURL *c, char **url, const char *name, const char *value)
{
	char *esc = curl_easy_escape(c, value, 0);
	char *next = xasprintf("%s%s%s=%s", *url, strchr(*url, '?') ? "&" : "?", name, esc ? esc : "");
	curl_free(esc);
	free(*url);
	*url = next;
}

char *oidc_authorize_url(const char *state, const char *nonce, const char *code_challenge,
			 const char *login_hint)
{
	char *endpoint = jwks_endpoint(false);
	CURL *c = curl_easy_init();
	if (endpoint == NULL || c == NULL || cfg.oidc_client_id == NULL) {
		free(endpoint);
		if (c)
			curl_easy_cleanup(c);
		return NULL;
	}
	char *url = endpoint;
	char *redirect = oidc_redirect_uri();
	add_param(c, &url, "client_id", cfg.oidc_client_id);
	add_param(c, &url, "response_type", "code");
	add_param(c, &url, "response_mode", "query");
	add_param(c, &url, "redirect_uri", redirect);
	add_param(c, &url, "scope", "openid profile email");
	add_param(c, &url, "state", state);
	add_param(c, &url, "nonce", nonce);
	add_param(c, &url, "code_challenge", code_challenge);
	add_param(c, &url, "code_challenge_method", "S256");
	if (login_hint)
		add_param(c, &url, "login_hint", login_hint);
	free(redirect);
	curl_easy_cleanup(c);
	return url;
}

struct answer {
	char *data;
	size_t len;
};

static size_t on_data(char *p, size_t s, size_t n, void *ud)
{
	struct answer *a = ud;
	size_t len = s * n;
	if (a->len + len > MAX_ANSWER)
		return 0;
	a->data = xrealloc(a->data, a->len + len + 1);
	memcpy(a->data + a->len, p, len);
	a->len += len;
	a->data[a->len] = '\0';
	return len;
}

char *oidc_exchange_code(const char *code, const char *verifier, const char **why)
{
	char *endpoint = jwks_endpoint(true);
	CURL *c = curl_easy_init();
	char *form = NULL, *redirect = oidc_redirect_uri(), *id_token = NULL;
	struct answer a = {0};
	json_t *doc = NULL;
	*why = "the identity provider's token endpoint is not known yet";
	if (endpoint == NULL || c == NULL)
		goto cleanup;

	form = xstrdup("grant_type=authorization_code");
	const char *names[] = {"code", "redirect_uri", "client_id", "client_secret", "code_verifier"};
	const char *values[] = {code, redirect, cfg.oidc_client_id ? cfg.oidc_client_id : "",
				cfg.oidc_client_secret ? cfg.oidc_client_secret : "", verifier};
	for (int i = 0; i < 5; i++) {
		char *esc = curl_easy_escape(c, values[i], 0);
		char *next = xasprintf("%s&%s=%s", form, names[i], esc ? esc : "");
		curl_free(esc);
		free(form);
		form = next;
	}
	curl_easy_setopt(c, CURLOPT_URL, endpoint);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		log_warn("oidc: token endpoint: %s", curl_easy_strerror(rc));
		*why = "the identity provider could not be reached";
		goto cleanup;
	}
	doc = a.data ? json_loads(a.data, 0, NULL) : NULL;
	if (status != 200) {
		log_warn("oidc: token endpoint answered %ld: %s", status,
			 json_string_value(json_object_get(doc, "error")) ? json_string_value(json_object_get(doc, "error")) : "?");
		*why = "the identity provider refused the sign-in code";
		goto cleanup;
	}
	const char *tok = json_string_value(json_object_get(doc, "id_token"));
	if (tok == NULL) {
		*why = "the identity provider returned no ID token";
		goto cleanup;
	}
	id_token = xstrdup(tok);
	*why = NULL;
cleanup:
	json_decref(doc);
	free(a.data);
	free(form);
	free(redirect);
	free(endpoint);
	if (c)
		curl_easy_cleanup(c);
	return id_token;
}
