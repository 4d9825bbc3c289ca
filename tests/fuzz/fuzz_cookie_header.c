/*
 * fuzz_cookie_header - what Atrium itself parses of the Cookie, Origin,
 * Referer, X-CSRF-Token and X-Forwarded-For headers (libmicrohttpd splits
 * the Cookie header into name/value pairs; the value of atrium_session is
 * then Atrium's to check):
 *  - session_id_valid() (the atrium_session cookie value) against a model:
 *    exactly 64 lower-case hex digits;
 *  - session_secret_equal() against strcmp (and never for "");
 *  - session_csrf_check() against a model of its documented rule;
 *  - util_ip_in_list() (trusted proxies), which must at least find a
 *    valid address in a list made of itself;
 *  - http_forwarded_client_ip() (X-Forwarded-For behind trusted proxies,
 *    split out of http.c's request_new() for this target): the client
 *    address stays a terminated string that is the peer or a valid hop of
 *    the header, and every hop to the right of the chosen one is a trusted
 *    proxy: a client cannot make the server skip an untrusted hop, so the
 *    address it claims is used only when every hop after it is trusted;
 *  - util_b64url_decode() (every token and cursor goes through it): the
 *    decoded length is exactly 3/4 of the input's, and decode(encode(x))
 *    gives x back.
 *
 * Input: up to 8 lines: cookie value, Origin, Referer, token, session
 * CSRF, address, address list (trusted proxies), X-Forwarded-For. A line
 * starting with '-' stands for a missing header (NULL).
 */
#include "tests/fuzz/fuzz_common.h"
#include "server/auth/session.h"
#include "server/http/http.h"

#include <arpa/inet.h>

static const char PUBLIC_URL[] = "https://atrium.example.test";

static bool model_sid(const char *s)
{
	return s && fuzz_is_lower_hex(s, 64);
}

static enum csrf_verdict model_csrf(const char *origin, const char *referer, const char *token,
				    const char *csrf, const char *pub)
{
	size_t n = strlen(pub);
	bool same = origin ? strcmp(origin, pub) == 0
			   : referer && strlen(referer) > n && memcmp(referer, pub, n) == 0 && referer[n] == '/';
	if (!same)
		return CSRF_CROSS_SITE;
	if (!token || !csrf || !*token || strcmp(token, csrf) != 0)
		return CSRF_BAD_TOKEN;
	return CSRF_OK;
}

static const char *opt(const char *s)
{
	return s[0] == '-' ? NULL : s;
}

static void check_b64(const char *in)
{
	size_t n = 0, len = strlen(in);
	unsigned char *out = util_b64url_decode(in, len, &n);
	if (out == NULL)
		return;
	FUZZ_CHECK(n == len * 3 / 4, "%zu bytes decoded from %zu characters", n, len);
	FUZZ_CHECK(out[n] == '\0', "decoded bytes not terminated");
	char *enc = util_b64url_encode(out, n);
	size_t n2 = 0;
	unsigned char *again = util_b64url_decode(enc, strlen(enc), &n2);
	FUZZ_CHECK(again && n2 == n && memcmp(again, out, n) == 0, "decode(encode(x)) != x for %s", in);
	free(again);
	free(enc);
	free(out);
}

static bool valid_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, buf) == 1;
}

/* The hops of xff, trimmed of spaces, left to right (heap strings). */
static size_t split_hops(const char *xff, char ***out)
{
	size_t n = 0, cap = 8;
	char **h = xcalloc(cap, sizeof(*h));
	const char *p = xff;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *a = p, *b = p + len;
		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		if (n == cap)
			h = xrealloc(h, (cap *= 2) * sizeof(*h));
		h[n++] = xstrndup(a, (size_t)(b - a));
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*out = h;
	return n;
}

static void check_forwarded(const char *xff, const char *trusted)
{
	static const char PEER[] = "192.0.2.1";
	char ip[64];
	snprintf(ip, sizeof(ip), "%s", PEER);
	http_forwarded_client_ip(xff, trusted, ip, sizeof(ip));
	FUZZ_CHECK(memchr(ip, '\0', sizeof(ip)) != NULL, "client address not terminated");
	if (xff == NULL || strcmp(ip, PEER) == 0)
		return;
	FUZZ_CHECK(valid_ip(ip), "client address %s is not an address", ip);
	char **hops;
	size_t n = split_hops(xff, &hops);
	size_t at = n;
	for (size_t i = n; i-- > 0;)
		if (strcmp(hops[i], ip) == 0) {
			at = i;
			break;
		}
	FUZZ_CHECK(at < n, "client address %s is not a hop of X-Forwarded-For", ip);
	for (size_t i = at + 1; i < n; i++)
		FUZZ_CHECK(valid_ip(hops[i]) && util_ip_in_list(hops[i], trusted),
			   "chose %s past the untrusted hop %s (X-Forwarded-For of %zu bytes)", ip, hops[i],
			   strlen(xff));
	for (size_t i = 0; i < n; i++)
		free(hops[i]);
	free(hops);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[8];
	fuzz_fields(data, size, '\n', f, 8);
	const char *sid = f[0], *origin = opt(f[1]), *referer = opt(f[2]), *token = opt(f[3]),
		   *csrf = opt(f[4]), *ip = f[5], *list = f[6];

	FUZZ_CHECK(session_id_valid(sid) == model_sid(sid), "session_id_valid(\"%s\") is wrong", sid);
	FUZZ_CHECK(!session_id_valid(NULL), "NULL session id accepted");

	FUZZ_CHECK(session_secret_equal(sid, f[1]) == (*sid && strcmp(sid, f[1]) == 0),
		   "session_secret_equal(\"%s\", \"%s\") is wrong", sid, f[1]);
	FUZZ_CHECK(session_secret_equal(sid, sid) == (*sid != '\0'), "a secret does not equal itself");

	enum csrf_verdict got = session_csrf_check(origin, referer, token, csrf, PUBLIC_URL);
	enum csrf_verdict want = model_csrf(origin, referer, token, csrf, PUBLIC_URL);
	FUZZ_CHECK(got == want, "session_csrf_check says %d, model %d", (int)got, (int)want);

	bool in = util_ip_in_list(ip, list);
	(void)in;
	unsigned char buf[16];
	bool v6 = strchr(ip, ':') != NULL;
	if (strlen(ip) < 64 && strcspn(ip, ", ") == strlen(ip) && inet_pton(v6 ? AF_INET6 : AF_INET, ip, buf) == 1)
		FUZZ_CHECK(util_ip_in_list(ip, ip), "%s is not in a list of itself", ip);
	FUZZ_CHECK(!util_ip_in_list(NULL, list) && !util_ip_in_list(ip, NULL), "NULL matched");

	check_forwarded(opt(f[7]), list);

	for (size_t i = 0; i < 8; i++)
		check_b64(f[i]);

	fuzz_free_fields(f, 8);
	return 0;
}
