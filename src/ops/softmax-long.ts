// softmax / logSoftmax and their gradients over rows longer than one GPU binding: each row is cut
// into ranges of its values, and the kernel runs in two passes over them — a statistics pass that
// folds each range into a running (max, Σexp), or Σ dy·y, per row kept in scratch storage, then a
// pass that writes the outputs from it. Equal to the one-pass kernel up to summation order.
import { linearWorkgroups, type BindingWindow, type KernelCall, type SplitLimits } from '../backend/kernel.js';
import { ranges, searchParts, windowOver, type Span } from '../backend/split.js';
import { kernelParams, type StorageBinding } from '../backend/skeleton.js';
import { WGSL_PRELUDE } from './elementwise/expr.js';

/** What a row kernel computes; the gradient modes read (dy, y) instead of x. */
export type RowMode = 'softmax' | 'logSoftmax' | 'softmaxGrad' | 'logSoftmaxGrad';

/** The row kernels' bindings: a, b (second input of the gradients), out, then scratch (long rows only). */
export const ROW_STORAGES: readonly StorageBinding[] = [
  { name: 'a', type: 'f32' },
  { name: 'b', type: 'f32' },
  { name: 'out', type: 'f32', write: true },
  { name: 'scratch', type: 'f32', write: true },
];

/**
 * The long-row passes' uniforms: `count` inner indices from element `base` of the bound window,
 * `rows` values of each row from scratch element `sBase`; `first` is 1 for a row's first range.
 */
const LONG_ROW_PARAMS = kernelParams({ count: 'u32', rows: 'u32', inner: 'u32', base: 'u32', sBase: 'u32', first: 'u32' });

/** The statistics pass over rows [base, base + rows·inner): folds this range into scratch[si], scratch[si + 1]. */
const STATS_WGSL: Record<RowMode, string> = {
  softmax: maxSumWgsl(),
  logSoftmax: maxSumWgsl(),
  softmaxGrad: sumWgsl('a[k] * b[k]'),
  logSoftmaxGrad: sumWgsl('a[k]'),
};

/** The write pass: outputs of the range from the row's statistics. */
const WRITE_WGSL: Record<RowMode, string> = {
  softmax: `let m = scratch[si]; let s = scratch[si + 1u];
  for (var r = 0u; r < p.rows; r++) { let k = base + r * p.inner; out[k] = nt_exp(a[k] - m) / s; }`,
  logSoftmax: `let m = scratch[si]; let ls = nt_log(scratch[si + 1u]);
  for (var r = 0u; r < p.rows; r++) { let k = base + r * p.inner; out[k] = (a[k] - m) - ls; }`,
  // d softmax: dx = y·(dy − Σ dy·y)
  softmaxGrad: `let t = scratch[si];
  for (var r = 0u; r < p.rows; r++) { let k = base + r * p.inner; out[k] = b[k] * (a[k] - t); }`,
  // d logSoftmax: dx = dy − exp(y)·Σdy
  logSoftmaxGrad: `let t = scratch[si];
  for (var r = 0u; r < p.rows; r++) { let k = base + r * p.inner; out[k] = a[k] - nt_exp(b[k]) * t; }`,
};

/** Max and Σexp of the range, merged with the running ones (rescaled to the larger max). */
function maxSumWgsl(): string {
  return `var m = a[base];
  for (var r = 1u; r < p.rows; r++) { m = nt_max(m, a[base + r * p.inner]); }
  var s = 0.0;
  for (var r = 0u; r < p.rows; r++) { s += nt_exp(a[base + r * p.inner] - m); }
  if (p.first == 0u) {
    let m0 = scratch[si];
    let mm = nt_max(m0, m);
    s = scratch[si + 1u] * nt_exp(m0 - mm) + s * nt_exp(m - mm);
    m = mm;
  }
  scratch[si] = m;
  scratch[si + 1u] = s;`;
}

/** Σ term over the range, added to the running sum. */
function sumWgsl(term: string): string {
  return `var t = 0.0;
  for (var r = 0u; r < p.rows; r++) { let k = base + r * p.inner; t += ${term}; }
  if (p.first == 0u) { t += scratch[si]; }
  scratch[si] = t;`;
}

function longRowWgsl(mode: RowMode, pass: 'stats' | 'write', inputs: number): string {
  return LONG_ROW_PARAMS.wgsl({
    storages: [...ROW_STORAGES.slice(0, inputs), ...ROW_STORAGES.slice(2)],
    prelude: WGSL_PRELUDE,
    index: { name: 'j', below: 'count' },
    body: `  let base = p.base + j;
  let si = p.sBase + 2u * j;
  ${(pass === 'stats' ? STATS_WGSL : WRITE_WGSL)[mode]}`,
  });
}

/** One cut of the rows: ranges of the inner dim and of each row's values, and each range's windows. */
interface LongRowPart {
  o: number;
  k: Span;
  r: Span;
  data: BindingWindow;
  scratch: BindingWindow;
}

/**
 * The parts of a row kernel over x viewed as [outer, R, inner] whose rows do not fit one binding:
 * per (outer index, range of inner), the statistics pass over each range of r in order, then the
 * write pass over them. Every input and out are bound from the same window (same shape).
 */
export function longRowParts(call: KernelCall, mode: RowMode, [outer, R, inner]: readonly number[], inputs: number, limits: SplitLimits): KernelCall[] {
  const cut = searchParts(mode, limits, (parts) => {
    // Ranges of r first (a range of r spans its values of every row in the inner range), then
    // of inner once single values of r are still too many.
    const pr = Math.min(R, parts);
    const pk = Math.min(inner, Math.max(1, Math.floor(parts / pr)));
    const out: LongRowPart[] = [];
    for (let o = 0; o < outer; o++) {
      for (const k of ranges(inner, pk)) {
        const scratch = windowOver([2 * (o * inner + k[0]), 2 * (o * inner + k[1])], limits);
        if (!scratch) return null;
        for (const r of ranges(R, pr)) {
          const start = (o * R + r[0]) * inner;
          const data = windowOver([start + k[0], start + (r[1] - r[0] - 1) * inner + k[1]], limits);
          if (!data) return null;
          out.push({ o, k, r, data, scratch });
        }
      }
    }
    return out;
  });
  const part = (pass: 'stats' | 'write', { o, k, r, data, scratch }: LongRowPart): KernelCall => ({
    ...call,
    key: `rows:${mode}:long:${pass}`,
    wgsl: () => longRowWgsl(mode, pass, inputs),
    uniforms: LONG_ROW_PARAMS.uniforms({
      count: k[1] - k[0],
      rows: r[1] - r[0],
      inner,
      base: (o * R + r[0]) * inner + k[0] - data.offset,
      sBase: 2 * (o * inner + k[0]) - scratch.offset,
      first: +(r[0] === 0),
    }),
    workgroups: linearWorkgroups(k[1] - k[0]),
    windows: [...Array<BindingWindow>(inputs + 1).fill(data), scratch],
    scratch: 2 * outer * inner,
  });
  // The parts of one (o, inner range) are adjacent: all its statistics, then all its writes.
  const calls: KernelCall[] = [];
  for (let i = 0; i < cut.length; ) {
    let j = i;
    while (j < cut.length && cut[j].o === cut[i].o && cut[j].k[0] === cut[i].k[0]) j++;
    for (let q = i; q < j; q++) calls.push(part('stats', cut[q]));
    for (let q = i; q < j; q++) calls.push(part('write', cut[q]));
    i = j;
  }
  return calls;
}
