// One config for the library build (npm run build), the demo (npm run demo) and vitest.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  build: {
    // Two entries: the library, and the `npm start` program (dist/cli/train-mnist.js) sharing its chunks.
    lib: {
      entry: { index: 'src/index.ts', 'cli/train-mnist': 'src/cli/train-mnist.ts' },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    rollupOptions: { external: ['webgpu', /^node:/], output: { chunkFileNames: 'neurite-[hash].js' } },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: {
      VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json',
      XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
    },
  },
});
