// Small integer ids for objects, so that signatures (strings) can name an object's identity
// without holding it: step plans compare the layers, optimizer and backend a step was recorded with.
const ids = new WeakMap<object, number>();
let next = 0;

/** A stable id for `o`, unique among objects seen in this process. */
export function objectId(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = ++next));
  return id;
}
