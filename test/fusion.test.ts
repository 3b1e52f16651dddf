// Fusion of elementwise chains (src/graph/fusion.ts) on every backend: chains run as one kernel,
// values of one shape realize together as one multi-output kernel, and none of it changes a
// result — each case is checked against a float64 reference written here, on odd sizes, and the
// dispatch counts show the fusion happened (or, where it must not, did not).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { engine } from '../src/engine.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { uniform } from './helpers/random.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const t32 = (v: ArrayLike<number>, shape: number[]) => nt.tensor(Float32Array.from(v), shape);

/** Tensors from host data, computed up front so that counted dispatches are the case's own. */
function inputs(...specs: [ArrayLike<number>, number[]][]): nt.Tensor[] {
  const ts = specs.map(([v, s]) => t32(v, s));
  nt.flush();
  nt.resetStats();
  return ts;
}

describe.each(BACKENDS)('elementwise fusion on %s', (backend) => {
  const rtol = RTOL[backend];
  const tol = { rtol, atol: rtol };
  beforeAll(() => useBackend(backend));
  afterEach(() => nt.setElementwiseFusion(true));

  it('runs a chain with a broadcast bias as one kernel', async () => {
    const [rows, cols] = [13, 67];
    const [x, b] = [uniform(rows * cols, -2, 2), uniform(cols)];
    const [xt, bt] = inputs([x, [rows, cols]], [b, [cols]]);
    const y = nt.sigmoid(nt.relu(nt.add(nt.mul(xt, 1.5), bt)));
    expect(nt.stats().dispatches).toBe(0); // nothing runs until the value is needed
    const got = await y.data();
    expect(nt.stats().dispatches).toBe(1);
    expectAllClose(got, Array.from(x, (v, i) => sigmoid(Math.max(v * 1.5 + b[i % cols], 0))), tol);
    nt.dispose([xt, bt, y]);
  });

  it('copies a value read twice into its consumer, through a reshape view', async () => {
    const x = uniform(3 * 5 * 7, -1, 1);
    const [xt] = inputs([x, [3, 5, 7]]);
    const e = nt.exp(xt);
    const y = nt.mul(nt.reshape(e, [15, 7]), nt.reshape(e, [15, 7]));
    const got = await y.data();
    expect(nt.stats().dispatches).toBe(1);
    expect(y.shape).toEqual([15, 7]);
    expectAllClose(got, Array.from(x, (v) => Math.exp(2 * v)), tol);
    nt.dispose([xt, e, y]);
  });

  it('computes a transposed read of a pending value first, then fuses what follows', async () => {
    const [r, c] = [9, 11];
    const x = uniform(r * c);
    const [xt] = inputs([x, [r, c]]);
    const y = nt.add(nt.transpose(nt.mul(xt, 2)), 1);
    const got = await y.data();
    // mul is pending when transpose reads it out of order: mul runs, transpose + add fuse.
    expect(nt.stats().dispatches).toBe(2);
    const want = new Float64Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) want[j * r + i] = 2 * x[i * c + j] + 1;
    expectAllClose(got, want, tol);
    nt.dispose([xt, y]);
  });

  it('never computes a pending value that is disposed unread', async () => {
    const x = uniform(31);
    const [xt] = inputs([x, [31]]);
    const unused = nt.exp(xt);
    unused.dispose();
    const kept = nt.neg(xt);
    expectAllClose(await kept.data(), Array.from(x, (v) => -v), tol);
    expect(nt.stats().dispatches).toBe(1);
    nt.dispose([xt, kept]);
  });

  it('computes the pending values of one shape as one kernel with several outputs at a flush', async () => {
    const x = uniform(101);
    const [xt] = inputs([x, [101]]);
    const a = nt.mul(xt, 2);
    const b = nt.add(xt, 1);
    const c = nt.tanh(xt);
    nt.flush();
    expect(nt.stats().dispatches).toBe(1);
    const [gotA, gotB, gotC] = [await a.data(), await b.data(), await c.data()];
    expect(nt.stats().dispatches).toBe(1);
    expectAllClose(gotA, Array.from(x, (v) => 2 * v), tol);
    expectAllClose(gotB, Array.from(x, (v) => v + 1), tol);
    expectAllClose(gotC, Array.from(x, Math.tanh), tol);
    nt.dispose([xt, a, b, c]);
  });

  it('keeps the rounding of an int32 value: a cast is computed, not folded in', async () => {
    const x = uniform(37, -5, 5);
    const [xt] = inputs([x, [37]]);
    const y = nt.add(nt.cast(nt.cast(nt.mul(xt, 1.7), 'int32'), 'float32'), 0.25);
    expectAllClose(await y.data(), Array.from(x, (v) => Math.trunc(Math.fround(Math.fround(v) * Math.fround(1.7))) + 0.25), tol);
    nt.dispose([xt, y]);
  });

  it('splits a very long chain into several kernels that still give the exact result', async () => {
    const x = uniform(53);
    const [xt] = inputs([x, [53]]);
    let y = xt;
    for (let i = 0; i < 200; i++) y = nt.add(nt.mul(y, 1), 0.5);
    const got = await y.data();
    const dispatches = nt.stats().dispatches;
    expect(dispatches).toBeGreaterThan(1);
    expect(dispatches).toBeLessThan(20);
    expectAllClose(got, Array.from(x, (v) => v + 100), tol);
    nt.dispose([xt, y]);
  });

  it('gives the same values with fusion off, as one kernel per op', async () => {
    const x = uniform(7 * 13, -2, 2);
    const chain = (t: nt.Tensor) => nt.sqrt(nt.add(nt.square(nt.sub(t, 0.3)), 1e-3));
    const [xt] = inputs([x, [7, 13]]);
    const fused = await chain(xt).data();
    expect(nt.stats().dispatches).toBe(1);
    nt.setElementwiseFusion(false);
    nt.resetStats();
    const plain = await chain(xt).data();
    expect(nt.stats().dispatches).toBe(4);
    const want = Array.from(x, (v) => Math.sqrt((v - 0.3) ** 2 + 1e-3));
    expectAllClose(fused, want, tol);
    expectAllClose(plain, want, tol);
    xt.dispose();
  });

  it('does not chain a variable across assigns: each assign reads the computed value, memory stays flat', async () => {
    const init = nt.zeros([19]);
    const v = nt.variable(init);
    init.dispose();
    nt.flush();
    const before = nt.memory();
    for (let i = 0; i < 30; i++) nt.tidy(() => v.assign(nt.add(nt.mul(v, 0.5), 1)));
    nt.flush();
    expect(nt.memory()).toMatchObject({ numTensors: before.numTensors, bytesInUse: before.bytesInUse });
    // v ← v/2 + 1 from 0, 30 times: 2 − 2^−29
    expectAllClose(await v.data(), new Array(19).fill(2 - 2 ** -29), tol);
    v.dispose();
  });

  it('runs an Adam update of each variable as one kernel when the device binds 9 buffers', async () => {
    const shapes = [[5, 7], [7], [3, 3, 2]];
    const vars = shapes.map((s, k) => nt.variable(t32(uniform(s.reduce((a, b) => a * b, 1)), s), { name: `w${k}` }));
    const grads = shapes.map((s) => t32(uniform(s.reduce((a, b) => a * b, 1)), s));
    const ok = nt.scalar(1);
    const opt = nt.adam({ learningRate: 0.01 });
    opt.applyGradients(vars, grads, { commitIf: ok });
    nt.flush();
    nt.resetStats();
    opt.applyGradients(vars, grads, { commitIf: ok });
    nt.flush();
    // Per variable: new value, m and v from (g, m, v, w, lr_t, ok) — 6 inputs, 3 outputs; with fewer
    // than 9 bindings a variable takes two kernels. Per step: the int32 step counter (computed, not
    // folded, as lr_t reads it), lr_t, and the counter's commit.
    const perVariable = engine.backend.maxStorageBindings >= 9 ? 1 : 2;
    expect(nt.stats().dispatches).toBe(shapes.length * perVariable + 3);
    for (const t of await Promise.all(vars.map((w) => w.data()))) expect(t.every(Number.isFinite)).toBe(true);
    opt.dispose();
    nt.dispose([...vars, ...grads, ok]);
  });
});
