/*
 * secretbox.h - secrets at rest (OAuth refresh and access tokens): AES-256-GCM
 * with OpenSSL EVP, keyed from ATRIUM_SECRETS_KEY.
 *
 * ATRIUM_SECRETS_KEY is one or more `keyid:base64(32 bytes)` entries,
 * comma-separated: the first one encrypts, every one decrypts, so a key is
 * rotated by putting the new one first and keeping the old one until every
 * row was re-sealed. A sealed value is text:
 *     keyid ":" base64( nonce[12] || ciphertext || tag[16] )
 * with a random nonce (RAND_bytes) per seal. The associated data names what
 * the secret is and whose (e.g. "quickbooks.refresh_token:<tenant id>"), so
 * a value copied to another tenant's row or another purpose fails to open.
 * Nothing here logs: neither keys nor plaintexts nor sealed values.
 */
#ifndef ATRIUM_SECRETBOX_H
#define ATRIUM_SECRETBOX_H

#include <stdbool.h>
#include <stddef.h>

#define SECRETBOX_KEY_LEN 32
#define SECRETBOX_NONCE_LEN 12
#define SECRETBOX_TAG_LEN 16
#define SECRETBOX_MAX_KEYS 8
#define SECRETBOX_MAX_ID 32

struct secretbox_keys {
	int n;
	struct {
		char id[SECRETBOX_MAX_ID + 1];
		unsigned char key[SECRETBOX_KEY_LEN];
	} k[SECRETBOX_MAX_KEYS];
};

enum secretbox_status {
	SB_OK,
	SB_UNKNOWN_KEY,   /* sealed with a key id not configured */
	SB_MALFORMED,     /* not a sealed value */
	SB_FORGED,        /* authentication failed: wrong key, tampered, other AAD */
};

/*
 * Parses a key list ("id:base64,..."; ids 1-32 of [A-Za-z0-9_.-], unique;
 * each key exactly 32 bytes). On failure returns false with a reason in
 * err that never contains key material.
 */
bool secretbox_parse(const char *spec, struct secretbox_keys *out, char *err, size_t errlen);

/* Seals len bytes of pt with the first key: a heap string the caller frees. */
char *secretbox_seal_with(const struct secretbox_keys *keys, const char *aad,
			  const unsigned char *pt, size_t len);
/* Opens a sealed value: *pt is a NUL-terminated heap copy (the caller
 * cleanses and frees it), *len its length. */
enum secretbox_status secretbox_open_with(const struct secretbox_keys *keys, const char *aad,
					  const char *sealed, unsigned char **pt, size_t *len);

/* The process's keys, from ATRIUM_SECRETS_KEY (config_load()). False with a
 * reason when the value is malformed; an unset value leaves none loaded. */
bool secretbox_load(const char *spec, char *err, size_t errlen);
bool secretbox_ready(void);
/* Seals / opens a NUL-terminated secret with the process's keys. NULL when
 * no key is loaded (seal) or on any failure (open: *st says which). */
char *secretbox_seal(const char *aad, const char *secret);
char *secretbox_open(const char *aad, const char *sealed, enum secretbox_status *st);
/* How many keys are loaded, and the id of the one that seals ("" when none). */
int secretbox_key_count(void);
const char *secretbox_sealing_key_id(void);
/* Overwrites and frees a secret (NULL is fine). */
void secretbox_free(char *secret);

#endif
