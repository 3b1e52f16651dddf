// The depthwiseConv2d op (its WGSL and CPU kernels and both gradients) and the depthwiseConv2d and
// separableConv2d layers: forward against float64 references written here (odd sizes, strides,
// 'same'/'valid', dilations, depth multipliers), gradients through checkGradients; every backend,
// and on WebGPU with 1 KiB bindings, where every kernel runs split by image rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { engine } from '../src/engine.js';
import { ConfigReader } from '../src/nn/layers/config.js';
import { layerFactory } from '../src/nn/layers/layer.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { normRelativeError } from './helpers/close.js';
import { covering } from './helpers/coverage.js';
import { GRAD_TOL, gradientError, output, randomizeWeights, t } from './helpers/layers.js';
import { sizeOf } from './helpers/numeric.js';
import { uniform } from './helpers/random.js';

interface Window {
  strides: [number, number];
  padding: 'same' | 'valid';
  dilations: [number, number];
}

/** Depthwise convolution in float64: y[b,oy,ox,c·m+q] = Σ_taps x[b,iy,ix,c]·f[ky,kx,c,q], TF's padding. */
function depthwiseRef(x: Float64Array, [n, h, w, c]: number[], f: Float64Array, [kh, kw, , m]: number[], { strides: s, padding, dilations: d }: Window) {
  const axis = (size: number, k: number, st: number, dl: number) => {
    const span = (k - 1) * dl + 1;
    if (padding === 'valid') return { out: Math.floor((size - span) / st) + 1, pad: 0 };
    const out = Math.ceil(size / st);
    return { out, pad: Math.floor(Math.max((out - 1) * st + span - size, 0) / 2) };
  };
  const H = axis(h, kh, s[0], d[0]);
  const W = axis(w, kw, s[1], d[1]);
  const y = new Float64Array(n * H.out * W.out * c * m);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < H.out; oy++)
      for (let ox = 0; ox < W.out; ox++)
        for (let ch = 0; ch < c; ch++)
          for (let q = 0; q < m; q++) {
            let acc = 0;
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * s[0] + ky * d[0] - H.pad;
                const ix = ox * s[1] + kx * d[1] - W.pad;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += x[((b * h + iy) * w + ix) * c + ch] * f[((ky * kw + kx) * c + ch) * m + q];
              }
            y[(((b * H.out + oy) * W.out + ox) * c + ch) * m + q] = acc;
          }
  return { y, shape: [n, H.out, W.out, c * m] };
}

/** y [rows, k] · w [k, n] + b per row, in float64 (the 1×1 convolution). */
function pointwiseRef(y: Float64Array, k: number, w: Float64Array, b: Float64Array, n: number): Float64Array {
  const rows = y.length / k;
  const out = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < n; j++) {
      let s = b[j];
      for (let i = 0; i < k; i++) s += y[r * k + i] * w[i * n + j];
      out[r * n + j] = s;
    }
  return out;
}

/** The layer rebuilt from its own Keras JSON, as loadModel does. */
function rebuilt(layer: nt.Layer): nt.Layer {
  const { class_name, config } = layer.getConfig();
  return layerFactory(class_name)!(new ConfigReader(JSON.parse(JSON.stringify(config)), 'test'));
}

const WINDOWS: (Window & { kernel: [number, number]; m: number })[] = [
  { kernel: [3, 3], m: 1, strides: [1, 1], padding: 'same', dilations: [1, 1] },
  { kernel: [3, 2], m: 2, strides: [2, 1], padding: 'valid', dilations: [1, 1] },
  { kernel: [2, 3], m: 3, strides: [2, 2], padding: 'same', dilations: [1, 1] },
  { kernel: [2, 2], m: 2, strides: [1, 1], padding: 'same', dilations: [2, 1] },
];

