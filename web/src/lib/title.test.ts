import { describe, expect, it } from "vitest";
import { documentTitle } from "./title";

describe("documentTitle", () => {
  it("joins the screen, the tenant and the app name", () => {
    expect(documentTitle("Namespaces", "Contoso")).toBe("Namespaces · Contoso · Atrium");
  });
  it("names the tenant once when the screen's title has it already", () => {
    expect(documentTitle("Namespaces · Contoso", "Contoso")).toBe("Namespaces · Contoso · Atrium");
  });
  it("leaves out missing and empty parts", () => {
    expect(documentTitle("Wallet", undefined)).toBe("Wallet · Atrium");
    expect(documentTitle(undefined, null, "  ")).toBe("Atrium");
  });
  it("does not repeat the app name", () => {
    expect(documentTitle("Atrium")).toBe("Atrium");
    expect(documentTitle("Page not found", "Atrium")).toBe("Page not found · Atrium");
  });
});
