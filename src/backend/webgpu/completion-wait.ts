// Waiting for the GPU without taking a CPU core from it.
//
// Dawn's Node binding (the `webgpu` package) polls the device on every turn of the event loop
// while a map or a work-done promise is pending. On a hardware GPU that costs a CPU core for the
// length of the wait. On a software adapter (SwiftShader) the emulated GPU *is* the CPU, and the
// poll halves it: a 1024³ matMul ran 760 ms while polling and 390 ms when the wait was spent
// asleep (2-core VM, BENCHMARKS.md). So before mapping a result, this sleeps through most of the
// time the same work took before, and only polls for the rest.
//
// "The same work" is a signature of what was submitted since the last wait: each dispatch's
// pipeline and workgroup counts, hashed. A training step replayed from its plan, or a repeated
// predict, has the same signature every time. The time to beat is the shortest seen for it, from
// the first submit to the end of the wait. How much of it to sleep depends on how good a bound it
// is: a wait that ended after some polling measured the work itself (sleep 90 % of it next time);
// a wait that polled throughout was slowed by the polling, and one whose work was already done on
// waking measured the sleep, not the work: both overstate it (sleep 70 %, and measure again).

/** Share of the shortest time seen that is slept, where that time was measured by a wait that ended polling after a sleep. */
const SLEEP_SHARE_MEASURED = 0.9;
/** The share where the time seen overstates the work: polled throughout, or done before the sleep ended. */
const SLEEP_SHARE_BOUND = 0.7;
/** A map that resolves within this of waking found the work done: the sleep was too long. */
const DONE_ON_WAKING_MS = 1;
/** Waits predicted shorter than this are not slept: a real GPU's steps, where a timer would add latency. */
const MIN_SLEEP_MS = 4;
/** Signatures remembered; beyond this the table starts again (workloads of ever-new shapes). */
const MAX_SIGNATURES = 512;

/** Whether this runtime's WebGPU busy-polls while a promise is pending: Node, through Dawn's binding. */
export function pollsWhileWaiting(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/** What is known of one signature's work: the shortest time seen, and whether it measured the work itself. */
interface Timing {
  shortestMs: number;
  measured: boolean;
}

export class CompletionWait {
  private signature = 0;
  private dispatches = 0;
  private firstSubmitAt = -1;
  private waitsInFlight = 0;
  private readonly timings = new Map<number, Timing>();
  /** Milliseconds slept in total, for stats and tests. */
  sleptMs = 0;

  constructor(
    readonly enabled: boolean,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Folds one encoded dispatch into the signature of the work since the last wait. */
  noteDispatch(pipelineId: number, x: number, y: number, z: number): void {
    let h = this.signature;
    h = Math.imul(h ^ pipelineId, 0x9e3779b1);
    h = Math.imul(h ^ x, 0x85ebca6b);
    h = Math.imul(h ^ (y * 65537 + z), 0xc2b2ae35);
    this.signature = h;
    this.dispatches++;
  }

  /** Marks a submit: the GPU starts on the work of the coming wait no later than now. */
  noteSubmit(): void {
    if (this.firstSubmitAt < 0) this.firstSubmitAt = this.now();
  }

  /**
   * Waits for everything submitted: sleeps for the part of it that the same work took before,
   * then calls `start` (a map or work-done request; calling it starts Dawn's polling) and awaits it.
   */
  async wait<T>(start: () => Promise<T>): Promise<T> {
    const signature = this.signature;
    const started = this.firstSubmitAt < 0 ? this.now() : this.firstSubmitAt;
    // Work with no dispatches (a copy of a settled tensor), or queued behind another wait, is not
    // the same work as last time: neither predicted nor recorded.
    const comparable = this.enabled && this.dispatches > 0 && this.waitsInFlight === 0;
    this.signature = 0;
    this.dispatches = 0;
    this.firstSubmitAt = -1;
    this.waitsInFlight++;
    try {
      let slept = false;
      if (comparable) {
        const seen = this.timings.get(signature);
        const share = seen?.measured ? SLEEP_SHARE_MEASURED : SLEEP_SHARE_BOUND;
        const remaining = seen ? started + share * seen.shortestMs - this.now() : 0;
        if (remaining >= MIN_SLEEP_MS) {
          await this.sleep(remaining);
          this.sleptMs += remaining;
          slept = true;
        }
      }
      const woke = this.now();
      const value = await start();
      if (comparable) {
        const end = this.now();
        const measured = slept && end - woke > DONE_ON_WAKING_MS;
        const took = end - started;
        const seen = this.timings.get(signature);
        if (!seen && this.timings.size >= MAX_SIGNATURES) this.timings.clear();
        if (!seen || took < seen.shortestMs) this.timings.set(signature, { shortestMs: took, measured });
        else if (measured) seen.measured = true;
      }
      return value;
    } finally {
      this.waitsInFlight--;
    }
  }
}
