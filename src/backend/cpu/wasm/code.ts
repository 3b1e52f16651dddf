// The instruction stream of one wasm function, written with one method per opcode (only the
// opcodes Neurite's kernels use: integer address arithmetic, f32 scalars, SIMD128 and the
// relaxed-SIMD fused multiply-add). Methods return `this`, so a kernel reads like the wasm text.
import { sleb, uleb } from './module.js';

const SIMD = 0xfd;

/** A function body under construction; `bytes` is what `emitModule` writes (without the final `end`). */
export class Code {
  readonly bytes: number[] = [];

  private op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }
  private simd(opcode: number, ...imm: number[]): this {
    return this.op(SIMD, ...uleb(opcode), ...imm);
  }
  /** A memory access's alignment (log2 bytes) and constant byte offset. */
  private memarg(alignLog2: number, offset: number): number[] {
    return [...uleb(alignLog2), ...uleb(offset)];
  }

  // Control. Blocks and loops take no values and leave none (block type 0x40).
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  if(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  /** Branch to the `depth`-th enclosing block (0: innermost); to a loop, that repeats it. */
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  br_if(depth: number): this { return this.op(0x0d, ...uleb(depth)); }

  /** Calls function `index` (host imports first, then the module's own). */
  call(index: number): this { return this.op(0x10, ...uleb(index)); }
  /** c ? a : b with the stack [a, b, c (i32)]; both a and b are evaluated. */
  select(): this { return this.op(0x1b); }

  // Locals.
  local_get(i: number): this { return this.op(0x20, ...uleb(i)); }
  local_set(i: number): this { return this.op(0x21, ...uleb(i)); }
  local_tee(i: number): this { return this.op(0x22, ...uleb(i)); }

  // Constants.
  i32_const(v: number): this { return this.op(0x41, ...sleb(v)); }
  f32_const(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.op(0x43, ...b);
  }

  // Memory (addresses are byte offsets into the imported memory).
  i32_load(offset = 0): this { return this.op(0x28, ...this.memarg(2, offset)); }
  f32_load(offset = 0): this { return this.op(0x2a, ...this.memarg(2, offset)); }
  i32_store(offset = 0): this { return this.op(0x36, ...this.memarg(2, offset)); }
  f32_store(offset = 0): this { return this.op(0x38, ...this.memarg(2, offset)); }
  /** Bulk memory: copies n bytes (overlap allowed) with the stack [dst, src, n]. */
  memory_copy(): this { return this.op(0xfc, ...uleb(10), 0x00, 0x00); }

  // i32 arithmetic and comparisons.
  i32_eqz(): this { return this.op(0x45); }
  i32_eq(): this { return this.op(0x46); }
  i32_ne(): this { return this.op(0x47); }
  i32_lt_s(): this { return this.op(0x48); }
  i32_gt_s(): this { return this.op(0x4a); }
  i32_le_s(): this { return this.op(0x4c); }
  i32_ge_s(): this { return this.op(0x4e); }
  i32_add(): this { return this.op(0x6a); }
  i32_sub(): this { return this.op(0x6b); }
  i32_mul(): this { return this.op(0x6c); }
  i32_div_s(): this { return this.op(0x6d); }
  i32_rem_s(): this { return this.op(0x6f); }
  i32_shl(): this { return this.op(0x74); }
  i32_and(): this { return this.op(0x71); }
  i32_or(): this { return this.op(0x72); }

  // f32 arithmetic and comparisons.
  f32_ne(): this { return this.op(0x5c); }
  f32_gt(): this { return this.op(0x5e); }
  f32_add(): this { return this.op(0x92); }
  f32_mul(): this { return this.op(0x94); }
  f32_max(): this { return this.op(0x97); }

  // f64 (the elementwise kernels compute in f64, as the JS reference does).
  f64_const(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    return this.op(0x44, ...b);
  }
  f64_eq(): this { return this.op(0x61); }
  f64_ne(): this { return this.op(0x62); }
  f64_lt(): this { return this.op(0x63); }
  f64_gt(): this { return this.op(0x64); }
  f64_le(): this { return this.op(0x65); }
  f64_ge(): this { return this.op(0x66); }
  f64_abs(): this { return this.op(0x99); }
  f64_neg(): this { return this.op(0x9a); }
  f64_floor(): this { return this.op(0x9c); }
  f64_sqrt(): this { return this.op(0x9f); }
  f64_add(): this { return this.op(0xa0); }
  f64_sub(): this { return this.op(0xa1); }
  f64_mul(): this { return this.op(0xa2); }
  f64_div(): this { return this.op(0xa3); }
  f32_demote_f64(): this { return this.op(0xb6); }
  f64_convert_i32_s(): this { return this.op(0xb7); }
  f64_convert_i32_u(): this { return this.op(0xb8); }
  f64_promote_f32(): this { return this.op(0xbb); }

  // SIMD128: four f32 lanes. Loads and stores assume only 4-byte alignment.
  v128_load(offset = 0): this { return this.simd(0x00, ...this.memarg(2, offset)); }
  v128_store(offset = 0): this { return this.simd(0x0b, ...this.memarg(2, offset)); }
  /** Loads one f32 into all four lanes (a broadcast load). */
  v128_load32_splat(offset = 0): this { return this.simd(0x09, ...this.memarg(2, offset)); }
  /** A v128 of four equal f32 lanes. */
  f32x4_const(v: number): this {
    const b = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
    return this.simd(0x0c, ...b);
  }
  f32x4_splat(): this { return this.simd(0x13); }
  /** Picks four f32 lanes from the stack's two vectors (lanes 0–3 of the first, 4–7 of the second). */
  f32x4_shuffle(lanes: readonly [number, number, number, number]): this {
    return this.simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }
  i32x4_splat(): this { return this.simd(0x11); }
  i32x4_extract_lane(lane: number): this { return this.simd(0x1b, lane); }
  f32x4_ne(): this { return this.simd(0x42); }
  f32x4_gt(): this { return this.simd(0x44); }
  v128_or(): this { return this.simd(0x50); }
  /** Lanes of a where the mask's bits are set, else of b: the stack [a, b, mask]. */
  v128_bitselect(): this { return this.simd(0x52); }
  f32x4_extract_lane(lane: number): this { return this.simd(0x1f, lane); }
  f32x4_replace_lane(lane: number): this { return this.simd(0x20, lane); }
  f32x4_add(): this { return this.simd(0xe4); }
  f32x4_sub(): this { return this.simd(0xe5); }
  f32x4_mul(): this { return this.simd(0xe6); }
  f32x4_max(): this { return this.simd(0xe9); }
  /** Relaxed SIMD: a·b + c with the stack [a, b, c], fused or not as the engine chooses. */
  f32x4_relaxed_madd(): this { return this.simd(0x105); }
}
