// Parity cases of the elementwise ops: unary, binary (with broadcasting and a number operand)
// and comparisons. Sizes are odd so no kernel sees a whole number of workgroups; inputs stay
// inside each op's domain (log and sqrt of positives, division away from zero).
import { f32, i32, type ParityCase } from './case.js';

const SHAPE = [3, 7, 13];

/** Unary ops as [name, input range, differentiable]. */
const UNARY: [string, number, number, boolean][] = [
  ['neg', -1, 1, true],
  ['exp', -2, 2, true],
  ['log', 0.1, 3, true],
  ['sqrt', 0.1, 3, true],
  ['square', -1, 1, true],
  ['abs', -1, 1, true],
  ['relu', -1, 1, true],
  ['elu', -2, 2, true],
  ['sigmoid', -4, 4, true],
  ['tanh', -2, 2, true],
  ['sign', -1, 1, false],
  ['floor', -3, 3, false],
];

const unary: ParityCase[] = UNARY.map(([op, lo, hi, differentiable]) => ({
  op,
  label: `[${SHAPE}] in [${lo}, ${hi})`,
  inputs: [f32(SHAPE, lo, hi)],
  run: (f, [x]) => f(x),
  wrt: differentiable ? [0] : undefined,
}));

const withAttrs: ParityCase[] = [
  { op: 'leakyRelu', label: `[${SHAPE}] alpha 0.1`, inputs: [f32(SHAPE)], run: (f, [x]) => f(x, { alpha: 0.1 }), wrt: [0] },
  { op: 'elu', label: `[${SHAPE}] alpha 0.7`, inputs: [f32(SHAPE, -2, 2)], run: (f, [x]) => f(x, { alpha: 0.7 }), wrt: [0] },
  { op: 'clipByValue', label: `[${SHAPE}] to [-0.5, 0.5]`, inputs: [f32(SHAPE)], run: (f, [x]) => f(x, -0.5, 0.5), wrt: [0] },
];

/** Binary arithmetic as [name, range of a, range of b]. */
const BINARY: [string, [number, number], [number, number]][] = [
  ['add', [-1, 1], [-1, 1]],
  ['sub', [-1, 1], [-1, 1]],
  ['mul', [-1, 1], [-1, 1]],
  ['div', [-1, 1], [0.5, 2]],
  ['pow', [0.5, 2], [-2, 2]],
  ['maximum', [-1, 1], [-1, 1]],
  ['minimum', [-1, 1], [-1, 1]],
];

const binary: ParityCase[] = BINARY.flatMap(([op, [alo, ahi], [blo, bhi]]): ParityCase[] => [
  { op, label: '[7,13] and [7,13]', inputs: [f32([7, 13], alo, ahi), f32([7, 13], blo, bhi)], run: (f, [a, b]) => f(a, b), wrt: [0, 1] },
  { op, label: 'broadcast [3,1,13] and [7,1]', inputs: [f32([3, 1, 13], alo, ahi), f32([7, 1], blo, bhi)], run: (f, [a, b]) => f(a, b), wrt: [0, 1] },
  { op, label: '[31] and the number 1.5', inputs: [f32([31], alo, ahi)], run: (f, [a]) => f(a, 1.5), wrt: [0] },
]);

/** Comparisons: on floats for the strict ones, on small integers (many ties) for the others. */
const comparisons: ParityCase[] = [
  ...['greater', 'less'].map((op): ParityCase => ({
    op,
    label: 'float32 broadcast [3,1,13] and [7,1]',
    inputs: [f32([3, 1, 13]), f32([7, 1])],
    run: (f, [a, b]) => f(a, b),
  })),
  ...['greaterEqual', 'lessEqual', 'equal', 'notEqual'].map((op): ParityCase => ({
    op,
    label: 'int32 [7,13] and [7,13] in [0, 3)',
    inputs: [i32([7, 13], 3), i32([7, 13], 3)],
    run: (f, [a, b]) => f(a, b),
  })),
];

/** The elementwise cases. */
export const ELEMENTWISE_CASES: ParityCase[] = [...unary, ...withAttrs, ...binary, ...comparisons];
