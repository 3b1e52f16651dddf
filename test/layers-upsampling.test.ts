// Upsampling layers: upSampling2d (nearest) and conv2dTranspose, and the conv2dTranspose op under
// them: forward against float64 references written here, gradients through checkGradients,
// configs rebuilt from their Keras JSON, and shape errors; every backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { ConfigReader } from '../src/nn/layers/config.js';
import { layerFactory } from '../src/nn/layers/layer.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { expectAllClose, normRelativeError } from './helpers/close.js';
import { covering } from './helpers/coverage.js';
import { GRAD_TOL, gradientError, output, randomizeWeights, t } from './helpers/layers.js';
import { coordsOf, sizeOf } from './helpers/numeric.js';
import { uniform } from './helpers/random.js';

/**
 * Transposed convolution in float64: every input pixel scatters x·F[ky,kx,oc,ic] into the output
 * [n, H, W, oc] at (iy·s + ky − pad, ix·s + kx − pad), TF's padding of the conv2d from H to h.
 */
function convTransposeRef(x: Float64Array, [n, h, w, ic]: number[], f: Float64Array, [kh, kw, oc]: number[], [H, W]: number[], s: number[], padding: string) {
  const padOf = (size: number, out: number, k: number, st: number) => (padding === 'valid' ? 0 : Math.floor(Math.max((out - 1) * st + k - size, 0) / 2));
  const [ph, pw] = [padOf(H, h, kh, s[0]), padOf(W, w, kw, s[1])];
  const y = new Float64Array(n * H * W * oc);
  for (let b = 0; b < n; b++)
    for (let iy = 0; iy < h; iy++)
      for (let ix = 0; ix < w; ix++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const [oy, ox] = [iy * s[0] + ky - ph, ix * s[1] + kx - pw];
            if (oy < 0 || oy >= H || ox < 0 || ox >= W) continue;
            for (let o = 0; o < oc; o++)
              for (let c = 0; c < ic; c++) y[((b * H + oy) * W + ox) * oc + o] += x[((b * h + iy) * w + ix) * ic + c] * f[((ky * kw + kx) * oc + o) * ic + c];
          }
  return y;
}

/** The layer rebuilt from its own Keras JSON, as loadModel does. */
function rebuilt(layer: nt.Layer): nt.Layer {
  const { class_name, config } = layer.getConfig();
  return layerFactory(class_name)!(new ConfigReader(JSON.parse(JSON.stringify(config)), 'test'));
}

