/*
 * catalog.c - catalog_db statements. See catalog.h.
 *
 * Request bodies reach PostgreSQL as one jsonb parameter, already checked
 * field by field by the handler; a statement reads the keys it knows
 * (`b ? 'name'` for "present in a PATCH"), so no SQL is ever built from
 * strings. Changes are audited in portal_db after the commit by the
 * handler (best effort), as for betting_db and billing_db.
 */
#include "services/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_ROW \
	"item_json(i)::text, i.version, COALESCE(i.tenant_id::text, ''), item_etag(i), i.id::text"
#define CAT_ROW \
	"category_json(c)::text, c.version, COALESCE(c.tenant_id::text, ''), c.version::text, " \
	"c.id::text"

#define MEDIA_ROW \
	"media_json(m)::text, m.id::text, m.item_id::text, COALESCE(m.tenant_id::text, ''), " \
	"m.status, m.container, m.blob_name, m.content_type, m.sha256, m.size_bytes"

/* The list filters, $1..$8 of catalog_search(). */
#define SEARCH_ARGS "$1, $2, $3::uuid, $4, $5, $6, $7::bigint, $8::bigint"

static const struct db_stmt stmts[] = {
	/* ---- categories ---- */
	{"cat_categories",
	 "WITH RECURSIVE t(c, path, depth) AS ("
	 "  SELECT c, ARRAY[lower(c.name), c.id::text], 0 FROM categories c WHERE c.parent_id IS NULL "
	 "  UNION ALL "
	 "  SELECT ch, t.path || ARRAY[lower(ch.name), ch.id::text], t.depth + 1 "
	 "    FROM categories ch JOIN t ON ch.parent_id = (t.c).id) "
	 "SELECT json_build_object('data', COALESCE(json_agg("
	 "  (category_json(t.c)::jsonb || jsonb_build_object('depth', t.depth)) ORDER BY t.path), "
	 "  '[]'::json))::text FROM t"},
	{"cat_category_get", "SELECT " CAT_ROW " FROM categories c WHERE c.id = $1::uuid"},
	{"cat_category_create",
	 "INSERT INTO categories AS c (tenant_id, parent_id, slug, name) "
	 "SELECT NULLIF($1, '')::uuid, (b->>'parent_id')::uuid, b->>'slug', b->>'name' "
	 "  FROM (SELECT $2::jsonb AS b) x "
	 "RETURNING " CAT_ROW},
	{"cat_category_update",
	 "UPDATE categories c SET "
	 "  slug = CASE WHEN b ? 'slug' THEN b->>'slug' ELSE c.slug END, "
	 "  name = CASE WHEN b ? 'name' THEN b->>'name' ELSE c.name END, "
	 "  parent_id = CASE WHEN b ? 'parent_id' THEN (b->>'parent_id')::uuid ELSE c.parent_id END, "
	 "  version = c.version + 1, updated_at = now() "
	 "FROM (SELECT $3::jsonb AS b) x "
	 "WHERE c.id = $1::uuid AND c.tenant_id IS NOT DISTINCT FROM NULLIF($2, '')::uuid "
	 "RETURNING " CAT_ROW},
	{"cat_category_delete",
	 "DELETE FROM categories c WHERE c.id = $1::uuid "
	 "  AND c.tenant_id IS NOT DISTINCT FROM NULLIF($2, '')::uuid RETURNING c.id"},

	/* ---- items ---- */
	{"cat_item_get", "SELECT " ITEM_ROW " FROM items i WHERE i.id = $1::uuid AND i.kind = $2"},
	{"cat_item_create",
	 "INSERT INTO items AS i (tenant_id, kind, sku, name, description, category_id, manufacturer, "
	 "  model, unit_price_minor, currency, status, attributes, billing, unit) "
	 "SELECT NULLIF($1, '')::uuid, $2, b->>'sku', b->>'name', COALESCE(b->>'description', ''), "
	 "  (b->>'category_id')::uuid, b->>'manufacturer', b->>'model', "
	 "  (b->>'unit_price_minor')::bigint, b->>'currency', COALESCE(b->>'status', 'active'), "
	 "  COALESCE(b->'attributes', '{}'::jsonb), b->>'billing', b->>'unit' "
	 "FROM (SELECT $3::jsonb AS b) x "
	 "RETURNING " ITEM_ROW},
	{"cat_item_update",
	 "UPDATE items i SET "
	 "  sku = CASE WHEN b ? 'sku' THEN b->>'sku' ELSE i.sku END, "
	 "  name = CASE WHEN b ? 'name' THEN b->>'name' ELSE i.name END, "
	 "  description = CASE WHEN b ? 'description' THEN b->>'description' ELSE i.description END, "
	 "  category_id = CASE WHEN b ? 'category_id' THEN (b->>'category_id')::uuid "
	 "                ELSE i.category_id END, "
	 "  manufacturer = CASE WHEN b ? 'manufacturer' THEN b->>'manufacturer' ELSE i.manufacturer END, "
	 "  model = CASE WHEN b ? 'model' THEN b->>'model' ELSE i.model END, "
	 "  unit_price_minor = CASE WHEN b ? 'unit_price_minor' THEN (b->>'unit_price_minor')::bigint "
	 "                     ELSE i.unit_price_minor END, "
	 "  currency = CASE WHEN b ? 'currency' THEN b->>'currency' ELSE i.currency END, "
	 "  status = CASE WHEN b ? 'status' THEN b->>'status' ELSE i.status END, "
	 "  attributes = CASE WHEN b ? 'attributes' THEN b->'attributes' ELSE i.attributes END, "
	 "  billing = CASE WHEN b ? 'billing' THEN b->>'billing' ELSE i.billing END, "
	 "  unit = CASE WHEN b ? 'unit' THEN b->>'unit' ELSE i.unit END, "
	 "  version = i.version + 1, updated_at = now() "
	 "FROM (SELECT $5::jsonb AS b) x "
	 "WHERE i.id = $1::uuid AND i.kind = $2 "
	 "  AND i.tenant_id IS NOT DISTINCT FROM NULLIF($3, '')::uuid AND i.version = $4::bigint "
	 "RETURNING " ITEM_ROW},
	{"cat_item_delete",
	 "DELETE FROM items i WHERE i.id = $1::uuid AND i.kind = $2 "
	 "  AND i.tenant_id IS NOT DISTINCT FROM NULLIF($3, '')::uuid RETURNING i.id"},
	{"cat_items_list",
	 "SELECT item_json(i)::text, "
	 "  ((extract(epoch FROM i.created_at) * 1000000)::bigint)::text || '|' || i.id::text "
	 "FROM catalog_search(" SEARCH_ARGS ") i "
	 "WHERE ($9::bigint IS NULL OR (i.created_at, i.id) < "
	 "       ('epoch'::timestamptz + $9::bigint * interval '1 microsecond', $10::uuid)) "
	 "ORDER BY i.created_at DESC, i.id DESC LIMIT $11::int"},
	/* ---- price overrides ---- */
	{"cat_override_put",
	 "INSERT INTO price_overrides (tenant_id, item_id, unit_price_minor, currency) "
	 "SELECT $1::uuid, i.id, $3::bigint, $4 FROM items i "
	 "  WHERE i.id = $2::uuid AND i.kind = 'product' "
	 "ON CONFLICT (tenant_id, item_id) DO UPDATE SET unit_price_minor = EXCLUDED.unit_price_minor, "
	 "  currency = EXCLUDED.currency, updated_at = now() "
	 "RETURNING (SELECT currency FROM items WHERE id = $2::uuid) = $4"},
	{"cat_override_delete",
	 "DELETE FROM price_overrides WHERE tenant_id = $1::uuid AND item_id = $2::uuid RETURNING item_id"},

	/* ---- relationships ---- */
	{"cat_rel_create",
	 "INSERT INTO relationships AS r (tenant_id, from_item_id, to_item_id, type, quantity) "
	 "SELECT NULLIF($1, '')::uuid, $2::uuid, (b->>'to_item_id')::uuid, b->>'type', "
	 "  COALESCE((b->>'quantity')::int, 1) FROM (SELECT $3::jsonb AS b) x "
	 "RETURNING relationship_json(r)::text, 1, COALESCE(r.tenant_id::text, ''), '1', r.id::text"},
	{"cat_rels",
	 "SELECT json_build_object('data', COALESCE(json_agg("
	 "  relationship_json(r)::jsonb || jsonb_build_object("
	 "    'direction', CASE WHEN r.from_item_id = $1::uuid THEN 'outgoing' ELSE 'incoming' END, "
	 "    'other', jsonb_build_object('id', o.id, 'kind', o.kind, 'sku', o.sku, 'name', o.name)) "
	 "  ORDER BY r.created_at, r.id), '[]'::json))::text "
	 "FROM relationships r JOIN items o "
	 "  ON o.id = CASE WHEN r.from_item_id = $1::uuid THEN r.to_item_id ELSE r.from_item_id END "
	 "WHERE r.from_item_id = $1::uuid OR r.to_item_id = $1::uuid"},
	{"cat_rel_owner",
	 "SELECT COALESCE(tenant_id::text, '') FROM relationships "
	 "WHERE id = $2::uuid AND (from_item_id = $1::uuid OR to_item_id = $1::uuid)"},
	{"cat_rel_delete",
	 "DELETE FROM relationships WHERE id = $2::uuid "
	 "  AND (from_item_id = $1::uuid OR to_item_id = $1::uuid) "
	 "  AND tenant_id IS NOT DISTINCT FROM NULLIF($3, '')::uuid RETURNING id"},

	/* ---- media ---- */
	{"cat_media_create",
	 "INSERT INTO media AS m (id, tenant_id, item_id, kind, container, blob_name, content_type, "
	 "  size_bytes, sha256, file_name) "
	 "SELECT $2::uuid, NULLIF($1, '')::uuid, $3::uuid, b->>'kind', $4, $5, b->>'content_type', "
	 "  (b->>'size')::bigint, lower(b->>'sha256'), b->>'file_name' "
	 "FROM (SELECT $6::jsonb AS b) x "
	 "RETURNING " MEDIA_ROW},
	{"cat_media_get", "SELECT " MEDIA_ROW " FROM media m WHERE m.id = $1::uuid"},
	{"cat_media_list",
	 "SELECT json_build_object('data', COALESCE(json_agg(media_json(m) ORDER BY m.created_at, m.id), "
	 "  '[]'::json))::text FROM media m WHERE m.item_id = $1::uuid"},
	{"cat_media_move",
	 "UPDATE media m SET status = $3, error = $4, updated_at = now() "
	 "WHERE m.id = $1::uuid AND m.status = ANY(string_to_array($2, ',')) "
	 "RETURNING " MEDIA_ROW},
	{"cat_media_forget", "DELETE FROM media WHERE id = $1::uuid AND status = 'deleting' RETURNING id"},
	{"cat_stencils",
	 "SELECT json_build_object('data', COALESCE(json_agg(media_json(m)::jsonb || jsonb_build_object("
	 "  'product', jsonb_build_object('id', i.id, 'sku', i.sku, 'name', i.name, "
	 "    'manufacturer', i.manufacturer, 'category_id', i.category_id)) "
	 "  ORDER BY lower(i.manufacturer), i.sku, m.created_at), '[]'::json))::text "
	 "FROM media m JOIN items i ON i.id = m.item_id "
	 "WHERE m.kind = 'stencil' AND m.status = 'ready' "
	 "  AND ($1::text IS NULL OR lower(i.manufacturer) = lower($1)) "
	 "  AND ($2::uuid IS NULL OR i.category_id IN ("
	 "       WITH RECURSIVE sub(id) AS (SELECT $2::uuid "
	 "         UNION SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id) "
	 "       SELECT id FROM sub))"},

	/* ---- cable plans ---- */
	{"cat_product_attrs",
	 "SELECT u.id::text, i.attributes::text FROM unnest($1::uuid[]) WITH ORDINALITY u(id, n) "
	 "LEFT JOIN items i ON i.id = u.id AND i.kind = 'product' ORDER BY u.n"},
};

