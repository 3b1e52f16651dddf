// The MNIST model zoo that `npm start` and the demo share: each builds, has the parameter count
// of the network it is named after, and maps an example batch to the output its task needs.
import { describe, expect, it } from 'vitest';
import { setBackend, tidy, zeros, type Tensor } from '../src/index.js';
import { MNIST_MODELS, type MnistModelKind } from '../src/examples/mnist-models.js';

// Parameter counts of the published networks (Keras tutorial CNN: 93,322; TF.js tutorial: 5,994).
const PARAMS: Record<MnistModelKind, number> = {
  'keras-cnn': 93_322,
  'tfjs-cnn': 208 + 3216 + 4 * 4 * 16 * 10 + 10,
  mlp: 784 * 128 + 128 + 128 * 10 + 10,
  rnn: 28 * 64 + 64 * 64 + 64 + 64 * 10 + 10,
  lstm: 4 * (28 * 128 + 128 * 128 + 128) + 128 * 10 + 10,
  autoencoder: 160 + 1160 + 584 + 1168 + 145,
};

describe('MNIST model zoo', () => {
  for (const spec of Object.values(MNIST_MODELS)) {
    it(`${spec.kind}: ${PARAMS[spec.kind]} parameters, output fits its task`, async () => {
      await setBackend('cpu');
      const model = spec.build(3);
      const shape = tidy(() => (model.predict(zeros([2, ...spec.inputShape])) as Tensor).shape);
      expect(model.countParams()).toBe(PARAMS[spec.kind]);
      expect(shape).toEqual(spec.task === 'classify' ? [2, 10] : [2, 28, 28, 1]);
      const again = spec.build(3);
      const [a, b] = [model.getWeights(), again.getWeights()];
      for (let i = 0; i < a.length; i++) expect(await b[i].data()).toEqual(await a[i].data());
      model.dispose();
      again.dispose();
    });
  }
});
