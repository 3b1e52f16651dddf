// npm run bench: Neurite against TF.js 4.22 (and jax-js 0.1.25's WebGPU matmul) in one Node process, on the same WebGPU adapter
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
// --webgpu-only: skip the CPU backends (TF.js's CPU training takes minutes on a loaded machine).
const webgpuOnly = args.has('webgpu-only');

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
const workloads = await import('./workloads.mjs');

const adapter = await gpuInstance.requestAdapter();
const adapterName = adapter ? [adapter.info.vendor, adapter.info.architecture, adapter.info.device || adapter.info.description].filter(Boolean).join(' / ') : 'none';

/** jax-js 0.1.25 on its WebGPU device (a device of its own on the same adapter), or null where it cannot start. */
async function loadJax() {
  try {
    // jax-js reads navigator.userAgent, which Node 20 lacks.
    if (globalThis.navigator.userAgent === undefined) globalThis.navigator.userAgent = `Node.js/${process.version}`;
    const jax = await import('@jax-js/jax');
    const devices = await jax.init();
    if (!devices.includes('webgpu')) throw new Error(`no webgpu device (devices: ${devices.join(', ')})`);
    jax.defaultDevice('webgpu');
    return jax;
  } catch (e) {
    console.error(`jax-js: ${e.message}`);
    return null;
  }
}
const jax = await loadJax();

const STEPS = quick ? 2 : 4;
const reps = quick ? 1 : 3;
const trainReps = quick ? 1 : 2;

async function neuriteMatMul(backend, n) {
  await nt.setBackend(backend);
  return workloads.matMulGflops(nt, n, reps);
}

async function tfMatMul(backend, n) {
  await tf.setBackend(backend);
  await tf.ready();
  return workloads.matMulGflops(tf, n, reps);
}

async function jaxMatMul(n) {
  if (!jax) throw new Error('jax-js did not start');
  return workloads.jaxMatMul(jax, n, reps);
}

async function neuriteTrain(backend) {
  await nt.setBackend(backend);
  return workloads.neuriteTrain(nt, STEPS, trainReps);
}

async function tfTrain(backend) {
  await tf.setBackend(backend);
  await tf.ready();
  return workloads.tfTrain(tf, tfl, STEPS, trainReps);
}

const rows = [];
const fmt = (v) => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
async function measure(what, unit, runs) {
  const values = {};
  for (const [name, fn] of Object.entries(runs)) {
    if (webgpuOnly && name.endsWith('-cpu')) continue;
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

const cols = ['neurite-webgpu', 'tfjs-webgpu', 'jaxjs-webgpu', 'neurite-cpu', 'tfjs-cpu'];
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const header = `| benchmark | unit | ${cols.join(' | ')} | webgpu ratio (neurite/tfjs) | neurite/jax-js webgpu | cpu ratio |`;
const target = new URL('../BENCHMARKS.md', import.meta.url);
const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';
const measured = new Set(rows.map((r) => r.what));
// With --only, rows of the benchmarks not run this time are kept from the previous report.
const keptRows = only
  ? previous.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| benchmark') && !measured.has(l.split(' | ')[0].slice(2)))
  : [];
const table = [header, `|${'---|'.repeat(cols.length + 5)}`]
  .concat(rows.map((r) => `| ${r.what} | ${r.unit} | ${cols.map((c) => fmt(r.values[c] ?? NaN)).join(' | ')} | ${ratio(r.values['neurite-webgpu'], r.values['tfjs-webgpu'])} | ${ratio(r.values['neurite-webgpu'], r.values['jaxjs-webgpu'])} | ${ratio(r.values['neurite-cpu'], r.values['tfjs-cpu'])} |`))
  .concat(keptRows)
  .join('\n');
const date = new Date().toISOString().slice(0, 10);
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const report = `# Benchmarks

Produced by \`npm run bench\` (bench/bench.mjs): Neurite, TF.js 4.22 and jax-js 0.1.25 (matMul, WebGPU)
measured in the same Node process, on the same WebGPU adapter and on the CPU. Higher is better. Each figure is the median of a
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
