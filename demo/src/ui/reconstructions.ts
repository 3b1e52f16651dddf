// The autoencoder's view: a few test digits above their reconstructions, redrawn after each
// epoch and at the end, and the test reconstruction MSE. Cells are laid out once at full size.

import type { GridImages, ReconstructEvaluation } from '../protocol.js';
import { count } from './format.js';
import { paintDigit } from './digit-grid.js';

/** Test digits (top row) and the model's reconstructions of them (bottom row). */
export class ReconstructionPanel {
  private readonly originals: HTMLCanvasElement[] = [];
  private readonly outputs: HTMLCanvasElement[] = [];

  constructor(
    private readonly root: HTMLElement,
    private readonly text: HTMLElement,
    size: number,
  ) {
    root.replaceChildren();
    root.style.setProperty('--columns', String(size));
    const row = (label: string, into: HTMLCanvasElement[], name: string) => {
      const div = document.createElement('div');
      div.className = `recon-row ${name}`;
      div.setAttribute('aria-label', label);
      for (let i = 0; i < size; i++) {
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 28;
        canvas.setAttribute('aria-hidden', 'true');
        div.appendChild(canvas);
        into.push(canvas);
      }
      root.appendChild(div);
    };
    row('test digits', this.originals, 'originals');
    row('their reconstructions', this.outputs, 'outputs');
    this.clear();
  }

  /** Draws the test digits (the first of the page's grid). */
  setImages(grid: GridImages): void {
    this.originals.forEach((c, i) => {
      if (i < grid.count) paintDigit(c, grid.images.subarray(i * 784, (i + 1) * 784));
    });
  }

  /** Draws the reconstructions of an evaluation and its MSE. */
  update(v: ReconstructEvaluation, when: string): void {
    this.outputs.forEach((c, i) => {
      if (i < v.count) paintDigit(c, v.reconstructions.subarray(i * 784, (i + 1) * 784), 1);
    });
    this.text.textContent = `Test reconstruction MSE: ${v.mse.toFixed(4)} (on ${count(v.samples)} test digits, ${when})`;
    this.text.dataset.mse = String(v.mse);
    this.root.dataset.drawn = String(Math.min(v.count, this.outputs.length));
  }

  clear(): void {
    for (const c of this.outputs) paintDigit(c, new Float32Array(784), 1);
    this.text.textContent = 'Train the autoencoder to see its reconstructions.';
    delete this.text.dataset.mse;
    delete this.root.dataset.drawn;
  }
}
