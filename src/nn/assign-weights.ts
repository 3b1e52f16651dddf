// Setting a model's or a layer's weights all at once: every value is checked (count, shape,
// dtype, backend, not disposed) before the first is assigned, so a bad list changes nothing.
import { BackendError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor, Variable } from '../tensor.js';

/**
 * Assigns `values[i]` to `vars[i]` for every i, or throws naming `owner` (e.g. "Dense 'dense_1'")
 * and the first weight that does not fit, with nothing assigned.
 */
export function assignWeights(owner: string, vars: readonly Variable[], values: readonly Tensor[]): void {
  if (values.length !== vars.length) {
    throw new ShapeError(`${owner}: setWeights got ${values.length} tensors, expected ${vars.length} (${vars.map((v) => v.name).join(', ')})`);
  }
  vars.forEach((v, i) => {
    const t = values[i];
    t.use(`${owner}: setWeights`);
    if (t.shape.length !== v.shape.length || t.shape.some((d, k) => d !== v.shape[k])) {
      throw new ShapeError(`${owner}: weight '${v.name}' is ${fmtShape(v.shape)}, got ${fmtShape(t.shape)}`);
    }
    if (t.dtype !== v.dtype) throw new DTypeError(`${owner}: weight '${v.name}' is ${v.dtype}, got ${t.dtype}`);
    if (t.backend !== v.backend) {
      throw new BackendError(`${owner}: the value for weight '${v.name}' lives on a ${t.backend.name} backend, the weight on a different ${v.backend.name} backend`);
    }
  });
  vars.forEach((v, i) => v.assign(values[i]));
}
