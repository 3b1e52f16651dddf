// The wasm module emitter on its own: LEB128 encodings, and small modules (an elementwise add, a
// SIMD dot product) that must validate, instantiate over an imported memory and compute right.
import { describe, expect, it } from 'vitest';
import { Code } from '../src/backend/cpu/wasm/code.js';
import { emitMadd, wasmFeatures } from '../src/backend/cpu/wasm/features.js';
import { emitModule, sleb, uleb, ValType } from '../src/backend/cpu/wasm/module.js';
import { uniform } from './helpers/random.js';

/** Fresh seeded float32 values (the run's seed is printed by the helper). */
const random = (n: number): Float32Array => Float32Array.from(uniform(n));

function instantiate(bytes: Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): Record<string, (...args: number[]) => number> {
  expect(WebAssembly.validate(bytes)).toBe(true);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return instance.exports as Record<string, (...args: number[]) => number>;
}

describe('wasm emitter', () => {
  it('encodes LEB128 as the spec examples', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-64)).toEqual([0x40]);
  });

  it('rejects a body that leaves the wrong type (the validator is really consulted)', () => {
    const bad = emitModule([{ name: 'f', params: [], results: [ValType.i32], locals: [], body: new Code().f32_const(1) }]);
    expect(WebAssembly.validate(bad)).toBe(false);
  });

  it('adds two arrays with a scalar loop (odd length)', () => {
    // add(a, b, out, n): out[i] = a[i] + b[i]; pointers in bytes.
    const [a, b, out, n, i] = [0, 1, 2, 3, 4];
    const body = new Code()
      .block().loop()
      .local_get(i).local_get(n).i32_ge_s().br_if(1)
      .local_get(out).local_get(i).i32_const(2).i32_shl().i32_add()
      .local_get(a).local_get(i).i32_const(2).i32_shl().i32_add().f32_load()
      .local_get(b).local_get(i).i32_const(2).i32_shl().i32_add().f32_load()
      .f32_add().f32_store()
      .local_get(i).i32_const(1).i32_add().local_set(i)
      .br(0).end().end();
    const memory = new WebAssembly.Memory({ initial: 1 });
    const { add } = instantiate(emitModule([{ name: 'add', params: [ValType.i32, ValType.i32, ValType.i32, ValType.i32], results: [], locals: [ValType.i32], body }]), memory);
    const n0 = 37;
    const [x, y] = [random(n0), random(n0)];
    const f = new Float32Array(memory.buffer);
    f.set(x, 0);
    f.set(y, 64);
    add(0, 256, 512, n0);
    for (let k = 0; k < n0; k++) expect(f[128 + k]).toBe(Math.fround(x[k] + y[k]));
  });

  for (const relaxed of [false, true]) {
    it(`computes a SIMD dot product with a scalar tail (${relaxed ? 'relaxed madd' : 'mul + add'})`, () => {
      if (relaxed && !wasmFeatures().relaxedSimd) {
        // Without relaxed SIMD the module must fail validation, so kernels use the fallback.
        const probe = emitModule([{ name: 'f', params: [ValType.v128], results: [ValType.v128], locals: [], body: new Code().local_get(0).local_get(0).local_get(0).f32x4_relaxed_madd() }]);
        expect(WebAssembly.validate(probe)).toBe(false);
        return;
      }
      // dot(a, b, n) -> f32: four lanes at a time, the lanes summed, then the n % 4 tail.
      const [a, b, n, acc, s] = [0, 1, 2, 3, 4];
      const body = new Code().f32x4_const(0).local_set(acc)
        .block().loop()
        .local_get(n).i32_const(4).i32_lt_s().br_if(1)
        .local_get(a).v128_load().local_get(b).v128_load();
      emitMadd(body, relaxed, (c) => c.local_get(acc)).local_set(acc)
        .local_get(a).i32_const(16).i32_add().local_set(a)
        .local_get(b).i32_const(16).i32_add().local_set(b)
        .local_get(n).i32_const(4).i32_sub().local_set(n)
        .br(0).end().end();
      body.local_get(acc).f32x4_extract_lane(0).local_get(acc).f32x4_extract_lane(1).f32_add()
        .local_get(acc).f32x4_extract_lane(2).f32_add().local_get(acc).f32x4_extract_lane(3).f32_add().local_set(s)
        .block().loop()
        .local_get(n).i32_eqz().br_if(1)
        .local_get(s).local_get(a).f32_load().local_get(b).f32_load().f32_mul().f32_add().local_set(s)
        .local_get(a).i32_const(4).i32_add().local_set(a)
        .local_get(b).i32_const(4).i32_add().local_set(b)
        .local_get(n).i32_const(1).i32_sub().local_set(n)
        .br(0).end().end()
        .local_get(s);
      const memory = new WebAssembly.Memory({ initial: 1 });
      const { dot } = instantiate(emitModule([{ name: 'dot', params: [ValType.i32, ValType.i32, ValType.i32], results: [ValType.f32], locals: [ValType.v128, ValType.f32], body }]), memory);
      for (const len of [0, 3, 4, 61]) {
        const [x, y] = [random(len), random(len)];
        const f = new Float32Array(memory.buffer);
        f.set(x, 0);
        f.set(y, 1024);
        let exact = 0;
        for (let k = 0; k < len; k++) exact += x[k] * y[k];
        const got = dot(0, 4096, len);
        expect(Number.isNaN(got)).toBe(false);
        expect(Math.abs(got - exact)).toBeLessThanOrEqual(1e-5 * (1 + len));
      }
    });
  }

  it('reports the features it probed', () => {
    const f = wasmFeatures();
    console.log(`wasm features: ${JSON.stringify(f)}`);
    expect(typeof f.simd).toBe('boolean');
    expect(f.relaxedSimd && !f.simd).toBe(false);
  });
});
