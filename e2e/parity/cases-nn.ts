// Parity cases of the network ops: softmax, logSoftmax, the losses (TF.js argument order) and
// the random ops. Those draw random numbers, so instead of comparing backends each is checked on
// its own: dropout outputs 0 or x/(1−rate) with the gradient on the same mask and about `rate`
// dropped; randomUniform stays in range, reaches both ends and has the right mean.
import { f32, i32, type ParityCase, type PropertyCheck } from './case.js';

const softmaxes: ParityCase[] = ['softmax', 'logSoftmax'].flatMap((op): ParityCase[] => [
  { op, label: '[7,13] in [-3, 3)', inputs: [f32([7, 13], -3, 3)], run: (f, [x]) => f(x), wrt: [0] },
  { op, label: '[3,5,11]', inputs: [f32([3, 5, 11], -3, 3)], run: (f, [x]) => f(x), wrt: [0] },
  { op, label: '[2,1031] (a long row)', inputs: [f32([2, 1031], -3, 3)], run: (f, [x]) => f(x), wrt: [0] },
]);

const losses: ParityCase[] = [
  {
    op: 'softmaxCrossEntropy',
    label: 'logits [7,13], sparse labels [7]',
    inputs: [f32([7, 13], -3, 3), i32([7], 13)],
    run: (f, [logits, labels]) => f(logits, labels, { sparse: true }),
    wrt: [0],
  },
  {
    op: 'softmaxCrossEntropy',
    label: 'logits [7,13], dense labels [7,13] (rows sum to 1)',
    inputs: [f32([7, 13], -3, 3), f32([7, 13], 0.05, 1)],
    run: (f, [logits, weights], nt) => f(logits, nt.div(weights, nt.sum(weights, { axis: -1, keepDims: true })), { sparse: false }),
    wrt: [0],
  },
  {
    op: 'meanSquaredError',
    label: '[7,13] and [7,13]',
    inputs: [f32([7, 13]), f32([7, 13])],
    run: (f, [a, b]) => f(a, b),
    wrt: [0, 1],
  },
  {
    // Both arguments lie in (0, 1), so the case is valid whichever one the op takes as labels.
    op: 'binaryCrossentropy',
    label: '[7,13] and [7,13] in (0.05, 0.95)',
    inputs: [f32([7, 13], 0.05, 0.95), f32([7, 13], 0.05, 0.95)],
    run: (f, [a, b]) => f(a, b),
    wrt: [0, 1],
  },
];

const RATE = 0.5;

/** Worst deviation from a valid dropout of `inputs[0]` at RATE (1 when the kept share is implausible). */
const dropoutIsValid: PropertyCheck = ({ inputs: [x], output, grads: [g], dy }) => {
  const scale = 1 / (1 - RATE);
  let kept = 0;
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const dropped = output[i] === 0;
    if (!dropped) kept++;
    const want = dropped ? 0 : scale * x[i];
    worst = Math.max(worst, Math.abs(output[i] - want) / Math.abs(scale * x[i]));
    if (g && dy) {
      const wantGrad = dropped ? 0 : scale * dy[i];
      worst = Math.max(worst, Math.abs(g[i] - wantGrad) / Math.max(Math.abs(scale * dy[i]), 1e-3));
    }
  }
  // 1023 draws at p = 0.5: the kept share lies in [0.4, 0.6] but for a 6-sigma accident.
  const share = kept / x.length;
  return share < 0.4 || share > 0.6 || Number.isNaN(worst) ? Math.max(1, worst) : worst;
};

const dropout: ParityCase[] = [
  {
    op: 'dropout',
    label: `[33,31] rate ${RATE} (each backend checked on its own)`,
    // Inputs away from 0 so a dropped element (0) is never mistaken for a kept one.
    inputs: [f32([33, 31], 0.5, 1.5)],
    run: (f, [x]) => f(x, { rate: RATE }),
    wrt: [0],
    property: dropoutIsValid,
  },
];

const MINVAL = -2;
const MAXVAL = 3;

/** 1 when the samples leave [MINVAL, MAXVAL), miss either end of it, or have an implausible mean; else 0. */
const uniformIsValid: PropertyCheck = ({ output }) => {
  const values = Array.from(output);
  const inRange = values.every((v) => v >= MINVAL && v < MAXVAL);
  const span = MAXVAL - MINVAL;
  // Both tenths of the range are hit, and the mean is within 6 sigma (σ = span/√12/√n), for n = 1023.
  const coversEnds = values.some((v) => v < MINVAL + span / 10) && values.some((v) => v > MAXVAL - span / 10);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const meanOk = Math.abs(mean - (MINVAL + MAXVAL) / 2) < (6 * span) / Math.sqrt(12 * values.length);
  return inRange && coversEnds && meanOk ? 0 : 1;
};

const random: ParityCase[] = [
  {
    op: 'randomUniform',
    label: `[33,31] in [${MINVAL}, ${MAXVAL}) (each backend checked on its own)`,
    inputs: [],
    run: (f) => f([33, 31], { minval: MINVAL, maxval: MAXVAL }),
    property: uniformIsValid,
  },
];

/** The network-op cases. */
export const NN_CASES: ParityCase[] = [...softmaxes, ...losses, ...dropout, ...random];
