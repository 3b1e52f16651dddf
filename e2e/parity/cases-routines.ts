// Parity cases of the routines with long sums: matMul, fusedMatMul, conv2d, fusedConv2d, depthwiseConv2d,
// conv2dTranspose and pooling (TF.js signatures,
// NHWC, filters [kh, kw, inC, outC]). Sizes cross tile edges; 'same' padding with stride 2 on
// even sizes exercises the asymmetric pad. matMul and conv2d are held to 1e-3 of the norm.
import { f32, type ParityCase } from './case.js';

/** Tolerance for ops summing hundreds of products in fp32 in a different order per backend. */
const LONG_SUM_TOL = 1e-3;

const mm = (label: string, a: number[], b: number[], options?: object): ParityCase => ({
  op: 'matMul',
  label,
  inputs: [f32(a), f32(b)],
  run: (f, [x, y]) => (options ? f(x, y, options) : f(x, y)),
  wrt: [0, 1],
  tol: LONG_SUM_TOL,
});

const matMul: ParityCase[] = [
  mm('[7,13] x [13,5]', [7, 13], [13, 5]),
  mm('[13,7]ᵀ x [13,5] transposeA', [13, 7], [13, 5], { transposeA: true }),
  mm('[7,13] x [5,13]ᵀ transposeB', [7, 13], [5, 13], { transposeB: true }),
  mm('[13,7]ᵀ x [5,13]ᵀ both', [13, 7], [5, 13], { transposeA: true, transposeB: true }),
  mm('[1,31] x [31,1]', [1, 31], [31, 1]),
  mm('batched [3,7,13] x [3,13,5]', [3, 7, 13], [3, 13, 5]),
  mm('[65,129] x [129,67] (past tile edges)', [65, 129], [129, 67]),
];

const fmm = (label: string, a: number[], b: number[], options: object): ParityCase => ({
  op: 'fusedMatMul',
  label,
  inputs: [f32(a), f32(b), f32([b[b.length - ((options as { transposeB?: boolean }).transposeB ? 2 : 1)]])],
  run: (f, [x, y, bias]) => f(x, y, { ...options, bias }),
  wrt: [0, 1, 2],
  tol: LONG_SUM_TOL,
});

const fusedMatMul: ParityCase[] = [
  fmm('[7,13] x [13,5] + bias, relu', [7, 13], [13, 5], { activation: 'relu' }),
  fmm('batched [2,7,13] x [13,5] + bias, sigmoid', [2, 7, 13], [13, 5], { activation: 'sigmoid' }),
  fmm('[65,33] x [17,33]ᵀ + bias, tanh, transposeB', [65, 33], [17, 33], { activation: 'tanh', transposeB: true }),
];

const conv = (label: string, x: number[], filter: number[], options: object): ParityCase => ({
  op: 'conv2d',
  label,
  inputs: [f32(x), f32(filter)],
  run: (f, [input, w]) => f(input, w, options),
  wrt: [0, 1],
  tol: LONG_SUM_TOL,
});

const conv2d: ParityCase[] = [
  conv('[2,9,11,3] * [3,3,3,4] stride 1 same', [2, 9, 11, 3], [3, 3, 3, 4], { strides: 1, padding: 'same' }),
  conv('[2,9,11,3] * [3,3,3,4] strides [2,2] valid', [2, 9, 11, 3], [3, 3, 3, 4], { strides: [2, 2], padding: 'valid' }),
  conv('[2,8,10,3] * [3,3,3,4] stride 2 same (uneven pad)', [2, 8, 10, 3], [3, 3, 3, 4], { strides: 2, padding: 'same' }),
  conv('[1,9,11,2] * [3,3,2,3] dilation 2 same', [1, 9, 11, 2], [3, 3, 2, 3], { strides: 1, padding: 'same', dilations: 2 }),
  conv('[3,7,5,5] * [1,1,5,7] 1x1 valid', [3, 7, 5, 5], [1, 1, 5, 7], { strides: 1, padding: 'valid' }),
  conv('[1,12,12,1] * [5,5,1,8] valid (MNIST-like)', [1, 12, 12, 1], [5, 5, 1, 8], { strides: 1, padding: 'valid' }),
  // inC a multiple of 8: the filter gradient's kernel shares one tap's address among its 8 rows.
  conv('[2,7,6,8] * [2,2,8,3] same (inC 8)', [2, 7, 6, 8], [2, 2, 8, 3], { strides: 1, padding: 'same' }),
];

