// The drawing panel: the pad, what the model sees (28×28), the probability bars and the
// saliency overlay. Predictions run while drawing (throttled) and the saliency when a
// stroke ends; at most one request is in flight, later drawings replace queued ones.

import type { Prediction, Saliency } from '../protocol.js';
import { paintDigit } from './digit-grid.js';
import { DrawPad } from './drawpad.js';
import { percent } from './format.js';
import { ProbabilityBars } from './probabilities.js';

export interface DrawPanelElements {
  pad: HTMLCanvasElement;
  overlay: HTMLCanvasElement;
  modelInput: HTMLCanvasElement;
  probabilities: HTMLElement;
  text: HTMLElement;
  clear: HTMLButtonElement;
  showSaliency: HTMLInputElement;
}

/** What the panel needs from the worker. */
export interface Predictor {
  ready(): boolean;
  /** What to say while not ready (no model yet, or one that does not classify). */
  notReady(): string;
  predict(pixels: Float32Array): Promise<Prediction>;
  saliency(pixels: Float32Array): Promise<Saliency>;
}

const THROTTLE_MS = 120;

/** Wires the pad to the model. */
export class DrawPanel {
  private readonly pad: DrawPad;
  private readonly bars: ProbabilityBars;
  private busy = false;
  /** The request to run when the one in flight finishes (only the latest counts). */
  private next: 'predict' | 'saliency' | null = null;
  private lastMove = 0;
  private saliencyMap: Float32Array | null = null;

  constructor(
    private readonly el: DrawPanelElements,
    private readonly predictor: Predictor,
  ) {
    this.bars = new ProbabilityBars(el.probabilities);
    this.pad = new DrawPad({ ink: el.pad, overlay: el.overlay, onChange: (ended) => this.changed(ended) });
    paintDigit(el.modelInput, new Float32Array(784), 1);
    el.clear.addEventListener('click', () => this.pad.clear());
    el.showSaliency.addEventListener('change', () => this.paintSaliency());
  }

  /** Re-runs the prediction for the current drawing (e.g. after training or loading a model). */
  refresh(): void {
    if (this.pad.digit() && this.predictor.ready()) this.request('saliency');
    else this.idle();
  }

  private changed(strokeEnded: boolean): void {
    const digit = this.pad.digit();
    paintDigit(this.el.modelInput, digit?.pixels ?? new Float32Array(784), 1);
    if (!digit) {
      this.saliencyMap = null;
      this.bars.clear();
      this.idle();
      return;
    }
    const now = performance.now();
    if (strokeEnded) this.request('saliency');
    else if (now - this.lastMove > THROTTLE_MS) {
      this.lastMove = now;
      this.request('predict');
    }
  }

  /** The line shown when there is nothing to predict, or no classifier to predict it. */
  private idle(): void {
    if (!this.predictor.ready()) {
      this.saliencyMap = null;
      this.bars.clear();
      this.paintSaliency();
    }
    this.el.text.textContent = this.predictor.ready() ? 'Draw a digit.' : this.predictor.notReady();
  }

  private request(kind: 'predict' | 'saliency'): void {
    if (!this.predictor.ready()) return this.idle();
    if (this.busy) {
      // A queued saliency is kept over a later predict: it answers both.
      if (this.next !== 'saliency') this.next = kind;
      return;
    }
    void this.run(kind);
  }

  private async run(kind: 'predict' | 'saliency'): Promise<void> {
    const digit = this.pad.digit();
    if (!digit) return;
    this.busy = true;
    try {
      if (kind === 'saliency') {
        const s = await this.predictor.saliency(digit.pixels);
        this.saliencyMap = s.saliency;
        this.show(s);
        this.paintSaliency();
      } else {
        this.show(await this.predictor.predict(digit.pixels));
      }
    } catch (err) {
      this.el.text.textContent = `Prediction failed: ${(err as Error).message}`;
    } finally {
      this.busy = false;
      const next = this.next;
      this.next = null;
      if (next) this.request(next);
    }
  }

  private show(p: Prediction): void {
    this.bars.update(p.probabilities);
    this.el.text.textContent = `Looks like a ${p.digit} (${percent(p.probabilities[p.digit])}).`;
  }

  private paintSaliency(): void {
    if (this.el.showSaliency.checked && this.saliencyMap) {
      this.pad.digit();
      this.pad.showOverlay(this.saliencyMap);
    } else this.pad.clearOverlay();
  }
}
