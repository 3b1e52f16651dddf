// Packing named weight arrays into the TF.js binary layout (little-endian, concatenated in
// manifest order) and back, with the checks that catch a weights file that does not match
// its manifest before any of it is used.

import { formatError } from './errors.js';

/** Weight element types the format supports here (TF.js also has quantized and string weights). */
export type WeightDtype = 'float32' | 'int32';

/** One entry of a TF.js weights manifest. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightDtype;
}

/** A weight with its values. */
export interface WeightEntry extends WeightSpec {
  data: Float32Array | Int32Array;
}

const BYTES_PER_ELEMENT = 4;
const DTYPES: readonly string[] = ['float32', 'int32'];
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The number of elements of `shape` (1 for a scalar `[]`). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The bytes all of `specs` take in the weight data. */
export function weightsByteLength(specs: readonly WeightSpec[]): number {
  return specs.reduce((sum, s) => sum + elementCount(s.shape) * BYTES_PER_ELEMENT, 0);
}

/**
 * Packs `entries` into one buffer in order and returns it with their specs. Throws
 * {@link ModelFormatError} on a duplicate name, an unsupported dtype, a data array of the
 * wrong type, or an element count that does not match the shape.
 */
export function encodeWeights(entries: readonly WeightEntry[]): { specs: WeightSpec[]; data: ArrayBuffer } {
  const specs = entries.map(({ name, shape, dtype }) => ({ name, shape: Array.isArray(shape) ? [...shape] : shape, dtype }));
  checkWeightSpecs(specs, undefined, 'weights');
  const data = new ArrayBuffer(weightsByteLength(specs));
  let offset = 0;
  entries.forEach((entry, i) => {
    checkEntryData(entry, i);
    writeLittleEndian(data, offset, entry.data);
    offset += entry.data.length * BYTES_PER_ELEMENT;
  });
  return { specs, data };
}

/**
 * Splits weight data into entries, one per spec, each with its own copy of the values.
 * Throws {@link ModelFormatError} (prefixed with `source`) when the specs are invalid or
 * the buffer is not exactly as long as they need.
 */
export function decodeWeights(specs: readonly WeightSpec[], data: ArrayBuffer, source?: string): WeightEntry[] {
  checkWeightSpecs(specs, source);
  checkWeightData(specs, data.byteLength, source);
  let offset = 0;
  return specs.map((spec) => {
    const n = elementCount(spec.shape);
    const values = readLittleEndian(data, offset, n, spec.dtype);
    offset += n * BYTES_PER_ELEMENT;
    return { name: spec.name, shape: [...spec.shape], dtype: spec.dtype, data: values };
  });
}

/**
 * Checks that `specs` is a list of well-formed weight specs (name, shape of non-negative
 * integers, supported dtype, no quantization) with unique names. `label` names the list
 * in messages, e.g. `weightsManifest[0].weights`.
 */
export function checkWeightSpecs(
  specs: unknown,
  source?: string,
  label = 'weightSpecs',
): asserts specs is WeightSpec[] {
  if (!Array.isArray(specs)) throw formatError(source, `${label} should be an array, found ${typeName(specs)}`);
  const seen = new Map<string, number>();
  specs.forEach((spec, i) => {
    checkWeightSpec(spec, `${label}[${i}]`, source);
    const first = seen.get(spec.name);
    if (first !== undefined) {
      throw formatError(source, `duplicate weight name '${spec.name}' at ${label}[${first}] and ${label}[${i}]`);
    }
    seen.set(spec.name, i);
  });
}

/**
 * Checks that weight data of `byteLength` bytes is exactly what `specs` describe, naming
 * the first weight that is cut short and by how much, or the number of surplus bytes.
 */
