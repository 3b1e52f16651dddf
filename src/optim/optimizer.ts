// The Optimizer interface and the machinery every optimizer shares: slot variables created
// lazily per variable, the step counter kept on the device, gradient clipping, atomic updates
// (compute everything, then assign) and state save/restore as named tensors.
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { E } from '../ops/elementwise/expr.js';
import { map } from '../ops/elementwise/map.js';
import { cast, fill, scalar, variable } from '../ops/create.js';
import { reshape } from '../ops/transform.js';
import { shapesEqual } from '../shape.js';
import { Tensor, Variable } from '../tensor.js';
import { clipGradient, type ClipOptions } from './clipping.js';

/** A tensor with the name it is saved under. */
export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/** Options of `applyGradients`. */
export interface ApplyOptions {
  /**
   * A scalar on the device: where it is 0 the step is discarded — every variable, slot and the
   * step counter keep their values — without reading it back. fit passes "every loss so far was
   * finite", so a step with a non-finite loss changes nothing.
   */
  commitIf?: Tensor;
}

/** Keras-style serialized optimizer: `{ className: 'Adam', config: { learningRate, beta1, … } }`. */
export interface OptimizerConfig {
  className: string;
  config: Record<string, number | boolean>;
}

/** Updates variables from their gradients. */
export interface Optimizer {
  /** Step size; may be changed between steps (a schedule), taking effect at the next step. */
  learningRate: number;
  /**
   * Updates each variable in place (Variable.assign) from its gradient; computes every new
   * value first and assigns at the end, so an exception leaves all weights (and the optimizer's
   * state) as they were. Disposes nothing it doesn't own; the caller disposes grads.
   */
  applyGradients(vars: readonly Variable[], grads: readonly Tensor[], options?: ApplyOptions): void;
  /** Keras-style config for serialization: `{ className: 'Adam', config: { learningRate, beta1, … } }`. */
  getConfig(): OptimizerConfig;
  /**
   * Optimizer state for save/restore, as named tensors (fresh copies the caller disposes):
   * `iterations` first, then one `<variable name>/<slot>` entry per slot, e.g. `dense/kernel/m`.
   */
  getWeights(): NamedTensor[];
  /**
   * Replaces the state with copies of `weights` (as returned by `getWeights`, perhaps of another
   * optimizer instance of the same kind). Slots are matched to variables by variable name.
   */
  setWeights(weights: NamedTensor[]): void;
  /**
   * The variables holding the state (step counter and slots), so that a model moved to another
   * backend takes them along. Optional: an optimizer without it keeps its state where it is.
   */
  variables?(): Variable[];
  /** Frees the slot variables and the step counter; the next step starts them again from their initial values. */
  dispose(): void;
}

/** A slot: per-variable state with the variable's shape, starting at `initial`. */
export interface SlotSpec {
  readonly name: string;
  readonly initial: number;
}

/** The new value of one variable and of its slots (in `slots()` order). */
export interface Update {
  value: Tensor;
  slots: Tensor[];
}

const ITERATIONS = 'iterations';
const copy = (t: Tensor): Tensor => map('copy', E.input(0), [t]);
const COMMIT = E.select(E.input(0), E.input(1), E.input(2));

function checkCommitIf(op: string, commitIf: Tensor): void {
  commitIf.use(`${op}.applyGradients`);
  if (commitIf.size !== 1) {
    throw new ShapeError(`${op}.applyGradients: commitIf has shape ${fmtShape(commitIf.shape)}, expected a scalar`);
  }
}

/**
 * Base of the optimizers: subclasses name their slots and write their whole per-variable update
 * in one `update` function. Each new value (parameter or slot) is one elementwise expression,
 * so it runs as one fused kernel; keeping the update in one place lets a scheduler later fuse
 * the whole step into fewer kernels.
 */
export abstract class SlotOptimizer implements Optimizer {
  /** Keras class name, used by getConfig. */
  abstract readonly className: string;
  /** Slot variables by `<variable key>/<slot name>`, in creation order. */
  private readonly state = new Map<string, Variable>();
  /** Steps applied so far (int32 scalar on the device, so restoring it needs no readback). */
  private iterations: Variable | null = null;

