// loadModel: reads TF.js LayersModel artifacts from a URL-like source or handler and returns a
// new model (Sequential, or functional for a Model/Functional topology) with the saved weights,
// compiled when the training config allows.
// Every check runs before a weight is set; on any error the half-built model is freed.
import { type IOHandler, type ModelArtifacts } from '../io/artifacts.js';
import { getHandler } from '../io/handlers.js';
import { decodeWeights } from '../io/weights.js';
import { ModelFormatError, ModelIOError } from '../io/errors.js';
import type { LayersModel } from './functional.js';
import { functionalFromTopology } from './functional-serialize.js';
import { Sequential } from './model.js';
import { buildForLoading, compileFromTrainingConfig, entriesToTensors, layersFromTopology, matchWeights } from './serialize.js';

/** What loadModel returns: a Sequential model for a Sequential file, a LayersModel for a functional one. */
export type LoadedModel = Sequential | LayersModel;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Loads a Sequential or functional model saved in the TF.js LayersModel format: 'file://DIR' or a path
 * (Node), 'indexeddb://NAME', 'http(s)://…/model.json', or an IOHandler. A corrupt or
 * mismatched file throws ModelFormatError (an unreadable one ModelIOError), naming what is wrong.
 */
export async function loadModel(source: string | IOHandler): Promise<LoadedModel> {
  const handler = typeof source === 'string' ? getHandler(source) : source;
  if (!handler || typeof handler.load !== 'function') {
    throw new ModelIOError(`loadModel: ${typeof source === 'string' ? `'${source}'` : 'the handler'} cannot load models (it only saves)`);
  }
  const artifacts = await handler.load();
  return modelFromArtifacts(artifacts, typeof source === 'string' ? source : 'model');
}

/** A model from in-memory artifacts (see loadModel). */
export function modelFromArtifacts(artifacts: ModelArtifacts, source = 'model'): LoadedModel {
  const entries = decodeWeights(artifacts.weightSpecs, artifacts.weightData, source);
  const model = modelFromTopology(artifacts.modelTopology, source);
  try {
    if (model instanceof Sequential) buildForLoading(model, source);
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

/** The untrained model of a topology: Sequential, or functional ('Model', 'Functional'). */
function modelFromTopology(topology: unknown, source: string): LoadedModel {
  const topo = isObject(topology) && isObject(topology.model_config) ? topology.model_config : topology;
  if (isObject(topo) && (topo.class_name === 'Model' || topo.class_name === 'Functional')) return functionalFromTopology(topo, source);
  if (isObject(topo) && topo.class_name !== 'Sequential') {
    throw new ModelFormatError(`${source}: modelTopology.class_name is ${JSON.stringify(topo.class_name)}; expected 'Sequential', 'Model' or 'Functional'`);
  }
  const { name, layers } = layersFromTopology(topology, source);
  return new Sequential({ name, layers });
}
