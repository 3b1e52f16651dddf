// LSTM and GRU (and the options SimpleRNN shares with them): forward against float64 references
// written here (returnSequences, returnState, goBackwards, GRU's two reset forms), backpropagation
// through time through checkGradients, and configs rebuilt from their Keras JSON; every backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { ConfigReader } from '../src/nn/layers/config.js';
import { layerFactory } from '../src/nn/layers/layer.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { normRelativeError } from './helpers/close.js';
import { GRAD_TOL, gradientError, randomizeWeights, t } from './helpers/layers.js';
import { uniform } from './helpers/random.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const hardSigmoid = (v: number) => Math.min(1, Math.max(0, 0.2 * v + 0.5));
const GATE = { sigmoid, hardSigmoid };

/** Row-vector × matrix: v [k] · m [k, n] (row-major), columns [from, from + n) of m's `width`. */
function vecMat(v: Float64Array, m: Float64Array, width: number, from: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < v.length; k++) s += v[k] * m[k * width + from + j];
    out[j] = s;
  }
  return out;
}

/** One step of a float64 cell: new states (h first) from this step's input and the previous states. */
type Cell = (x: Float64Array, states: Float64Array[]) => Float64Array[];

/** Runs a cell over x [n, T, F]: every h in processing order and the final states, per example. */
function runRef(cell: Cell, x: Float64Array, [n, T, F]: number[], units: number, stateCount: number, goBackwards: boolean) {
  const sequences: Float64Array[][] = [];
  const finals: Float64Array[][] = [];
  for (let b = 0; b < n; b++) {
    let states: Float64Array[] = Array.from({ length: stateCount }, () => new Float64Array(units));
    const seq: Float64Array[] = [];
    for (let i = 0; i < T; i++) {
      const t = goBackwards ? T - 1 - i : i;
      states = cell(x.subarray((b * T + t) * F, (b * T + t + 1) * F), states);
      seq.push(states[0]);
    }
    sequences.push(seq);
    finals.push(states);
  }
  return { sequences, finals };
}

/** TF.js's LSTM cell with kernel W [F, 4u], U [u, 4u], b [4u] (gates i, f, c, o). */
function lstmCell(W: Float64Array, U: Float64Array, b: Float64Array, u: number, gate: (v: number) => number): Cell {
  return (x, [h, c]) => {
    const zx = vecMat(x, W, 4 * u, 0, 4 * u);
    const zh = vecMat(h, U, 4 * u, 0, 4 * u);
    const z = (k: number, j: number) => zx[k * u + j] + zh[k * u + j] + b[k * u + j];
    const cNew = Float64Array.from({ length: u }, (_, j) => gate(z(1, j)) * c[j] + gate(z(0, j)) * Math.tanh(z(2, j)));
    const hNew = Float64Array.from({ length: u }, (_, j) => gate(z(3, j)) * Math.tanh(cNew[j]));
    return [hNew, cNew];
  };
}

/** The GRU cell (gates z, r, h); `b` is [3u], or [2, 3u] (input row, recurrent row) with resetAfter. */
function gruCell(W: Float64Array, U: Float64Array, b: Float64Array, u: number, gate: (v: number) => number, resetAfter: boolean): Cell {
  return (x, [h]) => {
    const zx = vecMat(x, W, 3 * u, 0, 3 * u).map((v, i) => v + b[i]);
    const rb = resetAfter ? b.subarray(3 * u) : new Float64Array(3 * u);
    const zh = vecMat(h, U, 3 * u, 0, 3 * u).map((v, i) => v + rb[i]);
    const z = Float64Array.from({ length: u }, (_, j) => gate(zx[j] + zh[j]));
    const r = Float64Array.from({ length: u }, (_, j) => gate(zx[u + j] + zh[u + j]));
    const recurrentH = resetAfter ? zh.subarray(2 * u).map((v, j) => r[j] * v) : vecMat(h.map((v, j) => r[j] * v), U, 3 * u, 2 * u, u);
    const cand = Float64Array.from({ length: u }, (_, j) => Math.tanh(zx[2 * u + j] + recurrentH[j]));
    return [Float64Array.from({ length: u }, (_, j) => z[j] * h[j] + (1 - z[j]) * cand[j])];
  };
}

