// loadModel: reads TF.js LayersModel artifacts from a URL-like source or handler and returns a
// new Sequential model with the saved weights (and compiled, when the training config allows).
// Every check runs before a weight is set; on any error the half-built model is freed.
import { type IOHandler, type ModelArtifacts } from '../io/artifacts.js';
import { ModelIOError } from '../io/errors.js';
import { getHandler } from '../io/handlers.js';
import { decodeWeights } from '../io/weights.js';
import { Sequential } from './model.js';
import { buildForLoading, compileFromTrainingConfig, entriesToTensors, layersFromTopology, matchWeights } from './serialize.js';

/**
 * Loads a Sequential model saved in the TF.js LayersModel format: 'file://DIR' or a path
 * (Node), 'indexeddb://NAME', 'http(s)://…/model.json', or an IOHandler. A corrupt or
 * mismatched file throws ModelFormatError (an unreadable one ModelIOError), naming what is wrong.
 */
export async function loadModel(source: string | IOHandler): Promise<Sequential> {
  const handler = typeof source === 'string' ? getHandler(source) : source;
  if (!handler || typeof handler.load !== 'function') {
    throw new ModelIOError(`loadModel: ${typeof source === 'string' ? `'${source}'` : 'the handler'} cannot load models (it only saves)`);
  }
  const artifacts = await handler.load();
  return modelFromArtifacts(artifacts, typeof source === 'string' ? source : 'model');
}

/** A model from in-memory artifacts (see loadModel). */
export function modelFromArtifacts(artifacts: ModelArtifacts, source = 'model'): Sequential {
  const entries = decodeWeights(artifacts.weightSpecs, artifacts.weightData, source);
  const { name, layers } = layersFromTopology(artifacts.modelTopology, source);
  const model = new Sequential({ name, layers });
  try {
    buildForLoading(model, source);
    const matched = matchWeights(model, entries, source);
    const values = entriesToTensors(matched);
    try {
      model.setWeights(values);
    } finally {
      values.forEach((t) => t.dispose());
    }
    compileFromTrainingConfig(model, artifacts.trainingConfig);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
