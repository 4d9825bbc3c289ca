-- Namespace-as-a-Service on AKS: each namespace's size (a row of the
-- platform's size table in services/namespaces.c), its Kubernetes namespace
-- in the shared AKS cluster (NULL when the platform has no cluster,
-- ATRIUM_AKS_CLUSTER_ID unset), and the approval that a prod namespace
-- waits for before anything is made in Azure.
--
-- New statuses: pending_approval (a prod namespace waiting for a super
-- admin), rejected (refused, with the reason in approval), updating (a
-- ready namespace whose resources are being brought to a new size),
-- degraded (a ready namespace whose drift repair keeps failing; the Azure
-- error in last_error). last_reconciled_at: when the worker last re-read
-- its Azure resources; reconcile_failures: failed repairs in a row.
-- Existing rows keep their status, get size 'small' and kubernetes NULL.
ALTER TABLE namespaces DROP CONSTRAINT namespaces_status_check;
ALTER TABLE namespaces ADD CONSTRAINT namespaces_status_check
    CHECK (status IN ('pending_approval', 'rejected', 'pending', 'provisioning', 'ready',
                      'updating', 'degraded', 'failed', 'deprovisioning', 'deleted'));
ALTER TABLE namespaces
    ADD COLUMN size text NOT NULL DEFAULT 'small'
        CONSTRAINT namespaces_size_check CHECK (size IN ('small', 'medium', 'large')),
    ADD COLUMN kubernetes jsonb
        CONSTRAINT namespaces_kubernetes_object CHECK (kubernetes IS NULL OR jsonb_typeof(kubernetes) = 'object'),
    ADD COLUMN approval jsonb
        CONSTRAINT namespaces_approval_object CHECK (approval IS NULL OR jsonb_typeof(approval) = 'object'),
    ADD COLUMN last_reconciled_at timestamptz,
    ADD COLUMN reconcile_failures integer NOT NULL DEFAULT 0;
-- The reconciler's scan: ready and degraded namespaces, least recent first.
CREATE INDEX namespaces_reconcile_idx ON namespaces (last_reconciled_at NULLS FIRST)
    WHERE status IN ('ready', 'degraded');

-- The Kubernetes view: what the namespace is meant to be (kubernetes, set
-- by the API from the size table) and what the worker has made of it
-- (resources.managed_namespace_id, resources.aks_role_assignment_ids).
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
        'last_reconciled_at', CASE WHEN n.last_reconciled_at IS NULL THEN NULL
                                   ELSE rfc3339(n.last_reconciled_at) END,
        'last_error', n.last_error, 'job_id', n.job_id,
        'created_at', rfc3339(n.created_at), 'updated_at', rfc3339(n.updated_at))
$$;
