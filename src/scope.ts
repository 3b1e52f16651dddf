// Memory scopes: `tidy` frees what a function created and did not return; `dispose` frees
// tensors now; `memory` reports what is live, so tests can assert a loop does not leak.
import { engine, type MemoryInfo } from './engine.js';
import { Tensor } from './tensor.js';

/**
 * Runs `fn` and disposes every tensor it created except those in its result (a tensor, or
 * arrays/objects/Maps of them). Works with async functions too, as long as no other tensor
 * work interleaves with theirs.
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

/** Live tensors and bytes on the current backend. */
export function memory(): MemoryInfo {
  return engine.memory();
}