void catalog_register(void)
{
	db_register(DB_CATALOG, stmts, sizeof(stmts) / sizeof(stmts[0]));
}

/* The status of a failed statement; `field` (arena) the column or
 * constraint PostgreSQL named, when it did. */
static enum status failed(PGresult *res, struct arena *ar, const char **field)
{
	if (res == NULL)
		return ST_UNAVAILABLE;
	const char *s = db_sqlstate(res);
	const char *col = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
	const char *con = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	if (field && ar)
		*field = col ? arena_strdup(ar, col) : con ? arena_strdup(ar, con) : NULL;
	if (strcmp(s, "23505") == 0)
		return ST_CONFLICT;
	/* 23503: a reference to nothing the scope sees (catalog_ref_check or
	 * a foreign key); 23514/23502/22xxx: a value the schema refuses. */
	if (strcmp(s, "23503") == 0 || strcmp(s, "23514") == 0 || strcmp(s, "23502") == 0 ||
	    strncmp(s, "22", 2) == 0)
		return ST_INVALID;
	return ST_UNAVAILABLE;
}

/* One (json, version, owner, etag, id) row into out, or ST_NOT_FOUND. */
static enum status one_row(struct db_conn *c, const char *stmt, int n, const char *const *v,
			   struct arena *ar, struct cat_out *out)
{
	memset(out, 0, sizeof(*out));
	PGresult *res = db_exec(c, stmt, n, v);
	enum status st;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK) {
			out->json = arena_strdup(ar, PQgetvalue(res, 0, 0));
			out->version = atoll(PQgetvalue(res, 0, 1));
			snprintf(out->owner, sizeof(out->owner), "%s", PQgetvalue(res, 0, 2));
			out->etag = arena_strdup(ar, PQgetvalue(res, 0, 3));
			snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 4));
		}
	} else {
		st = failed(res, ar, &out->field);
	}
	PQclear(res);
	return st;
}

