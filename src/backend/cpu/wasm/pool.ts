// Threads for the wasm kernels: workers (worker_threads in Node, Web Workers in pages) that run
// lists of wasm calls over the heap's shared memory. Each worker instantiates the kernel modules
// it may be asked to run once, then sleeps on a control word; a dispatch writes each worker's
// calls into its area of a shared Int32Array, bumps the word and notifies; the calling thread
// runs its own list meanwhile, then waits until every worker has counted itself done.
//
// A call is [module, function, i32 count, f64 count, ...i32 arguments, ...f64 arguments as int32
// pairs] (see runtime.ts); module −1 loads module bytes from the heap: [−1, id, 2, 0, ptr, length].
// Workers supply the host functions elementwise kernels import (the same Math functions the JS
// reference calls). The worker's source is a self-contained string (no imports), so
// it runs the same from dist/, under a test runner and in a bundle.

/** Control words: the dispatch counter workers wait on, workers done, stop, a worker's failure. */
const EPOCH = 0;
const DONE = 1;
const STOP = 2;
const FAILED = 3;
/** Int32s before the first worker's call area. */
const HEADER = 16;
/** Int32s of one worker's call area (its first word counts the calls' words). */
const AREA = 1 << 14;

/** The worker: instantiates the modules over the shared memory, says 'ready', then runs dispatches until stopped. */
const WORKER_SOURCE = `
'use strict';
const inNode = typeof process === 'object' && process.versions != null && process.versions.node != null && typeof require === 'function';
const port = inNode ? require('node:worker_threads').parentPort : self;
const post = (m) => port.postMessage(m);
const HOST = { exp: Math.exp, log: Math.log, tanh: Math.tanh, sign: Math.sign, pow: (a, b) => (b === 0 ? 1 : Math.pow(a, b)) };
const start = ({ memory, control, index }) => {
  const c = new Int32Array(control);
  const env = Object.assign({ memory }, HOST);
  const fns = [];
  const f64 = new Float64Array(1);
  const words = new Int32Array(f64.buffer);
  // Read before saying ready: the first dispatch may follow at once.
  let epoch = Atomics.load(c, ${EPOCH});
  const base = ${HEADER} + index * ${AREA};
  post({ ready: true });
  for (;;) {
    Atomics.wait(c, ${EPOCH}, epoch);
    epoch = Atomics.load(c, ${EPOCH});
    if (Atomics.load(c, ${STOP}) !== 0) return;
    try {
      const end = base + 1 + c[base];
      for (let p = base + 1; p < end;) {
        const ni = c[p + 2];
        const nf = c[p + 3];
        const args = Array.from(c.subarray(p + 4, p + 4 + ni));
        for (let f = 0; f < nf; f++) {
          words[0] = c[p + 4 + ni + 2 * f];
          words[1] = c[p + 5 + ni + 2 * f];
          args.push(f64[0]);
        }
        if (c[p] === -1) {
          const module = new WebAssembly.Module(new Uint8Array(memory.buffer, args[0] >>> 0, args[1]).slice());
          const exports = new WebAssembly.Instance(module, { env }).exports;
          fns[c[p + 1]] = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => exports[e.name]);
        } else {
          fns[c[p]][c[p + 1]].apply(null, args);
        }
        p += 4 + ni + 2 * nf;
      }
    } catch (e) {
      console.error('neurite wasm worker:', e);
      Atomics.store(c, ${FAILED}, 1);
    }
    Atomics.add(c, ${DONE}, 1);
    Atomics.notify(c, ${DONE});
  }
};
if (inNode) port.once('message', start);
else port.onmessage = (e) => { port.onmessage = null; start(e.data); };
`;

interface AnyWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

/** Workers over one shared memory, plus the calling thread. */
export class ThreadPool {
  private readonly control: Int32Array;
  private stopped = false;

  private constructor(
    private readonly workers: readonly AnyWorker[],
    control: SharedArrayBuffer,
    /** Whether this thread may block in Atomics.wait (not on a browser's main thread, which spins). */
    private readonly canBlock: boolean,
  ) {
    this.control = new Int32Array(control);
  }

  /** Threads that run a dispatch: the workers and the calling thread. */
  get size(): number {
    return this.workers.length + 1;
  }

  /** Starts `workers` workers over the shared `memory`; resolves once each is ready. */
  static async start(workers: number, memory: WebAssembly.Memory): Promise<ThreadPool> {
    const control = new SharedArrayBuffer((HEADER + workers * AREA) * 4);
    const made = await Promise.all(Array.from({ length: workers }, () => spawn()));
    const pool = new ThreadPool(made.map((w) => w.worker), control, canBlock(new Int32Array(control)));
    try {
      await Promise.all(made.map((w, index) => w.init({ memory, control, index })));
    } catch (e) {
      pool.terminate();
      throw e;
    }
    for (const w of made) w.unref();
    return pool;
  }

