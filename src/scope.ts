// Memory scopes: `tidy` frees what a function created and did not return; `dispose` frees
// tensors now; `memory` reports what is live, so tests can assert a loop does not leak.
import { engine, type LiveTensor, type MemoryInfo } from './engine.js';
import { Tensor } from './tensor.js';

/**
 * Runs `fn` and disposes every tensor it created except those in its result (a tensor, or
 * arrays/objects/Maps of them). `fn` must be synchronous: an async function throws an
 * ArgumentError (after disposing what it made before its first `await`), because a scope that
 * stayed open across an `await` would collect, and later dispose, tensors that other code made
 * meanwhile. Across awaits, use `tidy` around the synchronous parts and `dispose`/`keep`.
 */
export function tidy<T>(fn: () => T): T {
  return engine.tidy(fn);
}

/** Keeps `t` alive past the enclosing `tidy` scopes. */
export function keep<T extends Tensor>(t: T): T {
  return engine.keep(t);
}

/** Disposes a tensor, or every tensor in an array or object. */
export function dispose(x: Tensor | readonly Tensor[] | Record<string, Tensor>): void {
  if (x instanceof Tensor) x.dispose();
  else for (const t of Array.isArray(x) ? x : Object.values(x)) t.dispose();
}

/** Live tensors (in all, and by the op that made them) and bytes on the current backend. */
export function memory(): MemoryInfo {
  return engine.memory();
}

/**
 * Every live tensor, oldest first, with the op that made it: a leak report. Take the ids
 * before a loop and list what is new after it to see what the loop leaks.
 */
export function liveTensors(): LiveTensor[] {
  return engine.liveTensors();
}
