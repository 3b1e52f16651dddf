// GPU buffers reused by size class and usage. A freed buffer joins the free list only at the
// next submit: until then the open command encoder may still read it, and a queue.writeBuffer
// into it would run before that encoder. After the submit, queue order makes reuse safe.

/** Rounds up to a size class (1, 1.25, 1.5 or 1.75 times a power of two, at least 256 bytes), bounding waste to 25%. */
export function sizeClass(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) if (pow * f >= bytes) return pow * f;
  return pow * 2;
}

/** Free lists of GPU buffers keyed by usage and size class. */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  /** Bytes of buffers handed out and not yet released. */
  bytesInUse = 0;
  /** Bytes of buffers waiting in free lists (and for the next submit). */
  bytesPooled = 0;
  /** Buffers created (cache misses), for stats. */
  creations = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` with exactly `usage`. */
  acquire(bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const reused = list?.pop();
    this.bytesInUse += size;
    if (reused) {
      this.bytesPooled -= size;
      return reused;
    }
    this.creations++;
    return this.device.createBuffer({ size, usage });
  }

  /** Gives a buffer back; it becomes reusable at the next `onSubmit`. */
  release(buffer: GPUBuffer): void {
    this.bytesInUse -= buffer.size;
    this.bytesPooled += buffer.size;
    this.pending.push(buffer);
  }

  /** Called right after a queue.submit: buffers released before it may now be reused. */
  onSubmit(): void {
    for (const b of this.pending) {
      const key = `${b.usage}:${b.size}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(b);
    }
    this.pending = [];
  }

  /** Destroys every pooled buffer. */
  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    for (const b of this.pending) b.destroy();
    this.free.clear();
    this.pending = [];
    this.bytesPooled = 0;
  }
}
