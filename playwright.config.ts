// Browser end-to-end tests (npm run test:e2e): Debian's Chromium with WebGPU on SwiftShader,
// pages served by Vite from e2e/vite.config.ts. Never `npx playwright install`: CI machines
// have no downloads, the system Chromium is the browser.
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/chromium.mjs';

/** Where the e2e pages are served (a fixed port, so a stray server fails loudly instead of moving). */
const PORT = 5183;
/** Where the demo is served (e2e/demo.spec.ts uses the same number). */
const DEMO_PORT = 5184;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  // SwiftShader runs every shader on the CPU, and CI has 2 cores: one browser at a time, slow is fine.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 10 * 60_000,
  expect: { timeout: 30_000 },
  reporter: 'list',
  use: {
    baseURL: `http://localhost:${PORT}`,
    browserName: 'chromium',
    headless: true,
    screenshot: 'on',
    trace: 'retain-on-failure',
    actionTimeout: 60_000,
    navigationTimeout: 120_000,
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
  },
  webServer: [
    {
      command: `npx vite --config e2e/vite.config.ts --port ${PORT} --strictPort`,
      url: `http://localhost:${PORT}/e2e/parity.html`,
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      // The demo page (e2e/demo.spec.ts) with its own Vite config (worker, MNIST files); HMR off
      // so edits elsewhere in the tree cannot reload the page mid-test.
      command: `NEURITE_DEMO_HMR=0 npx vite demo --port ${DEMO_PORT} --strictPort`,
      url: `http://localhost:${DEMO_PORT}/`,
      reuseExistingServer: !process.env.CI,
      timeout: 180_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
