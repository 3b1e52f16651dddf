// Functional models from the TF.js LayersModel format: model.json's `Model`/`Functional`
// topology, whose layers list their `inbound_nodes` (Keras 2's [[name, node, tensor, kwargs]]
// lists, or Keras 3's `{ args: [keras tensors] }`). Layers are applied to their inbound
// tensors in dependency order, rebuilding the graph; errors name the layer and the field.
import { ModelFormatError } from '../io/errors.js';
import { LayersModel, type TensorRef } from './functional.js';
import { ConfigReader } from './layers/config.js';
import { InputLayer } from './layers/input.js';
import { layerFactory, registeredLayers, withoutInitializers, type Layer } from './layers/layer.js';
import type { SymbolicTensor } from './symbolic.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A layer of the file with the tensor references of each of its inbound nodes. */
interface FileLayer {
  layer: Layer;
  nodes: TensorRef[][];
}

/** Rebuilds a functional model from its Keras topology (`class_name` 'Model' or 'Functional'). */
export function functionalFromTopology(topo: Record<string, unknown>, source: string): LayersModel {
  const fail = (detail: string): never => {
    throw new ModelFormatError(`${source}: ${detail}`);
  };
  const config = isObject(topo.config) ? topo.config : fail('modelTopology.config should be an object');
  const list = Array.isArray(config.layers) && config.layers.length > 0 ? config.layers : fail('modelTopology.config.layers should be a non-empty list of layers');
  const layers: FileLayer[] = [];
  try {
    return withoutInitializers(() => graphOf(config, list, layers, fail));
  } catch (e) {
    // Layers built before the error hold weights: free them.
    layers.forEach(({ layer }) => layer.dispose());
    throw e;
  }
}

/** Builds the layers into `layers` (so the caller can free them on error) and wires the graph. */
function graphOf(config: Record<string, unknown>, list: unknown[], layers: FileLayer[], fail: (detail: string) => never): LayersModel {
  list.forEach((entry, i) => layers.push(fileLayer(entry, i, fail)));
  const tensors = new Map<string, SymbolicTensor>();
  const key = ([name, node, index]: TensorRef) => `${name}:${node}:${index}`;
  for (const { layer } of layers) if (layer instanceof InputLayer) tensors.set(key([layer.name, 0, 0]), layer.symbolic);
  // Apply each layer to its nodes' inputs once they exist; a node waits for the nodes it reads.
  const next = layers.map(() => 0);
  for (let progress = true; progress; ) {
    progress = false;
    layers.forEach(({ layer, nodes }, i) => {
      while (next[i] < nodes.length && nodes[next[i]].every((ref) => tensors.has(key(ref)))) {
        const inputs = nodes[next[i]].map((ref) => tensors.get(key(ref))!);
        try {
          const before = layer.inboundNodes.length;
          if (inputs.length === 1) layer.apply(inputs[0]);
          else layer.apply(inputs);
          // Every tensor the node gives (a recurrent layer with returnState gives its states too).
          layer.inboundNodes[before].outputs.forEach((t, k) => tensors.set(key([layer.name, next[i], k]), t));
        } catch (e) {
          fail(`layer '${layer.name}' (${layer.className}) cannot be applied to its inbound node ${next[i]}: ${(e as Error).message}`);
        }
        next[i]++;
        progress = true;
      }
    });
  }
  layers.forEach(({ layer, nodes }, i) => {
    if (next[i] < nodes.length) {
      const missing = nodes[next[i]].filter((ref) => !tensors.has(key(ref))).map((r) => JSON.stringify(r));
      fail(`layer '${layer.name}' inbound node ${next[i]} reads ${missing.join(', ')}, which no layer of the file produces`);
    }
  });
  const refs = (field: string): SymbolicTensor[] => {
    const value = config[field];
    if (!Array.isArray(value) || value.length === 0) return fail(`modelTopology.config.${field} should be a non-empty list of [layer, node, tensor]`);
    return value.map((r) => tensors.get(key(tensorRef(r, `config.${field}`, fail))) ?? fail(`config.${field} names ${JSON.stringify(r)}, which the graph does not produce`));
  };
  const name = typeof config.name === 'string' ? config.name : undefined;
  return new LayersModel({ inputs: refs('input_layers'), outputs: refs('output_layers'), name });
}

/** One entry of config.layers: the layer and its inbound nodes' references. */
function fileLayer(entry: unknown, i: number, fail: (detail: string) => never): FileLayer {
  if (!isObject(entry) || typeof entry.class_name !== 'string' || !isObject(entry.config)) {
    return fail(`layer ${i} should be { class_name, config, inbound_nodes }, found ${JSON.stringify(entry)?.slice(0, 80)}`);
  }
  const cfg = { ...entry.config };
  if (typeof entry.name === 'string' && cfg.name === undefined) cfg.name = entry.name;
  const where = `layer ${i} (${entry.class_name} '${String(cfg.name ?? '?')}')`;
  let layer: Layer;
  if (entry.class_name === 'InputLayer') {
    const shape = cfg.batch_input_shape ?? cfg.batch_shape;
    if (!Array.isArray(shape)) return fail(`${where}: config.batch_input_shape should be a list like [null, 28, 28, 1]`);
    const dtype = cfg.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'int32') return fail(`${where}: config.dtype should be 'float32' or 'int32', found ${JSON.stringify(dtype)}`);
    layer = new InputLayer({ batchShape: shape as (number | null)[], dtype, name: String(cfg.name) });
  } else {
    const factory = layerFactory(entry.class_name) ?? fail(`${where} has class_name '${entry.class_name}', which this library cannot build (supported: InputLayer, ${registeredLayers().join(', ')})`);
    try {
      layer = factory(new ConfigReader(cfg, `${where}`));
    } catch (e) {
      if (e instanceof ModelFormatError) throw e;
      return fail(`${where}: ${(e as Error).message}`);
    }
  }
  const inbound = entry.inbound_nodes ?? [];
  if (!Array.isArray(inbound)) return fail(`${where}: inbound_nodes should be a list`);
  return { layer, nodes: inbound.map((node, n) => nodeRefs(node, `${where} inbound_nodes[${n}]`, fail)) };
}

/** The tensors one inbound node reads: Keras 2's list of [name, node, tensor, kwargs], or Keras 3's { args }. */
function nodeRefs(node: unknown, where: string, fail: (detail: string) => never): TensorRef[] {
  if (Array.isArray(node)) return node.map((r) => tensorRef(r, where, fail));
  if (isObject(node) && Array.isArray(node.args)) {
    const refs: TensorRef[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (isObject(v) && v.class_name === '__keras_tensor__' && isObject(v.config)) refs.push(tensorRef(v.config.keras_history, where, fail));
    };
    walk(node.args);
    if (refs.length > 0) return refs;
  }
  return fail(`${where} should be a list of [layer, node, tensor, kwargs], found ${JSON.stringify(node)?.slice(0, 80)}`);
}

function tensorRef(r: unknown, where: string, fail: (detail: string) => never): TensorRef {
  if (Array.isArray(r) && typeof r[0] === 'string' && Number.isInteger(r[1]) && Number.isInteger(r[2])) return [r[0], r[1] as number, r[2] as number];
  return fail(`${where}: expected a tensor reference [layer name, node index, tensor index], found ${JSON.stringify(r)}`);
}
