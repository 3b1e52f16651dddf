// An op's numbers depend only on its inputs and the backend it runs on: CPU gradients of the
// tutorial CNN's first conv come out bit-identical before and after WebGPU backends with either
// tiling are created (the filter gradient's chunking once followed the last adapter's tiling).
import { describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { engine } from '../src/engine.js';
import { BACKENDS } from './helpers/backends.js';
import { uniform } from './helpers/random.js';

// The tutorial's first layer (32 3×3 filters over 28×28×1) at batch 8.
const X_SHAPE = [8, 28, 28, 1];
const W_SHAPE = [3, 3, 1, 32];
const x = Float32Array.from(uniform(X_SHAPE.reduce((a, b) => a * b)));
const w = Float32Array.from(uniform(W_SHAPE.reduce((a, b) => a * b), -0.5, 0.5));

/** The bits of d/dx and d/dw of Σ relu(conv2d(x, w))², computed on the CPU backend. */
async function cpuGradientBits(): Promise<Uint32Array[]> {
  await nt.setBackend('cpu');
  const [dx, dw] = nt.tidy(() =>
    nt.grads((a: nt.Tensor, b: nt.Tensor) => nt.sum(nt.square(nt.relu(nt.conv2d(a, b)))))([nt.tensor(x, X_SHAPE), nt.tensor(w, W_SHAPE)]),
  );
  const bits = [new Uint32Array((await dx.data()).buffer), new Uint32Array((await dw.data()).buffer)];
  nt.dispose([dx, dw]);
  return bits;
}

describe('CPU results do not depend on other backends', () => {
  it('the CPU prefers register tiles, whatever backend ran before', async () => {
    await nt.setBackend('cpu');
    expect(engine.backend.preferences).toEqual({ tiling: 'register' });
  });

  it.each(BACKENDS.includes('webgpu') ? (['register', 'workgroup'] as const) : [])(
    'conv gradients on the CPU are bit-identical before and after a WebGPU backend with %s tiling',
    async (tiling) => {
      const before = await cpuGradientBits();
      await nt.setBackend('webgpu', { tiling });
      expect((engine.backend as WebGpuBackend).tilingChoice.tiling).toBe(tiling);
      const after = await cpuGradientBits();
      expect(after[0]).toEqual(before[0]);
      expect(after[1]).toEqual(before[1]);
      expect(before[1].some((b) => b !== 0)).toBe(true);
    },
  );
});
