// Runs parity cases in the page: the same seeded inputs on the CPU and on WebGPU, forward and
// backward (valueAndGrads with a random output gradient, so the whole vector-Jacobian product
// is compared, not just that of a sum), and the error of WebGPU relative to the CPU's norm.
import { mulberry32 as rng } from '../../src/data/random.js';
import type { Tensor } from '../../src/index.js';
import type { NT, OpFn, ParityCase } from './case.js';
import type { ParityRow } from './report.js';

interface Sample {
  values: Float32Array | Int32Array;
  shape: number[];
}

interface Result {
  shape: readonly number[];
  output: ArrayLike<number>;
  grads: ArrayLike<number>[];
}

/** A per-case seed from the run's seed and the case's name, so adding a case changes no other. */
function caseSeed(seed: number, c: ParityCase): number {
  let h = seed >>> 0;
  for (const ch of `${c.op} ${c.label}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

function draw(c: ParityCase, random: () => number): Sample[] {
  return c.inputs.map((spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if ('ints' in spec) return { shape: spec.shape, values: Int32Array.from({ length: n }, () => Math.floor(random() * spec.ints)) };
    const { lo = -1, hi = 1 } = spec;
    return { shape: spec.shape, values: Float32Array.from({ length: n }, () => lo + (hi - lo) * random()) };
  });
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** An output gradient: random values of the output's shape. */
interface OutputGrad {
  values: Float32Array;
  shape: readonly number[];
}

/** Runs the case on the current backend: forward only, or value and gradients for `dy`. */
async function evaluate(nt: NT, c: ParityCase, f: OpFn, samples: Sample[], dy: OutputGrad | null): Promise<Result> {
  const xs = samples.map((s) => nt.tensor(s.values, s.shape, s.values instanceof Int32Array ? 'int32' : 'float32'));
  const owned: Tensor[] = [...xs];
  try {
    if (!c.wrt || !dy) {
      const y = nt.tidy(() => c.run(f, xs, nt));
      owned.push(y);
      return { shape: y.shape, output: await y.data(), grads: [] };
    }
    const wrt = c.wrt;
    const fn = (...ws: Tensor[]): Tensor => c.run(f, xs.map((x, i) => (wrt.includes(i) ? ws[wrt.indexOf(i)] : x)), nt);
    const dyTensor = nt.tensor(dy.values, dy.shape);
    owned.push(dyTensor);
    // One evaluation gives both, so a random op's value and gradient share their mask.
    const { value, grads } = nt.valueAndGrads(fn)(wrt.map((i) => xs[i]), dyTensor);
    owned.push(value, ...grads);
    return { shape: value.shape, output: await value.data(), grads: await Promise.all(grads.map((g) => g.data())) };
  } finally {
    nt.dispose(owned);
  }
}

/** max|a − e| / max|e| (Infinity when a value is NaN). */
function normRelative(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(expected[i]));
  }
  return den === 0 ? num : num / den;
}

const hasNaN = (r: Result): boolean => [r.output, ...r.grads].some((a) => Array.prototype.some.call(a, Number.isNaN));

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** Options of the WebGPU backend the cases run on (a small maxBindingBytes makes kernels split). */
let webgpuOptions: Parameters<NT['setBackend']>[1] = {};

export function useWebGpuOptions(options: Parameters<NT['setBackend']>[1] = {}): void {
  webgpuOptions = options;
}

/** Runs `stage` of the case on the CPU and then on WebGPU (counting its dispatches). */
async function onBoth(nt: NT, row: ParityRow, stage: string, run: () => Promise<Result>): Promise<[Result, Result]> {
  try {
    await nt.setBackend('cpu');
    const cpu = await run();
    await nt.setBackend('webgpu', webgpuOptions);
    nt.resetStats();
    const gpu = await run();
    row.dispatches += nt.stats().dispatches;
    row.nan ||= hasNaN(cpu) || hasNaN(gpu);
    if (!sameShape(cpu.shape, gpu.shape)) throw new Error(`output shape [${gpu.shape}] on webgpu, [${cpu.shape}] on cpu`);
    return [cpu, gpu];
  } catch (e) {
    throw new Error(`${stage}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  } finally {
    await nt.setBackend('cpu');
  }
}

/**
 * Runs one case on both backends and compares: forward alone first, so a failing gradient
 * still leaves the forward error in the row, then value and gradients together.
 */
export async function runCase(nt: NT, c: ParityCase, seed: number): Promise<ParityRow> {
  const row: ParityRow = { op: c.op, label: c.label, forward: null, backward: null, backwardByInput: [], tol: c.tol ?? 1e-4, nan: false, kind: c.property ? 'property' : 'parity', dispatches: 0 };
  const f = (nt as unknown as Record<string, OpFn>)[c.op];
  const random = rng(caseSeed(seed, c));
  const samples = draw(c, random);
  const inputs = samples.map((s) => Float32Array.from(s.values));
  const judge = (cpu: Result, gpu: Result, dy: Float32Array | null): void => {
    if (c.property) {
      const worst = Math.max(c.property({ inputs, dy, ...cpu }), c.property({ inputs, dy, ...gpu }));
      row.forward = Math.max(row.forward ?? 0, worst);
    } else {
      row.forward = Math.max(row.forward ?? 0, normRelative(gpu.output, cpu.output));
      if (dy) {
        row.backwardByInput = gpu.grads.map((g, i) => normRelative(g, cpu.grads[i]));
        row.backward = Math.max(...row.backwardByInput);
      }
    }
  };
  try {
    const [cpu, gpu] = await onBoth(nt, row, 'forward', () => evaluate(nt, c, f, samples, null));
    judge(cpu, gpu, null);
    if (c.wrt) {
      const dy = { shape: cpu.shape, values: Float32Array.from({ length: size(cpu.shape) }, () => 2 * random() - 1) };
      judge(...(await onBoth(nt, row, 'backward', () => evaluate(nt, c, f, samples, dy))), dy.values);
    }
  } catch (e) {
    row.error = (e as Error).message;
  }
  return row;
}
