// Models ⇄ the TF.js LayersModel format: model.json's Keras topology (class_name + config per
// layer), the weights manifest named `<layer>/<weight>`, and the training config. Saving reads
// the weights back once; loading validates everything before any weight is set.
import { decodeWeights, encodeWeights, type WeightEntry } from '../io/weights.js';
import { GENERATED_BY, LAYERS_MODEL_FORMAT, type IOHandler, type ModelArtifacts } from '../io/artifacts.js';
import { ModelFormatError, ModelIOError } from '../io/errors.js';
import { getHandler } from '../io/handlers.js';
import { NeuriteError, fmtShape } from '../errors.js';
import { tensor } from '../ops/create.js';
import type { Tensor } from '../tensor.js';
import { optimizerFromConfig } from '../optim/index.js';
import { ConfigReader } from './layers/config.js';
import { Layer, layerFactory, registeredLayers, withoutInitializers } from './layers/layer.js';
import type { BaseModel } from './model-base.js';
import type { Sequential } from './model.js';

/** The Keras version string written into model.json: the TF.js layers format these files follow. */
const KERAS_VERSION = 'tfjs-layers 4.22.0';

/** What `model.save` resolves with (as TF.js's SaveResult). */
export interface SaveResult {
  modelArtifactsInfo: {
    dateSaved: Date;
    modelTopologyType: 'JSON';
    modelTopologyBytes: number;
    weightSpecsBytes: number;
    weightDataBytes: number;
  };
}

/** The model's artifacts: topology, every weight (read back from the device) and the training config. */
export async function modelArtifacts(model: BaseModel): Promise<ModelArtifacts> {
  const vars = model.weights;
  const values = await Promise.all(vars.map((v) => v.data()));
  const entries: WeightEntry[] = vars.map((v, i) => ({ name: v.name!, shape: [...v.shape], dtype: 'float32', data: values[i] as Float32Array }));
  const { specs, data } = encodeWeights(entries);
  const artifacts: ModelArtifacts = {
    modelTopology: { ...model.getConfig(), keras_version: KERAS_VERSION, backend: 'tensor_flow.js' },
    weightSpecs: specs,
    weightData: data,
    format: LAYERS_MODEL_FORMAT,
    generatedBy: GENERATED_BY,
    convertedBy: null,
  };
  const training = model.getTrainingConfig();
  if (training) artifacts.trainingConfig = training;
  return artifacts;
}

/** Saves `model` to a URL-like target ('file://DIR', 'indexeddb://NAME', 'downloads://NAME') or a handler. */
export async function saveModel(model: BaseModel, target: string | IOHandler): Promise<SaveResult> {
  const handler = typeof target === 'string' ? getHandler(target) : target;
  if (!handler || typeof handler.save !== 'function') {
    throw new ModelIOError(`save: ${typeof target === 'string' ? `'${target}'` : 'the handler'} cannot save models (it only loads)`);
  }
  const artifacts = await modelArtifacts(model);
  await handler.save(artifacts);
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: 'JSON',
      modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
      weightSpecsBytes: JSON.stringify(artifacts.weightSpecs).length,
      weightDataBytes: artifacts.weightData.byteLength,
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Rebuilds the layers of a Keras Sequential topology (model.json's modelTopology, possibly
 * wrapped in model_config, with an optional InputLayer first). Throws ModelFormatError naming
 * the layer and field on anything it cannot rebuild.
 */
export function layersFromTopology(topology: unknown, source = 'model.json'): { name?: string; layers: Layer[] } {
  const fail = (detail: string): never => {
    throw new ModelFormatError(`${source}: ${detail}`);
  };
  let topo = topology;
  if (isObject(topo) && isObject(topo.model_config)) topo = topo.model_config;
  if (!isObject(topo)) return fail('modelTopology should be an object');
  if (topo.class_name !== 'Sequential') {
    return fail(`modelTopology.class_name is ${JSON.stringify(topo.class_name)}; only 'Sequential' models can be loaded`);
  }
  const config = topo.config;
  const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(list) || list.length === 0) return fail('modelTopology.config.layers should be a non-empty list of layers');
  const name = isObject(config) && typeof config.name === 'string' ? config.name : undefined;
  const layers: Layer[] = [];
  let pendingShape: unknown = undefined;
  list.forEach((entry, i) => {
    const where = `layer ${i}`;
    if (!isObject(entry) || typeof entry.class_name !== 'string' || !isObject(entry.config)) {
      fail(`${where} should be { class_name, config }, found ${JSON.stringify(entry)?.slice(0, 80)}`);
    }
    const e = entry as { class_name: string; config: Record<string, unknown> };
    if (e.class_name === 'InputLayer') {
      pendingShape = e.config.batch_input_shape ?? e.config.batch_shape;
      return;
    }
    const factory = layerFactory(e.class_name);
    if (!factory) fail(`${where} has class_name '${e.class_name}', which this library cannot build (supported: ${registeredLayers().join(', ')})`);
    const cfg = { ...e.config };
    if (pendingShape !== undefined && cfg.batch_input_shape === undefined) cfg.batch_input_shape = pendingShape;
    pendingShape = undefined;
    try {
      layers.push(factory!(new ConfigReader(cfg, `${source}: ${where} (${e.class_name} '${String(cfg.name ?? '?')}')`)));
    } catch (err) {
      if (err instanceof ModelFormatError) throw err;
      fail(`${where} (${e.class_name}): ${(err as Error).message}`);
    }
  });
  return { name, layers };
}

