// Vite server for the browser tests' pages (npm run serve:e2e; Playwright starts it itself).
// It serves the repository root, so a page at e2e/<name>.html imports ../src/index.js straight
// from the sources: the browser runs exactly the code under test, no build step. The root
// vite.config.ts (library build, demo, vitest) is not loaded: e2e pages need none of it.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  // Its own cache, so it neither shares pre-bundled deps with the demo's server nor trips Vite's
  // one-dev-server-per-cache lock when a demo server (or a demo spec's) runs at the same time.
  cacheDir: 'node_modules/.vite-e2e',
  clearScreen: false,
  // No HMR: an edit elsewhere in the tree must not reload the parity page between its cases.
  // Cross-origin isolated pages (COOP + COEP), so SharedArrayBuffer exists and the CPU backend can
  // run threads (e2e/threads.spec.ts); the pages load nothing from other origins.
  server: {
    host: 'localhost',
    hmr: false,
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
  // Scan only the e2e pages for dependencies, not every HTML file in the repository.
  optimizeDeps: { entries: ['e2e/*.html'] },
});
