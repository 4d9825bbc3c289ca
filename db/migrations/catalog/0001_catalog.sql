-- catalog_db: the product and service catalog (issue 17).
--
-- Scope of every row: tenant_id NULL is the platform's global catalog
-- (written only by super admins, on a connection scoped '*'); tenant_id set
-- is that tenant's private item, category, relationship, price override or
-- media, seen only by that tenant. Row-level security enforces it: a
-- connection scoped to tenant T reads the global rows and T's rows, and
-- writes only T's rows (WITH CHECK), so a tenant can never change the
-- global catalog even if a handler forgot its role check.
--
-- Foreign keys are checked by PostgreSQL without row-level security, so a
-- reference from a scoped row to another row (parent category, item of a
-- relationship, product of an override or medium) is also checked by
-- catalog_ref_check(): the referenced row must be visible to the writer
-- and global or of the same tenant.

-- Idempotency-Key records (server/store/idempotency.c), as in every
-- service database.
CREATE TABLE idempotency_keys (
    scope          text NOT NULL,
    key            text NOT NULL,
    request_hash   text NOT NULL,
    status         integer,
    response_body  text,
    location       text,
    etag           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- RFC 3339 UTC with microseconds, the API's timestamp format.
CREATE FUNCTION rfc3339(ts timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- The key of "global or tenant" uniqueness: NULL tenant maps to the nil UUID.
CREATE FUNCTION catalog_scope_key(t uuid) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(t, '00000000-0000-0000-0000-000000000000'::uuid) $$;

-- The attributes a product may carry, each checked (also checked, with
-- errors per field, by the API: services/cable_plan.c). Unknown keys are
-- refused so a typo never silently drops out of the cable calculation.
--   ports         [{count 1..1024, type rj45|sfp|sfp_plus|sfp28|qsfp28, speed_mbps 1..400000}]
--   poe_budget_w, poe_draw_w, power_w   numbers 0..100000
--   rack_units    integer 0..60
CREATE FUNCTION catalog_attributes_valid(a jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    k text;
    p jsonb;
BEGIN
    IF a IS NULL OR jsonb_typeof(a) <> 'object' THEN
        RETURN false;
    END IF;
    FOR k IN SELECT jsonb_object_keys(a) LOOP
        IF k IN ('poe_budget_w', 'poe_draw_w', 'power_w') THEN
            IF jsonb_typeof(a->k) <> 'number' OR (a->>k)::numeric NOT BETWEEN 0 AND 100000 THEN
                RETURN false;
            END IF;
        ELSIF k = 'rack_units' THEN
            IF jsonb_typeof(a->k) <> 'number' OR (a->>k)::numeric <> trunc((a->>k)::numeric)
               OR (a->>k)::numeric NOT BETWEEN 0 AND 60 THEN
                RETURN false;
            END IF;
        ELSIF k = 'ports' THEN
            IF jsonb_typeof(a->k) <> 'array' OR jsonb_array_length(a->k) NOT BETWEEN 1 AND 32 THEN
                RETURN false;
            END IF;
            FOR p IN SELECT jsonb_array_elements(a->k) LOOP
                IF jsonb_typeof(p) <> 'object'
                   OR EXISTS (SELECT 1 FROM jsonb_object_keys(p) pk
                              WHERE pk NOT IN ('count', 'type', 'speed_mbps'))
                   OR jsonb_typeof(p->'count') IS DISTINCT FROM 'number'
                   OR jsonb_typeof(p->'type') IS DISTINCT FROM 'string'
                   OR jsonb_typeof(p->'speed_mbps') IS DISTINCT FROM 'number' THEN
                    RETURN false;
                END IF;
                IF (p->>'count')::numeric <> trunc((p->>'count')::numeric)
                   OR (p->>'count')::numeric NOT BETWEEN 1 AND 1024
                   OR p->>'type' NOT IN ('rj45', 'sfp', 'sfp_plus', 'sfp28', 'qsfp28')
                   OR (p->>'speed_mbps')::numeric <> trunc((p->>'speed_mbps')::numeric)
                   OR (p->>'speed_mbps')::numeric NOT BETWEEN 1 AND 400000 THEN
                    RETURN false;
                END IF;
            END LOOP;
        ELSE
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$$;

-- ---- categories: a tree ---------------------------------------------------
CREATE TABLE categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid,
    parent_id   uuid REFERENCES categories (id),
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX categories_scope_slug_key ON categories (catalog_scope_key(tenant_id), slug);
CREATE INDEX categories_parent_idx ON categories (parent_id);

-- ---- items: products and services -----------------------------------------
-- One table for both kinds, so relationships (a service requires a
-- product, a bundle holds both) are plain foreign keys. Product columns
-- are NULL for services and the reverse, enforced by CHECKs.
CREATE TABLE items (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid,
    kind              text NOT NULL CHECK (kind IN ('product', 'service')),
    sku               text NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$'),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description       text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    category_id       uuid REFERENCES categories (id),
    manufacturer      text CHECK (length(manufacturer) BETWEEN 1 AND 100),
    model             text CHECK (length(model) BETWEEN 1 AND 100),
    unit_price_minor  bigint NOT NULL CHECK (unit_price_minor >= 0),
    currency          char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status            text NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'eol', 'discontinued')),
    attributes        jsonb NOT NULL DEFAULT '{}'::jsonb,
    billing           text CHECK (billing IN ('monthly', 'yearly', 'one_off')),
    unit              text CHECK (length(unit) BETWEEN 1 AND 40),
    version           bigint NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    search            tsvector GENERATED ALWAYS AS (
                          to_tsvector('simple'::regconfig,
                                      name || ' ' || sku || ' ' || replace(sku, '-', ' ') || ' ' ||
                                      COALESCE(manufacturer, '') || ' ' || COALESCE(model, '') || ' ' ||
                                      description)) STORED,
    CONSTRAINT items_kind_columns CHECK (
        (kind = 'product' AND billing IS NULL AND unit IS NULL)
        OR (kind = 'service' AND billing IS NOT NULL AND unit IS NOT NULL
            AND attributes = '{}'::jsonb)),
    CONSTRAINT items_attributes_known CHECK (catalog_attributes_valid(attributes))
)
    ;
CREATE UNIQUE INDEX items_scope_sku_key ON items (catalog_scope_key(tenant_id), sku);
CREATE INDEX items_search_idx ON items USING gin (search);
CREATE INDEX items_kind_created_idx ON items (kind, created_at DESC, id DESC);
CREATE INDEX items_category_idx ON items (category_id);

-- A tenant's price for a global (or its own) item; the item's JSON shows
-- it as `price`, the item's own as `list_price`.
CREATE TABLE price_overrides (
    tenant_id         uuid NOT NULL,
    item_id           uuid NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    unit_price_minor  bigint NOT NULL CHECK (unit_price_minor >= 0),
    currency          char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, item_id)
);

