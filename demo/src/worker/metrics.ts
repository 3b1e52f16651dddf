// Validation statistics computed on the host from predicted probabilities: mean
// cross-entropy, accuracy, the confusion matrix and the grid digits' predicted labels.
import type { Evaluation } from '../protocol.js';

/** Probabilities below this are clamped before the log, as Keras does (its epsilon). */
const EPSILON = 1e-7;

/** Accumulates predictions over batches of the validation set. */
export class EvalAccumulator {
  private lossSum = 0;
  private correct = 0;
  private seen = 0;
  private readonly confusion = new Array<number>(100).fill(0);
  private readonly grid: number[] = [];

  constructor(private readonly gridSize: number) {}

  /** Adds a batch: `probs` is [n, 10] row-major, `labels` the n true digits. */
  add(probs: ArrayLike<number>, labels: ArrayLike<number>): void {
    for (let i = 0; i < labels.length; i++) {
      const digit = argMax(probs, i * 10);
      const truth = labels[i];
      this.lossSum -= Math.log(Math.max(EPSILON, probs[i * 10 + truth]));
      if (digit === truth) this.correct++;
      this.confusion[truth * 10 + digit]++;
      if (this.seen + i < this.gridSize) this.grid.push(digit);
    }
    this.seen += labels.length;
  }

  result(): Evaluation {
    const n = Math.max(1, this.seen);
    return {
      loss: this.lossSum / n,
      accuracy: this.correct / n,
      confusion: [...this.confusion],
      gridPredictions: [...this.grid],
      samples: this.seen,
    };
  }
}

/** Index of the largest of the 10 values starting at `offset`. */
export function argMax(values: ArrayLike<number>, offset = 0): number {
  let best = 0;
  for (let d = 1; d < 10; d++) if (values[offset + d] > values[offset + best]) best = d;
  return best;
}
