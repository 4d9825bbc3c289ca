/*
 * webhook_verify.c - signature checks and body splitting for the QuickBooks
 * Online and Pax8 webhooks (see webhook_verify.h).
 *
 * Owns nothing beyond what it returns. HMAC, SHA-256 and base64 are
 * OpenSSL's; JSON is jansson's.
 */
#include "handlers/webhook_verify.h"
#include "server/common/util.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- verification ----------------------------------------------------- */

bool webhook_quickbooks_signature_ok(const char *verifier_token, const void *body, size_t len,
				     const char *signature)
{
	if (verifier_token == NULL || *verifier_token == '\0' || signature == NULL)
		return false;
	/* base64 of 32 bytes is exactly 44 characters, the last one '='. The
	 * length of a signature is no secret, so this check may be early. */
	if (strlen(signature) != 44 || signature[43] != '=' || strchr(signature, '=') != signature + 43)
		return false;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	if (HMAC(EVP_sha256(), verifier_token, (int)strlen(verifier_token), body, len, mac, &maclen) ==
		    NULL ||
	    maclen != 32)
		return false;
	/* Compare with the standard encoding of the MAC rather than decode the
	 * header: decoding ignores the 2 padding bits of the 43rd character,
	 * so 4 spellings of one signature would pass. */
	unsigned char want[45];
	if (EVP_EncodeBlock(want, mac, 32) != 44)
		return false;
	return CRYPTO_memcmp(want, signature, 44) == 0;
}

