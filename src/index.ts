// Neurite's public API: everything a user imports comes from here.
export { Tensor, Variable, type NestedArray } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export { NeuriteError, ShapeError, DTypeError, DisposedTensorError, BackendError, ArgumentError } from './errors.js';
export { setBackend, getBackend, stats, resetStats, flush, sync, type BackendName } from './backend/registry.js';
export type { BackendStats } from './backend/backend.js';
export type { WebGpuOptions } from './backend/webgpu/device.js';
export { tidy, keep, dispose, memory } from './scope.js';
export type { MemoryInfo } from './engine.js';
export { tensor, scalar, fill, zeros, ones, zerosLike, onesLike, cast, variable, type TensorLike, type TensorValues } from './ops/create.js';
export { neg, exp, log, sqrt, square, abs, relu, leakyRelu, elu, sigmoid, tanh, sign, floor, clipByValue } from './ops/unary.js';
export { add, sub, mul, div, pow, maximum, minimum, greater, greaterEqual, less, lessEqual, equal, notEqual } from './ops/binary.js';
export { sum, mean, max, min, argMax, argMin, logSumExp, stopGradient, type ReduceOptions } from './ops/reduce.js';
export { reshape, expandDims, squeeze, transpose, broadcastTo, slice, pad, concat, gather, oneHot } from './ops/transform.js';
export { grad, grads, valueAndGrad, valueAndGrads, variableGrads, type ValueAndGrads } from './autograd.js';
export { checkGradients, type GradientCheckOptions, type GradientCheckResult, type InputGradientCheck } from './gradcheck.js';