/* A statement returning one text cell, copied to *text (arena). */
static enum status one_text(struct db_conn *c, const char *stmt, int n, const char *const *v,
			    struct arena *ar, char **text)
{
	PGresult *res = db_exec(c, stmt, n, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == 1) {
		*text = arena_strdup(ar, PQgetvalue(res, 0, 0));
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

/* A DELETE ... RETURNING: ST_OK when a row went, ST_NOT_FOUND when none,
 * ST_CONFLICT when something still refers to it. */
static enum status delete_one(struct db_conn *c, const char *stmt, int n, const char *const *v)
{
	PGresult *res = db_exec(c, stmt, n, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res))
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
	else if (res && strcmp(db_sqlstate(res), "23503") == 0)
		st = ST_CONFLICT;
	PQclear(res);
	return st;
}

enum status catalog_categories(struct db_conn *c, struct arena *ar, char **json)
{
	return one_text(c, "cat_categories", 0, NULL, ar, json);
}

enum status catalog_category_get(struct db_conn *c, const char *id, struct arena *ar,
				 struct cat_out *out)
{
	const char *v[] = {id};
	return one_row(c, "cat_category_get", 1, v, ar, out);
}

enum status catalog_category_create(struct db_conn *c, const char *owner, const char *body,
				    struct arena *ar, struct cat_out *out)
{
	const char *v[] = {owner, body};
	return one_row(c, "cat_category_create", 2, v, ar, out);
}

enum status catalog_category_update(struct db_conn *c, const char *id, const char *owner,
				    const char *body, struct arena *ar, struct cat_out *out)
{
	const char *v[] = {id, owner, body};
	enum status st = one_row(c, "cat_category_update", 3, v, ar, out);
	if (st == ST_INVALID && out->field && strcmp(out->field, "categories_no_cycle") == 0)
		out->field = "parent_id";
	return st;
}

enum status catalog_category_delete(struct db_conn *c, const char *id, const char *owner)
{
	const char *v[] = {id, owner};
	return delete_one(c, "cat_category_delete", 2, v);
}

enum status catalog_item_get(struct db_conn *c, const char *kind, const char *id,
			     struct arena *ar, struct cat_out *out)
{
	const char *v[] = {id, kind};
	return one_row(c, "cat_item_get", 2, v, ar, out);
}

enum status catalog_item_create(struct db_conn *c, const char *kind, const char *owner,
				const char *body, struct arena *ar, struct cat_out *out)
{
	const char *v[] = {owner, kind, body};
	return one_row(c, "cat_item_create", 3, v, ar, out);
}

enum status catalog_item_update(struct db_conn *c, const char *kind, const char *id,
				const char *owner, long long version, const char *body,
				struct arena *ar, struct cat_out *out)
{
	char ver[24];
	snprintf(ver, sizeof(ver), "%lld", version);
	const char *v[] = {id, kind, owner, ver, body};
	enum status st = one_row(c, "cat_item_update", 5, v, ar, out);
	/* Seen a moment ago, gone or changed now: the version moved on (or
	 * the row went; the caller's next read says which). */
	return st == ST_NOT_FOUND ? ST_PRECONDITION : st;
}

enum status catalog_item_delete(struct db_conn *c, const char *kind, const char *id,
				const char *owner)
{
	const char *v[] = {id, kind, owner};
	return delete_one(c, "cat_item_delete", 3, v);
}

enum status catalog_items_list(struct db_conn *c, const struct cat_filter *f, struct arena *ar,
			       char **page)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", f->limit + 1);
	const char *v[] = {f->kind, f->q, f->category, f->manufacturer, f->status, f->currency,
			   f->min, f->max, f->cursor.present ? f->cursor.us : NULL,
			   f->cursor.present ? f->cursor.id : NULL, lim};
	PGresult *res = db_exec(c, "cat_items_list", 11, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		*page = page_json(res, f->limit, ar);
		st = ST_OK;
	} else if (res && strncmp(db_sqlstate(res), "22", 2) == 0) {
		st = ST_INVALID;
	}
	PQclear(res);
	return st;
}

