// The CPU backend's tensor memory when it runs wasm kernels: one growable WebAssembly.Memory with
// a free-list allocator over it, so kernels read and write tensors in place (no copy per kernel).
// Growing the memory detaches every ArrayBuffer view of it: views are derived afresh on each use.
// With threads the memory is shared (a SharedArrayBuffer under it, whose `memory.buffer` object is
// replaced when it grows): `setShared` moves the heap's bytes to a memory of the other kind.

/** Allocations are rounded to whole cache lines; it also keeps v128 accesses aligned. */
const ALIGN = 64;
const PAGE = 65536;
/** A shared memory's maximum (4 GiB, wasm32's whole address space): shared memories must declare one. */
export const SHARED_MAX_PAGES = 65536;

/** A bump allocator with exact-size free lists: a training step frees and allocates the same sizes each step, so memory stays flat. */
export class WasmHeap {
  /** The heap's memory; replaced (same bytes, same addresses) by `setShared`. */
  memory = new WebAssembly.Memory({ initial: 16 });
  /** Free blocks by rounded byte size. */
  private readonly free = new Map<number, number[]>();
  /** First byte never handed out. Byte 0 is kept back, so no storage starts at address 0. */
  private top = ALIGN;
  private views?: { buffer: ArrayBufferLike; f32: Float32Array; i32: Int32Array };
  /** Bytes in blocks handed out and not released. */
  bytesInUse = 0;

  /** Reserves `bytes` (zeroed) and returns their address. */
  alloc(bytes: number): number {
    const size = roundUp(Math.max(bytes, 1));
    const ptr = this.free.get(size)?.pop() ?? this.bump(size);
    this.bytesInUse += size;
    new Uint8Array(this.memory.buffer, ptr, size).fill(0);
    return ptr;
  }

  /** Returns a block from `alloc(bytes)`. */
  release(ptr: number, bytes: number): void {
    const size = roundUp(Math.max(bytes, 1));
    this.bytesInUse -= size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
  }

  /** Whether the memory is shared (threads run kernels over it). */
  get shared(): boolean {
    return typeof SharedArrayBuffer !== 'undefined' && this.memory.buffer instanceof SharedArrayBuffer;
  }

  /**
   * Moves the heap to a shared memory (threads) or back to a plain one, copying its bytes: every
   * address stays valid. Kernel modules instantiated over the old memory must be made again.
   */
  setShared(shared: boolean): void {
    if (shared === this.shared) return;
    const old = new Uint8Array(this.memory.buffer);
    const initial = old.byteLength / PAGE;
    const memory = shared
      ? new WebAssembly.Memory({ initial, maximum: SHARED_MAX_PAGES, shared: true })
      : new WebAssembly.Memory({ initial });
    new Uint8Array(memory.buffer).set(old.subarray(0, this.top));
    this.memory = memory;
    this.views = undefined;
  }

  /** Bytes of the memory this heap has carved into blocks (in use or free). */
  get bytesReserved(): number {
    return this.top;
  }

  /** A float32 view of the whole memory, valid until the next `alloc`. */
  f32(): Float32Array {
    return this.currentViews().f32;
  }

  /** An int32 view of the whole memory, valid until the next `alloc`. */
  i32(): Int32Array {
    return this.currentViews().i32;
  }

  private currentViews(): { f32: Float32Array; i32: Int32Array } {
    // A shared memory's buffer object is replaced when it grows; a plain one's is detached.
    const buffer = this.memory.buffer;
    if (this.views?.buffer !== buffer) this.views = { buffer, f32: new Float32Array(buffer), i32: new Int32Array(buffer) };
    return this.views;
  }

  private bump(size: number): number {
    const ptr = this.top;
    const end = ptr + size;
    if (end > this.memory.buffer.byteLength) {
      const pages = Math.ceil((end - this.memory.buffer.byteLength) / PAGE);
      // Grow by at least half again, so a growing model does not grow the memory per tensor.
      this.memory.grow(Math.max(pages, Math.ceil(this.memory.buffer.byteLength / PAGE / 2)));
    }
    this.top = end;
    return ptr;
  }
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}
