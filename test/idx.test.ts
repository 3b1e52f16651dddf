// Tests for the IDX reader: every element type with big-endian fixtures built here,
// gzipped input via CompressionStream, and each malformed-file error and its message.

import { describe, expect, it } from 'vitest';
import { decodeIdx, gunzip, IDX_TYPE_CODES, IdxFormatError, isGzip, parseIdx, type IdxDtype } from '../src/data/idx.js';

const WRITERS: Record<IdxDtype, { bytes: number; write: (v: DataView, o: number, x: number) => void }> = {
  uint8: { bytes: 1, write: (v, o, x) => v.setUint8(o, x) },
  int8: { bytes: 1, write: (v, o, x) => v.setInt8(o, x) },
  int16: { bytes: 2, write: (v, o, x) => v.setInt16(o, x, false) },
  int32: { bytes: 4, write: (v, o, x) => v.setInt32(o, x, false) },
  float32: { bytes: 4, write: (v, o, x) => v.setFloat32(o, x, false) },
  float64: { bytes: 8, write: (v, o, x) => v.setFloat64(o, x, false) },
};

/** Builds an IDX file the way the format specifies: big-endian dims and values. */
function makeIdx(dtype: IdxDtype, shape: number[], values: number[], extraBytes = 0): Uint8Array {
  const { bytes, write } = WRITERS[dtype];
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + values.length * bytes + extraBytes);
  const view = new DataView(out.buffer);
  out[2] = IDX_TYPE_CODES[dtype];
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  values.forEach((x, i) => write(view, header + i * bytes, x));
  return out;
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
  const stream = input.pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

const CASES: { dtype: IdxDtype; shape: number[]; values: number[]; ctor: Function }[] = [
  { dtype: 'uint8', shape: [2, 3], values: [0, 1, 127, 128, 200, 255], ctor: Uint8Array },
  { dtype: 'int8', shape: [5], values: [-128, -1, 0, 1, 127], ctor: Int8Array },
  { dtype: 'int16', shape: [2, 2], values: [-32768, -2, 258, 32767], ctor: Int16Array },
  { dtype: 'int32', shape: [3, 1], values: [-2147483648, 16909060, 2147483647], ctor: Int32Array },
  { dtype: 'float32', shape: [2, 2], values: [1.5, -0.25, Math.fround(3e38), Math.fround(0.1)], ctor: Float32Array },
  { dtype: 'float64', shape: [1, 3], values: [Math.PI, -1e300, 0.1], ctor: Float64Array },
];

