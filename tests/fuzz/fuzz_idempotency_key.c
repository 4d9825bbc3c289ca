/*
 * fuzz_idempotency_key - the pure part of the Idempotency-Key path: the
 * header check idem_key_valid() (server/store/idempotency.h) and the
 * request hash handler_request_hash() (handlers/handlers.h) that
 * idem_begin() stores and compares. Nothing touches a database.
 *
 * Input: "<Idempotency-Key>\n<method>\n<path>\n<JSON body>".
 * Invariants:
 *  - idem_key_valid() agrees with a model: 1..255 bytes, each 0x21..0x7e;
 *  - the hash is 64 lower-case hex, deterministic, and equals SHA-256 of
 *    "<method> <path>\n<canonical body>";
 *  - the hash does not depend on the order of object members (a copy of
 *    the body with every object's members inserted in reverse order hashes
 *    the same), so a retried request is recognised;
 *  - a different method or path gives a different hash.
 */
#include "tests/fuzz/fuzz_common.h"
#include "server/store/idempotency.h"
#include "server/http/http.h"
#include "handlers/handlers.h"

#include <jansson.h>

static bool model_key_valid(const char *k)
{
	size_t n = strlen(k);
	if (n < 1 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
			return false;
	return true;
}

/* A deep copy with every object's members inserted in reverse order. */
static json_t *reversed(json_t *v)
{
	if (json_is_object(v)) {
		size_t n = json_object_size(v), i = 0;
		const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
		const char *k;
		json_t *m;
		json_object_foreach(v, k, m)
			keys[i++] = k;
		json_t *out = json_object();
		while (i-- > 0)
			json_object_set_new(out, keys[i], reversed(json_object_get(v, keys[i])));
		free(keys);
		return out;
	}
	if (json_is_array(v)) {
		json_t *out = json_array();
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
			json_array_append_new(out, reversed(m));
		return out;
	}
	return json_deep_copy(v);
}

static void hash_of(const char *method, const char *path, json_t *body, char out[65])
{
	struct request r;
	memset(&r, 0, sizeof(r));
	r.method_name = method;
	r.path = path;
	r.json = body;
	handler_request_hash(&r, out);
	arena_free(&r.arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[4];
	fuzz_fields(data, size, '\n', f, 4);
	const char *key = f[0], *method = f[1], *path = f[2], *body_text = f[3];

	FUZZ_CHECK(idem_key_valid(key) == model_key_valid(key), "idem_key_valid disagrees on \"%s\"", key);
	FUZZ_CHECK(!idem_key_valid(NULL), "NULL key accepted");

	json_t *body = json_loadb(body_text, strlen(body_text), JSON_REJECT_DUPLICATES, NULL);
	char h1[65], h2[65], h3[65];
	hash_of(method, path, body, h1);
	FUZZ_CHECK(fuzz_is_lower_hex(h1, 64), "hash is not 64 lower-case hex: %s", h1);
	hash_of(method, path, body, h2);
	FUZZ_CHECK(strcmp(h1, h2) == 0, "hash not deterministic");

	/* The documented material. */
	char *canon = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *material = xasprintf("%s %s\n%s", method, path, canon ? canon : "");
	util_sha256_hex(material, strlen(material), h3);
	FUZZ_CHECK(strcmp(h1, h3) == 0, "hash is not SHA-256 of \"%s\"", material);
	free(material);
	free(canon);

	if (body) {
		json_t *rev = reversed(body);
		FUZZ_CHECK(json_equal(rev, body), "reversed copy differs");
		hash_of(method, path, rev, h2);
		FUZZ_CHECK(strcmp(h1, h2) == 0, "member order changes the hash");
		json_decref(rev);
	}

	/* Another method, or another path: another hash. */
	char *other = xasprintf("%s/x", path);
	hash_of(method, other, body, h2);
	FUZZ_CHECK(strcmp(h1, h2) != 0, "path %s and %s hash the same", path, other);
	free(other);
	hash_of(strcmp(method, "POST") == 0 ? "PUT" : "POST", path, body, h2);
	FUZZ_CHECK(strcmp(h1, h2) != 0, "two methods hash the same");

	json_decref(body);
	fuzz_free_fields(f, 4);
	return 0;
}