const fconv = (label: string, x: number[], filter: number[], options: object): ParityCase => ({
  op: 'fusedConv2d',
  label,
  inputs: [f32(x), f32(filter), f32([filter[3]])],
  run: (f, [input, w, bias]) => f(input, w, { ...options, bias }),
  wrt: [0, 1, 2],
  tol: LONG_SUM_TOL,
});

const fusedConv2d: ParityCase[] = [
  fconv('[2,9,11,3] * [3,3,3,4] + bias, relu, same', [2, 9, 11, 3], [3, 3, 3, 4], { padding: 'same', activation: 'relu' }),
  fconv('[2,8,10,3] * [3,3,3,5] + bias, sigmoid, stride 2 same', [2, 8, 10, 3], [3, 3, 3, 5], { strides: 2, padding: 'same', activation: 'sigmoid' }),
  fconv('[1,7,9,2] * [2,3,2,3] + bias, tanh, valid', [1, 7, 9, 2], [2, 3, 2, 3], { padding: 'valid', activation: 'tanh' }),
];

const dw = (label: string, x: number[], filter: number[], options: object): ParityCase => ({
  op: 'depthwiseConv2d',
  label,
  inputs: [f32(x), f32(filter)],
  run: (f, [input, w]) => f(input, w, options),
  wrt: [0, 1],
  tol: LONG_SUM_TOL,
});

const depthwiseConv2d: ParityCase[] = [
  dw('[2,9,11,3] * [3,3,3,1] same', [2, 9, 11, 3], [3, 3, 3, 1], { padding: 'same' }),
  dw('[2,8,10,3] * [3,2,3,2] stride 2 same (uneven pad, m 2)', [2, 8, 10, 3], [3, 2, 3, 2], { strides: 2, padding: 'same' }),
  dw('[1,9,7,4] * [2,3,4,3] strides [1,2] valid, dilations [2,1] (m 3)', [1, 9, 7, 4], [2, 3, 4, 3], { strides: [1, 2], padding: 'valid', dilations: [2, 1] }),
];

const convT = (label: string, x: number[], filter: number[], outputShape: number[], options: object): ParityCase => ({
  op: 'conv2dTranspose',
  label,
  inputs: [f32(x), f32(filter)],
  run: (f, [input, w]) => f(input, w, outputShape, options),
  wrt: [0, 1],
  tol: LONG_SUM_TOL,
});

const conv2dTranspose: ParityCase[] = [
  convT('[2,4,5,3] * [3,3,4,3] -> [2,9,11,4] stride 2 valid', [2, 4, 5, 3], [3, 3, 4, 3], [2, 9, 11, 4], { strides: 2, padding: 'valid' }),
  convT('[2,4,5,3] * [2,3,2,3] -> [2,8,5,2] strides [2,1] same', [2, 4, 5, 3], [2, 3, 2, 3], [2, 8, 5, 2], { strides: [2, 1], padding: 'same' }),
];

const POOL_X = [2, 9, 11, 3];

const pooling: ParityCase[] = ['maxPool2d', 'avgPool2d'].flatMap((op): ParityCase[] => [
  { op, label: `[${POOL_X}] 2x2 stride 2 valid`, inputs: [f32(POOL_X)], run: (f, [x]) => f(x, { poolSize: 2, strides: 2, padding: 'valid' }), wrt: [0] },
  { op, label: `[${POOL_X}] 3x3 stride 2 same`, inputs: [f32(POOL_X)], run: (f, [x]) => f(x, { poolSize: 3, strides: 2, padding: 'same' }), wrt: [0] },
  {
    op,
    label: `[${POOL_X}] [3,2] strides [1,2] valid (overlapping)`,
    inputs: [f32(POOL_X)],
    run: (f, [x]) => f(x, { poolSize: [3, 2], strides: [1, 2], padding: 'valid' }),
    wrt: [0],
  },
  // C a multiple of 4: vec4 kernels, and for non-overlapping max windows one invocation per window.
  { op, label: '[2,9,11,4] 2x2 stride 2 valid (C 4)', inputs: [f32([2, 9, 11, 4])], run: (f, [x]) => f(x, { poolSize: 2, strides: 2, padding: 'valid' }), wrt: [0] },
  { op, label: '[2,7,7,8] 3x3 same (C 8)', inputs: [f32([2, 7, 7, 8])], run: (f, [x]) => f(x, { poolSize: 3, strides: 3, padding: 'same' }), wrt: [0] },
]);

/** The routine cases. */
export const ROUTINE_CASES: ParityCase[] = [...matMul, ...fusedMatMul, ...conv2d, ...fusedConv2d, ...depthwiseConv2d, ...conv2dTranspose, ...pooling];
