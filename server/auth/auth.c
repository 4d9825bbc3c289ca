/*
 * auth.c - Entra ID bearer token validation and the principal cache.
 *
 * Order of checks (SPEC.md section 2): compact JWS form of bounded length;
 * header alg exactly RS256, before any key is touched (so neither `none`
 * nor an HS256 token keyed with the PEM text of the RSA public key ever
 * reaches a key); kid names a key in the JWKS; signature; iss equals the
 * directory's issuer for the token's tid; aud; exp and nbf with bounded
 * skew. Then the tid must be the operator's directory or a known tenant's.
 *
 * The signature is RSASSA-PKCS1-v1_5 with SHA-256, checked with OpenSSL
 * against the EVP_PKEY that jwks.c built once per key (no key is parsed per
 * token), on a verify context each thread prepares once per key (see
 * "signature" below). libjwt is not on this path.
 */
#include "server/auth/auth.h"
#include "server/common/config.h"
#include "server/auth/jwks.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/common/util.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN_LEN 16384

/* ---- roles ---------------------------------------------------------- */

static const struct {
	unsigned bit;
	const char *name;
} role_names[] = {
	{ROLE_SUPER_ADMIN, "super_admin"},
	{ROLE_TENANT_ADMIN, "tenant_admin"},
	{ROLE_BILLING_VIEWER, "billing_viewer"},
	{ROLE_SUPPORT_USER, "support_user"},
	{ROLE_MEMBER, "member"},
};

unsigned auth_role_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(role_names[i].name, name) == 0)
			return role_names[i].bit;
	return 0;
}

const char *auth_role_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role_names[i].bit == bit)
			return role_names[i].name;
	return NULL;
}

bool auth_has_role(const struct principal *p, unsigned roles)
{
	if (roles == ROLE_ANY || (p->roles & ROLE_SUPER_ADMIN))
		return true;
	return (p->roles & roles) != 0;
}

/* ---- caches ---------------------------------------------------------- */

/*
 * Two caches of different types, so an entry of one can never be read as
 * the other: principals keyed by SHA-256 of a token that passed every check,
 * and directories (tid -> tenant) keyed by the tid itself. A bearer value is
 * looked up in the principal cache only after its shape passed
 * auth_check_header() and its kid names a key held now.
 */
#define CACHE_SLOTS 8192
#define DIR_SLOTS 1024
#define USER_SLOTS 4096
#define CACHE_STRIPES 16
/* A user recorded in auth_db is not written again by this process for as
 * long, unless what is recorded of it (tenant, name, username) changed: a
 * fresh token of a known user costs no auth_db write, and last_login_at is
 * kept to within this many seconds. */
#define USER_RECORD_REFRESH_S 300

struct principal_entry {
	unsigned char digest[32];
	int64_t valid_until;
	struct principal p;
};

struct directory_entry {
	char tid[37];
	char tenant_id[37];   /* "" when the directory is no tenant's */
	char status[16];
	int64_t valid_until;
};

/* Users recorded lately: the digest of what was recorded, and its id. */
struct user_entry {
	unsigned char digest[32];
	char user_id[37];
	int64_t valid_until;
};

static struct auth_directory directory;

void auth_set_directory(const struct auth_directory *d)
{
	directory = *d;
}

static struct principal_entry *principals;
static struct directory_entry *directories;
static struct user_entry *users;
static pthread_mutex_t stripes[CACHE_STRIPES];

