// Shape fuzzing of ops that take axes, permutations, boxes or paddings: reductions, softmax and
// the losses, transpose, slice, pad, concat, gather, broadcastTo and reshape. Random (and
// sometimes out-of-range) arguments; forward and backward against float64 references.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as nt from '../src/index.js';
import { covering } from './helpers/coverage.js';
import { checkCase, fuzz, input, seedArb, type FuzzCase } from './helpers/fuzz.js';
import { FUZZ_TARGETS, runsOn, shapesFor, tolerance, useFuzzTarget } from './helpers/fuzz-targets.js';
import { coordsOf, indexOf, sizeOf } from './helpers/numeric.js';
import { broadcastShape, broadcastSource, reduceAxes, remap, REDUCERS, softmaxCrossEntropyRef, softmaxRef } from './helpers/reference.js';
import { rng } from './helpers/random.js';

/** An axis in [-rank, rank) is valid; the generators also draw one step beyond on each side. */
const axisOk = (a: number, rank: number) => Number.isInteger(a) && a >= -rank && a < rank;
const norm = (a: number, rank: number) => (a < 0 ? a + rank : a);
const axisArb = fc.integer({ min: -5, max: 4 });

const REDUCTIONS: Record<string, (x: nt.Tensor, o: { axis?: number | number[]; keepDims?: boolean }) => nt.Tensor> = {
  sum: nt.sum,
  mean: nt.mean,
  max: nt.max,
  min: nt.min,
  logSumExp: nt.logSumExp,
};

function reductionCase(kind: string, shape: number[], axis: number[] | number | undefined, keepDims: boolean, seed: number): FuzzCase {
  const rank = shape.length;
  const list = axis === undefined ? shape.map((_, i) => i) : Array.isArray(axis) ? axis : [axis];
  const ok = list.every((a) => axisOk(a, rank));
  const axes = [...new Set(list.map((a) => norm(a, rank)))].sort((p, q) => p - q);
  const outShape = keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
  return {
    op: kind,
    seed,
    inputs: [input(rng(seed), shape)],
    build: ([x]) => REDUCTIONS[kind](x, { axis, keepDims }),
    invalid: ok ? null : [shape],
    outShape,
    reference: ([x]) => reduceAxes(x, shape, axes, REDUCERS[kind]),
    differentiable: [0],
  };
}

function argCase(kind: 'argMax' | 'argMin', shape: number[], axis: number, seed: number): FuzzCase {
  const rank = shape.length;
  const ax = norm(axis, rank);
  return {
    op: kind,
    seed,
    inputs: [input(rng(seed), shape)],
    build: ([x]) => (kind === 'argMax' ? nt.argMax : nt.argMin)(x, { axis }),
    invalid: axisOk(axis, rank) ? null : [shape],
    outShape: shape.filter((_, i) => i !== ax),
    reference: ([x]) => reduceAxes(x, shape, [ax], REDUCERS[kind]),
    exact: true,
  };
}

function softmaxCase(log: boolean, shape: number[], axis: number, seed: number): FuzzCase {
  const ok = axisOk(axis, shape.length);
  return {
    op: log ? 'logSoftmax' : 'softmax',
    seed,
    inputs: [input(rng(seed), shape, -4, 4)],
    build: ([x]) => (log ? nt.logSoftmax : nt.softmax)(x, { axis }),
    invalid: ok ? null : [shape],
    outShape: shape,
    reference: ([x]) => softmaxRef(x, shape, norm(axis, shape.length), log),
    differentiable: [0],
  };
}

/** Probabilities per row of the last dim (positive, summing to one). */
function rowsOfProbabilities(values: Float64Array, classes: number): Float64Array {
  const out = values.map((v) => Math.abs(v) + 0.1);
  for (let r = 0; r < out.length / classes; r++) {
    const row = out.subarray(r * classes, (r + 1) * classes);
    const s = row.reduce((a, b) => a + b, 0);
    row.forEach((v, j) => (row[j] = Math.fround(v / s)));
  }
  return out;
}

