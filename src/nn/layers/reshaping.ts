// Layers that move values without arithmetic: Reshape, Permute, RepeatVector, ZeroPadding2D and
// UpSampling2D (nearest). Each is a view or transform ops (reshape, transpose, broadcastTo, pad),
// so its gradient is theirs; configs carry TF.js's keys (target_shape, dims 1-based, n, padding, size).
import { ArgumentError, ShapeError } from '../../errors.js';
import { broadcastTo, pad, reshape, transpose } from '../../ops/transform.js';
import type { Tensor } from '../../tensor.js';
import { pairOption } from '../../ops/windows.js';
import { ConfigReader, positiveInt } from './config.js';
import { Layer, fmtShapeN, registerLayer, type LayerArgs, type Shape } from './layer.js';

/** Options of `layers.reshape`. */
export interface ReshapeArgs extends LayerArgs {
  /** The shape of one example (no batch dim); one dim may be -1, inferred from the size. */
  targetShape: readonly number[];
}

/** Reshapes each example to `targetShape`. */
export class Reshape extends Layer {
  readonly className = 'Reshape';
  readonly targetShape: number[];

  constructor(args: ReshapeArgs) {
    super(args, 'Reshape');
    const t = args.targetShape;
    const ok = Array.isArray(t) && t.length > 0 && t.every((d) => Number.isInteger(d) && (d > 0 || d === -1)) && t.filter((d) => d === -1).length <= 1;
    if (!ok) throw new ArgumentError(`Reshape '${this.name}': targetShape should be a list of positive integers with at most one -1, got ${JSON.stringify(t)}`);
    this.targetShape = [...t];
  }

  protected override build(inputShape: Shape): void {
    this.computeOutputShape(inputShape);
  }

  protected forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.resolve(x.shape.slice(1))]);
  }

  computeOutputShape(inputShape: Shape): Shape {
    const rest = inputShape.slice(1);
    if (rest.some((d) => d === null)) return [inputShape[0], ...this.targetShape.map((d) => (d === -1 ? null : d))];
    return [inputShape[0], ...this.resolve(rest as number[])];
  }

  /** The target shape for an example of `example` dims, with -1 resolved; throws when the sizes differ. */
  private resolve(example: readonly number[]): number[] {
    const size = example.reduce((a, b) => a * b, 1);
    const known = this.targetShape.reduce((a, d) => (d === -1 ? a : a * d), 1);
    const free = this.targetShape.includes(-1);
    if (free ? size % known !== 0 : size !== known) {
      throw new ShapeError(
        `Reshape '${this.name}': an example of shape ${fmtShapeN(example)} (${size} values) cannot be reshaped to ${fmtShapeN(this.targetShape)}`,
      );
    }
    return this.targetShape.map((d) => (d === -1 ? size / known : d));
  }

  protected layerConfig(): Record<string, unknown> {
    // TF.js writes the inferred dim as null.
    return { target_shape: this.targetShape.map((d) => (d === -1 ? null : d)) };
  }

  static fromConfig(c: ConfigReader): Reshape {
    const target = c.raw('target_shape');
    return new Reshape({ ...c.base(), targetShape: (Array.isArray(target) ? target.map((d) => d ?? -1) : target) as number[] });
  }
}

/** Options of `layers.permute`. */
export interface PermuteArgs extends LayerArgs {
  /** A permutation of 1…rank of one example: output dim i is input dim dims[i] (1-based; the batch dim stays first). */
  dims: readonly number[];
}

/** Permutes the dims of each example (a transpose that keeps the batch dim first). */
export class Permute extends Layer {
  readonly className = 'Permute';
  readonly dims: number[];

  constructor(args: PermuteArgs) {
    super(args, 'Permute');
    const d = args.dims;
    const ok = Array.isArray(d) && d.length > 0 && [...d].sort((a, b) => a - b).every((v, i) => v === i + 1);
    if (!ok) throw new ArgumentError(`Permute '${this.name}': dims should be a permutation of 1…${Array.isArray(d) ? d.length : 'n'}, got ${JSON.stringify(d)}`);
    this.dims = [...d];
  }

  protected override get inputRank(): number {
    return this.dims.length + 1;
  }

  protected forward(x: Tensor): Tensor {
    return transpose(x, { perm: [0, ...this.dims] });
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [inputShape[0], ...this.dims.map((d) => inputShape[d])];
  }

  protected layerConfig(): Record<string, unknown> {
    return { dims: [...this.dims] };
  }

  static fromConfig(c: ConfigReader): Permute {
    return new Permute({ ...c.base(), dims: c.list('dims') });
  }
}

/** Options of `layers.repeatVector`. */
export interface RepeatVectorArgs extends LayerArgs {
  /** How many times to repeat. */
  n: number;
}

/** Repeats each example's vector n times: [batch, features] → [batch, n, features]. */
export class RepeatVector extends Layer {
  readonly className = 'RepeatVector';
  readonly n: number;

  constructor(args: RepeatVectorArgs) {
    super(args, 'RepeatVector');
    this.n = positiveInt(args.n, `RepeatVector '${this.name}': n`);
  }

  protected override get inputRank(): number {
    return 2;
  }

  protected forward(x: Tensor): Tensor {
    const [batch, features] = x.shape;
    return broadcastTo(reshape(x, [batch, 1, features]), [batch, this.n, features]);
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [inputShape[0], this.n, inputShape[1]];
  }

  protected layerConfig(): Record<string, unknown> {
    return { n: this.n };
  }

  static fromConfig(c: ConfigReader): RepeatVector {
    return new RepeatVector({ ...c.base(), n: c.int('n') });
  }
}

