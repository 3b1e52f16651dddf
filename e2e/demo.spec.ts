// The demo page end to end, in Chromium on SwiftShader's WebGPU: train a small MLP on a slice
// of MNIST in the worker, watch the charts fill, draw a digit and get probabilities and a
// saliency map, save to IndexedDB and load it back after a reload; Reset ends the worker mid-fit
// and the page trains again on a fresh one; and without WebGPU the page falls back to the CPU and
// says so. Screenshots are attached to the test results.
import type { Download, Page, TestInfo } from '@playwright/test';
import { expect, test } from './fixtures.js';

/** The demo's own Vite server (the second webServer in playwright.config.ts). */
const DEMO = 'http://localhost:5184/';
/** A small, fast run: SwiftShader runs every shader on the CPU. */
const SMALL_RUN = '?limit=1024&epochs=2&model=mlp&batch=32&lr=0.002';

/** A seven, as pad coordinates (0..280). */
const SEVEN: [number, number][] = [
  [80, 70],
  [140, 70],
  [200, 70],
  [170, 140],
  [140, 210],
  [125, 240],
];

async function attach(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Clears the pad and draws `stroke` with mouse events. */
async function draw(page: Page, stroke: [number, number][]): Promise<void> {
  // Mouse events only reach what is in the viewport.
  await page.locator('#pad').scrollIntoViewIfNeeded();
  await page.click('#clear');
  await expect(page.locator('#probabilities')).not.toHaveAttribute('data-values');
  const box = (await page.locator('#pad').boundingBox())!;
  const at = ([x, y]: [number, number]): [number, number] => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280];
  await page.mouse.move(...at(stroke[0]));
  await page.mouse.down();
  for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: 8 });
  await page.mouse.up();
}

/** The probabilities the page shows once the saliency (sent when the stroke ends) is back. */
async function prediction(page: Page): Promise<{ best: number; values: number[] }> {
  const bars = page.locator('#probabilities');
  await expect(bars).toHaveAttribute('data-values', /\d/);
  await expect.poll(() => overlayInk(page), { message: 'the saliency overlay should have pixels' }).toBeGreaterThan(0);
  const values = (await bars.getAttribute('data-values'))!.split(' ').map(Number);
  return { best: Number(await bars.getAttribute('data-best')), values };
}

/** Sum of the saliency overlay's alpha channel. */
function overlayInk(page: Page): Promise<number> {
  return page.locator('#saliency').evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 3; i < data.length; i += 4) sum += data[i];
    return sum;
  });
}

/** The 28×28 input canvas: the ink's bounding box and centre of mass (pixel centres at +0.5). */
function modelInput(page: Page): Promise<{ width: number; height: number; cx: number; cy: number }> {
  return page.locator('#model-input').evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, 28, 28).data;
    let [x0, y0, x1, y1, total, sx, sy] = [28, 28, -1, -1, 0, 0, 0];
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const ink = (255 - data[4 * (y * 28 + x)]) / 255;
        total += ink;
        sx += ink * (x + 0.5);
        sy += ink * (y + 0.5);
        if (ink > 0.05) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
    }
    return { width: x1 - x0 + 1, height: y1 - y0 + 1, cx: sx / total, cy: sy / total };
  });
}

function expectSame(got: { best: number; values: number[] }, want: { best: number; values: number[] }, when: string): void {
  expect(got.best, `predicted digit ${when}`).toBe(want.best);
  got.values.forEach((p, d) => expect(Math.abs(p - want.values[d]), `probability of ${d} ${when}`).toBeLessThan(1e-4));
}

async function boxes(page: Page, selectors: string[]) {
  return Promise.all(selectors.map(async (s) => page.locator(s).boundingBox()));
}

