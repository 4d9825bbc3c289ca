/*
 * blob.c - Blob service containers with Shared Key. See blob.h.
 */
#include "server/outbound/blob.h"
#include "server/common/config.h"
#include "server/common/log.h"
#include "server/common/util.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool blob_container_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
		if (!ok || (c == '-' && s[i + 1] == '-'))
			return false;
	}
	return true;
}

void blob_http_date(time_t t, char out[40])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	gmtime_r(&t, &tm);
	/* Not strftime: its %a and %b follow the locale. */
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *blob_string_to_sign(const char *verb, size_t content_length, const char *content_type,
			  const char *const *ms_headers, const char *canonical_resource)
{
	char len[24] = "";
	if (content_length > 0)
		snprintf(len, sizeof(len), "%zu", content_length);
	size_t hlen = 1;
	for (const char *const *h = ms_headers; h && *h; h++)
		hlen += strlen(*h) + 1;
	char *headers = xmalloc(hlen);
	headers[0] = '\0';
	for (const char *const *h = ms_headers; h && *h; h++) {
		strcat(headers, *h);
		strcat(headers, "\n");
	}
	/* VERB, Content-Encoding, Content-Language, Content-Length, Content-MD5,
	 * Content-Type, Date, If-Modified-Since, If-Match, If-None-Match,
	 * If-Unmodified-Since, Range; then the canonicalized headers and resource. */
	char *sts = xasprintf("%s\n\n\n%s\n\n%s\n\n\n\n\n\n\n%s%s", verb, len,
			      content_type ? content_type : "", headers, canonical_resource);
	free(headers);
	return sts;
}

char *blob_canonical_resource(const char *account, const char *path, const char *const *params)
{
	char *out = xasprintf("/%s%s", account, path);
	for (const char *const *p = params; p && *p; p++) {
		char *next = xasprintf("%s\n%s", out, *p);
		free(out);
		out = next;
	}
	return out;
}

bool blob_signature(const char *key_b64, const char *sts, char *out, size_t outlen)
{
	size_t klen = strlen(key_b64);
	if (klen == 0 || klen % 4 != 0 || klen > 4096)
		return false;
	unsigned char *key = xmalloc(klen);
	int n = EVP_DecodeBlock(key, (const unsigned char *)key_b64, (int)klen);
	bool ok = false;
	if (n > 0) {
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		if (key_b64[klen - 1] == '=')
			n--;
		if (key_b64[klen - 2] == '=')
			n--;
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int mlen = 0;
		if (HMAC(EVP_sha256(), key, n, (const unsigned char *)sts, strlen(sts), mac, &mlen) &&
		    outlen > (size_t)(4 * ((mlen + 2) / 3))) {
			EVP_EncodeBlock((unsigned char *)out, mac, (int)mlen);
			ok = true;
		}
	}
	OPENSSL_cleanse(key, klen);
	free(key);
	return ok;
}

/* The path part of the configured blob endpoint, without a trailing '/'. */
static char *endpoint_path(void)
{
	CURLU *u = curl_url();
	char *p = NULL, *out = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, cfg.storage_blob_url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &p, 0) == CURLUE_OK) {
		size_t n = strlen(p);
		while (n > 0 && p[n - 1] == '/')
			n--;
		out = xstrndup(p, n);
	}
	curl_free(p);
	curl_url_cleanup(u);
	return out;
}

