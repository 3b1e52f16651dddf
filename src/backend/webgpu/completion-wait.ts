// Waiting for the GPU without taking a CPU core from it.
//
// Dawn's Node binding (the `webgpu` package) polls the device while a map or a work-done promise
// is pending: each poll schedules the next with the global `setImmediate`, so the event loop turns
// about 170 000 times a second and keeps a core busy for the length of the wait. On a hardware GPU
// that wastes a core; on a software adapter (SwiftShader) the emulated GPU *is* the CPU, and the
// poll slows it down: 8 long dispatches ran 3.5 s while polled so, 2.2 s polled once a millisecond
// (2-core VM, BENCHMARKS.md).
//
// So while a wait is pending, the binding's polls are rescheduled through a 1 ms timer: the main
// thread sleeps between them. The first SPIN_MS of a wait still poll at full rate, so that short
// waits (a real GPU's predict batch) see no added latency. The binding's polls are told apart from
// anything else that calls setImmediate by their shape: functions the addon made natively,
// anonymous and without parameters. Outside a wait the global is left as it was.

/** The first part of each wait, polled at full rate (a real GPU's short reads finish within it). */
const SPIN_MS = 2;
/** Time between polls after that: Node's timer resolution. */
const POLL_INTERVAL_MS = 1;

/** Whether this runtime's WebGPU busy-polls while a promise is pending: Node, through Dawn's binding. */
export function pollsWhileWaiting(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

type Scheduler = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

/** Where the binding's polls are scheduled from: the global object in Node (or a fake in tests). */
export interface PollHost {
  setImmediate: Scheduler;
  setTimeout: (callback: (...args: unknown[]) => void, ms: number, ...args: unknown[]) => unknown;
}

/** A poll callback of Dawn's binding: a native function, anonymous, taking no arguments. */
export function isBindingPoll(callback: unknown): boolean {
  return (
    typeof callback === 'function' &&
    callback.name === '' &&
    callback.length === 0 &&
    /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(callback))
  );
}

export class CompletionWait {
  private waits = 0;
  private spinUntil = 0;
  private original: Scheduler | null = null;
  private installed: Scheduler | null = null;
  /** Polls rescheduled through the timer, for stats and tests. */
  delayedPolls = 0;

  constructor(
    readonly enabled: boolean,
    private readonly host: PollHost = globalThis as unknown as PollHost,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Calls `start` (a map or work-done request, which starts the binding's polling) and awaits it, polling slowly. */
  async wait<T>(start: () => Promise<T>): Promise<T> {
    if (!this.enabled) return start();
    this.begin();
    try {
      return await start();
    } finally {
      this.end();
    }
  }

  private begin(): void {
    this.spinUntil = this.now() + SPIN_MS;
    if (this.waits++ > 0) return;
    const original = this.host.setImmediate;
    // Pass-through once no wait is pending: a wrapper someone installed over this one meanwhile
    // (which end() then leaves in place) must not keep delaying polls.
    const throttled: Scheduler = (callback, ...args) => {
      if (this.waits > 0 && isBindingPoll(callback) && this.now() >= this.spinUntil) {
        this.delayedPolls++;
        return this.host.setTimeout(callback, POLL_INTERVAL_MS, ...args);
      }
      return original(callback, ...args);
    };
    // Keep what hangs off the original (util.promisify's custom form).
    Object.defineProperties(throttled, Object.getOwnPropertyDescriptors(original));
    this.original = original;
    this.installed = throttled;
    this.host.setImmediate = throttled;
  }

  private end(): void {
    if (--this.waits > 0) return;
    // Someone who replaced the global meanwhile (fake timers) keeps theirs.
    if (this.host.setImmediate === this.installed) this.host.setImmediate = this.original!;
    this.original = null;
    this.installed = null;
  }
}