test('trains on WebGPU, predicts a drawn digit with a saliency map, saves and reloads the model', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(DEMO + SMALL_RUN);
  const status = page.locator('#backend-status');
  await expect(status).toHaveAttribute('data-backend', 'webgpu');
  await expect(status).toContainText(/WebGPU · \S+/);
  console.log(`[demo] ${await status.textContent()}`);
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await expect(page.locator('#data-status')).toContainText('1,024 training');
  await attach(page, testInfo, 'demo-ready');

  const watched = ['#loss-chart', '#accuracy-chart', '#digit-grid', '#confusion', '#pad'];
  const before = await boxes(page, watched);
  await page.click('#train');
  await expect(page.locator('#stop')).toBeEnabled();
  // Training is done when Evaluate comes back; the validation accuracy must beat chance (0.1) widely.
  await expect(page.locator('#evaluate')).toBeEnabled({ timeout: 8 * 60_000 });
  const accuracy = Number(await page.locator('#validation-text').getAttribute('data-accuracy'));
  console.log(`[demo] ${await page.locator('#validation-text').textContent()}; ${await page.locator('#speed-text').textContent()}`);
  expect(accuracy).toBeGreaterThan(0.5);
  for (const chart of ['#loss-chart', '#accuracy-chart']) {
    expect(Number(await page.locator(chart).getAttribute('data-points')), `${chart} points`).toBeGreaterThan(2);
  }
  await expect(page.locator('#confusion')).toHaveAttribute('data-filled', 'true');
  await expect(page.locator('#digit-grid figcaption').first()).toHaveText(/\d/);
  // Sizes are reserved up front: nothing moved while training filled the views.
  expect(await boxes(page, watched)).toEqual(before);

  await draw(page, SEVEN);
  const first = await prediction(page);
  expect(first.values).toHaveLength(10);
  expect(first.values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
  expect(first.values[first.best]).toBe(Math.max(...first.values));
  await expect(page.locator('#prediction-text')).toContainText(`Looks like a ${first.best}`);
  // What the model sees is MNIST-like: the digit's long side scaled to 20 px, centred by mass in 28×28.
  const seen = await modelInput(page);
  expect(Math.max(seen.width, seen.height)).toBeGreaterThanOrEqual(19);
  expect(Math.max(seen.width, seen.height)).toBeLessThanOrEqual(21);
  expect(Math.abs(seen.cx - 14)).toBeLessThan(0.5);
  expect(Math.abs(seen.cy - 14)).toBeLessThan(0.5);
  await attach(page, testInfo, 'demo-trained');

  await page.click('#save-idb');
  await expect(page.locator('#message')).toContainText('Saved in this browser');

  await page.reload();
  await expect(status).toHaveAttribute('data-backend', 'webgpu');
  await page.click('#load-idb');
  await expect(page.locator('#message')).toContainText('Loaded the model');
  await expect(page.locator('#model-summary')).toContainText('MLP');
  await draw(page, SEVEN);
  expectSame(await prediction(page), first, 'after loading from IndexedDB');
  await attach(page, testInfo, 'demo-reloaded');

  // Download the model as two files, then load those files back.
  const downloads: Promise<Download>[] = [page.waitForEvent('download'), page.waitForEvent('download', (d) => d.suggestedFilename().endsWith('.bin'))];
  await page.click('#download');
  const files = await Promise.all(
    downloads.map(async (d) => {
      const download = await d;
      const path = testInfo.outputPath(download.suggestedFilename());
      await download.saveAs(path);
      return path;
    }),
  );
  expect(files.map((f) => f.split('/').pop()).sort()).toEqual(['neurite-mnist.json', 'neurite-mnist.weights.bin']);
  await page.locator('#load-files').setInputFiles(files);
  await expect(page.locator('#message')).toContainText('Loaded the model from neurite-mnist');
  await draw(page, SEVEN);
  expectSame(await prediction(page), first, 'after loading the downloaded files');

  // Switching backend carries the model over: the CPU agrees with WebGPU.
  await page.selectOption('#backend', 'cpu');
  await expect(status).toHaveAttribute('data-backend', 'cpu');
  await draw(page, SEVEN);
  expectSame(await prediction(page), first, 'on the CPU');

  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'no horizontal scrolling at 390 px').toBeLessThanOrEqual(0);
  await attach(page, testInfo, 'demo-390px');
});