/** Finds the saved entry of `name`: exact, without a ':0' suffix, or `<layer>/<cell>/<weight>` as Keras nests RNN cells. */
function findEntry(byName: Map<string, WeightEntry>, name: string, used: Set<string>): WeightEntry | undefined {
  const exact = byName.get(name) ?? byName.get(`${name}:0`);
  if (exact) return exact;
  const slash = name.indexOf('/');
  const [layer, weight] = [name.slice(0, slash), name.slice(slash + 1)];
  const candidates = [...byName.values()].filter((e) => {
    const n = e.name.replace(/:0$/, '');
    return !used.has(e.name) && n.startsWith(`${layer}/`) && n.endsWith(`/${weight}`);
  });
  return candidates.length === 1 ? candidates[0] : undefined;
}

/**
 * Matches saved weights to the model's variables by name and checks every shape and dtype
 * first; returns the values in `model.weights` order. Throws ModelFormatError otherwise.
 */
export function matchWeights(model: BaseModel, entries: readonly WeightEntry[], source = 'model.json'): WeightEntry[] {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const used = new Set<string>();
  const matched = model.weights.map((v) => {
    const entry = findEntry(byName, v.name!, used);
    if (!entry) throw new ModelFormatError(`${source}: weight '${v.name}' ${fmtShape(v.shape)} is missing from the weights manifest (found: ${entries.map((e) => e.name).join(', ') || 'none'})`);
    if (entry.shape.length !== v.shape.length || entry.shape.some((d, i) => d !== v.shape[i])) {
      throw new ModelFormatError(`${source}: weight '${entry.name}' has shape ${fmtShape(entry.shape)} in the file, but the model's layer needs ${fmtShape(v.shape)}`);
    }
    if (entry.dtype !== 'float32') throw new ModelFormatError(`${source}: weight '${entry.name}' is ${entry.dtype}, expected float32`);
    used.add(entry.name);
    return entry;
  });
  const unused = entries.filter((e) => !used.has(e.name));
  if (unused.length > 0) {
    throw new ModelFormatError(`${source}: the file has ${unused.length} weight(s) the model does not use: ${unused.map((e) => `'${e.name}'`).join(', ')}`);
  }
  return matched;
}

/** Values of matched entries as tensors, in order. */
export function entriesToTensors(entries: readonly WeightEntry[]): Tensor[] {
  return entries.map((e) => tensor(e.data, e.shape, 'float32'));
}

/** Compiles `model` from a saved training config when it is one this library understands; otherwise leaves it uncompiled. */
export function compileFromTrainingConfig(model: BaseModel, trainingConfig: unknown): void {
  if (!isObject(trainingConfig)) return;
  const opt = trainingConfig.optimizer_config;
  const loss = trainingConfig.loss;
  const lossOk = typeof loss === 'string' || (Array.isArray(loss) && loss.length > 0 && loss.every((l) => typeof l === 'string'));
  if (!isObject(opt) || typeof opt.class_name !== 'string' || !lossOk) return;
  try {
    const metrics = Array.isArray(trainingConfig.metrics) ? trainingConfig.metrics.filter((m): m is string => typeof m === 'string') : [];
    const optimizer = optimizerFromConfig({ className: opt.class_name, config: (isObject(opt.config) ? opt.config : {}) as Record<string, number | boolean> });
    model.compile({ optimizer, loss: loss as string | string[], metrics });
  } catch (e) {
    // A training config is optional: a model that loads but cannot be recompiled is still usable for inference.
    if (!(e instanceof NeuriteError)) throw e;
  }
}

/** Builds a model's layers with initialisers suspended (loading overwrites every weight anyway). */
export function buildForLoading(model: Sequential, source: string): void {
  if (!model.inputShape) throw new ModelFormatError(`${source}: the first layer has no batch_input_shape, so the model cannot be built`);
  withoutInitializers(() => model.build());
}
