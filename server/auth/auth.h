/*
 * auth.h - who is calling. Validates Entra ID (Azure AD) access tokens
 * exactly as SPEC.md section 2 orders the checks, and resolves the caller's
 * directory (tid) to an Atrium tenant and its roles.
 *
 * Signatures are checked with OpenSSL against the keys jwks.c holds as
 * EVP_PKEYs; libjwt is not used to validate tokens.
 */
#ifndef ATRIUM_AUTH_H
#define ATRIUM_AUTH_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum role {
	ROLE_SUPER_ADMIN = 1 << 0,
	ROLE_TENANT_ADMIN = 1 << 1,
	ROLE_BILLING_VIEWER = 1 << 2,
	ROLE_SUPPORT_USER = 1 << 3,
	ROLE_MEMBER = 1 << 4,
};
#define ROLE_ANY 0u

enum auth_kind { AUTH_KIND_BEARER, AUTH_KIND_COOKIE };

struct principal {
	char user_id[37];     /* auth_db users.id */
	char tid[37];         /* Entra directory */
	char oid[37];         /* Entra object id */
	char tenant_id[37];   /* Atrium tenant, "" for the operator directory */
	char tenant_status[16];
	char name[128];
	char username[256];
	unsigned roles;
	int64_t expires;      /* token exp */
	enum auth_kind kind;
};

enum auth_status {
	AUTH_OK,
	AUTH_INVALID,     /* 401: the token is not acceptable */
	AUTH_UNAVAILABLE, /* 503: keys or databases could not be reached */
};

/*
 * What auth needs from data it does not own (portal_db's tenants, auth_db's
 * users). The core never includes a service: main.c wires these to the
 * services at start-up. Until wired, every look-up answers unavailable.
 */
enum auth_lookup { AUTH_LOOKUP_FOUND, AUTH_LOOKUP_NOT_FOUND, AUTH_LOOKUP_UNAVAILABLE };

struct auth_directory {
	/* The active-or-suspended tenant of an Entra directory (lower-case
	 * tid): fills tenant_id and status on FOUND. */
	enum auth_lookup (*tenant_by_directory)(const char *tid, char tenant_id[37], char status[16]);
	/* Whether a tenant id exists (for super admins). */
	enum auth_lookup (*tenant_exists)(const char *tenant_id);
	/* Records the user (fills p->user_id); false when it failed. */
	bool (*record_user)(struct principal *p);
};

/* Copies *d; call before serving. */
void auth_set_directory(const struct auth_directory *d);

/* Starts the key cache (first fetch, background refresh). */
void auth_start(void);
void auth_stop(void);

/*
 * Validates a compact JWS bearer token and fills *p. On AUTH_INVALID,
 * *why is a static string fit for the problem detail (it never echoes the
 * token). Results are cached by SHA-256 of the token until the sooner of
 * its exp and ATRIUM_AUTH_CACHE_SECONDS.
 */
enum auth_status auth_bearer(const char *token, struct principal *p, const char **why);

/*
 * Header, key, signature and claims checks without the tenant lookup or
 * the cache: what auth_bearer() does first. Exposed for unit tests.
 */
enum auth_status auth_verify(const char *token, const char *nonce, struct principal *p,
			     const char **why);

/*
 * After a token or session identified the caller (tid, oid, roles): maps
 * the directory to its tenant (cached briefly), drops super_admin outside
 * the operator's directory, adds member when no other role applies, and
 * with `record` upserts the user in auth_db (filling p->user_id).
 */
enum auth_status auth_resolve(struct principal *p, bool record, const char **why);

/*
 * The checks after the signature, split out so unit tests can drive them:
 * claims is the decoded payload. Fills the identity fields of *p (not the
 * tenant, which needs the database). now is the wall clock in seconds;
 * nonce, when not NULL, must equal the token's nonce claim (ID tokens).
 */
bool auth_check_claims(const char *claims_json, int64_t now, const char *nonce,
		       struct principal *p, const char **why);

/*
 * RS256: whether sig (exactly the modulus length) is an RSASSA-PKCS1-v1_5
 * SHA-256 signature of signing_input (base64url(header) "." base64url
 * (payload)) under the RSA public key pkey. Exposed for unit tests.
 */
bool auth_rs256_verify(EVP_PKEY *pkey, const char *signing_input, size_t input_len,
		       const unsigned char *sig, size_t sig_len);

/* Pure header check: compact form, alg exactly RS256, kid present.
 * Copies kid into kid_out. */
bool auth_check_header(const char *token, char *kid_out, size_t kid_len, const char **why);

/* Role names <-> bits. */
unsigned auth_role_from_name(const char *name);
const char *auth_role_name(unsigned bit);
bool auth_has_role(const struct principal *p, unsigned roles);

enum tenant_access { ACCESS_OK, ACCESS_NOT_FOUND, ACCESS_SUSPENDED, ACCESS_UNAVAILABLE };
/* A tenant whose members are refused (403) though it exists: suspended, or
 * being deleted (offboarding); super admins still pass. The reason is the
 * problem's detail. */
bool auth_tenant_closed(const char *status);
const char *auth_tenant_closed_reason(const char *status);

/*
 * May this caller act in tenant `tenant_id`? Super admins anywhere the
 * tenant exists; anyone else only in their own, active tenant. Another
 * tenant, a malformed id and an unknown one are all ACCESS_NOT_FOUND, so
 * existence does not leak.
 */
enum tenant_access auth_tenant_access(const struct principal *p, const char *tenant_id);

/* Drops cached principals (after a tenant's status changes). */
void auth_cache_clear(void);

#endif
