// Namespace sizes as the platform defines them (services/namespaces.c; the
// OpenAPI's NamespaceSize): the size picker's labels and a one-line summary
// of a Kubernetes quota.
import type { NamespaceSize } from "../api/types";

export interface SizeInfo {
  value: NamespaceSize;
  label: string;
  summary: string;
}

export const SIZES: readonly SizeInfo[] = [
  { value: "small", label: "Small", summary: "CPU 500m–1, memory 1–2 GiB, 20 pods, egress to its own namespace" },
  { value: "medium", label: "Medium", summary: "CPU 2–4, memory 4–8 GiB, 50 pods, egress anywhere" },
  { value: "large", label: "Large", summary: "CPU 8–16, memory 16–32 GiB, 200 pods, egress anywhere" },
];

export function sizeLabel(size: string): string {
  return SIZES.find((s) => s.value === size)?.label ?? size;
}

/** "CPU 2 / 4 · memory 4Gi / 8Gi · 50 pods" (requests / limits). */
export function quotaSummary(q: { cpu_request: string; cpu_limit: string; memory_request: string; memory_limit: string; pods: number }): string {
  return `CPU ${q.cpu_request} / ${q.cpu_limit} · memory ${q.memory_request} / ${q.memory_limit} · ${q.pods} pods`;
}
