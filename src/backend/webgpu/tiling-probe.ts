// The timing behind `tiling: 'measure'`: a matMul and a tutorial-sized conv2d forward, built by the
// real ops' kernel builders under each tiling, run on the backend and timed to the end of the GPU
// work (queue.onSubmittedWorkDone). Each variant is first warmed up on tiny sizes (the same
// pipelines: sizes are uniforms), so pipeline compilation is not timed and costs no full-size run.
import type { DType } from '../../dtype.js';
import { matMulOp } from '../../ops/matmul.js';
import { conv2dOp } from '../../ops/conv.js';
import { convAttrs } from '../../ops/conv-geometry.js';
import type { OpDef } from '../../ops/op.js';
import type { Tensor } from '../../tensor.js';
import type { Backend, Storage } from '../backend.js';
import type { KernelCall, Tiling } from '../kernel.js';

/** Milliseconds per tiling: a round of each probe run (matMul, conv2d), to the end of its GPU work, summed. */
export type TilingTimings = Record<Tiling, number>;

/**
 * The probe's products: a 256³ matMul and the tutorial CNN's second conv (x [2,26,26,32] ⋆ [3,3,32,64]),
 * each with warm-up shapes that build the same pipelines: the product keeps M and N (which pick
 * its tile) with K = 1, the conv keeps outC.
 */
const PROBES: readonly { op: OpDef<never>; attrs: object; shapes: number[][]; warm: number[][] }[] = [
  { op: matMulOp as OpDef<never>, attrs: { transposeA: false, transposeB: false }, shapes: [[256, 256], [256, 256]], warm: [[256, 1], [1, 256]] },
  { op: conv2dOp as OpDef<never>, attrs: convAttrs('conv2d', {}), shapes: [[2, 26, 26, 32], [3, 3, 32, 64]], warm: [[1, 3, 3, 32], [3, 3, 32, 64]] },
];

/**
 * Timed rounds: while the rounds so far took under ENOUGH_MS in all (fast GPUs, where one round is
 * within submit noise), more, up to MAX_ROUNDS; past that, MIN_ROUNDS, or one when a variant is
 * already CLEAR_LOSS× slower than the other — which keeps slow (software) adapters to one round.
 */
const MIN_ROUNDS = 2;
const MAX_ROUNDS = 10;
const ENOUGH_MS = 50;
const CLEAR_LOSS = 2;

let probeRuns = 0;

/** How many times the probe has run in this process (tests check that a cached choice does not run it). */
export function tilingProbeRuns(): number {
  return probeRuns;
}

interface Job {
  call: KernelCall;
  inputs: Storage[];
  outputs: Storage[];
}

type Probe = (typeof PROBES)[number];

/** The ops' kernel builders read only shapes and dtypes: a stand-in tensor is enough to build the call. */
const shapeOnly = (shape: number[], dtype: DType = 'float32') => ({ shape, dtype, rank: shape.length }) as unknown as Tensor;
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The KernelCall `op` builds for inputs of `shapes` under `tiling`. */
function buildCall({ op, attrs }: Probe, shapes: number[][], tiling: Tiling): KernelCall {
  const inputs = shapes.map((s) => shapeOnly(s));
  return op.kernel(inputs, op.outputs(inputs, attrs as never), attrs as never, { tiling });
}

/** The probes' KernelCalls under `tiling`: the timed one and its warm-up (which should build the same pipeline). */
export function probeCalls(tiling: Tiling): { name: string; call: KernelCall; warm: KernelCall }[] {
  return PROBES.map((p) => ({ name: p.op.name, call: buildCall(p, p.shapes, tiling), warm: buildCall(p, p.warm, tiling) }));
}

/** The probe's input storages (filled with small values) and output storage, shared by both variants. */
function allocate(backend: Backend, { op, attrs, shapes }: Probe): { inputs: Storage[]; outputs: Storage[] } {
  const inputs = shapes.map((shape) => {
    const n = sizeOf(shape);
    const s = backend.allocate(n, 'float32');
    backend.write(s, Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5));
    return s;
  });
  const outputs = op.outputs(shapes.map((s) => shapeOnly(s)), attrs as never).map((o) => backend.allocate(sizeOf(o.shape), 'float32'));
  return { inputs, outputs };
}

/** Runs the job and resolves when the GPU has finished it. */
function runJob(backend: Backend, { call, inputs, outputs }: Job): Promise<void> {
  backend.run(call, inputs, outputs);
  return backend.sync();
}

/**
 * Timings long enough to trust (not submit noise) where a variant is CLEAR_LOSS× slower than the
 * other: it has lost, and timing on would only cost time.
 */
function clearLoss(t: TilingTimings): boolean {
  const [fast, slow] = [Math.min(t.register, t.workgroup), Math.max(t.register, t.workgroup)];
  return fast + slow >= ENOUGH_MS && slow > CLEAR_LOSS * fast;
}

/** Whether another timed round is worth its time (see MIN_ROUNDS). */
function moreRounds(rounds: number, total: TilingTimings): boolean {
  if (rounds >= MAX_ROUNDS) return false;
  if (total.register + total.workgroup < ENOUGH_MS) return true;
  return rounds < MIN_ROUNDS && !clearLoss(total);
}

/**
 * Times one probe under both tilings: each warmed up (compiled) on the warm-up shapes first — or
 * on the full ones where those build a different pipeline — then timed rounds, the order alternating
 * so neither always runs first. Returns the mean milliseconds of a round per tiling.
 */
async function timeProbe(backend: Backend, probe: Probe): Promise<TilingTimings> {
  const bound = allocate(backend, probe);
  try {
    const jobs = {} as Record<Tiling, Job>;
    for (const tiling of ['register', 'workgroup'] as const) {
      const call = buildCall(probe, probe.shapes, tiling);
      const small = buildCall(probe, probe.warm, tiling);
      await runJob(backend, { call: small.key === call.key ? small : call, ...bound });
      jobs[tiling] = { call, ...bound };
    }
    const total: TilingTimings = { register: 0, workgroup: 0 };
    let rounds = 0;
    do {
      const order: Tiling[] = rounds % 2 === 0 ? ['register', 'workgroup'] : ['workgroup', 'register'];
      for (const tiling of order) {
        const t0 = performance.now();
        await runJob(backend, jobs[tiling]);
        total[tiling] += performance.now() - t0;
      }
      rounds++;
    } while (moreRounds(rounds, total));
    return { register: total.register / rounds, workgroup: total.workgroup / rounds };
  } finally {
    for (const s of [...bound.inputs, ...bound.outputs]) backend.free(s);
  }
}

/**
 * Times both tilings on `backend`, probe by probe (matMul, then conv2d), and returns the summed
 * milliseconds per tiling. It stops after a probe where one tiling has clearly lost (on software
 * adapters the matMul decides it, sparing the conv's compilation, the probe's largest cost there;
 * on fast GPUs the times are too short to count as a clear loss, so both probes run).
 */
export async function probeTiling(backend: Backend): Promise<TilingTimings> {
  probeRuns++;
  const total: TilingTimings = { register: 0, workgroup: 0 };
  for (const probe of PROBES) {
    const t = await timeProbe(backend, probe);
    total.register += t.register;
    total.workgroup += t.workgroup;
    if (clearLoss(total)) break;
  }
  return total;
}
