// Tests for the TF.js LayersModel format: weight packing, model.json validation, the Node
// file handler (round trip, every corrupt-file case, TF.js-written fixtures with one or
// several shards), the HTTP and File-based loaders, and handler routing.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserFiles,
  concatShards,
  decodeWeights,
  encodeWeights,
  getHandler,
  httpHandler,
  ModelFormatError,
  ModelIOError,
  nodeFileHandler,
  parseModelJson,
  toModelJson,
  type ModelArtifacts,
  type WeightEntry,
  type WeightSpec,
} from '../src/io/index.js';

const TOPOLOGY = {
  class_name: 'Sequential',
  config: {
    name: 'sequential_1',
    layers: [{ class_name: 'Dense', config: { units: 3, activation: 'relu', name: 'dense_Dense1', batch_input_shape: [null, 2] } }],
  },
  keras_version: 'tfjs-layers 4.22.0',
  backend: 'tensor_flow.js',
};

function sampleEntries(): WeightEntry[] {
  return [
    { name: 'dense_Dense1/kernel', shape: [2, 3], dtype: 'float32', data: Float32Array.from([0.5, -1.25, 3, 1e-3, -7.5, 2.25]) },
    { name: 'dense_Dense1/bias', shape: [3], dtype: 'float32', data: Float32Array.from([0.1, 0.2, -0.3]) },
    { name: 'step', shape: [], dtype: 'int32', data: Int32Array.from([-123456]) },
    { name: 'empty', shape: [0, 4], dtype: 'float32', data: new Float32Array(0) },
  ];
}

function sampleArtifacts(): ModelArtifacts {
  const { specs, data } = encodeWeights(sampleEntries());
  return { modelTopology: TOPOLOGY, weightSpecs: specs, weightData: data, trainingConfig: { loss: 'meanSquaredError' } };
}

/** Little-endian bytes of `entries`, written value by value, independent of encodeWeights. */
function littleEndianBytes(entries: WeightEntry[]): Uint8Array {
  const total = entries.reduce((n, e) => n + e.data.length * 4, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const e of entries) {
    for (const x of e.data) {
      if (e.dtype === 'float32') view.setFloat32(offset, x, true);
      else view.setInt32(offset, x, true);
      offset += 4;
    }
  }
  return out;
}

const specsOf = (entries: WeightEntry[]): WeightSpec[] => entries.map(({ name, shape, dtype }) => ({ name, shape, dtype }));

function expectEntries(actual: WeightEntry[], expected: WeightEntry[]): void {
  expect(actual.map((e) => [e.name, e.shape, e.dtype])).toEqual(expected.map((e) => [e.name, e.shape, e.dtype]));
  actual.forEach((e, i) => {
    expect(e.data).toBeInstanceOf(expected[i].data.constructor);
    expect(Array.from(e.data)).toEqual(Array.from(expected[i].data));
  });
}