-- ---- relationships between items ------------------------------------------
CREATE TABLE relationships (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid,
    from_item_id  uuid NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    to_item_id    uuid NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    type          text NOT NULL
                  CHECK (type IN ('requires', 'recommends', 'replaces', 'compatible_with', 'bundle_of')),
    quantity      integer NOT NULL DEFAULT 1 CHECK (quantity BETWEEN 1 AND 100000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (from_item_id <> to_item_id),
    CHECK (type = 'bundle_of' OR quantity = 1)
);
CREATE UNIQUE INDEX relationships_key ON relationships
    (catalog_scope_key(tenant_id), from_item_id, to_item_id, type);
CREATE INDEX relationships_to_idx ON relationships (to_item_id);

-- ---- media: blobs in Azure Blob Storage -----------------------------------
CREATE TABLE media (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid,
    -- No cascade: an item with media is deleted after its media (whose
    -- blobs the API removes), never leaving blobs nobody owns.
    item_id       uuid NOT NULL REFERENCES items (id),
    kind          text NOT NULL CHECK (kind IN ('image', 'stencil', 'document')),
    container     text NOT NULL CHECK (container IN ('product-images', 'visio-stencils', 'documents')),
    blob_name     text NOT NULL UNIQUE,
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    file_name     text CHECK (length(file_name) BETWEEN 1 AND 200),
    -- pending: a write SAS was issued; verifying: the client confirmed and
    -- the worker reads the blob; ready: size, type and SHA-256 matched;
    -- rejected: they did not (the blob was deleted; error says why);
    -- deleting: the worker removes the blob, then the row.
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'verifying', 'ready', 'rejected', 'deleting')),
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_item_idx ON media (item_id, created_at);

