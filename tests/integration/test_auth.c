/*
 * Integration: bearer authentication against the real identity provider
 * (tests/idp, Entra-shaped) — good tokens of each kind, forged and
 * malformed ones, directories that are not tenants, role rules, and the
 * user record in auth_db.
 */
#include <criterion/criterion.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "server/auth/jwks.h"
#include "server/common/util.h"

static void expect_401(const char *token, const char *what)
{
	struct resp *r = http("GET", "/v1/me", token, NULL, NULL);
	cr_assert_eq(r->status, 401, "%s: got %ld %s", what, r->status, r->body ? r->body : "");
	assert_problem(r, 401);
	char *www = resp_header(r, "WWW-Authenticate");
	cr_assert_not_null(www, "%s: WWW-Authenticate missing", what);
	cr_assert(strncmp(www, "Bearer", 6) == 0);
	free(www);
	resp_free(r);
}

Test(auth, missing_or_non_bearer_authorization_is_401)
{
	expect_401(NULL, "no header");
	const char *h[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
	struct resp *r = http("GET", "/v1/me", NULL, NULL, h);
	assert_problem(r, 401);
	resp_free(r);
}

Test(auth, garbage_tokens_are_401)
{
	expect_401("garbage", "garbage");
	expect_401("a.b.c", "three garbage parts");
	expect_401("eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.", "alg none");
}

/*
 * Regression: the principal cache and the tid -> tenant cache once shared
 * one table, keyed by SHA-256 of the token and of "tid:<tid>", and the
 * cache was read before the value was checked to be a JWT: after any
 * request from a tenant, "Bearer tid:<its directory>" was a signed-in
 * caller. Warm both caches, then send every value shaped like an internal
 * key; each must be a 401 on a route of that tenant and on /v1/me.
 */
Test(auth, bearer_values_shaped_like_cache_keys_are_401_after_the_caches_are_warm)
{
	struct tenant t;
	create_tenant(&t);
	char *tok = mint(t.aad, NULL, "tenant_admin", NULL);
	char path[128];
	snprintf(path, sizeof(path), "/v1/tenants/%s", t.id);
	struct resp *r = http("GET", path, tok, NULL, NULL);
	cr_assert_eq(r->status, 200, "warm-up: %s", r->body);
	resp_free(r);
	char *home = super_token();
	r = http("GET", "/v1/me", home, NULL, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);

	char upper[37];
	snprintf(upper, sizeof(upper), "%s", t.aad);
	for (char *c = upper; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	char keys[8][128];
	snprintf(keys[0], sizeof(keys[0]), "tid:%s", t.aad);
	snprintf(keys[1], sizeof(keys[1]), "tid:%s", home_tid());
	snprintf(keys[2], sizeof(keys[2]), "tid:%s", upper);
	snprintf(keys[3], sizeof(keys[3]), "%s", t.aad);
	snprintf(keys[4], sizeof(keys[4]), "%s", t.id);
	snprintf(keys[5], sizeof(keys[5]), "dir:%s", t.aad);
	snprintf(keys[6], sizeof(keys[6]), "tid:%s.x.y", t.aad);
	snprintf(keys[7], sizeof(keys[7]), "session:%s", t.aad);
	for (int i = 0; i < 8; i++) {
		expect_401(keys[i], keys[i]);
		r = http("GET", path, keys[i], NULL, NULL);
		cr_assert_eq(r->status, 401, "%s on %s: got %ld %s", keys[i], path, r->status,
			     r->body ? r->body : "");
		assert_problem(r, 401);
		resp_free(r);
	}
	/* The real token still works: the caches were not poisoned either. */
	r = http("GET", path, tok, NULL, NULL);
	cr_assert_eq(r->status, 200);
	resp_free(r);
	free(tok);
	free(home);
}

Test(auth, super_admin_from_home_directory_sees_itself)
{
	char *tok = super_token();
	struct resp *r = http("GET", "/v1/me", tok, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_t *user = json_object_get(r->json, "user");
	cr_assert_str_eq(json_string_value(json_object_get(user, "tid")), home_tid());
	cr_assert(util_is_uuid(json_string_value(json_object_get(user, "id"))));
	cr_assert(json_is_null(json_object_get(r->json, "tenant")));
	json_t *roles = json_object_get(r->json, "roles");
	cr_assert_eq(json_array_size(roles), 1);
	cr_assert_str_eq(json_string_value(json_array_get(roles, 0)), "super_admin");
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "auth")), "bearer");
	resp_free(r);
	free(tok);
}

