// What one step did on the backend, written down while it ran eagerly: every kernel call (after
// fusion) with the storages it read and wrote, named by slots, plus the variables it pointed at
// new storage. Two recordings of consecutive steps that match slot for slot and uniform for
// uniform describe a step that does the same work every time; src/graph/plan.ts replays it.
import type { Backend, Storage } from '../backend/backend.js';
import type { KernelCall, Uniform } from '../backend/kernel.js';
import type { DType, TypedArray } from '../dtype.js';
import type { Tensor, Variable } from '../tensor.js';

/**
 * Where a slot's storage comes from at replay:
 * - input: the step's argument tensors (the batch), by position;
 * - variable: the storage a variable holds when the step starts;
 * - pinned: a storage that existed before the step and is no variable's (kept alive by the plan);
 * - constant: made during the step from host values (the plan keeps one copy);
 * - temp: made and freed during the step (the plan keeps storage for it, shared between temps
 *   whose lifetimes do not overlap);
 * - result: made during the step and alive after it (assigned to a variable or returned): fresh
 *   storage at every replay, since whoever holds the last step's value may still read it.
 */
export type SlotKind = 'input' | 'variable' | 'pinned' | 'constant' | 'temp' | 'result';

/** One storage the step touched. */
export interface Slot {
  readonly index: number;
  kind: SlotKind;
  readonly size: number;
  readonly dtype: DType;
  /** The storage during the recording (for pinned slots: the one the plan binds). */
  readonly storage: Storage;
  /** input: which argument. */
  input?: number;
  /** variable: whose storage it is. */
  variable?: Variable;
  /** constant: the values written. */
  values?: TypedArray;
  /** Index of the first and last event that uses it (temps' lifetimes). */
  first: number;
  last: number;
}

/** One kernel call, its storages named by slot index. */
export interface RecordedRun {
  readonly call: KernelCall;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

/** What the engine reports to a recording while a step runs (see Engine.record). */
export interface StepObserver {
  allocated(storage: Storage): void;
  wrote(storage: Storage, values: TypedArray): void;
  ran(call: KernelCall, inputs: readonly Storage[], outputs: readonly Storage[]): void;
  freed(storage: Storage): void;
  assigned(variable: Variable, storage: Storage): void;
  /** Something a replay could not reproduce happened (a read, a new variable): the recording is unusable. */
  unsupported(why: string): void;
}

/** One eager step, written down. */
export class Recording implements StepObserver {
  readonly slots: Slot[] = [];
  readonly runs: RecordedRun[] = [];
  /** Variables pointed at a slot's storage, in order (the last assignment of a variable wins); set by finish. */
  readonly assigns: { variable: Variable; slot: number }[] = [];
  /** Slots of the tensors the step returned, with their shapes. */
  returns: { slot: number; shape: readonly number[] }[] = [];
  /** Why this step cannot be replayed, if it cannot. */
  failure: string | null = null;
  private readonly slotOf = new Map<Storage, number>();
  private readonly assigned_: { variable: Variable; storage: Storage }[] = [];
  /** Storages allocated during the step and not freed yet. */
  private readonly madeHere = new Set<Storage>();

  constructor(
    readonly backend: Backend,
    inputs: readonly Tensor[],
    /** Live variables by the storage they hold at the start. */
    private readonly variables: ReadonlyMap<Storage, Variable>,
  ) {
    inputs.forEach((t, i) => {
      const slot = this.addSlot(t.storage!, 'input');
      if (slot.input === undefined) slot.input = i;
      else this.unsupported(`argument ${i} shares its storage with argument ${slot.input}`);
    });
  }

  allocated(storage: Storage): void {
    this.madeHere.add(storage);
  }

  wrote(storage: Storage, values: TypedArray): void {
    if (!this.madeHere.has(storage) || this.slotOf.has(storage)) return this.unsupported('a storage was written after kernels used it');
    this.addSlot(storage, 'constant').values = values.slice();
  }

  ran(call: KernelCall, inputs: readonly Storage[], outputs: readonly Storage[]): void {
    const at = this.runs.length;
    this.runs.push({ call, inputs: inputs.map((s) => this.use(call, s, false, at)), outputs: outputs.map((s) => this.use(call, s, true, at)) });
  }

  freed(storage: Storage): void {
    this.madeHere.delete(storage);
  }

  assigned(variable: Variable, storage: Storage): void {
    // The value may still be pending (fused, computed later): its slot is looked up in finish.
    this.assigned_.push({ variable, storage });
  }

  unsupported(why: string): void {
    this.failure ??= why;
  }

