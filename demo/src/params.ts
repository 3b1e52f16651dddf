// Settings from the page URL, so a link (or a test) can preset a small, fast run:
// ?backend=cpu&model=mlp&epochs=1&batch=32&lr=0.01&optimizer=sgd&limit=1024

import type { BackendChoice, OptimizerKind, TrainConfig } from './protocol.js';

export interface PageParams {
  backend: BackendChoice;
  /**
   * The model the URL asks for, if any (a kind of the zoo, checked against the worker's list
   * once it answers); without one the page picks a default for the backend (model-choice.ts).
   */
  model?: string;
  train: Omit<TrainConfig, 'model'>;
  /** Keep only the first `limit` examples of each MNIST split. */
  limit?: number;
}

export const DEFAULTS: Omit<TrainConfig, 'model'> = { epochs: 3, batchSize: 64, learningRate: 0.001, optimizer: 'adam' };

/** Names links used before the zoo: `cnn` was the small TF.js tutorial CNN. */
const MODEL_ALIASES: Record<string, string> = { cnn: 'tfjs-cnn' };

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
  const model = q.get('model') ?? undefined;
  return {
    backend: pick<BackendChoice>('backend', ['webgpu', 'cpu'], 'webgpu'),
    model: model !== undefined ? (MODEL_ALIASES[model] ?? model) : undefined,
    limit: limit > 0 ? limit : undefined,
    train: {
      optimizer: pick<OptimizerKind>('optimizer', ['adam', 'sgd', 'rmsprop'], DEFAULTS.optimizer),
      epochs: num('epochs', DEFAULTS.epochs, isCount),
      batchSize: num('batch', DEFAULTS.batchSize, isCount),
      learningRate: num('lr', DEFAULTS.learningRate, (n) => n > 0),
    },
  };
}
