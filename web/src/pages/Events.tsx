// A tenant's sporting events: anyone in the tenant reads them (with their
// current odds); tenant admins create them.
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, call, sendIdempotent } from "../api/client";
import { fieldMessage, withoutField, type ErrorView } from "../api/problem";
import type { EventStatus, SportEvent } from "../api/types";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Field, Notice, PageHeader, SelectField, StatusBadge, Time, Toolbar } from "../components/ui";
import { buildEventCreate, EVENT_FIELDS, isoToLocal, selectionKey, type EventForm, type SelectionRow } from "../lib/eventForm";
import { useIdempotentAction, usePaged } from "../lib/usePaged";

export const EVENT_STATUSES: EventStatus[] = ["scheduled", "open", "closed", "settled", "cancelled"];
const SPORTS = ["football", "tennis", "basketball", "cricket", "rugby", "golf", "ice hockey", "horse racing"];

export function eventPath(tenantId: string, id: string): string {
  return `/app/tenants/${tenantId}/events/${id}`;
}

/** The selections and their odds, in a line of chips. */
export function OddsChips({ ev }: { ev: SportEvent }) {
  return (
    <ul className="odds-chips" aria-label={`Odds for ${ev.name}`}>
      {ev.selections.map((s) => (
        <li key={s.key} className={ev.result === s.key ? "odds-chip odds-chip-won" : "odds-chip"}>
          <span className="odds-chip-name">{s.name}</span> <span className="odds-chip-odds">{s.odds}</span>
        </li>
      ))}
    </ul>
  );
}

export function Events() {
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const [search, setSearch] = useSearchParams();
  const status = EVENT_STATUSES.find((s) => s === search.get("status"));
  const sport = search.get("sport") ?? "";
  const { load, reload, page, dispatch } = usePaged(
    (cursor) =>
      call(
        api.GET("/v1/tenants/{tenant_id}/events", {
          params: { path: { tenant_id: tenantId }, query: { limit: 20, cursor: cursor ?? undefined, status, sport: sport || undefined } },
        }),
      ),
    [tenantId, status, sport],
  );
  const manage = can(viewer, "events.manage", tenantId);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string>();
  const setFilter = (k: string, v: string) => {
    const next = new URLSearchParams(search);
    if (v) next.set(k, v);
    else next.delete(k);
    setSearch(next);
  };

  return (
    <>
      <PageHeader title="Events">
        {manage && !creating && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New event
          </button>
        )}
      </PageHeader>
      {creating && (
        <CreateEvent
          tenantId={tenantId}
          onCancel={() => setCreating(false)}
          onCreated={(e) => {
            setCreating(false);
            setNotice(`Event “${e.name}” created${e.status === "open" ? " and open for betting" : ""}.`);
            if (status || sport) setSearch({});
            reload();
          }}
        />
      )}
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <Toolbar label="Filter events">
        <SelectField
          label="Status"
          name="status"
          className="field-inline"
          value={status ?? ""}
          options={[{ value: "", label: "Any" }, ...EVENT_STATUSES.map((s) => ({ value: s, label: s }))]}
          onChange={(e) => setFilter("status", e.target.value)}
        />
        <SelectField
          label="Sport"
          name="sport"
          className="field-inline"
          value={sport}
          options={[{ value: "", label: "Any" }, ...Array.from(new Set([...SPORTS, ...(sport ? [sport] : [])])).map((s) => ({ value: s, label: s }))]}
          onChange={(e) => setFilter("sport", e.target.value)}
        />
      </Toolbar>
      <PagedTable<SportEvent>
        label="Events"
        load={load}
        reload={reload}
        page={page}
        dispatch={dispatch}
        empty={status || sport ? "No events match these filters." : manage ? "No events yet. Create the first one." : "No events yet."}
        head={
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Starts</th>
            <th scope="col">Odds</th>
            <th scope="col">Status</th>
          </tr>
        }
        row={(e) => (
          <tr key={e.id} data-event={e.name}>
            <td data-label="Event">
              <Link className="strong" to={eventPath(tenantId, e.id)}>
                {e.name}
              </Link>
              <div className="muted small">{e.sport}</div>
            </td>
            <td data-label="Starts" className="nowrap">
              <Time iso={e.starts_at} />
            </td>
            <td data-label="Odds">
              <OddsChips ev={e} />
            </td>
            <td data-label="Status">
              <StatusBadge status={e.status} />
            </td>
          </tr>
        )}
      />
    </>
  );
}

function tomorrowEvening(): string {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(19, 45, 0, 0);
  return isoToLocal(d);
}

