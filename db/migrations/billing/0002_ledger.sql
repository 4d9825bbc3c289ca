-- The double-entry ledger: accounts, transactions and their entries.
--
-- Invariants the database itself enforces, whatever the application does
-- and under any concurrency:
--   * every transaction's entries sum to zero per currency, and every
--     transaction has at least two entries (deferred constraint triggers,
--     checked at COMMIT);
--   * an entry's currency and tenant are its account's (composite foreign
--     key);
--   * a wallet's balance is the sum of its entries: entries are
--     append-only, and the only way a balance changes is the trigger that
--     applies each new entry, in the same transaction; a direct UPDATE of a
--     balance is refused;
--   * no wallet balance is ever negative: CHECK on accounts. The entry
--     trigger's UPDATE takes the wallet's row lock and re-reads the latest
--     committed balance, so two concurrent debits serialise and the second
--     fails the CHECK (SQLSTATE 23514) if the first took the money;
--   * one transaction per (kind, reference): a payment's deposit or
--     withdrawal, a bet's stake, and at most one payout OR refund per bet.
--
-- Only wallets keep a running balance. The house and external accounts
-- take part in every bet and every payment of a tenant: a running balance
-- there would make all of a tenant's money movements queue on one row
-- lock. No invariant guards them (the house may lose, the external account
-- is the outside world), so their balance is the sum of their entries,
-- computed when read.
CREATE TABLE accounts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('user_wallet', 'house', 'external')),
    owner_user_id   uuid,
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance_minor   bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_owner CHECK ((kind = 'user_wallet') = (owner_user_id IS NOT NULL)),
    CONSTRAINT accounts_balance_kept CHECK ((kind = 'user_wallet') = (balance_minor IS NOT NULL)),
    CONSTRAINT accounts_wallet_not_negative CHECK (kind <> 'user_wallet' OR balance_minor >= 0),
    CONSTRAINT accounts_one_per_owner UNIQUE NULLS NOT DISTINCT (tenant_id, kind, owner_user_id, currency),
    CONSTRAINT accounts_id_currency UNIQUE (id, currency, tenant_id)
);

CREATE FUNCTION accounts_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.kind <> OLD.kind
       OR NEW.owner_user_id IS DISTINCT FROM OLD.owner_user_id OR NEW.currency <> OLD.currency THEN
        RAISE EXCEPTION 'an account''s owner, kind and currency never change';
    END IF;
    -- Depth 1 is a direct UPDATE; the entry trigger runs at depth 2.
    IF NEW.balance_minor IS DISTINCT FROM OLD.balance_minor AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'a balance changes only through ledger entries';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_guard BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_guard();

CREATE TABLE ledger_transactions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('deposit', 'withdrawal', 'stake', 'payout', 'refund')),
    reference       uuid NOT NULL,      -- the payment (deposit, withdrawal) or the bet
    user_id         uuid NOT NULL,      -- whose wallet it moves
    request_id      text,
    -- Stakes only: when reconciliation found the stake's bet (or refunded
    -- a stake whose bet was missing or rejected).
    confirmed_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_transactions_once UNIQUE (kind, reference)
);
-- A bet is settled with at most one payout or one refund, never both.
CREATE UNIQUE INDEX ledger_transactions_one_settlement ON ledger_transactions (reference)
    WHERE kind IN ('payout', 'refund');
CREATE INDEX ledger_transactions_tenant_idx ON ledger_transactions (tenant_id, created_at DESC, id DESC);
CREATE INDEX ledger_transactions_user_idx ON ledger_transactions (tenant_id, user_id, created_at DESC, id DESC);
CREATE INDEX ledger_transactions_unconfirmed_idx ON ledger_transactions (created_at)
    WHERE kind = 'stake' AND confirmed_at IS NULL;

CREATE FUNCTION ledger_transactions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'ledger transactions are append-only';
    END IF;
    IF (to_jsonb(NEW) - 'confirmed_at') <> (to_jsonb(OLD) - 'confirmed_at')
       OR OLD.confirmed_at IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transactions are append-only (only a stake''s confirmation is recorded later)';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_transactions_guard BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_transactions_guard();

CREATE TABLE ledger_entries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  uuid NOT NULL REFERENCES ledger_transactions (id),
    tenant_id       uuid NOT NULL,
    account_id      uuid NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor <> 0),
    currency        char(3) NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_entries_account FOREIGN KEY (account_id, currency, tenant_id)
        REFERENCES accounts (id, currency, tenant_id)
);
CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id);

CREATE FUNCTION ledger_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END $$;
CREATE TRIGGER ledger_entries_guard BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_guard();

-- Applies an entry to its wallet's balance in the same transaction. The
-- UPDATE locks the wallet row; the CHECK accounts_wallet_not_negative
-- refuses a debit the balance cannot cover.
CREATE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET balance_minor = balance_minor + NEW.amount_minor, updated_at = now()
     WHERE id = NEW.account_id AND kind = 'user_wallet';
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_apply_entry AFTER INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_apply_entry();

-- At COMMIT: the entries of each transaction touched sum to zero per
-- currency.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    SELECT currency INTO bad FROM ledger_entries
     WHERE transaction_id = NEW.transaction_id
     GROUP BY currency HAVING sum(amount_minor) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in %', NEW.transaction_id, bad;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- At COMMIT: a transaction has entries (two at least: one from, one to).
CREATE FUNCTION ledger_check_has_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM ledger_entries WHERE transaction_id = NEW.id) < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two entries', NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_transactions_has_entries AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_has_entries();

CREATE FUNCTION ledger_transaction_json(t ledger_transactions) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id', t.id, 'kind', t.kind, 'reference', t.reference, 'user_id', t.user_id,
        'entries', (SELECT COALESCE(json_agg(json_build_object(
                        'account', json_build_object('id', a.id, 'kind', a.kind,
                                                     'user_id', a.owner_user_id),
                        'amount_minor', e.amount_minor, 'currency', e.currency)
                      ORDER BY e.id), '[]'::json)
                    FROM ledger_entries e JOIN accounts a ON a.id = e.account_id
                    WHERE e.transaction_id = t.id),
        'created_at', rfc3339(t.created_at))
$$;

ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY accounts_scope ON accounts
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
ALTER TABLE ledger_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_transactions FORCE ROW LEVEL SECURITY;
CREATE POLICY ledger_transactions_scope ON ledger_transactions
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
ALTER TABLE ledger_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY ledger_entries_scope ON ledger_entries
    USING (current_setting('atrium.tenant_id', true) = '*'
           OR tenant_id::text = current_setting('atrium.tenant_id', true));
