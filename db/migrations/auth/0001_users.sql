-- Users Atrium has seen, keyed by Entra directory (tid) and object id (oid).
CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tid            uuid NOT NULL,
    oid            uuid NOT NULL,
    tenant_id      uuid,
    name           text,
    username       text,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz NOT NULL DEFAULT now(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tid, oid)
);
CREATE INDEX users_tenant_idx ON users (tenant_id);

-- Row-level security as defence in depth: the application sets
-- atrium.tenant_id on each connection ('*' for platform-wide work).
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_tenant ON users
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
