// Activation functions by name, as layers take them (`activation: 'relu'`), and the names
// written into model.json. Softmax is special-cased by training: with a cross-entropy loss
// the model trains on the pre-activation logits through the fused softmaxCrossEntropy.
import { ArgumentError } from '../errors.js';
import { softmax } from '../ops/nn.js';
import { add, mul } from '../ops/binary.js';
import { clipByValue, elu, leakyRelu, relu, sigmoid, tanh } from '../ops/unary.js';
import type { Tensor } from '../tensor.js';

/** Names accepted by a layer's `activation` option. */
export type ActivationName = 'linear' | 'relu' | 'softmax' | 'sigmoid' | 'tanh' | 'elu' | 'leakyRelu' | 'hardSigmoid';

const ACTIVATIONS: Record<ActivationName, (x: Tensor) => Tensor> = {
  linear: (x) => x,
  relu,
  // Softmax over the last axis, as Keras applies it.
  softmax: (x) => softmax(x),
  sigmoid,
  tanh,
  elu: (x) => elu(x),
  leakyRelu: (x) => leakyRelu(x),
  // clip(0.2·x + 0.5, 0, 1), as Keras and TF.js define it (the default gate activation of their LSTM and GRU).
  hardSigmoid: (x) => clipByValue(add(mul(x, 0.2), 0.5), 0, 1),
};

/** Other spellings found in Keras/TF.js files, mapped to ours. */
const ALIASES: Record<string, ActivationName> = {
  leaky_relu: 'leakyRelu',
  leakyrelu: 'leakyRelu',
  leakyReLU: 'leakyRelu',
  hard_sigmoid: 'hardSigmoid',
};

/** Normalises an activation name (undefined/null mean 'linear'); throws ArgumentError naming `where` on an unknown one. */
export function activationName(name: string | null | undefined, where: string): ActivationName {
  if (name === undefined || name === null) return 'linear';
  const resolved = (name in ACTIVATIONS ? name : ALIASES[name]) as ActivationName | undefined;
  if (!resolved) {
    throw new ArgumentError(`${where}: unknown activation '${name}' (expected one of ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  return resolved;
}

/** The function computing activation `name`. */
export function activationFn(name: ActivationName): (x: Tensor) => Tensor {
  return ACTIVATIONS[name];
}
