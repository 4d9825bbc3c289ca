-- A tenant's own cap on its namespaces that are not deleted (NULL: the
-- platform's default, ATRIUM_NAMESPACES_PER_TENANT). Set by super admins.
ALTER TABLE tenants ADD COLUMN namespace_quota integer
    CHECK (namespace_quota IS NULL OR namespace_quota BETWEEN 0 AND 100000);

CREATE OR REPLACE FUNCTION tenant_json(t tenants) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', t.id, 'slug', t.slug, 'name', t.name,
        'aad_tenant_id', t.aad_tenant_id, 'aad_admin_group_id', t.aad_admin_group_id,
        'status', t.status, 'tags', t.tags,
        'quickbooks_realm_id', t.quickbooks_realm_id, 'pax8_company_id', t.pax8_company_id,
        'namespace_quota', t.namespace_quota,
        'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))
$$;
