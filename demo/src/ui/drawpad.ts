// The 280×280 drawing pad: pointer events (mouse, pen, touch) draw round strokes on a
// transparent canvas whose alpha is the ink; a second canvas above it shows the saliency.

import { sampleGrid, toMnist, type GridTransform, type MnistDigit } from '../preprocess.js';

/** Drawing resolution; the canvas may be shown smaller on narrow screens. */
export const PAD_SIZE = 280;
/** A 20 px pen on 280 px gives MNIST's stroke width (~2 px of 28) after scaling. */
const PEN_WIDTH = 20;
/** The saliency overlay is computed at half resolution: smooth enough, 4× cheaper. */
const OVERLAY_SIZE = 140;

export interface DrawPadOptions {
  ink: HTMLCanvasElement;
  overlay: HTMLCanvasElement;
  /** Called as the drawing changes (the caller throttles) and when a stroke ends or it is cleared. */
  onChange: (strokeEnded: boolean) => void;
}

/** A drawing pad; `digit()` returns the current drawing as an MNIST-style input. */
export class DrawPad {
  private readonly ctx: CanvasRenderingContext2D;
  private last: { x: number; y: number } | null = null;
  private transform: GridTransform | null = null;

  constructor(private readonly options: DrawPadOptions) {
    const { ink, overlay } = options;
    for (const c of [ink, overlay]) c.width = c.height = c === ink ? PAD_SIZE : OVERLAY_SIZE;
    this.ctx = ink.getContext('2d', { willReadFrequently: true })!;
    this.ctx.lineCap = this.ctx.lineJoin = 'round';
    this.ctx.lineWidth = PEN_WIDTH;
    this.ctx.strokeStyle = this.ctx.fillStyle = '#000';
    ink.addEventListener('pointerdown', (e) => this.down(e));
    ink.addEventListener('pointermove', (e) => this.move(e));
    for (const type of ['pointerup', 'pointercancel'] as const) ink.addEventListener(type, (e) => this.up(e));
  }

  /** Erases the drawing and the overlay. */
  clear(): void {
    this.ctx.clearRect(0, 0, PAD_SIZE, PAD_SIZE);
    this.clearOverlay();
    this.transform = null;
    this.options.onChange(true);
  }

  /** The drawing as a 28×28 MNIST-style digit, or null when the pad is empty. */
  digit(): MnistDigit | null {
    const rgba = this.ctx.getImageData(0, 0, PAD_SIZE, PAD_SIZE).data;
    const ink = new Float32Array(PAD_SIZE * PAD_SIZE);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3] / 255;
    const digit = toMnist(ink, PAD_SIZE, PAD_SIZE);
    this.transform = digit?.transform ?? null;
    return digit;
  }

  /** Paints a 28×28 map (e.g. |gradient|) over the drawing, normalised to its maximum. */
  showOverlay(map: Float32Array): void {
    const t = this.transform;
    const octx = this.overlayContext();
    if (!t) return this.clearOverlay();
    let max = 0;
    for (const v of map) max = Math.max(max, v);
    const image = octx.createImageData(OVERLAY_SIZE, OVERLAY_SIZE);
    const k = PAD_SIZE / OVERLAY_SIZE;
    for (let y = 0; y < OVERLAY_SIZE; y++) {
      for (let x = 0; x < OVERLAY_SIZE; x++) {
        const s = max > 0 ? sampleGrid(map, t, (x + 0.5) * k, (y + 0.5) * k) / max : 0;
        const o = 4 * (y * OVERLAY_SIZE + x);
        // A warm ramp: faint orange to saturated red, alpha following the strength.
        image.data[o] = 255;
        image.data[o + 1] = Math.round(170 * (1 - s));
        image.data[o + 2] = 0;
        image.data[o + 3] = Math.round(230 * Math.max(0, s));
      }
    }
    octx.putImageData(image, 0, 0);
  }

  clearOverlay(): void {
    this.overlayContext().clearRect(0, 0, OVERLAY_SIZE, OVERLAY_SIZE);
  }

  /** Read back by tests and tools: a CPU-side canvas avoids GPU readbacks (and Chrome's warning). */
  private overlayContext(): CanvasRenderingContext2D {
    return this.options.overlay.getContext('2d', { willReadFrequently: true })!;
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.options.ink.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * PAD_SIZE) / r.width, y: ((e.clientY - r.top) * PAD_SIZE) / r.height };
  }

  private down(e: PointerEvent): void {
    if (e.button !== 0) return;
    e.preventDefault();
    this.options.ink.setPointerCapture(e.pointerId);
    this.last = this.point(e);
    this.clearOverlay();
    // A dot, so a single tap leaves a mark.
    this.ctx.beginPath();
    this.ctx.arc(this.last.x, this.last.y, PEN_WIDTH / 2, 0, 2 * Math.PI);
    this.ctx.fill();
    this.options.onChange(false);
  }

  private move(e: PointerEvent): void {
    if (!this.last) return;
    e.preventDefault();
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length > 0 ? events : [e]) {
      const p = this.point(ev);
      this.ctx.beginPath();
      this.ctx.moveTo(this.last.x, this.last.y);
      this.ctx.lineTo(p.x, p.y);
      this.ctx.stroke();
      this.last = p;
    }
    this.options.onChange(false);
  }

  private up(e: PointerEvent): void {
    if (!this.last) return;
    this.last = null;
    if (this.options.ink.hasPointerCapture(e.pointerId)) this.options.ink.releasePointerCapture(e.pointerId);
    this.options.onChange(true);
  }
}
