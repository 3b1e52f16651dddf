// A WebGPU device destroyed mid-fit in Chromium: fit rejects with a FitDeviceLostError naming
// the epoch and batch, the weights are the host copy (on the CPU, readable, equal to the weights
// after the step the copy was read at), and after setBackend('webgpu') training goes on with
// finite losses on a new device. No uncaught errors in the page (fixtures.ts).
import { expect, test } from './fixtures.js';

test('a device destroyed mid-fit ends fit with a clear error; the weights stay readable and training goes on', async ({ page }) => {
  const seed = Number(process.env.NEURITE_SEED ?? Date.now() % 2 ** 31);
  console.log(`[device-loss] seed ${seed} (replay with NEURITE_SEED=${seed})`);
  await page.goto('/e2e/device-loss.html');
  await page.waitForFunction(() => 'deviceLoss' in window, undefined, { timeout: 60_000 });
  const report = await page.evaluate((s) => window.deviceLoss.run(s), seed);
  console.log(`[device-loss] adapter ${report.adapter}; ${report.error?.message}`);
  expect(report.error).not.toBeNull();
  const error = report.error!;
  expect(error.name).toBe('FitDeviceLostError');
  expect(error.isDeviceLost).toBe(true);
  expect(error.epoch).toBe(0);
  expect(error.batch).toBeGreaterThanOrEqual(7);
  expect(error.message).toMatch(/^fit: the WebGPU device was lost \(.+\) during epoch 1, batch \d+/);
  expect(error.message).toContain("Call setBackend('webgpu') and fit again");
  expect(error.message).toContain('starts again from its initial values');
  expect(error.weightsStep).not.toBeNull();
  expect(error.weightsStep! % 2).toBe(0);
  expect(report.weightBackends).toEqual(['cpu']);
  expect(report.weights.every(Number.isFinite)).toBe(true);
  expect(report.weights).toEqual(report.weightsAtCopy);
  expect(report.sameDevice).toBe(false);
  expect(report.lossesAfter).toHaveLength(2);
  expect(report.lossesAfter.every(Number.isFinite)).toBe(true);
});
