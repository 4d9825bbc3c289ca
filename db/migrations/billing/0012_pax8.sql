-- Pax8 Partner API pulls (workers/pax8_jobs.c): subscriptions and usage
-- summaries read from the API land in the same tables as the webhooks'
-- (0010_webhooks.sql), marked with where they came from.
--
--   source     'webhook' (an inbox event wrote the row last) or 'api' (a
--              pull did); last_event_id is NULL for a row only a pull wrote;
--   synced_at  when a pull last read the row from the API.
--
-- A pull is the provider's current state when it reads it, so it always
-- wins over what is stored; its source_updated_at is the newer of the
-- stored one and the API's updatedDate, so an older webhook event arriving
-- later stays superseded.
ALTER TABLE subscriptions
    ADD COLUMN source text NOT NULL DEFAULT 'webhook' CHECK (source IN ('webhook', 'api')),
    ADD COLUMN synced_at timestamptz,
    ADD COLUMN vendor_name text,
    ALTER COLUMN last_event_id DROP NOT NULL;

-- Usage summaries from the API are per subscription and billing month:
-- usage_date is the first day of the month the summary was read in, and a
-- summary carries charges, not a quantity.
ALTER TABLE usage_lines
    ADD COLUMN source text NOT NULL DEFAULT 'webhook' CHECK (source IN ('webhook', 'api')),
    ADD COLUMN synced_at timestamptz,
    ALTER COLUMN last_event_id DROP NOT NULL,
    ALTER COLUMN quantity DROP NOT NULL;
CREATE INDEX usage_lines_tenant_date_idx ON usage_lines (tenant_id, usage_date);

-- Months in one billing term; NULL for terms that do not recur (One-Time,
-- Trial, Activation) or are unknown.
CREATE FUNCTION pax8_term_months(term text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(term)
        WHEN 'monthly' THEN 1 WHEN 'annual' THEN 12 WHEN '2-year' THEN 24 WHEN '3-year' THEN 36
        ELSE NULL END
$$;

-- What a subscription costs per month, in minor units of its currency:
-- quantity x price, the price being per unit and billing term (an annual
-- term's price is spread over 12 months). NULL when unknown or one-off.
CREATE FUNCTION subscription_monthly_minor(s subscriptions) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT round(s.quantity * s.price_minor / pax8_term_months(s.billing_term))::bigint
$$;

CREATE OR REPLACE FUNCTION subscription_json(s subscriptions) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', s.id, 'tenant_id', s.tenant_id, 'provider', 'pax8', 'company_id', s.company_id,
        'external_id', s.external_id, 'product_id', s.product_id, 'product_name', s.product_name,
        'vendor_name', s.vendor_name,
        'quantity', s.quantity, 'status', s.status, 'billing_term', s.billing_term,
        'price_minor', s.price_minor, 'currency', s.currency,
        'monthly_cost_minor', subscription_monthly_minor(s),
        'start_date', rfc3339(s.start_date), 'end_date', rfc3339(s.end_date),
        'source', s.source, 'synced_at', rfc3339(s.synced_at),
        'source_updated_at', rfc3339(s.source_updated_at),
        'created_at', rfc3339(s.created_at), 'updated_at', rfc3339(s.updated_at))
$$;

CREATE OR REPLACE FUNCTION usage_line_json(u usage_lines) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', u.id, 'tenant_id', u.tenant_id, 'provider', 'pax8', 'company_id', u.company_id,
        'usage_summary_id', u.usage_summary_id, 'subscription_id', u.subscription_id,
        'product_id', u.product_id, 'product_name', u.product_name,
        'usage_date', to_char(u.usage_date, 'YYYY-MM-DD'), 'unit_of_measure', u.unit_of_measure,
        'quantity', u.quantity, 'unit_price', u.unit_price::text, 'amount_minor', u.amount_minor,
        'partner_total_minor', u.partner_total_minor, 'currency', u.currency,
        'is_trial', u.is_trial, 'source', u.source, 'synced_at', rfc3339(u.synced_at),
        'source_updated_at', rfc3339(u.source_updated_at),
        'created_at', rfc3339(u.created_at), 'updated_at', rfc3339(u.updated_at))
$$;

-- A webhook event rewrites the row: it is the webhook's again.
CREATE FUNCTION billing_mark_webhook_source() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_event_id IS NOT NULL AND NEW.last_event_id IS DISTINCT FROM OLD.last_event_id THEN
        NEW.source := 'webhook';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER subscriptions_source BEFORE UPDATE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION billing_mark_webhook_source();
CREATE TRIGGER usage_lines_source BEFORE UPDATE ON usage_lines
    FOR EACH ROW EXECUTE FUNCTION billing_mark_webhook_source();

-- A Pax8 API date or timestamp ("2026-11-01" or ISO 8601 with a zone) as
-- timestamptz; NULL for anything else.
CREATE FUNCTION pax8_ts(t text) RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN t ~ '^\d{4}-\d{2}-\d{2}$' THEN webhook_ts(t || 'T00:00:00Z') ELSE webhook_ts(t) END
$$;