void auth_start(void)
{
	principals = xcalloc(CACHE_SLOTS, sizeof(struct principal_entry));
	directories = xcalloc(DIR_SLOTS, sizeof(struct directory_entry));
	users = xcalloc(USER_SLOTS, sizeof(struct user_entry));
	for (int i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_init(&stripes[i], NULL);
	if (cfg.n_audiences == 0)
		log_warn("auth: ATRIUM_OIDC_AUDIENCE is empty: every token will be refused");
	jwks_start();
}

void auth_stop(void)
{
	jwks_stop();
	free(principals);
	free(directories);
	free(users);
	principals = NULL;
	directories = NULL;
	users = NULL;
}

static size_t slot_of(const unsigned char d[32])
{
	return ((size_t)d[0] << 8 | d[1]) % CACHE_SLOTS;
}

static bool principal_get(const unsigned char d[32], struct principal *p)
{
	if (principals == NULL)
		return false;
	size_t s = slot_of(d);
	pthread_mutex_t *m = &stripes[s % CACHE_STRIPES];
	bool hit = false;
	pthread_mutex_lock(m);
	if (memcmp(principals[s].digest, d, 32) == 0 && principals[s].valid_until > util_now_s()) {
		*p = principals[s].p;
		hit = true;
	}
	pthread_mutex_unlock(m);
	return hit;
}

static void principal_put(const unsigned char d[32], const struct principal *p, int64_t until)
{
	if (principals == NULL || cfg.auth_cache_ttl_s == 0)
		return;
	size_t s = slot_of(d);
	pthread_mutex_t *m = &stripes[s % CACHE_STRIPES];
	pthread_mutex_lock(m);
	memcpy(principals[s].digest, d, 32);
	principals[s].p = *p;
	principals[s].valid_until = until;
	pthread_mutex_unlock(m);
}

static size_t dir_slot(const char *tid)
{
	unsigned char d[32];
	util_sha256(tid, strlen(tid), d);
	return ((size_t)d[0] << 8 | d[1]) % DIR_SLOTS;
}

/* tid must be a lower-case UUID (auth_check_claims stores it so). */
static bool directory_get(const char *tid, char tenant_id[37], char status[16])
{
	if (directories == NULL)
		return false;
	size_t s = dir_slot(tid);
	pthread_mutex_t *m = &stripes[s % CACHE_STRIPES];
	bool hit = false;
	pthread_mutex_lock(m);
	if (strcmp(directories[s].tid, tid) == 0 && directories[s].valid_until > util_now_s()) {
		memcpy(tenant_id, directories[s].tenant_id, 37);
		memcpy(status, directories[s].status, 16);
		hit = true;
	}
	pthread_mutex_unlock(m);
	return hit;
}

static void directory_put(const char *tid, const char *tenant_id, const char *status)
{
	if (directories == NULL || cfg.auth_cache_ttl_s == 0)
		return;
	size_t s = dir_slot(tid);
	pthread_mutex_t *m = &stripes[s % CACHE_STRIPES];
	pthread_mutex_lock(m);
	snprintf(directories[s].tid, sizeof(directories[s].tid), "%s", tid);
	snprintf(directories[s].tenant_id, sizeof(directories[s].tenant_id), "%s", tenant_id);
	snprintf(directories[s].status, sizeof(directories[s].status), "%s", status);
	directories[s].valid_until = util_now_s() + cfg.auth_cache_ttl_s;
	pthread_mutex_unlock(m);
}

/* What a record of p writes: equal digests, nothing new to write. */
static void user_digest(const struct principal *p, unsigned char d[32])
{
	char buf[sizeof(p->tid) + sizeof(p->oid) + sizeof(p->tenant_id) + sizeof(p->name) +
		 sizeof(p->username) + 8];
	int n = snprintf(buf, sizeof(buf), "%s%c%s%c%s%c%s%c%s", p->tid, 0, p->oid, 0, p->tenant_id, 0,
			 p->name, 0, p->username);
	util_sha256(buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, d);
}

static bool user_get(const unsigned char d[32], char user_id[37])
{
	if (users == NULL)
		return false;
	size_t s = ((size_t)d[0] << 8 | d[1]) % USER_SLOTS;
	pthread_mutex_t *m = &stripes[s % CACHE_STRIPES];
	bool hit = false;
	pthread_mutex_lock(m);
	if (memcmp(users[s].digest, d, 32) == 0 && users[s].valid_until > util_now_s()) {
		memcpy(user_id, users[s].user_id, 37);
		hit = true;
	}
	pthread_mutex_unlock(m);
	return hit;
}

static void user_put(const unsigned char d[32], const char *user_id)
{
	if (users == NULL || cfg.auth_cache_ttl_s == 0)
		return;
	size_t s = ((size_t)d[0] << 8 | d[1]) % USER_SLOTS;
	pthread_mutex_t *m = &stripes[s % CACHE_STRIPES];
	pthread_mutex_lock(m);
	memcpy(users[s].digest, d, 32);
	snprintf(users[s].user_id, sizeof(users[s].user_id), "%s", user_id);
	users[s].valid_until = util_now_s() + USER_RECORD_REFRESH_S;
	pthread_mutex_unlock(m);
}

void auth_cache_clear(void)
{
	if (principals == NULL)
		return;
	for (size_t s = 0; s < CACHE_SLOTS; s++) {
		pthread_mutex_t *m = &stripes[s % CACHE_STRIPES];
		pthread_mutex_lock(m);
		principals[s].valid_until = 0;
		if (s < DIR_SLOTS)
			directories[s].valid_until = 0;
		if (s < USER_SLOTS)
			users[s].valid_until = 0;
		pthread_mutex_unlock(m);
	}
}

/* ---- header ---------------------------------------------------------- */

bool auth_check_header(const char *token, char *kid_out, size_t kid_len, const char **why)
{
	size_t len = strlen(token);
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (len == 0 || len > MAX_TOKEN_LEN || dot1 == NULL || dot2 == NULL ||
	    strchr(dot2 + 1, '.') != NULL || dot1 == token || dot2 == dot1 + 1 ||
	    dot2[1] == '\0') {
		*why = "the token is not a compact JWS (header.payload.signature)";
		return false;
	}
	size_t hlen = 0;
	unsigned char *raw = util_b64url_decode(token, (size_t)(dot1 - token), &hlen);
	if (raw == NULL) {
		*why = "the token header is not base64url";
		return false;
	}
	json_error_t err;
	json_t *hdr = json_loadb((const char *)raw, hlen, JSON_REJECT_DUPLICATES, &err);
	free(raw);
	bool ok = false;
	const char *alg = json_string_value(json_object_get(hdr, "alg"));
	const char *kid = json_string_value(json_object_get(hdr, "kid"));
	if (!json_is_object(hdr)) {
		*why = "the token header is not a JSON object";
	} else if (alg == NULL || strcmp(alg, "RS256") != 0) {
		*why = "the token must be signed with RS256";
	} else if (json_object_get(hdr, "crit") != NULL) {
		*why = "the token header has critical extensions this server does not understand";
	} else if (kid == NULL || *kid == '\0' || strlen(kid) >= kid_len) {
		*why = "the token header has no usable kid";
	} else {
		snprintf(kid_out, kid_len, "%s", kid);
		ok = true;
	}
	json_decref(hdr);
	return ok;
}

/* ---- claims ----------------------------------------------------------- */

static bool audience_ok(json_t *aud)
{
	if (json_is_string(aud)) {
		for (int i = 0; i < cfg.n_audiences; i++)
			if (strcmp(json_string_value(aud), cfg.audiences[i]) == 0)
				return true;
		return false;
	}
	if (json_is_array(aud)) {
		size_t i;
		json_t *v;
		json_array_foreach(aud, i, v)
			if (audience_ok(v))
				return true;
	}
	return false;
}

static bool copy_opt_string(json_t *claims, const char *key, char *out, size_t len)
{
	json_t *v = json_object_get(claims, key);
	if (v == NULL || json_is_null(v)) {
		out[0] = '\0';
		return true;
	}
	if (!json_is_string(v))
		return false;
	snprintf(out, len, "%s", json_string_value(v));
	return true;
}

/* A NumericDate claim in whole seconds. False unless it is a number within
 * +-2^53 (NaN included): converting a larger double to int64_t is undefined
 * behaviour, and so would be adding the clock skew to one near INT64_MAX. */
static bool numeric_date(json_t *v, int64_t *out)
{
	if (!json_is_number(v))
		return false;
	double d = json_number_value(v);
	if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0))
		return false;
	*out = (int64_t)d;
	return true;
}

