// Optimizers on every backend: three consecutive steps against float64 references of the Keras
// update formulas written here, clipping, config round trips, state save/restore, atomic failure
// (nothing changes when a step throws) and flat memory over many steps.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { uniform } from './helpers/random.js';

/** A float64 reference optimizer: updates `ps` in place from `gs` at 1-based step `t`. */
type Ref = (ps: Float64Array[], gs: Float64Array[], t: number) => void;
interface Clip {
  clipNorm?: number;
  clipValue?: number;
}

/** Keras clipping: clamp each element, then rescale a gradient whose L2 norm exceeds clipNorm. */
function clipRef(g: Float64Array, { clipNorm, clipValue }: Clip): Float64Array {
  const out = Float64Array.from(g, (x) => (clipValue === undefined ? x : Math.min(Math.max(x, -clipValue), clipValue)));
  if (clipNorm !== undefined) {
    const norm = Math.sqrt(out.reduce((s, x) => s + x * x, 0));
    if (norm > clipNorm) for (let i = 0; i < out.length; i++) out[i] *= clipNorm / norm;
  }
  return out;
}

/** Runs `elementStep(k, i, g)` for every element i of every variable k, with clipped gradients. */
function perElement(clip: Clip, body: (p: Float64Array, g: Float64Array, k: number, t: number) => void): Ref {
  return (ps, gs, t) => ps.forEach((p, k) => body(p, clipRef(gs[k], clip), k, t));
}

/** Per-variable state arrays, created on first use with `init`. */
function slots(init = 0): (k: number, n: number) => Float64Array {
  const all: Float64Array[] = [];
  return (k, n) => (all[k] ??= new Float64Array(n).fill(init));
}

function sgdRef({ learningRate: lr = 0.01, momentum = 0, nesterov = false, ...clip }: nt.SgdOptions): Ref {
  const vel = slots();
  return perElement(clip, (p, g, k) => {
    const v = vel(k, p.length);
    for (let i = 0; i < p.length; i++) {
      if (momentum === 0) {
        p[i] -= lr * g[i];
        continue;
      }
      v[i] = momentum * v[i] - lr * g[i];
      p[i] += nesterov ? momentum * v[i] - lr * g[i] : v[i];
    }
  });
}

function adamRef({ learningRate: lr = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, ...clip }: nt.AdamOptions): Ref {
  const [ms, vs] = [slots(), slots()];
  return perElement(clip, (p, g, k, t) => {
    const [m, v] = [ms(k, p.length), vs(k, p.length)];
    const lrT = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
    for (let i = 0; i < p.length; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      p[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + epsilon);
    }
  });
}

function rmspropRef({ learningRate: lr = 0.001, rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false, ...clip }: nt.RmspropOptions): Ref {
  const [rmss, mgs, moms] = [slots(), slots(), slots()];
  return perElement(clip, (p, g, k) => {
    const [rms, mg, mom] = [rmss(k, p.length), mgs(k, p.length), moms(k, p.length)];
    for (let i = 0; i < p.length; i++) {
      rms[i] = rho * rms[i] + (1 - rho) * g[i] * g[i];
      if (centered) mg[i] = rho * mg[i] + (1 - rho) * g[i];
      const step = (lr * g[i]) / Math.sqrt(rms[i] - (centered ? mg[i] * mg[i] : 0) + epsilon);
      if (momentum > 0) {
        mom[i] = momentum * mom[i] + step;
        p[i] -= mom[i];
      } else p[i] -= step;
    }
  });
}

function adagradRef({ learningRate: lr = 0.01, initialAccumulatorValue = 0.1, epsilon = 1e-7, ...clip }: nt.AdagradOptions): Ref {
  const accs = slots(initialAccumulatorValue);
  return perElement(clip, (p, g, k) => {
    const acc = accs(k, p.length);
    for (let i = 0; i < p.length; i++) {
      acc[i] += g[i] * g[i];
      p[i] -= (lr * g[i]) / Math.sqrt(acc[i] + epsilon);
    }
  });
}