/* One signed container request: ?restype=container on /<container>. */
static void container_request(const struct outbound_ctx *ctx, const char *method, const char *name,
			      enum outbound_verb verb, const char *what, struct outbound_result *out)
{
	outbound_result_clear(out);
	if (!cfg.storage_blob_url || !cfg.storage_account || !cfg.storage_key) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationMissing",
				    "ATRIUM_STORAGE_BLOB_URL, ATRIUM_STORAGE_ACCOUNT and ATRIUM_STORAGE_KEY "
				    "must be set to call the Blob service");
		return;
	}
	if (!blob_container_name_valid(name)) {
		outbound_result_set(out, OUT_PERMANENT, "InvalidContainerName",
				    "'%s' is not a valid container name", name);
		return;
	}
	char *path = endpoint_path();
	if (path == NULL) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationInvalid",
				    "ATRIUM_STORAGE_BLOB_URL is not a URL");
		return;
	}
	char date[40];
	blob_http_date(time(NULL), date);
	bool has_rid = ctx && ctx->request_id && *ctx->request_id;
	char *h_rid = has_rid ? xasprintf("x-ms-client-request-id:%s", ctx->request_id) : NULL;
	char *h_date = xasprintf("x-ms-date:%s", date);
	const char *ms[] = {has_rid ? h_rid : h_date, has_rid ? h_date : "x-ms-version:" BLOB_API_VERSION,
			    has_rid ? "x-ms-version:" BLOB_API_VERSION : NULL, NULL};
	char *full_path = xasprintf("%s/%s", path, name);
	const char *params[] = {"restype:container", NULL};
	char *resource = blob_canonical_resource(cfg.storage_account, full_path, params);
	char *sts = blob_string_to_sign(method, 0, "", ms, resource);
	char sig[128];
	if (!blob_signature(cfg.storage_key, sts, sig, sizeof(sig))) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationInvalid",
				    "ATRIUM_STORAGE_KEY is not base64");
	} else {
		size_t blen = strlen(cfg.storage_blob_url);
		while (blen > 0 && cfg.storage_blob_url[blen - 1] == '/')
			blen--;
		char *url = xasprintf("%.*s/%s?restype=container", (int)blen, cfg.storage_blob_url, name);
		char *auth = xasprintf("Authorization: SharedKey %s:%s", cfg.storage_account, sig);
		char *x_date = xasprintf("x-ms-date: %s", date);
		char *x_rid = has_rid ? xasprintf("x-ms-client-request-id: %s", ctx->request_id) : NULL;
		const char *headers[] = {auth, x_date, "x-ms-version: " BLOB_API_VERSION,
					 "Content-Type:", x_rid, NULL};
		bool put = strcmp(method, "PUT") == 0;
		struct outbound_request req = {.target = OUT_BLOB, .method = method, .url = url,
					       .headers = headers, .body = put ? "" : NULL};
		struct outbound_response resp;
		outbound_perform(&req, &resp);
		outbound_result_from(verb, &req, &resp, what, out);
		outbound_response_free(&resp);
		free(x_rid);
		free(x_date);
		free(auth);
		free(url);
	}
	free(sts);
	free(resource);
	free(full_path);
	free(h_date);
	free(h_rid);
	free(path);
}

void blob_container_create(const struct outbound_ctx *ctx, const char *name,
			   struct outbound_result *out)
{
	char *what = xasprintf("create container %s", name);
	container_request(ctx, "PUT", name, OUT_CREATE, what, out);
	free(what);
}

void blob_container_delete(const struct outbound_ctx *ctx, const char *name,
			   struct outbound_result *out)
{
	char *what = xasprintf("delete container %s", name);
	container_request(ctx, "DELETE", name, OUT_DELETE, what, out);
	free(what);
}

void blob_container_get(const struct outbound_ctx *ctx, const char *name,
			struct outbound_result *out)
{
	char *what = xasprintf("get container %s", name);
	container_request(ctx, "GET", name, OUT_READ, what, out);
	free(what);
}

/* ---- blobs and service SAS ------------------------------------------------ */

/*
 * The service SAS string-to-sign of a blob, version 2020-12-06 and later
 * (Storage REST API, "Create a service SAS",
 * https://learn.microsoft.com/rest/api/storageservices/create-service-sas;
 * Azurite checks the same 16 lines: generateBlobSASSignature20201206):
 * sp, st, se, "/blob/<account>/<container>/<blob>", si, sip, spr, sv, sr,
 * snapshot time, ses, rscc, rscd, rsce, rscl, rsct; one per line, empty
 * when unused.
 */
