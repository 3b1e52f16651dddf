// The CPU backend's threads in Chromium: the e2e server sends Cross-Origin-Opener-Policy and
// Cross-Origin-Embedder-Policy, so the page is cross-origin isolated and the wasm kernels run on
// Web Workers (Blob URL workers over a shared WebAssembly.Memory, the page's main thread spinning
// while it waits). Results on 2 threads must equal 1 thread's bit for bit.
import { expect, test } from './fixtures.js';

test('threads run on Web Workers in a cross-origin isolated page, bit-identical to one thread', async ({ page }) => {
  await page.goto('/e2e/threads.html');
  await page.waitForFunction(() => 'threads' in window, undefined, { timeout: 60_000 });
  const report = await page.evaluate(() => window.threads.run());
  console.log(`[threads] ${JSON.stringify(report.info)}`);
  expect(report.isolated).toBe(true);
  expect(report.info[0]).toEqual({ threads: 2, note: '2 threads: set by the threads option' });
  expect(report.info[1].threads).toBe(1);
  expect(report.info[2].note).toMatch(/core/);
  expect(report.parallelRuns[0]).toBeGreaterThan(0);
  expect(report.parallelRuns[1]).toBe(0);
  expect(report.outputs[0].length).toBeGreaterThan(30000);
  expect(report.outputs[0]).toEqual(report.outputs[1]);
});
