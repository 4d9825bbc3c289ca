/*
 * catalog.h - the product and service catalog (catalog_db): categories (a
 * tree), items (products and services), tenant price overrides,
 * relationships between items and media records.
 *
 * Scope: a row with no tenant is the platform's global catalog; a row with
 * a tenant is that tenant's private one. Functions take a connection leased
 * and scoped by the caller: reads on the path's tenant (they then see the
 * global rows and that tenant's), writes of a global row on "*" (super
 * admins only; the caller checks the role) and writes of a tenant's row on
 * that tenant. Row-level security and catalog_ref_check() in the migration
 * refuse whatever the scope may not touch, whatever the caller checked.
 *
 * `owner` parameters name the scope a write is for: "" for the global
 * catalog, else the tenant id. JSON is built by PostgreSQL and copied into
 * the caller's arena. Never builds HTTP replies.
 */
#ifndef ATRIUM_CATALOG_H
#define ATRIUM_CATALOG_H

#include <stdbool.h>

#include "server/common/util.h"
#include "server/store/db.h"
#include "server/store/page.h"
#include "server/store/status.h"

/* One row: its JSON, version, owner ("" global) and strong ETag value
 * (without quotes; changes with the row and with the scope's price
 * override). On ST_INVALID/ST_CONFLICT `field` names the culprit when the
 * database said which (else NULL). Strings in the arena. */
struct cat_out {
	char *json;
	long long version;
	char owner[37];
	char id[37];
	char *etag;
	const char *field;
};

/* Registers catalog_db's statements; before db_start(). */
void catalog_register(void);

/* {"data": [category...]} in tree order (each with its depth). */
enum status catalog_categories(struct db_conn *c, struct arena *ar, char **json);
enum status catalog_category_get(struct db_conn *c, const char *id, struct arena *ar,
				 struct cat_out *out);
/* body: the validated request body as JSON text (slug, name, parent_id). */
enum status catalog_category_create(struct db_conn *c, const char *owner, const char *body,
				    struct arena *ar, struct cat_out *out);
/* Changes the fields present in body; ST_NOT_FOUND when the row is gone or
 * not of `owner`, ST_INVALID for a cycle (field "parent_id"). */
enum status catalog_category_update(struct db_conn *c, const char *id, const char *owner,
				    const char *body, struct arena *ar, struct cat_out *out);
/* ST_CONFLICT while it has subcategories or items. */
enum status catalog_category_delete(struct db_conn *c, const char *id, const char *owner);

/* kind: "product" or "service". */
enum status catalog_item_get(struct db_conn *c, const char *kind, const char *id,
			     struct arena *ar, struct cat_out *out);
enum status catalog_item_create(struct db_conn *c, const char *kind, const char *owner,
				const char *body, struct arena *ar, struct cat_out *out);
/* Changes the fields present in body when the row is still at `version`
 * (ST_PRECONDITION when it moved on, ST_NOT_FOUND when gone). */
enum status catalog_item_update(struct db_conn *c, const char *kind, const char *id,
				const char *owner, long long version, const char *body,
				struct arena *ar, struct cat_out *out);
/* ST_CONFLICT while it has media. */
enum status catalog_item_delete(struct db_conn *c, const char *kind, const char *id,
				const char *owner);

struct cat_filter {
	const char *kind;
	const char *q, *category, *manufacturer, *status, *currency, *min, *max; /* NULL: any */
	struct page_cursor cursor;
	int limit;
};
/* {"data": [...], "next_cursor"} newest first. */
enum status catalog_items_list(struct db_conn *c, const struct cat_filter *f, struct arena *ar,
			       char **page);
/*
 * The same selection, every row (no pages), as CSV with a header line,
 * each field quoted by PostgreSQL (csv_field()), streamed: open() takes a
 * catalog_db connection of its own (db_acquire_stream) scoped to `tenant`
 * and opens a cursor (ST_INVALID for a search PostgreSQL cannot read,
 * ST_BUSY when as many exports as allowed are running, ST_UNAVAILABLE when
 * the database cannot); read() fills buf with up to max bytes and returns their
 * number, 0 at the end, -1 when a fetch failed part way; close() returns
 * the connection.
 */
