-- Expiry for dev namespaces: expires_at (optional, dev only, at most 30
-- days ahead when set, extendable by PATCH). The worker's namespace.reconcile
-- job deletes a namespace once it has expired, as a DELETE would.
ALTER TABLE namespaces ADD COLUMN expires_at timestamptz;
ALTER TABLE namespaces ADD CONSTRAINT namespaces_expiry_dev
    CHECK (expires_at IS NULL OR environment = 'dev');
CREATE INDEX namespaces_expiry_idx ON namespaces (expires_at)
    WHERE expires_at IS NOT NULL AND status <> 'deleted';

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
                'role_assignment_ids', COALESCE(n.resources->'aks_role_assignment_ids', '[]'::jsonb))
            END,
        'approval', n.approval,
        'expires_at', CASE WHEN n.expires_at IS NULL THEN NULL ELSE rfc3339(n.expires_at) END,
        'last_reconciled_at', CASE WHEN n.last_reconciled_at IS NULL THEN NULL
                                   ELSE rfc3339(n.last_reconciled_at) END,
        'last_error', n.last_error, 'job_id', n.job_id,
        'created_at', rfc3339(n.created_at), 'updated_at', rfc3339(n.updated_at))
$$;
