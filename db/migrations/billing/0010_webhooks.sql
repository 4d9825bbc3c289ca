-- Billing webhooks (QuickBooks Online, Pax8): the durable inbox and what its
-- events maintain per tenant (invoices, subscriptions, usage lines).
--
-- A delivery (one signed POST) is kept once, raw, in webhook_deliveries; each
-- event it carried is one webhook_inbox row, unique per provider by its
-- dedupe key, so a redelivery adds nothing. The request commits the inbox
-- rows, then queues one `webhooks.process` job per event in portal_db and
-- sets `enqueued`; the worker sweeps rows left with enqueued = false (a crash
-- between the two commits), so no event is ever lost.

-- Parses a provider timestamp: ISO 8601 date and time, with Z or an offset
-- (none means UTC). NULL for anything else, PostgreSQL's special inputs
-- ('now', 'yesterday', 'infinity') included.
CREATE FUNCTION webhook_ts(t text) RETURNS timestamptz
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF t IS NULL OR t !~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$' THEN
        RETURN NULL;
    END IF;
    IF t ~ '([Zz]|[+-]\d{2}(:?\d{2})?)$' THEN
        RETURN t::timestamptz;
    END IF;
    RETURN (t || 'Z')::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- A decimal amount in major units to integer minor units of its ISO 4217
-- currency (half away from zero). NULL in, NULL out.
CREATE FUNCTION webhook_minor_units(amount numeric, currency text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT round(amount * CASE
        WHEN upper(currency) IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG',
                                 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 1
        WHEN upper(currency) IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 1000
        ELSE 100 END)::bigint
$$;

-- Pax8 statuses ("PendingManual") as API enum values ("pending_manual").
CREATE FUNCTION webhook_snake(s text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(regexp_replace(s, '([a-z0-9])([A-Z])', '\1_\2', 'g'))
$$;

CREATE TABLE webhook_deliveries (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider     text NOT NULL CHECK (provider IN ('quickbooks', 'pax8')),
    raw_body     bytea NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}'::jsonb,  -- of interest; never a secret
    client_ip    text NOT NULL,
    request_id   text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE webhook_inbox (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    delivery_id    uuid NOT NULL REFERENCES webhook_deliveries (id),
    provider       text NOT NULL CHECK (provider IN ('quickbooks', 'pax8')),
    dedupe_key     text NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 512),
    format         text NOT NULL CHECK (format IN ('cloudevents', 'legacy', 'pax8', 'unparsed')),
    event_type     text,          -- qbo.invoice.updated.v1, SUBSCRIPTION.UPDATED, ...
    account_id     text,          -- QuickBooks realm id, Pax8 company id
    entity_type    text,          -- invoice, payment, customer, subscription, usage, ...
    entity_id      text,
    operation      text,          -- create, update, delete, void, merge, emailed, ...
    occurred_at    timestamptz,   -- the provider's time of the change (ordering)
    payload        jsonb,         -- the event as the provider sent it
    status         text NOT NULL DEFAULT 'received'
                   CHECK (status IN ('received', 'processed', 'rejected', 'unmatched', 'failed')),
    outcome        text CHECK (outcome IN ('applied', 'superseded', 'ignored')),
    tenant_id      uuid,
    error          text,
    enqueued       boolean NOT NULL DEFAULT false,
    applied_count  integer NOT NULL DEFAULT 0,
    received_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    processed_at   timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT webhook_inbox_dedupe UNIQUE (provider, dedupe_key),
    CONSTRAINT webhook_inbox_processed_has_tenant CHECK (status <> 'processed' OR tenant_id IS NOT NULL)
);
CREATE INDEX webhook_inbox_received_idx ON webhook_inbox (received_at DESC, id DESC);
CREATE INDEX webhook_inbox_status_idx ON webhook_inbox (status, received_at DESC, id DESC);
CREATE INDEX webhook_inbox_unenqueued_idx ON webhook_inbox (received_at)
    WHERE enqueued = false AND status = 'received';
CREATE INDEX webhook_inbox_delivery_idx ON webhook_inbox (delivery_id);

CREATE FUNCTION webhook_event_json(e webhook_inbox) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', e.id, 'provider', e.provider, 'dedupe_key', e.dedupe_key, 'format', e.format,
        'type', e.event_type, 'account_id', e.account_id, 'entity_type', e.entity_type,
        'entity_id', e.entity_id, 'operation', e.operation,
        'occurred_at', rfc3339(e.occurred_at), 'status', e.status, 'outcome', e.outcome,
        'tenant_id', e.tenant_id, 'error', e.error, 'delivery_id', e.delivery_id,
        'payload', e.payload, 'received_at', rfc3339(e.received_at),
        'processed_at', rfc3339(e.processed_at))
$$;

-- QuickBooks invoices, as their notifications describe them. Notifications
-- carry ids, never amounts: total, balance, currency and customer stay NULL
-- (needs_sync = true) until the worker fetches the invoice from the
-- QuickBooks API (a follow-up: no API credentials are configured here).
CREATE TABLE invoices (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL,
    realm_id           text NOT NULL,
    external_id        text NOT NULL,
    status             text NOT NULL CHECK (status IN ('open', 'voided', 'deleted')),
    last_operation     text NOT NULL,
    issued_at          timestamptz NOT NULL,   -- earliest change QuickBooks reported
    source_updated_at  timestamptz NOT NULL,   -- newest change applied (ordering guard)
    needs_sync         boolean NOT NULL DEFAULT true,
    customer_id        text,
    total_minor        bigint,
    balance_minor      bigint,
    currency           char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    last_event_id      uuid NOT NULL,
    version            bigint NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT invoices_external_key UNIQUE (tenant_id, realm_id, external_id)
);
CREATE INDEX invoices_tenant_idx ON invoices (tenant_id, created_at DESC, id DESC);

