// The optimizers' public surface: the four factories and the lookups that turn a name
// ('adam') or a serialized config ({ className: 'Adam', config }) into an optimizer.
import { ArgumentError } from '../errors.js';
import { adagrad } from './adagrad.js';
import { adam } from './adam.js';
import type { Optimizer, OptimizerConfig } from './optimizer.js';
import { rmsprop } from './rmsprop.js';
import { sgd } from './sgd.js';

export { sgd, type SgdOptions } from './sgd.js';
export { adam, type AdamOptions } from './adam.js';
export { rmsprop, type RmspropOptions } from './rmsprop.js';
export { adagrad, type AdagradOptions } from './adagrad.js';
export type { ClipOptions } from './clipping.js';
export type { Optimizer, OptimizerConfig, NamedTensor, ApplyOptions } from './optimizer.js';

type Factory = (options: Record<string, number | boolean>) => Optimizer;

/** Factories by lower-cased Keras class name. */
const FACTORIES: Record<string, Factory> = { sgd, adam, rmsprop, adagrad };

function factoryFor(op: string, name: string): Factory {
  const factory = FACTORIES[name.toLowerCase()];
  if (!factory) {
    throw new ArgumentError(`${op}: unknown optimizer '${name}'; expected one of ${Object.keys(FACTORIES).map((n) => `'${n}'`).join(', ')} (any case)`);
  }
  return factory;
}

/**
 * An optimizer from its name ('sgd' | 'adam' | 'rmsprop' | 'adagrad', any case) with the
 * default settings, or the optimizer itself when one is passed.
 */
export function getOptimizer(nameOrOptimizer: string | Optimizer): Optimizer {
  if (typeof nameOrOptimizer !== 'string') {
    if (nameOrOptimizer && typeof nameOrOptimizer.applyGradients === 'function') return nameOrOptimizer;
    throw new ArgumentError(`getOptimizer: expected an optimizer name or an Optimizer, got ${typeof nameOrOptimizer}`);
  }
  return factoryFor('getOptimizer', nameOrOptimizer)({});
}

/** Recreates an optimizer from `getConfig()`'s output (its state is restored separately with setWeights). */
export function optimizerFromConfig({ className, config }: OptimizerConfig): Optimizer {
  return factoryFor('optimizerFromConfig', className)(config ?? {});
}
