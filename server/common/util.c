/*
 * util.c - allocation, arenas and the small helpers every module needs.
 *
 * Allocation failure is not recoverable in a server that must never hand a
 * NULL to a caller that forgot to check, so x* functions abort instead.
 */
#include "server/common/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static void oom(void)
{
	fputs("atrium: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *xcalloc(size_t nmemb, size_t n)
{
	void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

__attribute__((format(printf, 1, 0))) static char *vxasprintf(const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		oom();
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = vxasprintf(fmt, ap);
	va_end(ap);
	return p;
}

/* ---- arena ---------------------------------------------------------- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_CHUNK 4096

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct arena_chunk *c = a->head;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, cp;
	va_start(ap, fmt);
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		oom();
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

/* ---- validation ----------------------------------------------------- */

bool util_is_uuid(const char *s)
{
	if (s == NULL || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

bool util_is_dns_label(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
		if (!ok)
			return false;
	}
	return s[0] != '-' && s[n - 1] != '-';
}

/* ---- addresses ------------------------------------------------------ */

static bool ip_in_cidr(const char *ip, const char *cidr, size_t cidr_len)
{
	char net[64];
	if (cidr_len == 0 || cidr_len >= sizeof(net))
		return false;
	memcpy(net, cidr, cidr_len);
	net[cidr_len] = '\0';
	int bits = -1;
	char *slash = strchr(net, '/');
	if (slash) {
		*slash = '\0';
		bits = atoi(slash + 1);
	}
	unsigned char a[16], b[16];
	int fam = strchr(net, ':') ? AF_INET6 : AF_INET;
	int len = fam == AF_INET6 ? 16 : 4;
	if (inet_pton(fam, net, b) != 1 || inet_pton(fam, ip, a) != 1)
		return false;
	if (bits < 0 || bits > len * 8)
		bits = len * 8;
	for (int i = 0; i < bits / 8; i++)
		if (a[i] != b[i])
			return false;
	int rest = bits % 8;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((a[bits / 8] & mask) != (b[bits / 8] & mask))
			return false;
	}
	return true;
}

bool util_ip_in_list(const char *ip, const char *list)
{
	if (ip == NULL || list == NULL)
		return false;
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ", ");
		if (n && ip_in_cidr(ip, p, n))
			return true;
		p += n;
	}
	return false;
}

/* ---- time ----------------------------------------------------------- */

void util_format_rfc3339_us(int64_t us, char out[32])
{
	time_t secs = (time_t)(us / 1000000);
	int64_t frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

uint64_t util_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t util_now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- encodings ------------------------------------------------------ */

unsigned char *util_b64url_decode(const char *in, size_t inlen, size_t *outlen)
{
	if (inlen % 4 == 1 || inlen > (1u << 20))
		return NULL;
	size_t padded = (inlen + 3) / 4 * 4;
	char *tmp = xmalloc(padded + 1);
	for (size_t i = 0; i < inlen; i++) {
		char c = in[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!(isalnum((unsigned char)c)))
			goto bad;
		tmp[i] = c;
	}
	for (size_t i = inlen; i < padded; i++)
		tmp[i] = '=';
	tmp[padded] = '\0';

	unsigned char *out = xmalloc(padded / 4 * 3 + 1);
	int n = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)padded);
	free(tmp);
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes: take them off. */
	size_t pad = padded - inlen;
	*outlen = (size_t)n - pad;
	out[*outlen] = '\0';
	return out;
bad:
	free(tmp);
	return NULL;
}

char *util_b64url_encode(const unsigned char *in, size_t inlen)
{
	char *out = xmalloc((inlen + 2) / 3 * 4 + 1);
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)inlen);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (int i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

void util_sha256(const void *data, size_t len, unsigned char out[32])
{
	SHA256(data, len, out);
}

void util_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	SHA256(data, len, md);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void format_uuid(const unsigned char b[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

void util_uuid_v5(const char *ns, const char *name, char out[37])
{
	unsigned char nsb[16];
	for (int i = 0, j = 0; i < 16; j++) {
		if (ns[j] == '-')
			continue;
		unsigned v;
		sscanf(ns + j, "%2x", &v);
		nsb[i++] = (unsigned char)v;
		j++;
	}
	unsigned char md[SHA_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, nsb, sizeof(nsb)) != 1 ||
	    EVP_DigestUpdate(ctx, name, strlen(name)) != 1 || EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	md[6] = (md[6] & 0x0f) | 0x50;
	md[8] = (md[8] & 0x3f) | 0x80;
	format_uuid(md, out);
}

void util_uuid_v4(char out[37])
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof(b)) != 1)
		abort();
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	format_uuid(b, out);
}
