// A background job of the tenant (namespace provisioning and the like): its
// status, attempts, the steps it has finished and the last error. Polled
// every 2 s while it is queued or running.
import { Link, useParams, useSearchParams } from "react-router";
import { api, call } from "../api/client";
import type { JobStep } from "../api/types";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, JsonBlock, Loading, PageHeader, StatusBadge, Time } from "../components/ui";
import { dataOf, useLoad } from "../lib/useLoad";
import { usePoll } from "../lib/usePaged";
import { AzureErrorText, POLL_MS } from "./Namespaces";

const KINDS: Record<string, string> = {
  "namespace.provision": "Provision a namespace",
  "namespace.update": "Resize a namespace",
  "namespace.deprovision": "Delete a namespace",
};

const STEPS: Record<string, string> = {
  resource_group: "Resource group",
  role_assignment: "Contributor role assignment",
  containers: "Blob containers",
  aks_namespace: "Kubernetes namespace (AKS)",
  aks_role_assignments: "AKS admin role assignment",
};

/** A step's output in a line, when it is a small object of names/ids. */
function StepOutput({ output }: { output: unknown }) {
  if (output === null || output === undefined) return null;
  if (typeof output === "string") return <p className="small muted">{output}</p>;
  if (typeof output === "object" && !Array.isArray(output)) {
    const entries = Object.entries(output as Record<string, unknown>).flatMap(([k, v]): [string, string][] => {
      if (typeof v === "string" || typeof v === "number") return [[k, String(v)]];
      if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")) return [[k, v.join(", ")]];
      return [];
    });
    return (
      <>
        {entries.length > 0 && (
          <dl className="facts facts-small">
            {entries.map(([k, v]) => (
              <div className="facts-row" key={k}>
                <dt>{k.replace(/_/g, " ")}</dt>
                <dd>
                  <code className="wrap-id">{v}</code>
                </dd>
              </div>
            ))}
          </dl>
        )}
        <JsonBlock value={output} summary="Everything the step produced" />
      </>
    );
  }
  return <JsonBlock value={output} summary="What the step produced" />;
}

export function JobDetail() {
  const { tenantId } = useTenantScope();
  const { jobId = "" } = useParams();
  const [search] = useSearchParams();
  const namespace = search.get("namespace");
  const [load, reload] = useLoad(
    () => call(api.GET("/v1/tenants/{tenant_id}/jobs/{job_id}", { params: { path: { tenant_id: tenantId, job_id: jobId } } })),
    [tenantId, jobId],
  );
  const job = dataOf(load);
  usePoll(!!job && (job.status === "queued" || job.status === "running"), reload, POLL_MS);
  const back = namespace ? (
    <Link to={`/app/tenants/${tenantId}/namespaces/${encodeURIComponent(namespace)}`}>← Namespace {namespace}</Link>
  ) : (
    <Link to={`/app/tenants/${tenantId}/namespaces`}>← Namespaces</Link>
  );
  const waiting = job && job.status === "queued" && job.attempts > 0 && new Date(job.run_at).getTime() > Date.now();
  return (
    <>
      <PageHeader title={job ? KINDS[job.kind] ?? job.kind : load.kind === "error" ? "Job not available" : "Job"}>
        {job && (
          <span className="status-cell" data-testid="job-status">
            <StatusBadge status={job.status} />
            {(job.status === "queued" || job.status === "running") && <span className="spinner spinner-inline" aria-hidden="true" />}
          </span>
        )}
      </PageHeader>
      <p>{back}</p>
      {load.kind === "error" && <ErrorBanner error={load.error} onRetry={reload} />}
      {!job && load.kind === "loading" && <Loading what="Loading the job" />}
      {job && (
        <div className="cards cards-wide-first">
          <section className="card" aria-labelledby="job-steps">
            <h2 id="job-steps">Steps finished</h2>
            {job.steps.length === 0 ? (
              <p className="muted">{job.status === "failed" ? "No step finished." : "No step has finished yet."}</p>
            ) : (
              <ol className="timeline">
                {job.steps.map((s: JobStep, i) => (
                  <li key={`${s.name}-${i}`}>
                    <div className="timeline-head">
                      <span className="strong">{STEPS[s.name] ?? s.name}</span>
                      <span className="muted small">
                        <Time iso={s.finished_at} />
                      </span>
                    </div>
                    <StepOutput output={s.output} />
                  </li>
                ))}
              </ol>
            )}
          </section>
          <section className="card" aria-labelledby="job-facts">
            <h2 id="job-facts">Job</h2>
            <dl className="facts">
              <dt>Kind</dt>
              <dd>
                <code>{job.kind}</code>
              </dd>
              <dt>Attempts</dt>
              <dd>
                {job.attempts} of {job.max_attempts}
              </dd>
              <dt>{waiting ? "Next attempt" : "Due"}</dt>
              <dd>
                <Time iso={job.run_at} />
              </dd>
              <dt>Last error</dt>
              <dd>{job.last_error ? <AzureErrorText error={job.last_error} /> : "—"}</dd>
              <dt>Created</dt>
              <dd>
                <Time iso={job.created_at} />
              </dd>
              <dt>Updated</dt>
              <dd>
                <Time iso={job.updated_at} />
              </dd>
              <dt>Id</dt>
              <dd>
                <code className="small wrap-id">{job.id}</code>
              </dd>
            </dl>
          </section>
        </div>
      )}
    </>
  );
}
