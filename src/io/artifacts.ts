// The TF.js LayersModel file format as plain data: building and validating model.json,
// and assembling artifacts from a model.json plus its weight shards, whatever stores them.

import { formatError, ModelIOError, reasonOf } from './errors.js';
import { checkWeightData, checkWeightSpecs, concatShards, type WeightSpec } from './weights.js';

/** Everything needed to save or restore a model: its config and its packed weights. */
export interface ModelArtifacts {
  /** The Keras-style model config (opaque to this module). */
  modelTopology: object;
  weightSpecs: WeightSpec[];
  /** All weights concatenated in `weightSpecs` order, little-endian. */
  weightData: ArrayBuffer;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: object;
}

/** A storage backend for model artifacts; a handler may support only one direction. */
export interface IOHandler {
  save?(artifacts: ModelArtifacts): Promise<void>;
  load?(): Promise<ModelArtifacts>;
}

/** One group of a TF.js weights manifest: weights stored across `paths`, concatenated. */
export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** The content of a TF.js model.json for a layers model. */
export interface ModelJson {
  format: string;
  generatedBy: string;
  convertedBy: string | null;
  modelTopology: object;
  weightsManifest: WeightsManifestGroup[];
  trainingConfig?: object;
}

/** A validated model.json, with its weight specs and shard paths flattened in file order. */
export interface ParsedModelJson {
  modelJson: ModelJson;
  weightSpecs: WeightSpec[];
  /** Every shard path of every group, in order; their bytes concatenated are the weight data. */
  shardPaths: string[];
}

/** The only `format` this library reads and writes. */
export const LAYERS_MODEL_FORMAT = 'layers-model';

/** `generatedBy` written into files saved by this library. */
export const GENERATED_BY = 'Neurite';

/**
 * Builds the model.json object for `artifacts`, with all weights in one shard at
 * `weightsPath` (relative to model.json). Checks the artifacts first, so a model whose
 * weight data does not match its specs is never written.
 */
export function toModelJson(artifacts: ModelArtifacts, weightsPath = 'weights.bin'): ModelJson {
  checkArtifacts(artifacts);
  const json: ModelJson = {
    format: artifacts.format ?? LAYERS_MODEL_FORMAT,
    generatedBy: artifacts.generatedBy ?? GENERATED_BY,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [weightsPath], weights: artifacts.weightSpecs }],
  };
  if (artifacts.trainingConfig !== undefined) json.trainingConfig = artifacts.trainingConfig;
  return json;
}

/**
 * Parses and validates the text of a model.json. Throws {@link ModelFormatError} naming
 * `source` and the offending field on bad JSON, a wrong `format`, a missing
 * `modelTopology`, a missing or empty `weightsManifest`, or a malformed weight spec.
 */
export function parseModelJson(text: string, source = 'model.json'): ParsedModelJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw formatError(source, `not valid JSON: ${reasonOf(err)}`);
  }
  if (!isObject(json)) throw formatError(source, `should hold a JSON object, found ${describe(json)}`);
  if (json.format !== undefined && json.format !== LAYERS_MODEL_FORMAT) {
    throw formatError(source, `format is ${JSON.stringify(json.format)}, expected '${LAYERS_MODEL_FORMAT}'`);
  }
  if (!isObject(json.modelTopology)) {
    throw formatError(source, `modelTopology is ${json.modelTopology === undefined ? 'missing' : describe(json.modelTopology)}, expected the model config object`);
  }
  const groups = checkManifest(json.weightsManifest, source);
  const weightSpecs = groups.flatMap((g) => g.weights);
  checkWeightSpecs(weightSpecs, source, 'weightsManifest[*].weights');
  return { modelJson: json as unknown as ModelJson, weightSpecs, shardPaths: groups.flatMap((g) => g.paths) };
}

/**
 * Reads every shard of `parsed` with `readShard` (in order; they may be fetched in
 * parallel), joins them and returns the artifacts, after checking the total byte length.
 * `readShard` failures become {@link ModelIOError}s naming the shard and `source`.
 */
export async function assembleArtifacts(
  parsed: ParsedModelJson,
  readShard: (path: string) => Promise<ArrayBuffer | Uint8Array>,
  source = 'model.json',
): Promise<ModelArtifacts> {
  const shards = await Promise.all(
    parsed.shardPaths.map((path) =>
      readShard(path).catch((err: unknown) => {
        if (err instanceof ModelIOError) throw err;
        throw new ModelIOError(`${source}: cannot read weight shard '${path}': ${reasonOf(err)}`, { cause: err });
      }),
    ),
  );
  const weightData = concatShards(shards);
  checkWeightData(parsed.weightSpecs, weightData.byteLength, `${source} (shards ${parsed.shardPaths.join(', ')})`);
  const { modelJson } = parsed;
  const artifacts: ModelArtifacts = {
    modelTopology: modelJson.modelTopology,
    weightSpecs: parsed.weightSpecs,
    weightData,
    format: modelJson.format ?? LAYERS_MODEL_FORMAT,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy ?? null,
  };
  if (modelJson.trainingConfig !== undefined) artifacts.trainingConfig = modelJson.trainingConfig;
  return artifacts;
}

/** Checks artifacts before they are written: a topology object and weights matching their specs. */
export function checkArtifacts(artifacts: ModelArtifacts, source?: string): void {
  if (!isObject(artifacts.modelTopology)) {
    throw formatError(source, `modelTopology is ${describe(artifacts.modelTopology)}, expected the model config object`);
  }
  checkWeightSpecs(artifacts.weightSpecs, source);
  if (!(artifacts.weightData instanceof ArrayBuffer)) {
    throw formatError(source, `weightData should be an ArrayBuffer, found ${describe(artifacts.weightData)}`);
  }
  checkWeightData(artifacts.weightSpecs, artifacts.weightData.byteLength, source);
}

function checkManifest(manifest: unknown, source: string): WeightsManifestGroup[] {
  if (manifest === undefined) throw formatError(source, 'weightsManifest is missing');
  if (!Array.isArray(manifest)) throw formatError(source, `weightsManifest should be an array, found ${describe(manifest)}`);
  if (manifest.length === 0) throw formatError(source, 'weightsManifest is empty: expected at least one group of weights');
  return manifest.map((group, g) => checkGroup(group, `weightsManifest[${g}]`, source));
}

function checkGroup(group: unknown, where: string, source: string): WeightsManifestGroup {
  if (!isObject(group)) throw formatError(source, `${where} should be an object, found ${describe(group)}`);
  const { paths, weights } = group;
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p !== '')) {
    throw formatError(source, `${where}.paths should be a list of shard file names, found ${JSON.stringify(paths)}`);
  }
  checkWeightSpecs(weights, source, `${where}.weights`);
  if (weights.length > 0 && paths.length === 0) {
    throw formatError(source, `${where} lists ${weights.length} weights but no shard paths to read them from`);
  }
  return { paths, weights };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
