// Weight regularizers with Keras semantics: the penalty a layer adds to the loss for one
// weight tensor, l1·Σ|w| + l2·Σw², built from differentiable ops so its gradient flows.
import { ArgumentError } from '../errors.js';
import { add, mul } from '../ops/binary.js';
import { scalar } from '../ops/create.js';
import { sum } from '../ops/reduce.js';
import { abs, square } from '../ops/unary.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';

/** A penalty on a weight tensor. */
export interface Regularizer {
  /** Keras class name: 'L1', 'L2' or 'L1L2'. */
  readonly className: string;
  /** The scalar penalty for `w` (differentiable w.r.t. `w`). */
  apply(w: Tensor): Tensor;
  /** The Keras config of the class (as TF.js returns it): `{ l2: 0.01 }`, `{ l1, l2 }`. */
  getConfig(): Record<string, number>;
}

function checkFactor(op: string, name: string, value: number): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw new ArgumentError(`${op}: ${name} is ${value}, expected a finite number ≥ 0`);
  }
  return value;
}

/** l1·Σ|w| + l2·Σw², skipping a term whose factor is 0 (as Keras does). */
function penalty(w: Tensor, l1: number, l2: number): Tensor {
  return tidy(() => {
    let total: Tensor | null = null;
    if (l1 !== 0) total = mul(sum(abs(w)), l1);
    if (l2 !== 0) total = total ? add(total, mul(sum(square(w)), l2)) : mul(sum(square(w)), l2);
    return total ?? scalar(0);
  });
}

function regularizer(className: string, l1: number, l2: number, config: Record<string, number>): Regularizer {
  return { className, apply: (w) => penalty(w, l1, l2), getConfig: () => ({ ...config }) };
}

/** Penalty l1·Σ|w| (Keras default l1 = 0.01). */
export function l1({ l1 = 0.01 }: { l1?: number } = {}): Regularizer {
  checkFactor('l1', 'l1', l1);
  return regularizer('L1', l1, 0, { l1 });
}

/** Penalty l2·Σw² (Keras default l2 = 0.01). */
export function l2({ l2 = 0.01 }: { l2?: number } = {}): Regularizer {
  checkFactor('l2', 'l2', l2);
  return regularizer('L2', 0, l2, { l2 });
}

/** Penalty l1·Σ|w| + l2·Σw² (Keras defaults: both 0). */
export function l1l2({ l1 = 0, l2 = 0 }: { l1?: number; l2?: number } = {}): Regularizer {
  checkFactor('l1l2', 'l1', l1);
  checkFactor('l1l2', 'l2', l2);
  return regularizer('L1L2', l1, l2, { l1, l2 });
}

/** Keras-style serialized regularizer. */
export interface RegularizerConfig {
  className: string;
  config?: Record<string, number>;
}

const FACTORIES: Record<string, (config: Record<string, number>) => Regularizer> = { l1, l2, l1l2 };

/**
 * A regularizer from a name ('l1', 'l2', 'l1l2', 'l1_l2', any case; Keras defaults), a
 * serialized config ({ className: 'L2', config: { l2: 0.001 } }), or a regularizer (returned as is).
 */
export function getRegularizer(identifier: string | RegularizerConfig | Regularizer): Regularizer {
  if (identifier && typeof identifier === 'object' && 'apply' in identifier) return identifier;
  const name = typeof identifier === 'string' ? identifier : identifier?.className;
  const factory = typeof name === 'string' ? FACTORIES[name.toLowerCase().replace(/_/g, '')] : undefined;
  if (!factory) {
    throw new ArgumentError(`getRegularizer: unknown regularizer ${JSON.stringify(name ?? identifier)}; expected 'l1', 'l2' or 'l1l2' (any case), a { className, config } object or a regularizer`);
  }
  return factory(typeof identifier === 'string' ? {} : (identifier.config ?? {}));
}
