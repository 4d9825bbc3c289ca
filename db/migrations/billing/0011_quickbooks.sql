-- QuickBooks Online connection per tenant (issue 15) and what the worker
-- reads from the Accounting API: invoice amounts, balances, due dates,
-- customers and line items; payments and customers as QuickBooks returns them.
--
-- Tokens are sealed by the server (server/common/secretbox.c, AES-256-GCM,
-- "keyid:base64(nonce||ciphertext||tag)", bound to the tenant and purpose):
-- this database never sees one in the clear. An OAuth state is stored as its
-- SHA-256 only, single-use and short-lived.

CREATE TABLE quickbooks_connections (
    tenant_id             uuid PRIMARY KEY,
    realm_id              text CHECK (realm_id ~ '^[0-9]{1,32}$'),
    status                text NOT NULL CHECK (status IN ('connecting', 'connected', 'disconnected', 'error')),
    auth_code_sealed      text,          -- the callback's code until the worker exchanged it
    refresh_token_sealed  text,
    access_token_sealed   text,
    revoke_token_sealed   text,          -- a disconnected refresh token the worker revokes at Intuit
    access_expires_at     timestamptz,
    refresh_expires_at    timestamptz,
    connected_by          text,          -- tid/oid of who connected
    connected_at          timestamptz,
    last_sync_at          timestamptz,   -- start of the last complete change-data-capture read
    next_cdc_at           timestamptz,
    last_error            text,
    version               bigint NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT quickbooks_connected_has_tokens
        CHECK (status <> 'connected' OR (refresh_token_sealed IS NOT NULL AND realm_id IS NOT NULL))
);
CREATE INDEX quickbooks_connections_due_idx ON quickbooks_connections (next_cdc_at)
    WHERE status = 'connected';

CREATE TABLE quickbooks_oauth_states (
    state_hash  text PRIMARY KEY CHECK (state_hash ~ '^[0-9a-f]{64}$'),
    tenant_id   uuid NOT NULL,
    user_id     text NOT NULL,               -- auth_db user who started the connect
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX quickbooks_oauth_states_expiry_idx ON quickbooks_oauth_states (expires_at);

-- What people may see of a connection: never a token.
CREATE FUNCTION quickbooks_connection_json(c quickbooks_connections) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'provider', 'quickbooks', 'status', c.status, 'realm_id', c.realm_id,
        'connected_at', rfc3339(c.connected_at), 'last_sync_at', rfc3339(c.last_sync_at),
        'last_error', c.last_error, 'updated_at', rfc3339(c.updated_at))
$$;

-- Invoices: what the Accounting API says about them.
ALTER TABLE invoices
    ADD COLUMN due_date       date,
    ADD COLUMN txn_date       date,
    ADD COLUMN doc_number     text,
    ADD COLUMN customer_name  text,
    ADD COLUMN line_items     jsonb,
    ADD COLUMN sync_token     text,
    ADD COLUMN qbo_updated_at timestamptz,   -- MetaData.LastUpdatedTime of the data stored
    ADD COLUMN synced_at      timestamptz,
    ALTER COLUMN last_event_id DROP NOT NULL; -- rows first seen by change data capture have no event

ALTER TABLE external_entities
    ADD COLUMN data           jsonb,         -- the entity as QuickBooks returned it
    ADD COLUMN synced_at      timestamptz,
    ALTER COLUMN last_event_id DROP NOT NULL;

CREATE OR REPLACE FUNCTION invoice_json(i invoices) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', i.id, 'tenant_id', i.tenant_id, 'provider', 'quickbooks', 'realm_id', i.realm_id,
        'external_id', i.external_id, 'status', i.status, 'last_operation', i.last_operation,
        'issued_at', rfc3339(i.issued_at), 'source_updated_at', rfc3339(i.source_updated_at),
        'needs_sync', i.needs_sync, 'customer_id', i.customer_id, 'total_minor', i.total_minor,
        'balance_minor', i.balance_minor, 'currency', i.currency,
        'doc_number', i.doc_number, 'customer_name', i.customer_name,
        'txn_date', to_char(i.txn_date, 'YYYY-MM-DD'), 'due_date', to_char(i.due_date, 'YYYY-MM-DD'),
        'line_items', COALESCE(i.line_items, '[]'::jsonb), 'synced_at', rfc3339(i.synced_at),
        'created_at', rfc3339(i.created_at), 'updated_at', rfc3339(i.updated_at))
$$;

-- A QuickBooks date ("2026-12-05") or NULL when it is not one.
CREATE FUNCTION quickbooks_date(t text) RETURNS date
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF t IS NULL OR t !~ '^\d{4}-\d{2}-\d{2}$' THEN
        RETURN NULL;
    END IF;
    RETURN t::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- The sales lines of an Invoice (not its subtotal line), amounts in minor units.
CREATE FUNCTION quickbooks_lines(e jsonb, currency text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
        'line_id', l->>'Id', 'description', l->>'Description',
        'item', l->'SalesItemLineDetail'->'ItemRef'->>'name',
        'quantity', (l->'SalesItemLineDetail'->>'Qty')::numeric,
        'amount_minor', webhook_minor_units((l->>'Amount')::numeric, currency))
        ORDER BY (l->>'LineNum')::int NULLS LAST), '[]'::jsonb)
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e->'Line') = 'array' THEN e->'Line' ELSE '[]'::jsonb END) l
    WHERE l->>'DetailType' IS DISTINCT FROM 'SubTotalLineDetail'
$$;

ALTER TABLE quickbooks_connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE quickbooks_connections FORCE ROW LEVEL SECURITY;
CREATE POLICY quickbooks_connections_scope ON quickbooks_connections
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));

ALTER TABLE quickbooks_oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE quickbooks_oauth_states FORCE ROW LEVEL SECURITY;
CREATE POLICY quickbooks_oauth_states_scope ON quickbooks_oauth_states
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