  private rate: number;
  private readonly clip: ClipOptions;

  /** `op` (the factory's name) is used in the messages of invalid options. */
  constructor(
    private readonly op: string,
    learningRate: number,
    { clipNorm, clipValue }: ClipOptions,
  ) {
    this.rate = checkRange(op, 'learningRate', learningRate, 0);
    if (clipNorm !== undefined) checkRange(op, 'clipNorm', clipNorm, Number.MIN_VALUE);
    if (clipValue !== undefined) checkRange(op, 'clipValue', clipValue, Number.MIN_VALUE);
    this.clip = { clipNorm, clipValue };
  }

  /** Learning rate (step size); settable between steps, e.g. by a schedule in a callback. */
  get learningRate(): number {
    return this.rate;
  }

  set learningRate(value: number) {
    this.rate = checkRange(this.op, 'learningRate', value, 0);
  }

  /** The slots this configuration keeps per variable. */
  protected abstract slots(): readonly SlotSpec[];

  /**
   * The update of one variable: its value, clipped gradient, current slot values and the
   * scalar `perStep` returned by `stepScalar` for this step.
   */
  protected abstract update(value: Tensor, grad: Tensor, slots: readonly Tensor[], perStep: Tensor): Update;

  /**
   * A scalar tensor computed once per step from the 1-based step number (an int32 scalar on
   * the device) and handed to every `update`; Adam turns it into its bias-corrected rate.
   */
  protected stepScalar(step: Tensor): Tensor {
    return step;
  }

  /** The hyperparameters beside learningRate and clipping, for getConfig. */
  protected abstract hyperparameters(): Record<string, number | boolean>;

  applyGradients(vars: readonly Variable[], grads: readonly Tensor[], { commitIf }: ApplyOptions = {}): void {
    const keys = this.check(vars, grads);
    if (commitIf) checkCommitIf(this.className, commitIf);
    const specs = this.slots();
    engine.tidy(() => {
      // Each new value keeps its old one where commitIf is 0: a select fused into the update's kernel.
      const commit = (next: Tensor, old: Tensor): Tensor => (commitIf ? map('commitIf', COMMIT, [commitIf, next, old], [], next.dtype) : next);
      const counter = this.iterations ?? scalar(0, 'int32');
      const step = map('increment', E.add(E.input(0), E.const(1)), [counter], [], 'int32');
      const perStep = this.stepScalar(step);
      const updates = vars.map((v, i) => {
        const current = specs.map((s) => this.state.get(`${keys[i]}/${s.name}`) ?? fill(v.shape, s.initial));
        const u = this.update(v, clipGradient(grads[i], this.clip), current, perStep);
        return { value: commit(u.value, v), slots: u.slots.map((slot, k) => commit(slot, current[k])) };
      });
      // Every new value exists now: nothing below throws on shapes, so either all change or none.
      updates.forEach((u, i) => {
        vars[i].assign(u.value);
        specs.forEach((s, k) => this.setSlot(`${keys[i]}/${s.name}`, u.slots[k]));
      });
      this.setIterations(commit(step, counter));
    });
  }

  getConfig(): OptimizerConfig {
    const config: Record<string, number | boolean> = { learningRate: this.learningRate, ...this.hyperparameters() };
    if (this.clip.clipNorm !== undefined) config.clipNorm = this.clip.clipNorm;
    if (this.clip.clipValue !== undefined) config.clipValue = this.clip.clipValue;
    return { className: this.className, config };
  }

  getWeights(): NamedTensor[] {
    const out: NamedTensor[] = [{ name: ITERATIONS, tensor: this.iterations ? copy(this.iterations) : scalar(0, 'int32') }];
    for (const [name, slot] of this.state) out.push({ name, tensor: copy(slot) });
    return out;
  }

