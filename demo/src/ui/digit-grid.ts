// A grid of test digits with the model's predicted label under each; wrong predictions
// are marked (colour and a "≠ true" note, not colour alone).

import type { GridImages } from '../protocol.js';

/** Shows test digits and, after each epoch, what the model predicts for them. */
export class DigitGrid {
  private labels: Uint8Array = new Uint8Array(0);
  private readonly captions: HTMLElement[] = [];
  private readonly items: HTMLElement[] = [];

  private readonly canvases: HTMLCanvasElement[] = [];

  /** Lays out `size` empty cells at once, so the digits arriving later shift nothing. */
  constructor(
    private readonly root: HTMLElement,
    size: number,
  ) {
    for (let i = 0; i < size; i++) {
      const figure = document.createElement('figure');
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 28;
      canvas.setAttribute('aria-hidden', 'true');
      const caption = document.createElement('figcaption');
      caption.textContent = '\u00a0';
      figure.append(canvas, caption);
      root.appendChild(figure);
      this.items.push(figure);
      this.canvases.push(canvas);
      this.captions.push(caption);
    }
  }

  /** Draws the digits; predictions are blank until {@link update}. */
  setImages(grid: GridImages): void {
    this.labels = grid.labels;
    this.items.forEach((figure, i) => {
      const present = i < grid.count;
      figure.hidden = !present;
      if (!present) return;
      paintDigit(this.canvases[i], grid.images.subarray(i * 784, (i + 1) * 784));
      this.captions[i].textContent = '–';
      figure.setAttribute('aria-label', `test digit ${i + 1}, true label ${grid.labels[i]}`);
    });
  }

  /** Labels every digit with its predicted class. */
  update(predictions: number[]): void {
    let wrong = 0;
    predictions.forEach((p, i) => {
      if (i >= this.items.length) return;
      const truth = this.labels[i];
      const ok = p === truth;
      if (!ok) wrong++;
      this.items[i].classList.toggle('wrong', !ok);
      this.captions[i].textContent = ok ? String(p) : `${p} ≠${truth}`;
      this.items[i].setAttribute('aria-label', `test digit ${i + 1}: predicted ${p}, true ${truth}${ok ? '' : ', wrong'}`);
    });
    this.root.dataset.wrong = String(wrong);
  }
}

/** Paints a 28×28 uint8 digit as dark ink on the paper colour. */
export function paintDigit(canvas: HTMLCanvasElement, pixels: ArrayLike<number>, scale = 255): void {
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = 255 - Math.round((255 * Math.min(1, Math.max(0, pixels[i] / scale))));
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}