describe.each(BACKENDS)('upsampling layers on %s', (backend) => {
  const sumTol = backend === 'cpu' ? 1e-5 : 1e-3;
  beforeAll(() => useBackend(backend));

  it.each([2, [3, 2]] as const)('upSampling2d size %s repeats each pixel, gradient sums each block, config', async (size) => {
    const xs = [2, 3, 4, 3];
    const xv = uniform(sizeOf(xs));
    const x = t(xv, xs);
    const layer = nt.layers.upSampling2d({ size: size as number | [number, number] });
    const [sh, sw] = typeof size === 'number' ? [size, size] : size;
    const { values, shape } = await output(layer, x);
    expect(shape).toEqual([2, 3 * sh, 4 * sw, 3]);
    expect(layer.computeOutputShape([null, 3, 4, 3])).toEqual([null, 3 * sh, 4 * sw, 3]);
    const ref = Float64Array.from({ length: sizeOf(shape) }, (_, i) => {
      const [b, y, xx, c] = coordsOf(i, shape);
      return xv[((b * 3 + Math.floor(y / sh)) * 4 + Math.floor(xx / sw)) * 3 + c];
    });
    expectAllClose(values, ref, { rtol: 0, atol: 0 });
    const r = t(uniform(sizeOf(shape)), shape);
    const grad = await nt.checkGradients((xi) => nt.sum(nt.mul(layer.apply(xi), r)), [x]);
    expect(grad.maxRelativeError).toBeLessThan(GRAD_TOL);
    expect(rebuilt(layer).getConfig().config).toMatchObject({ size: [sh, sw], data_format: 'channels_last', interpolation: 'nearest' });
    nt.dispose([x, r]);
  });

  it.each([
    { padding: 'valid', strides: [2, 2], kernel: [3, 3] },
    { padding: 'same', strides: [2, 1], kernel: [3, 2] },
    { padding: 'valid', strides: [1, 3], kernel: [2, 2] },
  ] as const)('conv2dTranspose layer ($padding, strides $strides, kernel $kernel) matches float64', async ({ padding, strides, kernel }) => {
    const xs = [2, 3, 4, 3];
    const filters = 5;
    const layer = nt.layers.conv2dTranspose({ filters, kernelSize: [...kernel], strides: [...strides], padding, activation: 'tanh' });
    const xv = uniform(sizeOf(xs));
    const x = t(xv, xs);
    layer.apply(x).dispose();
    expect(layer.weights[0].shape).toEqual([...kernel, filters, 3]);
    const [f, b] = randomizeWeights(layer);
    const deconv = (d: number, k: number, s: number) => (padding === 'same' ? d * s : d * s + Math.max(k - s, 0));
    const [H, W] = [deconv(3, kernel[0], strides[0]), deconv(4, kernel[1], strides[1])];
    const { values, shape } = await output(layer, x);
    expect(shape).toEqual([2, H, W, filters]);
    expect(layer.computeOutputShape([null, 3, 4, 3])).toEqual([null, H, W, filters]);
    const ref = convTransposeRef(xv, xs, f, [kernel[0], kernel[1], filters], [H, W], [...strides], padding).map((v, i) => Math.tanh(v + b[i % filters]));
    expect(normRelativeError(values, ref)).toBeLessThan(sumTol);
    x.dispose();
    layer.dispose();
  });

  it('conv2dTranspose layer gradients pass checkGradients; config rebuilds it', async () => {
    const layer = nt.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' });
    const x = t(uniform(2 * 3 * 2 * 3), [2, 3, 2, 3]);
    layer.apply(x).dispose();
    randomizeWeights(layer);
    expect(await gradientError(layer, x)).toBeLessThan(GRAD_TOL);
    const config = layer.getConfig();
    expect(config).toMatchObject({ class_name: 'Conv2DTranspose', config: { filters: 2, kernel_size: [3, 3], strides: [2, 2], padding: 'same', activation: 'sigmoid' } });
    expect(rebuilt(layer).getConfig()).toEqual(config);
    x.dispose();
    layer.dispose();
  });

  it('the conv2dTranspose op is differentiable w.r.t. x and filter and rejects shapes that do not fit', async () => {
    const x = t(uniform(2 * 3 * 3 * 2), [2, 3, 3, 2]);
    const f = t(uniform(2 * 2 * 4 * 2), [2, 2, 4, 2]);
    const r = t(uniform(2 * 6 * 6 * 4), [2, 6, 6, 4]);
    await covering({ forward: ['conv2dBackpropInput'], gradient: ['conv2dBackpropInput'] }, async () => {
      const result = await nt.checkGradients((xi, wi) => nt.sum(nt.mul(nt.conv2dTranspose(xi, wi, [2, 6, 6, 4], { strides: 2 }), r)), [x, f]);
      expect(result.maxRelativeError).toBeLessThan(GRAD_TOL);
    });
    expect(() => nt.conv2dTranspose(x, f, [2, 8, 6, 4], { strides: 2 })).toThrow(
      /conv2dTranspose: outputShape \[2,8,6,4\] convolved with filter \[2,2,4,2\] gives \[2,4,3,2\], not x \[2,3,3,2\]/,
    );
    expect(() => nt.conv2dTranspose(x, f, [2, 6, 6, 5], { strides: 2 })).toThrow(/expected x \[N,h,w,inC\], filter \[kh,kw,outC,inC\], outputShape \[N,H,W,outC\]/);
    expect(() => nt.layers.conv2dTranspose({ filters: 2, kernelSize: 3, dilationRate: 2 })).toThrow(/Conv2DTranspose '.*': dilationRate 2 is not supported/);
    nt.dispose([x, f, r]);
  });
});
