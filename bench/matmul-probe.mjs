// node bench/matmul-probe.mjs [--n=1024] [--rounds=3]: where matMul's time goes on this adapter.
// In one process, alternately: the register kernel of every variant the generator offers, dispatched
// alone (no upload, no readback), the library's matMul (readback included) and jax-js's. Sources
// are loaded through Vite, so the probe runs on src/ without a build. Each kernel's output is checked.
import { existsSync } from 'node:fs';
import { createServer } from 'vite';
import { randomArray } from './workloads.mjs';

if (!process.env.VK_ICD_FILENAMES && !process.env.VK_ADD_DRIVER_FILES && existsSync('/usr/lib/chromium/vk_swiftshader_icd.json')) {
  process.env.VK_ADD_DRIVER_FILES = '/usr/lib/chromium/vk_swiftshader_icd.json';
}
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const n = Number(args.get('n') ?? 1024);
const rounds = Number(args.get('rounds') ?? 3);

const dawn = await import('webgpu');
Object.assign(globalThis, dawn.globals);
const gpu = dawn.create([]);
// jax-js reads navigator.userAgent, which Node 20 lacks.
globalThis.navigator ??= { userAgent: `Node.js/${process.version}` };
Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });

const vite = await createServer({ server: { middlewareMode: true, hmr: false }, appType: 'custom', logLevel: 'error' });
const wgslMod = await vite.ssrLoadModule('/src/ops/matmul-wgsl.ts');
const epiMod = await vite.ssrLoadModule('/src/ops/epilogue.ts');
const nt = await vite.ssrLoadModule('/src/index.ts');
const { CompletionWait } = await vite.ssrLoadModule('/src/backend/webgpu/completion-wait.ts');
const completionWait = new CompletionWait(true);

const adapter = await gpu.requestAdapter();
const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize } });
console.log(`adapter: ${adapter.info.vendor} / ${adapter.info.architecture} / ${adapter.info.description}; n=${n}`);

const A = randomArray(n * n, 1);
const B = randomArray(n * n, 2);
const storage = (data) => {
  const buf = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  device.queue.writeBuffer(buf, 0, data);
  return buf;
};
const aBuf = storage(A);
const bBuf = storage(B);
const outBuf = storage(new Float32Array(n * n));

