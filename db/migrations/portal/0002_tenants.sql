-- Tenants: the organisations on the platform, each tied to its Entra
-- directory (aad_tenant_id).
CREATE FUNCTION jsonb_key_count(j jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT count(*)::integer FROM jsonb_object_keys(j) $$;

CREATE TABLE tenants (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug                 text NOT NULL,
    name                 text NOT NULL,
    aad_tenant_id        uuid NOT NULL,
    aad_admin_group_id   uuid,
    status               text NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'suspended', 'deleted')),
    tags                 jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(tags) = 'object' AND jsonb_key_count(tags) <= 50),
    quickbooks_realm_id  text,
    pax8_company_id      text,
    version              bigint NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_aad_tenant_id_key UNIQUE (aad_tenant_id),
    CONSTRAINT tenants_slug_dns CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
);
CREATE INDEX tenants_created_idx ON tenants (created_at DESC, id DESC);
CREATE UNIQUE INDEX tenants_quickbooks_realm_idx ON tenants (quickbooks_realm_id)
    WHERE quickbooks_realm_id IS NOT NULL;
CREATE UNIQUE INDEX tenants_pax8_company_idx ON tenants (pax8_company_id)
    WHERE pax8_company_id IS NOT NULL;

CREATE FUNCTION tenant_json(t tenants) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', t.id, 'slug', t.slug, 'name', t.name,
        'aad_tenant_id', t.aad_tenant_id, 'aad_admin_group_id', t.aad_admin_group_id,
        'status', t.status, 'tags', t.tags,
        'quickbooks_realm_id', t.quickbooks_realm_id, 'pax8_company_id', t.pax8_company_id,
        'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))
$$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_scope ON tenants
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR id::text = current_setting('atrium.tenant_id', true));

-- The audit log: one record per state change, written in the same
-- statement or transaction as the change.
CREATE TABLE audit_log (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid,
    actor_tid      uuid,
    actor_oid      uuid,
    actor_kind     text NOT NULL CHECK (actor_kind IN ('user', 'system')),
    action         text NOT NULL,
    resource_type  text NOT NULL,
    resource_id    text NOT NULL,
    request_id     text NOT NULL,
    changes        jsonb,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at DESC, id DESC);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_scope ON audit_log
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
