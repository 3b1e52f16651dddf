// MNIST in the worker: fetched from the page's server (gzipped IDX files), decoded with the
// library's IDX reader, reported byte by byte so the page can show a progress line.
import { loadMnistFromUrls, MNIST_FILES, type Mnist, type MnistUrls } from '../../../src/data/mnist.js';
import type { GridImages } from '../protocol.js';

/** Loads MNIST from `baseUrl` (holding NAME.gz), calling `onProgress` as bytes arrive. */
export async function loadMnist(
  baseUrl: string,
  limit: number | undefined,
  onProgress: (loadedBytes: number, totalBytes: number) => void,
): Promise<Mnist> {
  const urls = Object.fromEntries(
    Object.entries(MNIST_FILES).map(([key, name]) => [key, new URL(`${name}.gz`, baseUrl).href]),
  ) as unknown as MnistUrls;
  return loadMnistFromUrls(urls, progressFetch(onProgress), { limit });
}

/** A fetch that counts the bytes of every response it reads, summed over all files. */
function progressFetch(onProgress: (loaded: number, total: number) => void): typeof fetch {
  const files = new Map<string, { loaded: number; total: number }>();
  const report = () => {
    let loaded = 0;
    let total = 0;
    for (const f of files.values()) {
      loaded += f.loaded;
      total += Math.max(f.total, f.loaded);
    }
    onProgress(loaded, total);
  };
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.ok || !response.body) return response;
    const file = { loaded: 0, total: Number(response.headers.get('Content-Length')) || 0 };
    files.set(String(input), file);
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          file.loaded += chunk.byteLength;
          report();
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** The first `count` test digits, for the page's prediction grid. */
export function gridImages(mnist: Mnist, count: number): GridImages {
  const n = Math.min(count, mnist.test.count);
  return { images: mnist.test.images.slice(0, n * 784), labels: mnist.test.labels.slice(0, n), count: n };
}