/** Checks 512 random outputs against a float64 dot product, relative to the sum of the terms' sizes. */
function check(name, out) {
  let worst = 0;
  for (let s = 0, seed = 7; s < 512; s++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const i = seed % n;
    const j = (seed >>> 10) % n;
    let ref = 0;
    let scale = 0;
    for (let k = 0; k < n; k++) {
      ref += A[i * n + k] * B[k * n + j];
      scale += Math.abs(A[i * n + k] * B[k * n + j]);
    }
    // float32 rounding grows with the sum of |terms|, not with the (possibly cancelling) result
    const err = Math.abs(out[i * n + j] - ref) / scale;
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  if (!(worst < 1e-5)) throw new Error(`${name}: wrong result (worst relative error ${worst})`);
}

async function readOut(bytes = n * n * 4) {
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(outBuf, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

/** A raw kernel: the generator's WGSL and uniforms for a plain n×n×n product, dispatched alone. */
function rawKernel(variant) {
  const { MATMUL_PARAMS } = wgslMod;
  const { wgsl, tile, workgroup } = variant; // tile: outputs per invocation, rows × cols
  const tilesM = Math.ceil(n / tile.rows);
  const tilesN = Math.ceil(n / tile.cols);
  const params = {
    M: n, N: n, K: n, tilesN, tilesM, count: tilesM * tilesN, aRow: n, aK: 1, bK: n, bCol: 1,
    d1: 1, d2: 1, as0: 0, as1: 0, as2: 0, bs0: 0, bs1: 0, bs2: 0, aShift: 0, outShift: 0, z0: 0, bShift: 0,
    ldo: n, colShift: 0, accumulate: 0, raw: 0,
  };
  const words = Uint32Array.from(MATMUL_PARAMS.uniforms(params), (u) => u.u32);
  const uni = device.createBuffer({ size: Math.ceil(words.length / 4) * 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uni, 0, words);
  const module = device.createShaderModule({ code: wgsl });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [aBuf, bBuf, outBuf, uni].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const groups = Math.ceil(params.count / workgroup);
  return async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
    pass.end();
    device.queue.submit([enc.finish()]);
    // A readback of one value waits for the kernel; Dawn's onSubmittedWorkDone resolves late in Node.
    // Dawn's Node binding polls while a map is pending, taking a core from SwiftShader: poll
    // slowly, as the library does (completion-wait.ts).
    await completionWait.wait(() => readOut(4));
  };
}

// Register shapes to compare (--shapes=r8x2vu4,r4x4su1,...; default: a small spread).
const parseShape = (key) => {
  const m = /^r(\d+)x(\d+)([vs])u(\d+)$/.exec(key);
  if (!m) throw new Error(`--shapes: '${key}' is not r<rows>x<vec4s><v|s>u<kUnroll>`);
  return { rows: +m[1], vec4s: +m[2], bVec4: m[3] === 'v', kUnroll: +m[4] };
};
const shapeKeys = (args.get('shapes') ?? 'r8x2su1,r8x2vu1,r8x2vu4,r4x4vu4').split(',');
const variants = {};
const epi = epiMod.epilogueWgsl('linear', false, 'opEpilogue');
for (const key of shapeKeys) {
  const shape = parseShape(key);
  const run = rawKernel({ wgsl: wgslMod.registerKernelWgsl(epi, shape), tile: { rows: shape.rows, cols: shape.vec4s * 4 }, workgroup: wgslMod.REGISTER_WORKGROUP });
  await run();
  check(key, await readOut());
  variants[`kernel ${key}`] = run;
}

await nt.setBackend('webgpu');
const na = nt.tensor(A, [n, n]);
const nb = nt.tensor(B, [n, n]);
variants['neurite matMul'] = async () => {
  const c = nt.matMul(na, nb);
  const out = await c.data();
  c.dispose();
  return out;
};
check('neurite matMul', await variants['neurite matMul']());

try {
  const jax = await import('@jax-js/jax');
  await jax.init();
  jax.defaultDevice('webgpu');
  const ja = jax.numpy.array(A).reshape([n, n]);
  const jb = jax.numpy.array(B).reshape([n, n]);
  variants['jax-js matmul'] = async () => jax.numpy.matmul(ja.ref, jb.ref).data();
  check('jax-js matmul', await variants['jax-js matmul']());
} catch (e) {
  console.log(`jax-js: ${e.message}`);
}

// Wall time, and the process's CPU time (SwiftShader's threads run in this process): on cores
// shared with other jobs, CPU time measures a kernel's work far more steadily than wall time.
const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const cpu = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of Object.entries(variants)) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await run();
    const c = process.cpuUsage(c0);
    times[name].push(performance.now() - t0);
    cpu[name].push((c.user + c.system) / 1000);
  }
}
for (const [name, ts] of Object.entries(times)) {
  ts.sort((x, y) => x - y);
  const cs = cpu[name].sort((x, y) => x - y);
  const cpuMed = cs[Math.floor(cs.length / 2)];
  // The best run is the one least disturbed by other processes on the same cores.
  const [best, med] = [ts[0], ts[Math.floor(ts.length / 2)]];
  const gflops = (ms) => ((2 * n ** 3) / ms / 1e6).toFixed(2);
  console.log(
    `${name.padEnd(22)} wall: best ${best.toFixed(0).padStart(5)} ms ${gflops(best)} GFLOP/s, median ${med.toFixed(0).padStart(5)} ms ${gflops(med)} GFLOP/s` +
      ` | CPU: median ${cpuMed.toFixed(0).padStart(5)} ms, ${gflops(cpuMed)} GFLOP per CPU-second`,
  );
}
await vite.close();
process.exit(0);
