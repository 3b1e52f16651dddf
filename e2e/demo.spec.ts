// The demo page end to end, in Chromium on SwiftShader's WebGPU: train a small MLP on a slice
// of MNIST in the worker, watch the charts fill, draw a digit and get probabilities and a
// saliency map, save to IndexedDB and load it back after a reload; Reset ends the worker mid-fit
// and the page trains again on a fresh one; without WebGPU the page falls back to the CPU and
// says so; on SwiftShader the default model is the small TF.js CNN, and the page says why; the
// Keras CNN and the autoencoder (with its reconstructions) train; the CPU backend runs, and names,
// the WebAssembly kernels. Screenshots are attached to the test results.
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
  await expect(status).toHaveAttribute('data-kernels', 'wasm');
  await expect(page.locator('#backend')).toHaveValue('cpu');
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await page.click('#train');
  await expect(page.locator('#evaluate')).toBeEnabled({ timeout: 5 * 60_000 });
  await expect(page.locator('#validation-text')).toHaveAttribute('data-accuracy', /\d/);
  await attach(page, testInfo, 'demo-cpu-fallback');
});

test('pause, resume and stop a CNN run; drawings are predicted while it trains', async ({ page }, testInfo) => {
  // model=cnn: links from before the zoo meant the small TF.js tutorial CNN, and still do.
  await page.goto(DEMO + '?limit=4096&epochs=3&model=cnn&batch=32');
  await expect(page.locator('#model')).toHaveValue('tfjs-cnn');
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
  await expect(page.locator('#model-summary')).toContainText('TF.js tutorial CNN (8/16 filters of 5×5)');
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

/** How many pixels of a 28×28 digit canvas have ink (10 % or more darker than the paper), and how many shades it has. */
function ink(page: Page, selector: string): Promise<{ inked: number; shades: number }[]> {
  return page.locator(selector).evaluateAll((canvases: HTMLCanvasElement[]) =>
    canvases.map((c) => {
      const data = c.getContext('2d')!.getImageData(0, 0, 28, 28).data;
      const shades = new Set<number>();
      let inked = 0;
      for (let i = 0; i < data.length; i += 4) {
        shades.add(data[i]);
        if (data[i] < 230) inked++;
      }
      return { inked, shades: shades.size };
    }),
  );
}

test('on SwiftShader the default model is the small TF.js CNN, and the page says why', async ({ page }, testInfo) => {
  await page.goto(DEMO + '?limit=256&epochs=1&batch=32');
  await expect(page.locator('#backend-status')).toHaveAttribute('data-backend', 'webgpu');
  await expect(page.locator('#backend-status')).toContainText('software adapter');
  const model = page.locator('#model');
  await expect(model).toHaveValue('tfjs-cnn');
  const reason = page.locator('#model-reason');
  await expect(reason).toContainText('Small TF.js tutorial CNN chosen');
  await expect(reason).toContainText('emulates a GPU on the CPU');
  await expect(reason).toContainText('93,322 parameters');
  // Every model is offered under its zoo title, with its parameter count.
  await expect(model.locator('option[value="keras-cnn"]')).toHaveText('Keras tutorial CNN (32/64/64 filters of 3×3) · 93,322 parameters');
  await expect(model.locator('option[value="tfjs-cnn"]')).toContainText('TF.js tutorial CNN (8/16 filters of 5×5)');
  expect(await model.locator('option').evaluateAll((o: HTMLOptionElement[]) => o.map((x) => x.value))).toEqual([
    'keras-cnn',
    'tfjs-cnn',
    'mlp',
    'rnn',
    'lstm',
    'autoencoder',
  ]);
  await attach(page, testInfo, 'demo-default-model');
  // On the CPU backend the small CNN stays the default, for the CPU's reason.
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await page.selectOption('#backend', 'cpu');
  await expect(page.locator('#backend-status')).toHaveAttribute('data-backend', 'cpu');
  await expect(reason).toContainText('on the CPU backend');
  await expect(model).toHaveValue('tfjs-cnn');
  // The user's choice wins, and the reason goes.
  await page.selectOption('#model', 'mlp');
  await expect(reason).not.toContainText('chosen');
  await page.selectOption('#backend', 'webgpu');
  await expect(page.locator('#backend-status')).toHaveAttribute('data-backend', 'webgpu');
  await expect(model).toHaveValue('mlp');
});

test('?model=keras-cnn trains the Keras tutorial CNN on a short run', async ({ page }, testInfo) => {
  await page.goto(DEMO + '?model=keras-cnn&limit=256&epochs=1&batch=32');
  await expect(page.locator('#model')).toHaveValue('keras-cnn');
  await expect(page.locator('#model-reason')).toContainText('chosen by the link');
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await page.click('#train');
  await expect(page.locator('#evaluate')).toBeEnabled({ timeout: 5 * 60_000 });
  await expect(page.locator('#validation-text')).toHaveAttribute('data-accuracy', /\d/);
  await expect(page.locator('#model-summary')).toContainText('Keras tutorial CNN (32/64/64 filters of 3×3) · 8 layers · 93,322 parameters');
  console.log(`[demo] keras-cnn: ${await page.locator('#speed-text').textContent()}; ${await page.locator('#validation-text').textContent()}`);
  await attach(page, testInfo, 'demo-keras-cnn');
});

test('the autoencoder trains on a tiny run and shows test digits beside their reconstructions', async ({ page }, testInfo) => {
  await page.goto(DEMO + '?model=autoencoder&limit=1024&epochs=2&batch=32');
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await page.click('#train');
  // Panels for classes give way to the reconstructions.
  await expect(page.locator('#main')).toHaveAttribute('data-task', 'reconstruct');
  for (const id of ['#acc-card', '#digits-card', '#confusion-card']) await expect(page.locator(id)).toBeHidden();
  await expect(page.locator('#recon-card')).toBeVisible();
  await expect(page.locator('#evaluate')).toBeEnabled({ timeout: 5 * 60_000 });
  await expect(page.locator('#reconstructions')).toHaveAttribute('data-drawn', '8');
  const mse = Number(await page.locator('#recon-text').getAttribute('data-mse'));
  console.log(`[demo] autoencoder: ${await page.locator('#recon-text').textContent()}; ${await page.locator('#speed-text').textContent()}`);
  expect(Number.isFinite(mse)).toBe(true);
  expect(mse).toBeGreaterThan(0);
  // An all-black output scores 0.109: the model must have learned more than the background.
  expect(mse).toBeLessThan(0.1);
  await expect(page.locator('#validation-text')).toContainText('MSE');
  await expect(page.locator('#validation-text')).toHaveAttribute('data-mse', String(mse));
  expect(Number(await page.locator('#loss-chart').getAttribute('data-points'))).toBeGreaterThan(1);
  // Eight test digits and eight reconstructions (blurry after a tiny run), each drawn with ink in several shades.
  const originals = await ink(page, '#reconstructions .originals canvas');
  const outputs = await ink(page, '#reconstructions .outputs canvas');
  expect(originals).toHaveLength(8);
  expect(outputs).toHaveLength(8);
  for (const c of [...originals, ...outputs]) {
    expect(c.inked).toBeGreaterThan(10);
    expect(c.shades).toBeGreaterThan(2);
  }
  await expect(page.locator('#model-summary')).toContainText('Convolutional autoencoder');
  // Drawing asks a classifier; the page says so instead of failing.
  await draw(page, SEVEN);
  await expect(page.locator('#prediction-text')).toContainText('reconstructs digits');
  await expect(page.locator('#probabilities')).not.toHaveAttribute('data-values');
  // Evaluate on all test digits refreshes the reconstructions.
  await page.click('#evaluate');
  await expect(page.locator('#message')).toHaveText('Evaluated.');
  await expect(page.locator('#recon-text')).toContainText('now');
  await attach(page, testInfo, 'demo-autoencoder');
});

test('?backend=cpu runs the WebAssembly SIMD kernels, says so, and trains', async ({ page }, testInfo) => {
  await page.goto(DEMO + '?backend=cpu&model=mlp&limit=256&epochs=1&batch=32');
  const status = page.locator('#backend-status');
  await expect(status).toHaveAttribute('data-backend', 'cpu');
  await expect(status).toHaveAttribute('data-kernels', 'wasm');
  await expect(status).toContainText(/^CPU · WebAssembly SIMD/);
  await expect(page.locator('#train')).toBeEnabled({ timeout: 120_000 });
  await page.click('#train');
  await expect(page.locator('#evaluate')).toBeEnabled({ timeout: 5 * 60_000 });
  await expect(page.locator('#validation-text')).toHaveAttribute('data-accuracy', /\d/);
  await expect(page.locator('#model-summary')).toContainText('MLP (784-128-10)');
  await attach(page, testInfo, 'demo-cpu-wasm');
});