const EMPTY_ROW: SelectionRow = { key: "", name: "", odds: "" };

function CreateEvent({ tenantId, onCreated, onCancel }: { tenantId: string; onCreated: (e: SportEvent) => void; onCancel: () => void }) {
  const [form, setForm] = useState<EventForm>({
    name: "",
    sport: "football",
    startsAt: tomorrowEvening(),
    open: true,
    selections: [{ ...EMPTY_ROW }, { ...EMPTY_ROW }, { ...EMPTY_ROW }],
  });
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const action = useIdempotentAction();
  const set = (patch: Partial<EventForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    const key = Object.keys(patch)[0];
    setError((e) => withoutField(e, key === "startsAt" ? "starts_at" : key ?? ""));
  };
  const setRow = (i: number, patch: Partial<SelectionRow>) => {
    setForm((f) => ({ ...f, selections: f.selections.map((s, j) => (j === i ? { ...s, ...patch } : s)) }));
    setError((e) => withoutField(e, "selections"));
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const built = buildEventCreate(form);
    if (!built.ok) return setError({ message: "Some of what you entered needs fixing.", fields: built.fields, other: [] });
    setBusy(true);
    const r = await sendIdempotent(action, built.body, (key) =>
      call(
        api.POST("/v1/tenants/{tenant_id}/events", {
          params: { path: { tenant_id: tenantId }, header: { "Idempotency-Key": key } },
          body: built.body,
        }),
        EVENT_FIELDS,
      ),
    );
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(undefined);
    onCreated(r.data);
  }

  const selErrors = error?.fields.selections ?? [];
  return (
    <section className="card form-card" aria-labelledby="ev-new">
      <h2 id="ev-new">New event</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <div className="form-grid">
          <Field label="Name" name="name" autoFocus maxLength={200} placeholder="e.g. Arsenal v Chelsea" value={form.name} error={fieldMessage(error, "name")} onChange={(e) => set({ name: e.target.value })} />
          <Field label="Sport" name="sport" list="sports" maxLength={64} value={form.sport} error={fieldMessage(error, "sport")} onChange={(e) => set({ sport: e.target.value })} />
          <Field
            label="Starts at"
            name="starts_at"
            type="datetime-local"
            value={form.startsAt}
            hint="Your local time. Betting closes when it starts."
            error={fieldMessage(error, "starts_at")}
            onChange={(e) => set({ startsAt: e.target.value })}
          />
          <datalist id="sports">
            {SPORTS.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </div>
        <div className="check">
          <input id="ev-open" type="checkbox" checked={form.open} onChange={(e) => set({ open: e.target.checked })} />
          <label htmlFor="ev-open">Open for betting now</label>
        </div>
        <fieldset className={selErrors.length > 0 ? "field field-invalid" : "field"}>
          <legend>Selections</legend>
          <p className="field-hint">Two to fifty outcomes, each with decimal odds above 1 (a stake of 10 at 2.50 returns 25).</p>
          <div className="sel-head" aria-hidden="true">
            <span>Name</span>
            <span>Odds</span>
            <span>Key</span>
            <span />
          </div>
          {form.selections.map((s, i) => (
            <div className="sel-row" key={i}>
              <input aria-label={`Selection ${i + 1} name`} placeholder={["Home", "Draw", "Away"][i] ?? "Name"} value={s.name} onChange={(e) => setRow(i, { name: e.target.value })} />
              <input aria-label={`Selection ${i + 1} odds`} placeholder="2.50" inputMode="decimal" value={s.odds} onChange={(e) => setRow(i, { odds: e.target.value })} />
              <input aria-label={`Selection ${i + 1} key`} placeholder={selectionKey(s.name) || "key"} value={s.key} onChange={(e) => setRow(i, { key: e.target.value })} />
              <button
                type="button"
                className="btn btn-small btn-quiet"
                aria-label={`Remove selection ${i + 1}`}
                disabled={form.selections.length <= 2}
                onClick={() => set({ selections: form.selections.filter((_, j) => j !== i) })}
              >
                ×
              </button>
            </div>
          ))}
          {form.selections.length < 50 && (
            <button type="button" className="btn btn-small" onClick={() => set({ selections: [...form.selections, { ...EMPTY_ROW }] })}>
              Add selection
            </button>
          )}
          {selErrors.length > 0 && (
            <ul className="field-error field-error-list">
              {selErrors.map((m, i) => (
                <li key={i}>{m}</li>
              ))}
            </ul>
          )}
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create event"}
          </button>
          <button type="button" className="btn btn-quiet" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
