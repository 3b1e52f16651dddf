// Opens the parity page in Chromium (WebGPU on SwiftShader) and asserts that every exported op
// agrees with the CPU backend, forward and backward: error < tol relative to the norm, no NaN.
// Replay a run with NEURITE_SEED=<seed>; restrict it with NEURITE_PARITY_OPS=matMul,conv2d.
import { expect, test } from './fixtures.js';
import { formatTable, rowProblems } from './parity/report.js';

const SEED = Number(process.env.NEURITE_SEED ?? Date.now() % 2 ** 31);
const OPS = process.env.NEURITE_PARITY_OPS?.split(',').filter(Boolean) ?? [];

test('every exported op agrees on WebGPU and the CPU, forward and backward', async ({ page }, testInfo) => {
  await page.goto('/e2e/parity.html');
  await page.waitForFunction(() => 'parity' in window, undefined, { timeout: 60_000 });
  const report = await page.evaluate(([seed, ops]) => window.parity.run(seed, ops), [SEED, OPS] as const);
  await testInfo.attach('parity-report.json', { body: JSON.stringify(report, null, 2), contentType: 'application/json' });

  console.log(`[parity] ${report.userAgent}`);
  console.log(`[parity] navigator.gpu adapter ${JSON.stringify(report.adapter)}`);
  if (report.libraryAdapter !== undefined) console.log(`[parity] getAdapterInfo() ${JSON.stringify(report.libraryAdapter)}`);
  console.log(`[parity] seed ${report.seed} (replay with NEURITE_SEED=${report.seed}); ${report.rows.length} cases in ${report.seconds.toFixed(1)} s`);
  console.log(formatTable(report));
  if (report.notExported.length) console.log(`[parity] cases waiting for ops not exported yet: ${report.notExported.join(', ')}`);
  if (report.tensorsLeaked) console.log(`[parity] ${report.tensorsLeaked} tensors were still live after the run`);

  expect(report.adapter, 'navigator.gpu gave no WebGPU adapter').not.toBeNull();
  expect(report.rows.length, 'no case ran').toBeGreaterThan(0);
  expect(report.rows.reduce((n, r) => n + r.dispatches, 0), 'WebGPU dispatched nothing: the cases did not run on the GPU').toBeGreaterThan(0);
  expect.soft(report.uncovered, 'exported ops with no parity case (add them to e2e/parity/cases-*.ts)').toEqual([]);
  const failures = report.rows.filter((r) => rowProblems(r).length > 0).map((r) => `${r.op} ${r.label}: ${rowProblems(r).join('; ')}`);
  expect(failures, 'cases where WebGPU and the CPU disagree (the table above has them all)').toEqual([]);
});

test('ops over tensors larger than one binding agree when split into windowed dispatches', async ({ page }) => {
  await page.goto('/e2e/parity.html');
  await page.waitForFunction(() => 'parity' in window, undefined, { timeout: 60_000 });
  // 1 KiB bindings: nearly every case's tensors span several windows.
  const report = await page.evaluate(([seed, ops]) => window.parity.run(seed, ops, { maxBindingBytes: 1024 }), [SEED, OPS] as const);
  console.log(`[parity, 1 KiB bindings] seed ${report.seed}; ${report.rows.length} cases in ${report.seconds.toFixed(1)} s`);
  console.log(formatTable(report));
  expect(report.rows.length, 'no case ran').toBeGreaterThan(0);
  // Every op splits: no case may refuse, nor disagree.
  const failures = report.rows.filter((r) => rowProblems(r).length > 0).map((r) => `${r.op} ${r.label}: ${rowProblems(r).join('; ')}`);
  expect(failures, 'split cases where WebGPU and the CPU disagree, or that refused').toEqual([]);
});
