// The consumer's page, bundled by Vite: trains on WebGPU and leaves the outcome in
// `document.body.dataset.result` (JSON) or `dataset.error` for the package check to read.
import { trainTiny } from '../consumer.js';

trainTiny('webgpu').then(
  (run) => (document.body.dataset.result = JSON.stringify(run)),
  (e: unknown) => (document.body.dataset.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
);