  setWeights(weights: NamedTensor[]): void {
    const slotNames = new Set(this.slots().map((s) => s.name));
    for (const { name, tensor } of weights) {
      tensor.use(`${this.className}.setWeights`);
      if (name === ITERATIONS) {
        if (tensor.size !== 1) throw new ShapeError(`${this.className}.setWeights: '${ITERATIONS}' has shape ${fmtShape(tensor.shape)}, expected a scalar`);
        continue;
      }
      const slot = name.slice(name.lastIndexOf('/') + 1);
      if (!name.includes('/') || !slotNames.has(slot)) {
        throw new ArgumentError(
          `${this.className}.setWeights: unexpected weight '${name}'; expected '${ITERATIONS}' or '<variable>/<slot>' with a slot in [${[...slotNames].join(', ')}]`,
        );
      }
      if (tensor.dtype !== 'float32') throw new DTypeError(`${this.className}.setWeights: '${name}' is ${tensor.dtype}, expected float32`);
    }
    this.dispose();
    engine.tidy(() => {
      for (const { name, tensor } of weights) {
        if (name === ITERATIONS) this.setIterations(cast(reshape(tensor, []), 'int32'));
        else this.setSlot(name, tensor);
      }
    });
  }

  variables(): Variable[] {
    return [...(this.iterations ? [this.iterations] : []), ...this.state.values()];
  }

  dispose(): void {
    for (const slot of this.state.values()) slot.dispose();
    this.state.clear();
    this.iterations?.dispose();
    this.iterations = null;
  }

  /** Validates the arguments (before anything runs) and returns each variable's slot key. */
  private check(vars: readonly Variable[], grads: readonly Tensor[]): string[] {
    const op = `${this.className}.applyGradients`;
    if (vars.length !== grads.length) throw new ArgumentError(`${op}: ${vars.length} variables but ${grads.length} gradients (expected one gradient per variable)`);
    const keys = vars.map(slotKey);
    vars.forEach((v, i) => {
      v.use(op);
      grads[i].use(op);
      const what = `variable '${keys[i]}'`;
      if (v.dtype !== 'float32' || grads[i].dtype !== 'float32') {
        throw new DTypeError(`${op}: ${what} is ${v.dtype} and its gradient ${grads[i].dtype}; expected float32 for both`);
      }
      if (!shapesEqual(v.shape, grads[i].shape)) {
        throw new ShapeError(`${op}: gradient ${i} has shape ${fmtShape(grads[i].shape)} but ${what} has ${fmtShape(v.shape)} (expected the same shape)`);
      }
      if (keys.indexOf(keys[i]) !== i) throw new ArgumentError(`${op}: two variables are named '${keys[i]}'; slots are kept by name, so names must be unique`);
      for (const s of this.slots()) {
        const slot = this.state.get(`${keys[i]}/${s.name}`);
        if (slot && !shapesEqual(slot.shape, v.shape)) {
          throw new ShapeError(`${op}: slot '${keys[i]}/${s.name}' has shape ${fmtShape(slot.shape)} but ${what} has ${fmtShape(v.shape)}`);
        }
      }
    });
    return keys;
  }

  /** Points slot `name` at `value`, creating its variable on first use. */
  private setSlot(name: string, value: Tensor): void {
    const slot = this.state.get(name);
    if (slot) slot.assign(value);
    else this.state.set(name, variable(value, { trainable: false, name }));
  }

  private setIterations(value: Tensor): void {
    if (this.iterations) this.iterations.assign(value);
    else this.iterations = variable(value, { trainable: false, name: ITERATIONS });
  }
}

/**
 * The key a variable's slots are kept under: its name, so that state saved from one model
 * restores into another with the same variable names. Unnamed variables are keyed by id,
 * which only matches the same variable object.
 */
function slotKey(v: Variable): string {
  return v.name ?? `variable_${v.id}`;
}

/** Throws an ArgumentError naming `op` unless `lo ≤ value ≤ hi` (and finite). */
export function checkRange(op: string, name: string, value: number, lo: number, hi = Infinity, openHi = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= lo && (openHi ? value < hi : value <= hi);
  if (!ok) {
    const range = hi === Infinity ? `≥ ${lo}` : `in [${lo}, ${hi}${openHi ? ')' : ']'}`;
    throw new ArgumentError(`${op}: ${name} is ${value}, expected a finite number ${range}`);
  }
  return value;
}