function crossEntropyCase(shape: number[], sparse: boolean, labelShape: number[], seed: number): FuzzCase {
  const r = rng(seed);
  const classes = shape[shape.length - 1];
  const expectedLabels = sparse ? shape.slice(0, -1) : shape;
  const ok = labelShape.length === expectedLabels.length && labelShape.every((d, i) => d === expectedLabels[i]);
  const labels = sparse
    ? { values: Float64Array.from({ length: sizeOf(labelShape) }, () => Math.floor(r() * classes)), shape: labelShape, dtype: 'int32' as const }
    : { ...input(r, labelShape), values: rowsOfProbabilities(input(r, labelShape).values, labelShape[labelShape.length - 1] ?? 1) };
  return {
    op: 'softmaxCrossEntropy',
    seed,
    inputs: [input(r, shape, -3, 3), labels],
    build: ([x, y]) => nt.softmaxCrossEntropy(x, y, { sparse }),
    invalid: ok ? null : [shape, labelShape],
    outShape: [],
    reference: ([x, y]) => Float64Array.of(softmaxCrossEntropyRef(x, shape, y, sparse)),
    differentiable: sparse ? [0] : [0, 1],
  };
}

/** Same-shape losses: meanSquaredError and binaryCrossentropy (probabilities or logits). */
const PAIR_LOSSES: Record<string, { f: (z: nt.Tensor, p: nt.Tensor) => nt.Tensor; op: string; ref: (z: number, p: number) => number; p: [number, number] }> = {
  meanSquaredError: { f: nt.meanSquaredError, op: 'meanSquaredError', ref: (z, p) => (p - z) ** 2, p: [-2, 2] },
  binaryCrossentropy: { f: nt.binaryCrossentropy, op: 'binaryCrossentropy', ref: (z, p) => -(z * Math.log(p) + (1 - z) * Math.log(1 - p)), p: [0.05, 0.95] },
  binaryCrossentropyFromLogits: {
    f: (z, x) => nt.binaryCrossentropy(z, x, { fromLogits: true }),
    op: 'binaryCrossentropy',
    ref: (z, x) => Math.max(x, 0) - x * z + Math.log1p(Math.exp(-Math.abs(x))),
    p: [-3, 3],
  },
};

function pairLossCase(name: string, shape: number[], predShape: number[], seed: number): FuzzCase {
  const spec = PAIR_LOSSES[name];
  const r = rng(seed);
  const ok = shape.length === predShape.length && shape.every((d, i) => d === predShape[i]);
  return {
    op: spec.op,
    seed,
    inputs: [input(r, shape, 0, 1), input(r, predShape, ...spec.p)],
    build: ([z, p]) => spec.f(z, p),
    invalid: ok ? null : [shape, predShape],
    outShape: [],
    reference: ([z, p]) => Float64Array.of(REDUCERS.mean(Array.from(p, (v, i) => spec.ref(z[i], v)))),
    differentiable: [0, 1],
  };
}

