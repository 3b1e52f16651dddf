// The demo page's model choice (demo/src/model-choice.ts, demo/src/params.ts): the Keras CNN on a
// hardware GPU, the small TF.js CNN on a software adapter or the CPU, each with its reason; the
// URL's ?model= (with the old `cnn` meaning the TF.js CNN) is passed on for the page to honour.
import { describe, expect, it } from 'vitest';
import { defaultModel } from '../demo/src/model-choice.js';
import { readParams } from '../demo/src/params.js';
import type { ModelOption } from '../demo/src/protocol.js';

const MODELS: ModelOption[] = [
  { kind: 'keras-cnn', title: 'Keras tutorial CNN (32/64/64 filters of 3×3)', task: 'classify', params: 93322 },
  { kind: 'tfjs-cnn', title: 'TF.js tutorial CNN (8/16 filters of 5×5)', task: 'classify', params: 5994 },
];

describe('defaultModel', () => {
  it('picks the Keras CNN on a hardware adapter', () => {
    const d = defaultModel({ backend: 'webgpu', adapter: 'nvidia hopper', software: false }, MODELS);
    expect(d.kind).toBe('keras-cnn');
    expect(d.reason).toContain('nvidia hopper');
    expect(d.reason).toContain('hardware GPU');
  });

  it('picks the small TF.js CNN on a software adapter, and says why', () => {
    const d = defaultModel({ backend: 'webgpu', adapter: 'google swiftshader (fallback adapter)', software: true }, MODELS);
    expect(d.kind).toBe('tfjs-cnn');
    expect(d.reason).toMatch(/^Small TF\.js tutorial CNN chosen: this adapter \(google swiftshader \(fallback adapter\)\) emulates a GPU on the CPU/);
    expect(d.reason).toContain('93,322 parameters');
  });

  it('picks the small TF.js CNN on the CPU backend, fallback or not', () => {
    for (const info of [{ backend: 'cpu' as const }, { backend: 'cpu' as const, fallbackReason: 'no adapter' }]) {
      const d = defaultModel(info, MODELS);
      expect(d.kind).toBe('tfjs-cnn');
      expect(d.reason).toContain('on the CPU backend');
    }
  });
});

describe('readParams model', () => {
  it('passes a model on, maps the old cnn to the TF.js CNN, and leaves none unset', () => {
    expect(readParams('?model=keras-cnn').model).toBe('keras-cnn');
    expect(readParams('?model=cnn').model).toBe('tfjs-cnn');
    expect(readParams('?model=mlp&epochs=2').model).toBe('mlp');
    expect(readParams('?epochs=2').model).toBeUndefined();
    expect(readParams('?epochs=2').train.epochs).toBe(2);
  });
});
