// Long reductions into few outputs take the two-pass path (chunks, then partials): check it
// against float64 sums, including lengths that are not a multiple of the chunk, and its gradient.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { expectAllClose, normRelativeError } from './helpers/close.js';
import { uniform } from './helpers/random.js';

describe.each(BACKENDS)('long reductions on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each([8193, 20011, 70000])('sum, max and min of %i elements', async (n) => {
    const x = uniform(n, -1, 1);
    const [s, mx, mn] = nt.tidy(() => {
      const t = nt.tensor(Float32Array.from(x));
      return [nt.sum(t), nt.max(t), nt.min(t)];
    });
    const total = x.reduce((a, b) => a + b, 0);
    expect(normRelativeError(await s.data(), [total])).toBeLessThan(1e-4 * Math.sqrt(n) / Math.max(1, Math.abs(total)) + 1e-5);
    expect((await mx.data())[0]).toBe(Math.max(...x));
    expect((await mn.data())[0]).toBe(Math.min(...x));
    nt.dispose([s, mx, mn]);
  });

  it('sums a long leading axis into few columns (a bias gradient) and back-propagates', async () => {
    const rows = 9001;
    const cols = 3;
    const x = uniform(rows * cols, -1, 1);
    const w = uniform(cols, -1, 1);
    const { value, grad } = nt.valueAndGrad((t) => nt.sum(nt.mul(nt.sum(t, { axis: 0 }), nt.tensor(Float32Array.from(w)))))(
      nt.tensor(Float32Array.from(x), [rows, cols]),
    );
    const colSums = [0, 1, 2].map((c) => x.filter((_, i) => i % cols === c).reduce((a, b) => a + b, 0));
    const expected = colSums.reduce((a, s, c) => a + s * w[c], 0);
    expect(Math.abs((await value.data())[0] - expected)).toBeLessThan(1e-3);
    expectAllClose(await grad.data(), Array.from({ length: rows * cols }, (_, i) => w[i % cols]), { rtol: 1e-6, atol: 0 });
    nt.dispose([value, grad]);
  });
});
