import { useEffect, useRef, useState } from "react";
import { api, call } from "../api/client";
import type { SportEvent } from "../api/types";

/** The events that `ids` name (for lists that carry only an event_id), each
 * fetched once per tenant. Unknown or failed ids are simply missing. */
export function useEventIndex(tenantId: string, ids: readonly string[]): ReadonlyMap<string, SportEvent> {
  const [index, setIndex] = useState<ReadonlyMap<string, SportEvent>>(new Map());
  const asked = useRef(new Set<string>());
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const key = Array.from(new Set(ids))
    .filter((id) => !asked.current.has(`${tenantId}/${id}`))
    .join(",");
  useEffect(() => {
    if (key === "") return;
    // Not cancelled when `key` changes: the ids asked for here are marked
    // asked at once, so the next render no longer lists them.
    const want = key.split(",").filter((id) => !asked.current.has(`${tenantId}/${id}`));
    want.forEach((id) => asked.current.add(`${tenantId}/${id}`));
    for (const id of want) {
      void call(api.GET("/v1/tenants/{tenant_id}/events/{event_id}", { params: { path: { tenant_id: tenantId, event_id: id } } })).then((r) => {
        if (!mounted.current || !r.ok) return;
        setIndex((old) => new Map(old).set(r.data.id, r.data));
      });
    }
  }, [tenantId, key]);
  return index;
}
