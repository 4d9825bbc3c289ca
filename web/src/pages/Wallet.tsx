// A member's own wallet: balances, deposit and withdraw (Idempotency-Key per
// action), and its payment history.
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { api, call, sendIdempotent } from "../api/client";
import { fieldMessage, withoutField, type ErrorView } from "../api/problem";
import type { Payment, PaymentCreate, PaymentDirection, PaymentStatus, Wallet as WalletT } from "../api/types";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { Empty, ErrorBanner, Field, Loading, Money, Notice, PageHeader, SelectField, StatusBadge, Time, Toolbar, cx } from "../components/ui";
import { formatMoney, parseAmount } from "../lib/money";
import { dataOf, useLoad } from "../lib/useLoad";
import { useIdempotentAction, usePaged } from "../lib/usePaged";

export const DIRECTIONS: PaymentDirection[] = ["deposit", "withdrawal"];
export const PAYMENT_STATUSES: PaymentStatus[] = ["pending", "succeeded", "failed"];
const CURRENCIES = ["EUR", "GBP", "USD", "CHF", "SEK", "NOK", "DKK", "PLN", "JPY"];

export function Balances({ wallet, empty }: { wallet: WalletT; empty: string }) {
  if (wallet.balances.length === 0) return <Empty>{empty}</Empty>;
  return (
    <ul className="balances" aria-label="Balances">
      {wallet.balances.map((b) => (
        <li key={b.currency} data-currency={b.currency}>
          <span className="balance" data-testid={`balance-${b.currency}`}>
            {formatMoney(b.available_minor, b.currency)}
          </span>
          <span className="muted small">available in {b.currency}</span>
        </li>
      ))}
    </ul>
  );
}

export function Wallet() {
  const { tenantId } = useTenantScope();
  const path = { tenant_id: tenantId };
  const [wallet, reloadWallet] = useLoad(() => call(api.GET("/v1/tenants/{tenant_id}/wallet", { params: { path } })), [tenantId]);
  const [search, setSearch] = useSearchParams();
  const direction = DIRECTIONS.find((d) => d === search.get("direction"));
  const status = PAYMENT_STATUSES.find((s) => s === search.get("status"));
  const payments = usePaged(
    (cursor) =>
      call(api.GET("/v1/tenants/{tenant_id}/payments", { params: { path, query: { limit: 20, cursor: cursor ?? undefined, direction, status } } })),
    [tenantId, direction, status],
  );
  const [notice, setNotice] = useState<string>();
  const w = dataOf(wallet);
  const setFilter = (k: string, v: string) => {
    const next = new URLSearchParams(search);
    if (v) next.set(k, v);
    else next.delete(k);
    setSearch(next);
  };

  return (
    <>
      <PageHeader title="Wallet" />
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <div className="cards">
        <section className="card balance-card" aria-labelledby="bal-title">
          <h2 id="bal-title">Balance</h2>
          {wallet.kind === "error" && <ErrorBanner error={wallet.error} onRetry={reloadWallet} />}
          {!w && wallet.kind === "loading" && <Loading />}
          {w && <Balances wallet={w} empty="No money yet. Make a deposit to start." />}
        </section>
        {w && (
          <MoveMoney
            tenantId={tenantId}
            wallet={w}
            onAttempt={() => setNotice(undefined)}
            onDone={(p) => {
              setNotice(`${p.direction === "deposit" ? "Deposited" : "Withdrew"} ${formatMoney(p.amount_minor, p.currency)}.`);
              reloadWallet();
              payments.reload();
            }}
          />
        )}
      </div>
      <h2>Payment history</h2>
      <Toolbar label="Filter payments">
        <SelectField
          label="Kind"
          name="direction"
          className="field-inline"
          value={direction ?? ""}
          options={[{ value: "", label: "Deposits and withdrawals" }, { value: "deposit", label: "Deposits" }, { value: "withdrawal", label: "Withdrawals" }]}
          onChange={(e) => setFilter("direction", e.target.value)}
        />
        <SelectField
          label="Status"
          name="status"
          className="field-inline"
          value={status ?? ""}
          options={[{ value: "", label: "Any" }, ...PAYMENT_STATUSES.map((s) => ({ value: s, label: s }))]}
          onChange={(e) => setFilter("status", e.target.value)}
        />
      </Toolbar>
      <PagedTable<Payment>
        label="Payments"
        {...payments}
        empty={direction || status ? "No payments match these filters." : "No payments yet."}
        head={
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col">Status</th>
          </tr>
        }
        row={(p) => (
          <tr key={p.id} data-payment={p.id}>
            <td data-label="When" className="nowrap">
              <Time iso={p.created_at} />
            </td>
            <td data-label="Kind">{p.direction === "deposit" ? "Deposit" : "Withdrawal"}</td>
            <td data-label="Amount" className="num">
              <Money minor={p.direction === "deposit" ? p.amount_minor : -p.amount_minor} currency={p.currency} signed />
            </td>
            <td data-label="Status">
              <StatusBadge status={p.status} />
            </td>
          </tr>
        )}
      />
    </>
  );
}

