/*
 * secretbox.c - AES-256-GCM sealing of secrets at rest (see secretbox.h).
 */
#include "server/common/secretbox.h"
#include "server/common/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct secretbox_keys process_keys;

static bool valid_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* Standard base64 (with padding) of exactly `want` bytes into out. */
static bool b64_exact(const char *in, size_t inlen, unsigned char *out, size_t want)
{
	if (inlen == 0 || inlen % 4 != 0 || inlen > 4 * ((want + 2) / 3))
		return false;
	unsigned char buf[SECRETBOX_KEY_LEN + 3];
	if (inlen / 4 * 3 > sizeof(buf))
		return false;
	int n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)inlen);
	if (n < 0)
		return false;
	size_t pad = (in[inlen - 1] == '=') + (in[inlen - 2] == '=');
	bool ok = (size_t)n - pad == want;
	if (ok)
		memcpy(out, buf, want);
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok;
}

bool secretbox_parse(const char *spec, struct secretbox_keys *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (spec == NULL || *spec == '\0') {
		snprintf(err, errlen, "no key given");
		return false;
	}
	const char *p = spec;
	int idx = 0;
	while (*p) {
		idx++;
		size_t len = strcspn(p, ",");
		const char *colon = memchr(p, ':', len);
		if (out->n == SECRETBOX_MAX_KEYS) {
			snprintf(err, errlen, "more than %d keys", SECRETBOX_MAX_KEYS);
			goto fail;
		}
		if (colon == NULL) {
			snprintf(err, errlen, "entry %d is not keyid:base64", idx);
			goto fail;
		}
		size_t idlen = (size_t)(colon - p);
		if (idlen == 0 || idlen > SECRETBOX_MAX_ID) {
			snprintf(err, errlen, "entry %d: the key id must be 1-%d characters", idx, SECRETBOX_MAX_ID);
			goto fail;
		}
		for (size_t i = 0; i < idlen; i++)
			if (!valid_id_char(p[i])) {
				snprintf(err, errlen, "entry %d: the key id may hold only letters, digits, '_', '-' and '.'", idx);
				goto fail;
			}
		memcpy(out->k[out->n].id, p, idlen);
		out->k[out->n].id[idlen] = '\0';
		for (int j = 0; j < out->n; j++)
			if (strcmp(out->k[j].id, out->k[out->n].id) == 0) {
				snprintf(err, errlen, "key id '%s' appears twice", out->k[j].id);
				goto fail;
			}
		const char *b = colon + 1;
		if (!b64_exact(b, len - idlen - 1, out->k[out->n].key, SECRETBOX_KEY_LEN)) {
			snprintf(err, errlen, "key '%s' is not the base64 of exactly %d bytes",
				 out->k[out->n].id, SECRETBOX_KEY_LEN);
			goto fail;
		}
		out->n++;
		p += len;
		if (*p == ',') {
			p++;
			if (*p == '\0') {
				snprintf(err, errlen, "a trailing comma");
				goto fail;
			}
		}
	}
	return true;
fail:
	OPENSSL_cleanse(out, sizeof(*out));
	return false;
}

/* AES-256-GCM one-shot; false on any EVP failure (or a bad tag on open). */
static bool gcm(bool enc, const unsigned char *key, const unsigned char *nonce, const char *aad,
		const unsigned char *in, size_t inlen, unsigned char *out, unsigned char *tag)
{
	bool ok = false;
	int n = 0;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (c == NULL || inlen > (size_t)INT32_MAX)
		goto cleanup;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SECRETBOX_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1)
		goto cleanup;
	if (aad && *aad && EVP_CipherUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1)
		goto cleanup;
	if (inlen && EVP_CipherUpdate(c, out, &n, in, (int)inlen) != 1)
		goto cleanup;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SECRETBOX_TAG_LEN, tag) != 1)
		goto cleanup;
	if (EVP_CipherFinal_ex(c, out + n, &n) != 1)
		goto cleanup;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SECRETBOX_TAG_LEN, tag) != 1)
		goto cleanup;
	ok = true;
cleanup:
	EVP_CIPHER_CTX_free(c);
	return ok;
}

