// The wasm GEMM core shared by matMul and conv2d: C = A·B from packed operands. `pack` copies a
// strided matrix into panels (zero-padded to whole panels); `tiles` runs a register-blocked
// micro-kernel (MR rows × 8 columns of f32x4 accumulators held across the k loop) over them;
// `epilogue` adds a bias and applies relu in place (the fused ops' common case).
import { Code } from './code.js';
import { emitMadd, type WasmFeatures } from './features.js';
import { ValType, type FunctionDef } from './module.js';

/** Rows of A per micro-tile (its accumulators: MR × 2 v128, within x64's 16 vector registers). */
export const GEMM_MR = 4;
/** Columns of B per micro-tile: two f32x4. */
export const GEMM_NR = 8;

const { i32, v128 } = ValType;

/**
 * pack(src, sR, sC, R, C, dst, W): the R×C matrix X[r][c] = src[r·sR + c·sC] (strides in bytes) as
 * ⌈C/W⌉ panels, each R rows of W values (columns past C are zeros), panel after panel at dst.
 * B [K×N] packs with W = NR; A packs as its transpose (R = K, C = M) with W = MR. W is a multiple of 4.
 */
function packFunction(): FunctionDef {
  const [src, sR, sC, R, C, dst, W] = [0, 1, 2, 3, 4, 5, 6];
  const [p0, r, c, col, rowPtr] = [7, 8, 9, 10, 11];
  const body = new Code();
  body
    .i32_const(0).local_set(p0)
    .block().loop() // panels: p0 is the panel's first column
    .local_get(p0).local_get(C).i32_ge_s().br_if(1)
    .i32_const(0).local_set(r);
  transposedPanel(body, { src, sR, sC, R, C, dst, W, p0, r, rowPtr });
  body
    .block().loop() // rows
    .local_get(r).local_get(R).i32_ge_s().br_if(1)
    .local_get(src).local_get(r).local_get(sR).i32_mul().i32_add().local_set(rowPtr)
    // A whole panel of contiguous columns (sC = 4 bytes): copied four floats at a time.
    .local_get(sC).i32_const(4).i32_eq().local_get(p0).local_get(W).i32_add().local_get(C).i32_le_s().i32_and()
    .if()
    .local_get(rowPtr).local_get(p0).i32_const(2).i32_shl().i32_add().local_set(rowPtr)
    .i32_const(0).local_set(c)
    .block().loop()
    .local_get(c).local_get(W).i32_ge_s().br_if(1)
    .local_get(dst).local_get(rowPtr).v128_load().v128_store()
    .local_get(dst).i32_const(16).i32_add().local_set(dst)
    .local_get(rowPtr).i32_const(16).i32_add().local_set(rowPtr)
    .local_get(c).i32_const(4).i32_add().local_set(c)
    .br(0).end().end()
    .else()
    .i32_const(0).local_set(c)
    .block().loop() // the panel's W columns, zeros past C
    .local_get(c).local_get(W).i32_ge_s().br_if(1)
    .local_get(p0).local_get(c).i32_add().local_tee(col).local_get(C).i32_lt_s()
    .if()
    .local_get(dst).local_get(rowPtr).local_get(col).local_get(sC).i32_mul().i32_add().f32_load().f32_store()
    .else()
    .local_get(dst).f32_const(0).f32_store()
    .end()
    .local_get(dst).i32_const(4).i32_add().local_set(dst)
    .local_get(c).i32_const(1).i32_add().local_set(c)
    .br(0).end().end()
    .end()
    .local_get(r).i32_const(1).i32_add().local_set(r)
    .br(0).end().end()
    .local_get(p0).local_get(W).i32_add().local_set(p0)
    .br(0).end().end();
  return { name: 'pack', params: [i32, i32, i32, i32, i32, i32, i32], results: [], locals: [i32, i32, i32, i32, i32, v128, v128, v128, v128], body };
}

/**
 * pack's fast path for A's panels when A's rows are contiguous along k (sR = 4 bytes, W = 4, a
 * whole panel): four rows of four columns are loaded as four f32x4 and transposed with shuffles,
 * four k steps at a time, leaving r at the first row the scalar loop still has to pack.
 */
