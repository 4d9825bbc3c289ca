/*
 * util.h - allocation that never fails to callers, a bump arena for
 * per-request temporaries, and small string/format helpers shared by every
 * module.
 *
 * Ownership: x* functions return heap memory the caller frees with free();
 * arena_* memory lives until arena_free() and is never freed piecemeal.
 */
#ifndef ATRIUM_UTIL_H
#define ATRIUM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A bump allocator: chunks are chained and released together. */
struct arena_chunk;
struct arena {
	struct arena_chunk *head;
};

void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(struct arena *a);

/* Validation of identifiers that come from clients. */
bool util_is_uuid(const char *s);
bool util_is_dns_label(const char *s);

/* True when the textual IPv4/IPv6 address `ip` is in one of the
 * comma-separated addresses or CIDR blocks of `list`. */
bool util_ip_in_list(const char *ip, const char *list);

/* Writes "2026-11-22T00:25:01.123456Z" for microseconds since the epoch. */
void util_format_rfc3339_us(int64_t us, char out[32]);
/* Monotonic clock in nanoseconds, for durations. */
uint64_t util_now_ns(void);
/* Wall clock in seconds. */
int64_t util_now_s(void);

/* base64url without padding, via OpenSSL's EVP base64. Returns a heap
 * string the caller frees, or NULL when the input is not base64url. */
unsigned char *util_b64url_decode(const char *in, size_t inlen, size_t *outlen);
char *util_b64url_encode(const unsigned char *in, size_t inlen);

/* Lower-case hex of SHA-256 of the input. */
void util_sha256_hex(const void *data, size_t len, char out[65]);
void util_sha256(const void *data, size_t len, unsigned char out[32]);

/* Name-based UUID (version 5, SHA-1, RFC 9562) of `name` in namespace `ns`
 * (a UUID string). Deterministic: the same inputs give the same id. */
void util_uuid_v5(const char *ns, const char *name, char out[37]);

/* Random UUID (version 4) from OpenSSL's CSPRNG. */
void util_uuid_v4(char out[37]);

#endif
