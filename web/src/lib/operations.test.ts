import { describe, expect, it } from "vitest";
import { jobState, percent } from "./operations";

const words = { running: "Provisioning", succeeded: "Ready.", failed: "Failed." };
const job = (over: Partial<Parameters<typeof jobState>[0]>) => ({
  kind: "namespace.provision",
  status: "running" as const,
  steps: [],
  last_error: null,
  attempts: 1,
  max_attempts: 8,
  ...over,
});
const step = (name: string) => ({ name, finished_at: "2026-01-01T00:00:00Z", output: null });

describe("jobState", () => {
  it("counts the finished steps of a known kind", () => {
    const s = jobState(job({ steps: [step("resource_group")] }), words);
    expect(s).toEqual({ phase: "running", done: 1, total: 3, detail: "step 2 of 3" });
    expect(percent(s)).toBe(33);
  });
  it("says a queued job that never ran waits for a worker", () => {
    expect(jobState(job({ status: "queued", attempts: 0 }), words)).toMatchObject({ phase: "running", done: 0, detail: "waiting for a worker" });
  });
  it("shows a retry with Azure's error", () => {
    const s = jobState(job({ status: "queued", attempts: 2, last_error: { code: "TooManyRequests", message: "slow down" } }), words);
    expect(s).toMatchObject({ phase: "running", detail: "retrying (attempt 2 of 8) after TooManyRequests: slow down" });
  });
  it("ends in success", () => {
    expect(jobState(job({ status: "succeeded", steps: [step("a"), step("b"), step("c")] }), words)).toEqual({ phase: "succeeded", message: "Ready." });
  });
  it("ends in failure with the error as detail", () => {
    expect(jobState(job({ status: "failed", last_error: { code: "LocationNotAvailableForResourceGroup", message: "no moon" } }), words)).toEqual({
      phase: "failed",
      message: "Failed.",
      detail: "LocationNotAvailableForResourceGroup: no moon",
    });
  });
  it("is indeterminate for kinds it does not know, and never past the end", () => {
    const s = jobState(job({ kind: "something.else" }), words);
    expect(s).toEqual({ phase: "running", detail: "working" });
    expect(percent(s)).toBeUndefined();
    expect(jobState(job({ steps: [step("a"), step("b"), step("c"), step("d")] }), words)).toMatchObject({ done: 3, total: 3, detail: "step 3 of 3" });
  });
});
