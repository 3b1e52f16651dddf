// Validation statistics computed on the host from the model's outputs: for a classifier the mean
// cross-entropy, accuracy, the confusion matrix and the grid digits' predicted labels; for the
// autoencoder its loss (per-pixel binary cross-entropy), the reconstruction's mean squared error
// and the first few reconstructions.
import type { ClassifyEvaluation, ReconstructEvaluation } from '../protocol.js';

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

  result(): ClassifyEvaluation {
    const n = Math.max(1, this.seen);
    return {
      task: 'classify',
      loss: this.lossSum / n,
      accuracy: this.correct / n,
      confusion: [...this.confusion],
      gridPredictions: [...this.grid],
      samples: this.seen,
    };
  }
}

/** Accumulates an autoencoder's reconstructions over batches of the validation set. */
export class ReconstructionAccumulator {
  private squares = 0;
  private crossEntropy = 0;
  private seen = 0;
  private readonly kept: Float32Array;

  /** Keeps the reconstructions of the first `keep` digits for the page. */
  constructor(private readonly keep: number) {
    this.kept = new Float32Array(keep * 784);
  }

  /** Adds a batch: `outputs` is [n, 784] in 0..1, `images` the n digits' uint8 pixels. */
  add(outputs: ArrayLike<number>, images: Uint8Array): void {
    const n = images.length / 784;
    for (let i = 0; i < images.length; i++) {
      const p = Math.min(1 - EPSILON, Math.max(EPSILON, outputs[i]));
      const t = images[i] / 255;
      this.squares += (outputs[i] - t) * (outputs[i] - t);
      this.crossEntropy -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
    }
    const room = Math.max(0, Math.min(n, this.keep - this.seen));
    for (let i = 0; i < room * 784; i++) this.kept[this.seen * 784 + i] = outputs[i];
    this.seen += n;
  }

  result(): ReconstructEvaluation {
    const count = Math.min(this.keep, this.seen);
    return {
      task: 'reconstruct',
      loss: this.crossEntropy / Math.max(1, this.seen * 784),
      mse: this.squares / Math.max(1, this.seen * 784),
      reconstructions: this.kept.slice(0, count * 784),
      count,
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
