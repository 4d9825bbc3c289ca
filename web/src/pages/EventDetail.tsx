// PLACEHOLDER (FEATURES.events, FEATURES.bets): one event: odds, placing a
// bet (members), posting the result or cancelling (admins).
import { useRef, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { callUntyped, newIdempotencyKey } from "../api/client";
import type { Bet, BetCreate, SportEvent } from "../api/local-types";
import { fieldMessage, type ErrorView } from "../api/problem";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Field, Loading, Notice, PageHeader, SelectField, StatusBadge, Time } from "../components/ui";
import { FEATURES } from "../features";
import { formatMoney, parseAmount } from "../lib/money";
import { dataOf, useLoad } from "../lib/useLoad";
import { ConfirmButton } from "./Namespaces";

export function EventDetail() {
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const { eventId = "" } = useParams();
  const url = `/v1/tenants/${encodeURIComponent(tenantId)}/events/${encodeURIComponent(eventId)}`;
  const [load, reload] = useLoad(() => callUntyped<SportEvent>("GET", url), [url]);
  const [notice, setNotice] = useState<string>();
  const [actionError, setActionError] = useState<ErrorView>();
  const ev = dataOf(load);
  if (load.kind === "error" && !ev)
    return (
      <>
        <PageHeader title="Event" />
        <ErrorBanner error={load.error} onRetry={reload} />
      </>
    );
  if (!ev) return <Loading what="Loading the event" />;
  const open = ev.status !== "settled" && ev.status !== "cancelled";
  const manage = can(viewer, "events.manage", tenantId);

  async function act(path: string, body: unknown, done: string) {
    const r = await callUntyped<SportEvent>("POST", `${url}/${path}`, { body, headers: { "Idempotency-Key": newIdempotencyKey() } });
    if (!r.ok) return setActionError(r.error);
    setActionError(undefined);
    setNotice(done);
    reload();
  }

  return (
    <>
      <PageHeader title={ev.name}>
        <StatusBadge status={ev.status} />
      </PageHeader>
      <p>
        <Link to={`/app/tenants/${tenantId}/events`}>← All events</Link>
      </p>
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <ErrorBanner error={actionError} />
      <div className="cards">
        <section className="card" aria-labelledby="ev-odds">
          <h2 id="ev-odds">Selections</h2>
          <p className="muted">
            {ev.sport} · starts <Time iso={ev.starts_at} />
          </p>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Selection</th>
                <th scope="col">Odds</th>
                {manage && open && <th scope="col"><span className="sr-only">Result</span></th>}
              </tr>
            </thead>
            <tbody>
              {ev.selections.map((s) => (
                <tr key={s.key}>
                  <td>{s.name}</td>
                  <td>{s.odds}</td>
                  {manage && open && (
                    <td className="actions">
                      <ConfirmButton label="Winner" confirm={`Settle with “${s.name}” winning?`} onConfirm={() => act("result", { result: s.key }, `Result posted: ${s.name}. Bets are being settled.`)} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {ev.result != null && (
            <p>
              Result: <strong>{typeof ev.result === "string" ? ev.result : JSON.stringify(ev.result)}</strong>
            </p>
          )}
          {manage && open && (
            <p>
              <ConfirmButton label="Cancel event" confirm="Cancel the event and refund every stake?" onConfirm={() => act("cancel", {}, "Event cancelled. Stakes are being refunded.")} />
            </p>
          )}
        </section>
        {FEATURES.bets && open && can(viewer, "bets.place", tenantId) && <PlaceBet tenantId={tenantId} ev={ev} onPlaced={setNotice} />}
      </div>
    </>
  );
}

const BET_FIELDS = ["selection", "stake_minor", "currency"];

function PlaceBet({ tenantId, ev, onPlaced }: { tenantId: string; ev: SportEvent; onPlaced: (m: string) => void }) {
  const [selection, setSelection] = useState(ev.selections[0]?.key ?? "");
  const [stake, setStake] = useState("");
  const [currency, setCurrency] = useState("");
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const key = useRef(newIdempotencyKey());
  const touch = () => (key.current = newIdempotencyKey());

  async function submit(e: FormEvent) {
    e.preventDefault();
    const cur = currency.trim().toUpperCase();
    const fields: Record<string, string[]> = {};
    if (!/^[A-Z]{3}$/.test(cur)) fields.currency = ["A three-letter currency code, like EUR"];
    const amount = parseAmount(stake, cur || "EUR");
    if (!amount.ok) fields.stake_minor = [amount.message];
    if (!amount.ok || Object.keys(fields).length > 0) return setError({ message: "Some of what you entered needs fixing.", fields, other: [] });
    const body: BetCreate = { event_id: ev.id, selection, stake_minor: amount.minor, currency: cur };
    setBusy(true);
    const r = await callUntyped<Bet>("POST", `/v1/tenants/${encodeURIComponent(tenantId)}/bets`, {
      body,
      headers: { "Idempotency-Key": key.current },
      formFields: BET_FIELDS,
    });
    setBusy(false);
    if (!r.ok) return setError(r.error);
    key.current = newIdempotencyKey();
    setError(undefined);
    setStake("");
    onPlaced(`Bet placed: ${formatMoney(r.data.stake_minor, r.data.currency)} at ${r.data.odds} (status ${r.data.status}).`);
  }

  return (
    <section className="card form-card" aria-labelledby="bet-new">
      <h2 id="bet-new">Place a bet</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <SelectField
          label="Selection"
          name="selection"
          value={selection}
          options={ev.selections.map((s) => ({ value: s.key, label: `${s.name} (${s.odds})` }))}
          error={fieldMessage(error, "selection")}
          onChange={(e) => (touch(), setSelection(e.target.value))}
        />
        <div className="form-grid">
          <Field label="Stake" name="stake" inputMode="decimal" value={stake} error={fieldMessage(error, "stake_minor")} onChange={(e) => (touch(), setStake(e.target.value))} />
          <Field label="Currency" name="currency" maxLength={3} placeholder="EUR" value={currency} error={fieldMessage(error, "currency")} onChange={(e) => (touch(), setCurrency(e.target.value))} />
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Placing…" : "Place bet"}
          </button>
        </div>
      </form>
    </section>
  );
}