describe.each(BACKENDS)('depthwise convolution on %s', (backend) => {
  const sumTol = backend === 'cpu' ? 1e-5 : 1e-3;
  beforeAll(() => useBackend(backend));

  it.each(WINDOWS)('the op matches float64 (kernel $kernel, m $m, strides $strides, $padding, dilations $dilations)', async (win) => {
    const xs = [2, 7, 6, 3];
    const fs = [...win.kernel, 3, win.m];
    const [xv, fv] = [uniform(sizeOf(xs)), uniform(sizeOf(fs))];
    const [x, f] = [t(xv, xs), t(fv, fs)];
    const ref = depthwiseRef(xv, xs, fv, fs, win);
    await covering({ forward: ['depthwiseConv2d'] }, async () => {
      const y = nt.depthwiseConv2d(x, f, win);
      expect(y.shape).toEqual(ref.shape);
      expect(normRelativeError(await y.data(), ref.y)).toBeLessThan(sumTol);
      y.dispose();
    });
    nt.dispose([x, f]);
  });

  it.each(WINDOWS.slice(1))('the op is differentiable w.r.t. x and filter (kernel $kernel, m $m, strides $strides, $padding)', async (win) => {
    const xs = [2, 5, 4, 2];
    const fs = [...win.kernel, 2, win.m];
    const [x, f] = [t(uniform(sizeOf(xs)), xs), t(uniform(sizeOf(fs)), fs)];
    const outShape = nt.tidy(() => [...nt.depthwiseConv2d(x, f, win).shape]);
    const r = t(uniform(sizeOf(outShape)), outShape);
    await covering({ forward: ['depthwiseConv2d', 'depthwiseConv2dBackpropInput', 'depthwiseConv2dBackpropFilter'], gradient: ['depthwiseConv2d'] }, async () => {
      const result = await nt.checkGradients((xi, fi) => nt.sum(nt.mul(nt.depthwiseConv2d(xi, fi, win), r)), [x, f], { maxChecksPerInput: 12 });
      expect(result.maxRelativeError).toBeLessThan(GRAD_TOL);
    });
    nt.dispose([x, f, r]);
  });

  it('the op rejects shapes that do not fit, naming them', () => {
    const x = nt.zeros([1, 5, 5, 3]);
    expect(() => nt.depthwiseConv2d(x, nt.zeros([3, 3, 2, 1]))).toThrow(/depthwiseConv2d: x \[1,5,5,3\] and filter \[3,3,2,1\] do not fit \(expected x \[N,H,W,C\] and filter \[kh,kw,C,m\]\)/);
    expect(() => nt.depthwiseConv2d(x, nt.zeros([7, 7, 3, 1]))).toThrow(/depthwiseConv2d: output would be empty/);
    x.dispose();
  });

  it.each(['depthwise', 'separable'] as const)('%s layer: forward matches float64, gradients, config', async (kind) => {
    const xs = [2, 6, 5, 3];
    const win = { strides: [2, 1] as [number, number], padding: 'same' as const, dilations: [1, 1] as [number, number] };
    const common = { kernelSize: [3, 2] as [number, number], strides: win.strides, padding: win.padding, depthMultiplier: 2, activation: 'tanh' as const };
    const layer = kind === 'depthwise' ? nt.layers.depthwiseConv2d(common) : nt.layers.separableConv2d({ ...common, filters: 4 });
    const xv = uniform(sizeOf(xs));
    const x = t(xv, xs);
    layer.apply(x).dispose();
    const names = layer.weights.map((v) => v.name!.split('/')[1]);
    expect(names).toEqual(kind === 'depthwise' ? ['depthwise_kernel', 'bias'] : ['depthwise_kernel', 'pointwise_kernel', 'bias']);
    const weights = randomizeWeights(layer);
    const dw = depthwiseRef(xv, xs, weights[0], [3, 2, 3, 2], win);
    const pre =
      kind === 'depthwise' ? dw.y.map((v, i) => v + weights[1][i % 6]) : pointwiseRef(dw.y, 6, weights[1], weights[2], 4);
    const { values, shape } = await output(layer, x);
    expect(shape).toEqual([...dw.shape.slice(0, 3), kind === 'depthwise' ? 6 : 4]);
    expect(layer.computeOutputShape([null, 6, 5, 3])).toEqual([null, ...shape.slice(1)]);
    expect(normRelativeError(values, Array.from(pre, Math.tanh))).toBeLessThan(sumTol);
    expect(await gradientError(layer, x)).toBeLessThan(GRAD_TOL);
    const config = layer.getConfig();
    expect(config.config).toMatchObject({ kernel_size: [3, 2], strides: [2, 1], padding: 'same', depth_multiplier: 2, activation: 'tanh', ...(kind === 'separable' ? { filters: 4 } : {}) });
    expect(rebuilt(layer).getConfig()).toEqual(config);
    x.dispose();
    layer.dispose();
  });
});

describe.runIf(BACKENDS.includes('webgpu'))('depthwise convolution over 1 KiB bindings (split by rows)', () => {
  let backend: WebGpuBackend;
  beforeAll(async () => {
    backend = await createWebGpuBackend({ maxBindingBytes: 1024 });
    engine.setBackend(backend);
  });
  afterAll(async () => {
    await nt.setBackend('cpu');
    backend.destroy();
  });

  it.each(WINDOWS)('forward and both gradients match float64 and the CPU (kernel $kernel, m $m, strides $strides, $padding, dilations $dilations)', async (win) => {
    const xs = [3, 9, 8, 4];
    const fs = [...win.kernel, 4, win.m];
    const [xv, fv] = [uniform(sizeOf(xs)), uniform(sizeOf(fs))];
    const ref = depthwiseRef(xv, xs, fv, fs, win);
    const rv = uniform(ref.y.length);
    // Σ r·y: its gradients are the two backprop kernels applied to r.
    const f = (x: nt.Tensor, w: nt.Tensor) => nt.sum(nt.mul(nt.depthwiseConv2d(x, w, win), t(rv, ref.shape)));
    const results = async () => {
      const [x, w] = [t(xv, xs), t(fv, fs)];
      const y = nt.depthwiseConv2d(x, w, win);
      nt.resetStats();
      const [dx, dw] = nt.grads(f)([x, w]);
      const out = { y: await y.data(), dx: await dx.data(), dw: await dw.data(), dispatches: nt.stats().dispatches };
      nt.dispose([x, w, y, dx, dw]);
      return out;
    };
    const split = await results();
    expect(ref.y.length).toBeGreaterThan(256);
    expect(normRelativeError(split.y, ref.y)).toBeLessThan(1e-3);
    await nt.setBackend('cpu');
    const cpu = await results();
    engine.setBackend(backend);
    expect(normRelativeError(split.dx, cpu.dx)).toBeLessThan(1e-3);
    expect(normRelativeError(split.dw, cpu.dw)).toBeLessThan(1e-3);
    // More dispatches than the unsplit backward pass's handful: the kernels did split.
    expect(split.dispatches).toBeGreaterThan(6);
  });
});