struct catalog_csv;
enum status catalog_csv_open(const char *tenant, const struct cat_filter *f, struct catalog_csv **out);
long catalog_csv_read(void *state, char *buf, size_t max);
void catalog_csv_close(void *state);

/* The scope tenant's price of an item it sees; ST_INVALID (field
 * "currency") when the currency is not the item's. */
enum status catalog_override_put(struct db_conn *c, const char *tenant, const char *item_id,
				 const char *amount_minor, const char *currency);
enum status catalog_override_delete(struct db_conn *c, const char *tenant, const char *item_id);

/* body: to_item_id, type, quantity. ST_CONFLICT when it exists already,
 * ST_INVALID (field) for an item not visible or a self-relation. */
enum status catalog_relationship_create(struct db_conn *c, const char *owner, const char *from,
					const char *body, struct arena *ar, struct cat_out *out);
/* {"data": [...]} the relationships from and to an item, each with the
 * other item's sku, name and kind. */
enum status catalog_relationships(struct db_conn *c, const char *item_id, struct arena *ar,
				  char **json);
/* The relationship's owner ("" global) into owner[37]. */
enum status catalog_relationship_owner(struct db_conn *c, const char *item_id, const char *id,
				       char owner[37]);
enum status catalog_relationship_delete(struct db_conn *c, const char *item_id, const char *id,
					const char *owner);

/* Attributes (JSON text, arena) of the products among ids[0..n) the scope
 * sees; attrs[i] NULL when ids[i] is not such a product. */
enum status catalog_product_attributes(struct db_conn *c, int n, const char *const *ids,
				       struct arena *ar, char **attrs);

/* ---- media in Blob Storage ---- */

/*
 * Signs a service SAS URL for one blob (perms "cw" or "r", valid ttl_s
 * seconds; expires_at gets the expiry): heap, NULL when storage is not
 * configured. main.c wires server/outbound's blob_sas_url() here, so
 * handlers sign without reaching the outbound floor (no network: an
 * HMAC with the account key).
 */
typedef char *(*catalog_sas_fn)(const char *container, const char *blob, const char *perms,
				long ttl_s, char expires_at[32]);
void catalog_set_sas(catalog_sas_fn fn);
char *catalog_sas(const char *container, const char *blob, const char *perms, long ttl_s,
		  char expires_at[32]);

/* Job kinds working on media (workers/catalog_jobs.c), payload
 * {"media_id"}: read the uploaded blob and check it, or delete it. */
#define CATALOG_MEDIA_VERIFY "catalog.media.verify"
#define CATALOG_MEDIA_DELETE "catalog.media.delete"

struct cat_media {
	char *json;              /* media_json, arena */
	char id[37], item_id[37], owner[37];
	char status[16];
	char container[32];
	char blob_name[128];
	char content_type[128];
	char sha256[65];
	long long size;
};

/* body: kind, content_type, size, sha256, file_name; container and blob
 * name chosen by the caller. */
enum status catalog_media_create(struct db_conn *c, const char *owner, const char *id,
				 const char *item_id, const char *container, const char *blob_name,
				 const char *body, struct arena *ar, struct cat_media *out);
/* By id (the scope's visible media), NULL item_id: any item. */
enum status catalog_media_get(struct db_conn *c, const char *id, struct arena *ar,
			      struct cat_media *out);
/* {"data": [media...]} of an item, oldest first. */
enum status catalog_media_list(struct db_conn *c, const char *item_id, struct arena *ar,
			       char **json);
/* Moves a medium from one of `from` ("pending,verifying") to `to`, with
 * error (may be NULL). ST_NOT_FOUND when it is not in one of those. */
enum status catalog_media_move(struct db_conn *c, const char *id, const char *from, const char *to,
			       const char *error, struct arena *ar, struct cat_media *out);
/* Deletes the row of a medium being deleted (after its blob). */
enum status catalog_media_forget(struct db_conn *c, const char *id);
/* Ready stencils with their product's sku, name, manufacturer and category,
 * filtered (NULL: any): {"data": [...]} ordered by manufacturer, sku. */
enum status catalog_stencils(struct db_conn *c, const char *manufacturer, const char *category,
			     struct arena *ar, char **json);

#endif
