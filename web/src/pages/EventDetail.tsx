// One event: its selections with their current odds (refreshed while it is
// open), placing a bet (members), the bets on it settling, and for tenant
// admins: open or close betting, change odds, post the result, cancel.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, call, sendIdempotent } from "../api/client";
import { fieldMessage, withoutField, type ErrorView } from "../api/problem";
import type { Bet, BetCreate, SportEvent } from "../api/types";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { useOperations, type OpCheck } from "../components/Operations";
import { useTenantScope } from "../components/tenantContext";
import { ConfirmButton, Empty, ErrorBanner, Field, Loading, Money, Notice, PageHeader, SelectField, StatusBadge, Time, cx } from "../components/ui";
import { checkOdds } from "../lib/eventForm";
import { formatMoney, parseAmount, payoutMinor, sameOdds } from "../lib/money";
import { dataOf, useLoad } from "../lib/useLoad";
import { useIdempotentAction, usePoll } from "../lib/usePaged";
import { BetReturns, BetStatus } from "./Bets";

/** While an event takes bets its odds may change: reload this often. */
const ODDS_REFRESH_MS = 5000;
const SETTLE_POLL_MS = 2000;

export function EventDetail() {
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const { eventId = "" } = useParams();
  const path = { tenant_id: tenantId, event_id: eventId };
  const [load, reload] = useLoad(() => call(api.GET("/v1/tenants/{tenant_id}/events/{event_id}", { params: { path } })), [tenantId, eventId]);
  const etag = useRef<string | null>(null);
  if (load.kind === "ok") etag.current = load.response.headers.get("ETag");
  const ev = dataOf(load);
  const final = ev?.status === "settled" || ev?.status === "cancelled";
  const settling = !!ev && final && ev.bets_settled_at === null;
  usePoll(!!ev && (ev.status === "open" || ev.status === "scheduled"), reload, ODDS_REFRESH_MS);
  usePoll(settling, reload, SETTLE_POLL_MS);
  const [notice, setNotice] = useState<string>();
  const [betsTick, setBetsTick] = useState(0);

  if (!ev)
    return (
      <>
        <PageHeader title={load.kind === "error" ? (load.error.status === 404 ? "Event not found" : "Event not available") : "Event"} />
        <p>
          <Link to={`/app/tenants/${tenantId}/events`}>← All events</Link>
        </p>
        {load.kind === "error" ? <ErrorBanner error={load.error} onRetry={reload} /> : <Loading what="Loading the event" />}
      </>
    );

  const manage = can(viewer, "events.manage", tenantId);
  const bettor = can(viewer, "bets.place", tenantId);
  const winner = ev.result ? ev.selections.find((s) => s.key === ev.result) : undefined;
  return (
    <>
      <PageHeader title={ev.name}>
        <StatusBadge status={ev.status} />
      </PageHeader>
      <p className="subhead">
        <Link to={`/app/tenants/${tenantId}/events`}>← All events</Link>
        <span className="muted">
          {ev.sport} · starts <Time iso={ev.starts_at} />
        </span>
      </p>
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      {ev.status === "settled" && (
        <div className="alert alert-info" role="status" data-testid="event-result">
          <p className="alert-message">
            Result: <strong>{winner?.name ?? ev.result}</strong> won.{" "}
            {ev.bets_settled_at ? (
              <>
                Every bet was settled <Time iso={ev.bets_settled_at} />.
              </>
            ) : (
              "Bets are being settled…"
            )}
          </p>
        </div>
      )}
      {ev.status === "cancelled" && (
        <div className="alert alert-info" role="status">
          <p className="alert-message">
            This event was cancelled. {ev.bets_settled_at ? "Every stake was refunded." : "Stakes are being refunded…"}
          </p>
        </div>
      )}
      <div className="cards">
        <Selections ev={ev} />
        {bettor && ev.status === "open" && (
          <BetSlip
            tenantId={tenantId}
            ev={ev}
            onOddsChanged={reload}
            onPlaced={(b) => {
              const name = ev.selections.find((s) => s.key === b.selection)?.name ?? b.selection;
              setNotice(
                `Bet placed: ${formatMoney(b.stake_minor, b.currency)} on ${name} at ${b.odds}. It returns ${formatMoney(b.potential_payout_minor, b.currency)} if ${name} wins.`,
              );
              setBetsTick((t) => t + 1);
            }}
          />
        )}
        {bettor && ev.status !== "open" && !final && (
          <section className="card">
            <h2>Place a bet</h2>
            <p className="muted">{ev.status === "scheduled" ? "Betting has not opened yet." : "Betting is closed."}</p>
          </section>
        )}
        {manage && !final && (
          <AdminPanel
            tenantId={tenantId}
            ev={ev}
            etag={etag.current}
            onDone={(m) => {
              setNotice(m);
              reload();
            }}
            onStale={reload}
          />
        )}
      </div>
      <EventBets tenantId={tenantId} ev={ev} mine={!can(viewer, "bets.read_all", tenantId)} tick={betsTick} />
    </>
  );
}

