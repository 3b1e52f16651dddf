// Bind groups cached by layout and bound buffer ranges. A training loop draws the same buffers
// from the pool at every step, so after the first steps a dispatch finds its bind group here
// instead of creating one (creating them was the largest JS cost of encoding a step). The
// uniform block is bound at a dynamic offset, so where it lies in this submit's uniform buffer
// is not part of the key.

/** One storage binding: a buffer, or a window of it. */
export interface BoundRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export class BindGroupCache {
  private readonly groups = new Map<string, GPUBindGroup>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 0;
  /** Bind groups created (cache misses), for stats. */
  creations = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Entries kept before the cache starts over (bounds what stale entries can hold on to). */
    private readonly capacity = 4096,
  ) {}

  /** The bind group of `storage` ranges (bindings 0…) and, after them, `uniform` bound at a dynamic offset. */
  get(layout: GPUBindGroupLayout, storage: readonly BoundRange[], uniform: { buffer: GPUBuffer; size: number } | null): GPUBindGroup {
    let key = `${this.id(layout)}`;
    for (const r of storage) key += `|${this.id(r.buffer)}:${r.offset}:${r.size}`;
    if (uniform) key += `|u${this.id(uniform.buffer)}:${uniform.size}`;
    let group = this.groups.get(key);
    if (group) return group;
    const entries: GPUBindGroupEntry[] = storage.map((r, i) => ({ binding: i, resource: { buffer: r.buffer, offset: r.offset, size: r.size } }));
    if (uniform) entries.push({ binding: storage.length, resource: { buffer: uniform.buffer, offset: 0, size: uniform.size } });
    group = this.device.createBindGroup({ layout, entries });
    this.creations++;
    if (this.groups.size >= this.capacity) this.groups.clear();
    this.groups.set(key, group);
    return group;
  }

  /** Forgets every bind group (their buffers are being replaced or destroyed). */
  clear(): void {
    this.groups.clear();
  }

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }
}
