-- Sporting events and their selections (the outcomes one can bet on, each
-- with decimal odds kept as exact numerics, never floating point).
--
-- status: scheduled -> open -> closed (any of them, by an admin), then
-- settled (a result was posted) or cancelled; those two are final.
-- Betting is possible only while the event is open and before starts_at,
-- so the JSON shows an open event whose start has passed as closed.
-- Selections live in the event's row (a JSON array of {key, name, odds}):
-- placing a bet locks that one row (FOR SHARE), and the lock alone makes
-- the status and the odds it checks consistent with any concurrent change
-- (PATCH, result, cancel lock the row FOR UPDATE). odds are decimal
-- strings, compared and multiplied as numeric.
CREATE FUNCTION event_selections_valid(s jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(s) = 'array'
       AND jsonb_array_length(s) BETWEEN 2 AND 50
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_array_elements(s) x
           WHERE jsonb_typeof(x) <> 'object'
              OR (SELECT count(*) FROM jsonb_object_keys(x)) <> 3
              OR jsonb_typeof(x->'key') IS DISTINCT FROM 'string'
              OR jsonb_typeof(x->'name') IS DISTINCT FROM 'string'
              OR jsonb_typeof(x->'odds') IS DISTINCT FROM 'string'
              OR x->>'key' !~ '^[A-Za-z0-9_.-]{1,64}$'
              OR char_length(x->>'name') NOT BETWEEN 1 AND 200
              OR x->>'odds' !~ '^[0-9]{1,6}(\.[0-9]{1,4})?$'
              OR (x->>'odds')::numeric <= 1)
       AND (SELECT count(DISTINCT x->>'key') FROM jsonb_array_elements(s) x) = jsonb_array_length(s)
$$;

CREATE TABLE events (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL,
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    sport            text NOT NULL CHECK (char_length(sport) BETWEEN 1 AND 64),
    starts_at        timestamptz NOT NULL,
    status           text NOT NULL DEFAULT 'scheduled'
                     CHECK (status IN ('scheduled', 'open', 'closed', 'settled', 'cancelled')),
    selections       jsonb NOT NULL CHECK (event_selections_valid(selections)),
    result           text,            -- the winning selection's key, once settled
    -- When the worker finished paying (or refunding) every bet.
    bets_settled_at  timestamptz,
    version          bigint NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_result_iff_settled CHECK ((status = 'settled') = (result IS NOT NULL)),
    CONSTRAINT events_result_is_a_selection
        CHECK (result IS NULL OR selections @> jsonb_build_array(jsonb_build_object('key', result))),
    CONSTRAINT events_bets_settled_when_final
        CHECK (bets_settled_at IS NULL OR status IN ('settled', 'cancelled'))
);
CREATE INDEX events_tenant_idx ON events (tenant_id, created_at DESC, id DESC);
CREATE INDEX events_unsettled_idx ON events (updated_at)
    WHERE status IN ('settled', 'cancelled') AND bets_settled_at IS NULL;

-- The status a reader sees: an open event whose start has passed takes no
-- more bets, so it shows as closed.
CREATE FUNCTION event_status(e events) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN e.status = 'open' AND e.starts_at <= now() THEN 'closed' ELSE e.status END
$$;

-- The odds of selection `k` of event e, or NULL.
CREATE FUNCTION event_odds(e events, k text) RETURNS numeric
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (x->>'odds')::numeric FROM jsonb_array_elements(e.selections) x WHERE x->>'key' = k
$$;

CREATE FUNCTION event_json(e events) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', e.id, 'name', e.name, 'sport', e.sport, 'starts_at', rfc3339(e.starts_at),
        'status', event_status(e), 'selections', e.selections,
        'result', e.result, 'bets_settled_at', rfc3339(e.bets_settled_at),
        'created_at', rfc3339(e.created_at), 'updated_at', rfc3339(e.updated_at))
$$;

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_scope ON events
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));

-- A PATCH of selections: items naming an existing key change its name
-- and/or odds, items with a new key are appended (and must then have both;
-- the CHECK on events refuses the result otherwise). Odds are normalised
-- to numeric text.
CREATE FUNCTION event_merge_selections(cur jsonb, patch jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_agg(s.x ORDER BY s.o) FROM (
        SELECT c.x || COALESCE((
                   SELECT jsonb_strip_nulls(jsonb_build_object(
                              'name', p.x->'name',
                              'odds', to_jsonb(((p.x->>'odds')::numeric)::text)))
                   FROM jsonb_array_elements(patch) AS p(x)
                   WHERE p.x->>'key' = c.x->>'key' LIMIT 1), '{}'::jsonb) AS x,
               c.o
        FROM jsonb_array_elements(cur) WITH ORDINALITY AS c(x, o)
        UNION ALL
        SELECT jsonb_strip_nulls(jsonb_build_object(
                   'key', p.x->'key', 'name', p.x->'name',
                   'odds', to_jsonb(((p.x->>'odds')::numeric)::text))),
               1000000 + p.o
        FROM jsonb_array_elements(patch) WITH ORDINALITY AS p(x, o)
        WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(cur) AS c(x)
                          WHERE c.x->>'key' = p.x->>'key')
    ) s
$$;