function transposedPanel(c: Code, l: Record<'src' | 'sR' | 'sC' | 'R' | 'C' | 'dst' | 'W' | 'p0' | 'r' | 'rowPtr', number>): void {
  const v = [l.rowPtr + 1, l.rowPtr + 2, l.rowPtr + 3, l.rowPtr + 4]; // the four v128 locals
  c.local_get(l.sR).i32_const(4).i32_eq().local_get(l.W).i32_const(4).i32_eq().i32_and()
    .local_get(l.p0).i32_const(4).i32_add().local_get(l.C).i32_le_s().i32_and()
    .if()
    .block().loop()
    .local_get(l.r).i32_const(4).i32_add().local_get(l.R).i32_gt_s().br_if(1)
    // rowPtr = src + p0·sC + 4r: column p0's k = r … r + 3.
    .local_get(l.src).local_get(l.p0).local_get(l.sC).i32_mul().i32_add().local_get(l.r).i32_const(2).i32_shl().i32_add().local_set(l.rowPtr);
  for (let m = 0; m < 4; m++) {
    c.local_get(l.rowPtr);
    if (m > 0) c.local_get(l.sC).i32_const(m).i32_mul().i32_add();
    c.v128_load().local_set(v[m]);
  }
  // (a0 b0 a1 b1) (a2 b2 a3 b3) (c0 d0 c1 d1) (c2 d2 c3 d3), then each k's four columns.
  c.local_get(v[0]).local_get(v[1]).f32x4_shuffle([0, 4, 1, 5])
    .local_get(v[0]).local_get(v[1]).f32x4_shuffle([2, 6, 3, 7]).local_set(v[1]).local_set(v[0])
    .local_get(v[2]).local_get(v[3]).f32x4_shuffle([0, 4, 1, 5])
    .local_get(v[2]).local_get(v[3]).f32x4_shuffle([2, 6, 3, 7]).local_set(v[3]).local_set(v[2]);
  const out: [number, number, [number, number, number, number]][] = [[0, 2, [0, 1, 4, 5]], [0, 2, [2, 3, 6, 7]], [1, 3, [0, 1, 4, 5]], [1, 3, [2, 3, 6, 7]]];
  out.forEach(([x, y, lanes], k) => {
    c.local_get(l.dst).local_get(v[x]).local_get(v[y]).f32x4_shuffle(lanes).v128_store(16 * k);
  });
  c.local_get(l.dst).i32_const(64).i32_add().local_set(l.dst)
    .local_get(l.r).i32_const(4).i32_add().local_set(l.r)
    .br(0).end().end()
    .end();
}

/**
 * tiles(ap, bp, c, ldc, mBlocks, nPanels, kc, accumulate): for every MR-row panel of packed A
 * (kc × MR each) and every NR-column panel of packed B (kc × NR each), the MR × NR block of C at
 * c + i·MR·ldc + j·NR·4 (ldc in bytes) becomes A·B, or C + A·B when `accumulate` is 1 (k blocks
 * after the first). The accumulators stay in locals for the whole k loop.
 */
