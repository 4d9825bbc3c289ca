// The cable-plan page: a bill of materials (products of the catalog with
// quantities) and the links between their devices; the API computes the
// cables by type and length, the ports and PoE used, and what does not fit.
// Shown as tables and a simple diagram. Nothing is stored.
import { useState } from "react";
import { Link } from "react-router";
import { api, call, type Result } from "../api/client";
import type { ErrorView } from "../api/problem";
import type { CablePlan as Plan, CatalogItem, Page } from "../api/types";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Field, PageHeader, SelectField } from "../components/ui";
import { cablePlanRequest, deviceNames, layoutDiagram, type BomRow, type LinkRow } from "../lib/catalog";
import { dataOf, useLoad } from "../lib/useLoad";
import { catalogPath } from "./Catalog";

const MEDIA = [
  { value: "", label: "Automatic" },
  { value: "copper", label: "Copper (Cat 6A)" },
  { value: "dac", label: "DAC" },
  { value: "fiber_mm", label: "Multimode fibre" },
  { value: "fiber_sm", label: "Single-mode fibre" },
];

export function CablePlan() {
  const { tenantId } = useTenantScope();
  const [products] = useLoad(
    () =>
      call(api.GET("/v1/tenants/{tenant_id}/catalog/products", { params: { path: { tenant_id: tenantId }, query: { limit: 100 } } })) as Promise<
        Result<Page<CatalogItem>>
      >,
    [tenantId],
  );
  const options = [{ value: "", label: "Choose a product" }, ...(dataOf(products)?.data ?? []).map((p) => ({ value: p.id, label: `${p.sku} — ${p.name}` }))];
  const [bom, setBom] = useState<BomRow[]>([{ ref: "switch", productId: "", quantity: "1" }]);
  const [links, setLinks] = useState<LinkRow[]>([{ from: "", to: "", distance: "", medium: "" }]);
  const [slack, setSlack] = useState("10");
  const [plan, setPlan] = useState<Plan>();
  const [error, setError] = useState<ErrorView>();
  const devices = deviceNames(bom);
  const deviceOptions = [{ value: "", label: "—" }, ...devices.map((d) => ({ value: d, label: d }))];
  const setRow = <T,>(list: T[], set: (l: T[]) => void, i: number, patch: Partial<T>) => set(list.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  return (
    <>
      <PageHeader title="Cable plan">
        <Link className="btn" to={catalogPath(tenantId)}>Back to the catalog</Link>
      </PageHeader>
      <form
        className="card form"
        aria-label="Cable plan"
        onSubmit={async (e) => {
          e.preventDefault();
          const req = cablePlanRequest(bom, links, slack);
          if (!req.ok) {
            setError({ message: req.error, fields: {}, other: [] });
            return;
          }
          const r = await call(api.POST("/v1/tenants/{tenant_id}/catalog/cable-plans", { params: { path: { tenant_id: tenantId } }, body: req.body }));
          if (r.ok) {
            setError(undefined);
            setPlan(r.data);
          } else setError(r.error);
        }}
      >
        <ErrorBanner error={error} />
        <h2>Bill of materials</h2>
        {bom.map((b, i) => (
          <div className="form-row" key={i} data-testid="bom-row">
            <Field label="Name" name={`ref-${i}`} value={b.ref} onChange={(e) => setRow(bom, setBom, i, { ref: e.target.value })} />
            <SelectField label="Product" name={`product-${i}`} value={b.productId} options={options} onChange={(e) => setRow(bom, setBom, i, { productId: e.target.value })} />
            <Field label="Quantity" name={`quantity-${i}`} inputMode="numeric" value={b.quantity} onChange={(e) => setRow(bom, setBom, i, { quantity: e.target.value })} />
          </div>
        ))}
        <button type="button" className="btn btn-quiet" onClick={() => setBom([...bom, { ref: `device${bom.length + 1}`, productId: "", quantity: "1" }])}>Add a product</button>
        <h2>Links</h2>
        {links.map((l, i) => (
          <div className="form-row" key={i} data-testid="link-row">
            <SelectField label="From" name={`from-${i}`} value={l.from} options={deviceOptions} onChange={(e) => setRow(links, setLinks, i, { from: e.target.value })} />
            <SelectField label="To" name={`to-${i}`} value={l.to} options={deviceOptions} onChange={(e) => setRow(links, setLinks, i, { to: e.target.value })} />
            <Field label="Distance (m)" name={`distance-${i}`} inputMode="decimal" value={l.distance} onChange={(e) => setRow(links, setLinks, i, { distance: e.target.value })} />
            <SelectField label="Medium" name={`medium-${i}`} value={l.medium} options={MEDIA} onChange={(e) => setRow(links, setLinks, i, { medium: e.target.value })} />
          </div>
        ))}
        <button type="button" className="btn btn-quiet" onClick={() => setLinks([...links, { from: "", to: "", distance: "", medium: "" }])}>Add a link</button>
        <Field label="Slack (%)" name="slack" inputMode="numeric" value={slack} onChange={(e) => setSlack(e.target.value)} />
        <button type="submit" className="btn btn-primary">Calculate</button>
      </form>
      {plan && <PlanResult plan={plan} />}
    </>
  );
}

function PlanResult({ plan }: { plan: Plan }) {
  const d = layoutDiagram(plan);
  return (
    <section className="card" aria-label="Result">
      <h2>Cables</h2>
      <table className="table" aria-label="Cables">
        <thead><tr><th scope="col">Type</th><th scope="col">Length</th><th scope="col">Count</th></tr></thead>
        <tbody>
          {plan.cables.map((c) => (
            <tr key={`${c.type}-${c.length_m}`}>
              <td>{c.type}</td>
              <td>{c.length_m} m{c.custom_length && " (cut to size)"}</td>
              <td data-testid="cable-count">{c.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Devices</h2>
      <table className="table" aria-label="Devices">
        <thead><tr><th scope="col">Device</th><th scope="col">Ports used</th><th scope="col">PoE</th></tr></thead>
        <tbody>
          {plan.devices.map((dv) => (
            <tr key={dv.device}>
              <td>{dv.device}</td>
              <td>{dv.ports.map((p) => `${p.used}/${p.available} ${p.type}`).join(", ") || "—"}</td>
              <td>{dv.poe ? `${dv.poe.drawn_w} of ${dv.poe.budget_w} W` : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {plan.problems.length > 0 && (
        <>
          <h2>What does not fit</h2>
          <ul className="problems" data-testid="plan-problems">
            {plan.problems.map((p, i) => <li key={i}><strong>{p.code.replace(/_/g, " ")}</strong>: {p.message}</li>)}
          </ul>
        </>
      )}
      <h2>Diagram</h2>
      <svg className="cable-diagram" viewBox={`0 0 720 ${d.height}`} role="img" aria-label="Cable diagram" data-testid="cable-diagram">
        {d.edges.map((e, i) => (
          <g key={i}>
            <line x1={e.from.x} y1={e.from.y} x2={e.to.x} y2={e.to.y} stroke={e.medium === "copper" ? "#3465a4" : "#cc7a00"} strokeWidth={2} />
            <text x={(e.from.x + e.to.x) / 2} y={(e.from.y + e.to.y) / 2 - 4} fontSize={11} textAnchor="middle">{e.label}</text>
          </g>
        ))}
        {d.nodes.map((n) => (
          <g key={n.name}>
            <rect x={n.x - 40} y={n.y - 14} width={80} height={28} rx={4} fill={n.problem ? "#fde2e1" : "#eef3fb"} stroke={n.problem ? "#c00" : "#3465a4"} />
            <text x={n.x} y={n.y + 4} fontSize={12} textAnchor="middle">{n.name}</text>
          </g>
        ))}
      </svg>
    </section>
  );
}
