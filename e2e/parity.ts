// The parity page (e2e/parity.html): runs every exported op forward and backward on WebGPU and
// on the CPU with the same seeded inputs and reports the worst error per op. parity.spec.ts
// calls window.parity.run(seed); window.neurite exposes the library to other specs.
import * as nt from '../src/index.js';
import type { ParityCase } from './parity/case.js';
import { ELEMENTWISE_CASES } from './parity/cases-elementwise.js';
import { NN_CASES } from './parity/cases-nn.js';
import { ROUTINE_CASES } from './parity/cases-routines.js';
import { SHAPE_CASES } from './parity/cases-shape.js';
import { rowProblems, type AdapterSummary, type ParityReport, type ParityRow } from './parity/report.js';
import { runCase, useWebGpuOptions } from './parity/run.js';

/** Every case; those of ops not exported yet are skipped at run time. */
const CASES: ParityCase[] = [...ELEMENTWISE_CASES, ...SHAPE_CASES, ...ROUTINE_CASES, ...NN_CASES];

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

/**
 * Runs the cases whose op is exported (all, or only those of `ops`) and returns the report; with
 * `webgpu` options (e.g. a small maxBindingBytes, so kernels run split over buffer windows).
 */
async function run(seed: number, ops?: string[], webgpu: nt.WebGpuOptions = {}): Promise<ParityReport> {
  const start = performance.now();
  useWebGpuOptions(webgpu);
  const wanted = CASES.filter((c) => !ops?.length || ops.includes(c.op));
  const present = wanted.filter((c) => typeof exported[c.op] === 'function');
  const notExported = [...new Set(wanted.filter((c) => !present.includes(c)).map((c) => c.op))];
  const adapter = await adapterSummary();
  const libraryAdapter = await backendAdapter();
  const liveBefore = nt.memory().numTensors;
  const rows: ParityRow[] = [];
  for (const [i, c] of present.entries()) {
    status(`case ${i + 1}/${present.length}: ${c.op} ${c.label}`);
    const row = await runCase(nt, c, seed);
    rows.push(row);
    renderRow(row);
  }
  const failed = rows.filter((r) => rowProblems(r).length > 0).length;
  status(`seed ${seed}: ${rows.length - failed} of ${rows.length} cases agree${notExported.length ? `; not exported yet: ${notExported.join(', ')}` : ''}`);
  return {
    seed,
    userAgent: navigator.userAgent,
    adapter,
    libraryAdapter,
    rows,
    notExported,
    uncovered: await uncoveredOps(),
    tensorsLeaked: nt.memory().numTensors - liveBefore,
    seconds: (performance.now() - start) / 1000,
  };
}

declare global {
  interface Window {
    parity: { run: typeof run };
    neurite: typeof nt;
  }
}

window.parity = { run };
window.neurite = nt;
document.getElementById('start')!.addEventListener('click', () => void run(Number(new URLSearchParams(location.search).get('seed') ?? Date.now() % 2 ** 31)));
