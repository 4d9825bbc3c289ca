// One product: its details and prices (the tenant's and the list price),
// related items, media (images, stencils, documents) with download links;
// for tenant admins (super admins for the global catalog) editing, the
// tenant's price override, and uploads straight to Blob Storage with a
// progress bar (the API signs a write-only SAS, the worker checks the file).
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, call } from "../api/client";
import { fieldMessage, type ErrorView } from "../api/problem";
import type { CatalogItem, CatalogMedia } from "../api/types";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { useTenantScope } from "../components/tenantContext";
import { Empty, ErrorBanner, Field, Loading, Money, Notice, PageHeader, SelectField, StatusBadge } from "../components/ui";
import { mediaKindOf, putWithProgress, sha256Hex } from "../lib/catalog";
import { fractionDigits, minorToDecimalString, parseAmount } from "../lib/money";
import { dataOf, useLoad } from "../lib/useLoad";
import { usePoll } from "../lib/usePaged";
import { catalogPath } from "./Catalog";
import { NotFound } from "./NotFound";

export function CatalogProduct() {
  const { productId } = useParams();
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const id = productId ?? "";
  const [item, reloadItem] = useLoad(
    () => call(api.GET("/v1/tenants/{tenant_id}/catalog/products/{product_id}", { params: { path: { tenant_id: tenantId, product_id: id } } })),
    [tenantId, id],
  );
  const [rels] = useLoad(
    () => call(api.GET("/v1/tenants/{tenant_id}/catalog/products/{product_id}/relationships", { params: { path: { tenant_id: tenantId, product_id: id } } })),
    [tenantId, id],
  );
  const [media, reloadMedia] = useLoad(
    () => call(api.GET("/v1/tenants/{tenant_id}/catalog/products/{product_id}/media", { params: { path: { tenant_id: tenantId, product_id: id } } })),
    [tenantId, id],
  );
  const mediaList = dataOf(media)?.data ?? [];
  usePoll(mediaList.some((m) => m.status === "verifying" || m.status === "deleting"), reloadMedia, 1000);
  const p = dataOf(item);
  if (item.kind === "error" && item.error.status === 404) return <NotFound />;
  if (!p) return item.kind === "error" ? <ErrorBanner error={item.error} onRetry={reloadItem} /> : <Loading />;
  const admin = can(viewer, "catalog.manage", tenantId);
  const editable = admin && (p.scope === "tenant" || viewer.roles.includes("super_admin"));
  const images = mediaList.filter((m) => m.kind === "image" && m.download);
  return (
    <>
      <PageHeader title={p.name}>
        <Link className="btn" to={catalogPath(tenantId)}>Back to the catalog</Link>
      </PageHeader>
      <section className="card" aria-label="Product">
        {images[0]?.download && <img className="catalog-image" src={images[0].download.url} alt={p.name} />}
        <dl className="facts">
          <dt>SKU</dt><dd data-testid="product-sku">{p.sku}</dd>
          <dt>Manufacturer</dt><dd>{p.manufacturer ?? "—"} {p.model ?? ""}</dd>
          <dt>Status</dt><dd><StatusBadge status={p.status} /></dd>
          <dt>Price</dt>
          <dd data-testid="product-price">
            <Money minor={p.price.amount_minor} currency={p.price.currency} />
            {p.price_overridden && <span className="muted"> (your price; list <Money minor={p.list_price.amount_minor} currency={p.list_price.currency} />)</span>}
          </dd>
          <dt>Scope</dt><dd>{p.scope === "global" ? "Platform catalog" : "Private to this tenant"}</dd>
        </dl>
        {p.description && <p className="catalog-description">{p.description}</p>}
        {p.attributes.ports && (
          <p>Ports: {p.attributes.ports.map((g) => `${g.count} × ${g.type} (${g.speed_mbps} Mb/s)`).join(", ")}
            {p.attributes.poe_budget_w !== undefined && ` · PoE budget ${p.attributes.poe_budget_w} W`}
            {p.attributes.poe_draw_w !== undefined && ` · PoE draw ${p.attributes.poe_draw_w} W`}</p>
        )}
      </section>
      {editable && <EditProduct tenantId={tenantId} product={p} etag={item.kind === "ok" ? item.response.headers.get("ETag") : null} onSaved={reloadItem} />}
      {admin && <PriceOverride tenantId={tenantId} product={p} onSaved={reloadItem} />}
      <section className="card" aria-label="Related items">
        <h2>Related items</h2>
        {rels.kind === "error" && <ErrorBanner error={rels.error} />}
        {(dataOf(rels)?.data ?? []).length === 0 ? <Empty>None.</Empty> : (
          <ul>
            {(dataOf(rels)?.data ?? []).map((r) => (
              <li key={r.id}>
                {r.direction === "outgoing" ? r.type.replace("_", " ") : `${r.type.replace("_", " ")} (from)`}{" "}
                {r.other.kind === "product" ? <Link to={catalogPath(tenantId, `/products/${r.other.id}`)}>{r.other.name}</Link> : r.other.name}
                {r.type === "bundle_of" && ` × ${r.quantity}`}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-label="Media">
        <h2>Images, stencils and documents</h2>
        {media.kind === "error" && <ErrorBanner error={media.error} />}
        {mediaList.length === 0 ? <Empty>None yet.</Empty> : (
          <ul className="media-list">
            {mediaList.map((m) => <MediaLine key={m.id} m={m} />)}
          </ul>
        )}
        {editable && <Upload tenantId={tenantId} productId={p.id} onUploaded={reloadMedia} />}
      </section>
    </>
  );
}

function MediaLine({ m }: { m: CatalogMedia }) {
  return (
    <li data-testid="media-line" data-status={m.status}>
      {m.download ? <a href={m.download.url} download={m.file_name ?? undefined}>{m.file_name ?? m.kind}</a> : <span>{m.file_name ?? m.kind}</span>}{" "}
      <StatusBadge status={m.status} /> <span className="muted">{m.kind}, {Math.ceil(m.size / 1024)} KiB</span>
      {m.error && <span className="field-error"> {m.error}</span>}
    </li>
  );
}

/** Choose a file, upload it through the SAS with a progress bar, confirm. */
function Upload({ tenantId, productId, onUploaded }: { tenantId: string; productId: string; onUploaded: () => void }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<ErrorView>();
  const [notice, setNotice] = useState<string>();
  return (
    <form className="form upload" aria-label="Upload" onSubmit={(e) => e.preventDefault()}>
      <ErrorBanner error={error} />
      {notice && <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>}
      <label className="field">
        <span>Add an image (PNG, JPEG, WebP), a Visio stencil (.vssx) or a PDF</span>
        <input
          type="file"
          name="file"
          accept="image/png,image/jpeg,image/webp,.vssx,application/pdf"
          disabled={progress !== null}
          onChange={async (e) => {
            const file = e.target.files?.[0];
            e.target.value = "";
            if (!file) return;
            setError(undefined);
            const type = file.name.toLowerCase().endsWith(".vssx") ? "application/vnd.ms-visio.stencil" : file.type;
            const kind = mediaKindOf(type);
            if (!kind) {
              setError({ message: `${file.name}: this type of file is not taken (SVG images are refused).`, fields: {}, other: [] });
              return;
            }
            setProgress(0);
            const sha256 = await sha256Hex(await file.arrayBuffer());
            const asked = await call(
              api.POST("/v1/tenants/{tenant_id}/catalog/products/{product_id}/media", {
                params: { path: { tenant_id: tenantId, product_id: productId } },
                body: { kind, content_type: type, size: file.size, sha256, file_name: file.name.slice(0, 200) },
              }),
            );
            if (!asked.ok) {
              setProgress(null);
              setError(asked.error);
              return;
            }
            const status = await putWithProgress(asked.data.upload.url, asked.data.upload.headers, file, setProgress);
            if (status !== 201) {
              setProgress(null);
              setError({ message: `Blob Storage refused the upload (${status || "network error"}).`, fields: {}, other: [] });
              return;
            }
            const confirmed = await call(
              api.POST("/v1/tenants/{tenant_id}/catalog/media/{media_id}/confirm", { params: { path: { tenant_id: tenantId, media_id: asked.data.id } } }),
            );
            setProgress(null);
            if (!confirmed.ok) setError(confirmed.error);
            else setNotice(`${file.name} is uploaded; it is checked now.`);
            onUploaded();
          }}
        />
      </label>
      {progress !== null && (
        <progress className="upload-progress" max={1} value={progress} aria-label="Upload progress" data-testid="upload-progress">
          {Math.round(progress * 100)}%
        </progress>
      )}
    </form>
  );
}

function EditProduct({ tenantId, product, etag, onSaved }: { tenantId: string; product: CatalogItem; etag: string | null; onSaved: () => void }) {
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="card form"
      aria-label="Edit product"
      onSubmit={async (e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const amount = parseAmount(String(f.get("price") ?? ""), product.list_price.currency);
        if (!amount.ok) {
          setError({ message: "Check the price.", fields: { unit_price_minor: [amount.message] }, other: [] });
          return;
        }
        setBusy(true);
        const r = await call(
          api.PATCH("/v1/tenants/{tenant_id}/catalog/products/{product_id}", {
            params: { path: { tenant_id: tenantId, product_id: product.id }, header: { "If-Match": etag ?? undefined } },
            body: {
              name: String(f.get("name") ?? ""), description: String(f.get("description") ?? ""),
              status: String(f.get("status")) as CatalogItem["status"], unit_price_minor: amount.minor,
            },
          }),
          ["name", "description", "status", "unit_price_minor"],
        );
        setBusy(false);
        if (r.ok) {
          setError(undefined);
          onSaved();
        } else setError(r.error);
      }}
    >
      <h2>Edit</h2>
      <ErrorBanner error={error} />
      <Field label="Name" name="name" defaultValue={product.name} error={fieldMessage(error, "name")} />
      <Field label="Description" name="description" defaultValue={product.description} error={fieldMessage(error, "description")} />
      <Field label={`List price (${product.list_price.currency})`} name="price" inputMode="decimal"
        defaultValue={minorToDecimalString(product.list_price.amount_minor, fractionDigits(product.list_price.currency))} error={fieldMessage(error, "unit_price_minor")} />
      <SelectField label="Status" name="status" defaultValue={product.status}
        options={[{ value: "active", label: "Active" }, { value: "eol", label: "End of life" }, { value: "discontinued", label: "Discontinued" }]} />
      <button type="submit" className="btn btn-primary" disabled={busy}>Save</button>
    </form>
  );
}

function PriceOverride({ tenantId, product, onSaved }: { tenantId: string; product: CatalogItem; onSaved: () => void }) {
  const [error, setError] = useState<ErrorView>();
  const currency = product.list_price.currency;
  return (
    <form
      className="card form"
      aria-label="Your price"
      onSubmit={async (e) => {
        e.preventDefault();
        const amount = parseAmount(String(new FormData(e.currentTarget).get("amount") ?? ""), currency);
        if (!amount.ok) {
          setError({ message: "Check the amount.", fields: { amount_minor: [amount.message] }, other: [] });
          return;
        }
        const r = await call(
          api.PUT("/v1/tenants/{tenant_id}/catalog/products/{product_id}/price-override", {
            params: { path: { tenant_id: tenantId, product_id: product.id } },
            body: { amount_minor: amount.minor, currency },
          }),
          ["amount_minor"],
        );
        if (r.ok) {
          setError(undefined);
          onSaved();
        } else setError(r.error);
      }}
    >
      <h2>This tenant's price</h2>
      <ErrorBanner error={error} />
      <Field label={`Price (${currency})`} name="amount" inputMode="decimal" error={fieldMessage(error, "amount_minor")} />
      <button type="submit" className="btn">Set our price</button>
      {product.price_overridden && (
        <button
          type="button"
          className="btn btn-quiet"
          onClick={async () => {
            const r = await call(api.DELETE("/v1/tenants/{tenant_id}/catalog/products/{product_id}/price-override", { params: { path: { tenant_id: tenantId, product_id: product.id } } }));
            if (r.ok) onSaved();
            else setError(r.error);
          }}
        >
          Back to the list price
        </button>
      )}
    </form>
  );
}
