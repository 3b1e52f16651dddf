// What fit's host copy of the weights costs (src/nn/host-copy.ts): ms per training step of the
// tutorial CNN (batch 64, Adam, logEvery 8) with keepHostCopy on and off, in one process, the two
// taking turns rep by rep. `--device=null` times host cost on the null WebGPU device (run it as its
// own process: it replaces navigator.gpu); `--device=swiftshader` (default) the real step on Dawn.
import { installNullGpu } from './null-webgpu.mjs';
import { BATCH, randomArray, tutorialCnn } from './common.mjs';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const device = args.get('device') ?? 'swiftshader';
const STEPS = Number(args.get('steps') ?? (device === 'null' ? 32 : 16));
const REPS = Number(args.get('reps') ?? (device === 'null' ? 7 : 3));

if (device === 'null') installNullGpu();
const nt = await import('../dist/index.js');
await nt.setBackend('webgpu');
const info = nt.getAdapterInfo();

const n = BATCH * STEPS;
const x = nt.tensor(randomArray(n * 784, 3), [n, 28, 28, 1]);
const y = nt.tensor(Int32Array.from({ length: n }, (_, i) => i % 10), [n], 'int32');
const model = tutorialCnn(nt.layers, nt.sequential);
model.compile({ optimizer: nt.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
const fit = (keepHostCopy) => model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0, keepHostCopy });

const times = { on: [], off: [] };
for (const keep of [true, false]) await fit(keep); // warm-up: pipelines, pools, step plans
for (let r = 0; r < REPS; r++) {
  for (const keep of [true, false]) {
    const t0 = performance.now();
    await fit(keep);
    times[keep ? 'on' : 'off'].push((performance.now() - t0) / STEPS);
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
// The read alone, on an idle device: an upper bound of one copy, since fit packs the weights into
// one transfer while these are separate reads.
const reads = [];
for (let r = 0; r < 2 * REPS + 1; r++) {
  await nt.sync();
  const t0 = performance.now();
  await Promise.all(model.weights.map((v) => v.data()));
  reads.push(performance.now() - t0);
}
const on = median(times.on);
const off = median(times.off);
const bytes = model.weights.reduce((s, v) => s + v.size * 4, 0);
console.log(`${info.description || info.device} (${device}): tutorial CNN, batch ${BATCH}, ${STEPS} steps, median of ${REPS}`);
console.log(`  weights read per copy: ${(bytes / 1024).toFixed(0)} KiB (every 8 steps, and once per fit call)`);
console.log(`  ms per step: keepHostCopy on ${on.toFixed(2)}, off ${off.toFixed(2)}, difference ${(on - off).toFixed(2)} (${(((on - off) / off) * 100).toFixed(1)} %)`);
console.log(`  reading the weights alone (${model.weights.length} reads, idle device): ${median(reads).toFixed(2)} ms, i.e. ${(median(reads) / 8).toFixed(3)} ms per step at logEvery 8`);
console.log(`  raw ms/step on: ${times.on.map((t) => t.toFixed(2)).join(' ')}; off: ${times.off.map((t) => t.toFixed(2)).join(' ')}`);
process.exit(0);