  /**
   * Runs lists[0] on this thread with `here` and lists[1 …] on the workers, returning when all are
   * done. Lists longer than a worker's area run in rounds (lists are independent of each other).
   */
  run(lists: readonly (readonly number[])[], here: (calls: readonly number[]) => void): void {
    if (this.stopped) throw new Error('wasm threads: the pool was stopped');
    if (lists.length - 1 > this.workers.length) throw new Error(`wasm threads: ${lists.length} lists for ${this.size} threads`);
    const c = this.control;
    const offsets = Array<number>(this.size).fill(0);
    let first = true;
    for (;;) {
      // Each worker's next calls that fit its area, at call boundaries.
      let busy = false;
      for (let w = 0; w < this.workers.length; w++) {
        const list = lists[w + 1] ?? [];
        const base = HEADER + w * AREA;
        let p = offsets[w + 1];
        const from = p;
        const size = (q: number) => 4 + list[q + 2] + 2 * list[q + 3];
        while (p < list.length && p - from + size(p) <= AREA - 1) p += size(p);
        if (p === from && p < list.length) throw new Error('wasm threads: a call does not fit a worker area');
        c[base] = p - from;
        c.set(list.slice(from, p), base + 1);
        offsets[w + 1] = p;
        busy ||= p > from;
      }
      if (!busy && !first) break;
      Atomics.store(c, DONE, 0);
      Atomics.add(c, EPOCH, 1);
      Atomics.notify(c, EPOCH);
      try {
        if (first) here(lists[0]);
      } finally {
        first = false;
        this.join(); // the workers finish before this thread's error (if any) goes on
      }
      if (Atomics.load(c, FAILED) !== 0) {
        Atomics.store(c, FAILED, 0);
        throw new Error('wasm threads: a worker failed running a kernel');
      }
      if (lists.every((l, i) => i === 0 || offsets[i] >= l.length)) break; // else the next round
    }
  }

  /** Waits until every worker has finished the current dispatch. */
  private join(): void {
    const c = this.control;
    const need = this.workers.length;
    for (let done = Atomics.load(c, DONE); done < need; done = Atomics.load(c, DONE)) {
      if (this.canBlock) Atomics.wait(c, DONE, done);
    }
  }

  /** Stops and terminates the workers (idempotent). */
  terminate(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, EPOCH, 1);
    Atomics.notify(this.control, EPOCH);
    for (const w of this.workers) void w.terminate();
  }
}

/** Whether Atomics.wait may block this thread (it throws on a browser's main thread). */
function canBlock(c: Int32Array): boolean {
  try {
    Atomics.wait(c, STOP, 1, 0); // STOP is 0: returns 'not-equal' at once where waiting is allowed
    return true;
  } catch {
    return false;
  }
}

interface Spawned {
  worker: AnyWorker;
  init(message: Record<string, unknown>): Promise<void>;
  unref(): void;
}

/** A worker running WORKER_SOURCE: a worker_threads Worker in Node, else a classic Web Worker from a Blob URL. */
async function spawn(): Promise<Spawned> {
  const ready = (on: (listener: (data: unknown) => void) => void, onError: (listener: (e: unknown) => void) => void, post: (m: unknown) => void) =>
    (message: Record<string, unknown>) =>
      new Promise<void>((resolve, reject) => {
        on((data) => {
          const d = data as { ready?: boolean; error?: string };
          if (d.ready) resolve();
          else reject(new Error(`wasm threads: a worker could not start: ${d.error ?? 'unknown error'}`));
        });
        onError((e) => reject(e instanceof Error ? e : new Error(`wasm threads: a worker could not start: ${String(e)}`)));
        post(message);
      });
  if (isNode()) {
    const name = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ name)) as typeof import('node:worker_threads');
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    return {
      worker,
      init: ready((l) => worker.once('message', l), (l) => worker.once('error', l), (m) => worker.postMessage(m)),
      unref: () => worker.unref(),
    };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  return {
    worker,
    init: ready(
      (l) => worker.addEventListener('message', (e) => l(e.data), { once: true }),
      (l) => worker.addEventListener('error', (e) => l(e.message || 'worker error'), { once: true }),
      (m) => worker.postMessage(m),
    ),
    unref: () => {},
  };
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/**
 * How many threads the pool would run by default, and why fewer where the platform does not allow
 * threads: [threads, note]. Node: os.availableParallelism(); pages: navigator.hardwareConcurrency
 * where crossOriginIsolated (SharedArrayBuffer and shared wasm memory need it); capped at `cap`.
 */
export async function defaultThreads(cap: number): Promise<[number, string]> {
  const unavailable = threadsUnavailable();
  if (unavailable) return [1, unavailable];
  let cores = 1;
  if (isNode()) {
    const name = 'node:os';
    const os = (await import(/* @vite-ignore */ name)) as typeof import('node:os');
    cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  } else {
    cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  }
  const n = Math.max(1, Math.min(cap, cores));
  return [n, `${n} thread${n === 1 ? '' : 's'}: ${cores} core${cores === 1 ? '' : 's'}${cores > cap ? ` (capped at ${cap})` : ''}`];
}

/** Why this platform cannot run threads, or null where it can. */
export function threadsUnavailable(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (g.crossOriginIsolated === false) return 'one thread: the page is not cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return 'one thread: this engine has no SharedArrayBuffer';
  if (!isNode() && typeof g.Worker !== 'function') return 'one thread: this context cannot start Web Workers';
  return null;
}
