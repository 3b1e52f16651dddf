// Which ops a test checks, declared and verified: `covering({ forward, gradient }, body)` runs
// body and fails unless every op named in `forward` ran in it and every op named in `gradient`
// had its gradient taken in it. test/registry.test.ts reads these declarations (string literals
// in calls inside tests, found by the TypeScript parser, so comments and strings do not count)
// and requires one for every op of the registry.
import { expect } from 'vitest';
import { engine } from '../../src/engine.js';
import type { OpDef } from '../../src/ops/op.js';

/** Op names a test checks: forward passes, and gradients. */
export interface Coverage {
  forward?: readonly string[];
  gradient?: readonly string[];
}

interface Seen {
  ran: Set<string>;
  differentiated: Set<string>;
}

/** Recorders of the covering() calls in progress (nested calls each see everything). */
const active = new Set<Seen>();
/** One stand-in per OpDef whose gradient reports itself, so defs keep a stable identity per run. */
const watched = new WeakMap<OpDef<never>, OpDef<never>>();

function watch<A>(def: OpDef<A>): OpDef<A> {
  const key = def as unknown as OpDef<never>;
  let stand = watched.get(key);
  if (!stand) {
    const grad = def.grad;
    const reported: OpDef<A>['grad'] = grad && ((...args) => {
      for (const seen of active) seen.differentiated.add(def.name);
      return grad(...args);
    });
    stand = Object.create(def, { grad: { value: reported } }) as OpDef<never>;
    watched.set(key, stand);
  }
  return stand as unknown as OpDef<A>;
}

let original: typeof engine.runOp | null = null;

function install(): void {
  if (original) return;
  const run = engine.runOp;
  original = run;
  engine.runOp = function <A>(this: typeof engine, def: OpDef<A>, inputs: Parameters<typeof run>[1], attrs: A) {
    const outputs = run.call<typeof engine, [OpDef<A>, typeof inputs, A], ReturnType<typeof run>>(this, watch(def), inputs, attrs);
    for (const seen of active) seen.ran.add(def.name);
    return outputs;
  } as typeof engine.runOp;
}

function uninstall(): void {
  if (active.size > 0 || !original) return;
  engine.runOp = original;
  original = null;
}

/**
 * Runs `body` (a test's checks) and fails unless each op in `forward` ran during it and each op
 * in `gradient` had its gradient computed during it. Name ops with string literals: the
 * registry meta-test reads them from the source.
 */
export async function covering({ forward = [], gradient = [] }: Coverage, body: () => Promise<void> | void): Promise<void> {
  const seen: Seen = { ran: new Set(), differentiated: new Set() };
  install();
  active.add(seen);
  try {
    await body();
  } finally {
    active.delete(seen);
    uninstall();
  }
  expect(forward.filter((n) => !seen.ran.has(n)), 'ops declared as checked forward that did not run').toEqual([]);
  expect(gradient.filter((n) => !seen.differentiated.has(n)), 'ops declared as checked backward whose gradient was not taken').toEqual([]);
}