bool webhook_pax8_secret_ok(const char *secret, const char *authorization)
{
	if (secret == NULL || *secret == '\0' || authorization == NULL)
		return false;
	unsigned char want[32], got[32];
	util_sha256(secret, strlen(secret), want);
	util_sha256(authorization, strlen(authorization), got);
	return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* A string member of 1..WEBHOOK_MAX_ID printable characters, else NULL. */
static const char *id_field(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (s == NULL)
		return NULL;
	size_t n = strlen(s);
	if (n == 0 || n > WEBHOOK_MAX_ID)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return NULL;
	return s;
}

static char *lower_dup(const char *s)
{
	char *out = xstrdup(s);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

static void set_str(json_t *ev, const char *key, const char *value)
{
	json_object_set_new(ev, key, value ? json_string(value) : json_null());
}

/* A fresh event with every member present (null). */
static json_t *event_new(const char *format)
{
	json_t *ev = json_object();
	static const char *const keys[] = {"dedupe_key", "event_type", "account_id", "entity_type",
					   "entity_id", "operation", "occurred_at", "payload", "error"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		json_object_set_new(ev, keys[i], json_null());
	set_str(ev, "format", format);
	set_str(ev, "status", "received");
	return ev;
}

static void reject(json_t *ev, const char *why)
{
	set_str(ev, "status", "rejected");
	set_str(ev, "error", why);
}

/* "sha256:<hex>" of the canonical JSON of v. */
static char *hash_key_json(json_t *v)
{
	char *canon = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char hex[65];
	util_sha256_hex(canon ? canon : "", canon ? strlen(canon) : 0, hex);
	free(canon);
	return xasprintf("sha256:%s", hex);
}

static char *hash_key_bytes(const char *body, size_t len)
{
	char hex[65];
	util_sha256_hex(body, len, hex);
	return xasprintf("sha256:%s", hex);
}

json_t *webhook_rejected_body_event(const char *body, size_t len, const char *why)
{
	json_t *ev = event_new("unparsed");
	char *key = hash_key_bytes(body, len);
	set_str(ev, "dedupe_key", key);
	free(key);
	reject(ev, why);
	return ev;
}

/* ---- QuickBooks --------------------------------------------------------- */

/* Past-tense CloudEvents operations to the legacy verbs Atrium stores. */
static const char *ce_operation(const char *op)
{
	static const struct {
		const char *ce, *op;
	} map[] = {{"created", "create"}, {"updated", "update"}, {"deleted", "delete"},
		   {"voided", "void"},    {"merged", "merge"},   {"emailed", "emailed"}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(op, map[i].ce) == 0)
			return map[i].op;
	return op;
}

/*
 * "qbo.<entity>.<operation>.v<n>" into entity and operation (lower case,
 * operation as a verb). False when the type has another shape.
 */
static bool ce_type(const char *type, char entity[65], char op[33])
{
	const char *p = type;
	if (strncmp(p, "qbo.", 4) != 0)
		return false;
	p += 4;
	const char *dot = strchr(p, '.');
	if (dot == NULL || dot == p || dot - p > 64)
		return false;
	size_t elen = (size_t)(dot - p);
	const char *q = dot + 1;
	const char *dot2 = strchr(q, '.');
	if (dot2 == NULL || dot2 == q || dot2 - q > 32)
		return false;
	size_t olen = (size_t)(dot2 - q);
	const char *v = dot2 + 1;
	if (v[0] != 'v' || v[1] == '\0')
		return false;
	for (const char *d = v + 1; *d; d++)
		if (!isdigit((unsigned char)*d))
			return false;
	for (size_t i = 0; i < elen; i++)
		if (!isalpha((unsigned char)p[i]))
			return false;
	for (size_t i = 0; i < olen; i++)
		if (!isalpha((unsigned char)q[i]))
			return false;
	for (size_t i = 0; i < elen; i++)
		entity[i] = (char)tolower((unsigned char)p[i]);
	entity[elen] = '\0';
	char raw[33];
	for (size_t i = 0; i < olen; i++)
		raw[i] = (char)tolower((unsigned char)q[i]);
	raw[olen] = '\0';
	snprintf(op, 33, "%s", ce_operation(raw));
	return true;
}

static json_t *cloudevent(json_t *el)
{
	json_t *ev = event_new("cloudevents");
	json_object_set(ev, "payload", el);
	if (!json_is_object(el)) {
		char *key = hash_key_json(el);
		set_str(ev, "dedupe_key", key);
		free(key);
		reject(ev, "a CloudEvents element is not an object");
		return ev;
	}
	const char *id = id_field(el, "id");
	if (id == NULL) {
		char *key = hash_key_json(el);
		set_str(ev, "dedupe_key", key);
		free(key);
		reject(ev, "the event has no usable id (1-128 characters)");
		return ev;
	}
	set_str(ev, "dedupe_key", id);
	const char *spec = json_string_value(json_object_get(el, "specversion"));
	const char *type = json_string_value(json_object_get(el, "type"));
	const char *realm = id_field(el, "intuitaccountid");
	const char *entity_id = id_field(el, "intuitentityid");
	const char *time = json_string_value(json_object_get(el, "time"));
	if (type && strlen(type) <= 200)
		set_str(ev, "event_type", type);
	set_str(ev, "account_id", realm);
	set_str(ev, "entity_id", entity_id);
	if (time && strlen(time) <= 64)
		set_str(ev, "occurred_at", time);
	char entity[65], op[33];
	if (spec == NULL || strcmp(spec, "1.0") != 0)
		reject(ev, "specversion is not \"1.0\"");
	else if (type == NULL || !ce_type(type, entity, op))
		reject(ev, "type is not qbo.<entity>.<operation>.v<n>");
	else if (realm == NULL)
		reject(ev, "intuitaccountid (the realm) is missing or invalid");
	else if (entity_id == NULL)
		reject(ev, "intuitentityid is missing or invalid");
	else if (time == NULL || strlen(time) > 64)
		reject(ev, "time is missing or invalid");
	else {
		set_str(ev, "entity_type", entity);
		set_str(ev, "operation", op);
	}
	return ev;
}

/* One legacy dataChangeEvent entity of a realm. */
static json_t *legacy_entity(const char *realm, json_t *ent)
{
	json_t *ev = event_new("legacy");
	json_t *payload = json_object();
	json_object_set_new(payload, "realmId", realm ? json_string(realm) : json_null());
	json_object_set(payload, "entity", ent);
	json_object_set_new(ev, "payload", payload);
	const char *name = id_field(ent, "name");
	const char *id = id_field(ent, "id");
	const char *op = id_field(ent, "operation");
	const char *updated = json_string_value(json_object_get(ent, "lastUpdated"));
	if (updated && strlen(updated) > 64)
		updated = NULL;
	/* No event id in this format: the change itself is the key, hashed so
	 * that no separator inside a value can make two changes collide. */
	json_t *key_src = json_pack("[s?s?s?s?s?]", realm, name, id, op, updated);
	char *key = NULL;
	if (key_src && realm && name && id && op && updated) {
		char *h = hash_key_json(key_src);
		key = xasprintf("legacy:%s", h + 7);
		free(h);
	} else {
		key = hash_key_json(payload);
	}
	json_decref(key_src);
	set_str(ev, "dedupe_key", key);
	free(key);
	set_str(ev, "account_id", realm);
	set_str(ev, "entity_id", id);
	set_str(ev, "occurred_at", updated);
	if (name && op) {
		char *t = xasprintf("%s.%s", name, op);
		set_str(ev, "event_type", t);
		free(t);
	}
	if (!json_is_object(ent))
		reject(ev, "an entities element is not an object");
	else if (realm == NULL)
		reject(ev, "realmId is missing or invalid");
	else if (name == NULL || id == NULL || op == NULL)
		reject(ev, "the entity's name, id or operation is missing or invalid");
	else if (updated == NULL)
		reject(ev, "lastUpdated is missing or invalid");
	else {
		char *ln = lower_dup(name), *lo = lower_dup(op);
		set_str(ev, "entity_type", ln);
		set_str(ev, "operation", lo);
		free(ln);
		free(lo);
	}
	return ev;
}

enum webhook_parse webhook_parse_quickbooks(const char *body, size_t len, json_t **events,
					    const char **why)
{
	*events = NULL;
	json_error_t err;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		*why = "The body is not valid JSON.";
		return WEBHOOK_PARSE_MALFORMED;
	}
	json_t *out = json_array();
	size_t i;
	json_t *el;
	if (json_is_array(root)) {
		json_array_foreach(root, i, el)
			json_array_append_new(out, cloudevent(el));
	} else if (json_is_array(json_object_get(root, "eventNotifications"))) {
		json_t *note;
		json_array_foreach(json_object_get(root, "eventNotifications"), i, note) {
			const char *realm = id_field(note, "realmId");
			json_t *ents = json_object_get(json_object_get(note, "dataChangeEvent"), "entities");
			if (!json_is_array(ents)) {
				json_t *ev = event_new("legacy");
				json_object_set(ev, "payload", note);
				char *key = hash_key_json(note);
				set_str(ev, "dedupe_key", key);
				free(key);
				set_str(ev, "account_id", realm);
				reject(ev, "dataChangeEvent.entities is missing or not an array");
				json_array_append_new(out, ev);
				continue;
			}
			size_t k;
			json_t *ent;
			json_array_foreach(ents, k, ent)
				json_array_append_new(out, legacy_entity(realm, ent));
		}
	} else {
		json_decref(out);
		json_decref(root);
		*why = "The body is neither a CloudEvents array nor an eventNotifications object.";
		return WEBHOOK_PARSE_MALFORMED;
	}
	json_decref(root);
	*events = out;
	return WEBHOOK_PARSE_OK;
}

/* ---- Pax8 --------------------------------------------------------------- */

static const char *first_string(json_t *obj, const char *const *keys, size_t n, size_t max)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_object_get(obj, keys[i]));
		if (s && *s && strlen(s) <= max)
			return s;
	}
	return NULL;
}

