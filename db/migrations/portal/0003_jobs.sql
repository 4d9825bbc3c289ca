-- Durable jobs for `atrium worker`. A worker claims a due job with
-- FOR UPDATE SKIP LOCKED and holds it by a lease (locked_until) that it
-- renews; a crashed worker's job becomes claimable again when the lease
-- lapses. Finished steps are appended to `steps`, so a resumed job skips
-- them.
CREATE TABLE jobs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid,
    kind          text NOT NULL,
    status        text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    steps         jsonb NOT NULL DEFAULT '[]'::jsonb,
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 8 CHECK (max_attempts > 0),
    run_at        timestamptz NOT NULL DEFAULT now(),
    locked_by     text,
    locked_until  timestamptz,
    last_error    jsonb,
    request_id    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_tenant_idx ON jobs (tenant_id, created_at DESC);

CREATE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('atrium_jobs', NEW.kind);
    RETURN NULL;
END $$;
CREATE TRIGGER jobs_notify AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION jobs_notify();

CREATE FUNCTION job_json(j jobs) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', j.id, 'tenant_id', j.tenant_id, 'kind', j.kind, 'status', j.status,
        'attempts', j.attempts, 'max_attempts', j.max_attempts, 'steps', j.steps,
        'last_error', j.last_error, 'run_at', rfc3339(j.run_at),
        'created_at', rfc3339(j.created_at), 'updated_at', rfc3339(j.updated_at))
$$;

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY jobs_scope ON jobs
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
