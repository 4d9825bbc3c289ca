-- Namespaces: a tenant's environments (dev, staging, prod), each with its
-- own Azure resource group, a Contributor role assignment for the tenant's
-- admin group, and three Blob containers, provisioned by `atrium worker`.
--
-- The Azure names are fixed when the namespace is created (resource_group,
-- containers), so a later change of the naming rule never orphans what an
-- older namespace made. `resources` holds what the worker has actually
-- provisioned so far; `job_id` is the namespace's latest job (its
-- provision or deprovision job).
CREATE TABLE namespaces (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    name            text NOT NULL
                    CONSTRAINT namespaces_name_dns CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    environment     text NOT NULL CHECK (environment IN ('dev', 'staging', 'prod')),
    location        text NOT NULL CHECK (location ~ '^[a-z][a-z0-9]{1,39}$'),
    quota           jsonb CHECK (quota IS NULL OR jsonb_typeof(quota) = 'object'),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'provisioning', 'ready', 'failed',
                                      'deprovisioning', 'deleted')),
    resource_group  text NOT NULL,
    containers      text[] NOT NULL,
    resources       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(resources) = 'object'),
    last_error      jsonb,
    job_id          uuid,
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
-- A name is unique in its tenant among the namespaces not deleted.
CREATE UNIQUE INDEX namespaces_tenant_name_key ON namespaces (tenant_id, name)
    WHERE status <> 'deleted';
-- Azure names are global to the subscription and the storage account: two
-- live namespaces (of any tenants) never share them.
CREATE UNIQUE INDEX namespaces_resource_group_key ON namespaces (resource_group)
    WHERE status <> 'deleted';
CREATE INDEX namespaces_tenant_created_idx ON namespaces (tenant_id, created_at DESC, id DESC);

CREATE FUNCTION namespace_json(n namespaces) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', n.id, 'tenant_id', n.tenant_id, 'name', n.name,
        'environment', n.environment, 'location', n.location, 'quota', n.quota,
        'status', n.status, 'resource_group', n.resource_group,
        'resources', json_build_object(
            'resource_group_id', n.resources->>'resource_group_id',
            'role_assignment_id', n.resources->>'role_assignment_id',
            'containers', COALESCE(n.resources->'containers', '[]'::jsonb)),
        'last_error', n.last_error, 'job_id', n.job_id,
        'created_at', rfc3339(n.created_at), 'updated_at', rfc3339(n.updated_at))
$$;

ALTER TABLE namespaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE namespaces FORCE ROW LEVEL SECURITY;
CREATE POLICY namespaces_scope ON namespaces
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
