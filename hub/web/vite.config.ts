// The fleet dashboard (docs/DASHBOARD.md): built into hub/dist/web, which the hub serves at `/`
// (hub/src/api/web). `npm run build` runs it after tsc; `npm run build:web -w hub` alone.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: here('public'),
  logLevel: 'warn',
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    // Hashed names under assets/: the hub caches those for a year (immutable).
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // Leaflet's marker images become files, never inline data: (the page's CSP allows data: images, but files cache better).
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npx vite -c hub/web/vite.config.ts` during development: the API from a hub on :8080.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