-- ---- scope of references ---------------------------------------------------
-- The referenced row must be visible (row-level security applies to this
-- SELECT) and global or of the writer's tenant. SQLSTATE 23503 as for a
-- missing foreign key, so the API answers both the same way.
CREATE FUNCTION catalog_ref_check() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    col text;
    ref uuid;
    owner uuid;
    found_it boolean;
    tbl text;
BEGIN
    FOREACH col IN ARRAY TG_ARGV LOOP
        ref := (to_jsonb(NEW)->>col)::uuid;
        CONTINUE WHEN ref IS NULL;
        tbl := CASE WHEN col = 'parent_id' THEN 'categories'
                    WHEN col = 'category_id' THEN 'categories' ELSE 'items' END;
        EXECUTE format('SELECT true, tenant_id FROM %I WHERE id = $1', tbl)
            INTO found_it, owner USING ref;
        IF found_it IS NULL OR (owner IS NOT NULL AND owner IS DISTINCT FROM NEW.tenant_id) THEN
            RAISE EXCEPTION 'catalog: % % is not visible in this scope', col, ref
                USING ERRCODE = '23503', COLUMN = col;
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
CREATE TRIGGER categories_ref BEFORE INSERT OR UPDATE OF parent_id ON categories
    FOR EACH ROW EXECUTE FUNCTION catalog_ref_check('parent_id');
CREATE TRIGGER items_ref BEFORE INSERT OR UPDATE OF category_id ON items
    FOR EACH ROW EXECUTE FUNCTION catalog_ref_check('category_id');
CREATE TRIGGER price_overrides_ref BEFORE INSERT OR UPDATE ON price_overrides
    FOR EACH ROW EXECUTE FUNCTION catalog_ref_check('item_id');
CREATE TRIGGER relationships_ref BEFORE INSERT OR UPDATE ON relationships
    FOR EACH ROW EXECUTE FUNCTION catalog_ref_check('from_item_id', 'to_item_id');
CREATE TRIGGER media_ref BEFORE INSERT OR UPDATE ON media
    FOR EACH ROW EXECUTE FUNCTION catalog_ref_check('item_id');

-- No cycles in the category tree: the new parent must not be the category
-- itself or one of its descendants. SQLSTATE 23514 (check violation).
CREATE FUNCTION categories_no_cycle() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND EXISTS (
        WITH RECURSIVE up(id, parent_id) AS (
            SELECT id, parent_id FROM categories WHERE id = NEW.parent_id
            UNION
            SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id)
        SELECT 1 FROM up WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'catalog: category % would be its own ancestor', NEW.id
            USING ERRCODE = '23514', CONSTRAINT = 'categories_no_cycle';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER categories_no_cycle BEFORE UPDATE OF parent_id ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_no_cycle();

-- ---- JSON -----------------------------------------------------------------
CREATE FUNCTION category_json(c categories) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', c.id, 'tenant_id', c.tenant_id, 'scope', CASE WHEN c.tenant_id IS NULL THEN 'global' ELSE 'tenant' END,
        'parent_id', c.parent_id, 'slug', c.slug, 'name', c.name,
        'created_at', rfc3339(c.created_at), 'updated_at', rfc3339(c.updated_at))
$$;

-- An item as the connection's tenant sees it: `price` is its override
-- when it has one, else the list price.
CREATE FUNCTION item_json(i items) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', i.id, 'tenant_id', i.tenant_id,
        'scope', CASE WHEN i.tenant_id IS NULL THEN 'global' ELSE 'tenant' END,
        'kind', i.kind, 'sku', i.sku, 'name', i.name, 'description', i.description,
        'category_id', i.category_id, 'manufacturer', i.manufacturer, 'model', i.model,
        'status', i.status, 'attributes', i.attributes,
        'billing', i.billing, 'unit', i.unit,
        'list_price', json_build_object('amount_minor', i.unit_price_minor, 'currency', i.currency),
        'price', json_build_object(
            'amount_minor', COALESCE(o.unit_price_minor, i.unit_price_minor),
            'currency', COALESCE(o.currency, i.currency)),
        'price_overridden', o.item_id IS NOT NULL,
        'version', i.version,
        'created_at', rfc3339(i.created_at), 'updated_at', rfc3339(i.updated_at))
    FROM (SELECT 1) one
    LEFT JOIN price_overrides o
        ON o.item_id = i.id AND o.tenant_id::text = current_setting('atrium.tenant_id', true)
$$;

