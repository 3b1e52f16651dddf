// The parity report and how it is judged and printed. Plain data with no DOM and no library
// import, so the page (which fills it) and the Playwright spec (which asserts on it) share it.

/** One case's result. */
export interface ParityRow {
  op: string;
  label: string;
  /** max|gpu − cpu| / max|cpu| of the output (for property cases: the worst violation). */
  forward: number | null;
  /** The same over every input gradient; null when the case has none. */
  backward: number | null;
  /** The backward error per differentiated input, in the case's `wrt` order. */
  backwardByInput: number[];
  tol: number;
  /** Whether any value, on either backend, was NaN. */
  nan: boolean;
  /** 'property' for random ops checked on each backend rather than compared. */
  kind: 'parity' | 'property';
  /** WebGPU dispatches the case made (views such as reshape make none). */
  dispatches: number;
  /** The exception, if the case threw. */
  error?: string;
}

/** The adapter the page got from navigator.gpu. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

/** What the page reports once: where it runs and what the cases cover. */
export interface ParityEnvironment {
  userAgent: string;
  /** null when navigator.gpu is missing or gave no adapter. */
  adapter: AdapterSummary | null;
  /** The library's own getAdapterInfo() on its WebGPU backend (undefined where not exported). */
  libraryAdapter: unknown;
  /** Ops with cases that src/index.ts does not export (their cases fail). */
  notExported: string[];
  /** Exported ops (functions defined under src/ops/) with no case: each needs one. */
  uncovered: string[];
  /** WebGPU dispatches of a tiny matMul (0: the work does not reach the GPU). */
  probeDispatches: number;
}

/** What the page's Run button produces: the environment and every case's row. */
export interface ParityReport extends ParityEnvironment {
  seed: number;
  rows: ParityRow[];
  /** Live tensors after the run minus before it (a leak if positive). */
  tensorsLeaked: number;
  seconds: number;
}

/** Why a row fails; empty when it passes. NaN never passes. */
export function rowProblems(row: ParityRow): string[] {
  const problems: string[] = [];
  if (row.error) problems.push(`threw ${row.error}`);
  if (row.nan) problems.push('NaN in a result');
  if (!row.error && row.forward === null) problems.push('no result');
  if (row.forward !== null && !(row.forward < row.tol)) problems.push(`forward error ${fmt(row.forward)} ≥ ${row.tol}`);
  if (row.backward !== null && !(row.backward < row.tol)) {
    const which = row.backwardByInput.length > 1 ? ` (per input: ${row.backwardByInput.map(fmt).join(', ')})` : '';
    problems.push(`backward error ${fmt(row.backward)} ≥ ${row.tol}${which}`);
  }
  return problems;
}

const fmt = (v: number | null): string => (v === null ? '—' : v === 0 ? '0' : v.toExponential(2));

/** The worst errors per op, then one line per failed case: the table the spec prints. */
export function formatTable(rows: readonly ParityRow[]): string {
  const byOp = new Map<string, ParityRow[]>();
  for (const row of rows) byOp.set(row.op, [...(byOp.get(row.op) ?? []), row]);
  const lines = [`${'op'.padEnd(20)} ${'cases'.padStart(5)} ${'forward'.padStart(9)} ${'backward'.padStart(9)} ${'tol'.padStart(7)}  result`];
  for (const [op, opRows] of byOp) {
    const worst = (pick: (r: ParityRow) => number | null): number | null =>
      opRows.reduce<number | null>((w, r) => (pick(r) === null ? w : Math.max(w ?? 0, pick(r) as number)), null);
    const failed = opRows.filter((r) => rowProblems(r).length > 0).length;
    const kind = opRows[0].kind === 'property' ? ' (checked per backend)' : '';
    const result = failed ? `FAIL ${failed}/${opRows.length}` : 'ok';
    lines.push(
      `${op.padEnd(20)} ${String(opRows.length).padStart(5)} ${fmt(worst((r) => r.forward)).padStart(9)} ${fmt(worst((r) => r.backward)).padStart(9)} ${String(opRows[0].tol).padStart(7)}  ${result}${kind}`,
    );
  }
  for (const row of rows) {
    const problems = rowProblems(row);
    if (problems.length) lines.push(`  FAIL ${row.op} ${row.label}: ${problems.join('; ')}`);
  }
  return lines.join('\n');
}