interface Case {
  name: string;
  make: () => nt.Optimizer;
  ref: () => Ref;
  slotNames: string[];
}

function both<O>(name: string, factory: (o: O) => nt.Optimizer, refOf: (o: O) => Ref, options: O, slotNames: string[]): Case {
  return { name, make: () => factory(options), ref: () => refOf(options), slotNames };
}

const CASES: Case[] = [
  both('sgd', nt.sgd, sgdRef, { learningRate: 0.1 }, []),
  both('sgd momentum', nt.sgd, sgdRef, { learningRate: 0.1, momentum: 0.9 }, ['momentum']),
  both('sgd nesterov', nt.sgd, sgdRef, { learningRate: 0.1, momentum: 0.8, nesterov: true }, ['momentum']),
  both('adam', nt.adam, adamRef, { learningRate: 0.1 }, ['m', 'v']),
  both('adam beta1 0', nt.adam, adamRef, { learningRate: 0.1, beta1: 0 }, ['m', 'v']),
  both('adam custom betas', nt.adam, adamRef, { learningRate: 0.05, beta1: 0.7, beta2: 0.95, epsilon: 1e-3 }, ['m', 'v']),
  both('rmsprop', nt.rmsprop, rmspropRef, { learningRate: 0.05 }, ['rms']),
  both('rmsprop momentum', nt.rmsprop, rmspropRef, { learningRate: 0.05, momentum: 0.6, rho: 0.8 }, ['rms', 'momentum']),
  both('rmsprop centered', nt.rmsprop, rmspropRef, { learningRate: 0.05, centered: true }, ['rms', 'mg']),
  both('rmsprop centered momentum', nt.rmsprop, rmspropRef, { learningRate: 0.05, centered: true, momentum: 0.5, epsilon: 1e-4 }, ['rms', 'momentum', 'mg']),
  both('adagrad', nt.adagrad, adagradRef, { learningRate: 0.1 }, ['accumulator']),
  both('adagrad custom', nt.adagrad, adagradRef, { learningRate: 0.2, initialAccumulatorValue: 0.5, epsilon: 1e-3 }, ['accumulator']),
  both('sgd clipNorm', nt.sgd, sgdRef, { learningRate: 0.1, momentum: 0.5, clipNorm: 0.9 }, ['momentum']),
  both('adam clipValue', nt.adam, adamRef, { learningRate: 0.1, clipValue: 0.3 }, ['m', 'v']),
  both('rmsprop clipNorm and clipValue', nt.rmsprop, rmspropRef, { learningRate: 0.05, clipNorm: 1.1, clipValue: 0.5 }, ['rms']),
  both('adagrad clipNorm', nt.adagrad, adagradRef, { learningRate: 0.1, clipNorm: 0.7 }, ['accumulator']),
];

/** Odd shapes: a matrix, a vector, a single element and a rank-3 tensor. */
const SHAPES = [[3, 5], [7], [1], [2, 3, 4]];
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);
const NAMES = ['dense/kernel', 'dense/bias', 'scale', 'conv/kernel'];

function makeVars(values: Float64Array[], names: (string | undefined)[] = NAMES): nt.Variable[] {
  return values.map((v, k) => nt.variable(nt.tensor(Float32Array.from(v), SHAPES[k]), { name: names[k] }));
}

const randomValues = (): Float64Array[] => SHAPES.map((s) => uniform(sizeOf(s), -1, 1));
const toTensors = (gs: Float64Array[]): nt.Tensor[] => gs.map((g, k) => nt.tensor(Float32Array.from(g), SHAPES[k]));

/** Applies `gs` to `vars` with `opt` and disposes the gradient tensors. */
function step(opt: nt.Optimizer, vars: nt.Variable[], gs: Float64Array[]): void {
  const grads = toTensors(gs);
  opt.applyGradients(vars, grads);
  nt.dispose(grads);
}

const read = (ts: nt.Tensor[]): Promise<Float32Array[]> => Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));

