// Every parity case, in run order. Plain data with no DOM and no library import, so the page
// (which runs them) and the Playwright spec (which makes one test of each) share one list.
import type { ParityCase } from './case.js';
import { ELEMENTWISE_CASES } from './cases-elementwise.js';
import { NN_CASES } from './cases-nn.js';
import { ROUTINE_CASES } from './cases-routines.js';
import { SHAPE_CASES } from './cases-shape.js';

/** Every case; the spec fails a case whose op is not exported. */
export const CASES: ParityCase[] = [...ELEMENTWISE_CASES, ...SHAPE_CASES, ...ROUTINE_CASES, ...NN_CASES];

/** A case's unique title: its op and label. */
export const caseTitle = (c: Pick<ParityCase, 'op' | 'label'>): string => `${c.op} ${c.label}`;