/* The header line of the items' CSV, then one line a row of the cursor. */
static const char items_csv_header[] =
	"id,kind,scope,sku,name,manufacturer,model,status,category_id,description,"
	"list_price_minor,price_minor,currency\r\n";
static const char items_csv_cursor[] =
	"DECLARE items_csv NO SCROLL CURSOR FOR "
	"SELECT concat_ws(',', "
	"  csv_field(j->>'id'), csv_field(j->>'kind'), csv_field(j->>'scope'), csv_field(j->>'sku'), "
	"  csv_field(j->>'name'), csv_field(j->>'manufacturer'), csv_field(j->>'model'), "
	"  csv_field(j->>'status'), csv_field(j->>'category_id'), csv_field(j->>'description'), "
	"  csv_field(j#>>'{list_price,amount_minor}'), csv_field(j#>>'{price,amount_minor}'), "
	"  csv_field(j#>>'{price,currency}')) || E'\\r\\n' "
	"FROM (SELECT item_json(i)::jsonb AS j, i.created_at, i.id "
	"      FROM catalog_search(" SEARCH_ARGS ") i) s "
	"ORDER BY s.created_at DESC, s.id DESC";
#define ITEMS_CSV_FETCH "FETCH 500 FROM items_csv"

/* An export being streamed: its own connection with the cursor open, the
 * rows fetched last and where in them the next byte is. */
