// Saving and loading models as files in Node (model.json + weights.bin, the layout
// tfjs-node writes). Node modules are imported on first use, so importing this file in
// a browser bundle costs nothing until it is called.

import { assembleArtifacts, parseModelJson, toModelJson, type IOHandler, type ModelArtifacts } from './artifacts.js';
import { ModelIOError, reasonOf } from './errors.js';

/** Where a handler's files live. */
interface Target {
  dir: string;
  jsonPath: string;
  /** File name of the weights shard written on save, relative to `dir`. */
  weightsName: string;
}

/**
 * A handler for `path`: a directory (holding `model.json` and `weights.bin`), or the path
 * of a `.json` file (weights saved next to it as `weights.bin` for `model.json`, else
 * `NAME.weights.bin`). Save creates the directory as needed; load reads every shard the
 * manifest lists, relative to the model.json.
 */
export function nodeFileHandler(path: string): IOHandler {
  if (path === '') throw new ModelIOError('file handler: the path is empty');
  return {
    save: async (artifacts) => save(await resolveTarget(path), artifacts),
    load: async () => load(await resolveTarget(path)),
  };
}

let saves = 0;

/**
 * Writes both files under temporary names, then renames them over the old ones (a rename is
 * atomic within a folder), weights first and model.json last: a crash at any moment leaves
 * either the old model or the new one, never a partial file. Between the two renames (a few
 * microseconds) a crash leaves the new weights beside the old model.json; that pair loads only
 * if the shapes are the same, and otherwise fails loading with a ModelFormatError, never silently.
 */
async function save(target: Target, artifacts: ModelArtifacts): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const json = toModelJson(artifacts, target.weightsName);
  await fs.mkdir(target.dir, { recursive: true });
  const weightsPath = path.join(target.dir, target.weightsName);
  const suffix = `.${process.pid}.${++saves}.tmp`;
  const staged: [string, string | Uint8Array, string][] = [
    [`${weightsPath}${suffix}`, new Uint8Array(artifacts.weightData), weightsPath],
    [`${target.jsonPath}${suffix}`, JSON.stringify(json), target.jsonPath],
  ];
  try {
    for (const [temporary, data] of staged) await fs.writeFile(temporary, data);
    for (const [temporary, , final] of staged) await fs.rename(temporary, final);
  } catch (err) {
    await Promise.all(staged.map(([temporary]) => fs.rm(temporary, { force: true })));
    throw new ModelIOError(`cannot save the model to ${target.jsonPath}: ${reasonOf(err)}`, { cause: err });
  }
}

async function load(target: Target): Promise<ModelArtifacts> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let text: string;
  try {
    text = await fs.readFile(target.jsonPath, 'utf8');
  } catch (err) {
    throw new ModelIOError(`cannot read ${target.jsonPath}: ${reasonOf(err)}`, { cause: err });
  }
  const parsed = parseModelJson(text, target.jsonPath);
  const readShard = async (shard: string): Promise<Uint8Array> => {
    if (path.isAbsolute(shard) || /^[a-z][a-z0-9+.-]+:/i.test(shard)) {
      throw new ModelIOError(`${target.jsonPath}: weight shard path '${shard}' should be relative to the model.json`);
    }
    const file = path.join(target.dir, shard);
    // A model file from an untrusted source must not read files outside its folder.
    const inside = path.relative(path.resolve(target.dir), path.resolve(file));
    if (inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
      throw new ModelIOError(`${target.jsonPath}: weight shard path '${shard}' leaves the model's folder ${target.dir} (expected a file in it or below it)`);
    }
    try {
      return await fs.readFile(file);
    } catch (err) {
      throw new ModelIOError(`${target.jsonPath}: cannot read weight shard ${file}: ${reasonOf(err)}`, { cause: err });
    }
  };
  return assembleArtifacts(parsed, readShard, target.jsonPath);
}

async function resolveTarget(target: string): Promise<Target> {
  const path = await import('node:path');
  if (!target.toLowerCase().endsWith('.json')) {
    return { dir: target, jsonPath: path.join(target, 'model.json'), weightsName: 'weights.bin' };
  }
  const base = path.basename(target);
  const weightsName = base === 'model.json' ? 'weights.bin' : `${base.slice(0, -'.json'.length)}.weights.bin`;
  return { dir: path.dirname(target), jsonPath: target, weightsName };
}
