// Opens the parity page in Chromium (WebGPU on SwiftShader) and checks every exported op against
// the CPU backend, forward and backward: error < tol relative to the norm, no NaN. Each case is a
// Playwright test of its own, so CI counts cases, once as is and once split over 1 KiB bindings.
// Replay a run with NEURITE_SEED=<seed>; restrict it with NEURITE_PARITY_OPS=matMul,conv2d.
import type { Page } from '@playwright/test';
import { expect, test } from '@playwright/test';
import { CASES, caseTitle } from './parity/cases.js';
import { formatTable, rowProblems, type ParityRow } from './parity/report.js';

const SEED = Number(process.env.NEURITE_SEED ?? Date.now() % 2 ** 31);
const OPS = process.env.NEURITE_PARITY_OPS?.split(',').filter(Boolean) ?? [];
const SELECTED = CASES.map((c, index) => ({ c, index })).filter(({ c }) => !OPS.length || OPS.includes(c.op));

/** The two ways every case runs: as is, and with nearly every tensor spanning several binding windows. */
const VARIANTS = [
  { name: 'parity', webgpu: {} },
  { name: 'parity split over 1 KiB bindings', webgpu: { maxBindingBytes: 1024 } },
];

// Cases are many and short: a trace or screenshot per case would cost more than the case itself.
test.use({ trace: 'off', screenshot: 'off' });

for (const variant of VARIANTS) {
  test.describe(variant.name, () => {
    // One page for all cases of a variant: loading it per case would double the run. Its console
    // errors are echoed and its uncaught exceptions fail the case during which they happened.
    let page: Page;
    const uncaught: string[] = [];
    const rows: ParityRow[] = [];

    test.beforeAll(async ({ browser }, testInfo) => {
      page = await browser.newPage({ baseURL: testInfo.project.use.baseURL });
      page.on('pageerror', (e) => uncaught.push(`${e.name}: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') console.log(`[page ${m.type()}] ${m.text()}`);
      });
      await page.goto('/e2e/parity.html');
      await page.waitForFunction(() => 'parity' in window, undefined, { timeout: 60_000 });
      console.log(`[${variant.name}] seed ${SEED} (replay with NEURITE_SEED=${SEED})`);
    });

    test.afterAll(async () => {
      if (rows.length) console.log(`[${variant.name}] ${rows.length} cases on this page\n${formatTable(rows)}`);
      await page?.close();
    });

    if (variant === VARIANTS[0]) {
      test('the page has a WebGPU adapter that does the work, and every exported op has a case', async () => {
        const env = await page.evaluate(() => window.parity.environment());
        console.log(`[parity] ${env.userAgent}`);
        console.log(`[parity] navigator.gpu adapter ${JSON.stringify(env.adapter)}`);
        if (env.libraryAdapter !== undefined) console.log(`[parity] getAdapterInfo() ${JSON.stringify(env.libraryAdapter)}`);
        expect(env.adapter, 'navigator.gpu gave no WebGPU adapter').not.toBeNull();
        expect(env.probeDispatches, 'WebGPU dispatched nothing for a matMul: the cases would not run on the GPU').toBeGreaterThan(0);
        expect.soft(env.uncovered, 'exported ops with no parity case (add them to e2e/parity/cases-*.ts)').toEqual([]);
        expect(env.notExported, 'ops with parity cases that src/index.ts does not export').toEqual([]);
      });
    }

    for (const { c, index } of SELECTED) {
      test(caseTitle(c), async () => {
        uncaught.length = 0;
        const row = await page.evaluate(([i, seed, webgpu]) => window.parity.runOne(i, seed, webgpu), [index, SEED, variant.webgpu] as const);
        rows.push(row);
        expect(caseTitle(row), 'the page and the spec list the same cases').toBe(caseTitle(c));
        expect(rowProblems(row), `WebGPU and the CPU disagree (forward ${row.forward}, backward ${row.backward}, tol ${row.tol})`).toEqual([]);
        expect(uncaught, 'uncaught exceptions in the page').toEqual([]);
      });
    }
  });
}
