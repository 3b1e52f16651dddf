// npm run bench: Neurite against TF.js 4.22 in one Node process, on the same WebGPU adapter
// (Dawn; SwiftShader on machines without a GPU) and on the CPU. Prints a table and writes
// BENCHMARKS.md. Not a test: numbers vary with the machine; compare ratios within one run.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { adapterName as nameOf, adapterWarning, decideVulkanEnv, machineFacts, prepareVulkanEnv } from '../dist/cli/vulkan-env.js';
import { fitSamplesPerSecond, measureHostCost, neuriteApi, randomArray, tfjsApi, timeMedian as timeIt } from './common.mjs';
import { measureCpuRows } from './cpu-wasm.mjs';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const quick = args.has('quick');
const only = args.get('only'); // 'matmul' | 'train' | 'host' | 'cpu'
// --webgpu-only: skip the CPU backends (TF.js's CPU training takes minutes on a loaded machine).
const webgpuOnly = args.has('webgpu-only');

// One Dawn instance for both libraries: both find it as navigator.gpu. Kept referenced for
// the whole process (Dawn crashes if its instance is collected while devices live). The loader's
// environment is decided first (SwiftShader only beside, never instead of, a hardware GPU), and a
// fresh instance is tried once more where that decision says a retry may find an adapter.
prepareVulkanEnv();
const dawn = await import('webgpu');
Object.assign(globalThis, dawn.globals);
let gpuInstance = dawn.create([]);
let adapter = await gpuInstance.requestAdapter({ powerPreference: 'high-performance' });
const retry = adapter ? undefined : decideVulkanEnv(machineFacts(null));
if (retry?.retry) {
  Object.assign(process.env, retry.set);
  gpuInstance = dawn.create([]);
  adapter = await gpuInstance.requestAdapter({ powerPreference: 'high-performance' });
}
if (typeof globalThis.navigator === 'undefined') globalThis.navigator = {};
Object.defineProperty(globalThis.navigator, 'gpu', { value: gpuInstance, configurable: true });

const nt = await import('../dist/index.js');
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-cpu');
await import('@tensorflow/tfjs-backend-webgpu');
// The wasm contender is a devDependency; without it (an older install) only its column is missing.
await import('@tensorflow/tfjs-backend-wasm').catch((e) => console.error(`tfjs-wasm: not installed (${e.code ?? e.message}); run npm install`));
const tfl = await import('@tensorflow/tfjs-layers');
const workloads = await import('./workloads.mjs');

const adapterName = adapter ? nameOf(adapter.info) : 'none';
const warning = adapter && adapterWarning(adapter.info);
if (warning) console.warn(`Warning: ${warning}`);

/**
 * jax-js 0.1.25, defaulting to its WebGPU device (a device of its own on the same adapter) where it
 * has one; null where it cannot start. Its wasm device is the CPU rows' contender (cpu-wasm.mjs).
 */
async function loadJax() {
  try {
    // jax-js reads navigator.userAgent, which Node 20 lacks.
    if (globalThis.navigator.userAgent === undefined) globalThis.navigator.userAgent = `Node.js/${process.version}`;
    const jax = await import('@jax-js/jax');
    const devices = await jax.init();
    if (devices.includes('webgpu')) jax.defaultDevice('webgpu');
    else console.error(`jax-js: no webgpu device (devices: ${devices.join(', ')})`);
    return jax;
  } catch (e) {
    console.error(`jax-js: ${e.message}`);
    return null;
  }
}
const jax = await loadJax();

async function jaxMatMul(n) {
  if (!jax) throw new Error('jax-js did not start');
  if (jax.defaultDevice() !== 'webgpu') throw new Error('jax-js has no webgpu device');
  return workloads.jaxMatMul(jax, n, quick ? 1 : 3);
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

const STEPS = quick ? 2 : 4;

async function neuriteTrain(backend) {
  await nt.setBackend(backend);
  return fitSamplesPerSecond(neuriteApi(nt), { steps: STEPS, reps: quick ? 1 : 3 });
}

async function tfTrain(backend) {
  await tf.setBackend(backend);
  await tf.ready();
  return fitSamplesPerSecond(tfjsApi(tf, tfl), { steps: STEPS, reps: quick ? 1 : 3 });
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
      'jaxjs-webgpu': () => jaxMatMul(n),
      ...(webgpuOnly ? {} : { 'neurite-cpu': () => neuriteMatMul('cpu', n), 'tfjs-cpu': () => tfMatMul('cpu', n) }),
    });
  }
}
if (!only || only === 'train') {
  await measure('tutorial CNN fit, batch 64', 'samples/s', {
    'neurite-webgpu': () => neuriteTrain('webgpu'),
    'tfjs-webgpu': () => tfTrain('webgpu'),
    ...(webgpuOnly ? {} : { 'neurite-cpu': () => neuriteTrain('cpu'), 'tfjs-cpu': () => tfTrain('cpu') }),
  });
}
if ((!only || only === 'cpu') && !webgpuOnly) {
  // The CPU backends (bench/cpu-wasm.mjs): Neurite wasm and JS kernels against TF.js wasm and cpu.
  await measureCpuRows(measure, { nt, tf, jax, apis: { nt: neuriteApi(nt), tf: tfjsApi(tf, tfl) }, quick });
}
if (!only || only === 'host') {
  // On the null device (host-cost.mjs, a child process): the JavaScript cost of a step alone.
  const host = await measureHostCost({ quick });
  const measures = [['host per fit step, null device', 'stepMs'], ['host per predict batch, null device', 'predictMs']];
  for (const [suffix, neurite] of [['', host.neurite], [' (step plans off)', host.neuriteNoPlans]]) {
    if (!neurite) continue; // a build without setStepPlans
    for (const [what, key] of measures) {
      const values = { 'neurite-webgpu': neurite[key], 'tfjs-webgpu': host.tfjs[key] };
      console.log(`${(what + suffix).padEnd(52)} neurite ${fmt(values['neurite-webgpu'])} ms, tfjs ${fmt(values['tfjs-webgpu'])} ms`);
      rows.push({ what: what + suffix, unit: 'ms', values });
    }
  }
}

