// The browser benchmark page (bench/browser/index.html): the workloads of bench/workloads.mjs for
// Neurite, TF.js 4.22 webgpu and jax-js 0.1.25 webgpu in one page, on the browser's adapter.
// `window.bench(options)` runs them and returns the rows; bench/browser/run.mjs drives it headless.
import * as jax from '@jax-js/jax';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfl from '@tensorflow/tfjs-layers';
import * as nt from '../../src/index.ts';
import * as workloads from '../workloads.mjs';

const status = document.getElementById('status');

/** One row: what was measured, its unit, and each library's figure (NaN where it failed). */
async function measure(what, unit, runs) {
  const values = {};
  for (const [name, fn] of Object.entries(runs)) {
    status.textContent = `${what}: ${name}…`;
    try {
      values[name] = await fn();
    } catch (e) {
      console.error(`${what} ${name}: ${e.message}`);
      values[name] = NaN;
    }
  }
  return { what, unit, values };
}

/**
 * Runs matMul n×n×n (Neurite, TF.js, jax-js) and tutorial-CNN `fit` (Neurite, TF.js), all on WebGPU.
 * `only`: 'matmul' or 'train'; `steps`: batches of 64 per timed epoch.
 */
async function bench({ n = 1024, steps = 4, reps = 3, trainReps = 2, only } = {}) {
  const adapter = await navigator.gpu.requestAdapter();
  const info = adapter ? [adapter.info.vendor, adapter.info.architecture, adapter.info.description].filter(Boolean).join(' / ') : 'none';
  await nt.setBackend('webgpu');
  await tf.setBackend('webgpu');
  await tf.ready();
  const devices = await jax.init();
  if (devices.includes('webgpu')) jax.defaultDevice('webgpu');
  const rows = [];
  if (only !== 'train') {
    rows.push(
      await measure(`matMul ${n}×${n}×${n}`, 'GFLOP/s', {
        neurite: () => workloads.matMulGflops(nt, n, reps),
        tfjs: () => workloads.matMulGflops(tf, n, reps),
        jaxjs: () => (devices.includes('webgpu') ? workloads.jaxMatMul(jax, n, reps) : NaN),
      }),
    );
  }
  if (only !== 'matmul') {
    rows.push(
      await measure(`tutorial CNN fit, batch ${workloads.BATCH}`, 'samples/s', {
        neurite: () => workloads.neuriteTrain(nt, steps, trainReps),
        tfjs: () => workloads.tfTrain(tf, tfl, steps, trainReps),
      }),
    );
  }
  status.textContent = 'Done.';
  const result = { adapter: info, userAgent: navigator.userAgent, rows };
  document.getElementById('table').textContent = JSON.stringify(result, null, 2);
  return result;
}

window.bench = bench;
document.getElementById('start').addEventListener('click', () => bench({ steps: 2, reps: 1, trainReps: 1 }));
