// The product catalog: the category tree, full-text search with filters,
// the product list (global items and the tenant's own, with the tenant's
// price), and for tenant admins a form to add a private product.
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, call, type Result } from "../api/client";
import { fieldMessage, type ErrorView } from "../api/problem";
import type { CatalogCategory, CatalogItem, Page } from "../api/types";
import { can } from "../auth/roles";
import { useMe } from "../auth/session";
import { PagedTable } from "../components/PagedTable";
import { useTenantScope } from "../components/tenantContext";
import { ErrorBanner, Field, Money, Notice, PageHeader, SelectField, StatusBadge, Toolbar, cx } from "../components/ui";
import { parseAmount } from "../lib/money";
import { dataOf, useLoad } from "../lib/useLoad";
import { usePaged } from "../lib/usePaged";

const STATUS_OPTIONS = [
  { value: "", label: "Any status" },
  { value: "active", label: "Active" },
  { value: "eol", label: "End of life" },
  { value: "discontinued", label: "Discontinued" },
];

export function catalogPath(tenantId: string, rest = ""): string {
  return `/app/tenants/${encodeURIComponent(tenantId)}/catalog${rest}`;
}

function CategoryTree({ categories, current, onPick }: { categories: CatalogCategory[]; current: string | null; onPick: (id: string | null) => void }) {
  return (
    <nav aria-label="Categories" className="catalog-tree">
      <ul>
        <li>
          <button type="button" className={cx("btn-link", current === null && "active")} onClick={() => onPick(null)}>
            All categories
          </button>
        </li>
        {categories.map((c) => (
          <li key={c.id} style={{ paddingLeft: `${(c.depth ?? 0) * 1.2}em` }}>
            <button type="button" className={cx("btn-link", current === c.id && "active")} aria-current={current === c.id ? "true" : undefined} onClick={() => onPick(c.id)}>
              {c.name}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function Catalog() {
  const { viewer } = useMe();
  const { tenantId } = useTenantScope();
  const [search, setSearch] = useSearchParams();
  const q = search.get("q") ?? "";
  const category = search.get("category");
  const status = search.get("status") ?? "";
  const manage = can(viewer, "catalog.manage", tenantId);
  const [draft, setDraft] = useState(q);
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [cats] = useLoad(() => call(api.GET("/v1/tenants/{tenant_id}/catalog/categories", { params: { path: { tenant_id: tenantId } } })), [tenantId]);
  const categories = dataOf(cats)?.data ?? [];
  const { load, reload, page, dispatch } = usePaged(
    (cursor) =>
      // The list also answers text/csv (Accept), so its typed answer is a
      // union; this screen asks for JSON.
      call(
        api.GET("/v1/tenants/{tenant_id}/catalog/products", {
          params: {
            path: { tenant_id: tenantId },
            query: {
              limit: 20, cursor: cursor ?? undefined, q: q || undefined, category: category ?? undefined,
              status: (status || undefined) as CatalogItem["status"] | undefined,
            },
          },
        }),
      ) as Promise<Result<Page<CatalogItem>>>,
    [tenantId, q, category, status],
  );
  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(search);
    if (v) next.set(k, v);
    else next.delete(k);
    setSearch(next, { replace: true });
  };
  return (
    <>
      <PageHeader title="Catalog">
        <Link className="btn" to={catalogPath(tenantId, "/cable-plan")}>Cable plan</Link>
        {manage && (
          <button type="button" className="btn btn-primary" onClick={() => setAdding((a) => !a)} aria-expanded={adding}>
            New product
          </button>
        )}
      </PageHeader>
      {notice && <Notice onDismiss={() => setNotice(undefined)}>{notice}</Notice>}
      {adding && (
        <NewProduct
          tenantId={tenantId}
          categories={categories}
          onDone={(p) => {
            setAdding(false);
            setNotice(`Product “${p.name}” added.`);
            reload();
          }}
        />
      )}
      <div className="catalog-layout">
        {cats.kind === "error" && <ErrorBanner error={cats.error} />}
        <CategoryTree categories={categories} current={category} onPick={(id) => set("category", id)} />
        <div className="catalog-main">
          <Toolbar label="Search the catalog">
            <form
              role="search"
              className="catalog-search"
              onSubmit={(e: FormEvent) => {
                e.preventDefault();
                set("q", draft.trim() || null);
              }}
            >
              <Field label="Search" name="q" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="Name, SKU, manufacturer, description" />
              <SelectField label="Status" name="status" value={status} options={STATUS_OPTIONS} onChange={(e) => set("status", e.target.value || null)} />
              <button type="submit" className="btn">Search</button>
            </form>
          </Toolbar>
          <PagedTable<CatalogItem>
            label="Products"
            load={load}
            reload={reload}
            page={page}
            dispatch={dispatch}
            empty={q || category || status ? "No products match." : "The catalog is empty."}
            head={
              <tr>
                <th scope="col">SKU</th>
                <th scope="col">Name</th>
                <th scope="col">Manufacturer</th>
                <th scope="col">Status</th>
                <th scope="col">Price</th>
              </tr>
            }
            row={(p) => (
              <tr key={p.id}>
                <td data-label="SKU">
                  <Link to={catalogPath(tenantId, `/products/${p.id}`)}>{p.sku}</Link>
                  {p.scope === "tenant" && <span className="chip chip-light">Private</span>}
                </td>
                <td data-label="Name">{p.name}</td>
                <td data-label="Manufacturer">{p.manufacturer ?? "—"}</td>
                <td data-label="Status"><StatusBadge status={p.status} /></td>
                <td data-label="Price">
                  <Money minor={p.price.amount_minor} currency={p.price.currency} />
                  {p.price_overridden && <span className="muted"> (list <Money minor={p.list_price.amount_minor} currency={p.list_price.currency} />)</span>}
                </td>
              </tr>
            )}
          />
        </div>
      </div>
    </>
  );
}

function NewProduct({ tenantId, categories, onDone }: { tenantId: string; categories: CatalogCategory[]; onDone: (p: CatalogItem) => void }) {
  const [error, setError] = useState<ErrorView>();
  const [busy, setBusy] = useState(false);
  const fields = ["sku", "name", "manufacturer", "unit_price_minor", "currency", "category_id", "description"];
  return (
    <form
      className="card form"
      aria-label="New product"
      onSubmit={async (e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const currency = String(f.get("currency") || "EUR").toUpperCase();
        const amount = parseAmount(String(f.get("price") ?? ""), currency);
        if (!amount.ok) {
          setError({ message: "Check the price.", fields: { unit_price_minor: [amount.message] }, other: [] });
          return;
        }
        const minor = amount.minor;
        setBusy(true);
        const r = await call(
          api.POST("/v1/tenants/{tenant_id}/catalog/products", {
            params: { path: { tenant_id: tenantId } },
            body: {
              sku: String(f.get("sku") ?? ""), name: String(f.get("name") ?? ""), currency, unit_price_minor: minor,
              manufacturer: String(f.get("manufacturer") ?? "") || null, description: String(f.get("description") ?? ""),
              category_id: String(f.get("category_id") ?? "") || null,
            },
          }),
          fields,
        );
        setBusy(false);
        if (r.ok) onDone(r.data);
        else setError(r.error);
      }}
    >
      <ErrorBanner error={error} />
      <Field label="SKU" name="sku" required error={fieldMessage(error, "sku")} />
      <Field label="Name" name="name" required error={fieldMessage(error, "name")} />
      <Field label="Manufacturer" name="manufacturer" error={fieldMessage(error, "manufacturer")} />
      <Field label="Price" name="price" required inputMode="decimal" placeholder="199.00" error={fieldMessage(error, "unit_price_minor")} />
      <Field label="Currency" name="currency" defaultValue="EUR" maxLength={3} error={fieldMessage(error, "currency")} />
      <SelectField label="Category" name="category_id" options={[{ value: "", label: "None" }, ...categories.map((c) => ({ value: c.id, label: c.name }))]} error={fieldMessage(error, "category_id")} />
      <Field label="Description" name="description" error={fieldMessage(error, "description")} />
      <button type="submit" className="btn btn-primary" disabled={busy}>Add product</button>
    </form>
  );
}
