// Picks the storage handler for a model location string, by its scheme, so `save(url)`
// and `load(url)` need not know where models live.

import type { IOHandler } from './artifacts.js';
import { browserDownloads } from './browser-download.js';
import { ModelIOError } from './errors.js';
import { httpHandler, type HttpOptions } from './http.js';
import { indexedDbHandler } from './indexeddb.js';
import { nodeFileHandler } from './node-fs.js';

/** Options passed on to the handler {@link getHandler} picks. */
export type HandlerOptions = HttpOptions;

/**
 * The handler for `urlOrPath`:
 * - `indexeddb://NAME` → IndexedDB (browser);
 * - `downloads://NAME` → NAME.json + NAME.weights.bin downloads (browser, save only);
 * - `http://…`, `https://…` → fetch (load only), shards relative to the model.json URL;
 * - `file://PATH`, or in Node any other path → files (PATH is a directory or a .json file);
 * - in a browser, a relative URL ending in `.json` → fetch relative to the page.
 */
export function getHandler(urlOrPath: string, options: HandlerOptions = {}): IOHandler {
  const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(urlOrPath)?.[1]?.toLowerCase();
  const rest = scheme ? urlOrPath.slice(scheme.length + 3) : urlOrPath;
  switch (scheme) {
    case 'indexeddb':
      return indexedDbHandler(requireName(rest, urlOrPath));
    case 'downloads':
      return browserDownloads(requireName(rest, urlOrPath));
    case 'http':
    case 'https':
      return httpHandler(urlOrPath, options);
    case 'file':
      // As tfjs-node: file://./dir is relative, file:///abs/dir absolute.
      return nodeFileHandler(decodeURIComponent(requireName(rest, urlOrPath)));
    case undefined:
      if (isNode()) return nodeFileHandler(urlOrPath);
      if (urlOrPath.toLowerCase().endsWith('.json')) return httpHandler(urlOrPath, options);
      break;
  }
  throw new ModelIOError(
    `no model handler for '${urlOrPath}': use indexeddb://NAME, downloads://NAME, http(s)://…/model.json, ` +
      'a relative URL ending in .json (browser), or file://PATH / a path (Node)',
  );
}

function requireName(rest: string, urlOrPath: string): string {
  if (rest === '') throw new ModelIOError(`'${urlOrPath}' names no model after the scheme`);
  return rest;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}
