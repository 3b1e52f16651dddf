// Work that interleaves at fit's awaits: two models trained at once end with the weights and
// histories they get one after the other; predict of another model while one fits, and predict
// of the fitting model from its own batch callback, give what they give run apart, and leave the
// fitting model's final weights bit for bit unchanged. No tidy scope stays open across an await.
import { describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { integers, uniform } from './helpers/random.js';

const N = 22;
const BATCH = 4;

/** A small CNN with dropout, so the device-side RNG counters must stay with their model. */
function cnn(seed: number): nt.Sequential {
  return nt.sequential({
    layers: [
      nt.layers.conv2d({ inputShape: [5, 5, 1], filters: 2, kernelSize: 3, activation: 'relu', seed }),
      nt.layers.flatten(),
      nt.layers.dropout({ rate: 0.25, seed: seed + 1 }),
      nt.layers.dense({ units: 3, activation: 'softmax', seed: seed + 2 }),
    ],
  });
}

function mlp(seed: number): nt.Sequential {
  return nt.sequential({
    layers: [nt.layers.flatten({ inputShape: [5, 5, 1] }), nt.layers.dense({ units: 6, activation: 'tanh', seed }), nt.layers.dense({ units: 3, seed: seed + 1 })],
  });
}

interface Task {
  model: nt.Sequential;
  optimizer: nt.Optimizer;
  fit(callbacks?: nt.CallbackHooks): Promise<nt.History>;
}

/** A compiled model with its own data (host arrays), ready to fit for two epochs. */
function task(make: (seed: number) => nt.Sequential, seed: number, data: { x: Float32Array; y: Int32Array }, loss: string): Task {
  const model = make(seed);
  const optimizer = nt.adam({ learningRate: 0.03 });
  model.compile({ optimizer, loss, metrics: ['accuracy'] });
  return {
    model,
    optimizer,
    fit: (callbacks) =>
      model.fit(nt.data.arrays(data.x, [N, 5, 5, 1], data.y), { epochs: 2, batchSize: BATCH, logEvery: 2, seed: 3, verbose: 0, callbacks: { ...yielding, ...callbacks } }),
  };
}

/** Lets other work run (a CPU read resolves at once, so a loop of them would never let go otherwise). */
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Gives other work its turn at every batch: makes interleaving certain, not a matter of timing. */
const yielding: nt.CallbackHooks = { onBatchBegin: turn };

function examples(): { x: Float32Array; y: Int32Array } {
  return { x: Float32Array.from(uniform(N * 25)), y: integers(N, 3) };
}

async function weightsOf(model: nt.Sequential): Promise<number[][]> {
  return Promise.all(model.weights.map(async (v) => Array.from(await v.data())));
}

function dispose(t: Task): void {
  t.model.dispose();
  t.optimizer.dispose();
}

/** Live tensors now, to check that concurrent work leaves nothing behind (no tidy scope left open). */
function liveTensors(): number {
  return nt.memory().numTensors;
}

describe.each(BACKENDS)('concurrent work on %s', (backend) => {
  it('two models trained at once end as when trained one after the other', async () => {
    await useBackend(backend);
    const a = examples();
    const b = examples();
    const alone = [task(cnn, 1, a, 'sparseCategoricalCrossentropy'), task(mlp, 7, b, 'sparseCategoricalCrossentropy')];
    const aloneHistories = [await alone[0].fit(), await alone[1].fit()];
    const aloneWeights = await Promise.all(alone.map((t) => weightsOf(t.model)));
    alone.forEach(dispose);

    const before = liveTensors();
    const together = [task(cnn, 1, a, 'sparseCategoricalCrossentropy'), task(mlp, 7, b, 'sparseCategoricalCrossentropy')];
    const togetherHistories = await Promise.all(together.map((t) => t.fit()));
    // Same kernels in the same order per model: identical bits, not merely close.
    togetherHistories.forEach((h, i) => expect(h.history).toEqual(aloneHistories[i].history));
    expect(await Promise.all(together.map((t) => weightsOf(t.model)))).toEqual(aloneWeights);
    expect(together.map((t) => t.model.stepPlans.stats().replayed).every((n) => n > 0)).toBe(true);
    together.forEach(dispose);
    expect(liveTensors()).toBeLessThanOrEqual(before);
  });

  it("predict of another model while one fits, and of the fitting model from its batch callback, match predicts run apart", async () => {
    await useBackend(backend);
    const data = examples();
    const probe = nt.tensor(data.x.subarray(0, 3 * 25), [3, 5, 5, 1]);
    const other = mlp(11);
    const otherAlone = Array.from(await other.predict(probe).data());

    // Alone: the fit, with the fitting model's weights after each batch (its predictions are computed later).
    const alone = task(cnn, 2, data, 'sparseCategoricalCrossentropy');
    const snapshots: nt.Tensor[][] = [];
    await alone.fit({ onBatchEnd: () => void snapshots.push(alone.model.getWeights().map((w) => nt.keep(nt.add(w, 0)))) });
    const aloneWeights = await weightsOf(alone.model);
    const predictedApart: number[][] = [];
    for (const weights of snapshots) {
      alone.model.setWeights(weights);
      predictedApart.push(Array.from(await alone.model.predict(probe).data()));
    }
    nt.dispose(snapshots.flat());

    // Together: the same fit while another model predicts in a loop, and the model predicts itself between batches.
    const fitting = task(cnn, 2, data, 'sparseCategoricalCrossentropy');
    const predictedDuring: number[][] = [];
    let done = false;
    const otherDuring: number[][] = [];
    const otherLoop = (async () => {
      while (!done) {
        const p = other.predict(probe);
        otherDuring.push(Array.from(await p.data()));
        p.dispose();
        await turn();
      }
    })();
    // Tensors a callback makes belong to no scope of fit's: a tidy left open across an await would dispose them.
    const madeInCallbacks: nt.Tensor[] = [];
    await fitting.fit({
      onBatchBegin: async () => {
        madeInCallbacks.push(nt.tensor([1, 2, 3]));
        await turn();
      },
      onBatchEnd: async () => {
        const p = fitting.model.predict(probe);
        predictedDuring.push(Array.from(await p.data()));
        p.dispose();
      },
    });
    done = true;
    await otherLoop;

    expect(madeInCallbacks.some((t) => t.isDisposed)).toBe(false);
    nt.dispose(madeInCallbacks);
    expect(otherDuring.length).toBeGreaterThan(1);
    otherDuring.forEach((p) => expect(p).toEqual(otherAlone));
    expect(predictedDuring).toEqual(predictedApart);
    expect(await weightsOf(fitting.model)).toEqual(aloneWeights);
    other.dispose();
    [alone, fitting].forEach(dispose);
    probe.dispose();
  });
});