/** The error `promise` rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('encodeWeights / decodeWeights', () => {
  it('packs weights little-endian in order and unpacks them again', () => {
    const entries = sampleEntries();
    const { specs, data } = encodeWeights(entries);
    expect(specs).toEqual(specsOf(entries));
    expect(new Uint8Array(data)).toEqual(littleEndianBytes(entries));
    expectEntries(decodeWeights(specs, data), entries);
  });

  it('gives each decoded weight its own buffer', () => {
    const { specs, data } = encodeWeights(sampleEntries());
    const [kernel] = decodeWeights(specs, data);
    kernel.data[0] = 99;
    expect(decodeWeights(specs, data)[0].data[0]).toBe(sampleEntries()[0].data[0]);
  });

  it('rejects a data length that does not match the shape', () => {
    const err = thrown(() => encodeWeights([{ name: 'w', shape: [2, 2], dtype: 'float32', data: new Float32Array(3) }]));
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toBe("weights[0] ('w') has shape [2,2] = 4 elements but its data has 3");
  });

  it('rejects data of the wrong array type for the dtype', () => {
    const err = thrown(() => encodeWeights([{ name: 'n', shape: [1], dtype: 'int32', data: new Float32Array(1) }]));
    expect(err.message).toBe("weights[0] ('n') is int32 but its data is a Float32Array, expected Int32Array");
  });

  it('rejects duplicate names and unsupported dtypes when encoding', () => {
    const w: WeightEntry = { name: 'a', shape: [1], dtype: 'float32', data: new Float32Array(1) };
    expect(thrown(() => encodeWeights([w, { ...w }])).message).toBe("duplicate weight name 'a' at weights[0] and weights[1]");
    const bad = { ...w, dtype: 'float16' } as unknown as WeightEntry;
    expect(thrown(() => encodeWeights([bad])).message).toBe(
      `weights[0].dtype of 'a' is "float16": supported dtypes are float32, int32`,
    );
  });

  it('names the weight that is cut short and by how much', () => {
    const entries = sampleEntries();
    const { specs, data } = encodeWeights(entries);
    const kernelBytes = entries[0].data.length * 4;
    const cut = data.slice(0, kernelBytes + 4); // one bias value survives
    const err = thrown(() => decodeWeights(specs, cut, 'weights.bin'));
    expect(err).toBeInstanceOf(ModelFormatError);
    const biasBytes = entries[1].data.length * 4;
    expect(err.message).toBe(
      `weights.bin: weight data is ${data.byteLength - cut.byteLength} bytes short: weight 'dense_Dense1/bias' ` +
        `(float32 [3], bytes ${kernelBytes}..${kernelBytes + biasBytes}) is short by ${biasBytes - 4} bytes, ` +
        `and the 2 weights after it are missing; the manifest describes 4 weights in ${data.byteLength} bytes, found ${cut.byteLength}`,
    );
  });

  it('says when exactly one weight follows the short one', () => {
    const entries = sampleEntries().slice(0, 2);
    const { specs, data } = encodeWeights(entries);
    expect(thrown(() => decodeWeights(specs, data.slice(0, 8))).message).toContain(
      "weight 'dense_Dense1/kernel' (float32 [2,3], bytes 0..24) is short by 16 bytes, and the weight after it is missing;",
    );
  });

  it('reports surplus bytes', () => {
    const { specs, data } = encodeWeights(sampleEntries());
    const long = concatShards([data, new Uint8Array(6)]);
    expect(thrown(() => decodeWeights(specs, long)).message).toBe(
      `weight data has 6 extra bytes: the manifest describes 4 weights in ${data.byteLength} bytes, found ${long.byteLength}`,
    );
  });

  it('rejects malformed specs: bad shape, missing name, quantization, not an array', () => {
    const data = new ArrayBuffer(4);
    expect(thrown(() => decodeWeights([{ name: 'x', shape: [-1], dtype: 'float32' }], data)).message).toBe(
      "weightSpecs[0].shape of 'x' should be a list of non-negative integers, found [-1]",
    );
    expect(thrown(() => decodeWeights([{ shape: [1], dtype: 'float32' } as unknown as WeightSpec], data)).message).toBe(
      'weightSpecs[0].name should be a non-empty string, found undefined',
    );
    const quantized = { name: 'q', shape: [4], dtype: 'float32', quantization: { dtype: 'uint8', min: 0, scale: 1 } };
    expect(thrown(() => decodeWeights([quantized as WeightSpec], data)).message).toBe(
      "weightSpecs[0] ('q') is quantized: quantized weights are not supported",
    );
    expect(thrown(() => decodeWeights({} as WeightSpec[], data)).message).toBe('weightSpecs should be an array, found Object');
  });

  it('concatenates shards in order', () => {
    const joined = concatShards([new Uint8Array([1, 2]), new Uint8Array([3]).buffer, new Uint8Array(0)]);
    expect(Array.from(new Uint8Array(joined))).toEqual([1, 2, 3]);
  });
});

describe('toModelJson / parseModelJson', () => {
  it('writes the TF.js layers-model layout and reads it back', () => {
    const artifacts = sampleArtifacts();
    const json = toModelJson(artifacts);
    expect(json).toEqual({
      format: 'layers-model',
      generatedBy: 'Neurite',
      convertedBy: null,
      modelTopology: TOPOLOGY,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      trainingConfig: artifacts.trainingConfig,
    });
    const parsed = parseModelJson(JSON.stringify(json));
    expect(parsed.weightSpecs).toEqual(artifacts.weightSpecs);
    expect(parsed.shardPaths).toEqual(['weights.bin']);
    expect(parsed.modelJson.modelTopology).toEqual(TOPOLOGY);
  });

  it('uses the given weights path', () => {
    expect(toModelJson(sampleArtifacts(), './m.weights.bin').weightsManifest[0].paths).toEqual(['./m.weights.bin']);
  });

  it('refuses to build model.json for weight data that does not match the specs', () => {
    const artifacts = { ...sampleArtifacts(), weightData: new ArrayBuffer(8) };
    expect(thrown(() => toModelJson(artifacts))).toBeInstanceOf(ModelFormatError);
  });

  const valid = () => JSON.parse(JSON.stringify(toModelJson(sampleArtifacts())));
  const parseError = (value: unknown) => thrown(() => parseModelJson(typeof value === 'string' ? value : JSON.stringify(value), 'm/model.json'));

  it('reports invalid JSON with the parser message', () => {
    const err = parseError('{"format": "layers-model",');
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toMatch(/^m\/model\.json: not valid JSON: .+/);
  });

  it('names each missing or wrong field', () => {
    expect(parseError([1]).message).toBe('m/model.json: should hold a JSON object, found an array');
    expect(parseError({ ...valid(), format: 'graph-model' }).message).toBe(
      `m/model.json: format is "graph-model", expected 'layers-model'`,
    );
    const { modelTopology: _t, ...noTopology } = valid();
    expect(parseError(noTopology).message).toBe('m/model.json: modelTopology is missing, expected the model config object');
    expect(parseError({ ...valid(), modelTopology: 'x' }).message).toBe(
      'm/model.json: modelTopology is string "x", expected the model config object',
    );
    const { weightsManifest: _w, ...noManifest } = valid();
    expect(parseError(noManifest).message).toBe('m/model.json: weightsManifest is missing');
    expect(parseError({ ...valid(), weightsManifest: [] }).message).toBe(
      'm/model.json: weightsManifest is empty: expected at least one group of weights',
    );
    expect(parseError({ ...valid(), weightsManifest: {} }).message).toBe('m/model.json: weightsManifest should be an array, found an object');
  });

  it('checks each manifest group', () => {
    const json = valid();
    json.weightsManifest[0].paths = [];
    expect(parseError(json).message).toBe('m/model.json: weightsManifest[0] lists 4 weights but no shard paths to read them from');
    json.weightsManifest[0].paths = [7];
    expect(parseError(json).message).toBe('m/model.json: weightsManifest[0].paths should be a list of shard file names, found [7]');
    const json2 = valid();
    json2.weightsManifest[0].weights[1].dtype = 'string';
    expect(parseError(json2).message).toBe(
      `m/model.json: weightsManifest[0].weights[1].dtype of 'dense_Dense1/bias' is "string": supported dtypes are float32, int32`,
    );
  });

  it('rejects a weight name repeated across groups', () => {
    const json = valid();
    json.weightsManifest.push({ paths: ['b.bin'], weights: [json.weightsManifest[0].weights[0]] });
    expect(parseError(json).message).toBe(
      "m/model.json: duplicate weight name 'dense_Dense1/kernel' at weightsManifest[*].weights[0] and weightsManifest[*].weights[4]",
    );
  });

  it('accepts an old file without a format field', () => {
    const { format: _f, ...old } = valid();
    expect(parseModelJson(JSON.stringify(old)).shardPaths).toEqual(['weights.bin']);
  });
});

describe('Node file handler', () => {
  let root: string;
  let n = 0;
  const freshDir = () => join(root, `model-${n++}`);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'neurite-io-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Saves the sample model into a new directory and returns it. */
  async function savedModel(): Promise<{ dir: string; artifacts: ModelArtifacts }> {
    const dir = freshDir();
    const artifacts = sampleArtifacts();
    await nodeFileHandler(dir).save!(artifacts);
    return { dir, artifacts };
  }

  const loadError = (path: string) => rejection(nodeFileHandler(path).load!());

  it('round-trips through file:// with identical bytes, creating nested directories', async () => {
    const dir = join(freshDir(), 'nested', 'deeper');
    const artifacts = sampleArtifacts();
    await getHandler(`file://${dir}`).save!(artifacts);

    const onDisk = await readFile(join(dir, 'weights.bin'));
    expect(Buffer.compare(onDisk, Buffer.from(artifacts.weightData))).toBe(0);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: artifacts.weightSpecs }]);
    expect(json.format).toBe('layers-model');

    const loaded = await getHandler(`file://${dir}`).load!();
    expect(Buffer.compare(Buffer.from(loaded.weightData), Buffer.from(artifacts.weightData))).toBe(0);
    expect(loaded.weightSpecs).toEqual(artifacts.weightSpecs);
    expect(loaded.modelTopology).toEqual(TOPOLOGY);
    expect(loaded.trainingConfig).toEqual(artifacts.trainingConfig);
    expect(loaded.format).toBe('layers-model');
    expectEntries(decodeWeights(loaded.weightSpecs, loaded.weightData), sampleEntries());
  });

  it('treats a plain path as a directory and a .json path as the model file', async () => {
    const dir = freshDir();
    const artifacts = sampleArtifacts();
    await getHandler(dir).save!(artifacts);
    expect((await getHandler(join(dir, 'model.json')).load!()).weightSpecs).toEqual(artifacts.weightSpecs);

    const custom = join(freshDir(), 'classifier.json');
    await getHandler(custom).save!(artifacts);
    const json = JSON.parse(await readFile(custom, 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['classifier.weights.bin']);
    expect(new Uint8Array((await getHandler(custom).load!()).weightData)).toEqual(new Uint8Array(artifacts.weightData));
  });

  it('refuses to save weights that do not match their specs, writing nothing', async () => {
    const dir = freshDir();
    const artifacts = { ...sampleArtifacts(), weightData: new ArrayBuffer(12) };
    await expect(nodeFileHandler(dir).save!(artifacts)).rejects.toThrow(ModelFormatError);
    await expect(readFile(join(dir, 'model.json'))).rejects.toThrow();
  });

  it('reports a truncated weights file, naming the file and the short weight', async () => {
    const { dir, artifacts } = await savedModel();
    const weights = join(dir, 'weights.bin');
    await writeFile(weights, new Uint8Array(artifacts.weightData).subarray(0, 10));
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toContain(`${join(dir, 'model.json')} (shards weights.bin): weight data is ${artifacts.weightData.byteLength - 10} bytes short`);
    expect(err.message).toContain("weight 'dense_Dense1/kernel' (float32 [2,3], bytes 0..24) is short by 14 bytes");
  });

  it('reports extra bytes after the weights', async () => {
    const { dir, artifacts } = await savedModel();
    await writeFile(join(dir, 'weights.bin'), concatShardsBytes(artifacts.weightData, new Uint8Array(8)));
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toContain('weight data has 8 extra bytes');
  });

  it('reports bad JSON in model.json with its path', async () => {
    const { dir } = await savedModel();
    await writeFile(join(dir, 'model.json'), '{ not json');
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toContain(`${join(dir, 'model.json')}: not valid JSON`);
  });

  it('reports a missing weightsManifest', async () => {
    const { dir } = await savedModel();
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    delete json.weightsManifest;
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    expect((await loadError(dir)).message).toBe(`${join(dir, 'model.json')}: weightsManifest is missing`);
  });

  it('reports a manifest shape that needs more elements than the file holds', async () => {
    const { dir, artifacts } = await savedModel();
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].weights[1].shape = [4]; // bias claims 4 values; the file has 3
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toContain(`weight data is 4 bytes short`);
    expect(err.message).toContain(`found ${artifacts.weightData.byteLength}`);
  });

  it('reports a missing shard file by its path', async () => {
    const { dir } = await savedModel();
    await rm(join(dir, 'weights.bin'));
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(ModelIOError);
    expect(err.message).toContain(`${join(dir, 'model.json')}: cannot read weight shard ${join(dir, 'weights.bin')}`);
    expect(err.message).toContain('ENOENT');
  });

  it('reports a missing model.json by its path', async () => {
    const dir = freshDir();
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(ModelIOError);
    expect(err.message).toContain(`cannot read ${join(dir, 'model.json')}`);
  });

  it('refuses absolute shard paths', async () => {
    const { dir } = await savedModel();
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['/etc/passwd'];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    expect((await loadError(dir)).message).toBe(
      `${join(dir, 'model.json')}: weight shard path '/etc/passwd' should be relative to the model.json`,
    );
  });

  it.each(['../outside.bin', 'sub/../../outside.bin', '..', '.'])("refuses shard path '%s', which leaves the model's folder, reading nothing outside it", async (shard) => {
    const { dir } = await savedModel();
    // A real file where the path points, so only the check can stop the read.
    await writeFile(join(dir, '..', 'outside.bin'), new Uint8Array(1024));
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = [shard];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    const err = await loadError(dir);
    expect(err).toBeInstanceOf(ModelIOError);
    expect(err.message).toBe(`${join(dir, 'model.json')}: weight shard path '${shard}' leaves the model's folder ${dir} (expected a file in it or below it)`);
  });

  it('accepts a shard path that stays inside the folder through ..', async () => {
    const { dir, artifacts } = await savedModel();
    await mkdir(join(dir, 'sub'));
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['sub/../weights.bin'];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    const loaded = await nodeFileHandler(dir).load!();
    expect(new Uint8Array(loaded.weightData)).toEqual(new Uint8Array(artifacts.weightData));
  });

  describe('files in the format TF.js writes', () => {
    const entries = sampleEntries().slice(0, 2);
    const tfjsJson = (manifest: { paths: string[]; weights: WeightSpec[] }[]) =>
      JSON.stringify({
        modelTopology: TOPOLOGY,
        format: 'layers-model',
        generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
        convertedBy: null,
        weightsManifest: manifest,
      });

    it('loads a single group1-shard1of1.bin', async () => {
      const dir = freshDir();
      await mkdir(dir);
      await writeFile(join(dir, 'model.json'), tfjsJson([{ paths: ['group1-shard1of1.bin'], weights: specsOf(entries) }]));
      await writeFile(join(dir, 'group1-shard1of1.bin'), littleEndianBytes(entries));
      const loaded = await getHandler(`file://${dir}`).load!();
      expect(loaded.generatedBy).toBe('TensorFlow.js tfjs-layers v4.22.0');
      expect(loaded.convertedBy).toBeNull();
      expect(loaded.modelTopology).toEqual(TOPOLOGY);
      expectEntries(decodeWeights(loaded.weightSpecs, loaded.weightData), entries);
    });

    it('joins shards split mid-weight and several groups, in order', async () => {
      const dir = freshDir();
      await mkdir(dir);
      const group1 = littleEndianBytes(entries);
      const extra: WeightEntry[] = [{ name: 'counter', shape: [2], dtype: 'int32', data: Int32Array.from([7, -8]) }];
      const cutAt = 10; // inside the first weight
      await writeFile(
        join(dir, 'model.json'),
        tfjsJson([
          { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: specsOf(entries) },
          { paths: ['group2-shard1of1.bin'], weights: specsOf(extra) },
        ]),
      );
      await writeFile(join(dir, 'group1-shard1of2.bin'), group1.subarray(0, cutAt));
      await writeFile(join(dir, 'group1-shard2of2.bin'), group1.subarray(cutAt));
      await writeFile(join(dir, 'group2-shard1of1.bin'), littleEndianBytes(extra));
      const loaded = await nodeFileHandler(join(dir, 'model.json')).load!();
      expectEntries(decodeWeights(loaded.weightSpecs, loaded.weightData), [...entries, ...extra]);

      await rm(join(dir, 'group1-shard2of2.bin'));
      const err = await loadError(dir);
      expect(err).toBeInstanceOf(ModelIOError);
      expect(err.message).toContain(`cannot read weight shard ${join(dir, 'group1-shard2of2.bin')}`);
    });
  });
});