export function checkWeightData(specs: readonly WeightSpec[], byteLength: number, source?: string): void {
  const needed = weightsByteLength(specs);
  if (byteLength === needed) return;
  const summary = `the manifest describes ${specs.length} weights in ${needed} bytes, found ${byteLength}`;
  if (byteLength > needed) {
    throw formatError(source, `weight data has ${byteLength - needed} extra bytes: ${summary}`);
  }
  const { spec, start, end, after } = firstIncompleteWeight(specs, byteLength);
  const missing = end - Math.max(start, byteLength);
  const rest = after === 0 ? '' : after === 1 ? ', and the weight after it is missing' : `, and the ${after} weights after it are missing`;
  throw formatError(
    source,
    `weight data is ${needed - byteLength} bytes short: weight '${spec.name}' (${spec.dtype} [${spec.shape.join(',')}], ` +
      `bytes ${start}..${end}) is short by ${missing} bytes${rest}; ${summary}`,
  );
}

/** Concatenates weight shards in order into one buffer, as TF.js splits and rejoins them. */
export function concatShards(shards: readonly (ArrayBuffer | Uint8Array)[]): ArrayBuffer {
  const views = shards.map((s) => (s instanceof Uint8Array ? s : new Uint8Array(s)));
  const out = new Uint8Array(views.reduce((sum, v) => sum + v.byteLength, 0));
  let offset = 0;
  for (const v of views) {
    out.set(v, offset);
    offset += v.byteLength;
  }
  return out.buffer;
}

function checkWeightSpec(spec: unknown, where: string, source?: string): asserts spec is WeightSpec {
  if (typeof spec !== 'object' || spec === null) throw formatError(source, `${where} should be an object, found ${typeName(spec)}`);
  const { name, shape, dtype, quantization } = spec as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') {
    throw formatError(source, `${where}.name should be a non-empty string, found ${JSON.stringify(name)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw formatError(source, `${where}.shape of '${name}' should be a list of non-negative integers, found ${JSON.stringify(shape)}`);
  }
  if (typeof dtype !== 'string' || !DTYPES.includes(dtype)) {
    throw formatError(source, `${where}.dtype of '${name}' is ${JSON.stringify(dtype)}: supported dtypes are ${DTYPES.join(', ')}`);
  }
  if (quantization !== undefined) {
    throw formatError(source, `${where} ('${name}') is quantized: quantized weights are not supported`);
  }
}

function checkEntryData(entry: WeightEntry, i: number): void {
  const expected = entry.dtype === 'float32' ? Float32Array : Int32Array;
  if (!(entry.data instanceof expected)) {
    throw formatError(undefined, `weights[${i}] ('${entry.name}') is ${entry.dtype} but its data is a ${typeName(entry.data)}, expected ${expected.name}`);
  }
  const count = elementCount(entry.shape);
  if (entry.data.length !== count) {
    throw formatError(
      undefined,
      `weights[${i}] ('${entry.name}') has shape [${entry.shape.join(',')}] = ${count} elements but its data has ${entry.data.length}`,
    );
  }
}

function firstIncompleteWeight(specs: readonly WeightSpec[], byteLength: number) {
  let start = 0;
  for (let i = 0; i < specs.length; i++) {
    const end = start + elementCount(specs[i].shape) * BYTES_PER_ELEMENT;
    if (end > byteLength) return { spec: specs[i], start, end, after: specs.length - i - 1 };
    start = end;
  }
  throw new Error('unreachable: called with enough bytes');
}

function writeLittleEndian(target: ArrayBuffer, offset: number, values: Float32Array | Int32Array): void {
  if (LITTLE_ENDIAN) {
    new Uint8Array(target, offset, values.byteLength).set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return;
  }
  const view = new DataView(target);
  const isFloat = values instanceof Float32Array;
  values.forEach((x: number, i: number) =>
    isFloat ? view.setFloat32(offset + 4 * i, x, true) : view.setInt32(offset + 4 * i, x, true),
  );
}

function readLittleEndian(source: ArrayBuffer, offset: number, count: number, dtype: WeightDtype): Float32Array | Int32Array {
  const out = dtype === 'float32' ? new Float32Array(count) : new Int32Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(new Uint8Array(source, offset, out.byteLength));
    return out;
  }
  const view = new DataView(source);
  for (let i = 0; i < count; i++) {
    out[i] = dtype === 'float32' ? view.getFloat32(offset + 4 * i, true) : view.getInt32(offset + 4 * i, true);
  }
  return out;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}
