// Loading a model served over HTTP(S): fetches model.json, then every weight shard it
// lists, resolved relative to the model.json URL (as TF.js does). Load only.

import { assembleArtifacts, parseModelJson, type IOHandler, type ModelArtifacts } from './artifacts.js';
import { ModelIOError, reasonOf } from './errors.js';

/** Options for {@link httpHandler}. */
export interface HttpOptions {
  /** Replaces the global fetch (for auth, caching or tests). Called as a plain function. */
  fetchFn?: typeof fetch;
  /** Passed to every request (headers, credentials, …). */
  requestInit?: RequestInit;
}

/**
 * A load-only handler for the model.json at `url`. A relative URL is resolved against the
 * page (or worker) location, so it works only where there is one.
 */
export function httpHandler(url: string, options: HttpOptions = {}): IOHandler {
  return { load: () => load(url, options) };
}

async function load(url: string, options: HttpOptions): Promise<ModelArtifacts> {
  const modelUrl = absoluteUrl(url);
  const response = await get(modelUrl, options, modelUrl);
  const parsed = parseModelJson(await response.text(), modelUrl);
  const readShard = async (path: string) => {
    const shardUrl = new URL(path, modelUrl).href;
    return (await get(shardUrl, options, modelUrl)).arrayBuffer();
  };
  return assembleArtifacts(parsed, readShard, modelUrl);
}

async function get(url: string, options: HttpOptions, modelUrl: string): Promise<Response> {
  const fetchFn = options.fetchFn ?? globalThis.fetch;
  const what = url === modelUrl ? url : `weight shard ${url} (listed in ${modelUrl})`;
  let response: Response;
  try {
    response = await fetchFn(url, options.requestInit);
  } catch (err) {
    throw new ModelIOError(`fetching ${what} failed: ${reasonOf(err)}`, { cause: err });
  }
  if (!response.ok) {
    throw new ModelIOError(`fetching ${what} failed: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  return response;
}

function absoluteUrl(url: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(url, base).href;
  } catch {
    throw new ModelIOError(`cannot resolve the model URL '${url}': a relative URL needs a page or worker location`);
  }
}