function concatShardsBytes(...parts: (ArrayBuffer | Uint8Array)[]): Uint8Array {
  return new Uint8Array(concatShards(parts));
}

describe('HTTP handler', () => {
  const entries = sampleEntries();
  const modelUrl = 'https://models.example/zoo/mlp/model.json';

  /** A fetch serving `files` by absolute URL and recording what was asked for. */
  function server(files: Record<string, string | Uint8Array>) {
    const requested: string[] = [];
    const fetchFn = (async (input: RequestInfo | URL) => {
      const url = String(input);
      requested.push(url);
      const body = files[url];
      if (body === undefined) return new Response('nope', { status: 404, statusText: 'Not Found' });
      return new Response(typeof body === 'string' ? body : body.slice());
    }) as typeof fetch;
    return { fetchFn, requested };
  }

  it('fetches model.json and its shards relative to it', async () => {
    const bytes = littleEndianBytes(entries);
    const { fetchFn, requested } = server({
      [modelUrl]: JSON.stringify({
        format: 'layers-model',
        modelTopology: TOPOLOGY,
        weightsManifest: [{ paths: ['group1-shard1of2.bin', '../shared/group1-shard2of2.bin'], weights: specsOf(entries) }],
      }),
      'https://models.example/zoo/mlp/group1-shard1of2.bin': bytes.subarray(0, 16),
      'https://models.example/zoo/shared/group1-shard2of2.bin': bytes.subarray(16),
    });
    const handler = getHandler(modelUrl, { fetchFn });
    expect(handler.save).toBeUndefined();
    const loaded = await handler.load!();
    expect(requested[0]).toBe(modelUrl);
    expectEntries(decodeWeights(loaded.weightSpecs, loaded.weightData), entries);
  });

  it('names the URL and status of a missing model.json or shard', async () => {
    const { fetchFn } = server({ [modelUrl]: JSON.stringify(toModelJson(sampleArtifacts())) });
    const err = await rejection(httpHandler(modelUrl, { fetchFn }).load!());
    expect(err).toBeInstanceOf(ModelIOError);
    expect(err.message).toBe(
      `fetching weight shard https://models.example/zoo/mlp/weights.bin (listed in ${modelUrl}) failed: HTTP 404 Not Found`,
    );
    const missing = await rejection(httpHandler('https://models.example/none/model.json', { fetchFn }).load!());
    expect(missing.message).toBe('fetching https://models.example/none/model.json failed: HTTP 404 Not Found');
  });

  it('wraps network failures', async () => {
    const fetchFn = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await expect(httpHandler(modelUrl, { fetchFn }).load!()).rejects.toThrow(`fetching ${modelUrl} failed: fetch failed`);
  });

  it('cannot resolve a relative URL without a page location', async () => {
    await expect(httpHandler('models/model.json').load!()).rejects.toThrow(
      "cannot resolve the model URL 'models/model.json': a relative URL needs a page or worker location",
    );
  });
});

