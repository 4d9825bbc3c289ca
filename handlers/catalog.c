/*
 * catalog.c - /v1/tenants/{tenant_id}/catalog/...: categories (a tree),
 * products and services (create, read with ETag/If-None-Match, list with
 * full-text search, filters, cursor pages and a CSV export, PATCH with
 * If-Match, delete), a tenant's price overrides, relationships between
 * items, and cable plans (computed, not stored: services/cable_plan.c).
 *
 * Who writes what: every member of the tenant reads; tenant admins write
 * the tenant's private rows (on a connection scoped to the tenant); only
 * super admins write the global catalog (`"scope": "global"` on create; a
 * global row found by id), on a connection scoped "*". Row-level security
 * in catalog_db refuses the same writes again, whatever this file checks.
 * Another tenant's private row is invisible: 404.
 *
 * Audit: catalog_db keeps no audit table; changes are recorded in
 * portal_db's audit log after their commit (handler_audit(), best effort).
 */
#include "handlers/handlers.h"
#include "server/jobs/jobs.h"
#include "server/http/reply.h"
#include "server/http/validate.h"
#include "services/cable_plan.h"
#include "services/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const scopes[] = {"tenant", "global", NULL};
static const char *const item_statuses[] = {"active", "eol", "discontinued", NULL};
static const char *const billings[] = {"monthly", "yearly", "one_off", NULL};
static const char *const rel_types[] = {"requires", "recommends", "replaces", "compatible_with",
					"bundle_of", NULL};

#define MAX_MINOR 1000000000000000LL /* 10^15 minor units */
#define NFIELDS(a) (sizeof(a) / sizeof(a[0]))

/* Fields every item JSON has and a body may not set. */
#define ITEM_READONLY                                              \
	{"id", FT_UUID, F_READONLY, 0, 0, NULL},                   \
	{"tenant_id", FT_UUID, F_READONLY, 0, 0, NULL},            \
	{"kind", FT_STRING, F_READONLY, 0, 0, NULL},               \
	{"list_price", FT_STRING, F_READONLY, 0, 0, NULL},         \
	{"price", FT_STRING, F_READONLY, 0, 0, NULL},              \
	{"price_overridden", FT_BOOLEAN, F_READONLY, 0, 0, NULL},  \
	{"version", FT_INTEGER, F_READONLY, 0, 0, NULL},           \
	{"created_at", FT_STRING, F_READONLY, 0, 0, NULL},         \
	{"updated_at", FT_STRING, F_READONLY, 0, 0, NULL}

/* description (newlines allowed) and attributes are checked by hand. */
static const struct field_spec product_fields[] = {
	{"sku", FT_STRING, F_REQUIRED, 1, 64, NULL},
	{"name", FT_STRING, F_REQUIRED, 1, 200, NULL},
	{"category_id", FT_UUID, F_NULLABLE, 0, 0, NULL},
	{"manufacturer", FT_STRING, F_NULLABLE, 1, 100, NULL},
	{"model", FT_STRING, F_NULLABLE, 1, 100, NULL},
	{"unit_price_minor", FT_INTEGER, F_REQUIRED, 0, MAX_MINOR, NULL},
	{"currency", FT_CURRENCY, F_REQUIRED, 0, 0, NULL},
	{"status", FT_ENUM, 0, 0, 0, item_statuses},
	{"scope", FT_ENUM, 0, 0, 0, scopes},
	ITEM_READONLY,
};

static const struct field_spec service_fields[] = {
	{"sku", FT_STRING, F_REQUIRED, 1, 64, NULL},
	{"name", FT_STRING, F_REQUIRED, 1, 200, NULL},
	{"category_id", FT_UUID, F_NULLABLE, 0, 0, NULL},
	{"unit_price_minor", FT_INTEGER, F_REQUIRED, 0, MAX_MINOR, NULL},
	{"currency", FT_CURRENCY, F_REQUIRED, 0, 0, NULL},
	{"status", FT_ENUM, 0, 0, 0, item_statuses},
	{"billing", FT_ENUM, F_REQUIRED, 0, 0, billings},
	{"unit", FT_STRING, F_REQUIRED, 1, 40, NULL},
	{"scope", FT_ENUM, 0, 0, 0, scopes},
	ITEM_READONLY,
};

static const struct field_spec category_fields[] = {
	{"slug", FT_DNS_LABEL, F_REQUIRED, 1, 63, NULL},
	{"name", FT_STRING, F_REQUIRED, 1, 200, NULL},
	{"parent_id", FT_UUID, F_NULLABLE, 0, 0, NULL},
	{"scope", FT_ENUM, 0, 0, 0, scopes},
	{"id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"tenant_id", FT_UUID, F_READONLY, 0, 0, NULL},
	{"depth", FT_INTEGER, F_READONLY, 0, 0, NULL},
	{"created_at", FT_STRING, F_READONLY, 0, 0, NULL},
	{"updated_at", FT_STRING, F_READONLY, 0, 0, NULL},
};

static const struct field_spec relationship_fields[] = {
	{"to_item_id", FT_UUID, F_REQUIRED, 0, 0, NULL},
	{"type", FT_ENUM, F_REQUIRED, 0, 0, rel_types},
	{"quantity", FT_INTEGER, 0, 1, 100000, NULL},
	{"scope", FT_ENUM, 0, 0, 0, scopes},
};

static const struct field_spec override_fields[] = {
	{"amount_minor", FT_INTEGER, F_REQUIRED, 0, MAX_MINOR, NULL},
	{"currency", FT_CURRENCY, F_REQUIRED, 0, 0, NULL},
};

static const struct field_spec *find_spec(const struct field_spec *specs, size_t n,
					  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(specs[i].name, name) == 0)
			return &specs[i];
	return NULL;
}

static bool is_service(struct request *r)
{
	return strstr(r->route->name, ".services.") != NULL;
}

static const char *kind_of(struct request *r)
{
	return is_service(r) ? "service" : "product";
}

static void reply_invalid(struct request *r, const char *field, const char *message)
{
	json_t *errors = NULL;
	problem_add_error(&errors, field, message);
	reply_problem(r, 422, "validation", "Unprocessable Content",
		      "The request body has invalid fields; see errors.", errors);
}

/* A description: up to 10000 characters; line breaks and tabs allowed,
 * other control characters not. */
