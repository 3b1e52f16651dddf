// Settings from the page URL, so a link (or a test) can preset a small, fast run:
// ?backend=cpu&model=mlp&epochs=1&batch=32&lr=0.01&optimizer=sgd&limit=1024

import type { BackendChoice, ModelKind, OptimizerKind, TrainConfig } from './protocol.js';

export interface PageParams {
  backend: BackendChoice;
  train: TrainConfig;
  /** Keep only the first `limit` examples of each MNIST split. */
  limit?: number;
}

export const DEFAULTS: TrainConfig = { model: 'cnn', epochs: 3, batchSize: 64, learningRate: 0.001, optimizer: 'adam' };

/** Reads the URL's query; unknown or invalid values fall back to the defaults. */
export function readParams(search: string): PageParams {
  const q = new URLSearchParams(search);
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = q.get(key) as T | null;
    return v !== null && allowed.includes(v) ? v : fallback;
  };
  const num = (key: string, fallback: number, ok: (n: number) => boolean): number => {
    const raw = q.get(key);
    const v = raw === null ? NaN : Number(raw);
    return Number.isFinite(v) && ok(v) ? v : fallback;
  };
  const isCount = (n: number) => Number.isInteger(n) && n >= 1;
  const limit = num('limit', 0, isCount);
  return {
    backend: pick<BackendChoice>('backend', ['webgpu', 'cpu'], 'webgpu'),
    limit: limit > 0 ? limit : undefined,
    train: {
      model: pick<ModelKind>('model', ['cnn', 'mlp', 'rnn'], DEFAULTS.model),
      optimizer: pick<OptimizerKind>('optimizer', ['adam', 'sgd', 'rmsprop'], DEFAULTS.optimizer),
      epochs: num('epochs', DEFAULTS.epochs, isCount),
      batchSize: num('batch', DEFAULTS.batchSize, isCount),
      learningRate: num('lr', DEFAULTS.learningRate, (n) => n > 0),
    },
  };
}
