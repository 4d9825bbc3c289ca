// PLACEHOLDER (FEATURES.events): a tenant's sporting events; admins create
// them. Typed locally from SPEC.md section 3 until …/events is in openapi.yaml.
import { useRef, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { callUntyped, newIdempotencyKey } from "../api/client";
import type { Selection, SportEvent, SportEventCreate } from "../api/local-types";
import { fieldMessage, type ErrorView } from "../api/problem";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Field, Notice, PageHeader, StatusBadge, Time } from "../components/ui";
import { usePagedUntyped } from "../lib/usePaged";

export function Events() {
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const base = `/v1/tenants/${encodeURIComponent(tenantId)}/events`;
  const { load, reload, page, dispatch } = usePagedUntyped<SportEvent>(base, {});
  const [notice, setNotice] = useState<string>();
  return (
    <>
      <PageHeader title="Events" />
      {can(viewer, "events.manage", tenantId) && (
        <CreateEvent
          base={base}
          onCreated={(e) => {
            setNotice(`Event “${e.name}” created.`);
            reload();
          }}
        />
      )}
      <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>
      <PagedTable<SportEvent>
        label="Events"
        load={load}
        reload={reload}
        page={page}
        dispatch={dispatch}
        empty="No events yet."
        head={
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Sport</th>
            <th scope="col">Starts</th>
            <th scope="col">Status</th>
          </tr>
        }
        row={(e) => (
          <tr key={e.id}>
            <td>
              <Link className="strong" to={`/app/tenants/${tenantId}/events/${e.id}`}>
                {e.name}
              </Link>
            </td>
            <td>{e.sport}</td>
            <td>
              <Time iso={e.starts_at} />
            </td>
            <td>
              <StatusBadge status={e.status} />
            </td>
          </tr>
        )}
      />
    </>
  );
}

const EVENT_FIELDS = ["name", "sport", "starts_at", "selections"];

function CreateEvent({ base, onCreated }: { base: string; onCreated: (e: SportEvent) => void }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: "", sport: "", startsAt: "" });
  const [selections, setSelections] = useState<Selection[]>([
    { key: "", name: "", odds: "" },
    { key: "", name: "", odds: "" },
  ]);
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const key = useRef(newIdempotencyKey());
  if (!open)
    return (
      <p>
        <button type="button" className="btn btn-primary" onClick={() => setOpen(true)}>
          New event
        </button>
      </p>
    );
  async function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string[]> = {};
    if (!form.name.trim()) fields.name = ["Enter a name"];
    if (!form.sport.trim()) fields.sport = ["Enter a sport"];
    const starts = new Date(form.startsAt);
    if (!form.startsAt || Number.isNaN(starts.getTime())) fields.starts_at = ["Enter a start date and time"];
    const sel = selections.filter((s) => s.key.trim() || s.name.trim() || s.odds.trim());
    if (sel.length < 2) fields.selections = ["At least two selections"];
    else if (sel.some((s) => !s.key.trim() || !s.name.trim() || !/^\d+(\.\d{1,2})?$/.test(s.odds.trim()) || Number(s.odds) <= 1))
      fields.selections = ["Each selection needs a key, a name and decimal odds above 1 (like 2.50)"];
    if (Object.keys(fields).length > 0) {
      setError({ message: "Some of what you entered needs fixing.", fields, other: [] });
      return;
    }
    const body: SportEventCreate = {
      name: form.name.trim(),
      sport: form.sport.trim(),
      starts_at: starts.toISOString(),
      selections: sel.map((s) => ({ key: s.key.trim(), name: s.name.trim(), odds: s.odds.trim() })),
    };
    setBusy(true);
    const r = await callUntyped<SportEvent>("POST", base, { body, headers: { "Idempotency-Key": key.current }, formFields: EVENT_FIELDS });
    setBusy(false);
    if (!r.ok) return setError(r.error);
    key.current = newIdempotencyKey();
    setError(undefined);
    setOpen(false);
    onCreated(r.data);
  }
  const touch = () => (key.current = newIdempotencyKey());
  return (
    <section className="card form-card" aria-labelledby="ev-new">
      <h2 id="ev-new">New event</h2>
      <form onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <div className="form-grid">
          <Field label="Name" name="name" value={form.name} error={fieldMessage(error, "name")} onChange={(e) => (touch(), setForm({ ...form, name: e.target.value }))} />
          <Field label="Sport" name="sport" value={form.sport} error={fieldMessage(error, "sport")} onChange={(e) => (touch(), setForm({ ...form, sport: e.target.value }))} />
          <Field label="Starts at" name="starts_at" type="datetime-local" value={form.startsAt} error={fieldMessage(error, "starts_at")} onChange={(e) => (touch(), setForm({ ...form, startsAt: e.target.value }))} />
        </div>
        <fieldset className="field">
          <legend>Selections</legend>
          {selections.map((s, i) => (
            <div className="tag-row tag-row-3" key={i}>
              <input aria-label={`Selection ${i + 1} key`} placeholder="key" value={s.key} onChange={(e) => (touch(), setSelections(selections.map((x, j) => (j === i ? { ...x, key: e.target.value } : x))))} />
              <input aria-label={`Selection ${i + 1} name`} placeholder="name" value={s.name} onChange={(e) => (touch(), setSelections(selections.map((x, j) => (j === i ? { ...x, name: e.target.value } : x))))} />
              <input aria-label={`Selection ${i + 1} odds`} placeholder="odds" inputMode="decimal" value={s.odds} onChange={(e) => (touch(), setSelections(selections.map((x, j) => (j === i ? { ...x, odds: e.target.value } : x))))} />
            </div>
          ))}
          <button type="button" className="btn btn-small" onClick={() => setSelections([...selections, { key: "", name: "", odds: "" }])}>
            Add selection
          </button>
          {fieldMessage(error, "selections") && <p className="field-error">{fieldMessage(error, "selections")}</p>}
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create event"}
          </button>
          <button type="button" className="btn btn-quiet" onClick={() => setOpen(false)} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
