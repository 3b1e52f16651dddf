// The window geometry conv, pooling and their layers share (src/ops/windows.ts): a layer's output
// shape is the op's, from TF's rule written here, including 'valid' windows larger than the input
// (length 0, where the layers once computed a negative length and the ops refused).
import { describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { freshRng } from './helpers/random.js';

type Padding = 'same' | 'valid';

/** TF's output length of one axis: whole windows only for 'valid', ceil(n/s) for 'same'. */
function refLength(n: number, k: number, s: number, d: number, padding: Padding): number {
  const span = (k - 1) * d + 1;
  return padding === 'same' ? Math.ceil(n / s) : Math.max(0, Math.ceil((n - span + 1) / s));
}

/** Random odd-sized cases, some with 'valid' windows wider than the input. */
function cases(count: number) {
  const r = freshRng();
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  return Array.from({ length: count }, () => ({
    H: int(1, 9), W: int(1, 9), C: int(1, 3), kh: int(1, 5), kw: int(1, 5), sh: int(1, 3), sw: int(1, 3),
    dh: int(1, 2), dw: int(1, 2), padding: (r() < 0.5 ? 'same' : 'valid') as Padding,
  }));
}

describe('window geometry shared by ops and layers', () => {
  it('Conv2D layers report the shape conv2d computes, 0 where no valid window fits', () => {
    for (const c of cases(40)) {
      const layer = nt.layers.conv2d({ filters: 2, kernelSize: [c.kh, c.kw], strides: [c.sh, c.sw], dilationRate: [c.dh, c.dw], padding: c.padding });
      const expected = [null, refLength(c.H, c.kh, c.sh, c.dh, c.padding), refLength(c.W, c.kw, c.sw, c.dw, c.padding), 2];
      expect(layer.computeOutputShape([null, c.H, c.W, c.C]), JSON.stringify(c)).toEqual(expected);
      const conv = () => nt.tidy(() => nt.conv2d(nt.zeros([1, c.H, c.W, c.C]), nt.zeros([c.kh, c.kw, c.C, 2]), { strides: [c.sh, c.sw], dilations: [c.dh, c.dw], padding: c.padding }).shape);
      if (expected[1] === 0 || expected[2] === 0) expect(conv, JSON.stringify(c)).toThrow(/conv2d: output would be empty/);
      else expect(conv(), JSON.stringify(c)).toEqual([1, ...expected.slice(1)]);
    }
  });

  it('pooling layers report the shape the pooling ops compute, 0 where no valid window fits', () => {
    for (const c of cases(40)) {
      const layer = nt.layers.maxPooling2d({ poolSize: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding });
      const expected = [null, refLength(c.H, c.kh, c.sh, 1, c.padding), refLength(c.W, c.kw, c.sw, 1, c.padding), c.C];
      expect(layer.computeOutputShape([null, c.H, c.W, c.C]), JSON.stringify(c)).toEqual(expected);
      const pool = () => nt.tidy(() => nt.avgPool2d(nt.zeros([1, c.H, c.W, c.C]), { poolSize: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding }).shape);
      if (expected[1] === 0 || expected[2] === 0) expect(pool, JSON.stringify(c)).toThrow(/avgPool2d: output would be empty/);
      else expect(pool(), JSON.stringify(c)).toEqual([1, ...expected.slice(1)]);
    }
  });

  it('layers name the option and the layer in their errors', () => {
    expect(() => nt.layers.conv2d({ filters: 2, kernelSize: [3, 0] })).toThrow(/Conv2D '.*': kernelSize must be a positive integer or a pair \[h, w\] of them, got \[3,0\]/);
    expect(() => nt.layers.maxPooling2d({ padding: 'full' as Padding })).toThrow(/MaxPooling2D '.*': padding must be 'same' or 'valid', got "full"/);
  });
});
