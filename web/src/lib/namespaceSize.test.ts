import { describe, expect, it } from "vitest";
import { quotaSummary, sizeLabel, SIZES } from "./namespaceSize";

describe("namespace sizes", () => {
  it("offers the platform's three sizes, smallest first", () => {
    expect(SIZES.map((s) => s.value)).toEqual(["small", "medium", "large"]);
  });
  it("labels known sizes and passes unknown ones through", () => {
    expect(sizeLabel("medium")).toBe("Medium");
    expect(sizeLabel("xl")).toBe("xl");
  });
  it("summarises a quota as requests / limits", () => {
    expect(quotaSummary({ cpu_request: "2", cpu_limit: "4", memory_request: "4Gi", memory_limit: "8Gi", pods: 50 })).toBe(
      "CPU 2 / 4 · memory 4Gi / 8Gi · 50 pods",
    );
  });
});
