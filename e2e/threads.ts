// The threads page: the CPU backend on Web Workers (the e2e server sends COOP/COEP, so the page is
// cross-origin isolated) runs matMul, a conv with its gradients and a few Adam steps on 2 threads
// and on 1, from the same inputs; e2e/threads.spec.ts checks the results are the same bits.
import * as nt from '../src/index.js';
import type { CpuBackend } from '../src/backend/cpu.js';
import { engine } from '../src/engine.js';

/** What the page found, for the spec to check. */
export interface ThreadsReport {
  isolated: boolean;
  info: { threads: number; note: string }[];
  /** Per run (2 threads, then 1): kernel steps the workers shared. */
  parallelRuns: number[];
  /** Per run (2 threads, then 1): every output's float32 bits, as numbers. */
  outputs: number[][];
}

async function once(): Promise<number[]> {
  const a = nt.randomUniform([300, 200], { minval: -1, seed: 1 });
  const b = nt.randomUniform([200, 100], { minval: -1, seed: 2 });
  const x = nt.randomUniform([4, 20, 21, 3], { minval: -1, seed: 3 });
  const f = nt.randomUniform([3, 3, 3, 16], { minval: -1, seed: 4 });
  const loss = (xs: nt.Tensor, fs: nt.Tensor) => nt.sum(nt.square(nt.conv2d(xs, fs, { padding: 'same' })));
  const [dx, df] = nt.grads(loss)([x, f]);
  const parts = await Promise.all([nt.matMul(a, b), nt.conv2d(x, f, { padding: 'same' }), dx, df].map((t) => t.data()));
  const bits = parts.flatMap((p) => Array.from(new Uint32Array(Float32Array.from(p).buffer)));
  nt.dispose([a, b, x, f, dx, df]);
  return bits;
}

async function run(): Promise<ThreadsReport> {
  const info: ThreadsReport['info'] = [];
  const outputs: number[][] = [];
  const parallelRuns: number[] = [];
  for (const threads of [2, 1]) {
    await nt.setBackend('cpu', { threads });
    info.push(nt.cpuThreads());
    const before = (engine.backend as CpuBackend).parallelRuns;
    outputs.push(await once());
    parallelRuns.push((engine.backend as CpuBackend).parallelRuns - before);
  }
  await nt.setBackend('cpu');
  info.push(nt.cpuThreads());
  return { isolated: globalThis.crossOriginIsolated === true, info, parallelRuns, outputs };
}

declare global {
  interface Window {
    threads: { run: typeof run };
  }
}
window.threads = { run };
