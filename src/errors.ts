// Named error classes, so callers can tell a shape mistake from a backend failure,
// and every message names the op, the shapes involved and what was expected.

/** Base class of every error Neurite throws on purpose. */
export class NeuriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit the op (mismatched dims, bad axis, empty tensor where one is not allowed). */
export class ShapeError extends NeuriteError {}

/** A tensor of the wrong dtype for the op (e.g. int32 logits, float32 sparse labels). */
export class DTypeError extends NeuriteError {}

/** A tensor used after `dispose()` (or after the `tidy` that owned it ended). */
export class DisposedTensorError extends NeuriteError {}

/** The backend could not do what was asked: no WebGPU adapter, a lost device, a validation error. */
export class BackendError extends NeuriteError {}

/**
 * The WebGPU device was lost (destroyed, a driver reset, a GPU removed): its tensors are gone.
 * `setBackend('webgpu')` starts a new device. `fit` throws a subclass that says which step it
 * reached and where the model's weights are now (see FitDeviceLostError).
 */
export class DeviceLostError extends BackendError {}

/** An argument that is not a tensor shape or dtype problem: a bad option value, a wrong count. */
export class ArgumentError extends NeuriteError {}

/** Formats a shape the way the messages print it: `[2,3]`, `[]` for a scalar. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Formats a shape with unknown (null) dims, as layers and symbolic tensors have: `[null,28,28,1]`. */
export function fmtShapeN(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : d)).join(',')}]`;
}
