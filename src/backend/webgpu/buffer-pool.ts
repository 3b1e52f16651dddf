// GPU buffers reused by size class and usage. A buffer freed while the command encoder is open
// may still be read by a dispatch in it. Reusing it as a later dispatch's output is safe
// (dispatches run in order), but a queue.writeBuffer into it would run before that encoder
// does: such buffers are marked, and `write` swaps them for settled ones until the next submit.

/** Rounds up to a size class (1, 1.25, 1.5 or 1.75 times a power of two, at least 256 bytes), bounding waste to 25%. */
function sizeClass(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) if (pow * f >= bytes) return pow * f;
  return pow * 2;
}

/** Free lists of GPU buffers keyed by usage and size class. */
export class BufferPool {
  /** Released before the last submit: safe for any use. */
  private readonly settled = new Map<string, GPUBuffer[]>();
  /** Released since the last submit: safe as dispatch outputs only. */
  private readonly recent = new Map<string, GPUBuffer[]>();
  /** Buffers handed out from `recent` since the last submit. */
  private readonly unsettled = new Set<GPUBuffer>();
  /** Bytes of buffers handed out and not yet released. */
  bytesInUse = 0;
  /** Bytes of buffers waiting in free lists (and for the next submit). */
  bytesPooled = 0;
  /** Buffers created (cache misses), for stats. */
  creations = 0;

  /** `maxBytes` (the device's maxBufferSize) caps the size classes, so a tensor near it still fits. */
  constructor(
    private readonly device: GPUDevice,
    private readonly maxBytes = Infinity,
  ) {}

  /**
   * A buffer of at least `bytes` with exactly `usage`. With `forWrite`, only a settled buffer
   * (one that queue.writeBuffer may fill right away) is returned.
   */
  acquire(bytes: number, usage: GPUBufferUsageFlags, forWrite = false): GPUBuffer {
    const size = Math.max(bytes, Math.min(sizeClass(bytes), Math.floor(this.maxBytes / 4) * 4));
    const key = `${usage}:${size}`;
    this.bytesInUse += size;
    const settled = this.settled.get(key)?.pop();
    if (settled) {
      this.bytesPooled -= size;
      return settled;
    }
    const recent = forWrite ? undefined : this.recent.get(key)?.pop();
    if (recent) {
      this.bytesPooled -= size;
      this.unsettled.add(recent);
      return recent;
    }
    this.creations++;
    const buffer = this.device.createBuffer({ size, usage });
    order(buffer);
    return buffer;
  }

  /** True if the open encoder may still read `buffer`, so queue.writeBuffer must not touch it. */
  isUnsettled(buffer: GPUBuffer): boolean {
    return this.unsettled.has(buffer);
  }

  /** Gives a buffer back for reuse. */
  release(buffer: GPUBuffer): void {
    this.bytesInUse -= buffer.size;
    this.bytesPooled += buffer.size;
    this.unsettled.delete(buffer);
    push(this.recent, buffer);
  }

  /** Called right after a queue.submit: everything released before it is settled. */
  onSubmit(): void {
    for (const list of this.recent.values()) for (const b of list) push(this.settled, b);
    this.recent.clear();
    this.unsettled.clear();
  }

  /** Destroys every pooled buffer. */
  destroy(): void {
    for (const map of [this.settled, this.recent]) {
      for (const list of map.values()) for (const b of list) b.destroy();
      map.clear();
    }
    this.unsettled.clear();
    this.bytesPooled = 0;
  }
}

/** Creation order of pooled buffers: free lists hand out the oldest buffer first. */
const creationOrder = new WeakMap<GPUBuffer, number>();
let created = 0;

function order(b: GPUBuffer): number {
  let n = creationOrder.get(b);
  if (n === undefined) creationOrder.set(b, (n = created++));
  return n;
}

/**
 * Adds `b` to its free list, kept sorted so that `pop()` returns the oldest buffer. Which buffer
 * a request gets then depends only on which buffers are free, not on the order they were freed
 * in: a training loop settles into handing each op the same buffers every step or two, and the
 * backend's bind groups (cached by buffer) are reused.
 */
function push(map: Map<string, GPUBuffer[]>, b: GPUBuffer): void {
  const key = `${b.usage}:${b.size}`;
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  const n = order(b);
  let i = list.length;
  while (i > 0 && order(list[i - 1]) < n) i--;
  list.splice(i, 0, b);
}
