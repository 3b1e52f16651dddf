// Vitest config of the package check alone (npm run test:package): it packs and installs the
// library, so it is not part of `npm test`. One file, run once, with generous timeouts.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { decideVulkanEnv, machineFacts } from '../../src/cli/vulkan-env.js';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/package/*.check.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // SwiftShader beside any real GPU, for Dawn in the app's Node program (as vite.config.ts).
    env: decideVulkanEnv(machineFacts()).set,
  },
});
