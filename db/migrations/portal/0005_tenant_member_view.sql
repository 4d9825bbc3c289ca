-- What a member of a tenant sees of it: who it is, never its directory,
-- admin group or billing accounts (those are the operator's and the
-- tenant admins' business).
CREATE FUNCTION tenant_member_json(t tenants) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', t.id, 'slug', t.slug, 'name', t.name, 'status', t.status, 'tags', t.tags,
        'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))
$$;
