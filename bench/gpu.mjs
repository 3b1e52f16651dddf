// npm run bench:gpu: the check for a machine with a real GPU (Linux, Dawn on Vulkan). Prints one
// table: the adapter, matMul GFLOP/s under both tilings beside the card's fp32 peak, tutorial CNN
// samples/s under both tilings with TF.js webgpu beside them, host cost per step (null device), and
// parity with the CPU backend. Refuses software adapters; exits non-zero on any parity failure.
import { adapterName, isSoftwareAdapter } from '../dist/cli/vulkan-env.js';
import { fitSamplesPerSecond, measureHostCost, neuriteApi, randomArray, tfjsApi } from './common.mjs';
import { findGpu } from './gpu-adapter.mjs';
import { gpuParity } from './gpu-parity.mjs';
import { peakTflops } from './gpu-peaks.mjs';

const USAGE = `Usage: npm run bench:gpu -- [--allow-software] [--peak=TFLOPS] [--small]
  --allow-software  run on a software adapter (SwiftShader) too: to test this script, not to measure
  --peak=TFLOPS     the card's fp32 peak, where the built-in table does not know the card
  --small           small sizes (matMul 128 and 256, 2 training steps of batch 16)`;
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
for (const name of args.keys()) {
  if (!['allow-software', 'peak', 'small', 'help'].includes(name)) {
    console.error(`bench:gpu: unknown option --${name}\n${USAGE}`);
    process.exit(2);
  }
}
if (args.has('help')) {
  console.log(USAGE);
  process.exit(0);
}
const small = args.has('small');
const SIZES = small ? [128, 256] : [1024, 2048];
const TRAIN = small ? { batch: 16, steps: 2, reps: 1 } : { batch: 64, steps: 40, reps: 3 };
const TILINGS = ['register', 'workgroup'];

// Kept for the whole process: Dawn crashes if its instance is collected while devices live.
const { instance: keepDawnAlive, adapter, notes } = await findGpu();
if (!adapter) {
  console.error('bench:gpu: no WebGPU adapter found (see the ICD files and loader above, and bench/README.md)');
  process.exit(2);
}
const info = adapter.info;
const software = isSoftwareAdapter(info);
console.error(`Adapter: ${adapterName(info)}${software ? ' (software)' : ''}`);
if (software && !args.has('allow-software')) {
  console.error('bench:gpu: this adapter is a software emulator, not a GPU: the figures would measure the CPU. Run it on a machine with a GPU (see bench/README.md), or pass --allow-software to test the script.');
  process.exit(2);
}

const nt = await import('../dist/index.js');
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-webgpu');
const tfl = await import('@tensorflow/tfjs-layers');

const peakArg = args.get('peak');
const peak = peakArg !== undefined ? { tflops: Number(peakArg), card: 'from --peak' } : peakTflops(info);
if (peak && !(peak.tflops > 0)) {
  console.error(`bench:gpu: --peak expects TFLOPS > 0, got ${peakArg}`);
  process.exit(2);
}

/** GFLOP/s of an n×n×n matMul: a batch of back-to-back products, then one wait for the GPU. */
async function matMulGflops(n, tiling) {
  await nt.setBackend('webgpu', { tiling });
  const a = nt.tensor(randomArray(n * n, 1), [n, n]);
  const b = nt.tensor(randomArray(n * n, 2), [n, n]);
  // Each product is disposed at once (its buffer returns to the pool after the submit that used
  // it), which holds memory flat; the dispatch count proves the products still ran.
  const run = async (count) => {
    nt.resetStats();
    for (let i = 0; i < count; i++) nt.matMul(a, b).dispose();
    await nt.sync();
    if (nt.stats().dispatches < count) throw new Error(`matMul ${n}: ${nt.stats().dispatches} dispatches for ${count} products`);
  };
  await run(2); // compiles the pipeline, fills the pool
  // About 0.3 s of work at 30 TFLOP/s, so submit and wait overheads are amortised.
  const count = small ? 2 : Math.max(4, Math.round(1e13 / (2 * n ** 3)));
  const t0 = performance.now();
  await run(count);
  const seconds = (performance.now() - t0) / 1000;
  nt.dispose([a, b]);
  return (count * 2 * n ** 3) / seconds / 1e9;
}

