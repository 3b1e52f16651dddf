// The orthogonal initializer (Keras' default for recurrent kernels): a random Gaussian matrix
// orthonormalised on the host by modified Gram–Schmidt, seeded so a model is reproducible.
// Host-side because it runs once per weight at build time and is tiny ([units, units]).
import { ArgumentError } from '../errors.js';
import { mulberry32, randomSeed } from '../data/random.js';
import { tensor } from '../ops/create.js';
import type { Tensor } from '../tensor.js';

/**
 * A [..., cols] weight whose flattened [rows, cols] matrix has orthonormal columns (rows ≥ cols)
 * or rows (rows < cols), times `gain`, as Keras' Orthogonal does.
 */
export function orthogonal(shape: readonly number[], { seed, gain = 1 }: { seed?: number; gain?: number } = {}): Tensor {
  if (shape.length < 2) throw new ArgumentError(`orthogonal: expected a shape of rank ≥ 2, got [${shape.join(',')}]`);
  const cols = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  // Orthonormalise the columns of the tall orientation, then transpose back if needed.
  const n = Math.max(rows, cols);
  const m = Math.min(rows, cols);
  const rand = mulberry32(seed ?? randomSeed());
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const q: Float64Array[] = Array.from({ length: m }, () => Float64Array.from({ length: n }, normal));
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[j][i] * q[k][i];
      for (let i = 0; i < n; i++) q[j][i] -= dot * q[k][i];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[j][i] * q[j][i];
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < n; i++) q[j][i] /= norm;
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (rows >= cols ? q[c][r] : q[r][c]);
  return tensor(out, shape);
}