char *blob_sas_string_to_sign(const char *perms, const char *expiry, const char *account,
			      const char *container, const char *blob, const char *protocol)
{
	return xasprintf("%s\n\n%s\n/blob/%s/%s/%s\n\n\n%s\n%s\nb\n\n\n\n\n\n\n", perms, expiry,
			 account, container, blob, protocol, BLOB_API_VERSION);
}

char *blob_sas_url(const char *container, const char *blob, const char *perms, long ttl_s,
		   char expires_at[32])
{
	if (!cfg.storage_blob_url || !cfg.storage_account || !cfg.storage_key)
		return NULL;
	time_t exp = time(NULL) + ttl_s;
	struct tm tm;
	gmtime_r(&exp, &tm);
	strftime(expires_at, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* https only when the endpoint is https (Azurite speaks http). */
	const char *proto = strncmp(cfg.storage_blob_url, "https:", 6) == 0 ? "https" : "";
	char *sts = blob_sas_string_to_sign(perms, expires_at, cfg.storage_account, container, blob,
					    proto);
	char sig[128];
	bool ok = blob_signature(cfg.storage_key, sts, sig, sizeof(sig));
	free(sts);
	if (!ok)
		return NULL;
	char *esig = outbound_escape(sig), *eexp = outbound_escape(expires_at);
	size_t blen = strlen(cfg.storage_blob_url);
	while (blen > 0 && cfg.storage_blob_url[blen - 1] == '/')
		blen--;
	char *url = xasprintf("%.*s/%s/%s?sv=%s&sp=%s&se=%s&sr=b%s%s&sig=%s", (int)blen,
			      cfg.storage_blob_url, container, blob, BLOB_API_VERSION, perms, eexp,
			      proto[0] ? "&spr=" : "", proto, esig);
	free(esig);
	free(eexp);
	return url;
}

/* One Shared Key request on /<container>/<blob>. */
static void object_request(const struct outbound_ctx *ctx, const char *method, const char *container,
			   const char *blob, enum outbound_verb verb, const char *what,
			   struct outbound_request *tmpl, struct outbound_response *resp_out,
			   struct outbound_result *out)
{
	outbound_result_clear(out);
	if (!cfg.storage_blob_url || !cfg.storage_account || !cfg.storage_key) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationMissing",
				    "ATRIUM_STORAGE_BLOB_URL, ATRIUM_STORAGE_ACCOUNT and ATRIUM_STORAGE_KEY "
				    "must be set to call the Blob service");
		return;
	}
	char *path = endpoint_path();
	if (path == NULL) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationInvalid",
				    "ATRIUM_STORAGE_BLOB_URL is not a URL");
		return;
	}
	char date[40];
	blob_http_date(time(NULL), date);
	bool has_rid = ctx && ctx->request_id && *ctx->request_id;
	char *h_rid = has_rid ? xasprintf("x-ms-client-request-id:%s", ctx->request_id) : NULL;
	char *h_date = xasprintf("x-ms-date:%s", date);
	const char *ms[] = {has_rid ? h_rid : h_date, has_rid ? h_date : "x-ms-version:" BLOB_API_VERSION,
			    has_rid ? "x-ms-version:" BLOB_API_VERSION : NULL, NULL};
	char *full_path = xasprintf("%s/%s/%s", path, container, blob);
	const char *params[] = {NULL};
	char *resource = blob_canonical_resource(cfg.storage_account, full_path, params);
	char *sts = blob_string_to_sign(method, 0, "", ms, resource);
	char sig[128];
	if (!blob_signature(cfg.storage_key, sts, sig, sizeof(sig))) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationInvalid",
				    "ATRIUM_STORAGE_KEY is not base64");
	} else {
		size_t blen = strlen(cfg.storage_blob_url);
		while (blen > 0 && cfg.storage_blob_url[blen - 1] == '/')
			blen--;
		char *url = xasprintf("%.*s/%s/%s", (int)blen, cfg.storage_blob_url, container, blob);
		char *auth = xasprintf("Authorization: SharedKey %s:%s", cfg.storage_account, sig);
		char *x_date = xasprintf("x-ms-date: %s", date);
		char *x_rid = has_rid ? xasprintf("x-ms-client-request-id: %s", ctx->request_id) : NULL;
		const char *headers[] = {auth, x_date, "x-ms-version: " BLOB_API_VERSION,
					 "Content-Type:", x_rid, NULL};
		struct outbound_request req = {.target = OUT_BLOB, .method = method, .url = url,
					       .headers = headers};
		if (tmpl) {
			req.max_body = tmpl->max_body;
			req.sink = tmpl->sink;
			req.sink_arg = tmpl->sink_arg;
		}
		struct outbound_response resp;
		outbound_perform(&req, &resp);
		outbound_result_from(verb, &req, &resp, what, out);
		if (resp_out)
			*resp_out = resp;
		else
			outbound_response_free(&resp);
		free(x_rid);
		free(x_date);
		free(auth);
		free(url);
	}
	free(sts);
	free(resource);
	free(full_path);
	free(h_date);
	free(h_rid);
	free(path);
}

