// matMul: [..., M, K] × [..., K, N] with NumPy-broadcast batch dims and transpose flags, and its
// gradient; fusedMatMul adds a bias and an activation in the same kernel's epilogue. One KernelCall
// per product: a CPU loop (4×4 register blocks over contiguous rows) and one of two WGSL kernels —
// unrolled register tiles or workgroup-memory tiles — as the backend prefers (OpDef.kernel's prefs).
import { linearWorkgroups, type KernelPreferences, type BindingWindow, type KernelCall, type SplitLimits } from '../backend/kernel.js';
import { splitItems, type ItemPart, type Span } from '../backend/split.js';
import { BackendError, DTypeError, NeuriteError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { broadcastStrides, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef } from './op.js';
import { unbroadcast } from './binary.js';
import { activationBackprop, checkFusedActivation, cpuEpilogue, epilogueWgsl, type FusedActivation } from './epilogue.js';
import {
  LARGE_REGISTER_SHAPE,
  MATMUL_PARAMS,
  REGISTER_SHAPE,
  REGISTER_TILE,
  REGISTER_WORKGROUP,
  WORKGROUP_TILE,
  registerKernelWgsl,
  registerShapeKey,
  workgroupKernelWgsl,
  type MatMulValues,
  type RegisterShape,
} from './matmul-wgsl.js';
import { gridParts } from './matmul-split.js';
import { matMulWasm } from './matmul-wasm.js';
import { broadcastTo } from './transform.js';

/** Options of `matMul`. */
export interface MatMulOptions {
  /** Use the transpose of a's last two dims (a is [..., K, M]). Default false. */
  transposeA?: boolean;
  /** Use the transpose of b's last two dims (b is [..., N, K]). Default false. */
  transposeB?: boolean;
}

interface MatMulAttrs {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

/** Options of `fusedMatMul`. */
export interface FusedMatMulOptions extends MatMulOptions {
  /** float32 [N], added to every row of the product (all rows of all batches). Default none. */
  bias?: Tensor;
  /** Applied after the bias: 'linear' (default), 'relu', 'sigmoid' or 'tanh'. */
  activation?: FusedActivation;
}

interface FusedMatMulAttrs extends MatMulAttrs {
  readonly activation: FusedActivation;
}

/** The batch, collapsed: dims (outermost first) and each input's matrix stride per dim (0 where broadcast). */
interface BatchLayout {
  dims: number[];
  aStrides: number[];
  bStrides: number[];
}

/** Everything the kernels need to know about one product. */
interface Geometry {
  M: number;
  K: number;
  N: number;
  /** The output's batch shape (the broadcast of both inputs' batch shapes). */
  batch: number[];
  layout: BatchLayout;
}

/** The GPU kernels take the batch as at most this many dims (after collapsing). */
const MAX_BATCH_DIMS = 3;

function geometry(a: Tensor, b: Tensor, { transposeA, transposeB }: MatMulAttrs, op = 'matMul'): Geometry {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new DTypeError(`${op}: expected float32 inputs, got a ${a.dtype} ${fmtShape(a.shape)} and b ${b.dtype} ${fmtShape(b.shape)}`);
  }
  for (const [name, t, what] of [['a', a, '[..., M, K]'], ['b', b, '[..., K, N]']] as const) {
    if (t.rank < 2) throw new ShapeError(`${op}: ${name} ${fmtShape(t.shape)} has rank ${t.rank}; expected rank 2 or more (${what})`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = transposeA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transposeB ? [bc, br] : [br, bc];
  if (K !== Kb) {
    throw new ShapeError(
      `${op}: inner dims differ: a ${fmtShape(a.shape)} (transposeA ${transposeA}) has K=${K}, b ${fmtShape(b.shape)} (transposeB ${transposeB}) has K=${Kb}`,
    );
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastBatch(a, b, aBatch, bBatch, op);
  return { M, K, N, batch, layout: batchLayout(batch, aBatch, bBatch, M * K, K * N) };
}

function broadcastBatch(a: Tensor, b: Tensor, aBatch: number[], bBatch: number[], op: string): number[] {
  const rank = Math.max(aBatch.length, bBatch.length);
  return Array.from({ length: rank }, (_, i) => {
    const da = aBatch[aBatch.length - rank + i] ?? 1;
    const db = bBatch[bBatch.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: batch dims of a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)} do not broadcast (batch dim ${i - rank} is ${da} vs ${db}; expected equal or 1)`,
      );
    }
    return da === 1 ? db : da;
  });
}

/**
 * Collapses the batch: size-1 dims are dropped and neighbouring dims merged where both inputs
 * step through them contiguously (or both broadcast), so most batches become one dim.
 */
function batchLayout(batch: number[], aBatch: number[], bBatch: number[], aMat: number, bMat: number): BatchLayout {
  const aS = broadcastStrides(aBatch, batch).map((s) => s * aMat);
  const bS = broadcastStrides(bBatch, batch).map((s) => s * bMat);
  const dims: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let i = batch.length - 1; i >= 0; i--) {
    if (batch[i] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && aStrides[last] * dims[last] === aS[i] && bStrides[last] * dims[last] === bS[i]) {
      dims[last] *= batch[i];
    } else {
      dims.push(batch[i]);
      aStrides.push(aS[i]);
      bStrides.push(bS[i]);
    }
  }
  return { dims: dims.reverse(), aStrides: aStrides.reverse(), bStrides: bStrides.reverse() };
}

/** Matrix offsets of batch `z` in a and b. */
function batchOffsets({ dims, aStrides, bStrides }: BatchLayout, z: number): [number, number] {
  let aOff = 0;
  let bOff = 0;
  for (let d = dims.length - 1; d >= 0; d--) {
    const i = z % dims[d];
    z = (z - i) / dims[d];
    aOff += i * aStrides[d];
    bOff += i * bStrides[d];
  }
  return [aOff, bOff];
}

/**
 * The gradient of Y = op(A)·op(B) given dY, shared by matMul and fusedMatMul (which passes dZ).
 * d op(A) = dY·op(B)ᵀ, d op(B) = op(A)ᵀ·dY; transposing back flips the order.
 */
function matMulGrads(dy: Tensor, a: Tensor, b: Tensor, { transposeA: tA, transposeB: tB }: MatMulAttrs, needs: readonly boolean[]): (Tensor | null)[] {
  return [
    // !tA: dA = dY·op(B)ᵀ      tA: dA = (dY·op(B)ᵀ)ᵀ = op(B)·dYᵀ
    needs[0] ? unbroadcast(tA ? matMul(b, dy, { transposeA: tB, transposeB: true }) : matMul(dy, b, { transposeB: !tB }), a.shape) : null,
    // !tB: dB = op(A)ᵀ·dY      tB: dB = (op(A)ᵀ·dY)ᵀ = dYᵀ·op(A)
    needs[1] ? unbroadcast(tB ? matMul(dy, a, { transposeA: true, transposeB: tA }) : matMul(a, dy, { transposeA: !tA }), b.shape) : null,
  ];
}

/** matMul as a primitive op; call it through `matMul`, which also handles unusual batch broadcasts. */
export const matMulOp: OpDef<MatMulAttrs> = {
  name: 'matMul',
  outputs([a, b], attrs) {
    const { M, N, batch } = geometry(a, b, attrs);
    return [{ shape: [...batch, M, N], dtype: 'float32' }];
  },
  kernel: ([a, b], _outs, attrs, prefs) => matMulCall(geometry(a, b, attrs), attrs, null, prefs),
  grad: ([dy], [a, b], _o, attrs, needs) => matMulGrads(dy, a, b, attrs, needs),
};

/** fusedMatMul as a primitive op: inputs [a, b] or [a, b, bias]; call it through `fusedMatMul`. */
export const fusedMatMulOp: OpDef<FusedMatMulAttrs> = {
  name: 'fusedMatMul',
  outputs([a, b, bias], attrs) {
    const { M, N, batch } = geometry(a, b, attrs, 'fusedMatMul');
    if (bias) checkBias(bias, N);
    return [{ shape: [...batch, M, N], dtype: 'float32' }];
  },
  kernel: ([a, b, bias], _outs, attrs, prefs) =>
    matMulCall(geometry(a, b, attrs, 'fusedMatMul'), attrs, { activation: attrs.activation, hasBias: !!bias }, prefs),
  grad: ([dy], [a, b, bias], [y], attrs, needs) => {
    // Y = act(Z), Z = op(A)·op(B) + bias: dZ = dY ⊙ act'(Z) (from Y); dA, dB as matMul's with dZ;
    // d bias = Σ dZ over every row of every batch (bias broadcasts along all dims but the last).
    const dz = activationBackprop(dy, y, attrs.activation);
    const [da, db] = needs[0] || needs[1] ? matMulGrads(dz, a, b, attrs, needs) : [null, null];
    return bias ? [da, db, needs[2] ? unbroadcast(dz, bias.shape) : null] : [da, db];
  },
};

/** The bias must be float32 [N], N the product's columns. */
function checkBias(bias: Tensor, N: number): void {
  if (bias.dtype !== 'float32') throw new DTypeError(`fusedMatMul: expected a float32 bias, got ${bias.dtype} ${fmtShape(bias.shape)}`);
  if (bias.rank !== 1 || bias.shape[0] !== N) {
    throw new ShapeError(`fusedMatMul: bias ${fmtShape(bias.shape)} does not match the product's ${N} columns; expected shape [${N}]`);
  }
}

/**
 * Matrix product of the last two dims: [..., M, K] × [..., K, N] → [..., M, N]. Batch dims
 * broadcast (a missing dim or a dim of 1 repeats), as in NumPy and tf.matMul. float32 only.
 */
export function matMul(a: Tensor, b: Tensor, { transposeA = false, transposeB = false }: MatMulOptions = {}): Tensor {
  a.use('matMul');
  b.use('matMul');
  const attrs = { transposeA, transposeB };
  return engine.runOp(matMulOp, collapsible(a, b, attrs, 'matMul'), attrs)[0];
}

/**
 * activation(matMul(a, b) + bias) in one kernel: the bias ([N], broadcast over every row of every
 * batch) and the activation are applied as each output is stored. Same shapes and options as
 * matMul; activation is 'linear' (default), 'relu', 'sigmoid' or 'tanh'.
 */
export function fusedMatMul(a: Tensor, b: Tensor, { transposeA = false, transposeB = false, bias, activation = 'linear' }: FusedMatMulOptions = {}): Tensor {
  const act = checkFusedActivation('fusedMatMul', activation);
  a.use('fusedMatMul');
  b.use('fusedMatMul');
  bias?.use('fusedMatMul');
  const attrs = { transposeA, transposeB, activation: act };
  const [ca, cb] = collapsible(a, b, attrs, 'fusedMatMul');
  // Nothing to fuse: the plain product (one pipeline, matMul's gradient).
  if (!bias && act === 'linear') return engine.runOp(matMulOp, [ca, cb], { transposeA, transposeB })[0];
  return engine.runOp(fusedMatMulOp, bias ? [ca, cb, bias] : [ca, cb], attrs)[0];
}

/**
 * The inputs, with a batch the kernels can index: interleaved broadcasts (e.g. [2,1,2,1] with
 * [1,2,1,2]) do not collapse to 3 dims, so they are materialised, after which each input's batch
 * is contiguous and collapses to one dim.
 */
function collapsible(a: Tensor, b: Tensor, attrs: MatMulAttrs, op: string): [Tensor, Tensor] {
  const g = geometry(a, b, attrs, op);
  if (g.layout.dims.length <= MAX_BATCH_DIMS) return [a, b];
  return [broadcastTo(a, [...g.batch, ...a.shape.slice(-2)]), broadcastTo(b, [...g.batch, ...b.shape.slice(-2)])];
}

/** fusedMatMul's epilogue: the activation and whether a bias is read (null for matMul). */
interface Epilogue {
  activation: FusedActivation;
  hasBias: boolean;
}

/**
 * Large tiles only where the product still spreads over this many invocations (4 workgroups), so
 * every core of a software adapter gets work.
 */
const LARGE_TILE_MIN_INVOCATIONS = 4 * REGISTER_WORKGROUP;

/**
 * The register kernel's shape for a product: 16 × 16 tiles where there are enough of them, else
 * 8 × 8; B read as vec4s where its columns are contiguous and N is a multiple of 4 (every B offset
 * then is too): a quarter of B's loads (0–10 % on SwiftShader, within the noise; BENCHMARKS.md).
 */
function registerShape(M: number, N: number, batches: number, transposeB: boolean): RegisterShape {
  const large = LARGE_REGISTER_SHAPE;
  const largeTiles = Math.ceil(M / large.rows) * Math.ceil(N / (large.vec4s * 4)) * batches;
  const shape = largeTiles >= LARGE_TILE_MIN_INVOCATIONS ? large : REGISTER_SHAPE;
  return { ...shape, bVec4: !transposeB && N % 4 === 0 };
}

/** The pipeline key and WGSL of one of the two kernels. */
function kernelSource(name: string, register: RegisterShape | null, { transposeA, transposeB }: MatMulAttrs, epi: Epilogue | null): Pick<KernelCall, 'key' | 'wgsl'> {
  const variant = register ? `register:${registerShapeKey(register)}` : `workgroup:tA${+transposeA}:tB${+transposeB}`;
  const ewgsl = epilogueWgsl(epi?.activation ?? 'linear', epi?.hasBias ?? false, 'opEpilogue');
  return {
    key: epi ? `${name}:${variant}:${epi.activation}:bias${+epi.hasBias}` : `${name}:${variant}`,
    wgsl: () => (register ? registerKernelWgsl(ewgsl, register) : workgroupKernelWgsl(transposeA, transposeB, ewgsl)),
  };
}

function matMulCall(g: Geometry, attrs: MatMulAttrs, epi: Epilogue | null, prefs: KernelPreferences): KernelCall {
  const { transposeA, transposeB } = attrs;
  const { M, K, N, layout } = g;
  if (layout.dims.length > MAX_BATCH_DIMS) {
    throw new NeuriteError(`matMul: the batch ${fmtShape(g.batch)} collapses to ${layout.dims.length} dims, more than ${MAX_BATCH_DIMS}; call matMul(), which broadcasts it first`);
  }
  const batches = sizeOf(g.batch);
  const pad = MAX_BATCH_DIMS - layout.dims.length;
  const dims = [...Array<number>(pad).fill(1), ...layout.dims];
  const as = [...Array<number>(pad).fill(0), ...layout.aStrides];
  const bs = [...Array<number>(pad).fill(0), ...layout.bStrides];
  const register = prefs.tiling === 'register';
  const shape = register ? registerShape(M, N, sizeOf(g.batch), transposeB) : null;
  const tileRows = shape ? shape.rows : WORKGROUP_TILE;
  const tileCols = shape ? shape.vec4s * 4 : WORKGROUP_TILE;
  const tilesM = Math.ceil(M / tileRows);
  const tilesN = Math.ceil(N / tileCols);
  const count = tilesM * tilesN * batches;
  const params: MatMulValues = {
    M, N, K, tilesN, tilesM, count,
    aRow: transposeA ? 1 : K,
    aK: transposeA ? M : 1,
    bK: transposeB ? 1 : N,
    bCol: transposeB ? K : 1,
    d1: dims[1], d2: dims[2],
    as0: as[0], as1: as[1], as2: as[2],
    bs0: bs[0], bs1: bs[1], bs2: bs[2],
    aShift: 0, outShift: 0, z0: 0, bShift: 0,
    ldo: N, colShift: 0, accumulate: 0, raw: 0,
  };
  const name = epi ? 'fusedMatMul' : 'matMul';
  const call: KernelCall = {
    name,
    ...kernelSource(name, shape, attrs, epi),
    uniforms: MATMUL_PARAMS.uniforms(params),
    workgroups: register ? linearWorkgroups(count, REGISTER_WORKGROUP) : linearWorkgroups(count, 1),
    cpu: ([a, b, ...rest], [out]) => {
      const bias = epi?.hasBias ? (rest[0] as Float32Array) : null;
      const store = epi ? cpuEpilogue(epi.activation, bias) : null;
      cpuMatMul(a as Float32Array, b as Float32Array, out as Float32Array, g, params, batches, store);
    },
    wasm: matMulWasm({ ...params, batches }, (z) => batchOffsets(layout, z), epi),
  };
  // The parts of a split move B's indices by window offsets that need not be multiples of 4:
  // they read B as scalars.
  const scalarCall = register ? { ...call, ...kernelSource(name, REGISTER_SHAPE, attrs, epi) } : call;
  return { ...call, split: (limits) => splitProduct(scalarCall, g, params, epi, register, limits) };
}

/**
 * A product over tensors larger than one binding: a batched one by ranges of batches (each
 * batch's matrices bound from windows over the batches' extent); where one batch matrix alone is
 * too big, and for one matrix, each matrix by a grid of row, column and k ranges (matmul-split.ts).
 */
function splitProduct(
  call: KernelCall, g: Geometry, params: MatMulValues, epi: Epilogue | null, register: boolean, limits: SplitLimits,
): KernelCall[] {
  const { M, K, N, layout } = g;
  const batches = sizeOf(g.batch);
  const hasBias = !!epi?.hasBias;
  const tile = register ? REGISTER_TILE : { rows: WORKGROUP_TILE, cols: WORKGROUP_TILE };
  const part = (windows: readonly (BindingWindow | undefined)[], p: MatMulValues): KernelCall => {
    const count = Math.ceil(p.M / tile.rows) * Math.ceil(p.N / tile.cols) * p.count;
    const values: MatMulValues = { ...p, tilesM: Math.ceil(p.M / tile.rows), tilesN: Math.ceil(p.N / tile.cols), count };
    // Shifts may be negative: u32 wraps them, and WGSL's modular arithmetic lands them in the window.
    const wrapped = Object.fromEntries(Object.entries(values).map(([f, v]) => [f, v >>> 0])) as MatMulValues;
    return {
      ...call,
      uniforms: MATMUL_PARAMS.uniforms(wrapped),
      workgroups: register ? linearWorkgroups(count, REGISTER_WORKGROUP) : linearWorkgroups(count, 1),
      windows,
    };
  };
  if (batches !== 1) {
    const byBatches = splitBatches(call.name, g, hasBias, limits);
    // p.count holds the batches of a part here; part() multiplies it by the tiles.
    if (byBatches) {
      return byBatches.map(({ span: [z0, z1], windows }) =>
        part(windows, {
          ...params, count: z1 - z0, z0,
          aShift: -windows[0]!.offset,
          bShift: -windows[1]!.offset,
          outShift: z0 * M * N - windows[windows.length - 1]!.offset,
        }),
      );
    }
  }
  const calls: KernelCall[] = [];
  for (let z = 0; z < batches; z++) {
    const [aBase, bBase] = batchOffsets(layout, z);
    const L = { M, N, K, aBase, aRow: params.aRow, aK: params.aK, bBase, bK: params.bK, bCol: params.bCol, outBase: z * M * N, hasBias };
    for (const { m: [m0, m1], n: [n0, n1], k: [k0, k1], firstK, lastK, windows } of gridParts(call.name, L, limits)) {
      calls.push(
        part(windows, {
          ...params, M: m1 - m0, N: n1 - n0, K: k1 - k0, count: 1, z0: z,
          aShift: m0 * params.aRow + k0 * params.aK - windows[0].offset,
          bShift: k0 * params.bK + n0 * params.bCol - windows[1].offset,
          outShift: z * M * N + m0 * N + n0 - windows[windows.length - 1].offset,
          colShift: hasBias ? n0 - windows[2].offset : n0,
          accumulate: +!firstK,
          raw: +!lastK,
        }),
      );
    }
  }
  return calls;
}

/** Ranges of batches whose windows fit, or null when one batch's matrices alone do not. */
function splitBatches(name: string, g: Geometry, hasBias: boolean, limits: SplitLimits): ItemPart[] | null {
  const { M, K, N, layout } = g;
  const extent = (z0: number, z1: number, which: 0 | 1, size: number): Span => {
    let lo = Infinity;
    let hi = 0;
    for (let z = z0; z < z1; z++) {
      const off = batchOffsets(layout, z)[which];
      lo = Math.min(lo, off);
      hi = Math.max(hi, off + size);
    }
    return [lo, hi];
  };
  const touches = [
    ([z0, z1]: Span) => extent(z0, z1, 0, M * K),
    ([z0, z1]: Span) => extent(z0, z1, 1, K * N),
    ...(hasBias ? [(): Span => [0, N]] : []),
    ([z0, z1]: Span) => [z0 * M * N, z1 * M * N] as Span,
  ];
  try {
    return splitItems(name, sizeOf(g.batch), limits, touches, 'batch matrix');
  } catch (e) {
    if (e instanceof BackendError) return null;
    throw e;
  }
}

/** The CPU kernel: per batch, a register-blocked product (then the epilogue); a transposed B is copied to [K, N] first. */
function cpuMatMul(
  a: Float32Array, b: Float32Array, out: Float32Array, g: Geometry, p: MatMulValues, batches: number,
  epilogue: ReturnType<typeof cpuEpilogue> | null,
): void {
  const { M, K, N } = g;
  const { aRow, aK } = p;
  const bT = p.bCol === 1 ? null : new Float32Array(K * N);
  let bTOffset = -1;
  for (let z = 0; z < batches; z++) {
    const [aOff, bOff] = batchOffsets(g.layout, z);
    let bm = b;
    let bBase = bOff;
    if (bT) {
      if (bTOffset !== bOff) transposeInto(bT, b, bOff, N, K);
      bTOffset = bOff;
      bm = bT;
      bBase = 0;
    }
    matMulBlock(a, aOff, aRow, aK, bm, bBase, out, z * M * N, M, K, N);
    // Bias and activation while the batch's block is still in cache.
    epilogue?.(out, z * M * N, M, N);
  }
}

/**
 * out[M×N] = A·B for one batch, with B row-major [K, N]. A 4×4 block of outputs is kept in
 * sixteen local accumulators across the whole k loop, so each step loads 4 values of A and 4 of
 * B for 16 multiply-adds instead of reading and writing `out` every time — the CPU twin of the
 * GPU's register tile. Accumulators are float64, rounded to f32 once per output.
 */
function matMulBlock(
  a: Float32Array, aOff: number, aRow: number, aK: number,
  b: Float32Array, bOff: number,
  out: Float32Array, oOff: number,
  M: number, K: number, N: number,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const r0 = aOff + i * aRow, r1 = r0 + aRow, r2 = r1 + aRow, r3 = r2 + aRow;
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0, ka = 0, kb = bOff + j; k < K; k++, ka += aK, kb += N) {
        const a0 = a[r0 + ka], a1 = a[r1 + ka], a2 = a[r2 + ka], a3 = a[r3 + ka];
        const b0 = b[kb], b1 = b[kb + 1], b2 = b[kb + 2], b3 = b[kb + 3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      const o = oOff + i * N + j;
      out[o] = c00; out[o + 1] = c01; out[o + 2] = c02; out[o + 3] = c03;
      out[o + N] = c10; out[o + N + 1] = c11; out[o + N + 2] = c12; out[o + N + 3] = c13;
      out[o + 2 * N] = c20; out[o + 2 * N + 1] = c21; out[o + 2 * N + 2] = c22; out[o + 2 * N + 3] = c23;
      out[o + 3 * N] = c30; out[o + 3 * N + 1] = c31; out[o + 3 * N + 2] = c32; out[o + 3 * N + 3] = c33;
    }
  }
  // The ragged edges (rows past M4, columns past N4): one output at a time.
  for (let i = 0; i < M; i++) {
    for (let j = i < M4 ? N4 : 0; j < N; j++) {
      let acc = 0;
      for (let k = 0, ka = aOff + i * aRow, kb = bOff + j; k < K; k++, ka += aK, kb += N) acc += a[ka] * b[kb];
      out[oOff + i * N + j] = acc;
    }
  }
}

/** dst [cols, rows] = transpose of the [rows, cols] matrix at src[offset]. */
function transposeInto(dst: Float32Array, src: Float32Array, offset: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[offset + r * cols + c];
}