function tilesFunction(relaxed: boolean): FunctionDef {
  const [ap, bp, c, ldc, mBlocks, nPanels, kc, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [j, i, k, aPtr, bPtr, cTile, bPanel, row, b0, b1, a] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const acc0 = 19; // acc(r, v) = acc0 + 2r + v
  const acc = (r: number, v: number) => acc0 + 2 * r + v;
  const body = new Code();
  // Walks the tile's rows: row = cTile + r·ldc, calling `each` per row.
  const rows = (each: (r: number) => void) => {
    body.local_get(cTile).local_set(row);
    for (let r = 0; r < GEMM_MR; r++) {
      if (r > 0) body.local_get(row).local_get(ldc).i32_add().local_set(row);
      each(r);
    }
  };
  body.i32_const(0).local_set(j)
    .block().loop() // B panels
    .local_get(j).local_get(nPanels).i32_ge_s().br_if(1)
    .local_get(bp).local_get(j).local_get(kc).i32_mul().i32_const(GEMM_NR * 4).i32_mul().i32_add().local_set(bPanel)
    .i32_const(0).local_set(i)
    .block().loop() // A panels
    .local_get(i).local_get(mBlocks).i32_ge_s().br_if(1)
    .local_get(c).local_get(i).local_get(ldc).i32_mul().i32_const(GEMM_MR).i32_mul().i32_add()
    .local_get(j).i32_const(GEMM_NR * 4).i32_mul().i32_add().local_set(cTile);
  // Accumulators: loaded from C, or zero.
  body.local_get(accumulate).if();
  rows((r) => {
    for (let v = 0; v < 2; v++) body.local_get(row).v128_load(16 * v).local_set(acc(r, v));
  });
  body.else();
  for (let r = 0; r < GEMM_MR; r++) for (let v = 0; v < 2; v++) body.f32x4_const(0).local_set(acc(r, v));
  body.end()
    .local_get(ap).local_get(i).local_get(kc).i32_mul().i32_const(GEMM_MR * 4).i32_mul().i32_add().local_set(aPtr)
    .local_get(bPanel).local_set(bPtr)
    .local_get(kc).local_set(k)
    .block().loop() // k: two B vectors, MR broadcasts of A, 2·MR multiply-adds
    .local_get(k).i32_eqz().br_if(1)
    .local_get(bPtr).v128_load(0).local_set(b0)
    .local_get(bPtr).v128_load(16).local_set(b1);
  for (let r = 0; r < GEMM_MR; r++) {
    body.local_get(aPtr).v128_load32_splat(4 * r).local_set(a);
    for (let v = 0; v < 2; v++) {
      body.local_get(a).local_get(v === 0 ? b0 : b1);
      emitMadd(body, relaxed, (cd) => cd.local_get(acc(r, v))).local_set(acc(r, v));
    }
  }
  body.local_get(aPtr).i32_const(GEMM_MR * 4).i32_add().local_set(aPtr)
    .local_get(bPtr).i32_const(GEMM_NR * 4).i32_add().local_set(bPtr)
    .local_get(k).i32_const(1).i32_sub().local_set(k)
    .br(0).end().end();
  rows((r) => {
    for (let v = 0; v < 2; v++) body.local_get(row).local_get(acc(r, v)).v128_store(16 * v);
  });
  body.local_get(i).i32_const(1).i32_add().local_set(i)
    .br(0).end().end()
    .local_get(j).i32_const(1).i32_add().local_set(j)
    .br(0).end().end();
  const locals = [...Array<ValType>(8).fill(i32), v128, v128, v128, ...Array<ValType>(2 * GEMM_MR).fill(v128)];
  return { name: 'tiles', params: Array<ValType>(8).fill(i32), results: [], locals, body };
}

/**
 * epilogue(c, bias, rows, n, relu): each of `rows` rows of n floats at c gets bias[j] added (when
 * bias ≠ 0) and, when relu is 1, max(x, 0) (f32x4.max propagates NaN, as the JS reference does).
 * Four columns at a time, the last n % 4 one by one.
 */
function epilogueFunction(): FunctionDef {
  const [c, bias, rows, n, relu] = [0, 1, 2, 3, 4];
  const [j, bj, v, x] = [5, 6, 7, 8];
  const body = new Code();
  // x (v128 or f32 per `vec`) += bias[j], then relu; the value stays in local v or x.
  const apply = (vec: boolean) => {
    const [load, add, max, zero, val] = vec
      ? [(cd: Code) => cd.v128_load(), (cd: Code) => cd.f32x4_add(), (cd: Code) => cd.f32x4_max(), (cd: Code) => cd.f32x4_const(0), v]
      : [(cd: Code) => cd.f32_load(), (cd: Code) => cd.f32_add(), (cd: Code) => cd.f32_max(), (cd: Code) => cd.f32_const(0), x];
    load(body.local_get(c)).local_set(val);
    body.local_get(bias).if();
    load(body.local_get(val).local_get(bj));
    add(body).local_set(val);
    body.end().local_get(relu).if();
    zero(body.local_get(val));
    max(body).local_set(val);
    body.end().local_get(c).local_get(val);
    if (vec) body.v128_store();
    else body.f32_store();
    body.local_get(c).i32_const(vec ? 16 : 4).i32_add().local_set(c)
      .local_get(bj).i32_const(vec ? 16 : 4).i32_add().local_set(bj)
      .local_get(j).i32_const(vec ? 4 : 1).i32_add().local_set(j);
  };
  body.block().loop() // rows
    .local_get(rows).i32_eqz().br_if(1)
    .i32_const(0).local_set(j).local_get(bias).local_set(bj)
    .block().loop()
    .local_get(j).i32_const(4).i32_add().local_get(n).i32_gt_s().br_if(1);
  apply(true);
  body.br(0).end().end()
    .block().loop()
    .local_get(j).local_get(n).i32_ge_s().br_if(1);
  apply(false);
  body.br(0).end().end()
    .local_get(rows).i32_const(1).i32_sub().local_set(rows)
    .br(0).end().end();
  return { name: 'epilogue', params: [i32, i32, i32, i32, i32], results: [], locals: [i32, i32, v128, ValType.f32], body };
}

/**
 * copy(src, srcRow, dst, dstRow, rows, width): copies `rows` rows of `width` bytes between
 * matrices whose rows are srcRow and dstRow bytes apart (a padded C in and out of its product).
 */
function copyFunction(): FunctionDef {
  const [src, srcRow, dst, dstRow, rows, width] = [0, 1, 2, 3, 4, 5];
  const body = new Code();
  body.block().loop()
    .local_get(rows).i32_eqz().br_if(1)
    .local_get(dst).local_get(src).local_get(width).memory_copy()
    .local_get(src).local_get(srcRow).i32_add().local_set(src)
    .local_get(dst).local_get(dstRow).i32_add().local_set(dst)
    .local_get(rows).i32_const(1).i32_sub().local_set(rows)
    .br(0).end().end();
  return { name: 'copy', params: [i32, i32, i32, i32, i32, i32], results: [], locals: [], body };
}

/** The GEMM module's functions for this engine (relaxed madd where it has it). */
export function gemmModule(features: WasmFeatures): FunctionDef[] {
  return [packFunction(), tilesFunction(features.relaxedSimd), epilogueFunction(), copyFunction()];
}

/** The GEMM module's cache key. */
export const GEMM_KEY = `gemm:${GEMM_MR}x${GEMM_NR}`;