bool auth_check_claims(const char *claims_json, int64_t now, const char *nonce,
		       struct principal *p, const char **why)
{
	json_error_t err;
	json_t *c = json_loads(claims_json, JSON_REJECT_DUPLICATES, &err);
	bool ok = false;
	char expect[512];

	memset(p, 0, sizeof(*p));
	if (!json_is_object(c)) {
		*why = "the token payload is not a JSON object";
		goto cleanup;
	}
	const char *tid = json_string_value(json_object_get(c, "tid"));
	const char *iss = json_string_value(json_object_get(c, "iss"));
	const char *oid = json_string_value(json_object_get(c, "oid"));
	const char *ver = json_string_value(json_object_get(c, "ver"));
	if (tid == NULL || !util_is_uuid(tid)) {
		*why = "the token has no valid tid claim";
		goto cleanup;
	}
	if (iss == NULL) {
		*why = "the token has no iss claim";
		goto cleanup;
	}
	bool v1 = ver && strcmp(ver, "1.0") == 0;
	bool iss_ok;
	if (v1)
		iss_ok = jwks_expand_issuer(cfg.oidc_v1_issuer, tid, expect, sizeof(expect)) &&
			 strcmp(iss, expect) == 0;
	else
		iss_ok = jwks_issuer_for(tid, expect, sizeof(expect)) && strcmp(iss, expect) == 0;
	if (!iss_ok) {
		*why = "the token issuer does not match its directory (tid)";
		goto cleanup;
	}
	if (!audience_ok(json_object_get(c, "aud"))) {
		*why = "the token audience is not this API";
		goto cleanup;
	}
	json_t *nbf = json_object_get(c, "nbf");
	int64_t exp_s, nbf_s;
	if (!numeric_date(json_object_get(c, "exp"), &exp_s)) {
		*why = "the token has no exp claim";
		goto cleanup;
	}
	if (exp_s + cfg.clock_skew_s < now) {
		*why = "the token has expired";
		goto cleanup;
	}
	if (nbf && (!numeric_date(nbf, &nbf_s) || nbf_s - cfg.clock_skew_s > now)) {
		*why = "the token is not valid yet (nbf)";
		goto cleanup;
	}
	if (oid == NULL || !util_is_uuid(oid)) {
		*why = "the token has no valid oid claim";
		goto cleanup;
	}
	if (nonce) {
		const char *got = json_string_value(json_object_get(c, "nonce"));
		if (got == NULL || strlen(got) != strlen(nonce) ||
		    CRYPTO_memcmp(got, nonce, strlen(nonce)) != 0) {
			*why = "the ID token's nonce does not match the sign-in request";
			goto cleanup;
		}
	}
	json_t *roles = json_object_get(c, "roles");
	if (roles && !json_is_array(roles)) {
		*why = "the token roles claim is not an array";
		goto cleanup;
	}
	size_t i;
	json_t *r;
	json_array_foreach(roles, i, r) {
		if (!json_is_string(r)) {
			*why = "the token roles claim holds a non-string";
			goto cleanup;
		}
		p->roles |= auth_role_from_name(json_string_value(r));
	}
	if (!copy_opt_string(c, "name", p->name, sizeof(p->name)) ||
	    !copy_opt_string(c, "preferred_username", p->username, sizeof(p->username))) {
		*why = "the token name claims are not strings";
		goto cleanup;
	}
	snprintf(p->tid, sizeof(p->tid), "%s", tid);
	snprintf(p->oid, sizeof(p->oid), "%s", oid);
	/* Identifiers compare case-insensitively in Entra; store them lower. */
	for (char *s = p->tid; *s; s++)
		*s = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	for (char *s = p->oid; *s; s++)
		*s = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	p->expires = exp_s;
	ok = true;
cleanup:
	json_decref(c);
	return ok;
}