describe.each(FUZZ_TARGETS)('shape fuzzing of axes, boxes and losses on $name', (target) => {
  useFuzzTarget(target);
  const tol = tolerance(target);

  it('reductions over random axes (one, several, all, out of range), keepDims or not', async () => {
    const arb = fc.record({
      kind: fc.constantFrom(...Object.keys(REDUCTIONS)),
      shape: shapesFor(target, 0, 4, 5),
      axis: fc.oneof(fc.constant(undefined), axisArb, fc.array(axisArb, { maxLength: 3 })),
      keepDims: fc.boolean(),
      seed: seedArb,
    });
    const examples = Object.keys(REDUCTIONS).map((kind) => ({ kind, shape: [3, 2, 4], axis: [0, 2], keepDims: false, seed: 1 }));
    await covering({ forward: ['reduce'], gradient: ['reduce'] }, () =>
      fuzz(`reduce/${target.name}`, arb, (v) => checkCase(reductionCase(v.kind, v.shape, v.axis, v.keepDims, v.seed), tol), runsOn(target, 50), examples),
    );
  });

  it('argMax and argMin along a random axis', async () => {
    const arb = fc.record({ kind: fc.constantFrom('argMax' as const, 'argMin' as const), shape: shapesFor(target, 1, 4, 5), axis: axisArb, seed: seedArb });
    await fuzz(`arg/${target.name}`, arb, (v) => checkCase(argCase(v.kind, v.shape, v.axis, v.seed), tol), runsOn(target, 30));
  });

  it('softmax and logSoftmax along a random axis', async () => {
    const arb = fc.record({ log: fc.boolean(), shape: shapesFor(target, 1, 4, 5), axis: axisArb, seed: seedArb });
    const examples = [true, false].map((log) => ({ log, shape: [3, 4], axis: 0, seed: 1 }));
    await covering({ forward: ['softmax', 'logSoftmax', 'softmaxBackprop', 'logSoftmaxBackprop'], gradient: ['softmax', 'logSoftmax'] }, () =>
      fuzz(`softmax/${target.name}`, arb, (v) => checkCase(softmaxCase(v.log, v.shape, v.axis, v.seed), tol), runsOn(target, 30), examples),
    );
  });

  it('softmaxCrossEntropy, dense and sparse, with matching or mismatched labels', async () => {
    const arb = fc
      .record({ shape: shapesFor(target, 1, 3, 5), sparse: fc.boolean(), mismatch: fc.option(fc.nat(3), { freq: 4 }), seed: seedArb })
      .map(({ shape, sparse, mismatch, seed }) => {
        const labelShape = sparse ? shape.slice(0, -1) : shape.slice();
        if (mismatch !== null) {
          if (labelShape.length === 0 || mismatch === 3) labelShape.push(2);
          else labelShape[mismatch % labelShape.length] += 1;
        }
        return { shape, sparse, labelShape, seed };
      });
    const examples = [true, false].map((sparse) => ({ shape: [3, 4], sparse, labelShape: sparse ? [3] : [3, 4], seed: 1 }));
    await covering({ forward: ['softmaxCrossEntropy', 'softmaxCrossEntropyBackprop'], gradient: ['softmaxCrossEntropy'] }, () =>
      fuzz(`crossEntropy/${target.name}`, arb, (v) => checkCase(crossEntropyCase(v.shape, v.sparse, v.labelShape, v.seed), tol), runsOn(target, 30), examples),
    );
  });

  it('meanSquaredError and binaryCrossentropy with matching or mismatched shapes', async () => {
    const arb = fc.record({ name: fc.constantFrom(...Object.keys(PAIR_LOSSES)), shape: shapesFor(target, 1, 3, 5), other: fc.option(shapesFor(target, 1, 3, 5), { freq: 4 }), seed: seedArb });
    const examples = Object.keys(PAIR_LOSSES).map((name) => ({ name, shape: [3, 2], other: null, seed: 1 }));
    await covering({ forward: ['squaredDifference', 'binaryCrossentropy', 'sigmoidCrossEntropy'], gradient: ['squaredDifference', 'binaryCrossentropy', 'sigmoidCrossEntropy'] }, () =>
      fuzz(`pairLoss/${target.name}`, arb, (v) => checkCase(pairLossCase(v.name, v.shape, v.other ?? v.shape, v.seed), tol), runsOn(target, 24), examples),
    );
  });

  it('transpose by random permutations (and non-permutations)', async () => {
    const arb = fc
      .record({ shape: shapesFor(target, 1, 5, 4), keys: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 5 }), broken: fc.option(fc.nat(4), { freq: 5 }), seed: seedArb })
      .map(({ shape, keys, broken, seed }) => {
        const perm = shape.map((_, i) => i).sort((p, q) => keys[p] - keys[q]);
        if (broken !== null) perm[broken % perm.length] = (perm[broken % perm.length] + 1) % (perm.length + 1);
        return { shape, perm, seed };
      });
    await covering({ forward: ['transpose'], gradient: ['transpose'] }, () => fuzz(
      `transpose/${target.name}`,
      arb,
      ({ shape, perm, seed }) => {
        const ok = [...perm].sort((p, q) => p - q).every((p, i) => p === i);
        const outShape = perm.map((p) => shape[p]);
        return checkCase(
          {
            op: 'transpose',
            seed,
            inputs: [input(rng(seed), shape)],
            build: ([x]) => nt.transpose(x, { perm }),
            invalid: ok ? null : [shape],
            outShape,
            reference: ([x]) => remap(x, shape, outShape, (c) => shape.map((_, d) => c[perm.indexOf(d)])),
            differentiable: [0],
          },
          tol,
        );
      },
      runsOn(target, 30),
      [{ shape: [2, 3, 4], perm: [2, 0, 1], seed: 1 }],
    ));
  });

  it('slice boxes inside and outside the tensor', async () => {
    const arb = fc.record({
      shape: shapesFor(target, 1, 4, 5),
      begin: fc.array(fc.integer({ min: -1, max: 5 }), { minLength: 4, maxLength: 4 }),
      size: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 4, maxLength: 4 }),
      seed: seedArb,
    });
    await covering({ forward: ['slice'], gradient: ['slice'] }, () => fuzz(
      `slice/${target.name}`,
      arb,
      ({ shape, begin: b, size: s, seed }) => {
        const begin = b.slice(0, shape.length);
        const size = s.slice(0, shape.length);
        const ok = begin.every((v, i) => v >= 0 && v + size[i] <= shape[i]);
        return checkCase(
          {
            op: 'slice',
            seed,
            inputs: [input(rng(seed), shape)],
            build: ([x]) => nt.slice(x, { begin, size }),
            invalid: ok ? null : [shape],
            outShape: size,
            reference: ([x]) => remap(x, shape, size, (c) => c.map((v, i) => v + begin[i])),
            differentiable: [0],
          },
          tol,
        );
      },
      runsOn(target, 30),
      [{ shape: [4, 5], begin: [1, 2, 0, 0], size: [2, 3, 0, 0], seed: 1 }],
    ));
  });

  it('pad with random (sometimes negative) paddings and values', async () => {
    const arb = fc.record({
      shape: shapesFor(target, 0, 4, 4),
      paddings: fc.array(fc.tuple(fc.integer({ min: -1, max: 3 }), fc.integer({ min: 0, max: 3 })), { minLength: 4, maxLength: 4 }),
      value: fc.constantFrom(0, -1.5, 2),
      seed: seedArb,
    });
    await covering({ forward: ['pad'], gradient: ['pad'] }, () => fuzz(
      `pad/${target.name}`,
      arb,
      ({ shape, paddings: p, value, seed }) => {
        const paddings = p.slice(0, shape.length);
        const ok = paddings.every(([b]) => b >= 0);
        const outShape = shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
        return checkCase(
          {
            op: 'pad',
            seed,
            inputs: [input(rng(seed), shape)],
            build: ([x]) => nt.pad(x, paddings, value),
            invalid: ok ? null : [shape],
            outShape,
            reference: ([x]) =>
              remap(x, shape, outShape, (c) => {
                const src = c.map((v, i) => v - paddings[i][0]);
                return src.every((v, i) => v >= 0 && v < shape[i]) ? src : null;
              }, value),
            differentiable: [0],
          },
          tol,
        );
      },
      runsOn(target, 30),
      [{ shape: [2, 3], paddings: [[1, 0], [0, 2], [0, 0], [0, 0]] as [number, number][], value: 0, seed: 1 }],
    ));
  });

  it('concat of 1–3 tensors along a random axis, with matching or mismatched dims', async () => {
    const arb = fc.record({
      shape: shapesFor(target, 1, 4, 4),
      axis: axisArb,
      sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
      mismatch: fc.option(fc.nat(3), { freq: 5 }),
      seed: seedArb,
    });
    await fuzz(
      `concat/${target.name}`,
      arb,
      ({ shape, axis, sizes, mismatch, seed }) => {
        const rank = shape.length;
        const ax = axisOk(axis, rank) ? norm(axis, rank) : 0;
        const shapes = sizes.map((s) => shape.map((d, i) => (i === ax ? s : d)));
        if (mismatch !== null && shapes.length > 1) shapes[1][(ax + 1 + (mismatch % rank)) % rank] += rank > 1 ? 1 : 0;
        const ok = axisOk(axis, rank) && shapes.every((s) => s.every((d, i) => i === ax || d === shapes[0][i]));
        const offsets = shapes.map((_, k) => shapes.slice(0, k).reduce((a, s) => a + s[ax], 0));
        const outShape = shape.map((d, i) => (i === ax ? offsets[offsets.length - 1] + shapes[shapes.length - 1][ax] : d));
        const r = rng(seed);
        return checkCase(
          {
            op: 'concat',
            seed,
            inputs: shapes.map((s) => input(r, s)),
            build: (ts) => nt.concat(ts, { axis }),
            invalid: ok ? null : axisOk(axis, rank) ? shapes : [shapes[0]],
            outShape,
            reference: (xs) => {
              const out = new Float64Array(sizeOf(outShape));
              xs.forEach((x, k) => {
                const placed = remap(x, shapes[k], outShape, (c) => (c[ax] >= offsets[k] && c[ax] < offsets[k] + shapes[k][ax] ? c.map((v, i) => (i === ax ? v - offsets[k] : v)) : null), 0);
                placed.forEach((v, i) => (out[i] += v));
              });
              return out;
            },
            differentiable: shapes.map((_, i) => i),
          },
          tol,
        );
      },
      runsOn(target, 30),
    );
  });

  it('gather along a random axis with random (some out-of-range) indices', async () => {
    const arb = fc.record({ shape: shapesFor(target, 1, 3, 4), axis: axisArb, indexShape: shapesFor(target, 0, 2, 4), seed: seedArb });
    await covering({ forward: ['gather', 'gatherBackprop'], gradient: ['gather'] }, () => fuzz(
      `gather/${target.name}`,
      arb,
      ({ shape, axis, indexShape, seed }) => {
        const rank = shape.length;
        const ax = norm(axis, rank);
        const r = rng(seed);
        // Out-of-range indices read 0 (documented): about one in six.
        const indices = Float64Array.from({ length: sizeOf(indexShape) }, () => Math.floor(r() * ((shape[ax] ?? 1) + 1.2)) - (r() < 0.1 ? 1 : 0));
        const outShape = [...shape.slice(0, ax), ...indexShape, ...shape.slice(ax + 1)];
        return checkCase(
          {
            op: 'gather',
            seed,
            inputs: [input(r, shape), { values: indices, shape: indexShape, dtype: 'int32' }],
            build: ([x, i]) => nt.gather(x, i, { axis }),
            invalid: axisOk(axis, rank) ? null : [shape],
            outShape,
            reference: ([x, idx]) =>
              remap(x, shape, outShape, (c) => {
                const k = idx[indexOf(c.slice(ax, ax + indexShape.length), indexShape)];
                return k >= 0 && k < shape[ax] ? [...c.slice(0, ax), k, ...c.slice(ax + indexShape.length)] : null;
              }),
            differentiable: [0],
          },
          tol,
        );
      },
      runsOn(target, 30),
      [{ shape: [4, 3], axis: 0, indexShape: [5], seed: 1 }],
    ));
  });

  it('oneHot of random (some out-of-range) indices and depths; expandDims and squeeze at random axes; cast to int32', async () => {
    const arb = fc.record({ which: fc.constantFrom('oneHot', 'expandDims', 'squeeze', 'cast'), shape: shapesFor(target, 0, 3, 4), axis: axisArb, depth: fc.integer({ min: -1, max: 6 }), seed: seedArb });
    await fuzz(
      `reshaping/${target.name}`,
      arb,
      ({ which, shape, axis, depth, seed }) => {
        const r = rng(seed);
        const rank = shape.length;
        if (which === 'oneHot') {
          const indices = Float64Array.from({ length: sizeOf(shape) }, () => Math.floor(r() * (Math.max(depth, 1) + 2)) - 1);
          return checkCase(
            {
              op: 'oneHot',
              seed,
              inputs: [{ values: indices, shape, dtype: 'int32' }],
              build: ([i]) => nt.oneHot(i, depth),
              invalid: depth >= 1 ? null : [],
              outShape: [...shape, depth],
              reference: ([i]) => Float64Array.from({ length: sizeOf(shape) * depth }, (_, k) => +(i[Math.floor(k / depth)] === k % depth)),
            },
            tol,
          );
        }
        if (which === 'cast') {
          // Values with fractions of both signs: cast truncates toward zero.
          return checkCase(
            { op: 'cast', seed, inputs: [input(r, shape, -9, 9)], build: ([x]) => nt.cast(x, 'int32'), invalid: null, outShape: shape, reference: ([x]) => x.map(Math.trunc), exact: true },
            tol,
          );
        }
        const expand = which === 'expandDims';
        const ok = expand ? axisOk(axis, rank + 1) : axisOk(axis, rank) && shape[norm(axis, rank)] === 1;
        const ax = norm(axis, expand ? rank + 1 : rank);
        const outShape = expand ? [...shape.slice(0, ax), 1, ...shape.slice(ax)] : shape.filter((_, i) => i !== ax);
        return checkCase(
          {
            op: which,
            seed,
            inputs: [input(r, shape)],
            build: ([x]) => (expand ? nt.expandDims(x, axis) : nt.squeeze(x, { axis: [axis] })),
            invalid: ok ? null : [shape],
            outShape,
            reference: ([x]) => x,
            differentiable: [0],
          },
          tol,
        );
      },
      runsOn(target, 40),
    );
  });

  it('broadcastTo random targets, and reshape to random shapes', async () => {
    const arb = fc.record({ shape: shapesFor(target, 0, 3, 4), target: shapesFor(target, 0, 4, 4), reshape: fc.boolean(), minusOne: fc.boolean(), seed: seedArb });
    await covering({ forward: ['broadcastTo'], gradient: ['broadcastTo'] }, () => fuzz(
      `broadcastTo/${target.name}`,
      arb,
      ({ shape, target, reshape, minusOne, seed }) => {
        if (reshape) {
          const ok = sizeOf(shape) === sizeOf(target);
          const asked = minusOne && target.length > 0 ? [-1, ...target.slice(1)] : target;
          const inferable = asked[0] !== -1 || (sizeOf(target.slice(1)) > 0 && sizeOf(shape) % sizeOf(target.slice(1)) === 0);
          const outShape = asked[0] === -1 && inferable ? [sizeOf(shape) / sizeOf(target.slice(1)), ...target.slice(1)] : target;
          return checkCase(
            {
              op: 'reshape',
              seed,
              inputs: [input(rng(seed), shape)],
              build: ([x]) => nt.reshape(x, asked),
              invalid: (asked[0] === -1 ? inferable : ok) ? null : [shape, asked],
              outShape,
              reference: ([x]) => x,
              differentiable: [0],
            },
            tol,
          );
        }
        const out = broadcastShape(shape, target);
        const ok = out !== null && out.length === target.length && out.every((d, i) => d === target[i]);
        return checkCase(
          {
            op: 'broadcastTo',
            seed,
            inputs: [input(rng(seed), shape)],
            build: ([x]) => nt.broadcastTo(x, target),
            invalid: ok ? null : [shape, target],
            outShape: target,
            reference: ([x]) => remap(x, shape, target, (c) => coordsOf(broadcastSource(c, shape), shape)),
            differentiable: [0],
          },
          tol,
        );
      },
      runsOn(target, 30),
      [{ shape: [3, 1], target: [2, 3, 4], reshape: false, minusOne: false, seed: 1 }],
    ));
  });
});