enum webhook_parse webhook_parse_pax8(const char *body, size_t len, json_t **events,
				      const char **why)
{
	*events = NULL;
	json_error_t err;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		*why = "The body is not valid JSON.";
		return WEBHOOK_PARSE_MALFORMED;
	}
	json_t *wt = json_object_get(root, "webhookTopic");
	const char *topic = json_string_value(json_object_get(root, "topic"));
	if (topic == NULL)
		topic = json_string_value(json_object_get(wt, "topic"));
	json_t *data = json_object_get(root, "payloadData");
	if (!json_is_object(data))
		data = json_object_get(root, "data");
	if (!json_is_object(root) || topic == NULL || *topic == '\0' || strlen(topic) > 64 ||
	    !json_is_object(data)) {
		json_decref(root);
		*why = "The body is not a Pax8 event (an object with a topic and payloadData).";
		return WEBHOOK_PARSE_MALFORMED;
	}
	const char *action = json_string_value(json_object_get(root, "action"));
	if (action == NULL) {
		json_t *filters = json_object_get(wt, "filters");
		action = json_string_value(json_object_get(json_array_get(filters, 0), "action"));
	}
	if (action && (*action == '\0' || strlen(action) > 64))
		action = NULL;

	json_t *ev = event_new("pax8");
	json_object_set(ev, "payload", root);
	const char *eid = id_field(root, "id");
	char *key = eid ? xstrdup(eid) : hash_key_bytes(body, len);
	set_str(ev, "dedupe_key", key);
	free(key);
	char *t = action ? xasprintf("%s.%s", topic, action) : xstrdup(topic);
	set_str(ev, "event_type", t);
	free(t);
	char *lt = lower_dup(topic);
	set_str(ev, "entity_type", lt);
	if (action) {
		char *la = lower_dup(action);
		set_str(ev, "operation", la);
		free(la);
	}
	const char *company = id_field(data, "companyId");
	set_str(ev, "account_id", company);
	const char *entity_id;
	if (strcmp(lt, "usage") == 0)
		entity_id = id_field(data, "usageSummaryId") ? id_field(data, "usageSummaryId")
							     : id_field(data, "id");
	else
		entity_id = id_field(data, "id") ? id_field(data, "id") : id_field(data, "subscriptionId");
	set_str(ev, "entity_id", entity_id);
	static const char *const data_times[] = {"updatedDate", "createdDate"};
	static const char *const root_times[] = {"sentAt", "timestamp", "occurredAt"};
	const char *when = first_string(data, data_times, 1, 64);
	if (when == NULL)
		when = first_string(root, root_times, 3, 64);
	if (when == NULL)
		when = first_string(data, data_times + 1, 1, 64);
	set_str(ev, "occurred_at", when);
	if (company == NULL)
		reject(ev, "payloadData.companyId is missing or invalid");
	else if (when == NULL)
		reject(ev, "the event has no time (payloadData.updatedDate or sentAt)");
	else if ((strcmp(lt, "subscription") == 0 || strcmp(lt, "usage") == 0) && entity_id == NULL)
		reject(ev, "payloadData.id is missing or invalid");
	free(lt);
	json_decref(root);
	json_t *out = json_array();
	json_array_append_new(out, ev);
	*events = out;
	return WEBHOOK_PARSE_OK;
}