function Selections({ ev }: { ev: SportEvent }) {
  return (
    <section className="card" aria-labelledby="ev-odds">
      <h2 id="ev-odds">Selections and odds</h2>
      <table className="table odds-table" aria-label="Selections">
        <thead>
          <tr>
            <th scope="col">Selection</th>
            <th scope="col" className="num">
              Odds
            </th>
          </tr>
        </thead>
        <tbody>
          {ev.selections.map((s) => (
            <tr key={s.key} className={ev.result === s.key ? "row-won" : undefined} data-selection={s.key}>
              <td>
                {s.name}
                {ev.result === s.key && <span className="badge badge-ok badge-gap">winner</span>}
              </td>
              <td className="num odds" data-testid={`odds-${s.key}`}>
                {s.odds}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {(ev.status === "open" || ev.status === "scheduled") && <p className="small muted">Odds are refreshed every few seconds.</p>}
    </section>
  );
}

const BET_FIELDS = ["selection", "stake_minor", "currency"] as const;

function BetSlip({
  tenantId,
  ev,
  onPlaced,
  onOddsChanged,
}: {
  tenantId: string;
  ev: SportEvent;
  onPlaced: (b: Bet) => void;
  onOddsChanged: () => void;
}) {
  const [wallet, reloadWallet] = useLoad(() => call(api.GET("/v1/tenants/{tenant_id}/wallet", { params: { path: { tenant_id: tenantId } } })), [tenantId]);
  const balances = dataOf(wallet)?.balances ?? [];
  const [selection, setSelection] = useState(ev.selections[0]?.key ?? "");
  const chosen = ev.selections.find((s) => s.key === selection);
  // The odds the person saw when choosing: a refresh that changes them is
  // pointed out before the bet is placed at the new odds.
  const [seenOdds, setSeenOdds] = useState(chosen?.odds ?? "");
  const [stake, setStake] = useState("");
  const [currencyChoice, setCurrency] = useState("");
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const action = useIdempotentAction();
  const currency = currencyChoice || balances[0]?.currency || "";
  const balance = balances.find((b) => b.currency === currency);
  const parsed = currency ? parseAmount(stake, currency) : undefined;
  const returns = parsed?.ok && chosen ? payoutMinor(parsed.minor, chosen.odds) : undefined;
  const oddsMoved = !!chosen && seenOdds !== "" && !sameOdds(seenOdds, chosen.odds);

  useEffect(() => {
    if (!chosen && ev.selections[0]) setSelection(ev.selections[0].key);
  }, [chosen, ev.selections]);

  function choose(key: string) {
    setSelection(key);
    setSeenOdds(ev.selections.find((s) => s.key === key)?.odds ?? "");
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!chosen) return;
    const fields: Record<string, string[]> = {};
    if (!currency) fields.currency = ["Choose a currency"];
    if (!parsed || !parsed.ok) fields.stake_minor = [parsed && !parsed.ok ? parsed.message : "Enter a stake"];
    else if (balance && parsed.minor > balance.available_minor)
      fields.stake_minor = [`More than your balance of ${formatMoney(balance.available_minor, currency)}`];
    if (Object.keys(fields).length > 0 || !parsed?.ok) return setError({ message: "Some of what you entered needs fixing.", fields, other: [] });
    // The odds sent are the ones on the screen now: the server refuses the
    // bet (409) if they are no longer the current ones.
    const body: BetCreate = { event_id: ev.id, selection: chosen.key, stake_minor: parsed.minor, currency, odds: chosen.odds };
    setBusy(true);
    const r = await sendIdempotent(action, body, (key) =>
      call(
        api.POST("/v1/tenants/{tenant_id}/bets", { params: { path: { tenant_id: tenantId }, header: { "Idempotency-Key": key } }, body }),
        BET_FIELDS,
      ),
    );
    setBusy(false);
    reloadWallet();
    if (!r.ok) {
      setError(r.error);
      if (r.error.code === "odds-changed") {
        setSeenOdds(r.error.currentOdds ?? chosen.odds);
        onOddsChanged();
      } else if (r.error.code === "insufficient-funds" && balance) {
        setError({
          ...r.error,
          message: `Your ${currency} balance of ${formatMoney(balance.available_minor, currency)} does not cover a stake of ${formatMoney(parsed.minor, currency)}. Nothing was staked.`,
        });
      } else if (r.error.code === "betting-closed") onOddsChanged();
      return;
    }
    setError(undefined);
    setStake("");
    setSeenOdds(chosen.odds);
    onPlaced(r.data);
  }

  return (
    <section className="card form-card" aria-labelledby="bet-new">
      <h2 id="bet-new">Place a bet</h2>
      {wallet.kind === "error" && <ErrorBanner error={wallet.error} onRetry={reloadWallet} />}
      {wallet.kind !== "error" && !dataOf(wallet) && <Loading what="Loading your wallet" />}
      {dataOf(wallet) && balances.length === 0 ? (
        <p>
          Your wallet is empty. <Link to={`/app/tenants/${tenantId}/wallet`}>Deposit money</Link> to place a bet.
        </p>
      ) : (
        dataOf(wallet) && (
          <form onSubmit={submit} noValidate>
            <ErrorBanner error={error} />
            <fieldset className="field pick">
              <legend>Your pick</legend>
              <div className="pick-list" role="radiogroup" aria-label="Selection">
                {ev.selections.map((s) => (
                  <label key={s.key} className={cx("pick-option", s.key === selection && "pick-option-on")}>
                    <input type="radio" name="selection" value={s.key} checked={s.key === selection} onChange={() => choose(s.key)} />
                    <span className="pick-name">{s.name}</span>
                    <span className="pick-odds">{s.odds}</span>
                  </label>
                ))}
              </div>
            </fieldset>
            {oddsMoved && chosen && (
              <p className="odds-moved" role="status">
                The odds of {chosen.name} changed from {seenOdds} to <strong>{chosen.odds}</strong>. Your bet will be placed at {chosen.odds}.
              </p>
            )}
            <div className="form-grid">
              <Field
                label="Stake"
                name="stake"
                inputMode="decimal"
                autoComplete="off"
                value={stake}
                error={fieldMessage(error, "stake_minor")}
                hint={balance ? `Available: ${formatMoney(balance.available_minor, balance.currency)}` : undefined}
                onChange={(e) => {
                  setStake(e.target.value);
                  setError((er) => withoutField(er, "stake_minor"));
                }}
              />
              <SelectField
                label="Currency"
                name="currency"
                value={currency}
                options={balances.map((b) => ({ value: b.currency, label: b.currency }))}
                error={fieldMessage(error, "currency")}
                onChange={(e) => setCurrency(e.target.value)}
              />
            </div>
            <p className="returns" data-testid="bet-returns">
              {chosen && returns !== undefined && currency ? (
                <>
                  At odds <strong>{chosen.odds}</strong> a win returns <strong>{formatMoney(returns, currency)}</strong> (your stake included).
                </>
              ) : (
                <span className="muted">Enter a stake to see what a win returns.</span>
              )}
            </p>
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={busy || !chosen}>
                {busy ? "Placing…" : chosen ? `Place bet on ${chosen.name} at ${chosen.odds}` : "Place bet"}
              </button>
            </div>
          </form>
        )
      )}
    </section>
  );
}

/** Follow the settlement (or refunds) of an event's bets until
 * `bets_settled_at` is set. */
function followSettlement(ops: ReturnType<typeof useOperations>, tenantId: string, ev: SportEvent, cancelled: boolean) {
  const path = { tenant_id: tenantId, event_id: ev.id };
  ops.track(cancelled ? `Refunding the stakes on “${ev.name}”` : `Settling the bets on “${ev.name}”`, async (): Promise<OpCheck> => {
    const r = await call(api.GET("/v1/tenants/{tenant_id}/events/{event_id}", { params: { path } }));
    if (!r.ok) {
      const s = r.error.status;
      return { ok: false, error: r.error, final: s !== undefined && s >= 400 && s < 500 && s !== 429 };
    }
    if (r.data.bets_settled_at === null) return { ok: true, state: { phase: "running", detail: cancelled ? "refunding stakes" : "settling bets" } };
    return {
      ok: true,
      state: { phase: "succeeded", message: cancelled ? `All stakes on “${ev.name}” are back in the wallets.` : `All bets on “${ev.name}” are settled.` },
    };
  });
}

function AdminPanel({
  tenantId,
  ev,
  etag,
  onDone,
  onStale,
}: {
  tenantId: string;
  ev: SportEvent;
  etag: string | null;
  onDone: (message: string) => void;
  onStale: () => void;
}) {
  const path = { tenant_id: tenantId, event_id: ev.id };
  const [error, setError] = useState<ErrorView>();
  const [editing, setEditing] = useState(false);
  const [odds, setOdds] = useState<Record<string, string>>({});
  const [winner, setWinner] = useState(ev.selections[0]?.key ?? "");
  const [busy, setBusy] = useState(false);
  const resultAction = useIdempotentAction();
  const cancelAction = useIdempotentAction();
  const ops = useOperations();
  const ifMatch = etag ? { "If-Match": etag } : {};

  const failed = (e: ErrorView) => {
    setError(e);
    if (e.status === 412 || e.code === "event-final") onStale();
  };

  async function setStatus(status: "open" | "closed") {
    setBusy(true);
    const r = await call(api.PATCH("/v1/tenants/{tenant_id}/events/{event_id}", { params: { path, header: ifMatch }, body: { status } }));
    setBusy(false);
    if (!r.ok) return failed(r.error);
    setError(undefined);
    onDone(status === "open" ? "Betting is open." : "Betting is closed.");
  }

  async function saveOdds(e: FormEvent) {
    e.preventDefault();
    const changes = ev.selections
      .filter((s) => odds[s.key] !== undefined && !sameOdds(odds[s.key] ?? "", s.odds))
      .map((s) => ({ key: s.key, odds: (odds[s.key] ?? "").trim() }));
    const problems = changes.flatMap((c) => {
      const p = checkOdds(c.odds);
      return p ? [`${ev.selections.find((s) => s.key === c.key)?.name ?? c.key}: ${p}`] : [];
    });
    if (problems.length > 0) return setError({ message: "Some odds need fixing.", fields: {}, other: problems.map((m) => ({ field: "odds", message: m })) });
    if (changes.length === 0) {
      setEditing(false);
      return;
    }
    setBusy(true);
    const r = await call(api.PATCH("/v1/tenants/{tenant_id}/events/{event_id}", { params: { path, header: ifMatch }, body: { selections: changes } }));
    setBusy(false);
    if (!r.ok) return failed(r.error);
    setError(undefined);
    setEditing(false);
    setOdds({});
    onDone(`Odds updated: ${changes.map((c) => `${ev.selections.find((s) => s.key === c.key)?.name ?? c.key} ${c.odds}`).join(", ")}. Bets already placed keep their odds.`);
  }

  async function postResult() {
    const body = { winning_selection: winner };
    const r = await sendIdempotent(resultAction, body, (key) =>
      call(api.POST("/v1/tenants/{tenant_id}/events/{event_id}/result", { params: { path, header: { ...ifMatch, "Idempotency-Key": key } }, body })),
    );
    if (!r.ok) return failed(r.error);
    setError(undefined);
    followSettlement(ops, tenantId, ev, false);
    onDone(`Result posted: ${ev.selections.find((s) => s.key === winner)?.name ?? winner} won.`);
  }

  async function cancel() {
    const r = await sendIdempotent(cancelAction, { cancel: ev.id }, (key) =>
      call(api.POST("/v1/tenants/{tenant_id}/events/{event_id}/cancel", { params: { path, header: { ...ifMatch, "Idempotency-Key": key } } })),
    );
    if (!r.ok) return failed(r.error);
    setError(undefined);
    followSettlement(ops, tenantId, ev, true);
    onDone("Event cancelled.");
  }

  const winnerName = ev.selections.find((s) => s.key === winner)?.name ?? winner;
  return (
    <section className="card" aria-labelledby="ev-admin">
      <h2 id="ev-admin">Manage the event</h2>
      <ErrorBanner error={error} />
      <div className="admin-block">
        <h3>Betting</h3>
        <p className="muted small">
          {ev.status === "open" ? "Members can bet until it starts." : ev.status === "scheduled" ? "Not open for bets yet." : "Closed: no more bets."}
        </p>
        {ev.status === "open" ? (
          <button type="button" className="btn btn-small" disabled={busy} onClick={() => setStatus("closed")}>
            Close betting
          </button>
        ) : (
          new Date(ev.starts_at).getTime() > Date.now() && (
            <button type="button" className="btn btn-small" disabled={busy} onClick={() => setStatus("open")}>
              Open betting
            </button>
          )
        )}
      </div>
      <div className="admin-block">
        <h3>Odds</h3>
        {!editing ? (
          <button type="button" className="btn btn-small" onClick={() => setEditing(true)}>
            Change odds
          </button>
        ) : (
          <form onSubmit={saveOdds} noValidate className="odds-form">
            {ev.selections.map((s) => (
              <label key={s.key} className="odds-edit">
                <span>{s.name}</span>
                <input inputMode="decimal" aria-label={`Odds of ${s.name}`} value={odds[s.key] ?? s.odds} onChange={(e) => setOdds({ ...odds, [s.key]: e.target.value })} />
              </label>
            ))}
            <div className="form-actions">
              <button type="submit" className="btn btn-small btn-primary" disabled={busy}>
                Save odds
              </button>
              <button type="button" className="btn btn-small btn-quiet" onClick={() => (setEditing(false), setOdds({}))}>
                Cancel
              </button>
            </div>
          </form>
        )}
      </div>
      <div className="admin-block">
        <h3>Result</h3>
        <div className="inline-form">
          <SelectField
            label="Winner"
            name="winning_selection"
            className="field-inline"
            value={winner}
            options={ev.selections.map((s) => ({ value: s.key, label: s.name }))}
            onChange={(e) => setWinner(e.target.value)}
          />
          <ConfirmButton
            label="Post result"
            danger={false}
            confirm={`Settle every bet with ${winnerName} winning? This cannot be undone.`}
            confirmLabel="Post result"
            onConfirm={postResult}
          />
        </div>
      </div>
      <div className="admin-block">
        <h3>Cancel</h3>
        <ConfirmButton label="Cancel event" confirm="Cancel it and refund every stake?" confirmLabel="Cancel event" onConfirm={cancel} />
      </div>
    </section>
  );
}

/** The bets on this event: the caller's own (members) or everyone's. Polled
 * while any is still pending, or waiting to be settled after the result. */
function EventBets({ tenantId, ev, mine, tick }: { tenantId: string; ev: SportEvent; mine: boolean; tick: number }) {
  const [load, reload] = useLoad(
    () =>
      call(api.GET("/v1/tenants/{tenant_id}/bets", { params: { path: { tenant_id: tenantId }, query: { event_id: ev.id, limit: 50 } } })),
    [tenantId, ev.id, tick, ev.status, ev.bets_settled_at],
  );
  const bets = dataOf(load)?.data ?? [];
  const final = ev.status === "settled" || ev.status === "cancelled";
  usePoll(bets.some((b) => b.status === "pending" || (final && b.status === "accepted")), reload, SETTLE_POLL_MS);
  const name = (key: string) => ev.selections.find((s) => s.key === key)?.name ?? key;
  return (
    <section aria-labelledby="ev-bets">
      <h2 id="ev-bets">{mine ? "Your bets on this event" : "Bets on this event"}</h2>
      {load.kind === "error" && <ErrorBanner error={load.error} onRetry={reload} />}
      {!dataOf(load) && load.kind === "loading" && <Loading />}
      {dataOf(load) && bets.length === 0 && <Empty>{mine ? "You have no bets on this event." : "No bets on this event yet."}</Empty>}
      {bets.length > 0 && (
        <div className="table-wrap">
          <table className="table table-stack" aria-label="Bets on this event">
            <thead>
              <tr>
                <th scope="col">Placed</th>
                <th scope="col">Selection</th>
                <th scope="col" className="num">
                  Stake
                </th>
                <th scope="col" className="num">
                  Odds
                </th>
                <th scope="col" className="num">
                  Returns
                </th>
                <th scope="col">Status</th>
                {!mine && <th scope="col">Member</th>}
              </tr>
            </thead>
            <tbody>
              {bets.map((b) => (
                <tr key={b.id} data-bet={b.id}>
                  <td data-label="Placed" className="nowrap">
                    <Time iso={b.created_at} />
                  </td>
                  <td data-label="Selection">{name(b.selection)}</td>
                  <td data-label="Stake" className="num">
                    <Money minor={b.stake_minor} currency={b.currency} />
                  </td>
                  <td data-label="Odds" className="num">
                    {b.odds}
                  </td>
                  <td data-label="Returns" className="num">
                    <BetReturns bet={b} />
                  </td>
                  <td data-label="Status">
                    <BetStatus bet={b} />
                  </td>
                  {!mine && (
                    <td data-label="Member">
                      <code className="small" title={b.user_id}>
                        {b.user_id.slice(0, 8)}
                      </code>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
