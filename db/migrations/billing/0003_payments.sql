-- Payments: money entering (deposit) or leaving (withdrawal) a member's
-- wallet through a payment provider. The built-in provider settles at
-- once, so a payment is written together with its ledger transaction
-- (reference = the payment's id), in one statement. A withdrawal the
-- wallet cannot cover is refused before anything is stored.
CREATE TABLE payments (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    user_id         uuid NOT NULL,
    direction       text NOT NULL CHECK (direction IN ('deposit', 'withdrawal')),
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider        text NOT NULL DEFAULT 'builtin',
    transaction_id  uuid REFERENCES ledger_transactions (id),
    request_id      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_settled_has_transaction CHECK (status <> 'succeeded' OR transaction_id IS NOT NULL)
);
CREATE INDEX payments_tenant_idx ON payments (tenant_id, created_at DESC, id DESC);
CREATE INDEX payments_user_idx ON payments (tenant_id, user_id, created_at DESC, id DESC);

CREATE FUNCTION payment_json(p payments) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', p.id, 'user_id', p.user_id, 'direction', p.direction,
        'amount_minor', p.amount_minor, 'currency', p.currency, 'status', p.status,
        'transaction_id', p.transaction_id,
        'created_at', rfc3339(p.created_at), 'updated_at', rfc3339(p.updated_at))
$$;

ALTER TABLE payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments FORCE ROW LEVEL SECURITY;
CREATE POLICY payments_scope ON payments
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
