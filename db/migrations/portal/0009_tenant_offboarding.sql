-- Offboarding. Deleting a tenant that still has namespaces makes it
-- `deleting` while a tenant.offboard job (offboard_job_id) deprovisions
-- every one of them; only when none is left in Azure does it become
-- `deleted`. A tenant without namespaces is deleted at once, as before.
ALTER TABLE tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_status_check
    CHECK (status IN ('active', 'suspended', 'deleting', 'deleted'));
ALTER TABLE tenants ADD COLUMN offboard_job_id uuid;

CREATE OR REPLACE FUNCTION tenant_json(t tenants) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', t.id, 'slug', t.slug, 'name', t.name,
        'aad_tenant_id', t.aad_tenant_id, 'aad_admin_group_id', t.aad_admin_group_id,
        'status', t.status, 'tags', t.tags,
        'quickbooks_realm_id', t.quickbooks_realm_id, 'pax8_company_id', t.pax8_company_id,
        'namespace_quota', t.namespace_quota, 'offboard_job_id', t.offboard_job_id,
        'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))
$$;