CREATE FUNCTION invoice_json(i invoices) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', i.id, 'tenant_id', i.tenant_id, 'provider', 'quickbooks', 'realm_id', i.realm_id,
        'external_id', i.external_id, 'status', i.status, 'last_operation', i.last_operation,
        'issued_at', rfc3339(i.issued_at), 'source_updated_at', rfc3339(i.source_updated_at),
        'needs_sync', i.needs_sync, 'customer_id', i.customer_id, 'total_minor', i.total_minor,
        'balance_minor', i.balance_minor, 'currency', i.currency,
        'created_at', rfc3339(i.created_at), 'updated_at', rfc3339(i.updated_at))
$$;

-- Other QuickBooks entities whose changes matter to invoices (payments,
-- customers): the newest change seen, so ordering holds for them too.
CREATE TABLE external_entities (
    tenant_id          uuid NOT NULL,
    provider           text NOT NULL,
    account_id         text NOT NULL,
    entity_type        text NOT NULL,
    external_id        text NOT NULL,
    last_operation     text NOT NULL,
    merged_from        text,
    source_updated_at  timestamptz NOT NULL,
    last_event_id      uuid NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, provider, account_id, entity_type, external_id)
);

-- Pax8 subscriptions.
CREATE TABLE subscriptions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL,
    company_id         text NOT NULL,
    external_id        text NOT NULL,
    product_id         text,
    product_name       text,
    quantity           numeric,
    status             text NOT NULL,
    billing_term       text,
    price_minor        bigint,
    currency           char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    start_date         timestamptz,
    end_date           timestamptz,
    source_updated_at  timestamptz NOT NULL,
    last_event_id      uuid NOT NULL,
    version            bigint NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT subscriptions_external_key UNIQUE (tenant_id, external_id)
);
CREATE INDEX subscriptions_tenant_idx ON subscriptions (tenant_id, created_at DESC, id DESC);

CREATE FUNCTION subscription_json(s subscriptions) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', s.id, 'tenant_id', s.tenant_id, 'provider', 'pax8', 'company_id', s.company_id,
        'external_id', s.external_id, 'product_id', s.product_id, 'product_name', s.product_name,
        'quantity', s.quantity, 'status', s.status, 'billing_term', s.billing_term,
        'price_minor', s.price_minor, 'currency', s.currency,
        'start_date', rfc3339(s.start_date), 'end_date', rfc3339(s.end_date),
        'source_updated_at', rfc3339(s.source_updated_at),
        'created_at', rfc3339(s.created_at), 'updated_at', rfc3339(s.updated_at))
$$;

-- Pax8 usage lines: one per usage summary, product and day.
CREATE TABLE usage_lines (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL,
    company_id           text NOT NULL,
    usage_summary_id     text NOT NULL,
    subscription_id      text,
    product_id           text NOT NULL,
    product_name         text,
    usage_date           date NOT NULL,
    unit_of_measure      text,
    quantity             numeric NOT NULL,
    unit_price           numeric,
    amount_minor         bigint,
    partner_total_minor  bigint,
    currency             char(3) CHECK (currency ~ '^[A-Z]{3}$'),
    is_trial             boolean NOT NULL DEFAULT false,
    source_updated_at    timestamptz NOT NULL,
    last_event_id        uuid NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT usage_lines_external_key UNIQUE (tenant_id, usage_summary_id, product_id, usage_date)
);
CREATE INDEX usage_lines_tenant_idx ON usage_lines (tenant_id, created_at DESC, id DESC);

CREATE FUNCTION usage_line_json(u usage_lines) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', u.id, 'tenant_id', u.tenant_id, 'provider', 'pax8', 'company_id', u.company_id,
        'usage_summary_id', u.usage_summary_id, 'subscription_id', u.subscription_id,
        'product_id', u.product_id, 'product_name', u.product_name,
        'usage_date', to_char(u.usage_date, 'YYYY-MM-DD'), 'unit_of_measure', u.unit_of_measure,
        'quantity', u.quantity, 'unit_price', u.unit_price::text, 'amount_minor', u.amount_minor,
        'partner_total_minor', u.partner_total_minor, 'currency', u.currency,
        'is_trial', u.is_trial, 'source_updated_at', rfc3339(u.source_updated_at),
        'created_at', rfc3339(u.created_at), 'updated_at', rfc3339(u.updated_at))
$$;

-- Row-level security. Deliveries belong to no tenant (platform only); inbox
-- rows are visible to their tenant once matched; the rest are tenant-owned.
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_scope ON webhook_deliveries
    USING (current_setting('atrium.tenant_id', true) = '*');

ALTER TABLE webhook_inbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_inbox FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_inbox_scope ON webhook_inbox
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));

ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY invoices_scope ON invoices
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));

ALTER TABLE external_entities ENABLE ROW LEVEL SECURITY;
ALTER TABLE external_entities FORCE ROW LEVEL SECURITY;
CREATE POLICY external_entities_scope ON external_entities
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));

ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY subscriptions_scope ON subscriptions
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));

ALTER TABLE usage_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_lines_scope ON usage_lines
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
