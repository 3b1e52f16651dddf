// A child process for the crash test of saving (test/files.test.ts): saves one model to the
// folder in argv[2] over and over, all weights set to 0, 1, 2, … in turn, printing "saved N"
// after each, until the parent kills it. Bundled by the test with Vite, run by plain Node.
import { dispose, fill, layers, sequential } from '../../src/index.js';

const dir = process.argv[2];
const units = Number(process.argv[3]);
const model = sequential({ layers: [layers.dense({ inputShape: [units], units, seed: 1 })] });
dispose(model.getWeights()); // builds the model, so `weights` lists them all
for (let version = 0; ; version++) {
  const values = model.weights.map((w) => fill(w.shape, version));
  model.setWeights(values);
  values.forEach((t) => t.dispose());
  await model.save(`file://${dir}`);
  process.stdout.write(`saved ${version}\n`);
}
