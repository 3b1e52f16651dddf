// Everything that shows training as it runs: the progress bar and its lines, the loss and
// accuracy charts, the test-digit grid and the confusion matrix (or, for the autoencoder, its
// reconstructions), fed by worker events.

import type { Evaluation, GridImages, TrainerEvent } from '../protocol.js';
import { LineChart } from './chart.js';
import { ConfusionMatrix } from './confusion.js';
import { DigitGrid } from './digit-grid.js';
import { count, formatDuration, percent } from './format.js';
import { ReconstructionPanel } from './reconstructions.js';

const TRAIN = { name: 'training', color: 'var(--accent)' };
const VAL = { name: 'validation', color: 'var(--val)', dots: true };

/** Resolves a CSS colour such as var(--accent) to what a canvas accepts. */
function cssColor(el: Element, color: string): string {
  const m = /^var\((--[\w-]+)\)$/.exec(color);
  return m ? getComputedStyle(el).getPropertyValue(m[1]).trim() || '#888' : color;
}

export interface TrainingViewElements {
  progress: HTMLProgressElement;
  progressText: HTMLElement;
  speedText: HTMLElement;
  metricsText: HTMLElement;
  validationText: HTMLElement;
  lossChart: HTMLCanvasElement;
  accuracyChart: HTMLCanvasElement;
  digitGrid: HTMLElement;
  confusion: HTMLTableElement;
  reconstructions: HTMLElement;
  reconstructionText: HTMLElement;
}

/** The live training display. */
export class TrainingView {
  private readonly loss: LineChart;
  private readonly accuracy: LineChart;
  private readonly grid: DigitGrid;
  private readonly confusion: ConfusionMatrix;
  private readonly recon: ReconstructionPanel;
  /** The latest training speed, for the summary when training ends. */
  private rate = 0;

  constructor(
    private readonly el: TrainingViewElements,
    gridSize: number,
    reconstructions: number,
  ) {
    const series = (c: HTMLCanvasElement) => [TRAIN, VAL].map((s) => ({ ...s, color: cssColor(c, s.color) }));
    this.loss = new LineChart(el.lossChart, { series: series(el.lossChart), label: 'Loss per epoch', format: (v) => (v !== 0 && v < 0.1 ? v.toFixed(3) : v.toFixed(2)) });
    this.accuracy = new LineChart(el.accuracyChart, {
      series: series(el.accuracyChart),
      yMax: 1,
      label: 'Accuracy per epoch',
      format: (v) => percent(v, 0),
    });
    this.grid = new DigitGrid(el.digitGrid, gridSize);
    this.confusion = new ConfusionMatrix(el.confusion);
    this.recon = new ReconstructionPanel(el.reconstructions, el.reconstructionText, reconstructions);
  }

  setGridImages(images: GridImages): void {
    this.grid.setImages(images);
    this.recon.setImages(images);
  }

  /** Clears the charts for a run of `epochs`. */
  reset(epochs: number): void {
    this.loss.reset(epochs);
    this.accuracy.reset(epochs);
    this.el.progress.value = 0;
    this.rate = 0;
    this.el.progressText.textContent = 'Building the model…';
    this.el.speedText.textContent = '\u00a0';
    this.el.metricsText.textContent = '\u00a0';
    this.el.validationText.textContent = '\u00a0';
    delete this.el.validationText.dataset.accuracy;
    delete this.el.validationText.dataset.mse;
    this.recon.clear();
  }

  /** Applies one training event (batch progress or end of an epoch). */
  onEvent(e: TrainerEvent): void {
    if (e.type === 'batch') {
      const x = e.epoch + e.batch / e.batches;
      this.loss.add(0, x, e.loss);
      this.accuracy.add(0, x, e.accuracy);
      this.el.progress.value = x / e.epochs;
      this.el.progressText.textContent = `Epoch ${e.epoch + 1} of ${e.epochs} · batch ${count(e.batch)} of ${count(e.batches)}`;
      this.rate = e.samplesPerSecond;
      this.el.speedText.textContent = `${count(e.samplesPerSecond)} samples/s · ${formatDuration(e.secondsLeft)} left`;
      if (Number.isFinite(e.loss)) this.showTraining(e.loss, e.accuracy);
    } else if (e.type === 'epoch') {
      // The epoch's mean closes the training curve at the epoch boundary.
      this.loss.add(0, e.epoch + 1, e.loss);
      this.accuracy.add(0, e.epoch + 1, e.accuracy);
      this.showTraining(e.loss, e.accuracy);
      this.loss.add(1, e.epoch + 1, e.validation.loss);
      if (e.validation.task === 'classify') this.accuracy.add(1, e.epoch + 1, e.validation.accuracy);
      this.el.progress.value = (e.epoch + 1) / e.epochs;
      this.showEvaluation(e.validation, `after epoch ${e.epoch + 1}`);
    }
  }

  /** `accuracy` is NaN for a reconstruction model, which has no classes. */
  private showTraining(loss: number, accuracy: number): void {
    const digits = loss < 0.1 ? 4 : 3;
    this.el.metricsText.textContent = `Training: loss ${loss.toFixed(digits)}${Number.isFinite(accuracy) ? ` · accuracy ${percent(accuracy)}` : ''}`;
    this.el.metricsText.dataset.accuracy = String(accuracy);
  }

  /**
   * Shows a validation result: its line, and the digit grid's labels and the confusion matrix
   * (a classifier) or the reconstructions and their MSE (the autoencoder).
   */
  showEvaluation(v: Evaluation, when: string): void {
    this.el.validationText.title = `On ${count(v.samples)} test digits, ${when}`;
    if (v.task === 'reconstruct') {
      this.el.validationText.textContent = `Validation: loss ${v.loss.toFixed(3)} · MSE ${v.mse.toFixed(4)}`;
      this.el.validationText.dataset.mse = String(v.mse);
      this.recon.update(v, when);
      return;
    }
    this.el.validationText.textContent = `Validation: loss ${v.loss.toFixed(3)} · accuracy ${percent(v.accuracy)}`;
    this.el.validationText.dataset.accuracy = String(v.accuracy);
    this.grid.update(v.gridPredictions);
    this.confusion.update(v.confusion);
  }

  /** The last line once training ends; the speed line shows `detail`, or the run's mean speed. */
  finish(text: string, detail?: string): void {
    this.el.progressText.textContent = text;
    this.el.speedText.textContent = detail ?? (this.rate > 0 ? `${count(this.rate)} samples/s on average` : '\u00a0');
  }
}
