import type { ReactNode } from "react";
import { Link } from "react-router";
import { can, rolesFor, ROLE_LABELS, type Capability } from "../auth/roles";
import { useMe } from "../auth/session";
import { useDocumentTitle } from "../lib/title";

/** Renders `children` only for callers who may `cap` (in `tenantId`). */
export function Gate({ cap, tenantId, children }: { cap: Capability; tenantId?: string; children: ReactNode }) {
  const { viewer } = useMe();
  if (!can(viewer, cap, tenantId)) return <AccessDenied cap={cap} />;
  return <>{children}</>;
}

export function AccessDenied({ cap }: { cap?: Capability }) {
  const { me } = useMe();
  const needed = cap ? rolesFor(cap).map((r) => ROLE_LABELS[r]) : [];
  const yours = me.roles.map((r) => ROLE_LABELS[r]).join(", ") || "none";
  useDocumentTitle("No access");
  return (
    <section className="denied" aria-labelledby="denied-title">
      <h1 id="denied-title" tabIndex={-1}>You don't have access</h1>
      <p>
        This page is not available to you.
        {needed.length > 0 && <> It needs one of these roles: {needed.join(", ")}.</>} Your role{me.roles.length === 1 ? "" : "s"}:{" "}
        {yours}.
      </p>
      <p>If you think you should have access, ask an administrator of your organisation.</p>
      <p>
        <Link className="btn" to="/app">
          Go to the overview
        </Link>
      </p>
    </section>
  );
}