void blob_delete(const struct outbound_ctx *ctx, const char *container, const char *blob,
		 struct outbound_result *out)
{
	char *what = xasprintf("delete blob %s/%s", container, blob);
	object_request(ctx, "DELETE", container, blob, OUT_DELETE, what, NULL, NULL, out);
	free(what);
}

static void hash_piece(const char *p, size_t n, void *arg)
{
	EVP_DigestUpdate((EVP_MD_CTX *)arg, p, n);
}

void blob_get_sha256(const struct outbound_ctx *ctx, const char *container, const char *blob,
		     size_t max_bytes, struct blob_props *props, struct outbound_result *out)
{
	memset(props, 0, sizeof(*props));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		outbound_result_clear(out);
		outbound_result_set(out, OUT_RETRY, "DigestUnavailable", "OpenSSL SHA-256 failed");
		return;
	}
	char *what = xasprintf("get blob %s/%s", container, blob);
	struct outbound_request tmpl = {.max_body = max_bytes, .sink = hash_piece, .sink_arg = md};
	struct outbound_response resp;
	memset(&resp, 0, sizeof(resp));
	object_request(ctx, "GET", container, blob, OUT_READ, what, &tmpl, &resp, out);
	free(what);
	if (resp.too_large) {
		/* Bigger than the medium may be: a permanent refusal, not a retry. */
		outbound_result_set(out, OUT_PERMANENT, "BlobTooLarge",
				    "the blob is larger than %zu bytes", max_bytes);
		props->too_large = true;
	}
	if (out->cls == OUT_OK) {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		if (EVP_DigestFinal_ex(md, d, &dl) == 1 && dl == 32) {
			for (unsigned i = 0; i < dl; i++)
				snprintf(props->sha256 + 2 * i, 3, "%02x", d[i]);
			props->size = resp.len;
			snprintf(props->content_type, sizeof(props->content_type), "%s",
				 resp.content_type ? resp.content_type : "");
		} else {
			outbound_result_set(out, OUT_RETRY, "DigestUnavailable", "OpenSSL SHA-256 failed");
		}
	}
	outbound_response_free(&resp);
	EVP_MD_CTX_free(md);
}

/*
 * Set Blob Service Properties with one CORS rule: `origins` (comma-separated,
 * or "*") may PUT, GET and HEAD with any header, for 10 minutes of preflight
 * cache. Only the Cors element is sent, so the other service properties
 * stay as they are; the service's other CORS rules are replaced.
 */
