// The neural-network ops in one import for layers and training code: softmax and logSoftmax,
// the losses, and the device-side random ops (dropout, randomUniform). Each lives in its own file.
export { softmax, logSoftmax, softmaxOp, logSoftmaxOp } from './softmax.js';
export {
  meanSquaredError,
  binaryCrossentropy,
  softmaxCrossEntropy,
  softmaxCrossEntropyOp,
  squaredDifferenceOp,
  binaryCrossentropyOp,
  sigmoidCrossEntropyOp,
  EPSILON,
} from './losses.js';
export { dropout, randomUniform, dropoutOp, randomUniformOp, type DropoutOptions, type RandomUniformOptions } from './random.js';
