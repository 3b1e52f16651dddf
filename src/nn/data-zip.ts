// data.zip: one data source for a model with several inputs or outputs, made of sources that
// each hold one input (and maybe its targets) — host arrays for an image and a vector, say —
// so multi-input training streams batches from the host as single-input training does.
import { ArgumentError } from '../errors.js';
import { batchInputs, batchTargets, isDataSource, type Batch, type DataSource } from './data.js';

/**
 * A source whose batches hold the inputs of every source in `sources`, in order, and the
 * targets of every source that has labels, in order. The sources must have the same number of
 * examples; example i of the zip is example i of each. Disposing the zip disposes them.
 *
 * @example
 * const train = data.zip([data.arrays(images, [n, 28, 28, 1], labels, { normalize: 1 / 255 }), data.arrays(extra, [n, 4])]);
 * await model.fit(train, { epochs: 1 }); // inputs [image, extra], targets [labels]
 */
export function zip(sources: readonly DataSource[]): DataSource {
  if (!Array.isArray(sources) || sources.length === 0 || !sources.every(isDataSource)) {
    throw new ArgumentError('data.zip: expected a non-empty list of data sources');
  }
  const size = sources[0].size;
  const odd = sources.findIndex((s) => s.size !== size);
  if (odd >= 0) throw new ArgumentError(`data.zip: source ${odd} has ${sources[odd].size} examples, source 0 has ${size}; they should match`);
  const combine = (prepared: (() => Batch)[]) => (): Batch => {
    const batches = prepared.map((upload) => upload());
    const ys = batches.flatMap(batchTargets);
    return { xs: batches.flatMap(batchInputs), ys: ys.length > 0 ? ys : null };
  };
  return {
    size,
    exampleShape: sources[0].exampleShape,
    hasLabels: sources.some((s) => s.hasLabels),
    take: (indices) => combine(sources.map((s) => s.take(indices))),
    range: (start, end) => combine(sources.map((s) => s.range(start, end))),
    dispose: () => sources.forEach((s) => s.dispose()),
  };
}
