// The Keras model summary table: one row per layer with its output shape and parameter count,
// then the totals. Columns widen to fit long TF.js-style layer names.
import type { Sequential } from './model.js';
import { fmtShapeN, type Shape } from './layers/layer.js';

/** Formats an integer with thousands separators: 93322 → 93,322. */
function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * The summary's lines for a built model. `lineLength` and `positions` (column ends as
 * fractions of the line, or absolute columns) follow TF.js; by default the columns fit the content.
 */
export function summaryLines(model: Sequential, lineLength?: number, positions?: number[]): string[] {
  const rows: [string, string, string][] = [];
  let shape: Shape = model.inputShape ?? [];
  for (const layer of model.layers) {
    shape = layer.computeOutputShape(shape);
    rows.push([`${layer.name} (${layer.className})`, fmtShapeN(shape), formatCount(layer.countParams())]);
  }
  const header: [string, string, string] = ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = [0, 1, 2].map((c) => Math.max(header[c].length, ...rows.map((r) => r[c].length)) + 3);
  let ends = [widths[0], widths[0] + widths[1], widths[0] + widths[1] + widths[2]];
  const total = lineLength ?? Math.max(65, ends[2]);
  if (positions) ends = positions.map((p) => (p <= 1 ? Math.floor(p * total) : p));
  else if (lineLength) ends = [Math.floor(0.45 * total), Math.floor(0.85 * total), total];
  const fmt = (cells: string[]): string => {
    let line = '';
    cells.forEach((cell, i) => {
      line += cell;
      line = line.slice(0, ends[i] - 1).padEnd(ends[i]);
    });
    return line.trimEnd();
  };
  const trainable = model.trainableWeights.reduce((n, v) => n + v.size, 0);
  const all = model.countParams();
  const width = ends[ends.length - 1];
  const lines = [`Model: "${model.name}"`, '_'.repeat(width), fmt(header), '='.repeat(width)];
  rows.forEach((r, i) => {
    lines.push(fmt(r));
    lines.push(i === rows.length - 1 ? '='.repeat(width) : '_'.repeat(width));
  });
  lines.push(`Total params: ${formatCount(all)}`, `Trainable params: ${formatCount(trainable)}`, `Non-trainable params: ${formatCount(all - trainable)}`, '_'.repeat(width));
  return lines;
}
