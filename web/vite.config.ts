import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The portal is served by `atrium serve` from web/dist, same origin as the
// API, under a strict CSP (script-src 'self'; style-src 'self'): the build
// must produce no inline script or style, which Vite's output satisfies
// (module preload polyfill off, CSS in files).
//
// `npm run dev` proxies the API and the sign-in routes to a running
// `atrium serve` (ATRIUM_DEV_API, default https://127.0.0.1:8443, self-signed).
const api = process.env.ATRIUM_DEV_API ?? "https://127.0.0.1:8443";
const proxied = { target: api, changeOrigin: false, secure: false };

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: { "/v1": proxied, "/auth": proxied, "/openapi.yaml": proxied },
  },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
