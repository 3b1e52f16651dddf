// When a step runs eagerly, is recorded, or is replayed. A model keeps one StepPlans; each kind of
// step (fit, evaluate, predict, …) and batch shape gets its own plan. The first steps of a key run
// eagerly under recording; once two consecutive recordings match, the plan replays every later
// step. A step that cannot be replayed (it reads data back, creates variables, or does different
// work each time) keeps running eagerly. Anything that changes what a step computes — layers,
// trainable flags, the optimizer and its hyperparameters, the backend — changes the signature the
// model passes, which drops the plans made before.
import { engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { StepPlan } from './plan.js';
import { Recording } from './recording.js';

let plansEnabled = true;

/**
 * Turns step plans on (the default) or off. Off, every step of fit/evaluate/predict/trainOnBatch
 * runs eagerly through autograd and fusion — for debugging, as setElementwiseFusion(false) is.
 */
export function setStepPlans(on: boolean): void {
  plansEnabled = on;
}

/** Whether step plans are on. */
export function stepPlansEnabled(): boolean {
  return plansEnabled;
}

/** Recordings of one key that did not match before a plan is given up (work that differs each step). */
const MAX_MISMATCHES = 3;

interface Entry {
  plan?: StepPlan;
  last?: Recording;
  mismatches: number;
  /** Why the step runs eagerly for good, if it does. */
  eagerBecause?: string;
}

/** What a StepPlans did, for tests and debugging. */
export interface StepPlanStats {
  eager: number;
  recorded: number;
  replayed: number;
  /** Keys whose steps run eagerly for good, with the reason. */
  unplannable: Record<string, string>;
}

/** The plans of one model, by step kind and batch shape. */
export class StepPlans {
  private readonly entries = new Map<string, Entry>();
  private signature = '';
  private counts = { eager: 0, recorded: 0, replayed: 0 };

  /**
   * Runs one step: `step` computes on `inputs` and returns its results (it may also assign
   * variables); the same function of the same shapes must do the same work every call. `key`
   * names the kind of step and `signature` what the model's configuration is now.
   */
  run(key: string, signature: string, inputs: readonly Tensor[], step: () => Tensor[]): Tensor[] {
    if (!plansEnabled) {
      this.counts.eager++;
      return engine.tidy(step);
    }
    if (signature !== this.signature) {
      this.dispose();
      this.signature = signature;
    }
    const fullKey = `${key}|${inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(';')}`;
    let entry = this.entries.get(fullKey);
    if (!entry) this.entries.set(fullKey, (entry = { mismatches: 0 }));
    if (entry.plan) {
      this.counts.replayed++;
      return entry.plan.replay(inputs);
    }
    if (entry.eagerBecause) {
      this.counts.eager++;
      return engine.tidy(step);
    }
    this.counts.recorded++;
    const { outputs, recording } = engine.recordStep(inputs, step);
    if (!recording.failure && entry.last?.matches(recording)) {
      entry.plan = new StepPlan(recording);
      entry.last = undefined;
      return outputs;
    }
    // The first steps may differ from the rest (they build layers and create optimizer slots).
    if (entry.last || recording.failure) entry.mismatches++;
    if (entry.mismatches >= MAX_MISMATCHES) entry.eagerBecause = recording.failure ?? 'the step did different work each time it ran';
    entry.last = recording.failure ? undefined : recording;
    return outputs;
  }

  stats(): StepPlanStats {
    const unplannable: Record<string, string> = {};
    for (const [k, e] of this.entries) if (e.eagerBecause) unplannable[k] = e.eagerBecause;
    return { ...this.counts, unplannable };
  }

  /** Drops every plan (freeing the storage plans keep). */
  dispose(): void {
    for (const e of this.entries.values()) e.plan?.dispose();
    this.entries.clear();
  }
}
