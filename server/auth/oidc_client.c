/*
 * oidc_client.c - the portal sign-in's authorize URL and its code exchange
 * at the token endpoint (through the outbound exchange).
 *
 * The exchange is one of the two places a request thread waits on the
 * network (the other: a token with an unknown kid, jwks.c, at most once per
 * ATRIUM_JWKS_MIN_REFRESH_SECONDS). It is bounded by a 5 s timeout, and the
 * authorization code flow needs its answer before the browser can be sent
 * on: moving it to the worker would add a queue round trip to every
 * sign-in for no gain in safety.
 */
#include "server/auth/oidc_client.h"
#include "server/common/config.h"
#include "server/auth/jwks.h"
#include "server/common/log.h"
#include "server/common/util.h"
#include "server/outbound/outbound.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

char *oidc_redirect_uri(void)
{
	return xasprintf("%s/auth/callback", cfg.public_url);
}

/* Appends "&name=<escaped value>" (or "?name=" first) to *url. */
static void add_param(char **url, const char *name, const char *value)
{
	char *esc = outbound_escape(value);
	char *next = xasprintf("%s%s%s=%s", *url, strchr(*url, '?') ? "&" : "?", name, esc);
	free(esc);
	free(*url);
	*url = next;
}

char *oidc_authorize_url(const char *state, const char *nonce, const char *code_challenge,
			 const char *login_hint)
{
	char *endpoint = jwks_endpoint(false);
	if (endpoint == NULL || cfg.oidc_client_id == NULL) {
		free(endpoint);
		return NULL;
	}
	char *url = endpoint;
	char *redirect = oidc_redirect_uri();
	add_param(&url, "client_id", cfg.oidc_client_id);
	add_param(&url, "response_type", "code");
	add_param(&url, "response_mode", "query");
	add_param(&url, "redirect_uri", redirect);
	add_param(&url, "scope", "openid profile email");
	add_param(&url, "state", state);
	add_param(&url, "nonce", nonce);
	add_param(&url, "code_challenge", code_challenge);
	add_param(&url, "code_challenge_method", "S256");
	if (login_hint)
		add_param(&url, "login_hint", login_hint);
	free(redirect);
	return url;
}

char *oidc_exchange_code(const char *code, const char *verifier, const char **why)
{
	char *endpoint = jwks_endpoint(true);
	char *form = NULL, *redirect = oidc_redirect_uri(), *id_token = NULL;
	struct outbound_response resp = {0};
	json_t *doc = NULL;
	*why = "the identity provider's token endpoint is not known yet";
	if (endpoint == NULL)
		goto cleanup;

	form = xstrdup("grant_type=authorization_code");
	const char *names[] = {"code", "redirect_uri", "client_id", "client_secret", "code_verifier"};
	const char *values[] = {code, redirect, cfg.oidc_client_id ? cfg.oidc_client_id : "",
				cfg.oidc_client_secret ? cfg.oidc_client_secret : "", verifier};
	for (int i = 0; i < 5; i++) {
		char *esc = outbound_escape(values[i]);
		char *next = xasprintf("%s&%s=%s", form, names[i], esc);
		free(esc);
		free(form);
		form = next;
	}
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
				 "Accept: application/json", NULL};
	struct outbound_request req = {
		.target = OUT_IDP,
		.method = "POST",
		.url = endpoint,
		.headers = headers,
		.body = form,
		.body_len = strlen(form),
		.timeout_ms = 5000,
	};
	if (!outbound_perform(&req, &resp)) {
		log_warn("oidc: token endpoint: %s", resp.error);
		*why = "the identity provider could not be reached";
		goto cleanup;
	}
	doc = resp.body ? json_loadb(resp.body, resp.len, 0, NULL) : NULL;
	if (resp.status != 200) {
		const char *err = json_string_value(json_object_get(doc, "error"));
		log_warn("oidc: token endpoint answered %ld: %s", resp.status, err ? err : "?");
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
	outbound_response_free(&resp);
	free(form);
	free(redirect);
	free(endpoint);
	return id_token;
}