char *secretbox_seal_with(const struct secretbox_keys *keys, const char *aad,
			  const unsigned char *pt, size_t len)
{
	if (keys == NULL || keys->n == 0 || len > 65536)
		return NULL;
	size_t blen = SECRETBOX_NONCE_LEN + len + SECRETBOX_TAG_LEN;
	unsigned char *blob = xmalloc(blen);
	char *out = NULL;
	if (RAND_bytes(blob, SECRETBOX_NONCE_LEN) != 1 ||
	    !gcm(true, keys->k[0].key, blob, aad, pt, len, blob + SECRETBOX_NONCE_LEN,
		 blob + SECRETBOX_NONCE_LEN + len))
		goto cleanup;
	size_t idlen = strlen(keys->k[0].id);
	out = xmalloc(idlen + 1 + 4 * ((blen + 2) / 3) + 1);
	memcpy(out, keys->k[0].id, idlen);
	out[idlen] = ':';
	EVP_EncodeBlock((unsigned char *)out + idlen + 1, blob, (int)blen);
cleanup:
	OPENSSL_cleanse(blob, blen);
	free(blob);
	return out;
}

enum secretbox_status secretbox_open_with(const struct secretbox_keys *keys, const char *aad,
					  const char *sealed, unsigned char **pt, size_t *len)
{
	*pt = NULL;
	*len = 0;
	if (keys == NULL || sealed == NULL)
		return SB_MALFORMED;
	const char *colon = strchr(sealed, ':');
	if (colon == NULL || colon == sealed || (size_t)(colon - sealed) > SECRETBOX_MAX_ID)
		return SB_MALFORMED;
	int which = -1;
	for (int i = 0; i < keys->n; i++)
		if (strlen(keys->k[i].id) == (size_t)(colon - sealed) &&
		    memcmp(keys->k[i].id, sealed, (size_t)(colon - sealed)) == 0)
			which = i;
	if (which < 0)
		return SB_UNKNOWN_KEY;
	const char *b = colon + 1;
	size_t blen64 = strlen(b);
	if (blen64 == 0 || blen64 % 4 != 0 || blen64 > 4 * 65536)
		return SB_MALFORMED;
	unsigned char *blob = xmalloc(blen64 / 4 * 3 + 1);
	int n = EVP_DecodeBlock(blob, (const unsigned char *)b, (int)blen64);
	enum secretbox_status st = SB_MALFORMED;
	unsigned char *out = NULL;
	size_t ctlen = 0;
	if (n < 0)
		goto cleanup;
	n -= (b[blen64 - 1] == '=') + (b[blen64 - 2] == '=');
	if (n < SECRETBOX_NONCE_LEN + SECRETBOX_TAG_LEN)
		goto cleanup;
	ctlen = (size_t)n - SECRETBOX_NONCE_LEN - SECRETBOX_TAG_LEN;
	out = xmalloc(ctlen + 1);
	if (!gcm(false, keys->k[which].key, blob, aad, blob + SECRETBOX_NONCE_LEN, ctlen, out,
		 blob + SECRETBOX_NONCE_LEN + ctlen)) {
		st = SB_FORGED;
		OPENSSL_cleanse(out, ctlen + 1);
		free(out);
		out = NULL;
		goto cleanup;
	}
	out[ctlen] = '\0';
	*pt = out;
	*len = ctlen;
	st = SB_OK;
cleanup:
	OPENSSL_cleanse(blob, blen64 / 4 * 3 + 1);
	free(blob);
	return st;
}

bool secretbox_load(const char *spec, char *err, size_t errlen)
{
	if (spec == NULL || *spec == '\0') {
		OPENSSL_cleanse(&process_keys, sizeof(process_keys));
		return true;
	}
	struct secretbox_keys k;
	if (!secretbox_parse(spec, &k, err, errlen))
		return false;
	process_keys = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return true;
}

bool secretbox_ready(void)
{
	return process_keys.n > 0;
}

char *secretbox_seal(const char *aad, const char *secret)
{
	return secretbox_seal_with(&process_keys, aad, (const unsigned char *)secret, strlen(secret));
}

char *secretbox_open(const char *aad, const char *sealed, enum secretbox_status *st)
{
	unsigned char *pt;
	size_t len;
	enum secretbox_status s = secretbox_open_with(&process_keys, aad, sealed, &pt, &len);
	if (st)
		*st = s;
	if (s == SB_OK && memchr(pt, '\0', len) != NULL) { /* not a text secret */
		OPENSSL_cleanse(pt, len);
		free(pt);
		if (st)
			*st = SB_MALFORMED;
		return NULL;
	}
	return (char *)pt;
}

int secretbox_key_count(void)
{
	return process_keys.n;
}

const char *secretbox_sealing_key_id(void)
{
	return process_keys.n ? process_keys.k[0].id : "";
}

void secretbox_free(char *secret)
{
	if (secret) {
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
}
