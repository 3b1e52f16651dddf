// Turns a drawing into an MNIST-style 28×28 digit the way MNIST was made: the digit's
// bounding box scaled (aspect kept) so its long side is 20 px, anti-aliased by area
// averaging, then placed so its centre of mass sits at the centre of the 28×28 field.

export const SIDE = 28;
/** MNIST fitted each digit into a 20×20 box before centring it in 28×28. */
export const BOX = 20;

/** Maps drawing coordinates to 28×28 grid coordinates: u = x * scale + offsetX. */
export interface GridTransform {
  scale: number;
  offsetX: number;
  offsetY: number;
}

/** The 28×28 digit (784 values in 0..1, row-major) and how the drawing maps onto it. */
export interface MnistDigit {
  pixels: Float32Array;
  transform: GridTransform;
}

/** Ink below this counts as empty paper when finding the bounding box. */
const INK_THRESHOLD = 0.05;

/**
 * Converts `ink` (width×height values in 0..1, 1 = full ink) to an MNIST-style digit.
 * Returns null when nothing is drawn.
 */
export function toMnist(ink: Float32Array, width: number, height: number): MnistDigit | null {
  const box = inkBounds(ink, width, height);
  if (!box) return null;
  const scale = BOX / Math.max(box.x1 - box.x0, box.y1 - box.y0);
  const { cx, cy } = centreOfMass(ink, width, height);
  // Centre of mass to the field's centre (14, 14 in continuous coordinates), as MNIST did.
  const transform = { scale, offsetX: SIDE / 2 - cx * scale, offsetY: SIDE / 2 - cy * scale };
  return { pixels: resample(ink, width, height, transform), transform };
}

/** The box [x0, x1) × [y0, y1) around the ink, in pixels; null for an empty drawing. */
export function inkBounds(ink: Float32Array, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] <= INK_THRESHOLD) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** Ink-weighted mean position (pixel centres at +0.5). */
export function centreOfMass(ink: Float32Array, width: number, height: number): { cx: number; cy: number } {
  let total = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ink[y * width + x];
      total += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return total > 0 ? { cx: sx / total, cy: sy / total } : { cx: width / 2, cy: height / 2 };
}

/**
 * Area-averaging resample: every drawing pixel spreads its ink over the grid cells its
 * square covers, weighted by the overlap, so thin strokes stay smooth instead of aliasing.
 */
export function resample(ink: Float32Array, width: number, height: number, t: GridTransform): Float32Array {
  const out = new Float32Array(SIDE * SIDE);
  const cols = Array.from({ length: width }, (_, x) => overlaps(x * t.scale + t.offsetX, t.scale));
  for (let y = 0; y < height; y++) {
    const rows = overlaps(y * t.scale + t.offsetY, t.scale);
    if (rows.length === 0) continue;
    for (let x = 0; x < width; x++) {
      const v = ink[y * width + x];
      if (v === 0) continue;
      for (const [r, wr] of rows) for (const [c, wc] of cols[x]) out[r * SIDE + c] += v * wr * wc;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, out[i]);
  return out;
}

/** The grid cells the interval [start, start + length) overlaps, with the overlap lengths. */
function overlaps(start: number, length: number): [number, number][] {
  const end = start + length;
  const result: [number, number][] = [];
  for (let cell = Math.max(0, Math.floor(start)); cell < Math.min(SIDE, Math.ceil(end)); cell++) {
    const w = Math.min(end, cell + 1) - Math.max(start, cell);
    if (w > 0) result.push([cell, w]);
  }
  return result;
}

/**
 * Samples a 28×28 map (e.g. saliency) at drawing position (x, y) through `t`,
 * bilinearly, so the overlay is smooth at drawing resolution. Outside the grid: 0.
 */
export function sampleGrid(map: Float32Array, t: GridTransform, x: number, y: number): number {
  const u = x * t.scale + t.offsetX - 0.5;
  const v = y * t.scale + t.offsetY - 0.5;
  const c0 = Math.floor(u);
  const r0 = Math.floor(v);
  const fu = u - c0;
  const fv = v - r0;
  const at = (r: number, c: number) => (r < 0 || c < 0 || r >= SIDE || c >= SIDE ? 0 : map[r * SIDE + c]);
  return (
    (1 - fv) * ((1 - fu) * at(r0, c0) + fu * at(r0, c0 + 1)) + fv * ((1 - fu) * at(r0 + 1, c0) + fu * at(r0 + 1, c0 + 1))
  );
}
