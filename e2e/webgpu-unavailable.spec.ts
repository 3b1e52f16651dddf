// Pages where WebGPU is missing: setBackend('webgpu') must reject with a BackendError that says
// why, and the CPU backend must keep working (forward and gradient) in the same page.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.js';

const X = [1.5, -2, 3, 0.25, -1, 4];

/** Tries WebGPU, then computes sum(x²) and its gradient on the CPU, in the page. */
function tryBackends(page: Page) {
  return page.evaluate(async (values) => {
    const nt = window.neurite;
    let error: { name: string; message: string; isBackendError: boolean } | null = null;
    try {
      await nt.setBackend('webgpu');
    } catch (e) {
      error = { name: (e as Error).name, message: (e as Error).message, isBackendError: e instanceof nt.BackendError };
    }
    await nt.setBackend('cpu');
    const x = nt.tensor(values, [2, 3]);
    const loss = nt.sum(nt.square(x));
    const dx = nt.grad((t) => nt.sum(nt.square(t)))(x);
    return { backend: nt.getBackend(), error, loss: Array.from(await loss.data()), dx: Array.from(await dx.data()) };
  }, X);
}

async function openPage(page: Page): Promise<void> {
  await page.goto('/e2e/parity.html');
  await page.waitForFunction(() => 'neurite' in window, undefined, { timeout: 60_000 });
}

function expectCpuWorks(r: Awaited<ReturnType<typeof tryBackends>>): void {
  expect(r.backend).toBe('cpu');
  expect(r.loss[0]).toBeCloseTo(X.reduce((s, v) => s + v * v, 0), 5);
  expect(r.dx).toEqual(X.map((v) => 2 * v));
}

test.describe('without WebGPU', () => {
  test('no navigator.gpu: setBackend(webgpu) throws a BackendError; the CPU still works', async ({ page }) => {
    await page.addInitScript(() => {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
    await openPage(page);
    expect(await page.evaluate(() => 'gpu' in navigator)).toBe(false);
    const r = await tryBackends(page);
    console.log(`[no navigator.gpu] ${r.error?.name}: ${r.error?.message}`);
    expect(r.error, 'setBackend(webgpu) should have thrown').not.toBeNull();
    expect(r.error!.isBackendError).toBe(true);
    expect(r.error!.name).toBe('BackendError');
    expect(r.error!.message).toMatch(/navigator\.gpu/);
    expectCpuWorks(r);
  });

  test('no adapter: setBackend(webgpu) throws a BackendError; the CPU still works', async ({ page }) => {
    await page.addInitScript(() => {
      // Guarded: the script also runs in frames without WebGPU (an error page), where GPU is undefined.
      if (typeof GPU !== 'undefined') GPU.prototype.requestAdapter = async () => null;
    });
    await openPage(page);
    const r = await tryBackends(page);
    console.log(`[no adapter] ${r.error?.name}: ${r.error?.message}`);
    expect(r.error, 'setBackend(webgpu) should have thrown').not.toBeNull();
    expect(r.error!.isBackendError).toBe(true);
    expect(r.error!.name).toBe('BackendError');
    expect(r.error!.message).toMatch(/adapter/);
    expectCpuWorks(r);
  });
});