test('without WebGPU the page falls back to the CPU, says so, and still trains', async ({ page }, testInfo) => {
  await page.addInitScript(() => {
    delete (Navigator.prototype as { gpu?: unknown }).gpu;
  });
  await page.goto(DEMO + '?limit=256&epochs=1&model=mlp&batch=32');
  const status = page.locator('#backend-status');
  await expect(status).toHaveAttribute('data-backend', 'cpu');
  await expect(status).toContainText('CPU (fallback)');
  await expect(status).toContainText('WebGPU is not available');
  await expect(page.locator('#backend')).toHaveValue('cpu');
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await page.click('#train');
  await expect(page.locator('#evaluate')).toBeEnabled({ timeout: 5 * 60_000 });
  await expect(page.locator('#validation-text')).toHaveAttribute('data-accuracy', /\d/);
  await attach(page, testInfo, 'demo-cpu-fallback');
});

test('pause, resume and stop a CNN run; drawings are predicted while it trains', async ({ page }, testInfo) => {
  await page.goto(DEMO + '?limit=4096&epochs=3&model=cnn&batch=32');
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await page.click('#train');
  const progress = page.locator('#progress-text');
  await expect(progress).toContainText(/batch \d+ of 128/, { timeout: 120_000 });
  await page.click('#pause');
  await expect(page.locator('#pause')).toHaveText('Resume');
  await expect(page.locator('#message')).toHaveText('Paused.');
  // While paused the worker still answers the page: a drawing gets probabilities and a saliency map.
  await draw(page, SEVEN);
  await prediction(page);
  const paused = await progress.textContent();
  await page.waitForTimeout(1500);
  expect(await progress.textContent(), 'no progress while paused').toBe(paused);
  await attach(page, testInfo, 'demo-paused');
  await page.click('#pause');
  await expect(page.locator('#pause')).toHaveText('Pause');
  await expect(progress).not.toHaveText(paused!);
  await page.click('#stop');
  await expect(progress).toContainText('Stopped after', { timeout: 120_000 });
  await expect(page.locator('#evaluate')).toBeEnabled();
  await expect(page.locator('#model-summary')).toContainText('Tutorial CNN');
});

test('Reset ends the training worker mid-fit; the page recovers and a new run trains', async ({ page }, testInfo) => {
  const workers: { url: string; closed: boolean }[] = [];
  page.on('worker', (w) => {
    const entry = { url: w.url(), closed: false };
    workers.push(entry);
    w.on('close', () => (entry.closed = true));
  });
  await page.goto(DEMO + '?limit=1024&epochs=2&model=cnn&batch=32');
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await page.click('#train');
  const progress = page.locator('#progress-text');
  await expect(progress).toContainText(/batch \d+ of 32/, { timeout: 120_000 });
  await page.click('#reset');
  // The worker is ended in the middle of the run, and a fresh one loads the data again.
  await expect(page.locator('#message')).toContainText('Reset: the worker was ended');
  await expect.poll(() => workers.filter((w) => w.closed).length, { message: 'the training worker was terminated' }).toBe(1);
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await expect(page.locator('#stop')).toBeDisabled();
  expect(workers.length).toBe(2);
  await attach(page, testInfo, 'demo-reset');

  // A new, short run on the fresh worker trains and predicts.
  await page.selectOption('#model', 'mlp');
  await page.fill('#epochs', '1');
  await page.click('#train');
  await expect(page.locator('#evaluate')).toBeEnabled({ timeout: 5 * 60_000 });
  await expect(page.locator('#validation-text')).toHaveAttribute('data-accuracy', /\d/);
  await expect(page.locator('#model-summary')).toContainText('MLP');
  await draw(page, SEVEN);
  const p = await prediction(page);
  expect(p.values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
});
