// node bench/cpu-step-profile.mjs [threads]: where a tutorial-CNN training step's time goes on the
// CPU backend, kernel by kernel (ms per batch-64 step, wall time of each backend.run), with the
// given thread count (default 1). Compare runs of 1 and 2 threads to see which kernels split well.
import { createServer } from 'vite';
import { neuriteApi, trainingRun } from './common.mjs';
const vite = await createServer({ server: { middlewareMode: true, hmr: false }, appType: 'custom', logLevel: 'error' });
const nt = await vite.ssrLoadModule('/src/index.ts');
const { engine } = await vite.ssrLoadModule('/src/engine.ts');
const threads = Number(process.argv[2] ?? 1);
await nt.setBackend('cpu', { threads });
const be = engine.backend;
const times = new Map();
const orig = be.run.bind(be);
be.run = (call, i, o) => { const t = performance.now(); orig(call, i, o); const k = call.name + (call.wasm ? '' : ' [js]'); times.set(k, (times.get(k) ?? 0) + performance.now() - t); };
const run = trainingRun(neuriteApi(nt), { steps: 6 });
await run.fit(); times.clear();
const t0 = performance.now();
await run.fit(); await run.fit();
const total = performance.now() - t0;
let inKernels = 0;
for (const [k, v] of [...times].sort((a, b) => b[1] - a[1]).slice(0, 18)) { console.log(k.padEnd(40), (v / 12).toFixed(2), 'ms/step'); }
for (const v of times.values()) inKernels += v;
console.log('total', (total / 12).toFixed(2), 'ms/step; in kernels', (inKernels / 12).toFixed(2));
run.dispose(); await vite.close();