/** Zeros before and after one dim. */
type PadPair = [number, number];

/** Options of `layers.zeroPadding2d`. */
export interface ZeroPadding2DArgs extends LayerArgs {
  /**
   * Rows and columns of zeros: one number for all four sides, [rows, cols] for symmetric
   * padding, or [[top, bottom], [left, right]]. Default 1.
   */
  padding?: number | readonly [number, number] | readonly [readonly [number, number], readonly [number, number]];
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
}

/** Pads NHWC images with zero rows (top, bottom) and columns (left, right). */
export class ZeroPadding2D extends Layer {
  readonly className = 'ZeroPadding2D';
  readonly padding: [PadPair, PadPair];

  constructor(args: ZeroPadding2DArgs = {}) {
    super(args, 'ZeroPadding2D');
    const where = `ZeroPadding2D '${this.name}'`;
    this.padding = padPairs(args.padding ?? 1, where);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast') {
      throw new ArgumentError(`${where}: dataFormat '${args.dataFormat}' is not supported (only 'channelsLast', NHWC)`);
    }
  }

  protected override get inputRank(): number {
    return 4;
  }

  protected forward(x: Tensor): Tensor {
    return pad(x, [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }

  computeOutputShape(inputShape: Shape): Shape {
    const grow = (d: number | null, [a, b]: PadPair) => (d === null ? null : d + a + b);
    return [inputShape[0], grow(inputShape[1], this.padding[0]), grow(inputShape[2], this.padding[1]), inputShape[3]];
  }

  protected layerConfig(): Record<string, unknown> {
    return { padding: this.padding.map((p) => [...p]), data_format: 'channels_last' };
  }

  static fromConfig(c: ConfigReader): ZeroPadding2D {
    const format = c.str('data_format', 'channels_last');
    if (format !== 'channels_last') throw new ArgumentError(`data_format '${format}' is not supported (only channels_last)`);
    return new ZeroPadding2D({ ...c.base(), padding: c.raw('padding') as ZeroPadding2DArgs['padding'] });
  }
}

/** [[top, bottom], [left, right]] from any of the forms Keras accepts. */
function padPairs(value: unknown, where: string): [PadPair, PadPair] {
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const pair = (v: unknown): PadPair | null => (isCount(v) ? [v, v] : Array.isArray(v) && v.length === 2 && v.every(isCount) ? [v[0], v[1]] : null);
  if (isCount(value)) return [[value, value], [value, value]];
  if (Array.isArray(value) && value.length === 2) {
    const [rows, cols] = [pair(value[0]), pair(value[1])];
    if (rows && cols) return [rows, cols];
  }
  throw new ArgumentError(`${where}: padding should be a non-negative integer, [rows, cols] or [[top, bottom], [left, right]], got ${JSON.stringify(value)}`);
}

/** Options of `layers.upSampling2d`. */
export interface UpSampling2DArgs extends LayerArgs {
  /** Repeats of each row and column (default 2). */
  size?: number | readonly [number, number];
  /** Only 'nearest'. */
  interpolation?: 'nearest';
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
}

/** Repeats each pixel of NHWC images size[0] times down and size[1] times across (nearest neighbour). */
export class UpSampling2D extends Layer {
  readonly className = 'UpSampling2D';
  readonly size: [number, number];

  constructor(args: UpSampling2DArgs = {}) {
    super(args, 'UpSampling2D');
    const where = `UpSampling2D '${this.name}'`;
    this.size = pairOption(where, 'size', args.size ?? 2);
    if (args.interpolation !== undefined && args.interpolation !== 'nearest') {
      throw new ArgumentError(`${where}: interpolation '${args.interpolation}' is not supported (only 'nearest')`);
    }
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast') {
      throw new ArgumentError(`${where}: dataFormat '${args.dataFormat}' is not supported (only 'channelsLast', NHWC)`);
    }
  }

  protected override get inputRank(): number {
    return 4;
  }

  protected forward(x: Tensor): Tensor {
    // [n,h,w,c] → [n,h,1,w,1,c] → broadcast to [n,h,sh,w,sw,c] → [n,h·sh,w·sw,c]; the gradient sums each block.
    const [n, h, w, c] = x.shape;
    const [sh, sw] = this.size;
    return reshape(broadcastTo(reshape(x, [n, h, 1, w, 1, c]), [n, h, sh, w, sw, c]), [n, h * sh, w * sw, c]);
  }

  computeOutputShape(inputShape: Shape): Shape {
    const grow = (d: number | null, s: number) => (d === null ? null : d * s);
    return [inputShape[0], grow(inputShape[1], this.size[0]), grow(inputShape[2], this.size[1]), inputShape[3]];
  }

  protected layerConfig(): Record<string, unknown> {
    return { size: [...this.size], data_format: 'channels_last', interpolation: 'nearest' };
  }

  static fromConfig(c: ConfigReader): UpSampling2D {
    const format = c.str('data_format', 'channels_last');
    if (format !== 'channels_last') throw new ArgumentError(`data_format '${format}' is not supported (only channels_last)`);
    return new UpSampling2D({ ...c.base(), size: c.ints('size', 2, [2, 2]) as [number, number], interpolation: c.str('interpolation', 'nearest') as 'nearest' });
  }
}

registerLayer('Reshape', (c) => Reshape.fromConfig(c));
registerLayer('Permute', (c) => Permute.fromConfig(c));
registerLayer('RepeatVector', (c) => RepeatVector.fromConfig(c));
registerLayer('ZeroPadding2D', (c) => ZeroPadding2D.fromConfig(c));
registerLayer('UpSampling2D', (c) => UpSampling2D.fromConfig(c));