struct catalog_csv {
	struct db_conn *c;
	PGresult *rows;
	int row, off;
	size_t header_off;
	bool ended, failed;
};

enum status catalog_csv_open(const char *tenant, const struct cat_filter *f, struct catalog_csv **out)
{
	*out = NULL;
	bool busy;
	struct db_conn *c = db_acquire_stream(DB_CATALOG, &busy);
	if (c == NULL)
		return busy ? ST_BUSY : ST_UNAVAILABLE;
	if (!db_scope(c, tenant) || !db_begin(c)) {
		db_release(c);
		return ST_UNAVAILABLE;
	}
	const char *v[] = {f->kind, f->q, f->category, f->manufacturer, f->status, f->currency,
			   f->min, f->max};
	PGresult *res = PQexecParams(db_pg(c), items_csv_cursor, 8, NULL, v, NULL, NULL, 0);
	enum status st = PQresultStatus(res) == PGRES_COMMAND_OK ? ST_OK : ST_UNAVAILABLE;
	PQclear(res);
	/* A search PostgreSQL cannot read fails at the first fetch: fetched
	 * now, so it is a 400 and not a cut body. */
	PGresult *first = st == ST_OK ? PQexec(db_pg(c), ITEMS_CSV_FETCH) : NULL;
	if (st == ST_OK && PQresultStatus(first) != PGRES_TUPLES_OK) {
		const char *code = PQresultErrorField(first, PG_DIAG_SQLSTATE);
		st = code && strncmp(code, "22", 2) == 0 ? ST_INVALID : ST_UNAVAILABLE;
	}
	if (st != ST_OK) {
		PQclear(first);
		db_release(c);
		return st;
	}
	struct catalog_csv *s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->rows = first;
	*out = s;
	return ST_OK;
}

