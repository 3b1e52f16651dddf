// What BatchNormalization and LayerNormalization share: epsilon, the optional scale gamma and
// offset beta (their initializers, regularizers and Keras config), and the normalising formula.
import { ArgumentError } from '../../errors.js';
import { add, div, mul, sub } from '../../ops/binary.js';
import { sqrt } from '../../ops/unary.js';
import type { Tensor, Variable } from '../../tensor.js';
import { ConfigReader, initializerJson, regularizerJson, type InitializerSpec, type RegularizerLike } from './config.js';
import { Layer, type LayerArgs } from './layer.js';

/** Options of the normalisation layers. */
export interface ScaleShiftArgs extends LayerArgs {
  /** Added to the variance before the square root (default 1e-3). */
  epsilon?: number;
  /** Learn an offset beta (default true). */
  center?: boolean;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
  betaInitializer?: InitializerSpec;
  gammaInitializer?: InitializerSpec;
  betaRegularizer?: RegularizerLike | null;
  gammaRegularizer?: RegularizerLike | null;
}

/** A layer computing (x − mean)/√(var + ε)·γ + β with learned γ and β. */
export abstract class ScaleShiftNormalization extends Layer {
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  gamma: Variable | null = null;
  beta: Variable | null = null;

  constructor(
    private readonly scaleShiftArgs: ScaleShiftArgs,
    className: string,
  ) {
    super(scaleShiftArgs, className);
    this.epsilon = scaleShiftArgs.epsilon ?? 1e-3;
    if (!(this.epsilon > 0)) throw new ArgumentError(`${className} '${this.name}': epsilon should be positive, got ${this.epsilon}`);
    this.center = scaleShiftArgs.center ?? true;
    this.scale = scaleShiftArgs.scale ?? true;
  }

  /** Creates gamma (with `scale`) and beta (with `center`) of `shape`, in Keras order. */
  protected addGammaAndBeta(shape: number[]): void {
    const a = this.scaleShiftArgs;
    if (this.scale) this.gamma = this.addWeight('gamma', shape, a.gammaInitializer ?? 'ones', { regularizer: a.gammaRegularizer });
    if (this.center) this.beta = this.addWeight('beta', shape, a.betaInitializer ?? 'zeros', { regularizer: a.betaRegularizer });
  }

  /** The Keras config entries of epsilon, gamma and beta. */
  protected scaleShiftConfig(): Record<string, unknown> {
    const a = this.scaleShiftArgs;
    return {
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      beta_initializer: initializerJson(a.betaInitializer ?? 'zeros', undefined),
      gamma_initializer: initializerJson(a.gammaInitializer ?? 'ones', undefined),
      beta_regularizer: regularizerJson(a.betaRegularizer),
      gamma_regularizer: regularizerJson(a.gammaRegularizer),
    };
  }

  /** (x − mean)/√(var + ε)·γ + β; `along` reshapes γ and β to broadcast against x. */
  protected normalize(x: Tensor, m: Tensor, v: Tensor, along: (p: Tensor) => Tensor): Tensor {
    let factor = div(1, sqrt(add(v, this.epsilon)));
    if (this.gamma) factor = mul(factor, along(this.gamma));
    const y = mul(sub(x, m), factor);
    return this.beta ? add(y, along(this.beta)) : y;
  }
}

/** The options scaleShiftConfig wrote, read back from a Keras config (with the layer's base options). */
export function readScaleShiftArgs(c: ConfigReader): ScaleShiftArgs {
  return {
    ...c.base(),
    epsilon: c.num('epsilon', 1e-3),
    center: c.bool('center', true),
    scale: c.bool('scale', true),
    betaInitializer: c.initializer('beta_initializer', 'zeros'),
    gammaInitializer: c.initializer('gamma_initializer', 'ones'),
    betaRegularizer: c.regularizer('beta_regularizer'),
    gammaRegularizer: c.regularizer('gamma_regularizer'),
  };
}
