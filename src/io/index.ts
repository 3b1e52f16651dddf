// Public surface of model saving and loading (the TF.js LayersModel file format), so
// callers import from one place.

export { ModelFormatError, ModelIOError } from './errors.js';
export {
  checkWeightData,
  checkWeightSpecs,
  concatShards,
  decodeWeights,
  elementCount,
  encodeWeights,
  weightsByteLength,
  type WeightDtype,
  type WeightEntry,
  type WeightSpec,
} from './weights.js';
export {
  assembleArtifacts,
  checkArtifacts,
  GENERATED_BY,
  LAYERS_MODEL_FORMAT,
  parseModelJson,
  toModelJson,
  type IOHandler,
  type ModelArtifacts,
  type ModelJson,
  type ParsedModelJson,
  type WeightsManifestGroup,
} from './artifacts.js';
export { getHandler, type HandlerOptions } from './handlers.js';
export { nodeFileHandler } from './node-fs.js';
export { httpHandler, type HttpOptions } from './http.js';
export { indexedDbHandler, deleteIndexedDbModel, MODEL_DATABASE } from './indexeddb.js';
export { browserDownloads } from './browser-download.js';
export { browserFiles } from './browser-files.js';
