// A tiny WebAssembly module emitter: types, one imported memory (and host functions), functions
// with locals, exports.
// Kernels build their modules' bytes at runtime with it (no native toolchain, no eval); the
// instruction stream of each function comes from `Code` (code.ts).
import type { Code } from './code.js';

/** Value types of the wasm binary format. */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;

/** One value type. */
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Unsigned LEB128 (sizes, indices, alignments, offsets). */
export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer (i32.const operands). */
export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(name: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(name));
  return [...uleb(bytes.length), ...bytes];
}

/** A vector in the binary format: its length, then the items' bytes. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return body.length ? [id, ...uleb(body.length), ...body] : [];
}

/** A function to emit: its signature, extra locals (after the params) and body. */
export interface FunctionDef {
  /** Exported under this name. */
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  /** Locals after the params, in index order. */
  readonly locals: readonly ValType[];
  readonly body: Code;
}

/** A host function the module imports from `env` (its index precedes the module's own functions). */
export interface FunctionImport {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** The memory every module imports as `env.memory`. */
export interface MemoryImport {
  /** Pages (64 KiB) the imported memory has at least. */
  readonly minPages: number;
  /** Set for a shared memory (threads), which must declare its maximum. */
  readonly shared?: { readonly maxPages: number };
}

/**
 * The bytes of a module that imports `env.memory` (and `hostFunctions`, called by index 0, 1, …)
 * and exports `functions` by name.
 */
export function emitModule(functions: readonly FunctionDef[], memory: MemoryImport = { minPages: 0 }, hostFunctions: readonly FunctionImport[] = []): Uint8Array<ArrayBuffer> {
  const sigs: string[] = [];
  const typeIndex = (f: { params: readonly ValType[]; results: readonly ValType[] }) => {
    const sig = JSON.stringify([f.params, f.results]);
    if (!sigs.includes(sig)) sigs.push(sig);
    return sigs.indexOf(sig);
  };
  const hostTypes = hostFunctions.map(typeIndex);
  const typeOf = functions.map(typeIndex);
  const types = vec(sigs.map((s) => {
    const [params, results] = JSON.parse(s) as [number[], number[]];
    return [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
  }));
  const limits = memory.shared ? [0x03, ...uleb(memory.minPages), ...uleb(memory.shared.maxPages)] : [0x00, ...uleb(memory.minPages)];
  const imports = vec([
    [...utf8('env'), ...utf8('memory'), 0x02, ...limits],
    ...hostFunctions.map((f, i) => [...utf8('env'), ...utf8(f.name), 0x00, ...uleb(hostTypes[i])]),
  ]);
  const funcs = vec(typeOf.map((t) => uleb(t)));
  const exports = vec(functions.map((f, i) => [...utf8(f.name), 0x00, ...uleb(hostFunctions.length + i)]));
  const code = vec(functions.map((f) => {
    // Locals as runs of one type, as the format wants.
    const runs: number[][] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const body = [...vec(runs.map(([n, t]) => [...uleb(n), t])), ...f.body.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  }));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types), ...section(2, imports), ...section(3, funcs), ...section(7, exports), ...section(10, code),
  ]);
}
