// Autograd on every backend: grad, valueAndGrad, grads, valueAndGrads and variableGrads against
// derivatives worked out here in float64; accumulation when a tensor or function is used twice;
// tidy inside a differentiated function; memory after a gradient; and the errors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { numericGradient } from './helpers/numeric.js';
import { uniform } from './helpers/random.js';

const f32 = (x: ArrayLike<number>): Float32Array => Float32Array.from(x);

describe.each(BACKENDS)('autograd on %s', (backend) => {
  const rtol = RTOL[backend];
  const tol = { rtol: 10 * rtol, atol: 1e-5 };
  beforeAll(() => useBackend(backend));

  it('grad of Σ x·eˣ (x used twice: the contributions add up)', async () => {
    const x = uniform(13, -2, 2);
    const g = nt.grad((t) => nt.sum(nt.mul(t, nt.exp(t))))(nt.tensor(f32(x)));
    expectAllClose(await g.data(), Array.from(x, (v) => Math.exp(v) * (1 + v)), tol);
    g.dispose();
  });

  it('a function applied twice accumulates the gradient of both uses', async () => {
    const x = uniform(7, -1, 1);
    const w = uniform(7, -1, 1);
    const wt = nt.tensor(f32(w));
    const layer = (t: nt.Tensor) => nt.tanh(nt.mul(t, wt));
    const g = nt.grad((t) => nt.sum(nt.add(layer(t), layer(nt.square(t)))))(nt.tensor(f32(x)));
    const ref = (v: Float64Array) => v.reduce((a, xi, i) => a + Math.tanh(xi * w[i]) + Math.tanh(xi * xi * w[i]), 0);
    expectAllClose(await g.data(), numericGradient(ref, x), tol);
    nt.dispose([g, wt]);
  });

  it('valueAndGrad returns the value and the gradient', async () => {
    const x = uniform(5, 0.5, 2);
    const { value, grad } = nt.valueAndGrad((t) => nt.sum(nt.log(t)))(nt.tensor(f32(x)));
    expectAllClose(await value.data(), [x.reduce((a, v) => a + Math.log(v), 0)], { rtol, atol: 1e-6 });
    expectAllClose(await grad.data(), Array.from(x, (v) => 1 / v), tol);
    nt.dispose([value, grad]);
  });

  it('grads and valueAndGrads differentiate w.r.t. every argument, with broadcasting', async () => {
    const a = uniform(3 * 4, -1, 1);
    const b = uniform(4, -1, 1);
    const f = (x: nt.Tensor, y: nt.Tensor) => nt.sum(nt.square(nt.sub(x, y)));
    const ta = nt.tensor(f32(a), [3, 4]);
    const tb = nt.tensor(f32(b), [4]);
    const [ga, gb] = nt.grads(f)([ta, tb]);
    expectAllClose(await ga.data(), Array.from(a, (v, i) => 2 * (v - b[i % 4])), tol);
    expectAllClose(await gb.data(), Array.from(b, (v, j) => [0, 1, 2].reduce((s, r) => s - 2 * (a[r * 4 + j] - v), 0)), tol);
    const { value, grads } = nt.valueAndGrads(f)([ta, tb]);
    expectAllClose(await value.data(), [Array.from(a).reduce((s, v, i) => s + (v - b[i % 4]) ** 2, 0)], { rtol, atol: 1e-6 });
    expect(grads.length).toBe(2);
    nt.dispose([ga, gb, value, ...grads, ta, tb]);
  });

  it('takes dy for a non-scalar function', async () => {
    const x = uniform(6, -1, 1);
    const dy = uniform(6, -1, 1);
    const g = nt.grad((t) => nt.mul(t, t))(nt.tensor(f32(x), [2, 3]), nt.tensor(f32(dy), [2, 3]));
    expect(g.shape).toEqual([2, 3]);
    expectAllClose(await g.data(), Array.from(x, (v, i) => 2 * v * dy[i]), tol);
    g.dispose();
  });

  it('gives zeros for an input the function does not use', async () => {
    const [ga, gb] = nt.grads((a) => nt.sum(a))([nt.ones([3]), nt.ones([2])]);
    expect(Array.from(await gb.data())).toEqual([0, 0]);
    nt.dispose([ga, gb]);
  });

  it('variableGrads differentiates w.r.t. variables used twice', async () => {
    const w0 = uniform(4, -1, 1);
    const b0 = uniform(1, -1, 1);
    const x = uniform(4, -1, 1);
    const w = nt.variable(nt.tensor(f32(w0)));
    const b = nt.variable(nt.tensor(f32(b0)));
    const xt = nt.tensor(f32(x));
    const f = () => {
      const y = nt.add(nt.sum(nt.mul(w, xt)), b);
      return nt.sum(nt.mul(y, y));
    };
    const { value, grads } = nt.variableGrads(f, [w, b]);
    const y = w0.reduce((s, wi, i) => s + wi * x[i], 0) + b0[0];
    expectAllClose(await value.data(), [y * y], { rtol, atol: 1e-6 });
    expectAllClose(await grads[0].data(), Array.from(x, (xi) => 2 * y * xi), tol);
    expectAllClose(await grads[1].data(), [2 * y], tol);
    nt.dispose([value, ...grads, w, b, xt]);
  });

  it('a tidy inside the differentiated function keeps what backward needs', async () => {
    const x = uniform(9, -2, 2);
    const g = nt.grad((t) => nt.tidy(() => nt.sum(nt.exp(nt.mul(t, 2)))))(nt.tensor(f32(x)));
    expectAllClose(await g.data(), Array.from(x, (v) => 2 * Math.exp(2 * v)), tol);
    const h = nt.grad((t) => nt.logSumExp(t))(nt.tensor(f32(x)));
    const m = Math.max(...x);
    const s = x.reduce((a, v) => a + Math.exp(v - m), 0);
    expectAllClose(await h.data(), Array.from(x, (v) => Math.exp(v - m) / s), tol);
    nt.dispose([g, h]);
  });

  it('stopGradient blocks the gradient', async () => {
    const x = uniform(4, -1, 1);
    const g = nt.grad((t) => nt.sum(nt.mul(t, nt.stopGradient(t))))(nt.tensor(f32(x)));
    expectAllClose(await g.data(), Array.from(x), tol);
    g.dispose();
  });

  it('frees every intermediate: only the returned gradients stay', () => {
    const x = nt.tensor(f32(uniform(31)));
    const before = nt.memory();
    const g = nt.grad((t) => nt.sum(nt.sigmoid(nt.mul(nt.exp(t), 3))))(x);
    expect(nt.memory().numTensors).toBe(before.numTensors + 1);
    g.dispose();
    expect(nt.memory()).toMatchObject({ numTensors: before.numTensors, bytesInUse: before.bytesInUse });
    x.dispose();
  });

  it('rejects a non-scalar result without dy, a dy of the wrong shape, int32 inputs and non-tensor results', () => {
    const x = nt.ones([3]);
    expect(() => nt.grad((t) => nt.mul(t, 2))(x)).toThrow(/grad: the function returned shape \[3\]; expected a scalar \(or pass dy of that shape\)/);
    expect(() => nt.grad((t) => nt.mul(t, 2))(x, nt.ones([2]))).toThrow(/grad: dy has shape \[2\], expected the value's shape \[3\]/);
    const i = nt.ones([3], 'int32');
    expect(() => nt.grad((t) => nt.sum(t))(i)).toThrow(/grad: can only differentiate w.r.t. float32 tensors, got int32 \[3\]/);
    expect(() => nt.grad(() => 3 as unknown as nt.Tensor)(x)).toThrow(nt.ArgumentError);
    const d = nt.ones([2]);
    d.dispose();
    expect(() => nt.grad((t) => nt.sum(t))(d)).toThrow(nt.DisposedTensorError);
    nt.dispose([x, i]);
  });
});
