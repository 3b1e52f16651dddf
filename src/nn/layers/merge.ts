// Merge layers of functional models: Add, Multiply and Average (elementwise over inputs of one
// shape) and Concatenate (along an axis). They take a list of inputs and have no weights;
// their gradients come from the ops they are made of.
import { ArgumentError, ShapeError } from '../../errors.js';
import { add, mul } from '../../ops/binary.js';
import { concat } from '../../ops/transform.js';
import type { Tensor } from '../../tensor.js';
import type { ConfigReader } from './config.js';
import { Layer, fmtShapeN, registerLayer, type ApplyArgs, type LayerArgs, type Shape } from './layer.js';

/** Base of the merge layers: checks the list of inputs, then combines them. */
export abstract class Merge extends Layer {
  /** The output shape for inputs of `shapes` (at least two, batch dims null), or a ShapeError. */
  protected abstract mergedShape(shapes: readonly Shape[]): Shape;

  /** Combines the inputs (already checked). */
  protected abstract merge(inputs: readonly Tensor[]): Tensor;

  override symbolicOutputShape(shapes: readonly Shape[]): Shape {
    this.checkCount(shapes.length);
    const shape = this.mergedShape(shapes.map((s) => [null, ...s.slice(1)]));
    this.builtShape = [null, ...shapes[0].slice(1)];
    return shape;
  }

  override call(inputs: readonly Tensor[], _args: ApplyArgs = {}): Tensor {
    this.checkCount(inputs.length);
    inputs.forEach((x) => x.use(`${this.className} '${this.name}'`));
    this.mergedShape(inputs.map((x) => [...x.shape]));
    return this.merge(inputs);
  }

  protected forward(): Tensor {
    throw new ArgumentError(`${this.className} '${this.name}' merges a list of at least 2 inputs; got one tensor`);
  }

  computeOutputShape(inputShape: Shape): Shape {
    throw new ArgumentError(`${this.className} '${this.name}' merges a list of at least 2 inputs; got one shape ${fmtShapeN(inputShape)}`);
  }

  protected layerConfig(): Record<string, unknown> {
    return {};
  }

  private checkCount(n: number): void {
    if (n < 2) throw new ArgumentError(`${this.className} '${this.name}' merges a list of at least 2 inputs; got ${n}`);
  }

  /** Checks that every shape equals the first (null matches anything), and returns it. */
  protected sameShapes(shapes: readonly Shape[]): Shape {
    const first = shapes[0];
    const ok = shapes.every((s) => s.length === first.length && s.every((d, i) => d === null || first[i] === null || d === first[i]));
    if (!ok) throw new ShapeError(`${this.className} '${this.name}': inputs should all have one shape, got ${shapes.map(fmtShapeN).join(', ')}`);
    return first.map((d, i) => d ?? shapes.find((s) => s[i] !== null)?.[i] ?? null);
  }
}

/** Merges of inputs of one shape, elementwise. */
abstract class ElementwiseMerge extends Merge {
  protected mergedShape(shapes: readonly Shape[]): Shape {
    return this.sameShapes(shapes);
  }
}

const sumOf = (inputs: readonly Tensor[]): Tensor => inputs.slice(1).reduce((acc, x) => add(acc, x), inputs[0]);

/** The sum of its inputs. */
export class Add extends ElementwiseMerge {
  readonly className = 'Add';
  constructor(args: LayerArgs = {}) {
    super(args, 'Add');
  }
  protected merge(inputs: readonly Tensor[]): Tensor {
    return sumOf(inputs);
  }
}

/** The elementwise product of its inputs. */
export class Multiply extends ElementwiseMerge {
  readonly className = 'Multiply';
  constructor(args: LayerArgs = {}) {
    super(args, 'Multiply');
  }
  protected merge(inputs: readonly Tensor[]): Tensor {
    return inputs.slice(1).reduce((acc, x) => mul(acc, x), inputs[0]);
  }
}

/** The elementwise mean of its inputs. */
export class Average extends ElementwiseMerge {
  readonly className = 'Average';
  constructor(args: LayerArgs = {}) {
    super(args, 'Average');
  }
  protected merge(inputs: readonly Tensor[]): Tensor {
    return mul(sumOf(inputs), 1 / inputs.length);
  }
}

/** Options of `layers.concatenate`. */
export interface ConcatenateArgs extends LayerArgs {
  /** The axis to join along (default -1, the last; 0, the batch, is not allowed). */
  axis?: number;
}

/** Its inputs joined along one axis; the other dims must agree. */
export class Concatenate extends Merge {
  readonly className = 'Concatenate';
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    super(args, 'Concatenate');
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis) || this.axis === 0) throw new ArgumentError(`Concatenate '${this.name}': axis should be a non-zero integer (not the batch), got ${args.axis}`);
  }
  protected mergedShape(shapes: readonly Shape[]): Shape {
    const rank = shapes[0].length;
    const axis = this.axis < 0 ? rank + this.axis : this.axis;
    const fail = (): never => {
      throw new ShapeError(
        `Concatenate '${this.name}': inputs should have one rank and agree on every dim but axis ${this.axis}, got ${shapes.map(fmtShapeN).join(', ')}`,
      );
    };
    if (axis < 1 || axis >= rank) fail();
    const out = [...shapes[0]];
    for (const s of shapes.slice(1)) {
      if (s.length !== rank || s.some((d, i) => i !== axis && d !== null && out[i] !== null && d !== out[i])) fail();
      s.forEach((d, i) => (i === axis ? (out[i] = out[i] === null || d === null ? null : out[i]! + d) : (out[i] ??= d)));
    }
    return out;
  }
  protected merge(inputs: readonly Tensor[]): Tensor {
    return concat([...inputs], { axis: this.axis < 0 ? inputs[0].rank + this.axis : this.axis });
  }
  protected override layerConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
}

const base = (c: ConfigReader): LayerArgs => {
  const { name, trainable } = c.base();
  return { name, trainable };
};
registerLayer('Add', (c) => new Add(base(c)));
registerLayer('Multiply', (c) => new Multiply(base(c)));
registerLayer('Average', (c) => new Average(base(c)));
registerLayer('Concatenate', (c) => new Concatenate({ ...base(c), axis: c.optionalInt('axis') ?? -1 }));
