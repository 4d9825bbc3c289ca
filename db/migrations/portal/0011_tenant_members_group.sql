-- A tenant's members group (Entra group of its engineers): on each `dev`
-- namespace with a Kubernetes namespace it gets "Azure Kubernetes Service
-- RBAC Writer" (resources.aks_members_role_assignment_id); NULL: none.
ALTER TABLE tenants ADD COLUMN aad_members_group_id uuid;

CREATE OR REPLACE FUNCTION tenant_json(t tenants) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', t.id, 'slug', t.slug, 'name', t.name,
        'aad_tenant_id', t.aad_tenant_id, 'aad_admin_group_id', t.aad_admin_group_id,
        'aad_members_group_id', t.aad_members_group_id,
        'status', t.status, 'tags', t.tags,
        'quickbooks_realm_id', t.quickbooks_realm_id, 'pax8_company_id', t.pax8_company_id,
        'namespace_quota', t.namespace_quota, 'offboard_job_id', t.offboard_job_id,
        'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))
$$;

CREATE OR REPLACE FUNCTION namespace_json(n namespaces) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', n.id, 'tenant_id', n.tenant_id, 'name', n.name,
        'environment', n.environment, 'location', n.location, 'quota', n.quota,
        'size', n.size,
        'status', n.status, 'resource_group', n.resource_group,
        'resources', json_build_object(
            'resource_group_id', n.resources->>'resource_group_id',
            'role_assignment_id', n.resources->>'role_assignment_id',
            'containers', COALESCE(n.resources->'containers', '[]'::jsonb)),
        'kubernetes', CASE WHEN n.kubernetes IS NULL THEN NULL ELSE
            n.kubernetes || jsonb_build_object(
                'id', n.resources->>'managed_namespace_id',
                'role_assignment_ids', COALESCE(n.resources->'aks_role_assignment_ids', '[]'::jsonb),
                'members_role_assignment_id', n.resources->>'aks_members_role_assignment_id')
            END,
        'approval', n.approval,
        'expires_at', CASE WHEN n.expires_at IS NULL THEN NULL ELSE rfc3339(n.expires_at) END,
        'last_reconciled_at', CASE WHEN n.last_reconciled_at IS NULL THEN NULL
                                   ELSE rfc3339(n.last_reconciled_at) END,
        'last_error', n.last_error, 'job_id', n.job_id,
        'created_at', rfc3339(n.created_at), 'updated_at', rfc3339(n.updated_at))
$$;
