/*
 * session.c - the Redis session store and the sign-in state.
 */
#include "server/auth/session.h"
#include "server/common/config.h"
#include "server/store/redis.h"
#include "server/common/util.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void random_hex(char out[65])
{
	unsigned char b[32];
	if (RAND_bytes(b, sizeof(b)) != 1)
		abort();
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

bool session_id_valid(const char *id)
{
	if (id == NULL || strlen(id) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

bool session_secret_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && n > 0 && CRYPTO_memcmp(a, b, n) == 0;
}

enum csrf_verdict session_csrf_check(const char *origin, const char *referer, const char *token,
				     const char *session_csrf, const char *public_url)
{
	size_t n = strlen(public_url);
	bool same_site = origin ? strcmp(origin, public_url) == 0
				: referer && strncmp(referer, public_url, n) == 0 && referer[n] == '/';
	if (!same_site)
		return CSRF_CROSS_SITE;
	if (token == NULL || session_csrf == NULL || !session_secret_equal(token, session_csrf))
		return CSRF_BAD_TOKEN;
	return CSRF_OK;
}

static void key_of(const char *id, char key[80])
{
	char h[65];
	util_sha256_hex(id, strlen(id), h);
	snprintf(key, 80, "session:%s", h);
}

enum session_status session_create(const struct principal *p, char id[65], char csrf[65])
{
	random_hex(id);
	random_hex(csrf);
	int64_t now = util_now_s();
	json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:I}", "tid", p->tid, "oid", p->oid,
			      "user_id", p->user_id, "name", p->name, "username", p->username, "roles",
			      (int)p->roles, "csrf", csrf, "created", (json_int_t)now, "expires",
			      (json_int_t)(now + cfg.session_max_s));
	if (v == NULL)
		return SESSION_UNAVAILABLE;
	char *s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	char key[80];
	key_of(id, key);
	int ttl = cfg.session_idle_s < cfg.session_max_s ? cfg.session_idle_s : cfg.session_max_s;
	enum redis_status st = redis_set_ex(key, s, ttl);
	free(s);
	return st == REDIS_OK ? SESSION_OK : SESSION_UNAVAILABLE;
}

static void copy_str(json_t *o, const char *k, char *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, k));
	snprintf(out, len, "%s", s ? s : "");
}

enum session_status session_get(const char *id, struct principal *p, char csrf[65])
{
	if (!session_id_valid(id))
		return SESSION_MISSING;
	char key[80];
	key_of(id, key);
	char *raw = NULL;
	enum redis_status st = redis_get_touch(key, cfg.session_idle_s, &raw);
	if (st == REDIS_FAIL)
		return SESSION_UNAVAILABLE;
	if (st == REDIS_MISSING)
		return SESSION_MISSING;
	json_t *v = json_loads(raw, 0, NULL);
	free(raw);
	if (!json_is_object(v)) {
		json_decref(v);
		return SESSION_MISSING;
	}
	int64_t expires = (int64_t)json_integer_value(json_object_get(v, "expires"));
	if (expires <= util_now_s()) {
		json_decref(v);
		redis_del(key);
		return SESSION_MISSING;
	}
	memset(p, 0, sizeof(*p));
	copy_str(v, "tid", p->tid, sizeof(p->tid));
	copy_str(v, "oid", p->oid, sizeof(p->oid));
	copy_str(v, "user_id", p->user_id, sizeof(p->user_id));
	copy_str(v, "name", p->name, sizeof(p->name));
	copy_str(v, "username", p->username, sizeof(p->username));
	copy_str(v, "csrf", csrf, 65);
	p->roles = (unsigned)json_integer_value(json_object_get(v, "roles"));
	p->expires = expires;
	p->kind = AUTH_KIND_COOKIE;
	json_decref(v);
	return SESSION_OK;
}

enum session_status session_delete(const char *id)
{
	if (!session_id_valid(id))
		return SESSION_MISSING;
	char key[80];
	key_of(id, key);
	return redis_del(key) == REDIS_OK ? SESSION_OK : SESSION_UNAVAILABLE;
}

enum session_status login_state_put(const char *state, const struct login_state *ls)
{
	json_t *v = json_pack("{s:s, s:s, s:s, s:s}", "verifier", ls->verifier, "nonce", ls->nonce,
			      "return_to", ls->return_to, "binding", ls->binding);
	if (v == NULL)
		return SESSION_UNAVAILABLE;
	char *s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	char key[160];
	snprintf(key, sizeof(key), "login:%s", state);
	enum redis_status st = redis_set_ex(key, s, 600);
	free(s);
	return st == REDIS_OK ? SESSION_OK : SESSION_UNAVAILABLE;
}

enum session_status login_state_take(const char *state, struct login_state *ls)
{
	if (state == NULL || strlen(state) < 16 || strlen(state) > 100)
		return SESSION_MISSING;
	for (const char *c = state; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '_'))
			return SESSION_MISSING;
	char key[160];
	snprintf(key, sizeof(key), "login:%s", state);
	char *raw = NULL;
	enum redis_status st = redis_get_del(key, &raw);
	if (st != REDIS_OK)
		return st == REDIS_MISSING ? SESSION_MISSING : SESSION_UNAVAILABLE;
	json_t *v = json_loads(raw, 0, NULL);
	free(raw);
	if (!json_is_object(v)) {
		json_decref(v);
		return SESSION_MISSING;
	}
	copy_str(v, "verifier", ls->verifier, sizeof(ls->verifier));
	copy_str(v, "nonce", ls->nonce, sizeof(ls->nonce));
	copy_str(v, "return_to", ls->return_to, sizeof(ls->return_to));
	copy_str(v, "binding", ls->binding, sizeof(ls->binding));
	json_decref(v);
	return SESSION_OK;
}

bool login_binding_matches(const char *cookie_value, const char *binding)
{
	if (cookie_value == NULL || binding == NULL || binding[0] == '\0' ||
	    strlen(cookie_value) > 128)
		return false;
	unsigned char d[32];
	util_sha256(cookie_value, strlen(cookie_value), d);
	char *h = util_b64url_encode(d, sizeof(d));
	bool ok = strlen(h) == strlen(binding) && CRYPTO_memcmp(h, binding, strlen(h)) == 0;
	free(h);
	return ok;
}
