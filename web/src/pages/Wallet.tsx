// PLACEHOLDER (FEATURES.wallet): the caller's balances, deposits and
// withdrawals, and payment history. Typed locally until …/wallet and
// …/payments are in openapi.yaml.
import { useRef, useState, type FormEvent } from "react";
import { callUntyped, newIdempotencyKey } from "../api/client";
import type { Payment, PaymentCreate, Wallet as WalletT } from "../api/local-types";
import { fieldMessage, type ErrorView } from "../api/problem";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { Empty, ErrorBanner, Field, Loading, Notice, PageHeader, SelectField, StatusBadge, Time } from "../components/ui";
import { formatMoney, parseAmount } from "../lib/money";
import { usePagedUntyped } from "../lib/usePaged";
import { dataOf, useLoad } from "../lib/useLoad";

export function Wallet() {
  const { tenantId } = useTenantScope();
  const base = `/v1/tenants/${encodeURIComponent(tenantId)}`;
  const [wallet, reloadWallet] = useLoad(() => callUntyped<WalletT>("GET", `${base}/wallet`), [base]);
  const payments = usePagedUntyped<Payment>(`${base}/payments`, {});
  const [notice, setNotice] = useState<string>();
  const w = dataOf(wallet);
  return (
    <>
      <PageHeader title="Wallet" />
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <div className="cards">
        <section className="card" aria-labelledby="bal-title">
          <h2 id="bal-title">Balance</h2>
          {wallet.kind === "error" && <ErrorBanner error={wallet.error} onRetry={reloadWallet} />}
          {!w && wallet.kind === "loading" && <Loading />}
          {w && w.balances.length === 0 && <Empty>No money yet. Make a deposit to start.</Empty>}
          {w && w.balances.length > 0 && (
            <ul className="balances">
              {w.balances.map((b) => (
                <li key={b.currency}>
                  <span className="balance">{formatMoney(b.available_minor, b.currency)}</span> <span className="muted">{b.currency}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <MoveMoney
          url={`${base}/payments`}
          defaultCurrency={w?.balances[0]?.currency ?? ""}
          onDone={(p) => {
            setNotice(`${p.direction === "deposit" ? "Deposit" : "Withdrawal"} of ${formatMoney(p.amount_minor, p.currency)}: ${p.status}.`);
            reloadWallet();
            payments.reload();
          }}
        />
      </div>
      <h2>Payments</h2>
      <PagedTable<Payment>
        label="Payments"
        {...payments}
        empty="No payments yet."
        head={
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">Amount</th>
            <th scope="col">Status</th>
          </tr>
        }
        row={(p) => (
          <tr key={p.id}>
            <td className="nowrap">
              <Time iso={p.created_at} />
            </td>
            <td>{p.direction}</td>
            <td className="num">{formatMoney(p.amount_minor, p.currency)}</td>
            <td>
              <StatusBadge status={p.status} />
            </td>
          </tr>
        )}
      />
    </>
  );
}

const PAY_FIELDS = ["direction", "amount_minor", "currency"];

function MoveMoney({ url, defaultCurrency, onDone }: { url: string; defaultCurrency: string; onDone: (p: Payment) => void }) {
  const [direction, setDirection] = useState<"deposit" | "withdrawal">("deposit");
  const [amount, setAmount] = useState("");
  const [currency, setCurrency] = useState("");
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const key = useRef(newIdempotencyKey());
  const touch = () => (key.current = newIdempotencyKey());
  const cur = (currency || defaultCurrency).trim().toUpperCase();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string[]> = {};
    if (!/^[A-Z]{3}$/.test(cur)) fields.currency = ["A three-letter currency code, like EUR"];
    const parsed = parseAmount(amount, cur || "EUR");
    if (!parsed.ok) fields.amount_minor = [parsed.message];
    if (!parsed.ok || Object.keys(fields).length > 0) return setError({ message: "Some of what you entered needs fixing.", fields, other: [] });
    const body: PaymentCreate = { direction, amount_minor: parsed.minor, currency: cur };
    setBusy(true);
    const r = await callUntyped<Payment>("POST", url, { body, headers: { "Idempotency-Key": key.current }, formFields: PAY_FIELDS });
    setBusy(false);
    if (!r.ok) return setError(r.error);
    key.current = newIdempotencyKey();
    setError(undefined);
    setAmount("");
    onDone(r.data);
  }

  return (
    <section className="card form-card" aria-labelledby="move-title">
      <h2 id="move-title">Deposit or withdraw</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <SelectField
          label="Kind"
          name="direction"
          value={direction}
          options={[
            { value: "deposit", label: "Deposit" },
            { value: "withdrawal", label: "Withdrawal" },
          ]}
          onChange={(e) => (touch(), setDirection(e.target.value as "deposit" | "withdrawal"))}
        />
        <div className="form-grid">
          <Field label="Amount" name="amount" inputMode="decimal" value={amount} error={fieldMessage(error, "amount_minor")} onChange={(e) => (touch(), setAmount(e.target.value))} />
          <Field label="Currency" name="currency" maxLength={3} placeholder={defaultCurrency || "EUR"} value={currency} error={fieldMessage(error, "currency")} onChange={(e) => (touch(), setCurrency(e.target.value))} />
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Sending…" : direction === "deposit" ? "Deposit" : "Withdraw"}
          </button>
        </div>
      </form>
    </section>
  );
}
