// Meta-test over the op registry: every OpDef exported from src/ops (and every row of the unary
// and binary tables) must be listed below, either with the test that checks its gradient or as
// not differentiable with the reason. Adding an op without a gradient test fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OpDef } from '../src/ops/op.js';
import { BINARY } from '../src/ops/binary.js';
import { UNARY } from '../src/ops/unary.js';

/** Where each differentiable op's gradient is checked: the test file and a call it must contain. */
const GRADIENT_TESTS: Record<string, { file: string; call: string }> = {
  ...Object.fromEntries(
    ['neg', 'exp', 'log', 'sqrt', 'square', 'abs', 'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'clipByValue'].map((n) => [
      n,
      { file: 'gradcheck.test.ts', call: `name: '${n}'` },
    ]),
  ),
  ...Object.fromEntries(['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'].map((n) => [n, { file: 'gradcheck.test.ts', call: `f: nt.${n} ` }])),
  reduce: { file: 'gradcheck.test.ts', call: 'nt.sum(x, {' },
  transpose: { file: 'gradcheck.test.ts', call: 'nt.transpose(' },
  broadcastTo: { file: 'gradcheck.test.ts', call: 'nt.broadcastTo(' },
  slice: { file: 'gradcheck.test.ts', call: 'nt.slice(' },
  pad: { file: 'gradcheck.test.ts', call: 'nt.pad(' },
  gather: { file: 'gradcheck.test.ts', call: 'nt.gather(' },
  softmax: { file: 'gradcheck.test.ts', call: 'nt.softmax(' },
  logSoftmax: { file: 'gradcheck.test.ts', call: 'nt.logSoftmax(' },
  squaredDifference: { file: 'gradcheck.test.ts', call: 'nt.meanSquaredError' },
  binaryCrossentropy: { file: 'gradcheck.test.ts', call: 'nt.binaryCrossentropy(z, p)' },
  sigmoidCrossEntropy: { file: 'gradcheck.test.ts', call: '{ fromLogits: true }' },
  softmaxCrossEntropy: { file: 'gradcheck.test.ts', call: 'nt.softmaxCrossEntropy(' },
  dropout: { file: 'gradcheck.test.ts', call: 'nt.dropout(' },
  // Routines whose owners check their gradients in their own suites.
  matMul: { file: 'matmul.test.ts', call: 'nt.grads((x, y) => nt.sum(nt.mul(nt.matMul(' },
  fusedMatMul: { file: 'matmul.test.ts', call: 'nt.grads((x, y, z) => nt.sum(nt.mul(nt.fusedMatMul(' },
  conv2d: { file: 'conv.test.ts', call: 'nt.checkGradients(' },
  fusedConv2d: { file: 'conv.test.ts', call: 'nt.grads((xt, wt, bt) => nt.sum(nt.mul(nt.fusedConv2d(' },
  // conv2dTranspose runs conv2dBackpropInput, which is therefore differentiable too.
  conv2dBackpropInput: { file: 'layers-upsampling.test.ts', call: 'nt.checkGradients((xi, wi) => nt.sum(nt.mul(nt.conv2dTranspose(' },
  depthwiseConv2d: { file: 'depthwise.test.ts', call: 'nt.checkGradients((xi, fi) => nt.sum(nt.mul(nt.depthwiseConv2d(' },
  maxPool2d: { file: 'pool.test.ts', call: 'nt.maxPool2d' },
  avgPool2d: { file: 'pool.test.ts', call: 'nt.avgPool2d' },
};

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

  it('every differentiable op has a gradient test listed, and every other op a reason', () => {
    const missing = [...ops.values()].filter((d) => (d.grad ? !GRADIENT_TESTS[d.name] : !NOT_DIFFERENTIABLE[d.name])).map((d) => `${d.name} (${d.grad ? 'differentiable' : 'no gradient'})`);
    expect(missing, 'ops missing from GRADIENT_TESTS / NOT_DIFFERENTIABLE in test/registry.test.ts').toEqual([]);
  });

  it('the list has no stale or contradictory entries', () => {
    const stale = [...Object.keys(GRADIENT_TESTS), ...Object.keys(NOT_DIFFERENTIABLE)].filter((n) => !ops.has(n));
    expect(stale, 'listed ops that no longer exist').toEqual([]);
    const wrong = Object.keys(GRADIENT_TESTS).filter((n) => ops.get(n)?.grad === null);
    expect(wrong, 'listed as tested but have no gradient').toEqual([]);
  });

  it.each(Object.entries(GRADIENT_TESTS))('%s: the listed test exists and exercises it', (_name, { file, call }) => {
    const source = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
    expect(source.includes(call), `${file} contains ${JSON.stringify(call)}`).toBe(true);
    expect(/\bnt\.(grad|grads|valueAndGrad|valueAndGrads|variableGrads|checkGradients)\(/.test(source), `${file} takes gradients`).toBe(true);
  });

  it('every row of the unary and binary tables is an OpDef in the registry', () => {
    for (const name of [...Object.keys(UNARY), ...Object.keys(BINARY)]) expect(ops.has(name), name).toBe(true);
  });
});
