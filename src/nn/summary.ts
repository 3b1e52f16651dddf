// The Keras model summary table: one row per layer with its output shape and parameter count,
// then the totals (functional models add the layers each receives). Columns widen to fit long
// TF.js-style layer names.

/** Formats an integer with thousands separators: 93322 → 93,322. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** One row of the summary table: a cell per column. */
export type SummaryRow = string[];

/** What the summary shows: the model's name, the table (header and rows), and parameter counts. */
export interface SummaryTable {
  name: string;
  header: string[];
  rows: SummaryRow[];
  /** Scalars in all weights. */
  total: number;
  /** Scalars in trainable weights. */
  trainable: number;
}

/**
 * The summary's lines for a built model. `lineLength` and `positions` (column ends as
 * fractions of the line, or absolute columns) follow TF.js; by default the columns fit the content.
 */
export function summaryLines({ name, header, rows, total, trainable }: SummaryTable, lineLength?: number, positions?: number[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)) + 3);
  let ends = widths.map((_, c) => widths.slice(0, c + 1).reduce((a, b) => a + b, 0));
  const full = lineLength ?? Math.max(65, ends[ends.length - 1]);
  // TF.js's default column ends for 3 (sequential) and 4 (functional) columns.
  const defaults = header.length === 3 ? [0.45, 0.85, 1] : [0.33, 0.55, 0.67, 1];
  if (positions) ends = positions.map((p) => (p <= 1 ? Math.floor(p * full) : p));
  else if (lineLength) ends = defaults.map((p) => Math.floor(p * full));
  const fmt = (cells: string[]): string => {
    let line = '';
    cells.forEach((cell, i) => {
      line += cell;
      line = line.slice(0, ends[i] - 1).padEnd(ends[i]);
    });
    return line.trimEnd();
  };
  const width = ends[ends.length - 1];
  const lines = [`Model: "${name}"`, '_'.repeat(width), fmt(header), '='.repeat(width)];
  rows.forEach((r, i) => {
    lines.push(fmt(r));
    lines.push(i === rows.length - 1 ? '='.repeat(width) : '_'.repeat(width));
  });
  lines.push(`Total params: ${formatCount(total)}`, `Trainable params: ${formatCount(trainable)}`, `Non-trainable params: ${formatCount(total - trainable)}`, '_'.repeat(width));
  return lines;
}
