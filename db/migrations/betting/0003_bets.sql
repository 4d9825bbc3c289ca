-- Bets. A bet is the betting side of a saga whose money side is the stake
-- transaction in billing_db (reference = the bet's id):
--   pending   the bet is recorded; its stake may or may not be posted yet
--   accepted  its stake is posted (exactly one: unique in billing_db)
--   rejected  no stake: the wallet could not cover it (insufficient_funds)
--             or the request never completed (expired, by reconciliation;
--             a stake that lands afterwards is refunded)
--   won, lost, void   settled: paid floor(stake x odds), nothing, or the
--             stake refunded (cancelled event)
-- The transitions are enforced here, so settling twice cannot pay twice
-- from this side either.
CREATE TABLE bets (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id               uuid NOT NULL,
    user_id                 uuid NOT NULL,
    event_id                uuid NOT NULL REFERENCES events (id),
    selection               text NOT NULL,
    stake_minor             bigint NOT NULL CHECK (stake_minor > 0),
    currency                char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    odds                    numeric NOT NULL CHECK (odds > 1),
    potential_payout_minor  bigint NOT NULL CHECK (potential_payout_minor >= stake_minor),
    payout_minor            bigint CHECK (payout_minor >= 0),
    status                  text NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'accepted', 'rejected', 'won', 'lost', 'void')),
    rejection_reason        text CHECK (rejection_reason IN ('insufficient_funds', 'expired')),
    idempotency_key         text,
    request_id              text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    settled_at              timestamptz,
    CONSTRAINT bets_idempotency UNIQUE (tenant_id, user_id, idempotency_key),
    CONSTRAINT bets_settled_fields CHECK ((status IN ('won', 'lost', 'void'))
                                          = (payout_minor IS NOT NULL AND settled_at IS NOT NULL)),
    CONSTRAINT bets_rejection_reason CHECK ((status = 'rejected') = (rejection_reason IS NOT NULL))
);
CREATE INDEX bets_tenant_idx ON bets (tenant_id, created_at DESC, id DESC);
CREATE INDEX bets_user_idx ON bets (tenant_id, user_id, created_at DESC, id DESC);
CREATE INDEX bets_event_idx ON bets (event_id, status);
CREATE INDEX bets_pending_idx ON bets (created_at) WHERE status = 'pending';

CREATE FUNCTION bets_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - ARRAY['status', 'rejection_reason', 'payout_minor', 'settled_at', 'updated_at'])
       <> (to_jsonb(OLD) - ARRAY['status', 'rejection_reason', 'payout_minor', 'settled_at', 'updated_at']) THEN
        RAISE EXCEPTION 'a bet''s terms never change';
    END IF;
    IF NEW.status <> OLD.status AND NOT (
           (OLD.status = 'pending' AND NEW.status IN ('accepted', 'rejected'))
        OR (OLD.status = 'accepted' AND NEW.status IN ('won', 'lost', 'void'))) THEN
        RAISE EXCEPTION 'a bet cannot go from % to %', OLD.status, NEW.status;
    END IF;
    IF NEW.status = OLD.status AND OLD.status IN ('rejected', 'won', 'lost', 'void')
       AND (NEW.payout_minor IS DISTINCT FROM OLD.payout_minor
            OR NEW.rejection_reason IS DISTINCT FROM OLD.rejection_reason) THEN
        RAISE EXCEPTION 'a % bet is final', OLD.status;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bets_guard BEFORE UPDATE ON bets
    FOR EACH ROW EXECUTE FUNCTION bets_guard();

CREATE FUNCTION bet_json(b bets) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', b.id, 'user_id', b.user_id, 'event_id', b.event_id, 'selection', b.selection,
        'stake_minor', b.stake_minor, 'currency', b.currency, 'odds', b.odds::text,
        'potential_payout_minor', b.potential_payout_minor, 'payout_minor', b.payout_minor,
        'status', b.status, 'rejection_reason', b.rejection_reason,
        'created_at', rfc3339(b.created_at), 'settled_at', rfc3339(b.settled_at))
$$;

ALTER TABLE bets ENABLE ROW LEVEL SECURITY;
ALTER TABLE bets FORCE ROW LEVEL SECURITY;
CREATE POLICY bets_scope ON bets
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
