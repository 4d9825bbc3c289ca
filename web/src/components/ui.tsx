// Small building blocks shared by the screens. No inline style attributes
// anywhere (the portal's CSP has no 'unsafe-inline'): classes only.
import { useId, useState, type ReactNode, type InputHTMLAttributes, type SelectHTMLAttributes } from "react";
import type { ErrorView } from "../api/problem";
import { formatTime } from "../lib/format";
import { formatMoney } from "../lib/money";
import type { TagRow } from "../lib/tenantForm";
import { useDocumentTitle } from "../lib/title";

export function cx(...names: (string | false | null | undefined)[]): string {
  return names.filter(Boolean).join(" ");
}

/** A failed call, in words, with the request id for support. */
export function ErrorBanner({ error, onRetry }: { error: ErrorView | undefined; onRetry?: () => void }) {
  if (!error) return null;
  // A changed price is news, not a failure of the person's.
  const tone = error.code === "odds-changed" ? "alert-warn" : "alert-error";
  return (
    <div className={`alert ${tone}`} role="alert">
      <p className="alert-message">{error.message}</p>
      {error.other.length > 0 && (
        <ul className="alert-list">
          {error.other.map((e, i) => (
            <li key={i}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
      {error.requestId && error.status !== undefined && error.status < 500 && (
        <p className="alert-meta">Request id: {error.requestId}</p>
      )}
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A success or information message, announced to screen readers. */
export function Notice({ children, onDismiss }: { children: ReactNode; onDismiss?: () => void }) {
  if (!children) return null;
  return (
    <div className="alert alert-ok" role="status">
      <p className="alert-message">{children}</p>
      {onDismiss && (
        <button type="button" className="btn-link alert-dismiss" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: ReactNode;
}

/** A labelled input with its hint and error underneath. */
export function Field({ label, name, error, hint, className, ...input }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = error ? `${id}-err` : undefined;
  return (
    <div className={cx("field", error && "field-invalid", className)}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={[hintId, errId].filter(Boolean).join(" ") || undefined}
        {...input}
      />
      {hint && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={errId}>
          {error}
        </p>
      )}
    </div>
  );
}

interface SelectFieldProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: ReactNode;
  options: readonly { value: string; label: string }[];
}

export function SelectField({ label, name, error, hint, options, className, ...select }: SelectFieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = error ? `${id}-err` : undefined;
  return (
    <div className={cx("field", error && "field-invalid", className)}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={[hintId, errId].filter(Boolean).join(" ") || undefined}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {hint && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={errId}>
          {error}
        </p>
      )}
    </div>
  );
}

/** Key/value rows for a tenant's tags. */
export function TagsEditor({
  rows,
  onChange,
  error,
  disabled,
}: {
  rows: TagRow[];
  onChange: (rows: TagRow[]) => void;
  error?: string | undefined;
  disabled?: boolean;
}) {
  const set = (i: number, patch: Partial<TagRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className={cx("field tags", error && "field-invalid")} disabled={disabled}>
      <legend>Tags</legend>
      {rows.length === 0 && <p className="field-hint">No tags.</p>}
      {rows.map((r, i) => (
        <div className="tag-row" key={i}>
          <input aria-label={`Tag ${i + 1} key`} placeholder="key" value={r.key} onChange={(e) => set(i, { key: e.target.value })} />
          <input aria-label={`Tag ${i + 1} value`} placeholder="value" value={r.value} onChange={(e) => set(i, { value: e.target.value })} />
          <button type="button" className="btn btn-small btn-quiet" onClick={() => onChange(rows.filter((_, j) => j !== i))} aria-label={`Remove tag ${r.key || i + 1}`}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-small" onClick={() => onChange([...rows, { key: "", value: "" }])}>
        Add tag
      </button>
      {error && <p className="field-error">{error}</p>}
    </fieldset>
  );
}

const STATUS_TONE: Record<string, string> = {
  active: "ok",
  processed: "ok",
  activated: "ok",
  trial: "info",
  received: "info",
  closed: "warn",
  unmatched: "warn",
  voided: "muted",
  converted: "muted",
  ready: "ok",
  succeeded: "ok",
  won: "ok",
  accepted: "ok",
  open: "ok",
  paid: "ok",
  suspended: "warn",
  pending: "info",
  queued: "info",
  running: "info",
  provisioning: "info",
  deprovisioning: "info",
  deleting: "info",
  scheduled: "info",
  failed: "bad",
  rejected: "bad",
  lost: "muted",
  deleted: "muted",
  void: "muted",
  cancelled: "muted",
  settled: "muted",
};

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const s = status ?? "unknown";
  return <span className={cx("badge", `badge-${STATUS_TONE[s] ?? "muted"}`)}>{s}</span>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatTime(iso)}
    </time>
  );
}

export function Pager({
  page,
  hasPrevious,
  hasNext,
  onPrevious,
  onNext,
  busy,
}: {
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  busy?: boolean;
}) {
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" className="btn btn-small" disabled={!hasPrevious || busy} onClick={onPrevious}>
        ← Previous
      </button>
      <span className="pager-page">Page {page}</span>
      <button type="button" className="btn btn-small" disabled={!hasNext || busy} onClick={onNext}>
        Next →
      </button>
    </nav>
  );
}

/** A screen's heading (the focus target after navigation: tabIndex -1),
 * which also sets the document title. */
export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  useDocumentTitle(title);
  return (
    <div className="page-header">
      <h1 tabIndex={-1}>{title}</h1>
      {children && <div className="page-actions">{children}</div>}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** An amount of money (integer minor units) for people; `signed` shows a
 * plus on credits and colours credits and debits. */
export function Money({ minor, currency, signed }: { minor: number | null | undefined; currency: string | null | undefined; signed?: boolean }) {
  if (minor === null || minor === undefined || !currency) return <span className="muted">—</span>;
  const text = formatMoney(minor, currency);
  if (!signed) return <span className="money">{text}</span>;
  return <span className={cx("money", minor > 0 ? "credit" : minor < 0 ? "debit" : undefined)}>{minor > 0 ? `+${text}` : text}</span>;
}

/** A button that asks before doing something that cannot be undone. */
export function ConfirmButton({
  label,
  confirm,
  confirmLabel = "Confirm",
  onConfirm,
  danger = true,
}: {
  label: string;
  confirm: string;
  confirmLabel?: string;
  onConfirm: () => Promise<void> | void;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (busy)
    return (
      <span className="muted small" role="status">
        Working…
      </span>
    );
  if (!asking)
    return (
      <button type="button" className={cx("btn btn-small", danger ? "btn-danger-quiet" : undefined)} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span className="confirm">
      <span className="small">{confirm}</span>
      <button
        type="button"
        className={cx("btn btn-small", danger ? "btn-danger" : "btn-primary")}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="btn btn-small btn-quiet" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** JSON for people who want the raw details (job outputs, payloads). */
export function JsonBlock({ value, summary = "Details" }: { value: unknown; summary?: string }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  return (
    <details className="json">
      <summary>{summary}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

/** The filters above a list. */
export function Toolbar({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="toolbar" role="group" aria-label={label}>
      {children}
    </div>
  );
}
