/*
 * blob.h - Azure Blob service client (Storage REST API through
 * outbound.c): create, delete and read containers, authorized with the
 * account's Shared Key, signed with OpenSSL's HMAC-SHA256 exactly as the
 * Storage REST API defines it.
 *
 * Configuration: ATRIUM_STORAGE_BLOB_URL (the account's blob endpoint:
 * https://<account>.blob.core.windows.net, or Azurite's path-style
 * http://127.0.0.1:10000/<account>), ATRIUM_STORAGE_ACCOUNT,
 * ATRIUM_STORAGE_KEY (base64). The canonicalized resource is
 * "/<account><path of the URL>", so Azurite's path-style URLs repeat the
 * account name, as the emulator expects.
 */
#ifndef ATRIUM_BLOB_H
#define ATRIUM_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "server/outbound/outbound.h"

#define BLOB_API_VERSION "2021-12-02"

/* Creates container `name`; an existing one is OK (out->already). */
void blob_container_create(const struct outbound_ctx *ctx, const char *name,
			   struct outbound_result *out);
/* Deletes container `name`; an absent one is OK (out->already). */
void blob_container_delete(const struct outbound_ctx *ctx, const char *name,
			   struct outbound_result *out);
/* Reads container properties: OK when it exists, PERMANENT with status
 * 404 when it does not. */
void blob_container_get(const struct outbound_ctx *ctx, const char *name,
			struct outbound_result *out);

/* True when `name` is a valid container name: 3-63 of [a-z0-9-], starting
 * and ending with a letter or digit, no two hyphens in a row. */
bool blob_container_name_valid(const char *name);

/*
 * The Shared Key string-to-sign (Blob service, version 2015-02-21 and
 * later): the verb, the twelve standard headers (Content-Length empty
 * when zero), the canonicalized x-ms-* headers (`ms_headers`: lower-case
 * "name:value" strings, sorted, NULL-terminated) and the canonicalized
 * resource. Heap string.
 */
char *blob_string_to_sign(const char *verb, size_t content_length, const char *content_type,
			  const char *const *ms_headers, const char *canonical_resource);
/* "/<account><path>" then "\n<name>:<value>" per query parameter
 * (`params`: lower-case "name:value", sorted, NULL-terminated). Heap. */
char *blob_canonical_resource(const char *account, const char *path, const char *const *params);
/* base64(HMAC-SHA256(base64decode(key), sts)) into out. False when the
 * key is not base64. */
bool blob_signature(const char *key_b64, const char *sts, char *out, size_t outlen);
/* RFC 1123 date of `t` ("Sun, 22 Nov 2026 00:25:01 GMT"). */
void blob_http_date(time_t t, char out[40]);

/*
 * Service SAS for one blob (sr=b) with permissions `perms` ("cw" to write
 * it once, "r" to read it), valid for ttl_s seconds from now (negative:
 * already expired, for tests): the blob's URL with the token, heap;
 * expires_at gets its RFC 3339 expiry. NULL when storage is not
 * configured. No network: a signature with the account key.
 */
char *blob_sas_url(const char *container, const char *blob, const char *perms, long ttl_s,
		   char expires_at[32]);
/* Its string-to-sign (version 2020-12-06 and later), heap. */
char *blob_sas_string_to_sign(const char *perms, const char *expiry, const char *account,
			      const char *container, const char *blob, const char *protocol);

/* One CORS rule on the Blob service for `origins` ("a,b" or "*"): PUT, GET,
 * HEAD with any header (Set Blob Service Properties, only <Cors>). */
void blob_set_cors(const struct outbound_ctx *ctx, const char *origins, struct outbound_result *out);

/* Deletes a blob; an absent one is OK (out->already). */
void blob_delete(const struct outbound_ctx *ctx, const char *container, const char *blob,
		 struct outbound_result *out);

struct blob_props {
	size_t size;
	char content_type[128];
	char sha256[65];         /* lower-case hex of the content */
	bool too_large;
};
/*
 * Downloads a blob (Get Blob, Shared Key), hashing it with SHA-256 as it
 * arrives (never held in memory), at most max_bytes (more: PERMANENT
 * "BlobTooLarge", props->too_large). 404: PERMANENT with status 404.
 */
void blob_get_sha256(const struct outbound_ctx *ctx, const char *container, const char *blob,
		     size_t max_bytes, struct blob_props *props, struct outbound_result *out);

#endif
