// Moving a model to the current backend. After setBackend (or a lost device, which leaves the
// weights on the CPU) a model's variables live on another backend: fit, evaluate and trainOnBatch
// carry them over, reading them back; predict, which is synchronous, carries over host storage.
import type { Backend } from '../backend/backend.js';
import { engine } from '../engine.js';
import { DeviceLostError } from '../errors.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Variable } from '../tensor.js';

/** What a model gives to be moved: its weights, and the optimizer whose state goes along. */
export interface Movable {
  readonly name: string;
  readonly weights: Variable[];
  readonly optimizer: Optimizer | null;
}

/**
 * Moves the model's weights and its optimizer's state onto the current backend. Optimizer state
 * on a lost device is gone: the optimizer starts again from its initial values. Weights on a lost
 * device are gone too: a DeviceLostError says so (fit keeps a host copy; other calls do not).
 */
export async function moveToCurrentBackend(model: Movable, op: string): Promise<void> {
  const optimizerState = model.optimizer?.variables?.() ?? [];
  if (optimizerState.some((v) => v.backend.lostReason !== null)) model.optimizer!.dispose();
  const strays = [...model.weights, ...(model.optimizer?.variables?.() ?? [])].filter(away);
  if (strays.length === 0) return;
  checkNotLost(model, strays, op);
  for (const [backend, vars] of byBackend(strays)) {
    const values = backend.readSync ? vars.map((v) => engine.readSync(v, v.use(op))) : await engine.readAll(vars);
    vars.forEach((v, i) => {
      // Another call may have moved it (or disposed it) while this one awaited the read.
      if (away(v) && v.backend === backend) engine.rehome(v, values[i]);
    });
  }
}

/**
 * Moves the model's weights that live in host memory (another backend that reads synchronously:
 * the CPU) onto the current backend; weights elsewhere stay, and the op that uses them says so.
 */
export function moveHostWeightsToCurrentBackend(model: Movable, op: string): void {
  const strays = model.weights.filter(away);
  checkNotLost(model, strays, op);
  for (const v of strays) if (v.backend.readSync) engine.rehome(v, engine.readSync(v, v.use(op)));
}

function away(v: Variable): boolean {
  return !v.isDisposed && v.backend !== engine.backend;
}

function checkNotLost(model: Movable, vars: readonly Variable[], op: string): void {
  const lost = vars.find((v) => v.backend.lostReason !== null);
  if (lost) {
    throw new DeviceLostError(
      `${model.name}.${op}: weight '${lost.name ?? lost.id}' was on a WebGPU device that was lost (${lost.backend.lostReason}), and no host copy ` +
        'of it was kept (fit keeps one; other calls do not); load the model or set its weights again',
    );
  }
}

function byBackend(vars: readonly Variable[]): Map<Backend, Variable[]> {
  const groups = new Map<Backend, Variable[]>();
  for (const v of vars) groups.set(v.backend, [...(groups.get(v.backend) ?? []), v]);
  return groups;
}