long catalog_csv_read(void *state, char *buf, size_t max)
{
	struct catalog_csv *s = state;
	size_t n = 0;
	while (n < max && s->header_off < sizeof(items_csv_header) - 1) {
		size_t take = sizeof(items_csv_header) - 1 - s->header_off;
		if (take > max - n)
			take = max - n;
		memcpy(buf + n, items_csv_header + s->header_off, take);
		n += take;
		s->header_off += take;
	}
	while (n < max && !s->ended) {
		if (s->row == PQntuples(s->rows)) {
			bool last = PQntuples(s->rows) == 0;
			PQclear(s->rows);
			s->rows = last ? NULL : PQexec(db_pg(s->c), ITEMS_CSV_FETCH);
			s->row = s->off = 0;
			if (last || PQresultStatus(s->rows) != PGRES_TUPLES_OK) {
				s->failed = !last;
				s->ended = true;
			}
			continue;
		}
		const char *line = PQgetvalue(s->rows, s->row, 0);
		size_t len = (size_t)PQgetlength(s->rows, s->row, 0), take = len - (size_t)s->off;
		if (take > max - n)
			take = max - n;
		memcpy(buf + n, line + s->off, take);
		n += take;
		s->off += (int)take;
		if ((size_t)s->off == len) {
			s->row++;
			s->off = 0;
		}
	}
	if (n > 0)
		return (long)n;
	return s->failed ? -1 : 0;
}

void catalog_csv_close(void *state)
{
	struct catalog_csv *s = state;
	PQclear(s->rows);
	db_release(s->c); /* rolled back: the cursor goes with the transaction */
	free(s);
}

enum status catalog_override_put(struct db_conn *c, const char *tenant, const char *item_id,
				 const char *amount_minor, const char *currency)
{
	/* In a transaction so a currency that is not the item's changes
	 * nothing. */
	if (!db_begin(c))
		return ST_UNAVAILABLE;
	const char *v[] = {tenant, item_id, amount_minor, currency};
	PGresult *res = db_exec(c, "cat_override_put", 4, v);
	enum status st;
	if (db_ok(res))
		st = PQntuples(res) == 0 ? ST_NOT_FOUND
		     : strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? ST_OK : ST_INVALID;
	else
		st = failed(res, NULL, NULL);
	PQclear(res);
	if (st != ST_OK || !db_commit(c)) {
		db_rollback(c);
		return st == ST_OK ? ST_UNAVAILABLE : st;
	}
	return ST_OK;
}

enum status catalog_override_delete(struct db_conn *c, const char *tenant, const char *item_id)
{
	const char *v[] = {tenant, item_id};
	return delete_one(c, "cat_override_delete", 2, v);
}

enum status catalog_relationship_create(struct db_conn *c, const char *owner, const char *from,
					const char *body, struct arena *ar, struct cat_out *out)
{
	const char *v[] = {owner, from, body};
	return one_row(c, "cat_rel_create", 3, v, ar, out);
}

enum status catalog_relationships(struct db_conn *c, const char *item_id, struct arena *ar,
				  char **json)
{
	const char *v[] = {item_id};
	return one_text(c, "cat_rels", 1, v, ar, json);
}