const rows = [];
const row = (what, value, note = '') => {
  rows.push([what, value, note]);
  console.error(`${what}: ${value}${note ? ` (${note})` : ''}`); // progress; stdout gets the table
};
const f1 = (v) => (Number.isFinite(v) ? v.toFixed(1) : String(v));

for (const [what, value] of notes) row(what, value);
row('adapter', adapterName(info), `vendor ${info.vendor || '?'}, architecture ${info.architecture || '?'}, fallback ${!!info.isFallbackAdapter}`);
row('limits', `maxStorageBufferBindingSize ${adapter.limits.maxStorageBufferBindingSize}, maxBufferSize ${adapter.limits.maxBufferSize}`, `workgroup storage ${adapter.limits.maxComputeWorkgroupStorageSize} B`);
row('fp32 peak', peak ? `${peak.tflops} TFLOP/s` : 'unknown', peak ? peak.card : 'pass --peak=TFLOPS');
await nt.setBackend('webgpu');
row('tiling Neurite picks', nt.getAdapterInfo().tiling.tiling, `source: ${nt.getAdapterInfo().tiling.source}`);

for (const n of SIZES) {
  for (const tiling of TILINGS) {
    const gflops = await matMulGflops(n, tiling);
    row(`matMul ${n}, ${tiling}`, `${f1(gflops)} GFLOP/s`, peak ? `${((gflops / (peak.tflops * 1e3)) * 100).toFixed(1)} % of peak` : '');
  }
}

const train = { batch: TRAIN.batch, steps: TRAIN.steps, reps: TRAIN.reps };
const neuriteRates = {};
for (const tiling of TILINGS) {
  await nt.setBackend('webgpu', { tiling });
  neuriteRates[tiling] = await fitSamplesPerSecond(neuriteApi(nt), train);
}
await tf.setBackend('webgpu');
await tf.ready();
const tfRate = await fitSamplesPerSecond(tfjsApi(tf, tfl), train);
for (const tiling of TILINGS) row(`CNN fit, batch ${TRAIN.batch}, Neurite ${tiling}`, `${f1(neuriteRates[tiling])} samples/s`, `${(neuriteRates[tiling] / tfRate).toFixed(1)}× TF.js`);
row(`CNN fit, batch ${TRAIN.batch}, TF.js 4.22 webgpu`, `${f1(tfRate)} samples/s`);

const host = await measureHostCost({ quick: small });
row('host per fit step (null device)', `Neurite ${host.neurite.stepMs.toFixed(2)} ms`, `TF.js ${host.tfjs.stepMs.toFixed(2)} ms`);
row('host per predict batch (null device)', `Neurite ${host.neurite.predictMs.toFixed(2)} ms`, `TF.js ${host.tfjs.predictMs.toFixed(2)} ms`);
if (host.neuriteNoPlans) row('host per fit step, step plans off (null device)', `Neurite ${host.neuriteNoPlans.stepMs.toFixed(2)} ms`);

let failures = 0;
for (const tiling of TILINGS) {
  for (const r of await gpuParity(nt, { tiling })) {
    if (!r.ok) failures++;
    row(`parity ${tiling}: ${r.name}`, r.ok ? 'ok' : 'FAIL', `error ${r.error.toExponential(1)}, tolerance ${r.tol}`);
  }
}

console.log(`\n| measure | value | note |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
if (failures) console.error(`bench:gpu: ${failures} parity check(s) failed`);
void keepDawnAlive;
process.exit(failures ? 1 : 0);
