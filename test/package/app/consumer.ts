// The consumer's code: what a user of the published package writes, type-checked with strict
// settings and no skipLibCheck. Trains a tiny regression on the chosen backend and checks that
// its loss fell; shared by the Node program and the Vite page.
import { adam, layers, sequential, setBackend, tensor, tidy, type BackendName, type History, type Tensor } from 'neurite';

/** What one training run reports. */
export interface TinyRun {
  backend: BackendName;
  firstLoss: number;
  lastLoss: number;
  prediction: number[];
}

/** Fits y = x0 − 2·x1 + 0.5 with a 2-8-1 network; throws unless the loss fell at least fourfold. */
export async function trainTiny(backend: BackendName): Promise<TinyRun> {
  await setBackend(backend);
  const xs: [number, number][] = [];
  for (let i = 0; i < 32; i++) xs.push([Math.sin(i * 1.7), Math.cos(i * 0.9)]);
  const x: Tensor = tensor(xs);
  const y: Tensor = tensor(xs.map(([a, b]) => [a - 2 * b + 0.5]));
  const model = sequential({
    layers: [layers.dense({ units: 8, activation: 'tanh', inputShape: [2], seed: 1 }), layers.dense({ units: 1, seed: 2 })],
  });
  model.compile({ optimizer: adam({ learningRate: 0.05 }), loss: 'meanSquaredError' });
  const history: History = await model.fit(x, y, { epochs: 60, batchSize: 8, verbose: 0, seed: 1 });
  const losses = history.history.loss ?? [];
  const firstLoss = losses[0] ?? Number.NaN;
  const lastLoss = losses[losses.length - 1] ?? Number.NaN;
  const out = tidy(() => model.predict(tensor([[0.5, 0.25]])));
  const prediction = Array.from(await out.data());
  out.dispose();
  x.dispose();
  y.dispose();
  model.dispose();
  if (!(lastLoss < firstLoss / 4)) throw new Error(`${backend}: the loss went from ${firstLoss} to ${lastLoss}; expected it to fall at least fourfold`);
  return { backend, firstLoss, lastLoss, prediction };
}