CREATE FUNCTION relationship_json(r relationships) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', r.id, 'tenant_id', r.tenant_id,
        'scope', CASE WHEN r.tenant_id IS NULL THEN 'global' ELSE 'tenant' END,
        'from_item_id', r.from_item_id, 'to_item_id', r.to_item_id, 'type', r.type,
        'quantity', r.quantity, 'created_at', rfc3339(r.created_at))
$$;

CREATE FUNCTION media_json(m media) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', m.id, 'tenant_id', m.tenant_id, 'item_id', m.item_id, 'kind', m.kind,
        'container', m.container, 'blob_name', m.blob_name, 'content_type', m.content_type,
        'size', m.size_bytes, 'sha256', m.sha256, 'file_name', m.file_name,
        'status', m.status, 'error', m.error,
        'created_at', rfc3339(m.created_at), 'updated_at', rfc3339(m.updated_at))
$$;

-- ---- row-level security -----------------------------------------------------
-- Read: global rows, and the scope's own. Write: the scope's own rows
-- ('*' writes anything: super admins' global changes and the worker).
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['categories', 'items', 'relationships', 'media'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY %I ON %I FOR SELECT
            USING (tenant_id IS NULL
                   OR current_setting('atrium.tenant_id', true) = '*'
                   OR tenant_id::text = current_setting('atrium.tenant_id', true))$p$,
            t || '_read', t);
        EXECUTE format($p$CREATE POLICY %I ON %I FOR ALL
            USING (current_setting('atrium.tenant_id', true) = '*'
                   OR tenant_id::text = current_setting('atrium.tenant_id', true))
            WITH CHECK (current_setting('atrium.tenant_id', true) = '*'
                   OR tenant_id::text = current_setting('atrium.tenant_id', true))$p$,
            t || '_write', t);
    END LOOP;
END
$$;
ALTER TABLE price_overrides ENABLE ROW LEVEL SECURITY;
ALTER TABLE price_overrides FORCE ROW LEVEL SECURITY;
CREATE POLICY price_overrides_scope ON price_overrides
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));

-- ---- search and export ------------------------------------------------------
-- The items of one kind the connection's scope sees, filtered; prices are
-- the effective ones (the scope's override, else the list price), and a
-- price range needs its currency (minor units of two currencies never
-- compare). Used by the list and by the CSV export, so both filter alike.
CREATE FUNCTION catalog_search(p_kind text, p_q text, p_category uuid, p_manufacturer text,
                               p_status text, p_currency text, p_min bigint, p_max bigint)
    RETURNS SETOF items LANGUAGE sql STABLE AS $$
    SELECT i.* FROM items i
    LEFT JOIN price_overrides o
        ON o.item_id = i.id AND o.tenant_id::text = current_setting('atrium.tenant_id', true)
    WHERE i.kind = p_kind
      AND (p_q IS NULL OR i.search @@ websearch_to_tsquery('simple', p_q))
      AND (p_category IS NULL OR i.category_id IN (
            WITH RECURSIVE sub(id) AS (
                SELECT p_category
                UNION SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id)
            SELECT id FROM sub))
      AND (p_manufacturer IS NULL OR lower(i.manufacturer) = lower(p_manufacturer))
      AND (p_status IS NULL OR i.status = p_status)
      AND (p_currency IS NULL OR COALESCE(o.currency, i.currency) = p_currency)
      AND (p_min IS NULL OR COALESCE(o.unit_price_minor, i.unit_price_minor) >= p_min)
      AND (p_max IS NULL OR COALESCE(o.unit_price_minor, i.unit_price_minor) <= p_max)
$$;

-- One CSV field (RFC 4180): always quoted, quotes doubled; commas and
-- line breaks are then plain content. NULL is the empty field.
CREATE FUNCTION csv_field(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT '"' || replace(COALESCE(t, ''), '"', '""') || '"' $$;

-- The strong ETag of an item as the connection's scope sees it: its
-- version and the time of the scope's price override, so a new override
-- changes the tag of the JSON whose `price` it changes.
CREATE FUNCTION item_etag(i items) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT i.version::text || '.' || COALESCE((
        SELECT ((extract(epoch FROM o.updated_at) * 1000000)::bigint)::text
          FROM price_overrides o
         WHERE o.item_id = i.id AND o.tenant_id::text = current_setting('atrium.tenant_id', true)), '0')
$$;