describe('parseIdx', () => {
  for (const { dtype, shape, values, ctor } of CASES) {
    it(`reads big-endian ${dtype} data`, () => {
      const result = parseIdx(makeIdx(dtype, shape, values));
      expect(result.dtype).toBe(dtype);
      expect(result.shape).toEqual(shape);
      expect(result.data).toBeInstanceOf(ctor);
      expect(Array.from(result.data)).toEqual(values);
    });
  }

  it('reads a 3-d file like the MNIST images and copies the data out of the input buffer', () => {
    const values = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
    const file = makeIdx('uint8', [2, 3, 4], values);
    const result = parseIdx(file);
    expect(result.shape).toEqual([2, 3, 4]);
    expect(Array.from(result.data)).toEqual(values);
    expect(result.data.buffer).not.toBe(file.buffer);
    expect(result.data.byteLength).toBe(result.data.buffer.byteLength);
  });

  it('reads from a Uint8Array that is a view at an odd offset of a larger buffer', () => {
    const file = makeIdx('int16', [3], [-5, 1000, 7]);
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 1);
    expect(Array.from(parseIdx(padded.subarray(1, 1 + file.length)).data)).toEqual([-5, 1000, 7]);
  });

  it('accepts a zero-length dimension as an empty array', () => {
    const result = parseIdx(makeIdx('float32', [0, 4], []));
    expect(result.shape).toEqual([0, 4]);
    expect(result.data.length).toBe(0);
  });

  it('rejects a header shorter than 4 bytes', () => {
    const err = catchError(() => parseIdx(new Uint8Array([0, 0, 8]), 'tiny.idx'));
    expect(err).toBeInstanceOf(IdxFormatError);
    expect(err.name).toBe('IdxFormatError');
    expect(err.message).toBe('IDX tiny.idx: too short for an IDX header: need at least 4 bytes, found 3');
  });

  it('rejects nonzero leading magic bytes, showing what it found', () => {
    const file = makeIdx('uint8', [1], [1]);
    file[1] = 0x2a;
    const err = catchError(() => parseIdx(file, 'x.idx'));
    expect(err).toBeInstanceOf(IdxFormatError);
    expect(err.message).toContain('IDX x.idx: bad magic number');
    expect(err.message).toContain('found 0x00 0x2a');
  });

  it('rejects an unknown type code and lists the valid ones', () => {
    const file = makeIdx('uint8', [1], [1]);
    file[2] = 0x0a;
    const err = catchError(() => parseIdx(file, 'x.idx'));
    expect(err.message).toContain('unknown type code 0x0a');
    for (const code of Object.values(IDX_TYPE_CODES)) expect(err.message).toContain(`0x${code.toString(16).padStart(2, '0')}`);
  });

  it('rejects a header that declares zero dimensions', () => {
    const err = catchError(() => parseIdx(new Uint8Array([0, 0, 8, 0, 1, 2]), 'x.idx'));
    expect(err.message).toBe('IDX x.idx: the header declares 0 dimensions: expected at least 1');
  });

  it('rejects a header cut off inside the dimension list', () => {
    const file = makeIdx('uint8', [2, 2, 2], new Array(8).fill(0)).slice(0, 10);
    const err = catchError(() => parseIdx(file, 'x.idx'));
    expect(err.message).toContain('header declares 3 dimensions, which needs 16 header bytes, found 10');
  });

  it('rejects truncated uint8 data with the MNIST-style message', () => {
    const shape = [60000, 28, 28];
    const header = makeIdx('uint8', shape, []);
    const file = new Uint8Array(header.length + 1000);
    file.set(header);
    const err = catchError(() => parseIdx(file, 'train-images-idx3-ubyte'));
    expect(err).toBeInstanceOf(IdxFormatError);
    const total = shape.reduce((a, b) => a * b, 1);
    expect(err.message).toBe(
      `IDX train-images-idx3-ubyte: truncated: header says 60000×28×28 = ${total} bytes of uint8 data, found 1000`,
    );
  });

  it('states element size when multi-byte data is truncated', () => {
    const file = makeIdx('int32', [2, 3], [1, 2, 3, 4, 5, 6]).slice(0, -2);
    const err = catchError(() => parseIdx(file, 'w.idx'));
    expect(err.message).toBe(`IDX w.idx: truncated: header says 2×3 = 6 values × 4 bytes = 24 bytes of int32 data, found 22`);
  });

  it('rejects trailing bytes after the data', () => {
    const file = makeIdx('float64', [2], [1, 2], 5);
    const err = catchError(() => parseIdx(file, 'f.idx'));
    expect(err.message).toBe('IDX f.idx: 5 trailing bytes: header says 2 = 2 values × 8 bytes = 16 bytes of float64 data, found 21');
  });

  it('omits the source name when none is given', () => {
    expect(catchError(() => parseIdx(new Uint8Array(0))).message).toBe(
      'IDX: too short for an IDX header: need at least 4 bytes, found 0',
    );
  });
});

describe('decodeIdx', () => {
  it('gunzips gzipped input before parsing', async () => {
    const values = [-3, 0, 1234, -32768];
    const raw = makeIdx('int16', [4], values);
    const zipped = await gzip(raw);
    expect(isGzip(zipped)).toBe(true);
    expect(isGzip(raw)).toBe(false);
    const result = await decodeIdx(zipped, 'a.idx.gz');
    expect(result.dtype).toBe('int16');
    expect(result.shape).toEqual([4]);
    expect(Array.from(result.data)).toEqual(values);
  });

  it('reads raw input unchanged', async () => {
    const values = [0.5, -2.25];
    const result = await decodeIdx(makeIdx('float32', [2, 1], values));
    expect(result.shape).toEqual([2, 1]);
    expect(Array.from(result.data)).toEqual(values);
  });

  it('reports IDX errors inside a gzipped file with the source name', async () => {
    const zipped = await gzip(makeIdx('uint8', [10], [1, 2, 3]));
    await expect(decodeIdx(zipped, 'short.gz')).rejects.toThrow(
      'IDX short.gz: truncated: header says 10 = 10 bytes of uint8 data, found 3',
    );
  });

  it('turns corrupt gzip data into an IdxFormatError', async () => {
    const zipped = await gzip(makeIdx('uint8', [64], new Array(64).fill(9)));
    const corrupt = zipped.slice();
    corrupt[corrupt.length - 6] ^= 0xff; // inside the CRC32 trailer
    const err = await decodeIdx(corrupt, 'bad.gz').catch((e: Error) => e);
    expect(err).toBeInstanceOf(IdxFormatError);
    expect((err as Error).message).toContain(`IDX bad.gz: corrupt gzip data (${corrupt.length} bytes)`);
  });

  it('turns a truncated gzip stream into an IdxFormatError', async () => {
    const zipped = await gzip(makeIdx('uint8', [64], new Array(64).fill(9)));
    const truncated = zipped.slice(0, zipped.length - 12);
    const err = await gunzip(truncated, 'cut.gz').catch((e: Error) => e);
    expect(err).toBeInstanceOf(IdxFormatError);
    expect((err as Error).message).toContain('IDX cut.gz: corrupt gzip data');
  });
});