describe.each(BACKENDS)('optimizers on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  describe.each(CASES)('$name', ({ make, ref, slotNames }) => {
    it('matches the float64 reference for 3 consecutive steps', async () => {
      const ps = randomValues();
      const vars = makeVars(ps);
      const opt = make();
      const reference = ref();
      for (let t = 1; t <= 3; t++) {
        const gs = randomValues();
        step(opt, vars, gs);
        reference(ps, gs, t);
        const got = await read(vars);
        got.forEach((g, k) => expectAllClose(g, ps[k], { rtol, atol: 1e-6 }, `step ${t}, ${NAMES[k]}`));
      }
      opt.dispose();
      nt.dispose(vars);
    });

    it('saves and restores its state so training continues identically', async () => {
      const initial = randomValues();
      const grads = [1, 2, 3, 4].map(() => randomValues());
      const [a, b] = [makeVars(initial), makeVars(initial)];
      const [optA, optB] = [make(), make()];
      for (const gs of grads.slice(0, 2)) {
        step(optA, a, gs);
        step(optB, b, gs);
      }
      const saved = optA.getWeights();
      expect(saved.map((w) => w.name)).toEqual(['iterations', ...NAMES.flatMap((n) => slotNames.map((s) => `${n}/${s}`))]);
      expect(await saved[0].tensor.data()).toEqual(Int32Array.from([2]));
      // A fresh optimizer on fresh variables with the same names continues where A stopped.
      const optC = make();
      const c = makeVars(initial);
      for (const [k, v] of (await read(a)).entries()) c[k].assign(nt.tensor(v, SHAPES[k]));
      optC.setWeights(saved);
      nt.dispose(saved.map((w) => w.tensor));
      for (const gs of grads.slice(2)) {
        step(optA, a, gs);
        step(optC, c, gs);
      }
      const [va, vc] = [await read(a), await read(c)];
      va.forEach((v, k) => expect(vc[k], NAMES[k]).toEqual(v));
      // getWeights returns copies: disposing them leaves the optimizer working.
      nt.dispose(optB.getWeights().map((w) => w.tensor));
      step(optB, b, grads[2]);
      nt.dispose([...a, ...b, ...c]);
      [optA, optB, optC].forEach((o) => o.dispose());
    });

    it('keeps memory flat over 50 steps after the first two', async () => {
      const vars = makeVars(randomValues());
      const grads = toTensors(randomValues());
      const opt = make();
      // Updates run lazily: after step 1 the pending values hold the variables' initial storage
      // (shared with the test's tensors); from step 2 on each step holds the previous step's.
      opt.applyGradients(vars, grads);
      opt.applyGradients(vars, grads);
      const before = nt.memory();
      for (let i = 0; i < 50; i++) opt.applyGradients(vars, grads);
      const after = nt.memory();
      expect(after.numTensors).toBe(before.numTensors);
      expect(after.bytesInUse).toBe(before.bytesInUse);
      for (const v of await read(vars)) expect(v.every(Number.isFinite)).toBe(true);
      opt.dispose();
      nt.dispose([...vars, ...grads]);
    });

    it('round-trips its config', () => {
      const opt = make();
      const config = opt.getConfig();
      expect(config.config.learningRate).toBe(opt.learningRate);
      expect(nt.optimizerFromConfig(config).getConfig()).toEqual(config);
      opt.dispose();
    });
  });

  describe('failure atomicity', () => {
    /** Steps once so slots exist, then expects `bad` grads to throw `error` and change nothing. */
    async function expectUnchanged(badGrads: (good: nt.Tensor[]) => nt.Tensor[], error: new (...a: never[]) => Error): Promise<void> {
      const ps = randomValues();
      const vars = makeVars(ps);
      const opt = nt.adam({ learningRate: 0.1 });
      const reference = adamRef({ learningRate: 0.1 });
      const first = randomValues();
      step(opt, vars, first);
      reference(ps, first, 1);
      const valuesBefore = await read(vars);
      const stateBefore = opt.getWeights();
      const good = toTensors(randomValues());
      expect(() => opt.applyGradients(vars, badGrads(good))).toThrow(error);
      expect(await read(vars)).toEqual(valuesBefore);
      const stateAfter = opt.getWeights();
      expect(stateAfter.map((w) => w.name)).toEqual(stateBefore.map((w) => w.name));
      for (const [i, w] of stateAfter.entries()) expect(await w.tensor.data(), w.name).toEqual(await stateBefore[i].tensor.data());
      // The failed call did not count as a step: the next one is step 2 of the reference.
      const second = randomValues();
      step(opt, vars, second);
      reference(ps, second, 2);
      (await read(vars)).forEach((v, k) => expectAllClose(v, ps[k], { rtol: RTOL[backend], atol: 1e-6 }, NAMES[k]));
      nt.dispose([...vars, ...good, ...stateBefore.map((w) => w.tensor), ...stateAfter.map((w) => w.tensor)]);
      opt.dispose();
    }

    it('a gradient of the wrong shape for the 2nd variable changes nothing', async () => {
      const wrong = nt.zeros([5]);
      await expectUnchanged((g) => [g[0], wrong, g[2], g[3]], nt.ShapeError);
      wrong.dispose();
    });

    it('an exception inside the update of the 2nd variable changes nothing', async () => {
      // A gradient that passes every check but lives on a foreign backend: runOp throws while
      // the updates are computed, after the 1st variable's new values already exist.
      const foreign = { name: 'foreign' } as unknown as ConstructorParameters<typeof nt.Tensor>[3];
      const alien = new nt.Tensor(SHAPES[1], 'float32', {} as ConstructorParameters<typeof nt.Tensor>[2], foreign);
      await expectUnchanged((g) => [g[0], alien, g[2], g[3]], nt.BackendError);
    });

    it('a disposed gradient, an int32 gradient or a missing gradient changes nothing', async () => {
      const disposed = nt.zeros(SHAPES[1]);
      disposed.dispose();
      await expectUnchanged((g) => [g[0], disposed, g[2], g[3]], nt.DisposedTensorError);
      const ints = nt.zeros(SHAPES[1], 'int32');
      await expectUnchanged((g) => [g[0], ints, g[2], g[3]], nt.DTypeError);
      ints.dispose();
      await expectUnchanged((g) => g.slice(0, 3), nt.ArgumentError);
    });
  });

  it.each([1, 4, 6, 1000, 100_000])('adam bias correction is accurate at step %i', async (t) => {
    // Restoring only `iterations` (fresh zero slots) makes the next step number t, so one
    // step checks both branches of the in-kernel 1 − βᵗ (t·ln β above and below −0.5).
    const ps = randomValues();
    const vars = makeVars(ps);
    const opt = nt.adam({ learningRate: 0.1, beta1: 0.9, beta2: 0.999 });
    const iterations = nt.scalar(t - 1, 'int32');
    opt.setWeights([{ name: 'iterations', tensor: iterations }]);
    iterations.dispose();
    const gs = randomValues();
    step(opt, vars, gs);
    adamRef({ learningRate: 0.1 })(ps, gs, t);
    (await read(vars)).forEach((v, k) => expectAllClose(v, ps[k], { rtol, atol: 1e-6 }, NAMES[k]));
    opt.dispose();
    nt.dispose(vars);
  });

  describe('state', () => {
    it('creates slots lazily, per variable, with the variable shape', () => {
      const opt = nt.adam();
      expect(opt.getWeights().map((w) => w.name)).toEqual(['iterations']);
      const [a, b] = makeVars(randomValues().slice(0, 2));
      const g = nt.zerosLike(a);
      opt.applyGradients([a], [g]);
      const weights = opt.getWeights();
      expect(weights.map((w) => [w.name, w.tensor.shape])).toEqual([
        ['iterations', []],
        ['dense/kernel/m', SHAPES[0]],
        ['dense/kernel/v', SHAPES[0]],
      ]);
      nt.dispose(weights.map((w) => w.tensor));
      const gb = nt.zerosLike(b);
      opt.applyGradients([b], [gb]);
      expect(opt.getWeights().length).toBe(5);
      opt.dispose();
      nt.dispose([a, b, g, gb]);
    });

    it('rejects restored state that does not fit', () => {
      const opt = nt.sgd({ momentum: 0.9 });
      expect(() => opt.setWeights([{ name: 'dense/kernel/m', tensor: nt.zeros([2]) }])).toThrow(/unexpected weight 'dense\/kernel\/m'.*momentum/);
      opt.setWeights([{ name: 'dense/kernel/momentum', tensor: nt.zeros([2]) }]);
      const [v] = makeVars(randomValues().slice(0, 1));
      expect(() => opt.applyGradients([v], [nt.zerosLike(v)])).toThrow(nt.ShapeError);
      opt.dispose();
    });

    it('keys unnamed variables by identity and rejects duplicate names', async () => {
      const ps = randomValues().slice(0, 2);
      const vars = makeVars(ps, [undefined, undefined]);
      const opt = nt.sgd({ learningRate: 0.1, momentum: 0.9 });
      const reference = sgdRef({ learningRate: 0.1, momentum: 0.9 });
      for (let t = 1; t <= 2; t++) {
        const gs = randomValues().slice(0, 2);
        step(opt, vars, gs);
        reference(ps, gs, t);
      }
      (await read(vars)).forEach((v, k) => expectAllClose(v, ps[k], { rtol: RTOL[backend], atol: 1e-6 }));
      const twins = makeVars(randomValues().slice(0, 2), ['w', 'w']);
      expect(() => opt.applyGradients(twins, twins.map((t) => nt.zerosLike(t)))).toThrow(/named 'w'/);
      opt.dispose();
    });
  });
});