static const char *check_description(json_t *v)
{
	if (!json_is_string(v))
		return "must be a string";
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t chars = 0;
	for (; *s; s++) {
		if ((*s < 0x20 && *s != '\n' && *s != '\r' && *s != '\t') || *s == 0x7f)
			return "must not contain control characters other than line breaks and tabs";
		chars += (*s & 0xc0) != 0x80;
	}
	return chars > 10000 ? "is too long" : NULL;
}

/*
 * Checks a create (all required fields) or PATCH (any, at least one; no
 * scope) body against specs, plus description and (products) attributes.
 * False after answering 422 naming every bad field.
 */
static bool check_body_or_reply(struct request *r, const struct field_spec *specs, size_t n,
				bool create, bool attributes)
{
	json_t *errors = NULL;
	const char *key;
	json_t *v;
	size_t known = 0;
	json_object_foreach(r->json, key, v) {
		const char *msg;
		if (strcmp(key, "description") == 0 && find_spec(specs, n, "sku")) {
			msg = check_description(v);
		} else if (strcmp(key, "attributes") == 0 && attributes) {
			struct cp_attrs a;
			char field[128];
			msg = cp_attrs_parse(v, &a, field, sizeof(field));
			if (msg) {
				problem_add_error(&errors, field, msg);
				continue;
			}
		} else {
			const struct field_spec *f = find_spec(specs, n, key);
			msg = f == NULL ? "is not a known field"
			      : (f->flags & F_READONLY) || (!create && strcmp(key, "scope") == 0)
				      ? "is read-only"
				      : validate_value(f, v);
		}
		known++;
		if (msg)
			problem_add_error(&errors, key, msg);
	}
	if (create) {
		for (size_t i = 0; i < n; i++)
			if ((specs[i].flags & F_REQUIRED) && json_object_get(r->json, specs[i].name) == NULL)
				problem_add_error(&errors, specs[i].name, "is required");
	} else if (known == 0 && errors == NULL) {
		problem_add_error(&errors, "body", "must change at least one field");
	}
	if (errors == NULL)
		return true;
	reply_problem(r, 422, "validation", "Unprocessable Content",
		      "The request body has invalid fields; see errors.", errors);
	return false;
}

/* The body as JSON text in the arena, for the statement's jsonb. */
static const char *body_text(struct request *r)
{
	char *s = json_dumps(r->json, JSON_COMPACT);
	if (s == NULL)
		abort();
	char *copy = arena_strdup(&r->arena, s);
	free(s);
	return copy;
}

/* The owner of a new row: "" (global) when the body asks "scope": "global"
 * (super admins only), else the path's tenant. False after a 403. */
static bool new_owner_or_reply(struct request *r, const char **owner)
{
	const char *scope = json_string_value(json_object_get(r->json, "scope"));
	bool global = scope && strcmp(scope, "global") == 0;
	if (global && !(r->principal.roles & ROLE_SUPER_ADMIN)) {
		reply_forbidden(r, "The global catalog is managed by super admins.");
		return false;
	}
	*owner = global ? "" : r->params[0];
	return true;
}

/* Writing a row of `owner` ("" global) needs a super admin for the global
 * catalog. False after a 403. */
static bool may_write_or_reply(struct request *r, const char *owner)
{
	if (owner[0] == '\0' && !(r->principal.roles & ROLE_SUPER_ADMIN)) {
		reply_forbidden(r, "The global catalog is managed by super admins.");
		return false;
	}
	return true;
}

/* The connection for writing owner's rows: scoped "*" for the global
 * catalog, else the tenant. NULL after a 503. */
static struct db_conn *write_db_or_reply(struct request *r, const char *owner)
{
	return req_db_or_reply(r, DB_CATALOG, owner[0] ? owner : "*");
}

/* A column or constraint PostgreSQL named, as a body field. */
static const char *field_name(const char *s, const char *fallback)
{
	static const char *const known[] = {"sku", "name", "description", "category_id",
					    "manufacturer", "model", "unit_price_minor", "currency",
					    "status", "attributes", "billing", "unit", "slug",
					    "parent_id", "to_item_id", "from_item_id", "type",
					    "quantity", "item_id"};
	if (s == NULL)
		return fallback;
	for (size_t i = 0; i < NFIELDS(known); i++) {
		const char *p = strstr(s, known[i]);
		if (p && (p == s || p[-1] == '_') &&
		    (p[strlen(known[i])] == '\0' || p[strlen(known[i])] == '_'))
			return strcmp(known[i], "from_item_id") == 0 ? "to_item_id" : known[i];
	}
	if (strstr(s, "items_kind_columns"))
		return "attributes";
	return fallback;
}

/* Replies for a failed write: 409 for a taken unique key (field named),
 * 422 for a value or reference the database refused, else the table. */
static void reply_write_failed(struct request *r, enum status st, const struct cat_out *o,
			       const char *unique_field, const char *fallback)
{
	if (st == ST_CONFLICT) {
		json_t *errors = NULL;
		problem_add_error(&errors, unique_field, "is already used in this scope");
		reply_problem(r, 409, "conflict", "Conflict",
			      arena_printf(&r->arena, "The %s is already used in this scope.", unique_field),
			      errors);
	} else if (st == ST_INVALID) {
		const char *field = field_name(o->field, fallback);
		reply_invalid(r, field,
			      strcmp(field, "category_id") == 0 || strcmp(field, "parent_id") == 0 ||
					      strcmp(field, "to_item_id") == 0
				      ? "names nothing this tenant's catalog has, or a row of "
					"another scope"
				      : "is not accepted by the catalog");
	} else {
		reply_status(r, st, DB_CATALOG);
	}
}

