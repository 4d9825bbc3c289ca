import type { ReactNode } from "react";
import type { Page } from "../api/types";
import { hasNext, hasPrevious, pageNumber, type PageAction, type PageState } from "../lib/pagination";
import { dataOf, type Load } from "../lib/useLoad";
import { Empty, ErrorBanner, Loading, Pager } from "./ui";

/** A list screen's table with loading, error, empty and pager states. On
 * phones each row becomes a card: give every cell a `data-label`. */
export function PagedTable<T>({
  label,
  load,
  reload,
  page,
  dispatch,
  head,
  row,
  empty,
}: {
  label: string;
  load: Load<Page<T>>;
  reload: () => void;
  page: PageState;
  dispatch: (a: PageAction) => void;
  head: ReactNode;
  row: (item: T) => ReactNode;
  empty: string;
}) {
  const list = dataOf(load);
  const items = list?.data ?? [];
  return (
    <>
      {load.kind === "error" && <ErrorBanner error={load.error} onRetry={reload} />}
      {!list && load.kind === "loading" && <Loading />}
      {list && items.length === 0 && <Empty>{empty}</Empty>}
      {items.length > 0 && (
        <div className="table-wrap">
          <table className="table table-stack" aria-label={label} aria-busy={load.kind === "loading"}>
            <thead>{head}</thead>
            <tbody>{items.map(row)}</tbody>
          </table>
        </div>
      )}
      <Pager
        page={pageNumber(page)}
        hasPrevious={hasPrevious(page)}
        hasNext={hasNext(page)}
        busy={load.kind === "loading"}
        onPrevious={() => dispatch({ type: "previous" })}
        onNext={() => dispatch({ type: "next" })}
      />
    </>
  );
}