describe('optimizer lookup and options', () => {
  it('getOptimizer accepts the four names in any case, with Keras defaults', () => {
    expect(nt.getOptimizer('SGD').getConfig()).toEqual({ className: 'SGD', config: { learningRate: 0.01, momentum: 0, nesterov: false } });
    expect(nt.getOptimizer('adam').getConfig()).toEqual({ className: 'Adam', config: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } });
    expect(nt.getOptimizer('RMSprop').getConfig()).toEqual({
      className: 'RMSprop',
      config: { learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false },
    });
    expect(nt.getOptimizer('ADAGRAD').getConfig()).toEqual({
      className: 'Adagrad',
      config: { learningRate: 0.01, initialAccumulatorValue: 0.1, epsilon: 1e-7 },
    });
    const opt = nt.adam();
    expect(nt.getOptimizer(opt)).toBe(opt);
  });

  it('names the valid optimizers when the name is unknown', () => {
    expect(() => nt.getOptimizer('adamw')).toThrow(/unknown optimizer 'adamw'.*'sgd', 'adam', 'rmsprop', 'adagrad'/);
  });

  it('includes clipping in the config only when set', () => {
    expect(nt.sgd({ clipNorm: 1 }).getConfig().config).toEqual({ learningRate: 0.01, momentum: 0, nesterov: false, clipNorm: 1 });
    expect(nt.adam({ clipValue: 0.5 }).getConfig().config.clipValue).toBe(0.5);
  });

  it('rejects invalid options with the factory and option named', () => {
    expect(() => nt.sgd({ learningRate: -1 })).toThrow(/sgd: learningRate is -1/);
    expect(() => nt.sgd({ momentum: 1.5 })).toThrow(/sgd: momentum/);
    expect(() => nt.adam({ beta1: 1 })).toThrow(/adam: beta1/);
    expect(() => nt.rmsprop({ rho: Number.NaN })).toThrow(/rmsprop: rho/);
    expect(() => nt.adagrad({ clipNorm: 0 })).toThrow(/adagrad: clipNorm/);
    expect(() => nt.adam({ clipValue: -1 })).toThrow(nt.ArgumentError);
  });
});