/* Does If-Match / If-None-Match `h` list the strong tag "etag"? */
static bool etag_listed(const char *h, const char *etag)
{
	size_t n = strlen(etag);
	for (const char *p = h; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (*p == '"' && strncmp(p + 1, etag, n) == 0 && p[n + 1] == '"')
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

static void reply_row(struct request *r, int status, const struct cat_out *o,
		      const char *location)
{
	reply_json_text(r, status, o->json);
	reply_header(r, "ETag", arena_printf(&r->arena, "\"%s\"", o->etag));
	if (location)
		reply_header(r, "Location", location);
}

/*
 * A create under an optional Idempotency-Key: the row and the stored answer
 * commit together (catalog_db's idempotency_keys), so a retry gets the
 * first 201 again. *key is NULL without the header. False after replying
 * (400 bad key, 503, or the replayed answer / 422 for a reused key).
 */
static bool idem_begin_or_reply(struct request *r, struct db_conn *c, const char **key,
				char **scope)
{
	if (!handler_idem_key_or_reply(r, key))
		return false;
	if (*key == NULL)
		return true;
	*scope = arena_printf(&r->arena, "catalog:%s:%s:%s", r->params[0], r->principal.tid,
			      r->principal.oid);
	if (!db_begin(c)) {
		reply_db_failed(r, DB_CATALOG);
		return false;
	}
	return handler_idem_claim_or_reply(r, c, *scope, *key, NULL, NULL);
}

/* Stores the 201 with the key and commits; false after a 503. */
static bool idem_finish_or_reply(struct request *r, struct db_conn *c, const char *key,
				 const char *scope, const struct cat_out *o, const char *location)
{
	if (key == NULL)
		return true;
	char *etag = arena_printf(&r->arena, "\"%s\"", o->etag);
	if (!idem_finish(c, scope, key, 201, o->json, location, etag) || !db_commit(c)) {
		db_rollback(c);
		reply_db_failed(r, DB_CATALOG);
		return false;
	}
	return true;
}

/* ---- categories ------------------------------------------------------- */

static void list_categories(struct request *r)
{
	struct db_conn *c = req_db_or_reply(r, DB_CATALOG, r->params[0]);
	char *json;
	if (c == NULL)
		return;
	enum status st = catalog_categories(c, &r->arena, &json);
	if (st != ST_OK) {
		reply_db_failed(r, DB_CATALOG);
		return;
	}
	reply_json_text(r, 200, json);
}

/* Reads {id} of the path (params[1]) on the tenant's scope: false after 404. */
static bool category_or_reply(struct request *r, struct cat_out *o)
{
	if (!util_is_uuid(r->params[1])) {
		reply_not_found(r);
		return false;
	}
	struct db_conn *c = req_db_or_reply(r, DB_CATALOG, r->params[0]);
	if (c == NULL)
		return false;
	enum status st = catalog_category_get(c, r->params[1], &r->arena, o);
	if (st != ST_OK)
		reply_status(r, st, DB_CATALOG);
	return st == ST_OK;
}

static void get_category(struct request *r)
{
	struct cat_out o;
	if (category_or_reply(r, &o))
		reply_row(r, 200, &o, NULL);
}

static void create_category(struct request *r)
{
	const char *owner;
	if (!check_body_or_reply(r, category_fields, NFIELDS(category_fields), true, false) ||
	    !new_owner_or_reply(r, &owner))
		return;
	struct db_conn *c = write_db_or_reply(r, owner);
	const char *key;
	char *scope = NULL;
	if (c == NULL || !idem_begin_or_reply(r, c, &key, &scope))
		return;
	struct cat_out o;
	enum status st = catalog_category_create(c, owner, body_text(r), &r->arena, &o);
	if (st != ST_OK) {
		if (key)
			db_rollback(c);
		reply_write_failed(r, st, &o, "slug", "parent_id");
		return;
	}
	char *location = arena_printf(&r->arena, "/v1/tenants/%s/catalog/categories/%s",
				      r->params[0], o.id);
	if (!idem_finish_or_reply(r, c, key, scope, &o, location))
		return;
	handler_audit(r, r->params[0], "catalog.category.create", "catalog_category", o.id, r->json);
	reply_row(r, 201, &o, location);
}

static void update_category(struct request *r)
{
	if (!check_body_or_reply(r, category_fields, NFIELDS(category_fields), false, false))
		return;
	struct cat_out o;
	if (!category_or_reply(r, &o) || !may_write_or_reply(r, o.owner))
		return;
	const char *if_match = req_header(r, "If-Match");
	if (if_match && !etag_listed(if_match, o.etag)) {
		reply_status(r, ST_PRECONDITION, DB_CATALOG);
		return;
	}
	const char *pid = json_string_value(json_object_get(r->json, "parent_id"));
	if (pid && strcasecmp(pid, o.id) == 0) {
		reply_invalid(r, "parent_id", "must not be the category itself or one of its subcategories");
		return;
	}
	char owner[37];
	snprintf(owner, sizeof(owner), "%s", o.owner);
	struct db_conn *c = write_db_or_reply(r, owner);
	if (c == NULL)
		return;
	enum status st = catalog_category_update(c, r->params[1], owner, body_text(r), &r->arena, &o);
	if (st == ST_INVALID && o.field && strcmp(o.field, "parent_id") == 0 &&
	    !json_is_null(json_object_get(r->json, "parent_id"))) {
		reply_invalid(r, "parent_id",
			      "must be a category this tenant sees, of the same scope, and not the "
			      "category itself or one of its subcategories");
		return;
	}
	if (st != ST_OK) {
		reply_write_failed(r, st, &o, "slug", "parent_id");
		return;
	}
	handler_audit(r, r->params[0], "catalog.category.update", "catalog_category", o.id, r->json);
	reply_row(r, 200, &o, NULL);
}

static void delete_category(struct request *r)
{
	struct cat_out o;
	if (!category_or_reply(r, &o) || !may_write_or_reply(r, o.owner))
		return;
	char owner[37];
	snprintf(owner, sizeof(owner), "%s", o.owner);
	struct db_conn *c = write_db_or_reply(r, owner);
	if (c == NULL)
		return;
	enum status st = catalog_category_delete(c, r->params[1], owner);
	if (st == ST_CONFLICT) {
		reply_problem(r, 409, "category-not-empty", "Conflict",
			      "The category still has subcategories or items; move or delete them first.",
			      NULL);
		return;
	}
	if (st != ST_OK) {
		reply_status(r, st, DB_CATALOG);
		return;
	}
	handler_audit(r, r->params[0], "catalog.category.delete", "catalog_category", r->params[1], NULL);
	reply_empty(r, 204);
}

/* ---- items ------------------------------------------------------------ */

static const struct field_spec *item_specs(struct request *r, size_t *n)
{
	*n = is_service(r) ? NFIELDS(service_fields) : NFIELDS(product_fields);
	return is_service(r) ? service_fields : product_fields;
}

/* Reads the item {id} (params[1]) of the route's kind on the tenant's
 * scope: false after 404. */
static bool item_or_reply(struct request *r, struct cat_out *o)
{
	if (!util_is_uuid(r->params[1])) {
		reply_not_found(r);
		return false;
	}
	struct db_conn *c = req_db_or_reply(r, DB_CATALOG, r->params[0]);
	if (c == NULL)
		return false;
	enum status st = catalog_item_get(c, kind_of(r), r->params[1], &r->arena, o);
	if (st != ST_OK)
		reply_status(r, st, DB_CATALOG);
	return st == ST_OK;
}

static void get_item(struct request *r)
{
	struct cat_out o;
	if (!item_or_reply(r, &o))
		return;
	const char *inm = req_header(r, "If-None-Match");
	if (inm && etag_listed(inm, o.etag)) {
		reply_empty(r, 304);
		reply_header(r, "ETag", arena_printf(&r->arena, "\"%s\"", o.etag));
		return;
	}
	reply_row(r, 200, &o, NULL);
}

/* After a write on "*", the row again as the tenant sees it (its price). */
static void reply_item_as_tenant(struct request *r, int status, struct cat_out *o,
				 const char *location)
{
	char id[37];
	snprintf(id, sizeof(id), "%s", o->id);
	struct db_conn *c = req_db(r, DB_CATALOG, r->params[0]);
	struct cat_out again;
	if (c && catalog_item_get(c, kind_of(r), id, &r->arena, &again) == ST_OK)
		o = &again;
	reply_row(r, status, o, location);
}

static void create_item(struct request *r)
{
	size_t n;
	const struct field_spec *specs = item_specs(r, &n);
	const char *owner;
	if (!check_body_or_reply(r, specs, n, true, !is_service(r)) || !new_owner_or_reply(r, &owner))
		return;
	struct db_conn *c = write_db_or_reply(r, owner);
	const char *key;
	char *scope = NULL;
	if (c == NULL || !idem_begin_or_reply(r, c, &key, &scope))
		return;
	struct cat_out o;
	enum status st = catalog_item_create(c, kind_of(r), owner, body_text(r), &r->arena, &o);
	if (st != ST_OK) {
		if (key)
			db_rollback(c);
		reply_write_failed(r, st, &o, "sku", "category_id");
		return;
	}
	/* A new item has no price override yet: its JSON is the tenant's view
	 * whatever the scope it was written on. */
	char *location = arena_printf(&r->arena, "/v1/tenants/%s/catalog/%ss/%s", r->params[0],
				      kind_of(r), o.id);
	if (!idem_finish_or_reply(r, c, key, scope, &o, location))
		return;
	handler_audit(r, r->params[0], is_service(r) ? "catalog.service.create" : "catalog.product.create",
		      is_service(r) ? "catalog_service" : "catalog_product", o.id, r->json);
	reply_row(r, 201, &o, location);
}

static void update_item(struct request *r)
{
	size_t n;
	const struct field_spec *specs = item_specs(r, &n);
	if (!check_body_or_reply(r, specs, n, false, !is_service(r)))
		return;
	struct cat_out o;
	if (!item_or_reply(r, &o) || !may_write_or_reply(r, o.owner))
		return;
	const char *if_match = req_header(r, "If-Match");
	if (if_match && !etag_listed(if_match, o.etag)) {
		reply_status(r, ST_PRECONDITION, DB_CATALOG);
		return;
	}
	char owner[37];
	snprintf(owner, sizeof(owner), "%s", o.owner);
	struct db_conn *c = write_db_or_reply(r, owner);
	if (c == NULL)
		return;
	enum status st = catalog_item_update(c, kind_of(r), r->params[1], owner, o.version,
					     body_text(r), &r->arena, &o);
	if (st != ST_OK) {
		reply_write_failed(r, st, &o, "sku", "category_id");
		return;
	}
	handler_audit(r, r->params[0], is_service(r) ? "catalog.service.update" : "catalog.product.update",
		      is_service(r) ? "catalog_service" : "catalog_product", o.id, r->json);
	reply_item_as_tenant(r, 200, &o, NULL);
}

static void delete_item(struct request *r)
{
	struct cat_out o;
	if (!item_or_reply(r, &o) || !may_write_or_reply(r, o.owner))
		return;
	char owner[37];
	snprintf(owner, sizeof(owner), "%s", o.owner);
	struct db_conn *c = write_db_or_reply(r, owner);
	if (c == NULL)
		return;
	enum status st = catalog_item_delete(c, kind_of(r), r->params[1], owner);
	if (st == ST_CONFLICT) {
		reply_problem(r, 409, "item-has-media", "Conflict",
			      "The item still has media; delete them first.", NULL);
		return;
	}
	if (st != ST_OK) {
		reply_status(r, st, DB_CATALOG);
		return;
	}
	handler_audit(r, r->params[0], is_service(r) ? "catalog.service.delete" : "catalog.product.delete",
		      is_service(r) ? "catalog_service" : "catalog_product", r->params[1], NULL);
	reply_empty(r, 204);
}

static bool bad_query(struct request *r, const char *field, const char *message)
{
	json_t *errors = NULL;
	problem_add_error(&errors, field, message);
	reply_problem(r, 400, "invalid-query", "Bad Request",
		      arena_printf(&r->arena, "The query parameter %s is invalid.", field), errors);
	return false;
}

/* A price bound: 1 to 16 digits. */
static bool is_minor(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool printable(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* The list's filters from the query; false after a 400. */
static bool filter_or_reply(struct request *r, struct cat_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind_of(r);
	if (!validate_limit_or_reply(r, 20, 100, &f->limit) || !page_cursor_or_reply(r, &f->cursor))
		return false;
	f->q = req_query(r, "q");
	f->category = req_query(r, "category");
	f->manufacturer = req_query(r, "manufacturer");
	f->status = req_query(r, "status");
	f->currency = req_query(r, "currency");
	f->min = req_query(r, "min_price");
	f->max = req_query(r, "max_price");
	if (f->q && !printable(f->q, 200))
		return bad_query(r, "q", "must be 1 to 200 characters");
	if (f->category && !util_is_uuid(f->category))
		return bad_query(r, "category", "must be a category id (UUID)");
	if (f->manufacturer && !printable(f->manufacturer, 100))
		return bad_query(r, "manufacturer", "must be 1 to 100 characters");
	if (f->status && strcmp(f->status, "active") && strcmp(f->status, "eol") &&
	    strcmp(f->status, "discontinued"))
		return bad_query(r, "status", "must be active, eol or discontinued");
	if (f->currency && (strlen(f->currency) != 3 || f->currency[0] < 'A' || f->currency[0] > 'Z' ||
			    f->currency[1] < 'A' || f->currency[1] > 'Z' || f->currency[2] < 'A' ||
			    f->currency[2] > 'Z'))
		return bad_query(r, "currency", "must be an ISO 4217 code, e.g. EUR");
	if (f->min && !is_minor(f->min))
		return bad_query(r, "min_price", "must be an amount in minor units (digits)");
	if (f->max && !is_minor(f->max))
		return bad_query(r, "max_price", "must be an amount in minor units (digits)");
	if ((f->min || f->max) && !f->currency)
		return bad_query(r, f->min ? "min_price" : "max_price",
				 "needs currency: amounts of different currencies do not compare");
	return true;
}

static void list_items(struct request *r)
{
	struct cat_filter f;
	enum reply_format fmt = handler_format_or_reply(r, true);
	if (fmt == FMT_NONE || !filter_or_reply(r, &f))
		return;
	enum status st;
	if (fmt == FMT_CSV) {
		struct catalog_csv *csv;
		st = catalog_csv_open(r->params[0], &f, &csv);
		if (st == ST_OK) {
			struct reply_stream s = {catalog_csv_read, catalog_csv_close, csv};
			reply_stream(r, 200, "text/csv; charset=utf-8", &s);
			reply_header(r, "Content-Disposition",
				     arena_printf(&r->arena, "attachment; filename=\"%ss.csv\"", f.kind));
			return;
		}
	} else {
		struct db_conn *c = req_db_or_reply(r, DB_CATALOG, r->params[0]);
		if (c == NULL)
			return;
		char *page;
		st = catalog_items_list(c, &f, &r->arena, &page);
		if (st == ST_OK) {
			reply_json_text(r, 200, page);
			return;
		}
	}
	if (st == ST_INVALID)
		bad_query(r, "q", "is not a search PostgreSQL can read");
	else
		reply_status(r, st, DB_CATALOG);
}

/* ---- price overrides ----------------------------------------------------- */

static void put_override(struct request *r)
{
	if (!validate_body_or_reply(r, r->json, override_fields, NFIELDS(override_fields), 0))
		return;
	if (!util_is_uuid(r->params[1])) {
		reply_not_found(r);
		return;
	}
	struct db_conn *c = req_db_or_reply(r, DB_CATALOG, r->params[0]);
	if (c == NULL)
		return;
	char amount[24];
	snprintf(amount, sizeof(amount), "%lld",
		 (long long)json_integer_value(json_object_get(r->json, "amount_minor")));
	const char *currency = json_string_value(json_object_get(r->json, "currency"));
	enum status st = catalog_override_put(c, r->params[0], r->params[1], amount, currency);
	if (st == ST_INVALID) {
		reply_invalid(r, "currency", "must be the product's list price currency");
		return;
	}
	if (st != ST_OK) {
		reply_status(r, st, DB_CATALOG);
		return;
	}
	handler_audit(r, r->params[0], "catalog.price_override.put", "catalog_product", r->params[1],
		      r->json);
	struct cat_out o;
	if (item_or_reply(r, &o))
		reply_row(r, 200, &o, NULL);
}

static void delete_override(struct request *r)
{
	if (!util_is_uuid(r->params[1])) {
		reply_not_found(r);
		return;
	}
	struct db_conn *c = req_db_or_reply(r, DB_CATALOG, r->params[0]);
	if (c == NULL)
		return;
	enum status st = catalog_override_delete(c, r->params[0], r->params[1]);
	if (st != ST_OK) {
		reply_status(r, st, DB_CATALOG);
		return;
	}
	handler_audit(r, r->params[0], "catalog.price_override.delete", "catalog_product",
		      r->params[1], NULL);
	reply_empty(r, 204);
}

/* ---- relationships ------------------------------------------------------- */

static void list_relationships(struct request *r)
{
	struct cat_out o;
	if (!item_or_reply(r, &o))
		return;
	char *json;
	if (catalog_relationships(req_db(r, DB_CATALOG, r->params[0]), r->params[1], &r->arena,
				  &json) != ST_OK) {
		reply_db_failed(r, DB_CATALOG);
		return;
	}
	reply_json_text(r, 200, json);
}

static void create_relationship(struct request *r)
{
	const char *owner;
	if (!validate_body_or_reply(r, r->json, relationship_fields, NFIELDS(relationship_fields), 0) ||
	    !new_owner_or_reply(r, &owner))
		return;
	const char *to = json_string_value(json_object_get(r->json, "to_item_id"));
	const char *type = json_string_value(json_object_get(r->json, "type"));
	json_t *q = json_object_get(r->json, "quantity");
	if (q && json_integer_value(q) != 1 && strcmp(type, "bundle_of") != 0) {
		reply_invalid(r, "quantity", "only a bundle_of relationship has a quantity other than 1");
		return;
	}
	struct cat_out o;
	if (!item_or_reply(r, &o))
		return;
	if (strcasecmp(to, o.id) == 0) {
		reply_invalid(r, "to_item_id", "must be another item: an item does not relate to itself");
		return;
	}
	struct db_conn *c = write_db_or_reply(r, owner);
	if (c == NULL)
		return;
	char from[37];
	snprintf(from, sizeof(from), "%s", o.id);
	enum status st = catalog_relationship_create(c, owner, from, body_text(r), &r->arena, &o);
	if (st != ST_OK) {
		reply_write_failed(r, st, &o, "to_item_id", "to_item_id");
		return;
	}
	handler_audit(r, r->params[0], "catalog.relationship.create", "catalog_relationship", o.id,
		      r->json);
	reply_row(r, 201, &o, NULL);
}

static void delete_relationship(struct request *r)
{
	struct cat_out o;
	if (!item_or_reply(r, &o))
		return;
	char owner[37];
	if (!util_is_uuid(r->params[2])) {
		reply_not_found(r);
		return;
	}
	enum status st = catalog_relationship_owner(req_db(r, DB_CATALOG, r->params[0]), r->params[1],
						    r->params[2], owner);
	if (st != ST_OK) {
		reply_status(r, st, DB_CATALOG);
		return;
	}
	if (!may_write_or_reply(r, owner))
		return;
	struct db_conn *c = write_db_or_reply(r, owner);
	if (c == NULL)
		return;
	st = catalog_relationship_delete(c, r->params[1], r->params[2], owner);
	if (st != ST_OK) {
		reply_status(r, st, DB_CATALOG);
		return;
	}
	handler_audit(r, r->params[0], "catalog.relationship.delete", "catalog_relationship",
		      r->params[2], NULL);
	reply_empty(r, 204);
}

/* ---- media -------------------------------------------------------------- */

/* What each kind of medium may be: its container, types and size limit.
 * SVG is refused: an SVG is a document that can carry script, and nothing
 * here sanitises it. */
static const struct media_rule {
	const char *kind, *container;
	const char *types[4];
	long long max_bytes;
} media_rules[] = {
	{"image", "product-images", {"image/png", "image/jpeg", "image/webp", NULL}, 10LL << 20},
	{"stencil", "visio-stencils", {"application/vnd.ms-visio.stencil", NULL}, 50LL << 20},
	{"document", "documents", {"application/pdf", NULL}, 25LL << 20},
};
static const char *const media_kinds[] = {"image", "stencil", "document", NULL};

#define UPLOAD_SAS_SECONDS 600   /* the browser has 10 minutes to upload */
#define READ_SAS_SECONDS 300     /* a download link lasts 5 minutes */

static const struct field_spec media_fields[] = {
	{"kind", FT_ENUM, F_REQUIRED, 0, 0, media_kinds},
	{"content_type", FT_STRING, F_REQUIRED, 1, 127, NULL},
	{"size", FT_INTEGER, F_REQUIRED, 1, 50LL << 20, NULL},
	{"sha256", FT_STRING, F_REQUIRED, 64, 64, NULL},
	{"file_name", FT_STRING, 0, 1, 200, NULL},
};

static const struct media_rule *media_rule(const char *kind)
{
	for (size_t i = 0; i < NFIELDS(media_rules); i++)
		if (strcmp(media_rules[i].kind, kind) == 0)
			return &media_rules[i];
	return NULL;
}

static bool is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return s[64] == '\0';
}

/* The medium's JSON with a download link when it is ready (new ref). */
static json_t *media_with_link(struct request *r, const struct cat_media *m)
{
	json_t *j = json_loads(m->json, 0, NULL);
	if (j == NULL)
		return NULL;
	json_t *download = json_null();
	if (strcmp(m->status, "ready") == 0) {
		char exp[32];
		char *url = catalog_sas(m->container, m->blob_name, "r", READ_SAS_SECONDS, exp);
		if (url) {
			download = json_pack("{s:s, s:s}", "url", url, "expires_at", exp);
			free(url);
		}
	}
	json_object_set_new(j, "download", download);
	(void)r;
	return j;
}

/*
 * POST .../products/{id}/media {kind, content_type, size, sha256,
 * file_name?}: checks the type and size for the kind, records the medium
 * (pending) and answers with a write-only (create + write), single-blob
 * SAS URL valid 10 minutes, for the browser to PUT the file to.
 */
static void create_media(struct request *r)
{
	if (!validate_body_or_reply(r, r->json, media_fields, NFIELDS(media_fields), 0))
		return;
	const char *kind = json_string_value(json_object_get(r->json, "kind"));
	const char *type = json_string_value(json_object_get(r->json, "content_type"));
	long long size = json_integer_value(json_object_get(r->json, "size"));
	const struct media_rule *rule = media_rule(kind);
	bool type_ok = false;
	for (int i = 0; rule->types[i]; i++)
		type_ok |= strcmp(rule->types[i], type) == 0;
	if (strcmp(type, "image/svg+xml") == 0) {
		reply_invalid(r, "content_type", "SVG images are refused: they may carry script; use "
						 "PNG, JPEG or WebP");
		return;
	}
	if (!type_ok) {
		reply_invalid(r, "content_type",
			      arena_printf(&r->arena, "must be one of %s%s%s%s%s for a %s", rule->types[0],
					   rule->types[1] ? ", " : "", rule->types[1] ? rule->types[1] : "",
					   rule->types[2] ? ", " : "", rule->types[2] ? rule->types[2] : "",
					   kind));
		return;
	}
	if (size > rule->max_bytes) {
		reply_invalid(r, "size", arena_printf(&r->arena, "must be at most %lld bytes for a %s",
						      rule->max_bytes, kind));
		return;
	}
	if (!is_hex64(json_string_value(json_object_get(r->json, "sha256")))) {
		reply_invalid(r, "sha256", "must be the file's SHA-256 in hexadecimal");
		return;
	}
	struct cat_out item;
	if (!item_or_reply(r, &item) || !may_write_or_reply(r, item.owner))
		return;
	char owner[37], id[37];
	snprintf(owner, sizeof(owner), "%s", item.owner);
	util_uuid_v4(id);
	char *blob = arena_printf(&r->arena, "%s/%s/%s", owner[0] ? owner : "global", item.id, id);
	char exp[32];
	char *url = catalog_sas(rule->container, blob, "cw", UPLOAD_SAS_SECONDS, exp);
	if (url == NULL) {
		reply_unavailable(r, "Blob storage is not configured");
		return;
	}
	char *url_copy = arena_strdup(&r->arena, url);
	free(url);
	struct db_conn *c = write_db_or_reply(r, owner);
	if (c == NULL)
		return;
	struct cat_media m;
	enum status st = catalog_media_create(c, owner, id, item.id, rule->container, blob,
					      body_text(r), &r->arena, &m);
	if (st != ST_OK) {
		reply_status(r, st == ST_INVALID ? ST_NOT_FOUND : st, DB_CATALOG);
		return;
	}
	json_t *j = media_with_link(r, &m);
	if (j == NULL) {
		reply_internal(r);
		return;
	}
	json_object_set_new(j, "upload",
			    json_pack("{s:s, s:s, s:{s:s, s:s}, s:s}", "method", "PUT", "url", url_copy,
				      "headers", "x-ms-blob-type", "BlockBlob", "Content-Type", type,
				      "expires_at", exp));
	handler_audit(r, r->params[0], "catalog.media.create", "catalog_media", m.id, r->json);
	reply_json(r, 201, j);
	reply_header(r, "Location",
		     arena_printf(&r->arena, "/v1/tenants/%s/catalog/media/%s", r->params[0], m.id));
}

static void list_media(struct request *r)
{
	struct cat_out item;
	if (!item_or_reply(r, &item))
		return;
	char *json;
	if (catalog_media_list(req_db(r, DB_CATALOG, r->params[0]), item.id, &r->arena, &json) !=
	    ST_OK) {
		reply_db_failed(r, DB_CATALOG);
		return;
	}
	/* Ready ones get a download link each. */
	json_t *page = req_own_json(r, json_loads(json, 0, NULL));
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(page, "data"), i, e) {
		json_t *download = json_null();
		const char *status = json_string_value(json_object_get(e, "status"));
		if (status && strcmp(status, "ready") == 0) {
			char exp[32];
			char *url = catalog_sas(json_string_value(json_object_get(e, "container")),
						json_string_value(json_object_get(e, "blob_name")), "r",
						READ_SAS_SECONDS, exp);
			if (url) {
				download = json_pack("{s:s, s:s}", "url", url, "expires_at", exp);
				free(url);
			}
		}
		json_object_set_new(e, "download", download);
	}
	reply_json(r, 200, json_incref(page));
}

/* The medium {media_id} (params[1]) the tenant sees: false after 404. */
static bool media_or_reply(struct request *r, struct cat_media *m)
{
	if (!util_is_uuid(r->params[1])) {
		reply_not_found(r);
		return false;
	}
	struct db_conn *c = req_db_or_reply(r, DB_CATALOG, r->params[0]);
	if (c == NULL)
		return false;
	enum status st = catalog_media_get(c, r->params[1], &r->arena, m);
	if (st != ST_OK)
		reply_status(r, st, DB_CATALOG);
	return st == ST_OK;
}

static void get_media(struct request *r)
{
	struct cat_media m;
	if (!media_or_reply(r, &m))
		return;
	json_t *j = media_with_link(r, &m);
	if (j == NULL)
		reply_internal(r);
	else
		reply_json(r, 200, j);
}

/* Moves the medium from `from` to `to` on the owner's scope and queues
 * `job` for it (portal_db). 202 with the medium; 409 when it is not in a
 * state that allows the move. */
static void media_transition(struct request *r, const char *from, const char *to, const char *job,
			     const char *action)
{
	struct cat_media m;
	if (!media_or_reply(r, &m) || !may_write_or_reply(r, m.owner))
		return;
	char owner[37], id[37], was[16];
	snprintf(owner, sizeof(owner), "%s", m.owner);
	snprintf(id, sizeof(id), "%s", m.id);
	snprintf(was, sizeof(was), "%s", m.status);
	struct db_conn *c = write_db_or_reply(r, owner);
	if (c == NULL)
		return;
	enum status st = catalog_media_move(c, id, from, to, NULL, &r->arena, &m);
	if (st == ST_NOT_FOUND) {
		reply_problem(r, 409, "media-status", "Conflict",
			      arena_printf(&r->arena, "The medium is %s; this needs it to be %s.", was,
					   from),
			      NULL);
		return;
	}
	if (st != ST_OK) {
		reply_status(r, st, DB_CATALOG);
		return;
	}
	/* The job row lives in portal_db: queued after the move, and the
	 * move undone when it cannot be, so a medium never waits for a job
	 * that does not exist. */
	struct db_conn *p = req_db(r, DB_PORTAL, r->params[0]);
	char job_id[37];
	json_t *payload = req_own_json(r, json_pack("{s:s}", "media_id", id));
	if (p == NULL || !jobs_enqueue(p, job, r->params[0], payload, r->request_id, job_id)) {
		struct cat_media back;
		req_db(r, DB_CATALOG, owner[0] ? owner : "*");
		catalog_media_move(c, id, to, from, NULL, &r->arena, &back);
		reply_db_unreachable(r, DB_PORTAL);
		return;
	}
	handler_audit(r, r->params[0], action, "catalog_media", id, NULL);
	json_t *j = media_with_link(r, &m);
	if (j) {
		json_object_set_new(j, "job_id", json_string(job_id));
		reply_json(r, 202, j);
	} else {
		reply_internal(r);
	}
}

/* POST .../media/{id}/confirm: the upload is done; the worker reads the
 * blob, checks size, type and SHA-256 and marks it ready or rejected. */
static void confirm_media(struct request *r)
{
	media_transition(r, "pending", "verifying", CATALOG_MEDIA_VERIFY, "catalog.media.confirm");
}

/* DELETE .../media/{id}: the worker deletes the blob, then the row. */
static void delete_media(struct request *r)
{
	media_transition(r, "pending,verifying,ready,rejected", "deleting", CATALOG_MEDIA_DELETE,
			 "catalog.media.delete");
}

/* GET .../catalog/stencils?manufacturer=&category=: the ready stencils
 * (a stencil set per manufacturer and category), each with a download
 * link. */
static void list_stencils(struct request *r)
{
	const char *manufacturer = req_query(r, "manufacturer");
	const char *category = req_query(r, "category");
	if (manufacturer && !printable(manufacturer, 100)) {
		bad_query(r, "manufacturer", "must be 1 to 100 characters");
		return;
	}
	if (category && !util_is_uuid(category)) {
		bad_query(r, "category", "must be a category id (UUID)");
		return;
	}
	struct db_conn *c = req_db_or_reply(r, DB_CATALOG, r->params[0]);
	char *json;
	if (c == NULL)
		return;
	if (catalog_stencils(c, manufacturer, category, &r->arena, &json) != ST_OK) {
		reply_db_failed(r, DB_CATALOG);
		return;
	}
	json_t *page = req_own_json(r, json_loads(json, 0, NULL));
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(page, "data"), i, e) {
		char exp[32];
		char *url = catalog_sas(json_string_value(json_object_get(e, "container")),
					json_string_value(json_object_get(e, "blob_name")), "r",
					READ_SAS_SECONDS, exp);
		json_object_set_new(e, "download",
				    url ? json_pack("{s:s, s:s}", "url", url, "expires_at", exp)
					: json_null());
		free(url);
	}
	reply_json(r, 200, json_incref(page));
}

/* ---- cable plans ----------------------------------------------------------- */

static void create_cable_plan(struct request *r)
{
	struct cp_request *rq = arena_alloc(&r->arena, sizeof(*rq));
	char field[128];
	const char *msg = cp_request_parse(r->json, rq, field, sizeof(field));
	if (msg) {
		reply_invalid(r, field, msg);
		return;
	}
	struct db_conn *c = req_db_or_reply(r, DB_CATALOG, r->params[0]);
	if (c == NULL)
		return;
	const char **ids = arena_alloc(&r->arena, sizeof(char *) * (size_t)rq->n_bom);
	char **attrs = arena_alloc(&r->arena, sizeof(char *) * (size_t)rq->n_bom);
	for (int i = 0; i < rq->n_bom; i++)
		ids[i] = rq->bom[i].product_id;
	if (catalog_product_attributes(c, rq->n_bom, ids, &r->arena, attrs) != ST_OK) {
		reply_db_failed(r, DB_CATALOG);
		return;
	}
	struct cp_attrs *pa = arena_alloc(&r->arena, sizeof(*pa) * (size_t)rq->n_bom);
	for (int i = 0; i < rq->n_bom; i++) {
		json_t *j = attrs[i] ? req_own_json(r, json_loads(attrs[i], 0, NULL)) : NULL;
		if (j == NULL || cp_attrs_parse(j, &pa[i], field, sizeof(field)) != NULL) {
			reply_invalid(r, arena_printf(&r->arena, "bom[%d].product_id", i),
				      "is not a product of this tenant's catalog");
			return;
		}
	}
	struct cp_result *res = arena_alloc(&r->arena, sizeof(*res));
	cp_plan(rq, pa, res);
	reply_json(r, 200, cp_result_json(rq, pa, res));
}

#define T "/v1/tenants/{tenant_id}/catalog"
#define ADMIN ROLE_TENANT_ADMIN
const struct route catalog_routes[] = {
	{HTTP_GET, T "/categories", list_categories, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.categories.list"},
	{HTTP_POST, T "/categories", create_category, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.categories.create"},
	{HTTP_GET, T "/categories/{id}", get_category, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.categories.get"},
	{HTTP_PATCH, T "/categories/{id}", update_category, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.categories.update"},
	{HTTP_DELETE, T "/categories/{id}", delete_category, AUTH_REQUIRED, ADMIN, BODY_NONE, "catalog.categories.delete"},

	{HTTP_GET, T "/products", list_items, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.products.list"},
	{HTTP_POST, T "/products", create_item, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.products.create"},
	{HTTP_GET, T "/products/{id}", get_item, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.products.get"},
	{HTTP_PATCH, T "/products/{id}", update_item, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.products.update"},
	{HTTP_DELETE, T "/products/{id}", delete_item, AUTH_REQUIRED, ADMIN, BODY_NONE, "catalog.products.delete"},
	{HTTP_PUT, T "/products/{id}/price-override", put_override, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.products.override.put"},
	{HTTP_DELETE, T "/products/{id}/price-override", delete_override, AUTH_REQUIRED, ADMIN, BODY_NONE, "catalog.products.override.delete"},
	{HTTP_GET, T "/products/{id}/relationships", list_relationships, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.products.relationships.list"},
	{HTTP_POST, T "/products/{id}/relationships", create_relationship, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.products.relationships.create"},
	{HTTP_DELETE, T "/products/{id}/relationships/{rel_id}", delete_relationship, AUTH_REQUIRED, ADMIN, BODY_NONE, "catalog.products.relationships.delete"},

	{HTTP_GET, T "/services", list_items, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.services.list"},
	{HTTP_POST, T "/services", create_item, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.services.create"},
	{HTTP_GET, T "/services/{id}", get_item, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.services.get"},
	{HTTP_PATCH, T "/services/{id}", update_item, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.services.update"},
	{HTTP_DELETE, T "/services/{id}", delete_item, AUTH_REQUIRED, ADMIN, BODY_NONE, "catalog.services.delete"},
	{HTTP_GET, T "/services/{id}/relationships", list_relationships, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.services.relationships.list"},
	{HTTP_POST, T "/services/{id}/relationships", create_relationship, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.services.relationships.create"},
	{HTTP_DELETE, T "/services/{id}/relationships/{rel_id}", delete_relationship, AUTH_REQUIRED, ADMIN, BODY_NONE, "catalog.services.relationships.delete"},

	{HTTP_POST, T "/products/{id}/media", create_media, AUTH_REQUIRED, ADMIN, BODY_JSON, "catalog.products.media.create"},
	{HTTP_GET, T "/products/{id}/media", list_media, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.products.media.list"},
	{HTTP_GET, T "/media/{media_id}", get_media, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.media.get"},
	{HTTP_DELETE, T "/media/{media_id}", delete_media, AUTH_REQUIRED, ADMIN, BODY_NONE, "catalog.media.delete"},
	{HTTP_POST, T "/media/{media_id}/confirm", confirm_media, AUTH_REQUIRED, ADMIN, BODY_NONE, "catalog.media.confirm"},
	{HTTP_GET, T "/stencils", list_stencils, AUTH_REQUIRED, ROLE_ANY, BODY_NONE, "catalog.stencils.list"},

	{HTTP_POST, T "/cable-plans", create_cable_plan, AUTH_REQUIRED, ROLE_ANY, BODY_JSON, "catalog.cable_plans.create"},
};
const size_t catalog_routes_len = sizeof(catalog_routes) / sizeof(catalog_routes[0]);

const struct body_table catalog_bodies[] = {
	{"catalog.products.create", product_fields, NFIELDS(product_fields), 0},
	{"catalog.services.create", service_fields, NFIELDS(service_fields), 0},
	{"catalog.categories.create", category_fields, NFIELDS(category_fields), 0},
	{"catalog.relationships.create", relationship_fields, NFIELDS(relationship_fields), 0},
	{"catalog.products.override.put", override_fields, NFIELDS(override_fields), 0},
	{"catalog.products.media.create", media_fields, NFIELDS(media_fields), 0},
};
const size_t catalog_bodies_len = sizeof(catalog_bodies) / sizeof(catalog_bodies[0]);
