// Step plans: a training, evaluation or prediction step recorded once per batch shape and replayed
// for later batches without autograd, fusion, shape rules or kernel building. A replay binds the
// recorded kernel calls to this step's storages (the batch, the variables' current values, storage
// the plan keeps for temporaries and constants, fresh storage for results), runs them in the
// recorded order and points the variables at their new values, as the eager step would have.
// The same kernels run in the same order, so results are those of the eager step, bit for bit.
import type { Backend, Storage } from '../backend/backend.js';
import { engine } from '../engine.js';
import { BackendError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Recording, Slot } from './recording.js';

/** A recorded step, ready to replay; holds storage for its temporaries and constants until disposed. */
export class StepPlan {
  /** The storage each slot binds when it does not change between replays (null: bound per replay). */
  private readonly fixed: (Storage | null)[];
  private readonly owned = new Set<Storage>();
  private readonly backend: Backend;
  private disposed = false;

  constructor(private readonly recording: Recording) {
    this.backend = recording.backend;
    this.fixed = recording.slots.map(() => null);
    const temps: { slot: Slot; index: number }[] = [];
    recording.slots.forEach((slot, i) => {
      if (slot.kind === 'pinned') this.fixed[i] = this.own(slot.storage, false);
      else if (slot.kind === 'constant') {
        const s = this.own(this.backend.allocate(slot.size, slot.dtype), true);
        this.backend.write(s, slot.values!);
        this.fixed[i] = s;
      } else if (slot.kind === 'temp') temps.push({ slot, index: i });
    });
    this.placeTemps(temps);
  }

  /** Runs the step on `inputs` (same shapes and dtypes as recorded); returns the step's results. */
  replay(inputs: readonly Tensor[]): Tensor[] {
    if (this.disposed) throw new BackendError('step plan: replayed after it was disposed');
    const { slots, runs, assigns, returns } = this.recording;
    const storages = this.fixed.slice();
    const external: Storage[] = [];
    slots.forEach((slot, i) => {
      if (slot.kind === 'input') storages[i] = inputs[slot.input!].use('step plan');
      else if (slot.kind === 'variable') storages[i] = slot.variable!.use('step plan');
      else return;
      if (storages[i]!.size !== slot.size || storages[i]!.dtype !== slot.dtype) {
        throw new BackendError(`step plan: an input holds ${storages[i]!.dtype} × ${storages[i]!.size}, recorded as ${slot.dtype} × ${slot.size}`);
      }
      external.push(storages[i]!);
    });
    // Values still pending (fused, not computed) must exist before kernels read them.
    engine.graph.realize(external);
    const made: Storage[] = [];
    try {
      slots.forEach((slot, i) => {
        if (slot.kind === 'result') made.push((storages[i] = this.backend.allocate(slot.size, slot.dtype)));
      });
      for (const run of runs) {
        this.backend.run(
          run.call,
          run.inputs.map((i) => storages[i]!),
          run.outputs.map((i) => storages[i]!),
        );
      }
    } catch (e) {
      // Nothing was assigned yet: the variables keep the values they had before the step.
      for (const s of made) this.backend.free(s);
      throw e;
    }
    const kept = new Set<Storage>();
    for (const { variable, slot } of assigns) {
      engine.adopt(variable, storages[slot]!);
      kept.add(storages[slot]!);
    }
    const outputs = returns.map(({ slot, shape }) => {
      kept.add(storages[slot]!);
      return engine.makeTensor(shape, slots[slot].dtype, storages[slot]!, 'stepPlan');
    });
    // A result that was only read by the step's later kernels (none, by the recording's checks).
    for (const s of made) if (!kept.has(s)) this.backend.free(s);
    return outputs;
  }

  /** Frees the storage the plan keeps. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.owned) engine.releaseStorage(s, this.backend);
    this.owned.clear();
  }

  /** Bytes of storage the plan keeps between replays. */
  get bytesKept(): number {
    let bytes = 0;
    for (const s of this.owned) bytes += s.size * 4;
    return bytes;
  }

  private own(s: Storage, made: boolean): Storage {
    if (!made && this.owned.has(s)) return s;
    engine.retainStorage(s);
    this.owned.add(s);
    return s;
  }

  /**
   * Storage for temporaries: one per group of temps of the same size and dtype whose lifetimes
   * (first to last kernel that binds them) do not overlap, as the eager step's pool would share.
   */
  private placeTemps(temps: { slot: Slot; index: number }[]): void {
    const free = new Map<string, { storage: Storage; busyUntil: number }[]>();
    temps.sort((a, b) => a.slot.first - b.slot.first);
    for (const { slot, index } of temps) {
      const key = `${slot.dtype}:${slot.size}`;
      const list = free.get(key) ?? [];
      free.set(key, list);
      let entry = list.find((e) => e.busyUntil < slot.first);
      if (!entry) list.push((entry = { storage: this.own(this.backend.allocate(slot.size, slot.dtype), true), busyUntil: -1 }));
      entry.busyUntil = slot.last;
      this.fixed[index] = entry.storage;
    }
  }
}
