// Long operations (a 202 and a background job the portal follows): what to
// show while one runs, and the notice when it ends. Pure, so it is tested
// without a browser; components/Operations.tsx polls and renders.
import type { Job } from "../api/types";

/** How many steps a job kind has (workers/namespace_jobs.c): a progress bar
 * with a value for these, an indeterminate one for others. */
export const JOB_STEPS: Record<string, number> = {
  "namespace.provision": 3,
  "namespace.deprovision": 2,
  "namespace.regrant": 1,
};

export type OpState =
  | { phase: "running"; done?: number; total?: number; detail: string }
  | { phase: "succeeded"; message: string }
  | { phase: "failed"; message: string; detail?: string };

export interface OpWords {
  /** "Provisioning namespace “web”" */
  running: string;
  /** "Namespace “web” is ready." */
  succeeded: string;
  /** "Namespace “web” could not be provisioned." */
  failed: string;
}

/** Where a job stands, in words. */
export function jobState(job: Pick<Job, "kind" | "status" | "steps" | "last_error" | "attempts" | "max_attempts">, words: OpWords): OpState {
  const err = job.last_error ? `${job.last_error.code}: ${job.last_error.message}` : undefined;
  if (job.status === "succeeded") return { phase: "succeeded", message: words.succeeded };
  if (job.status === "failed") return { phase: "failed", message: words.failed, ...(err ? { detail: err } : {}) };
  const total = JOB_STEPS[job.kind];
  const done = total === undefined ? undefined : Math.min(job.steps.length, total);
  let detail: string;
  if (job.status === "queued" && job.attempts === 0) detail = "waiting for a worker";
  else if (err) detail = `retrying (attempt ${job.attempts} of ${job.max_attempts}) after ${err}`;
  else if (total !== undefined) detail = `step ${Math.min((done ?? 0) + 1, total)} of ${total}`;
  else detail = "working";
  return { phase: "running", ...(total !== undefined ? { done, total } : {}), detail };
}

/** A percentage for a progress bar, or undefined (indeterminate). */
export function percent(s: OpState): number | undefined {
  if (s.phase !== "running" || s.total === undefined || s.total === 0 || s.done === undefined) return undefined;
  return Math.round((100 * s.done) / s.total);
}