Test(auth, token_from_unknown_directory_is_401)
{
	char tid[37];
	random_uuid(tid);
	char *tok = mint(tid, NULL, "tenant_admin", NULL);
	expect_401(tok, "unknown directory");
	free(tok);
}

Test(auth, member_of_a_tenant_gets_member_role_and_tenant)
{
	struct tenant t;
	create_tenant(&t);
	char *tok = mint(t.aad, NULL, NULL, "{\"name\":\"Mia Member\",\"preferred_username\":\"mia@example.test\"}");
	struct resp *r = http("GET", "/v1/me", tok, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	json_t *roles = json_object_get(r->json, "roles");
	cr_assert_eq(json_array_size(roles), 1);
	cr_assert_str_eq(json_string_value(json_array_get(roles, 0)), "member");
	json_t *tenant = json_object_get(r->json, "tenant");
	cr_assert_str_eq(json_string_value(json_object_get(tenant, "id")), t.id);
	cr_assert_str_eq(json_string_value(json_object_get(tenant, "slug")), t.slug);
	json_t *user = json_object_get(r->json, "user");
	cr_assert_str_eq(json_string_value(json_object_get(user, "name")), "Mia Member");
	cr_assert_str_eq(json_string_value(json_object_get(user, "username")), "mia@example.test");
	resp_free(r);
	free(tok);
}

Test(auth, super_admin_role_from_a_tenant_directory_is_ignored)
{
	struct tenant t;
	create_tenant(&t);
	char *tok = mint(t.aad, NULL, "super_admin", NULL);
	struct resp *r = http("GET", "/v1/me", tok, NULL, NULL);
	cr_assert_eq(r->status, 200);
	json_t *roles = json_object_get(r->json, "roles");
	cr_assert_str_eq(json_string_value(json_array_get(roles, 0)), "member");
	resp_free(r);
	r = http("POST", "/v1/tenants", tok, "{\"slug\":\"x-evil\",\"name\":\"x\",\"aad_tenant_id\":\"0b9f8c1e-2f4a-4c3b-9d1e-7a6b5c4d3e2f\"}", NULL);
	assert_problem(r, 403);
	resp_free(r);
	free(tok);
}

Test(auth, expired_not_yet_valid_and_foreign_audience_tokens_are_401)
{
	struct tenant t;
	create_tenant(&t);
	char *tok = mint(t.aad, NULL, NULL, "{\"exp_in\":-600}");
	expect_401(tok, "expired");
	free(tok);
	tok = mint(t.aad, NULL, NULL, "{\"nbf_in\":900}");
	expect_401(tok, "nbf in the future");
	free(tok);
	tok = mint(t.aad, NULL, NULL, "{\"aud\":\"api://someone-else\"}");
	expect_401(tok, "foreign audience");
	free(tok);
	char iss[256];
	snprintf(iss, sizeof(iss), "{\"iss\":\"http://127.0.0.1:28080/%s/v2.0\"}", home_tid());
	tok = mint(t.aad, NULL, NULL, iss);
	expect_401(tok, "issuer of another directory");
	free(tok);
}

Test(auth, v1_tokens_with_the_sts_issuer_are_accepted)
{
	struct tenant t;
	create_tenant(&t);
	char *tok = mint(t.aad, NULL, "tenant_admin", "{\"ver\":\"1.0\"}");
	struct resp *r = http("GET", "/v1/me", tok, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	free(tok);
}

/* Splits a compact token into its three parts (heap copies). */
static void parts(const char *tok, char **h, char **p, char **s)
{
	const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
	*h = xstrndup(tok, (size_t)(d1 - tok));
	*p = xstrndup(d1 + 1, (size_t)(d2 - d1 - 1));
	*s = xstrdup(d2 + 1);
}

Test(auth, forged_tokens_are_401)
{
	struct tenant t;
	create_tenant(&t);
	char *good = mint(t.aad, NULL, "tenant_admin", NULL);
	char *h, *p, *s;
	parts(good, &h, &p, &s);

	/* 1. payload swapped for one claiming super_admin, signature kept. */
	size_t plen;
	unsigned char *claims = util_b64url_decode(p, strlen(p), &plen);
	json_t *cj = json_loadb((char *)claims, plen, 0, NULL);
	json_object_set_new(cj, "roles", json_pack("[s]", "super_admin"));
	json_object_set_new(cj, "tid", json_string(home_tid()));
	char *evil = json_dumps(cj, JSON_COMPACT);
	char *evil_b64 = util_b64url_encode((unsigned char *)evil, strlen(evil));
	char *forged = xasprintf("%s.%s.%s", h, evil_b64, s);
	expect_401(forged, "tampered payload");
	free(forged);

	/* 2. alg none with the real header's kid. */
	size_t hlen;
	unsigned char *hdr = util_b64url_decode(h, strlen(h), &hlen);
	json_t *hj = json_loadb((char *)hdr, hlen, 0, NULL);
	const char *kid = json_string_value(json_object_get(hj, "kid"));
	char *none_hdr = xasprintf("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	char *none_b64 = util_b64url_encode((unsigned char *)none_hdr, strlen(none_hdr));
	forged = xasprintf("%s.%s.", none_b64, p);
	expect_401(forged, "alg none");
	free(forged);

	/* 3. HS256 keyed with the provider's public key PEM, kid kept. */
	struct resp *jr = http_at(getenv("ATRIUM_TEST_IDP_URL") ? getenv("ATRIUM_TEST_IDP_URL") : "http://127.0.0.1:28080",
				  "GET", "/common/v2.0/.well-known/openid-configuration", NULL, NULL, NULL);
	const char *jwks_uri = json_string_value(json_object_get(jr->json, "jwks_uri"));
	cr_assert_not_null(jwks_uri);
	struct resp *kr = http_at("", "GET", jwks_uri, NULL, NULL, NULL);
	json_t *k0 = json_array_get(json_object_get(kr->json, "keys"), 0);
	char *pem = jwks_jwk_to_pem(json_string_value(json_object_get(k0, "n")),
				    json_string_value(json_object_get(k0, "e")));
	cr_assert_not_null(pem);
	jwt_t *jwt = NULL;
	jwt_new(&jwt);
	jwt_add_grants_json(jwt, evil);
	jwt_add_header(jwt, "kid", kid);
	jwt_set_alg(jwt, JWT_ALG_HS256, (unsigned char *)pem, (int)strlen(pem));
	char *hs = jwt_encode_str(jwt);
	expect_401(hs, "HS256 keyed with the public PEM");
	free(hs);
	jwt_free(jwt);

	/* 4. signature of another RSA key under the provider's kid. */
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	char *priv;
	long n = BIO_get_mem_data(b, &priv);
	jwt_new(&jwt);
	jwt_add_grants_json(jwt, evil);
	jwt_add_header(jwt, "kid", kid);
	jwt_set_alg(jwt, JWT_ALG_RS256, (unsigned char *)priv, (int)n);
	char *rs = jwt_encode_str(jwt);
	expect_401(rs, "RS256 by a stranger's key");
	free(rs);
	jwt_free(jwt);
	BIO_free(b);
	EVP_PKEY_free(pk);

	free(pem);
	resp_free(kr);
	resp_free(jr);
	json_decref(hj);
	free(hdr);
	free(none_hdr);
	free(none_b64);
	json_decref(cj);
	free(claims);
	free(evil);
	free(evil_b64);
	free(h);
	free(p);
	free(s);
	free(good);
}

/* last_login_at and name of a user, read directly (heap strings). */
static void user_row(const char *tid, const char *oid, char **last_login, char **name)
{
	PGconn *pg = db_connect("ATRIUM_DB_AUTH_URL");
	PQclear(PQexec(pg, "SELECT set_config('atrium.tenant_id', '*', false)"));
	const char *v[] = {tid, oid};
	PGresult *res = PQexecParams(pg, "SELECT last_login_at::text, coalesce(name, '') FROM users "
				     "WHERE tid = $1 AND oid = $2", 2, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQntuples(res), 1, "the user is recorded");
	*last_login = xstrdup(PQgetvalue(res, 0, 0));
	*name = xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	PQfinish(pg);
}

Test(auth, a_known_user_with_a_fresh_token_costs_no_auth_db_write_unless_its_record_changed)
{
	struct tenant t;
	create_tenant(&t);
	char oid[37];
	random_uuid(oid);
	char *first = mint(t.aad, oid, NULL, "{\"name\":\"Ada\"}");
	struct resp *r = http("GET", "/v1/me", first, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	char *uid = xstrdup(json_string_value(json_object_get(json_object_get(r->json, "user"), "id")));
	resp_free(r);
	char *login1, *name1;
	user_row(t.aad, oid, &login1, &name1);
	cr_assert_str_eq(name1, "Ada");

	/* Another token (its own signature and digest), the same user. */
	usleep(20000);
	char *second = mint(t.aad, oid, NULL, "{\"name\":\"Ada\"}");
	cr_assert_str_neq(first, second);
	r = http("GET", "/v1/me", second, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r->json, "user"), "id")), uid,
			 "the same user id, from the cache");
	resp_free(r);
	char *login2, *name2;
	user_row(t.aad, oid, &login2, &name2);
	cr_assert_str_eq(login2, login1, "no write for a known user: last_login_at stays");

	/* What is recorded changed (the name): written at once. */
	char *renamed = mint(t.aad, oid, NULL, "{\"name\":\"Ada Lovelace\"}");
	r = http("GET", "/v1/me", renamed, NULL, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	resp_free(r);
	char *login3, *name3;
	user_row(t.aad, oid, &login3, &name3);
	cr_assert_str_eq(name3, "Ada Lovelace", "a changed name is recorded");
	cr_assert_str_neq(login3, login1, "and last_login_at moves with it");
	free(first); free(second); free(renamed); free(uid);
	free(login1); free(name1); free(login2); free(name2); free(login3); free(name3);
}

Test(auth, each_user_is_recorded_in_auth_db)
{
	struct tenant t;
	create_tenant(&t);
	char oid[37];
	random_uuid(oid);
	char *tok = mint(t.aad, oid, "support_user", NULL);
	struct resp *r = http("GET", "/v1/me", tok, NULL, NULL);
	cr_assert_eq(r->status, 200);
	const char *uid = json_string_value(json_object_get(json_object_get(r->json, "user"), "id"));
	PGconn *pg = db_connect("ATRIUM_DB_AUTH_URL");
	PGresult *res = PQexec(pg, "SELECT set_config('atrium.tenant_id', '*', false)");
	PQclear(res);
	const char *v[] = {t.aad, oid};
	res = PQexecParams(pg, "SELECT id, tenant_id FROM users WHERE tid = $1 AND oid = $2", 2, NULL, v, NULL, NULL, 0);
	cr_assert_eq(PQntuples(res), 1);
	cr_assert_str_eq(PQgetvalue(res, 0, 0), uid);
	cr_assert_str_eq(PQgetvalue(res, 0, 1), t.id);
	PQclear(res);
	PQfinish(pg);
	resp_free(r);
	free(tok);
}