const PAY_FIELDS = ["direction", "amount_minor", "currency"] as const;

function MoveMoney({
  tenantId,
  wallet,
  onDone,
  onAttempt,
}: {
  tenantId: string;
  wallet: WalletT;
  onDone: (p: Payment) => void;
  onAttempt: () => void;
}) {
  const [direction, setDirection] = useState<PaymentDirection>("deposit");
  const [amount, setAmount] = useState("");
  const held = wallet.balances.map((b) => b.currency);
  const [currencyChoice, setCurrency] = useState("");
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const action = useIdempotentAction();
  const options = direction === "withdrawal" ? held : Array.from(new Set([...held, ...CURRENCIES]));
  const currency = options.includes(currencyChoice) ? currencyChoice : options[0] ?? "";
  const balance = wallet.balances.find((b) => b.currency === currency);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string[]> = {};
    if (!currency) fields.currency = ["Choose a currency"];
    const parsed = parseAmount(amount, currency || "EUR");
    if (!parsed.ok) fields.amount_minor = [parsed.message];
    if (!parsed.ok || Object.keys(fields).length > 0) return setError({ message: "Some of what you entered needs fixing.", fields, other: [] });
    const body: PaymentCreate = { direction, amount_minor: parsed.minor, currency };
    onAttempt();
    setBusy(true);
    const r = await sendIdempotent(action, body, (key) =>
      call(
        api.POST("/v1/tenants/{tenant_id}/payments", { params: { path: { tenant_id: tenantId }, header: { "Idempotency-Key": key } }, body }),
        PAY_FIELDS,
      ),
    );
    setBusy(false);
    if (!r.ok) {
      if (r.error.code === "insufficient-funds") {
        const have = balance ? formatMoney(balance.available_minor, currency) : formatMoney(0, currency);
        return setError({
          ...r.error,
          message: `You can't withdraw ${formatMoney(parsed.minor, currency)}: your ${currency} balance is ${have}. Nothing was moved.`,
        });
      }
      return setError(r.error);
    }
    setError(undefined);
    setAmount("");
    onDone(r.data);
  }

  return (
    <section className="card form-card" aria-labelledby="move-title">
      <h2 id="move-title">Move money</h2>
      <div className="segmented" role="group" aria-label="Deposit or withdraw">
        {DIRECTIONS.map((d) => (
          <button
            key={d}
            type="button"
            className={cx("segment", direction === d && "segment-on")}
            aria-pressed={direction === d}
            onClick={() => {
              setDirection(d);
              setError(undefined);
            }}
          >
            {d === "deposit" ? "Deposit" : "Withdraw"}
          </button>
        ))}
      </div>
      {direction === "withdrawal" && held.length === 0 ? (
        <p className="muted">There is nothing to withdraw yet.</p>
      ) : (
        <form onSubmit={submit} noValidate>
          <ErrorBanner error={error} />
          <div className="form-grid">
            <Field
              label="Amount"
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              placeholder="0.00"
              value={amount}
              hint={direction === "withdrawal" && balance ? `Available: ${formatMoney(balance.available_minor, currency)}` : undefined}
              error={fieldMessage(error, "amount_minor")}
              onChange={(e) => {
                setAmount(e.target.value);
                setError((er) => withoutField(er, "amount_minor"));
              }}
            />
            <SelectField
              label="Currency"
              name="currency"
              value={currency}
              options={options.map((c) => ({ value: c, label: c }))}
              error={fieldMessage(error, "currency")}
              onChange={(e) => setCurrency(e.target.value)}
            />
          </div>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? "Sending…" : direction === "deposit" ? "Deposit" : "Withdraw"}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
