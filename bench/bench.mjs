// npm run bench: Neurite against TF.js 4.22 in one Node process, on the same WebGPU adapter
// (Dawn; SwiftShader on machines without a GPU) and on the CPU. Prints a table and writes
// BENCHMARKS.md. Not a test: numbers vary with the machine; compare ratios within one run.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

if (!process.env.VK_ICD_FILENAMES && existsSync('/usr/lib/chromium/vk_swiftshader_icd.json')) {
  process.env.VK_ICD_FILENAMES = '/usr/lib/chromium/vk_swiftshader_icd.json';
}
process.env.XDG_RUNTIME_DIR ??= '/tmp';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const quick = args.has('quick');
const only = args.get('only'); // 'matmul' | 'train'

// One Dawn instance for both libraries: both find it as navigator.gpu. Kept referenced for
// the whole process (Dawn crashes if its instance is collected while devices live).
const dawn = await import('webgpu');
Object.assign(globalThis, dawn.globals);
const gpuInstance = dawn.create([]);
if (typeof globalThis.navigator === 'undefined') globalThis.navigator = {};
Object.defineProperty(globalThis.navigator, 'gpu', { value: gpuInstance, configurable: true });

const nt = await import('../dist/index.js');
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-cpu');
await import('@tensorflow/tfjs-backend-webgpu');
const tfl = await import('@tensorflow/tfjs-layers');

const adapter = await gpuInstance.requestAdapter();
const adapterName = adapter ? [adapter.info.vendor, adapter.info.architecture, adapter.info.device || adapter.info.description].filter(Boolean).join(' / ') : 'none';

/** Runs `fn` (async) `reps` times after `warmup` runs; returns the median seconds per run. */
async function timeIt(fn, { warmup = 1, reps = 3 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function randomArray(n, seed = 1) {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

async function neuriteMatMul(backend, n) {
  await nt.setBackend(backend);
  const a = nt.tensor(randomArray(n * n, 1), [n, n]);
  const b = nt.tensor(randomArray(n * n, 2), [n, n]);
  const s = await timeIt(async () => {
    const c = nt.matMul(a, b);
    await c.data();
    c.dispose();
  }, { reps: quick ? 1 : 3 });
  nt.dispose([a, b]);
  return (2 * n ** 3) / s / 1e9;
}

async function tfMatMul(backend, n) {
  await tf.setBackend(backend);
  await tf.ready();
  const a = tf.tensor(randomArray(n * n, 1), [n, n]);
  const b = tf.tensor(randomArray(n * n, 2), [n, n]);
  const s = await timeIt(async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  }, { reps: quick ? 1 : 3 });
  tf.dispose([a, b]);
  return (2 * n ** 3) / s / 1e9;
}

/** The tutorial CNN, built with either library's Keras-style layers API. */
function tutorialCnn(L, seq) {
  return seq({
    layers: [
      L.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      L.flatten(),
      L.dense({ units: 64, activation: 'relu' }),
      L.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

const BATCH = 64;
const STEPS = quick ? 2 : 4;

async function neuriteTrain(backend) {
  await nt.setBackend(backend);
  const model = tutorialCnn(nt.layers, nt.sequential);
  model.compile({ optimizer: nt.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const n = BATCH * STEPS;
  const x = nt.tensor(randomArray(n * 784, 3).map((v) => v + 0.5), [n, 28, 28, 1]);
  const y = nt.tensor(Int32Array.from({ length: n }, (_, i) => i % 10), [n], 'int32');
  const s = await timeIt(() => model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 }), { warmup: 1, reps: quick ? 1 : 2 });
  nt.dispose([x, y]);
  return n / s;
}

async function tfTrain(backend) {
  await tf.setBackend(backend);
  await tf.ready();
  const model = tutorialCnn(tfl.layers, tfl.sequential);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const n = BATCH * STEPS;
  const x = tf.tensor(randomArray(n * 784, 3).map((v) => v + 0.5), [n, 28, 28, 1]);
  const y = tf.tensor(Float32Array.from({ length: n }, (_, i) => i % 10), [n]);
  const s = await timeIt(() => model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 }), { warmup: 1, reps: quick ? 1 : 2 });
  tf.dispose([x, y]);
  return n / s;
}

const rows = [];
const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
async function measure(what, unit, runs) {
  const values = {};
  for (const [name, fn] of Object.entries(runs)) {
    try {
      values[name] = await fn();
    } catch (e) {
      values[name] = NaN;
      console.error(`${what} ${name}: ${e.message}`);
    }
    console.log(`${what.padEnd(28)} ${name.padEnd(16)} ${fmt(values[name])} ${unit}`);
  }
  rows.push({ what, unit, values });
}

const sizes = quick ? [256] : [256, 512, 1024];
if (!only || only === 'matmul') {
  for (const n of sizes) {
    await measure(`matMul ${n}×${n}×${n}`, 'GFLOP/s', {
      'neurite-webgpu': () => neuriteMatMul('webgpu', n),
      'tfjs-webgpu': () => tfMatMul('webgpu', n),
      'neurite-cpu': () => neuriteMatMul('cpu', n),
      'tfjs-cpu': () => tfMatMul('cpu', n),
    });
  }
}
if (!only || only === 'train') {
  await measure('tutorial CNN fit, batch 64', 'samples/s', {
    'neurite-webgpu': () => neuriteTrain('webgpu'),
    'tfjs-webgpu': () => tfTrain('webgpu'),
    'neurite-cpu': () => neuriteTrain('cpu'),
    'tfjs-cpu': () => tfTrain('cpu'),
  });
}

const cols = ['neurite-webgpu', 'tfjs-webgpu', 'neurite-cpu', 'tfjs-cpu'];
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const header = `| benchmark | unit | ${cols.join(' | ')} | webgpu ratio (neurite/tfjs) | cpu ratio |`;
const target = new URL('../BENCHMARKS.md', import.meta.url);
const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';
const measured = new Set(rows.map((r) => r.what));
// With --only, rows of the benchmarks not run this time are kept from the previous report.
const keptRows = only
  ? previous.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| benchmark') && !measured.has(l.split(' | ')[0].slice(2)))
  : [];
const table = [header, `|${'---|'.repeat(cols.length + 4)}`]
  .concat(rows.map((r) => `| ${r.what} | ${r.unit} | ${cols.map((c) => fmt(r.values[c] ?? NaN)).join(' | ')} | ${ratio(r.values['neurite-webgpu'], r.values['tfjs-webgpu'])} | ${ratio(r.values['neurite-cpu'], r.values['tfjs-cpu'])} |`))
  .concat(keptRows)
  .join('\n');
const date = new Date().toISOString().slice(0, 10);
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const report = `# Benchmarks

Produced by \`npm run bench\` (bench/bench.mjs): Neurite and TF.js 4.22 measured in the same Node
process, on the same WebGPU adapter and on the CPU. Higher is better. Each figure is the median of a
few timed runs after a warm-up, including the readback of the result.${only ? ` This run measured only '${only}'; the other rows are from the previous run.` : ''}

- Date: ${date}
- Machine: ${machine}
- WebGPU adapter (Dawn): ${adapterName}

${table}
`;
console.log(`\n${table}\n`);
// Hand-written analysis below the marker survives re-runs.
const MARKER = '<!-- notes: kept across runs -->';
const notes = previous.includes(MARKER) ? previous.slice(previous.indexOf(MARKER)) : `${MARKER}\n`;
if (!args.has('no-write')) writeFileSync(target, `${report}\n${notes}`);
process.exit(0);
