// Keeps the page's requests (predict, saliency, save…) from interleaving with a training
// step: while training runs they wait in a queue that the training loop drains between
// batches; pausing parks the loop there, still serving requests until it is resumed.

type Task = () => Promise<void>;

/** Serializes work on the model with the training loop. */
export class Gate {
  private training = false;
  private paused = false;
  private stopped = false;
  private readonly queue: Task[] = [];
  /** Wakes the parked training loop (a new task, resume or stop). */
  private wake: (() => void) | null = null;
  /** Work outside training runs one task at a time, in call order. */
  private idleChain: Promise<unknown> = Promise.resolve();

  /** Runs `fn` when the model is free: now (after earlier tasks) or between two batches. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.training) {
      const result = this.idleChain.then(fn, fn);
      this.idleChain = result.catch(() => undefined);
      return result;
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => fn().then(resolve, reject));
      this.wake?.();
    });
  }

  /** Marks training as running until the returned function is called. */
  beginTraining(): () => Promise<void> {
    this.training = true;
    this.paused = this.stopped = false;
    return async () => {
      await this.drain();
      this.training = false;
    };
  }

  get isTraining(): boolean {
    return this.training;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** True once `stop()` was called during this run. */
  get isStopped(): boolean {
    return this.stopped;
  }

  pause(): void {
    if (this.training) this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  stop(): void {
    if (!this.training) return;
    this.stopped = true;
    this.paused = false;
    this.wake?.();
  }

  /** Called by the training loop between batches: serves queued tasks, and waits while paused. */
  async between(): Promise<void> {
    for (;;) {
      await this.drain();
      if (!this.paused || this.stopped) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  private async drain(): Promise<void> {
    for (let task = this.queue.shift(); task; task = this.queue.shift()) await task();
  }
}
