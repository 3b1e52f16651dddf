// Loading a model from files the user picked in an <input type="file" multiple>: the
// model.json and its weight shard(s), matched to the manifest paths by file name.

import { assembleArtifacts, parseModelJson, type IOHandler, type ModelArtifacts } from './artifacts.js';
import { ModelIOError, reasonOf } from './errors.js';

/**
 * A load-only handler for a model.json `File` and its weight `File`s. Each manifest path
 * is matched by its last path segment (TF.js writes e.g. `./my-model.weights.bin`).
 */
export function browserFiles(jsonFile: File, weightFiles: readonly File[]): IOHandler {
  return { load: () => load(jsonFile, weightFiles) };
}

async function load(jsonFile: File, weightFiles: readonly File[]): Promise<ModelArtifacts> {
  let text: string;
  try {
    text = await jsonFile.text();
  } catch (err) {
    throw new ModelIOError(`cannot read ${jsonFile.name}: ${reasonOf(err)}`, { cause: err });
  }
  const parsed = parseModelJson(text, jsonFile.name);
  const byName = filesByName(weightFiles);
  const readShard = async (path: string) => {
    const name = path.split('/').pop() ?? path;
    const file = byName.get(name);
    if (!file) {
      const offered = weightFiles.map((f) => f.name).join(', ') || 'none';
      throw new ModelIOError(`${jsonFile.name} lists weight shard '${path}', but no selected file is named '${name}' (selected: ${offered})`);
    }
    return file.arrayBuffer();
  };
  return assembleArtifacts(parsed, readShard, jsonFile.name);
}

function filesByName(files: readonly File[]): Map<string, File> {
  const map = new Map<string, File>();
  for (const file of files) {
    // Two files with one name would make the match ambiguous; refuse rather than guess.
    if (map.has(file.name)) throw new ModelIOError(`two selected weight files are both named '${file.name}'`);
    map.set(file.name, file);
  }
  return map;
}
