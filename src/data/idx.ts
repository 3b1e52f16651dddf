// Reader for the IDX binary format (the format MNIST and its relatives ship in), raw or
// gzipped. Pure TypeScript on Uint8Arrays plus DecompressionStream, so it runs unchanged
// in Node 20+, browsers and workers.

import { NeuriteError } from '../errors.js';

/** Element types an IDX file can hold. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array {@link parseIdx} returns for each {@link IdxDtype}. */
type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: a dense row-major array of `shape`. */
export interface IdxArray {
  shape: number[];
  dtype: IdxDtype;
  /** Native-endian values, in a fresh buffer of exactly this array's size. */
  data: IdxData;
}

/** The bytes are not a valid IDX file (or not a valid gzip of one). */
export class IdxFormatError extends NeuriteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    // Set explicitly: minifiers rename classes, and `new.target.name` would follow.
    this.name = 'IdxFormatError';
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}

interface DtypeInfo {
  dtype: IdxDtype;
  bytes: number;
  make: (n: number) => IdxData;
  /** Reads one big-endian element. */
  read: (view: DataView, offset: number) => number;
}

const DTYPES: Record<number, DtypeInfo> = {
  0x08: { dtype: 'uint8', bytes: 1, make: (n) => new Uint8Array(n), read: (v, o) => v.getUint8(o) },
  0x09: { dtype: 'int8', bytes: 1, make: (n) => new Int8Array(n), read: (v, o) => v.getInt8(o) },
  0x0b: { dtype: 'int16', bytes: 2, make: (n) => new Int16Array(n), read: (v, o) => v.getInt16(o) },
  0x0c: { dtype: 'int32', bytes: 4, make: (n) => new Int32Array(n), read: (v, o) => v.getInt32(o) },
  0x0d: { dtype: 'float32', bytes: 4, make: (n) => new Float32Array(n), read: (v, o) => v.getFloat32(o) },
  0x0e: { dtype: 'float64', bytes: 8, make: (n) => new Float64Array(n), read: (v, o) => v.getFloat64(o) },
};

/** The IDX type code of each dtype (the third byte of the magic number). */
export const IDX_TYPE_CODES: Readonly<Record<IdxDtype, number>> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};

/**
 * Decodes an uncompressed IDX file. Throws {@link IdxFormatError} (naming `sourceName`,
 * what was found and what was expected) on a short header, a bad magic number, an unknown
 * type code, zero dimensions, or data shorter or longer than the dimensions imply.
 */
export function parseIdx(bytes: Uint8Array, sourceName?: string): IdxArray {
  const fail = (detail: string): never => {
    throw new IdxFormatError(`${idxLabel(sourceName)}: ${detail}`);
  };
  if (bytes.length < 4) fail(`too short for an IDX header: need at least 4 bytes, found ${bytes.length}`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`bad magic number: expected the first two bytes to be 00 00, found ${hex(bytes[0])} ${hex(bytes[1])}`);
  }
  const info = DTYPES[bytes[2]];
  if (!info) {
    fail(`unknown type code ${hex(bytes[2])}: expected one of ${Object.keys(DTYPES).map((c) => hex(Number(c))).join(', ')}`);
  }
  const rank = bytes[3];
  if (rank === 0) fail('the header declares 0 dimensions: expected at least 1');
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    fail(`header declares ${rank} dimensions, which needs ${headerBytes} header bytes, found ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * info.bytes;
  const found = bytes.length - headerBytes;
  if (found !== expected) {
    const what = found < expected ? 'truncated' : `${found - expected} trailing bytes`;
    fail(`${what}: header says ${describeSize(shape, count, info)}, found ${found}`);
  }
  return { shape, dtype: info.dtype, data: readElements(view, headerBytes, count, info) };
}

/** True if `bytes` starts with the gzip magic number (1f 8b). IDX files start with 00 00. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses gzip bytes with the platform's DecompressionStream (global in browsers,
 * workers and Node 18+), so no Node-only module is pulled into a browser bundle.
 * A corrupt or truncated stream throws {@link IdxFormatError} naming `sourceName`.
 */
export async function gunzip(bytes: Uint8Array, sourceName?: string): Promise<Uint8Array> {
  try {
    const input = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const output = input.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
    return new Uint8Array(await new Response(output).arrayBuffer());
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new IdxFormatError(`${idxLabel(sourceName)}: corrupt gzip data (${bytes.length} bytes): ${reason}`, {
      cause: err,
    });
  }
}

/**
 * Decodes an IDX file that may be gzipped (as the MNIST files are usually served):
 * gunzips when the gzip magic number is present, then {@link parseIdx}.
 */
export async function decodeIdx(bytes: Uint8Array, sourceName?: string): Promise<IdxArray> {
  const raw = isGzip(bytes) ? await gunzip(bytes, sourceName) : bytes;
  return parseIdx(raw, sourceName);
}

function readElements(view: DataView, offset: number, count: number, info: DtypeInfo): IdxData {
  if (info.bytes === 1) {
    // Single bytes have no endianness: one copy into a fresh buffer (so the result owns
    // its memory and can be transferred to a worker without dragging the file along).
    const copy = new Uint8Array(count);
    copy.set(new Uint8Array(view.buffer, view.byteOffset + offset, count));
    return info.dtype === 'int8' ? new Int8Array(copy.buffer) : copy;
  }
  const out = info.make(count);
  for (let i = 0, o = offset; i < count; i++, o += info.bytes) out[i] = info.read(view, o);
  return out;
}

function describeSize(shape: number[], count: number, info: DtypeInfo): string {
  const dims = shape.join('×');
  if (info.bytes === 1) return `${dims} = ${count} bytes of ${info.dtype} data`;
  return `${dims} = ${count} values × ${info.bytes} bytes = ${count * info.bytes} bytes of ${info.dtype} data`;
}

function idxLabel(sourceName?: string): string {
  return sourceName ? `IDX ${sourceName}` : 'IDX';
}

function hex(byte: number | undefined): string {
  return byte === undefined ? '(none)' : `0x${byte.toString(16).padStart(2, '0')}`;
}