enum tenant_access auth_tenant_access(const struct principal *p, const char *tenant_id)
{
	if (!util_is_uuid(tenant_id))
		return ACCESS_NOT_FOUND;
	if (p->roles & ROLE_SUPER_ADMIN) {
		switch (directory.tenant_exists ? directory.tenant_exists(tenant_id)
						: AUTH_LOOKUP_UNAVAILABLE) {
		case AUTH_LOOKUP_FOUND:
			return ACCESS_OK;
		case AUTH_LOOKUP_NOT_FOUND:
			return ACCESS_NOT_FOUND;
		default:
			return ACCESS_UNAVAILABLE;
		}
	}
	if (strcasecmp(p->tenant_id, tenant_id) != 0)
		return ACCESS_NOT_FOUND;
	if (auth_tenant_closed(p->tenant_status))
		return ACCESS_SUSPENDED;
	return ACCESS_OK;
}

bool auth_tenant_closed(const char *status)
{
	return strcmp(status, "suspended") == 0 || strcmp(status, "deleting") == 0;
}

const char *auth_tenant_closed_reason(const char *status)
{
	return strcmp(status, "deleting") == 0 ? "This tenant is being deleted."
					       : "This tenant is suspended.";
}

/* ---- signature --------------------------------------------------------- */

/*
 * RS256 the way `openssl speed` checks RSA: the SHA-256 of the signing input,
 * then EVP_PKEY_verify() on a context made ready for the key once per
 * thread. Preparing a context (EVP_DigestVerifyInit) looks up the signature
 * and digest implementations in OpenSSL 3's provider store, whose locks the
 * two cores contend for; a prepared context looks nothing up.
 *
 * Each thread keeps one context for the last key it verified with. The
 * context holds its own reference to that key, so a refresh that replaced
 * the key cannot free it (nor let its address be reused for another) while
 * the thread still caches it; the next token signed by another key replaces
 * the context. Freed when the thread ends.
 */
