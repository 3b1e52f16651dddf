// One config for the library build (npm run build), the demo (npm run demo) and vitest.
import { defineConfig } from 'vitest/config';
import { decideVulkanEnv, machineFacts } from './src/cli/vulkan-env.js';

export default defineConfig({
  build: {
    // Two entries: the library, and the `npm start` program (dist/cli/train-mnist.js) sharing its chunks.
    lib: {
      // cli/vulkan-env: the loader's environment decision, for the benchmarks (plain JS on dist/).
      entry: { index: 'src/index.ts', 'cli/train-mnist': 'src/cli/train-mnist.ts', 'cli/vulkan-env': 'src/cli/vulkan-env.ts' },
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
    // The Vulkan loader reads its variables when a test file creates Dawn's instance: SwiftShader
    // is added beside the machine's drivers (VK_ADD_DRIVER_FILES), so a real GPU is still used.
    env: decideVulkanEnv(machineFacts()).set,
  },
});
