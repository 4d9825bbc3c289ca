// PLACEHOLDER (FEATURES.namespaces): a provisioning job's live status.
import { useParams } from "react-router";
import { callUntyped } from "../api/client";
import type { Job } from "../api/local-types";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Loading, PageHeader, StatusBadge, Time } from "../components/ui";
import { usePoll } from "../lib/usePaged";
import { dataOf, useLoad } from "../lib/useLoad";

export function JobDetail() {
  const { tenantId } = useTenantScope();
  const { jobId = "" } = useParams();
  const [load, reload] = useLoad(
    () => callUntyped<Job>("GET", `/v1/tenants/${encodeURIComponent(tenantId)}/jobs/${encodeURIComponent(jobId)}`),
    [tenantId, jobId],
  );
  const job = dataOf(load);
  usePoll(!!job && (job.status === "queued" || job.status === "running"), reload);
  return (
    <>
      <PageHeader title="Job">{job && <StatusBadge status={job.status} />}</PageHeader>
      {load.kind === "error" && <ErrorBanner error={load.error} onRetry={reload} />}
      {!job && load.kind === "loading" && <Loading what="Loading the job" />}
      {job && (
        <section className="card">
          <dl className="facts">
            <dt>Kind</dt>
            <dd>{job.kind}</dd>
            <dt>Attempts</dt>
            <dd>
              {job.attempts} of {job.max_attempts}
            </dd>
            <dt>Next run</dt>
            <dd>
              <Time iso={job.run_at} />
            </dd>
            <dt>Last error</dt>
            <dd>{job.last_error != null ? <code className="small">{typeof job.last_error === "string" ? job.last_error : JSON.stringify(job.last_error)}</code> : "—"}</dd>
            <dt>Created</dt>
            <dd>
              <Time iso={job.created_at} />
            </dd>
            <dt>Updated</dt>
            <dd>
              <Time iso={job.updated_at} />
            </dd>
          </dl>
          <h2>Steps</h2>
          {job.steps.length === 0 ? (
            <p className="muted">No steps finished yet.</p>
          ) : (
            <ol className="steps">
              {job.steps.map((s, i) => (
                <li key={i}>
                  {s.name ?? `Step ${i + 1}`} {s.status && <StatusBadge status={s.status} />}
                </li>
              ))}
            </ol>
          )}
        </section>
      )}
    </>
  );
}