static EVP_MD *sha256_md; /* fetched once, lives until exit */
static pthread_key_t verifier_key;
static pthread_once_t verifier_once = PTHREAD_ONCE_INIT;

struct verifier {
	EVP_PKEY *pkey;     /* the key ctx was made for; ctx's reference keeps it */
	EVP_PKEY_CTX *ctx;  /* ready for EVP_PKEY_verify: PKCS#1 v1.5, SHA-256 */
	EVP_MD_CTX *md;     /* reused for the digest */
};

static void verifier_free(void *arg)
{
	struct verifier *v = arg;
	EVP_PKEY_CTX_free(v->ctx);
	EVP_MD_CTX_free(v->md);
	free(v);
}

static void verifier_init(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (pthread_key_create(&verifier_key, verifier_free) != 0)
		abort();
}

/* This thread's verifier, made ready for pkey; NULL when OpenSSL failed. */
static struct verifier *verifier_for(EVP_PKEY *pkey)
{
	struct verifier *v = pthread_getspecific(verifier_key);
	if (v == NULL) {
		v = xcalloc(1, sizeof(*v));
		v->md = EVP_MD_CTX_new();
		if (v->md == NULL || pthread_setspecific(verifier_key, v) != 0) {
			verifier_free(v);
			return NULL;
		}
	}
	if (v->ctx != NULL && v->pkey == pkey)
		return v;
	EVP_PKEY_CTX_free(v->ctx);
	v->ctx = NULL;
	v->pkey = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, sha256_md) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	v->ctx = ctx;
	v->pkey = pkey;
	return v;
}

bool auth_rs256_verify(EVP_PKEY *pkey, const char *signing_input, size_t input_len,
		       const unsigned char *sig, size_t sig_len)
{
	pthread_once(&verifier_once, verifier_init);
	if (sha256_md == NULL || pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return false;
	/* A PKCS#1 v1.5 signature is exactly as long as the modulus. */
	if (sig_len == 0 || sig_len != (size_t)EVP_PKEY_get_size(pkey))
		return false;
	struct verifier *v = verifier_for(pkey);
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	return v != NULL && EVP_DigestInit_ex2(v->md, sha256_md, NULL) == 1 &&
	       EVP_DigestUpdate(v->md, signing_input, input_len) == 1 &&
	       EVP_DigestFinal_ex(v->md, digest, &dlen) == 1 && dlen == 32 &&
	       EVP_PKEY_verify(v->ctx, sig, sig_len, digest, dlen) == 1;
}

/* ---- the whole validation --------------------------------------------- */

/* The checks after auth_check_header() (which proved the three segments
 * and gave kid): key, signature, claims. */
static enum auth_status verify_after_header(const char *token, const char *kid, const char *nonce,
					    struct principal *p, const char **why)
{
	const char *dot1 = strchr(token, '.');
	const char *dot2 = strchr(dot1 + 1, '.');
	const char *sig_b64 = dot2 + 1;
	size_t sig_b64_len = strlen(sig_b64);
	/* No key is looked up for a signature longer than any modulus jwks.c
	 * takes (1024 bytes: 1366 base64url characters). */
	if (sig_b64_len > 1366) {
		*why = "the token signature is not valid";
		return AUTH_INVALID;
	}

	EVP_PKEY *pkey = NULL;
	switch (jwks_key(kid, &pkey)) {
	case JWKS_FOUND:
		break;
	case JWKS_UNKNOWN_KID:
		*why = "the token is signed with an unknown key (kid)";
		return AUTH_INVALID;
	case JWKS_UNAVAILABLE:
		*why = "the identity provider's keys are not available";
		return AUTH_UNAVAILABLE;
	}

	enum auth_status st = AUTH_INVALID;
	size_t sig_len = 0, claims_len = 0;
	unsigned char *claims = NULL;
	unsigned char *sig = util_b64url_decode(sig_b64, sig_b64_len, &sig_len);
	if (sig == NULL ||
	    !auth_rs256_verify(pkey, token, (size_t)(dot2 - token), sig, sig_len)) {
		*why = "the token signature is not valid";
		goto cleanup;
	}
	claims = util_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &claims_len);
	if (claims == NULL || memchr(claims, '\0', claims_len) != NULL) {
		*why = "the token payload is not valid";
		goto cleanup;
	}
	if (auth_check_claims((const char *)claims, util_now_s(), nonce, p, why))
		st = AUTH_OK;
cleanup:
	free(claims);
	free(sig);
	EVP_PKEY_free(pkey);
	return st;
}