enum status catalog_relationship_owner(struct db_conn *c, const char *item_id, const char *id,
				       char owner[37])
{
	const char *v[] = {item_id, id};
	PGresult *res = db_exec(c, "cat_rel_owner", 2, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK)
			snprintf(owner, 37, "%s", PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return st;
}

enum status catalog_relationship_delete(struct db_conn *c, const char *item_id, const char *id,
					const char *owner)
{
	const char *v[] = {item_id, id, owner};
	return delete_one(c, "cat_rel_delete", 3, v);
}

enum status catalog_product_attributes(struct db_conn *c, int n, const char *const *ids,
				       struct arena *ar, char **attrs)
{
	/* {id,id,...}: ids are UUIDs the caller checked, so no quoting. */
	size_t cap = (size_t)n * 37 + 3;
	char *arr = arena_alloc(ar, cap);
	size_t len = 0;
	arr[len++] = '{';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(arr + len, cap - len, "%s%s", i ? "," : "", ids[i]);
	arr[len++] = '}';
	arr[len] = '\0';
	const char *v[] = {arr};
	PGresult *res = db_exec(c, "cat_product_attrs", 1, v);
	enum status st = ST_UNAVAILABLE;
	if (db_ok(res) && PQntuples(res) == n) {
		for (int i = 0; i < n; i++)
			attrs[i] = PQgetisnull(res, i, 1) ? NULL : arena_strdup(ar, PQgetvalue(res, i, 1));
		st = ST_OK;
	}
	PQclear(res);
	return st;
}

/* One MEDIA_ROW into out, or ST_NOT_FOUND. */
static enum status media_row(struct db_conn *c, const char *stmt, int n, const char *const *v,
			     struct arena *ar, struct cat_media *out)
{
	memset(out, 0, sizeof(*out));
	PGresult *res = db_exec(c, stmt, n, v);
	enum status st;
	if (db_ok(res)) {
		st = PQntuples(res) == 1 ? ST_OK : ST_NOT_FOUND;
		if (st == ST_OK) {
			out->json = arena_strdup(ar, PQgetvalue(res, 0, 0));
			snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 1));
			snprintf(out->item_id, sizeof(out->item_id), "%s", PQgetvalue(res, 0, 2));
			snprintf(out->owner, sizeof(out->owner), "%s", PQgetvalue(res, 0, 3));
			snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 4));
			snprintf(out->container, sizeof(out->container), "%s", PQgetvalue(res, 0, 5));
			snprintf(out->blob_name, sizeof(out->blob_name), "%s", PQgetvalue(res, 0, 6));
			snprintf(out->content_type, sizeof(out->content_type), "%s", PQgetvalue(res, 0, 7));
			snprintf(out->sha256, sizeof(out->sha256), "%s", PQgetvalue(res, 0, 8));
			out->size = atoll(PQgetvalue(res, 0, 9));
		}
	} else {
		st = failed(res, NULL, NULL);
	}
	PQclear(res);
	return st;
}

enum status catalog_media_create(struct db_conn *c, const char *owner, const char *id,
				 const char *item_id, const char *container, const char *blob_name,
				 const char *body, struct arena *ar, struct cat_media *out)
{
	const char *v[] = {owner, id, item_id, container, blob_name, body};
	return media_row(c, "cat_media_create", 6, v, ar, out);
}

enum status catalog_media_get(struct db_conn *c, const char *id, struct arena *ar,
			      struct cat_media *out)
{
	const char *v[] = {id};
	return media_row(c, "cat_media_get", 1, v, ar, out);
}

enum status catalog_media_list(struct db_conn *c, const char *item_id, struct arena *ar,
			       char **json)
{
	const char *v[] = {item_id};
	return one_text(c, "cat_media_list", 1, v, ar, json);
}

enum status catalog_media_move(struct db_conn *c, const char *id, const char *from, const char *to,
			       const char *error, struct arena *ar, struct cat_media *out)
{
	const char *v[] = {id, from, to, error};
	return media_row(c, "cat_media_move", 4, v, ar, out);
}

enum status catalog_media_forget(struct db_conn *c, const char *id)
{
	const char *v[] = {id};
	return delete_one(c, "cat_media_forget", 1, v);
}

enum status catalog_stencils(struct db_conn *c, const char *manufacturer, const char *category,
			     struct arena *ar, char **json)
{
	const char *v[] = {manufacturer, category};
	return one_text(c, "cat_stencils", 2, v, ar, json);
}

static catalog_sas_fn sas_fn;

void catalog_set_sas(catalog_sas_fn fn)
{
	sas_fn = fn;
}

char *catalog_sas(const char *container, const char *blob, const char *perms, long ttl_s,
		  char expires_at[32])
{
	return sas_fn ? sas_fn(container, blob, perms, ttl_s, expires_at) : NULL;
}
