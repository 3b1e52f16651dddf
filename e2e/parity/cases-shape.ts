// Parity cases of reductions and of the ops that move data around (transpose, slice, pad,
// concat, gather, …): all axes, single axes, non-adjacent axes, and odd sizes throughout.
import { f32, i32, type ParityCase } from './case.js';

const X = [3, 7, 13];

const reductions: ParityCase[] = ['sum', 'mean', 'max', 'min', 'logSumExp'].flatMap((op): ParityCase[] => [
  { op, label: `[${X}] all axes`, inputs: [f32(X)], run: (f, [x]) => f(x), wrt: [0] },
  { op, label: `[${X}] axis 1`, inputs: [f32(X)], run: (f, [x]) => f(x, { axis: 1 }), wrt: [0] },
  { op, label: `[${X}] axes [0,2] keepDims`, inputs: [f32(X)], run: (f, [x]) => f(x, { axis: [0, 2], keepDims: true }), wrt: [0] },
  { op, label: '[5,1031] axis -1 (a long row)', inputs: [f32([5, 1031])], run: (f, [x]) => f(x, { axis: -1 }), wrt: [0] },
]);

const argReductions: ParityCase[] = ['argMax', 'argMin'].flatMap((op): ParityCase[] => [
  { op, label: `[${X}] last axis`, inputs: [f32(X)], run: (f, [x]) => f(x) },
  { op, label: `[${X}] axis 1`, inputs: [f32(X)], run: (f, [x]) => f(x, { axis: 1 }) },
]);

const transforms: ParityCase[] = [
  { op: 'stopGradient', label: `[${X}]`, inputs: [f32(X)], run: (f, [x]) => f(x), wrt: [0] },
  { op: 'reshape', label: `[${X}] to [21,13]`, inputs: [f32(X)], run: (f, [x]) => f(x, [21, 13]), wrt: [0] },
  { op: 'expandDims', label: `[${X}] axis 1`, inputs: [f32(X)], run: (f, [x]) => f(x, 1), wrt: [0] },
  { op: 'squeeze', label: '[3,1,13,1] axis [1]', inputs: [f32([3, 1, 13, 1])], run: (f, [x]) => f(x, { axis: [1] }), wrt: [0] },
  { op: 'transpose', label: `[${X}] perm [2,0,1]`, inputs: [f32(X)], run: (f, [x]) => f(x, { perm: [2, 0, 1] }), wrt: [0] },
  { op: 'transpose', label: '[7,13] default perm', inputs: [f32([7, 13])], run: (f, [x]) => f(x), wrt: [0] },
  { op: 'broadcastTo', label: '[7,1] to [3,7,5]', inputs: [f32([7, 1])], run: (f, [x]) => f(x, [3, 7, 5]), wrt: [0] },
  {
    op: 'slice',
    label: `[${X}] begin [1,2,3] size [2,4,9]`,
    inputs: [f32(X)],
    run: (f, [x]) => f(x, { begin: [1, 2, 3], size: [2, 4, 9] }),
    wrt: [0],
  },
  {
    op: 'pad',
    label: `[${X}] by [[1,2],[0,3],[2,0]] with 0.5`,
    inputs: [f32(X)],
    run: (f, [x]) => f(x, [[1, 2], [0, 3], [2, 0]], 0.5),
    wrt: [0],
  },
  {
    op: 'concat',
    label: '[3,2,13] and [3,5,13] axis 1',
    inputs: [f32([3, 2, 13]), f32([3, 5, 13])],
    run: (f, [a, b]) => f([a, b], { axis: 1 }),
    wrt: [0, 1],
  },
  { op: 'gather', label: '[7,13] rows [5] (repeats)', inputs: [f32([7, 13]), i32([5], 7)], run: (f, [x, i]) => f(x, i), wrt: [0] },
  {
    op: 'gather',
    label: '[3,7,13] axis 2 indices [2,3]',
    inputs: [f32(X), i32([2, 3], 13)],
    run: (f, [x, i]) => f(x, i, { axis: 2 }),
    wrt: [0],
  },
  { op: 'oneHot', label: '[9] depth 5', inputs: [i32([9], 5)], run: (f, [i]) => f(i, 5) },
  { op: 'cast', label: `[${X}] float32 to int32`, inputs: [f32(X, -5, 5)], run: (f, [x]) => f(x, 'int32') },
  { op: 'cast', label: `[${X}] int32 to float32`, inputs: [i32(X, 100)], run: (f, [x]) => f(x, 'float32') },
];

/** The reduction and data-movement cases. */
export const SHAPE_CASES: ParityCase[] = [...reductions, ...argReductions, ...transforms];