enum auth_status auth_verify(const char *token, const char *nonce, struct principal *p,
			     const char **why)
{
	char kid[128];
	if (!auth_check_header(token, kid, sizeof(kid), why))
		return AUTH_INVALID;
	return verify_after_header(token, kid, nonce, p, why);
}

enum auth_status auth_bearer(const char *token, struct principal *p, const char **why)
{
	unsigned char digest[32];
	char kid[128];
	size_t len = strnlen(token, MAX_TOKEN_LEN + 1);

	/* Shape first: nothing is looked up for a value that is no RS256
	 * compact JWS naming a key we hold. */
	if (len > MAX_TOKEN_LEN) {
		*why = "the token is too long";
		metrics_auth(MA_REJECTED_TOO_LONG);
		return AUTH_INVALID;
	}
	if (!auth_check_header(token, kid, sizeof(kid), why)) {
		metrics_auth(MA_REJECTED_MALFORMED);
		return AUTH_INVALID;
	}
	util_sha256(token, len, digest);
	if (jwks_has_kid(kid) && principal_get(digest, p)) {
		metrics_auth(MA_ACCEPTED_CACHED);
		return AUTH_OK;
	}

	enum auth_status st = verify_after_header(token, kid, NULL, p, why);
	if (st != AUTH_OK) {
		metrics_auth(st == AUTH_UNAVAILABLE ? MA_UNAVAILABLE : MA_REJECTED_INVALID);
		return st;
	}
	p->kind = AUTH_KIND_BEARER;
	st = auth_resolve(p, true, why);
	if (st != AUTH_OK) {
		metrics_auth(st == AUTH_UNAVAILABLE ? MA_UNAVAILABLE : MA_REJECTED_UNKNOWN_DIRECTORY);
		return st;
	}
	metrics_auth(MA_ACCEPTED_VERIFIED);
	int64_t until = util_now_s() + cfg.auth_cache_ttl_s;
	if (p->expires < until)
		until = p->expires;
	principal_put(digest, p, until);
	return AUTH_OK;
}

/* tid -> tenant, from the directory cache or the wired look-up. */
static enum auth_lookup tenant_of(const char *tid, char tenant_id[37], char status[16])
{
	if (directory_get(tid, tenant_id, status))
		return tenant_id[0] ? AUTH_LOOKUP_FOUND : AUTH_LOOKUP_NOT_FOUND;
	if (directory.tenant_by_directory == NULL)
		return AUTH_LOOKUP_UNAVAILABLE;
	enum auth_lookup ps = directory.tenant_by_directory(tid, tenant_id, status);
	if (ps == AUTH_LOOKUP_NOT_FOUND) {
		tenant_id[0] = '\0';
		status[0] = '\0';
	}
	if (ps != AUTH_LOOKUP_UNAVAILABLE)
		directory_put(tid, tenant_id, status);
	return ps;
}

enum auth_status auth_resolve(struct principal *p, bool record, const char **why)
{
	/* The directory must be the operator's or a known tenant's. */
	bool home = cfg.home_tenant_id && strcasecmp(p->tid, cfg.home_tenant_id) == 0;
	enum auth_lookup ps = tenant_of(p->tid, p->tenant_id, p->tenant_status);
	if (ps == AUTH_LOOKUP_UNAVAILABLE) {
		*why = "the tenant directory could not be checked";
		return AUTH_UNAVAILABLE;
	}
	if (ps == AUTH_LOOKUP_NOT_FOUND) {
		p->tenant_id[0] = '\0';
		p->tenant_status[0] = '\0';
		if (!home) {
			*why = "the token's directory is not a tenant of this platform";
			return AUTH_INVALID;
		}
	}
	if (!home)
		p->roles &= ~(unsigned)ROLE_SUPER_ADMIN;
	if ((p->roles & ~(unsigned)ROLE_MEMBER) == 0 && p->tenant_id[0])
		p->roles |= ROLE_MEMBER;
	if (!record)
		return AUTH_OK;
	unsigned char d[32];
	user_digest(p, d);
	if (user_get(d, p->user_id))
		return AUTH_OK;
	if (directory.record_user == NULL || !directory.record_user(p)) {
		*why = "the user could not be recorded";
		return AUTH_UNAVAILABLE;
	}
	user_put(d, p->user_id);
	return AUTH_OK;
}
