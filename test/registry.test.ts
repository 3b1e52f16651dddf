// Meta-test over the op registry: every OpDef exported from src/ops (and every row of the unary
// and binary tables) must be declared as checked forward by some test, and, when it has a
// gradient, as checked backward, through covering() (test/helpers/coverage.ts). Declarations are
// read with the TypeScript parser: only calls inside tests count, never a name in a comment or a
// string, and covering() itself fails its test unless the declared ops really ran there.
import { describe, expect, it } from 'vitest';
import type { OpDef } from '../src/ops/op.js';
import { BINARY } from '../src/ops/binary.js';
import { UNARY } from '../src/ops/unary.js';
import { coverageDeclarations, testSources } from './helpers/coverage-scan.js';

/** Ops with no gradient, and why. */
const NOT_DIFFERENTIABLE: Record<string, string> = {
  sign: 'piecewise constant',
  floor: 'piecewise constant',
  ...Object.fromEntries(['greater', 'greaterEqual', 'less', 'lessEqual', 'equal', 'notEqual'].map((n) => [n, 'comparison: 0/1 output'])),
  map: 'building block of gradients and of ops that record their own',
  gatherBackprop: 'a gradient kernel',
  softmaxBackprop: 'a gradient kernel',
  logSoftmaxBackprop: 'a gradient kernel',
  softmaxCrossEntropyBackprop: 'a gradient kernel',
  randomUniform: 'no inputs',
  conv2dBackpropFilter: 'a gradient kernel',
  depthwiseConv2dBackpropInput: 'a gradient kernel',
  depthwiseConv2dBackpropFilter: 'a gradient kernel',
  maxPool2dBackprop: 'a gradient kernel',
  avgPool2dBackprop: 'a gradient kernel',
};

type AnyOpDef = OpDef<never>;

function isOpDef(v: unknown): v is AnyOpDef {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.name === 'string' && typeof o.outputs === 'function' && typeof o.kernel === 'function' && 'grad' in o;
}

/** Every OpDef exported by a module under src/ops, directly or inside an exported table. */
function registry(): Map<string, AnyOpDef> {
  const modules = import.meta.glob('../src/ops/**/*.ts', { eager: true }) as Record<string, Record<string, unknown>>;
  const found = new Map<string, AnyOpDef>();
  const add = (def: AnyOpDef, where: string) => {
    const other = found.get(def.name);
    if (other && other !== def) throw new Error(`two different OpDefs are named '${def.name}' (one in ${where}); op names must be unique`);
    found.set(def.name, def);
  };
  for (const [path, exports] of Object.entries(modules)) {
    for (const value of Object.values(exports)) {
      if (isOpDef(value)) add(value, path);
      else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
        for (const inner of Object.values(value)) if (isOpDef(inner)) add(inner, path);
      }
    }
  }
  return found;
}

describe('op registry', () => {
  const ops = registry();

  it('finds the ops of every family', () => {
    for (const name of ['relu', 'add', 'reduce', 'transpose', 'gather', 'softmax', 'softmaxCrossEntropy', 'dropout']) expect(ops.has(name), name).toBe(true);
  });

  it('the scanner counts only covering() calls inside tests, not names in comments, strings or helpers', () => {
    const source = [
      "// covering({ forward: ['inComment'] })",
      "const text = \"covering({ forward: ['inString'] })\";",
      "const helper = () => covering({ forward: ['outsideTest'] }, () => {});",
      "it.each([1])('case %i', async () => { await covering({ forward: ['counted'], gradient: ['alsoCounted'] }, () => {}); });",
      "it('dynamic', () => covering({ forward: [name] }, () => {}));",
    ].join('\n');
    const found = coverageDeclarations('synthetic.test.ts', source);
    expect(found.map((d) => [d.forward, d.gradient, d.problem ?? null])).toEqual([
      [['outsideTest'], [], 'not inside an it() or test()'],
      [['counted'], ['alsoCounted'], null],
      [[], [], 'forward must list op names as string literals'],
    ]);
  });

  const declared = testSources().flatMap(({ file, text }) => coverageDeclarations(file, text));

  it('covering() declarations name their ops as string literals, inside tests', () => {
    expect(declared.filter((d) => d.problem).map((d) => `${d.where}: ${d.problem}`)).toEqual([]);
    expect(declared.length).toBeGreaterThan(10);
  });

  it('every op is declared as checked forward by some test', () => {
    const forward = new Set(declared.flatMap((d) => d.forward));
    expect([...ops.keys()].filter((n) => !forward.has(n)), 'ops no covering({ forward }) names').toEqual([]);
  });

  it('every differentiable op is declared as checked backward, and every other op has a reason', () => {
    const gradient = new Set(declared.flatMap((d) => d.gradient));
    const untested = [...ops.values()].filter((d) => d.grad && !gradient.has(d.name)).map((d) => d.name);
    expect(untested, 'differentiable ops no covering({ gradient }) names').toEqual([]);
    const unexplained = [...ops.values()].filter((d) => !d.grad && !NOT_DIFFERENTIABLE[d.name]).map((d) => d.name);
    expect(unexplained, 'ops without a gradient missing from NOT_DIFFERENTIABLE').toEqual([]);
  });

  it('the declarations and the list have no stale or contradictory entries', () => {
    const named = new Set([...declared.flatMap((d) => [...d.forward, ...d.gradient]), ...Object.keys(NOT_DIFFERENTIABLE)]);
    expect([...named].filter((n) => !ops.has(n)), 'names that are not ops').toEqual([]);
    const wrong = declared.flatMap((d) => d.gradient.filter((n) => ops.get(n)?.grad === null).map((n) => `${d.where}: ${n}`));
    expect(wrong, 'declared as checked backward but have no gradient').toEqual([]);
    expect(Object.keys(NOT_DIFFERENTIABLE).filter((n) => ops.get(n)?.grad), 'listed as not differentiable but have a gradient').toEqual([]);
  });

  it('every row of the unary and binary tables is an OpDef in the registry', () => {
    for (const name of [...Object.keys(UNARY), ...Object.keys(BINARY)]) expect(ops.has(name), name).toBe(true);
  });
});