void blob_set_cors(const struct outbound_ctx *ctx, const char *origins, struct outbound_result *out)
{
	outbound_result_clear(out);
	if (!cfg.storage_blob_url || !cfg.storage_account || !cfg.storage_key) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationMissing",
				    "ATRIUM_STORAGE_BLOB_URL, ATRIUM_STORAGE_ACCOUNT and ATRIUM_STORAGE_KEY "
				    "must be set to call the Blob service");
		return;
	}
	size_t n = strlen(origins);
	if (n == 0 || n > 2000 || strpbrk(origins, "<>&\"' \r\n") != NULL) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationInvalid",
				    "ATRIUM_STORAGE_CORS_ORIGINS must be origins separated by commas, or *");
		return;
	}
	char *path = endpoint_path();
	if (path == NULL) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationInvalid",
				    "ATRIUM_STORAGE_BLOB_URL is not a URL");
		return;
	}
	char *body = xasprintf("<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Cors>"
			       "<CorsRule><AllowedOrigins>%s</AllowedOrigins><AllowedMethods>PUT,GET,HEAD"
			       "</AllowedMethods><MaxAgeInSeconds>600</MaxAgeInSeconds><ExposedHeaders>*"
			       "</ExposedHeaders><AllowedHeaders>*</AllowedHeaders></CorsRule></Cors>"
			       "</StorageServiceProperties>",
			       origins);
	char date[40];
	blob_http_date(time(NULL), date);
	bool has_rid = ctx && ctx->request_id && *ctx->request_id;
	char *h_rid = has_rid ? xasprintf("x-ms-client-request-id:%s", ctx->request_id) : NULL;
	char *h_date = xasprintf("x-ms-date:%s", date);
	const char *ms[] = {has_rid ? h_rid : h_date, has_rid ? h_date : "x-ms-version:" BLOB_API_VERSION,
			    has_rid ? "x-ms-version:" BLOB_API_VERSION : NULL, NULL};
	char *full_path = xasprintf("%s/", path);
	const char *params[] = {"comp:properties", "restype:service", NULL};
	char *resource = blob_canonical_resource(cfg.storage_account, full_path, params);
	char *sts = blob_string_to_sign("PUT", strlen(body), "application/xml", ms, resource);
	char sig[128];
	if (!blob_signature(cfg.storage_key, sts, sig, sizeof(sig))) {
		outbound_result_set(out, OUT_PERMANENT, "ConfigurationInvalid", "ATRIUM_STORAGE_KEY is not base64");
	} else {
		size_t blen = strlen(cfg.storage_blob_url);
		while (blen > 0 && cfg.storage_blob_url[blen - 1] == '/')
			blen--;
		char *url = xasprintf("%.*s/?restype=service&comp=properties", (int)blen, cfg.storage_blob_url);
		char *auth = xasprintf("Authorization: SharedKey %s:%s", cfg.storage_account, sig);
		char *x_date = xasprintf("x-ms-date: %s", date);
		char *x_rid = has_rid ? xasprintf("x-ms-client-request-id: %s", ctx->request_id) : NULL;
		const char *headers[] = {auth, x_date, "x-ms-version: " BLOB_API_VERSION,
					 "Content-Type: application/xml", x_rid, NULL};
		struct outbound_request req = {.target = OUT_BLOB, .method = "PUT", .url = url,
					       .headers = headers, .body = body, .body_len = strlen(body)};
		struct outbound_response resp;
		outbound_perform(&req, &resp);
		outbound_result_from(OUT_CREATE, &req, &resp, "set the Blob service's CORS rules", out);
		outbound_response_free(&resp);
		free(x_rid);
		free(x_date);
		free(auth);
		free(url);
	}
	free(sts);
	free(resource);
	free(full_path);
	free(h_date);
	free(h_rid);
	free(path);
	free(body);
}