const cols = ['neurite-webgpu', 'tfjs-webgpu', 'jaxjs-webgpu', 'neurite-cpu', 'neurite-cpu-1t', 'tfjs-cpu', 'neurite-cpu-js', 'tfjs-wasm', 'jaxjs-wasm'];
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
// How many times better Neurite does: a rate's ratio, or for times (ms, lower is better) its inverse.
const lead = (r, neurite, tfjs) => (r.unit === 'ms' ? ratio(r.values[tfjs], r.values[neurite]) : ratio(r.values[neurite], r.values[tfjs]));
const leads = ["webgpu: neurite's lead", 'webgpu: neurite vs jax-js', "cpu: neurite's lead", 'cpu vs tfjs-wasm', 'cpu, 1 thread vs tfjs-wasm', 'cpu, 1 thread vs jax-js wasm', 'cpu threads vs one'];
const header = `| benchmark | unit | ${cols.join(' | ')} | ${leads.join(' | ')} |`;
const target = new URL('../BENCHMARKS.md', import.meta.url);
const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';
const measured = new Set(rows.map((r) => r.what));
const previousDate = /^- Date: (.+)$/m.exec(previous)?.[1];
// With --only or --webgpu-only, rows of the benchmarks not run this time are kept from the previous report.
// Kept cells are placed by the previous header's column names, so a run that adds columns keeps rows aligned.
const cellsOf = (line) => line.replace(/^\| /, '').replace(/ \|$/, '').split(' | ');
const previousHeader = cellsOf(previous.split('<!-- notes: kept across runs -->')[0].split('\n').find((l) => l.startsWith('| benchmark')) ?? '');
const realign = (line) => {
  const cells = cellsOf(line);
  const byName = new Map(previousHeader.map((name, i) => [name, cells[i]]));
  return `| ${cells[0]} | ${cells[1]} | ${cols.map((c) => byName.get(c) ?? '–').join(' | ')} | ${leads.map((l) => byName.get(l) ?? 'n/a').join(' | ')} |`;
};
// Only the generated table's rows: the notes below the marker hold tables of their own.
const previousTable = previous.split('<!-- notes: kept across runs -->')[0];
const partial = only ? `only '${only}'` : webgpuOnly ? 'only WebGPU' : null;
const keptRows = partial
  ? previousTable.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| benchmark') && !measured.has(l.split(' | ')[0].slice(2))).map(realign)
  : [];
const table = [header, `|${'---|'.repeat(cols.length + 2 + leads.length)}`]
  .concat(rows.map((r) => `| ${r.what} | ${r.unit} | ${cols.map((c) => (c in r.values ? fmt(r.values[c]) : '–')).join(' | ')} | ${lead(r, 'neurite-webgpu', 'tfjs-webgpu')} | ${lead(r, 'neurite-webgpu', 'jaxjs-webgpu')} | ${lead(r, 'neurite-cpu', 'tfjs-cpu')} | ${lead(r, 'neurite-cpu', 'tfjs-wasm')} | ${lead(r, 'neurite-cpu-1t', 'tfjs-wasm')} | ${lead(r, 'neurite-cpu-1t', 'jaxjs-wasm')} | ${lead(r, 'neurite-cpu', 'neurite-cpu-1t')} |`))
  .concat(keptRows)
  .join('\n');
const date = new Date().toISOString().slice(0, 10);
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const report = `# Benchmarks

Produced by \`npm run bench\` (bench/bench.mjs): Neurite, TF.js 4.22 and jax-js 0.1.25 (matMul on
WebGPU) measured in the same Node process, on the same WebGPU adapter and on the CPU. Higher is better, except for times (ms). Each
figure is the median of a few timed runs after a warm-up, including the readback of the result.
The host rows time the tutorial CNN (batch 64, Adam) on a null WebGPU device that does no work
(bench/null-webgpu.mjs): the JavaScript cost of a step, which bounds training on a fast GPU.${partial ? `

This run measured ${partial}; the other rows are from the previous run${previousDate ? ` (${previousDate})` : ''}.` : ''}

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
