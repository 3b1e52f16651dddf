// The parity page (e2e/parity.html): runs every exported op forward and backward on WebGPU and
// on the CPU with the same seeded inputs and reports the error of each case. parity.spec.ts
// calls window.parity.environment() once and window.parity.runOne(index, seed) per case (one
// Playwright test each); the Run button runs them all. window.neurite exposes the library.
import * as nt from '../src/index.js';
import { CASES } from './parity/cases.js';
import { rowProblems, type AdapterSummary, type ParityEnvironment, type ParityReport, type ParityRow } from './parity/report.js';
import { runCase, useWebGpuOptions } from './parity/run.js';

/** Functions exported from src/ops/ that are not ops: tensor creation. */
const NOT_OPS = new Set(['tensor', 'scalar', 'fill', 'zeros', 'ones', 'zerosLike', 'onesLike', 'variable', 'toTensor']);

const exported = nt as unknown as Record<string, unknown>;

/**
 * The ops src/index.ts exports with no case: its exported functions that are defined in a
 * module under src/ops/ (matched by identity, so layers, optimizers and plumbing never count).
 * Modules are loaded one by one so an unfinished file elsewhere in src/ops cannot break the page.
 */
async function uncoveredOps(): Promise<string[]> {
  const covered = new Set(CASES.map((c) => c.op));
  const ops = new Set<string>();
  for (const load of Object.values(import.meta.glob<Record<string, unknown>>('../src/ops/**/*.ts'))) {
    const module = await load().catch(() => ({}) as Record<string, unknown>);
    for (const [name, value] of Object.entries(module)) if (typeof value === 'function' && exported[name] === value) ops.add(name);
  }
  return [...ops].filter((name) => !covered.has(name) && !NOT_OPS.has(name)).sort();
}

async function adapterSummary(): Promise<AdapterSummary | null> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const { vendor, architecture, device, description } = adapter.info;
  const isFallbackAdapter = (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return { vendor, architecture, device, description, isFallbackAdapter };
}

/** What the library itself reports through getAdapterInfo(), where it exports that. */
async function backendAdapter(): Promise<unknown> {
  const get = exported.getAdapterInfo;
  if (typeof get !== 'function') return undefined;
  try {
    await nt.setBackend('webgpu');
    return get();
  } catch (e) {
    return `setBackend('webgpu') failed: ${(e as Error).message}`;
  } finally {
    await nt.setBackend('cpu');
  }
}

function renderRow(row: ParityRow): void {
  const tr = document.createElement('tr');
  const problems = rowProblems(row);
  if (problems.length) tr.className = 'fail';
  const cells = [row.op, row.label, row.forward?.toExponential(2) ?? '—', row.backward?.toExponential(2) ?? '—', String(row.tol), problems.join('; ') || 'ok'];
  cells.forEach((text, i) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (i >= 2 && i <= 4) td.className = 'num';
    tr.append(td);
  });
  document.getElementById('rows')!.append(tr);
}

function status(text: string): void {
  document.getElementById('status')!.textContent = text;
}

/** Cases whose op src/index.ts does not export: each such case fails. */
const notExported = (): string[] => [...new Set(CASES.filter((c) => typeof exported[c.op] !== 'function').map((c) => c.op))];

/** WebGPU dispatches of a tiny matMul: zero would mean the cases do not reach the GPU. */
async function probeDispatches(): Promise<number> {
  await nt.setBackend('webgpu');
  try {
    nt.resetStats();
    const y = nt.tidy(() => nt.matMul(nt.ones([3, 5]), nt.ones([5, 2])));
    await y.data();
    y.dispose();
    return nt.stats().dispatches;
  } finally {
    await nt.setBackend('cpu');
  }
}

/** What the spec checks once per page: the adapter, coverage, and that WebGPU does the work. */
async function environment(): Promise<ParityEnvironment> {
  const adapter = await adapterSummary();
  return {
    userAgent: navigator.userAgent,
    adapter,
    libraryAdapter: await backendAdapter(),
    notExported: notExported(),
    uncovered: await uncoveredOps(),
    probeDispatches: adapter ? await probeDispatches() : 0,
  };
}

/**
 * Runs case `index` of CASES with `seed` on both backends, WebGPU with `webgpu` options (e.g. a
 * small maxBindingBytes, so kernels run split over buffer windows), and shows its row.
 */
async function runOne(index: number, seed: number, webgpu: nt.WebGpuOptions = {}): Promise<ParityRow> {
  const c = CASES[index];
  useWebGpuOptions(webgpu);
  const row: ParityRow =
    typeof exported[c.op] === 'function'
      ? await runCase(nt, c, seed)
      : { op: c.op, label: c.label, forward: null, backward: null, backwardByInput: [], tol: c.tol ?? 1e-4, nan: false, kind: 'parity', dispatches: 0, error: `'${c.op}' is not exported from src/index.ts` };
  renderRow(row);
  return row;
}

/** Runs every case (or those of `ops`) in the page and returns the report: the Run button. */
async function run(seed: number, ops?: string[], webgpu: nt.WebGpuOptions = {}): Promise<ParityReport> {
  const start = performance.now();
  const env = await environment();
  const liveBefore = nt.memory().numTensors;
  const wanted = CASES.filter((c) => !ops?.length || ops.includes(c.op));
  const rows: ParityRow[] = [];
  for (const [i, c] of wanted.entries()) {
    status(`case ${i + 1}/${wanted.length}: ${c.op} ${c.label}`);
    rows.push(await runOne(CASES.indexOf(c), seed, webgpu));
  }
  const failed = rows.filter((r) => rowProblems(r).length > 0).length;
  status(`seed ${seed}: ${rows.length - failed} of ${rows.length} cases agree`);
  return { ...env, seed, rows, tensorsLeaked: nt.memory().numTensors - liveBefore, seconds: (performance.now() - start) / 1000 };
}

declare global {
  interface Window {
    parity: { run: typeof run; runOne: typeof runOne; environment: typeof environment };
    neurite: typeof nt;
  }
}

window.parity = { run, runOne, environment };
window.neurite = nt;
document.getElementById('start')!.addEventListener('click', () => void run(Number(new URLSearchParams(location.search).get('seed') ?? Date.now() % 2 ** 31)));