/** The layer rebuilt from its own Keras JSON, as loadModel does. */
function rebuilt(layer: nt.Layer): nt.Layer {
  const { class_name, config } = layer.getConfig();
  return layerFactory(class_name)!(new ConfigReader(JSON.parse(JSON.stringify(config)), 'test'));
}

type Kind = 'lstm' | 'gru' | 'gruResetAfter';
const make = (kind: Kind, args: nt.layers.LSTMArgs & nt.layers.GRUArgs) =>
  kind === 'lstm' ? nt.layers.lstm(args) : nt.layers.gru({ ...args, resetAfter: kind === 'gruResetAfter' });
const cellOf = (kind: Kind, [W, U, b]: Float64Array[], u: number, gate: (v: number) => number): Cell =>
  kind === 'lstm' ? lstmCell(W, U, b, u, gate) : gruCell(W, U, b, u, gate, kind === 'gruResetAfter');

describe.each(BACKENDS)('lstm and gru on %s', (backend) => {
  const sumTol = backend === 'cpu' ? 1e-5 : 1e-3;
  beforeAll(() => useBackend(backend));

  describe.each(['lstm', 'gru', 'gruResetAfter'] as const)('%s', (kind) => {
    it.each([
      { returnSequences: false, goBackwards: false, recurrentActivation: 'hardSigmoid' },
      { returnSequences: true, goBackwards: false, recurrentActivation: 'sigmoid' },
      { returnSequences: true, goBackwards: true, recurrentActivation: 'hardSigmoid' },
    ] as const)('forward and final states match float64 (returnSequences $returnSequences, goBackwards $goBackwards, $recurrentActivation)', async (opts) => {
      const [n, T, F, u] = [3, 5, 4, 6];
      const layer = make(kind, { units: u, returnState: true, seed: 5, ...opts });
      const xv = uniform(n * T * F);
      const x = t(xv, [n, T, F]);
      layer.apply(x).dispose();
      expect(layer.weights.map((v) => v.shape)).toEqual([[F, (kind === 'lstm' ? 4 : 3) * u], [u, (kind === 'lstm' ? 4 : 3) * u], kind === 'gruResetAfter' ? [2, 3 * u] : [(kind === 'lstm' ? 4 : 3) * u]]);
      // Wide enough that hardSigmoid's clipped ends are reached too.
      const weights = randomizeWeights(layer, -1, 1);
      const ref = runRef(cellOf(kind, weights, u, GATE[opts.recurrentActivation]), xv, [n, T, F], u, kind === 'lstm' ? 2 : 1, opts.goBackwards);
      const outputs = (layer as nt.layers.LSTM).applyWithState(x);
      expect(outputs.length).toBe(kind === 'lstm' ? 3 : 2);
      expect(outputs[0].shape).toEqual(opts.returnSequences ? [n, T, u] : [n, u]);
      const expectedOut = opts.returnSequences ? ref.sequences.flatMap((seq) => seq.flatMap((h) => [...h])) : ref.finals.flatMap(([h]) => [...h]);
      expect(normRelativeError(await outputs[0].data(), expectedOut)).toBeLessThan(sumTol);
      for (let s = 1; s < outputs.length; s++) {
        expect(normRelativeError(await outputs[s].data(), ref.finals.flatMap((st) => [...st[s - 1]]))).toBeLessThan(sumTol);
      }
      nt.dispose([x, ...outputs]);
      layer.dispose();
    });

    it.each([false, true])('BPTT gradients pass checkGradients (returnSequences %s)', async (returnSequences) => {
      const layer = make(kind, { units: 3, returnSequences, goBackwards: returnSequences, recurrentActivation: 'sigmoid' });
      const x = t(uniform(2 * 4 * 3), [2, 4, 3]);
      layer.apply(x).dispose();
      randomizeWeights(layer);
      expect(await gradientError(layer, x)).toBeLessThan(GRAD_TOL);
      x.dispose();
      layer.dispose();
    });

    it('its config rebuilds the same layer', () => {
      const layer = make(kind, { units: 4, returnSequences: true, returnState: true, goBackwards: true, recurrentActivation: 'sigmoid' });
      const config = layer.getConfig().config;
      expect(config).toMatchObject({ units: 4, return_sequences: true, return_state: true, go_backwards: true, recurrent_activation: 'sigmoid', activation: 'tanh' });
      expect(config).toMatchObject(kind === 'lstm' ? { unit_forget_bias: true } : { reset_after: kind === 'gruResetAfter' });
      expect(rebuilt(layer).getConfig().config).toEqual({ ...config, name: expect.any(String) });
    });
  });

  it('lstm initialises the forget gate bias to 1 (unitForgetBias)', async () => {
    const layer = nt.layers.lstm({ units: 3 });
    nt.tidy(() => layer.apply(nt.zeros([1, 2, 2])));
    expect(Array.from(await layer.weights[2].data())).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    layer.dispose();
  });

  it('a model with a resetAfter gru (Keras 2.x/3 weights, bias [2, 3·units]) saves and loads with its predictions', async () => {
    const model = nt.sequential({ layers: [nt.layers.gru({ inputShape: [4, 3], units: 5, resetAfter: true }), nt.layers.dense({ units: 2 })] });
    model.layers.forEach((layer) => randomizeWeights(layer));
    let saved: Parameters<typeof nt.modelFromArtifacts>[0] | undefined;
    await model.save({ save: async (a) => void (saved = a) });
    expect(JSON.stringify(saved!.modelTopology)).toContain('"reset_after":true');
    const again = nt.modelFromArtifacts(saved!);
    expect(again.layers[0].weights[2].shape).toEqual([2, 15]);
    const x = t(uniform(3 * 4 * 3), [3, 4, 3]);
    const [a, b] = [model.predict(x), again.predict(x) as nt.Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    nt.dispose([x, a, b]);
    model.dispose();
    again.dispose();
  });

  it('simpleRNN runs backwards and returns its state too', async () => {
    const layer = nt.layers.simpleRNN({ units: 2, goBackwards: true, returnState: true });
    const x = t(uniform(2 * 3 * 2), [2, 3, 2]);
    const [y, h] = layer.applyWithState(x);
    expect(Array.from(await y.data())).toEqual(Array.from(await h.data()));
    const forwardOnReversed = nt.layers.simpleRNN({ units: 2 });
    nt.tidy(() => forwardOnReversed.apply(x));
    forwardOnReversed.setWeights(layer.getWeights());
    const reversed = nt.concat([2, 1, 0].map((s) => nt.slice(x, { begin: [0, s, 0], size: [2, 1, 2] })), { axis: 1 });
    expect(normRelativeError(await forwardOnReversed.apply(reversed).data(), await y.data())).toBeLessThan(1e-5);
    nt.dispose([x, y, h, reversed]);
  });

  it('a sequential model of embedding, lstm, gru and dense trains with fit (loss falls)', async () => {
    // Does a sequence of 5 tokens from 6 contain token 1?
    const n = 64;
    const tokens = Int32Array.from({ length: n * 5 }, (_, i) => (i * 7 + Math.floor(i / 5) * 3) % 6);
    const labels = Int32Array.from({ length: n }, (_, i) => (tokens.subarray(i * 5, i * 5 + 5).includes(1) ? 1 : 0));
    const model = nt.sequential({
      layers: [
        nt.layers.embedding({ inputDim: 6, outputDim: 4, inputLength: 5, seed: 1 }),
        nt.layers.lstm({ units: 6, returnSequences: true, seed: 2 }),
        nt.layers.gru({ units: 5, goBackwards: true, seed: 3 }),
        nt.layers.dense({ units: 2, activation: 'softmax', seed: 4 }),
      ],
    });
    model.compile({ optimizer: nt.adam({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
    // fit takes float32 inputs; the embedding casts its tokens to int32.
    const x = nt.tensor(Float32Array.from(tokens), [n, 5]);
    const y = nt.tensor(labels, [n], 'int32');
    const history = await model.fit(x, y, { epochs: 8, batchSize: 32, verbose: 0, seed: 5 });
    const loss = history.history.loss as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss.at(-1)!).toBeLessThan(loss[0] * 0.8);
    nt.dispose([x, y]);
    model.dispose();
  });

  it('rejects bad input with messages naming the layer', () => {
    expect(() => nt.tidy(() => nt.layers.lstm({ units: 2 }).apply(nt.zeros([2, 3])))).toThrow(/LSTM '.*': expected input of rank 3/);
    expect(() => nt.layers.gru({ units: 0 })).toThrow(/GRU '.*': units should be a positive integer/);
    expect(() => nt.layers.lstm({ units: 2, recurrentActivation: 'swish' as never })).toThrow(/LSTM '.*': unknown activation 'swish'/);
  });
});
