// A small hand-written line chart on a canvas: a few series against epochs, redrawn at
// most once per animation frame, sharp on high-DPI screens, sized by CSS (no layout shift).

export interface SeriesStyle {
  name: string;
  color: string;
  /** Draw a dot at each point (for sparse series such as per-epoch validation). */
  dots?: boolean;
}

export interface ChartOptions {
  series: SeriesStyle[];
  /** Fixed y range (e.g. accuracy 0..1); omitted: 0 to the data's maximum, rounded up. */
  yMax?: number;
  /** Formats a value for the accessible summary and the axis labels. */
  format?: (v: number) => string;
  /** What the chart shows, for its accessible label. */
  label: string;
}

const PAD = { left: 40, right: 10, top: 8, bottom: 22 };
/** Past this many points a series is drawn from every k-th point; they still all count. */
const MAX_DRAWN = 1500;

/** A line chart of y against training progress in epochs. */
export class LineChart {
  private readonly points: [number, number][][];
  private xMax = 1;
  private frame = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly options: ChartOptions,
  ) {
    this.points = options.series.map(() => []);
    canvas.setAttribute('role', 'img');
    new ResizeObserver(() => this.schedule()).observe(canvas);
    this.reset(1);
  }

  /** Empties the chart; the x axis will span `epochs`. */
  reset(epochs: number): void {
    for (const p of this.points) p.length = 0;
    this.xMax = Math.max(1, epochs);
    this.schedule();
  }

  /** Adds a point to series `index` at `epoch` (fractional during an epoch). */
  add(index: number, epoch: number, value: number): void {
    if (!Number.isFinite(value)) return;
    this.points[index].push([epoch, value]);
    this.schedule();
  }

  /** Total number of points (the e2e test reads it from `data-points`). */
  get size(): number {
    return this.points.reduce((n, p) => n + p.length, 0);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** The y axis: its top and the spacing of its gridlines. */
  private yAxis(): { top: number; step: number } {
    if (this.options.yMax !== undefined) return { top: this.options.yMax, step: this.options.yMax / 4 };
    let max = 0;
    for (const series of this.points) for (const [, y] of series) max = Math.max(max, y);
    const step = niceStep((max || 1) / 4);
    return { top: max > 0 ? Math.max(step, Math.ceil(max / step - 1e-9) * step) : 4 * step, step };
  }

  private draw(): void {
    const { canvas, options } = this;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (w === 0 || h === 0) return;
    if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
    if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const axis = this.yAxis();
    const yMax = axis.top;
    const plotW = w - PAD.left - PAD.right;
    const plotH = h - PAD.top - PAD.bottom;
    const px = (x: number) => PAD.left + (x / this.xMax) * plotW;
    const py = (y: number) => PAD.top + plotH - (Math.min(y, yMax) / yMax) * plotH;
    this.drawAxes(ctx, w, h, axis, px, py);
    this.points.forEach((series, i) => drawSeries(ctx, series, options.series[i], px, py));
    canvas.dataset.points = String(this.size);
    canvas.setAttribute('aria-label', this.summary());
  }

  private drawAxes(
    ctx: CanvasRenderingContext2D,
    w: number,
    h: number,
    axis: { top: number; step: number },
    px: (x: number) => number,
    py: (y: number) => number,
  ): void {
    const style = getComputedStyle(this.canvas);
    const fmt = this.options.format ?? ((v: number) => v.toFixed(2));
    ctx.font = `11px ${style.fontFamily}`;
    ctx.lineWidth = 1;
    ctx.fillStyle = style.getPropertyValue('--muted').trim() || '#666';
    ctx.strokeStyle = style.getPropertyValue('--grid').trim() || '#ddd';
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    const lines = Math.round(axis.top / axis.step);
    for (let i = 0; i <= lines; i++) {
      const value = i * axis.step;
      const y = Math.round(py(value)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(PAD.left, y);
      ctx.lineTo(w - PAD.right, y);
      ctx.stroke();
      ctx.fillText(fmt(value), PAD.left - 4, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    const step = Math.max(1, Math.ceil(this.xMax / 10));
    for (let e = 0; e <= this.xMax; e += step) ctx.fillText(String(e), px(e), h - 6);
  }

  private summary(): string {
    const parts = this.points.map((series, i) => {
      const last = series[series.length - 1];
      const fmt = this.options.format ?? ((v: number) => v.toFixed(3));
      return `${this.options.series[i].name}: ${last ? fmt(last[1]) : 'no data yet'}`;
    });
    return `${this.options.label}. ${parts.join('; ')}`;
  }
}

function drawSeries(
  ctx: CanvasRenderingContext2D,
  series: [number, number][],
  style: SeriesStyle,
  px: (x: number) => number,
  py: (y: number) => number,
): void {
  if (series.length === 0) return;
  const step = Math.ceil(series.length / MAX_DRAWN);
  ctx.strokeStyle = ctx.fillStyle = style.color;
  ctx.lineWidth = 1.75;
  ctx.beginPath();
  for (let i = 0; i < series.length; i += step) {
    const [x, y] = series[i];
    if (i === 0) ctx.moveTo(px(x), py(y));
    else ctx.lineTo(px(x), py(y));
  }
  const [lx, ly] = series[series.length - 1];
  ctx.lineTo(px(lx), py(ly));
  ctx.stroke();
  if (style.dots || series.length === 1) {
    for (const [x, y] of series) {
      ctx.beginPath();
      ctx.arc(px(x), py(y), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

/** The smallest of 1, 2, 2.5 or 5 times a power of ten that is ≥ v: a readable gridline spacing. */
function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5]) if (v <= m * p * (1 + 1e-9)) return m * p;
  return 10 * p;
}
