// Training speed and time left. fit calls onBatchEnd when a batch is queued, not finished
// (the GPU runs behind, bounded by fit's periodic readbacks), so one batch's interval says
// little: the speed is samples over the time spent training, excluding validation and pauses.

export class Throughput {
  private samples = 0;
  private seconds = 0;
  private last = performance.now();
  private validationSeconds: number | null = null;

  constructor(
    private readonly totalSamples: number,
    private readonly epochs: number,
  ) {}

  /** Records a batch of `samples`; returns the average samples/s so far. */
  batch(samples: number): number {
    const now = performance.now();
    this.seconds += (now - this.last) / 1000;
    this.last = now;
    this.samples += samples;
    return this.rate();
  }

  /** Excludes the time since the last call (validation, a pause, page requests) from training time. */
  skip(): void {
    this.last = performance.now();
  }

  /** Records how long one validation pass took, for the time-left estimate. */
  validated(seconds: number): void {
    this.validationSeconds = seconds;
  }

  rate(): number {
    return this.seconds > 0 ? this.samples / this.seconds : 0;
  }

  /** Seconds left, after `done` training samples and `epochsValidated` validation passes. */
  secondsLeft(done: number, epochsValidated: number, validationSamples: number): number {
    const rate = this.rate();
    if (rate === 0) return Infinity;
    // Before the first pass, guess inference at ~3× the training speed (no backward pass).
    const perPass = this.validationSeconds ?? validationSamples / (3 * rate);
    return (this.totalSamples - done) / rate + (this.epochs - epochsValidated) * perPass;
  }
}