  /** Closes the recording once the step returned `outputs` and its pending work ran. */
  finish(outputs: readonly Tensor[]): void {
    for (const { variable, storage } of this.assigned_) {
      const slot = this.slotOf.get(storage);
      if (slot === undefined) this.unsupported(`variable '${variable.name ?? variable.id}' was given a value no kernel of the step made`);
      else this.assigns.push({ variable, slot });
    }
    this.returns = outputs.map((t) => {
      const slot = this.slotOf.get(t.storage!);
      if (slot === undefined) {
        this.unsupported('the step returned a tensor that no kernel of it made');
        return { slot: -1, shape: t.shape };
      }
      return { slot, shape: t.shape };
    });
    // Made here and still alive: a result, which someone must hold (a variable or the caller).
    const held = new Set([...this.assigns.map((a) => a.slot), ...this.returns.map((r) => r.slot)]);
    for (const s of this.madeHere) {
      const index = this.slotOf.get(s);
      if (index === undefined) continue; // allocated but never used by a kernel (a zero-size tensor)
      const slot = this.slots[index];
      if (slot.kind === 'temp') slot.kind = 'result';
      if (!held.has(index)) this.unsupported(`a tensor made by ${this.producerName(index)} outlives the step without being returned or assigned to a variable`);
    }
  }

  /** True if `other` did the same work on the same variables, so either describes the step. */
  matches(other: Recording): boolean {
    if (this.failure || other.failure || this.backend !== other.backend) return false;
    if (this.slots.length !== other.slots.length || this.runs.length !== other.runs.length || this.assigns.length !== other.assigns.length) return false;
    const sameSlots = this.slots.every((a, i) => {
      const b = other.slots[i];
      if (a.kind !== b.kind || a.size !== b.size || a.dtype !== b.dtype || a.input !== b.input || a.variable !== b.variable) return false;
      if (a.kind === 'pinned' && a.storage !== b.storage) return false;
      return a.kind !== 'constant' || sameValues(a.values!, b.values!);
    });
    if (!sameSlots) return false;
    const sameRuns = this.runs.every((a, i) => {
      const b = other.runs[i];
      return a.call.key === b.call.key && sameList(a.inputs, b.inputs) && sameList(a.outputs, b.outputs) && sameList(a.call.workgroups, b.call.workgroups) && sameUniforms(a.call.uniforms, b.call.uniforms);
    });
    return (
      sameRuns &&
      this.assigns.every((a, i) => a.variable === other.assigns[i].variable && a.slot === other.assigns[i].slot) &&
      this.returns.length === other.returns.length &&
      this.returns.every((r, i) => r.slot === other.returns[i].slot && sameList(r.shape, other.returns[i].shape))
    );
  }

  /** The slot of a storage a kernel binds, added at its first use. */
  private use(call: KernelCall, s: Storage, output: boolean, at: number): number {
    let index = this.slotOf.get(s);
    if (index === undefined) {
      if (this.madeHere.has(s)) {
        if (!output) this.unsupported(`${call.name} read a storage nothing wrote`);
        index = this.addSlot(s, 'temp').index;
      } else if (output) {
        this.unsupported(`${call.name} wrote a storage made before the step`);
        index = this.addSlot(s, 'pinned').index;
      } else {
        const variable = this.variables.get(s);
        const slot = this.addSlot(s, variable ? 'variable' : 'pinned');
        slot.variable = variable;
        index = slot.index;
      }
    } else if (output) {
      this.unsupported(`${call.name} wrote a storage a second time`);
    }
    this.slots[index].last = at;
    return index;
  }

  private addSlot(storage: Storage, kind: SlotKind): Slot {
    const existing = this.slotOf.get(storage);
    if (existing !== undefined) return this.slots[existing];
    const slot: Slot = { kind, size: storage.size, dtype: storage.dtype, storage, first: this.runs.length, last: this.runs.length, index: this.slots.length };
    this.slotOf.set(storage, slot.index);
    this.slots.push(slot);
    return slot;
  }

  private producerName(slot: number): string {
    return this.runs.find((r) => r.outputs.includes(slot))?.call.name ?? 'a host write';
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameValues(a: TypedArray, b: TypedArray): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

function sameUniforms(a: readonly Uniform[], b: readonly Uniform[]): boolean {
  return a.length === b.length && a.every((u, i) => Object.is(uniformValue(u), uniformValue(b[i])) && Object.keys(u)[0] === Object.keys(b[i])[0]);
}

function uniformValue(u: Uniform): number {
  return 'u32' in u ? u.u32 : 'i32' in u ? u.i32 : u.f32;
}
