// The CPU rows of `npm run bench`: Neurite's CPU backend with its wasm SIMD kernels and with the JS
// reference kernels, against TF.js's wasm backend (XNNPACK, one thread here), its cpu backend and
// (matMul) jax-js's wasm device (one thread in Node), all in this process: matMul GFLOP/s and the
// tutorial CNN's inference and training samples/s. Neurite's wasm kernels run twice: on the
// default pool of threads (neurite-cpu, one per core) and on one thread (neurite-cpu-1t).
import { fitSamplesPerSecond, timeMedian, trainingRun } from './common.mjs';
import { jaxMatMul, matMulGflops } from './workloads.mjs';

/** Inference samples per second of `predict` over `steps` batches (median of `reps` after a warm-up). */
export async function predictSamplesPerSecond(api, { steps, reps }) {
  const run = trainingRun(api, { steps });
  try {
    return run.samples / (await timeMedian(run.predict, { warmup: 1, reps }));
  } finally {
    run.dispose();
  }
}

/** jax-js's matmul on its wasm device, its default device put back afterwards. */
async function jaxWasmMatMul(jax, n, reps) {
  const previous = jax.defaultDevice();
  jax.defaultDevice('wasm');
  try {
    return await jaxMatMul(jax, n, reps);
  } finally {
    jax.defaultDevice(previous);
  }
}

/** The CPU contenders' setup: Neurite's backend with either kernel set, TF.js's by name. */
function contenders(nt, tf) {
  const tfBackend = (name) => async () => {
    await tf.setBackend(name);
    await tf.ready();
  };
  return {
    'neurite-cpu': () => nt.setBackend('cpu', { kernels: 'wasm' }),
    'neurite-cpu-1t': () => nt.setBackend('cpu', { kernels: 'wasm', threads: 1 }),
    'neurite-cpu-js': () => nt.setBackend('cpu', { kernels: 'js' }),
    'tfjs-wasm': tfBackend('wasm'),
    'tfjs-cpu': tfBackend('cpu'),
  };
}

/**
 * Adds the CPU rows through `measure(what, unit, runs)` (bench.mjs's). `apis` holds each library's
 * training API (common.mjs); TF.js cpu is left out of the 1024 matMul and of training, where it
 * takes minutes (it trains at ~2 samples/s).
 */
export async function measureCpuRows(measure, { nt, tf, jax, apis, quick }) {
  const setups = contenders(nt, tf);
  await setups['neurite-cpu']();
  const { threads, note } = nt.cpuThreads();
  console.log(`neurite-cpu: ${threads} thread${threads === 1 ? '' : 's'} (${note}); neurite-cpu-1t: one`);
  const lib = (name) => (name.startsWith('neurite') ? nt : tf);
  const runs = (names, fn) => Object.fromEntries(names.map((name) => [name, async () => {
    await setups[name]();
    return fn(name);
  }]));
  const reps = quick ? 1 : 3;
  for (const n of quick ? [256] : [256, 1024]) {
    const names = n > 512 ? ['neurite-cpu', 'neurite-cpu-1t', 'neurite-cpu-js', 'tfjs-wasm'] : Object.keys(setups);
    await measure(`cpu matMul ${n}`, 'GFLOP/s', {
      ...runs(names, (name) => matMulGflops(lib(name), n, reps)),
      ...(jax ? { 'jaxjs-wasm': () => jaxWasmMatMul(jax, n, reps) } : {}),
    });
  }
  const steps = quick ? 1 : 3;
  await measure('cpu tutorial CNN predict, batch 64', 'samples/s', runs(Object.keys(setups), (name) =>
    predictSamplesPerSecond(apis[lib(name) === nt ? 'nt' : 'tf'], { steps, reps: quick ? 1 : 2 })));
  await measure('cpu tutorial CNN fit, batch 64', 'samples/s', runs(['neurite-cpu', 'neurite-cpu-1t', 'neurite-cpu-js', 'tfjs-wasm'], (name) =>
    fitSamplesPerSecond(apis[lib(name) === nt ? 'nt' : 'tf'], { steps, reps: quick ? 1 : 2 })));
}