describe('browserFiles', () => {
  it('loads model.json and shards matched by file name', async () => {
    const artifacts = sampleArtifacts();
    const json = new File([JSON.stringify(toModelJson(artifacts, './my-model.weights.bin'))], 'my-model.json');
    const weights = new File([artifacts.weightData], 'my-model.weights.bin');
    const loaded = await browserFiles(json, [weights]).load!();
    expect(new Uint8Array(loaded.weightData)).toEqual(new Uint8Array(artifacts.weightData));
    expect(loaded.weightSpecs).toEqual(artifacts.weightSpecs);
  });

  it('names the shard no selected file matches', async () => {
    const json = new File([JSON.stringify(toModelJson(sampleArtifacts(), './my-model.weights.bin'))], 'my-model.json');
    const other = new File([new Uint8Array(4)], 'other.bin');
    await expect(browserFiles(json, [other]).load!()).rejects.toThrow(
      "my-model.json lists weight shard './my-model.weights.bin', but no selected file is named 'my-model.weights.bin' (selected: other.bin)",
    );
  });

  it('reports a truncated weights file by the model file name', async () => {
    const artifacts = sampleArtifacts();
    const json = new File([JSON.stringify(toModelJson(artifacts))], 'model.json');
    const weights = new File([artifacts.weightData.slice(0, 8)], 'weights.bin');
    await expect(browserFiles(json, [weights]).load!()).rejects.toThrow(/^model\.json \(shards weights\.bin\): weight data is \d+ bytes short/);
  });
});

describe('getHandler routing', () => {
  it('rejects unknown schemes and empty names', () => {
    expect(() => getHandler('localstorage://m')).toThrow("no model handler for 'localstorage://m'");
    expect(() => getHandler('indexeddb://')).toThrow("'indexeddb://' names no model after the scheme");
    expect(() => getHandler('')).toThrow('file handler: the path is empty');
  });

  it('routes indexeddb:// to IndexedDB, which Node lacks', async () => {
    const handler = getHandler('indexeddb://my-model');
    await expect(handler.load!()).rejects.toThrow('indexeddb://my-model: IndexedDB is not available in this environment');
  });

  it('routes downloads:// to a save-only handler that needs a page', async () => {
    const handler = getHandler('downloads://my-model');
    expect(handler.load).toBeUndefined();
    await expect(handler.save!(sampleArtifacts())).rejects.toThrow(
      'downloads://my-model: saving as downloads needs a browser page (no document here)',
    );
  });
});
