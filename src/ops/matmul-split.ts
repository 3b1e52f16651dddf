// How one matrix product larger than a GPU binding is cut: a grid of ranges of rows (m), columns
// (n) and the reduction (k), each part binding windows of A, B, the bias and out. Parts over k
// run in order into the same outputs: the first stores, the rest add to it (matmul.ts).
import type { BindingWindow, SplitLimits } from '../backend/kernel.js';
import { ranges, windowOver, type Span } from '../backend/split.js';
import { BackendError } from '../errors.js';

/** Where one product's matrices lie: element offsets and strides (transposes are strides). */
interface ProductLayout {
  M: number;
  N: number;
  K: number;
  /** A[m, k] = a[aBase + m·aRow + k·aK]. */
  aBase: number;
  aRow: number;
  aK: number;
  /** B[k, n] = b[bBase + k·bK + n·bCol]. */
  bBase: number;
  bK: number;
  bCol: number;
  /** out[m, n] = out[outBase + m·N + n]. */
  outBase: number;
  /** Whether a bias [N] is bound (it is windowed by n like out's columns). */
  hasBias: boolean;
}

/** One part: its ranges, whether it is the first / last k range, and the windows (a, b, bias?, out). */
interface GridPart {
  m: Span;
  n: Span;
  k: Span;
  firstK: boolean;
  lastK: boolean;
  windows: BindingWindow[];
}

/** A cut: counts of m, n and k ranges, and the parts in all. */
interface Cut {
  pm: number;
  pn: number;
  pk: number;
  total: number;
}

/** Most dispatches one product may take. */
const MAX_PARTS = 1 << 16;

/** The window of the elements base + i·si + j·sj for i in is, j in js (strides ≥ 0). */
function windowOf(base: number, [i0, i1]: Span, si: number, [j0, j1]: Span, sj: number, limits: SplitLimits): BindingWindow | null {
  return windowOver([base + i0 * si + j0 * sj, base + (i1 - 1) * si + (j1 - 1) * sj + 1], limits);
}

/** The fewest parts of [1, n] for which `fits` holds (doubling, then bisection), or null. */
function fewest(n: number, fits: (parts: number) => boolean): number | null {
  let lo = 0;
  let hi = 1;
  while (!fits(hi)) {
    if (hi >= n) return null;
    lo = hi;
    hi = Math.min(n, hi * 2);
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const allPairs = (xs: Span[], ys: Span[], f: (x: Span, y: Span) => boolean): boolean => xs.every((x) => ys.every((y) => f(x, y)));

/**
 * The product cut into the fewest parts whose windows fit, found per count of k ranges (k is cut
 * last: each extra k range adds a pass over out). Parts are ordered m, n, then k, so the k ranges
 * of an output block run one after another. Throws BackendError when no cut fits.
 */
export function gridParts(name: string, L: ProductLayout, limits: SplitLimits): GridPart[] {
  const aWin = (m: Span, k: Span) => windowOf(L.aBase, m, L.aRow, k, L.aK, limits);
  const bWin = (k: Span, n: Span) => windowOf(L.bBase, k, L.bK, n, L.bCol, limits);
  const outWin = (m: Span, n: Span) => windowOf(L.outBase, m, L.N, n, 1, limits);
  const biasWin = (n: Span) => windowOver(n, limits);
  /** The cut with `pk` k ranges and the fewest m and n ranges that fit, or null. */
  const cutWithK = (pk: number): Cut | null => {
    const ks = ranges(L.K, pk);
    const pn = fewest(L.N, (c) => {
      const ns = ranges(L.N, c);
      return allPairs(ks, ns, (k, n) => !!bWin(k, n)) && (!L.hasBias || ns.every((n) => !!biasWin(n)));
    });
    if (pn === null) return null;
    const ns = ranges(L.N, pn);
    const pm = fewest(L.M, (c) => {
      const ms = ranges(L.M, c);
      return allPairs(ms, ks, (m, k) => !!aWin(m, k)) && allPairs(ms, ns, (m, n) => !!outWin(m, n));
    });
    return pm === null ? null : { pm, pn, pk, total: pm * pn * pk };
  };
  // The fewest k ranges that fit (doubling, then bisection); larger counts are still tried while
  // they could give fewer parts in all (narrower k ranges let m and n ranges be wider).
  let lo = 0;
  let hi = 1;
  let best = cutWithK(hi);
  while (!best && hi < L.K) {
    lo = hi;
    hi = Math.min(L.K, hi * 2);
    best = cutWithK(hi);
  }
  while (best && hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const cut = cutWithK(mid);
    if (!cut) lo = mid;
    else {
      hi = mid;
      if (cut.total <= best.total) best = cut;
    }
  }
  for (let pk = hi * 2; best && pk <= L.K && pk < best.total; pk *= 2) {
    const cut = cutWithK(pk);
    if (cut && cut.total < best.total) best = cut;
  }
  if (!best || best.total > MAX_PARTS) {
    throw new BackendError(
      `${name}: cannot be split finely enough: a [${L.M}, ${L.K}] × [${L.K}, ${L.N}] product needs more than ${MAX_PARTS} dispatches whose bindings each hold at most ${limits.maxElements * 4} bytes; use smaller tensors`,
    );
  }
  const ks = ranges(L.K, best.pk);
  const parts: GridPart[] = [];
  for (const m of ranges(L.M, best.pm)) {
    for (const n of ranges(L.N, best.pn)) {
      ks.forEach((k, i) => {
        const windows = [aWin(m, k)!, bWin(k, n)!, ...(L.hasBias ? [biasWin(n)!] : []), outWin(m, n)!];
        parts.push({ m, n, k, firstK: i === 0, lastK: i === ks.length - 1, windows });
      });
    }
  }
  return parts;
}
