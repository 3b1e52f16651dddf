// Regularizers on every backend: the Keras penalties l1·Σ|w| + l2·Σw² against float64 sums,
// their gradients against central differences of the reference, configs and lookup.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { uniform } from './helpers/random.js';

const { regularizers } = nt;

/** Each regularizer with its float64 penalty. */
const CASES: { name: string; make: () => nt.Regularizer; l1: number; l2: number }[] = [
  { name: 'l1', make: () => regularizers.l1({ l1: 0.3 }), l1: 0.3, l2: 0 },
  { name: 'l2', make: () => regularizers.l2({ l2: 0.7 }), l1: 0, l2: 0.7 },
  { name: 'l1l2', make: () => regularizers.l1l2({ l1: 0.2, l2: 0.05 }), l1: 0.2, l2: 0.05 },
  { name: 'l1 default', make: () => regularizers.l1(), l1: 0.01, l2: 0 },
  { name: 'l2 default', make: () => regularizers.l2(), l1: 0, l2: 0.01 },
];

const penaltyRef = (w: Float64Array, l1: number, l2: number): number => w.reduce((s, x) => s + l1 * Math.abs(x) + l2 * x * x, 0);
const H = 1e-6;

describe.each(BACKENDS)('regularizers on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  describe.each(CASES)('$name', ({ make, l1, l2 }) => {
    it.each([[[1]], [[7]], [[13, 31]], [[3, 3, 5, 7]]])('penalty and gradient of shape %j', async (shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      // Away from 0, where |w| has no derivative.
      const w = Float64Array.from(uniform(n, 0.05, 1), (x, i) => (i % 2 ? -x : x));
      const reg = make();
      const wt = nt.tensor(Float32Array.from(w), shape);
      const p = reg.apply(wt);
      expect(p.shape).toEqual([]);
      expectAllClose(await p.data(), [penaltyRef(w, l1, l2)], { rtol: backend === 'cpu' ? 1e-5 : 1e-4 }, 'penalty');
      const g = nt.grad((x) => reg.apply(x))(wt);
      const expected = Array.from(w, (x, i) => {
        const plus = Float64Array.from(w, (y, j) => (j === i ? y + H : y));
        const minus = Float64Array.from(w, (y, j) => (j === i ? y - H : y));
        return (l1 * Math.abs(plus[i]) + l2 * plus[i] ** 2 - l1 * Math.abs(minus[i]) - l2 * minus[i] ** 2) / (2 * H);
      });
      expectAllClose(await g.data(), expected, { rtol, atol: 1e-6 }, 'gradient');
      nt.dispose([wt, p, g]);
    });
  });

  it('leaves no tensors behind but the penalty', () => {
    const w = nt.ones([3, 5]);
    const before = nt.memory().numTensors;
    const p = regularizers.l1l2({ l1: 0.1, l2: 0.1 }).apply(w);
    expect(nt.memory().numTensors).toBe(before + 1);
    nt.dispose([w, p]);
  });
});

describe('regularizer configs', () => {
  it('report Keras class names and configs', () => {
    expect([regularizers.l1().className, regularizers.l1().getConfig()]).toEqual(['L1', { l1: 0.01 }]);
    expect([regularizers.l2({ l2: 0.5 }).className, regularizers.l2({ l2: 0.5 }).getConfig()]).toEqual(['L2', { l2: 0.5 }]);
    expect([regularizers.l1l2().className, regularizers.l1l2().getConfig()]).toEqual(['L1L2', { l1: 0, l2: 0 }]);
  });

  it('are found by name or config, and bad factors are rejected', () => {
    expect(regularizers.getRegularizer('L2').getConfig()).toEqual({ l2: 0.01 });
    expect(regularizers.getRegularizer('l1_l2').className).toBe('L1L2');
    expect(regularizers.getRegularizer({ className: 'L1', config: { l1: 0.2 } }).getConfig()).toEqual({ l1: 0.2 });
    const r = regularizers.l2();
    expect(regularizers.getRegularizer(r)).toBe(r);
    expect(() => regularizers.getRegularizer('l3')).toThrow(/unknown regularizer "l3"/);
    expect(() => regularizers.l2({ l2: -1 })).toThrow(nt.ArgumentError);
  });
});
