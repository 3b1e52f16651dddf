// Options shared by layers and their Keras JSON form: initializer and regularizer specs
// (names, functions or `{ class_name, config }` objects), positive-integer options, and a
// reader that validates a config loaded from model.json with messages naming the field.
import { ModelFormatError } from '../../io/errors.js';
import { ArgumentError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { getInitializer } from '../initializers.js';
import { orthogonal } from '../orthogonal.js';
import { getRegularizer, type Regularizer } from '../regularizers.js';

/** An initializer function: makes the initial value of a weight of `shape`. */
export type InitializerFn = (shape: readonly number[], options?: { seed?: number }) => Tensor;

/** An initializer: a name ('glorotUniform', 'zeros', 'orthogonal', …), a function, or a Keras `{ class_name, config }` object. */
export type InitializerSpec = string | InitializerFn | { class_name: string; config?: Record<string, unknown> };

/** A weight penalty: a regularizer, or a name ('l1', 'l2', 'l1l2' with Keras defaults). */
export type RegularizerLike = Regularizer | string;

const isOrthogonal = (name: string): boolean => name.toLowerCase() === 'orthogonal';

/** The initializer function for `spec`. */
export function resolveInitializer(spec: InitializerSpec, where: string): InitializerFn {
  try {
    if (typeof spec === 'function') return spec;
    if (typeof spec === 'string') return isOrthogonal(spec) ? orthogonal : getInitializer(spec);
    // Keras configs hold non-numeric fields (seed: null, mode: 'fan_avg'); only numbers are options.
    const numeric = Object.fromEntries(Object.entries(spec.config ?? {}).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
    if (isOrthogonal(spec.class_name)) return (shape, o) => orthogonal(shape, { ...numeric, ...o });
    return getInitializer({ className: spec.class_name, config: numeric });
  } catch (e) {
    throw new ArgumentError(`${where}: ${(e as Error).message}`);
  }
}

/** The Keras JSON of an initializer spec: GlorotUniform etc. with the layer's seed. */
export function initializerJson(spec: InitializerSpec, seed: number | undefined): { class_name: string; config: Record<string, unknown> } {
  if (typeof spec === 'object') return { class_name: spec.class_name, config: { ...(spec.config ?? {}) } };
  const className = typeof spec === 'string' ? pascalCase(camelCase(spec)) : spec.name ? pascalCase(spec.name) : 'Custom';
  const constant = className === 'Zeros' || className === 'Ones';
  return { class_name: className, config: constant ? {} : { seed: seed ?? null } };
}

/** The regularizer for a spec (null stays null). */
export function resolveRegularizer(spec: RegularizerLike | null | undefined): Regularizer | null {
  return spec === null || spec === undefined ? null : getRegularizer(spec);
}

/** The Keras JSON of a regularizer (or null). */
export function regularizerJson(spec: RegularizerLike | null | undefined): { class_name: string; config: Record<string, unknown> } | null {
  const r = resolveRegularizer(spec);
  return r ? { class_name: r.className, config: r.getConfig() } : null;
}

/** A regularizer from its Keras JSON (L1L2, L1, L2). */
function regularizerFromJson(json: unknown, where: string): Regularizer | null {
  if (json === null || json === undefined) return null;
  const obj = json as { class_name?: unknown; config?: Record<string, number> };
  try {
    return getRegularizer({ className: String(obj.class_name), config: obj.config ?? {} });
  } catch (e) {
    throw new ModelFormatError(`${where}: ${(e as Error).message}`);
  }
}

/** Checks a positive-integer option. */
export function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`${what} should be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** glorotUniform → GlorotUniform. */
function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** GlorotUniform → glorotUniform, glorot_uniform → glorotUniform. */
export function camelCase(name: string): string {
  const c = name.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
  return c.charAt(0).toLowerCase() + c.slice(1);
}

/** Reads a layer's config from model.json, checking each field and naming it in errors. */
export class ConfigReader {
  constructor(
    private readonly config: Record<string, unknown>,
    private readonly where: string,
  ) {}

  private fail(key: string, expected: string): never {
    throw new ModelFormatError(`${this.where}: config.${key} should be ${expected}, found ${JSON.stringify(this.config[key])}`);
  }

  /** A non-negative integer (required unless a fallback is given). */
  int(key: string, fallback?: number): number {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback ?? this.fail(key, 'a non-negative integer');
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(key, 'a non-negative integer');
    return v;
  }

  /** An integer, or undefined when absent or null (e.g. a seed). */
  optionalInt(key: string): number | undefined {
    const v = this.config[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, 'an integer or null');
    return v;
  }

  /** A finite number. */
  num(key: string, fallback: number): number {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'a number');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  str(key: string, fallback?: string): string | undefined {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  /** A list of positive integers of length n (or one integer, repeated). */
  ints(key: string, n: number, fallback?: number[]): number[] | undefined {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    const list = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
    if (!Array.isArray(list) || list.length !== n || list.some((d) => !Number.isInteger(d) || d < 1)) this.fail(key, `a list of ${n} positive integers`);
    return list as number[];
  }

  /** A required list of integers of any length (Reshape's target_shape, Permute's dims); the layer checks the values. */
  list(key: string): number[] {
    const v = this.config[key];
    if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d))) this.fail(key, 'a list of integers');
    return v as number[];
  }

  /** The value as written, for options with several accepted forms that the layer checks itself. */
  raw(key: string): unknown {
    return this.config[key] ?? undefined;
  }

  /** An axis or a list of axes (LayerNormalization's). */
  axes(key: string, fallback: number): number | number[] {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (Array.isArray(v) ? v.length === 0 || v.some((a) => !Number.isInteger(a)) : !Number.isInteger(v)) this.fail(key, 'an integer axis or a list of them');
    return v as number | number[];
  }

  /** An axis: an integer, or a one-element list of one (as Keras 2 writes BatchNormalization's). */
  axis(key: string, fallback: number): number {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    const a = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if (typeof a !== 'number' || !Number.isInteger(a)) this.fail(key, 'an integer axis');
    return a;
  }

  /** A Keras initializer object, kept as given. */
  initializer(key: string, fallback: string): InitializerSpec {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string') return camelCase(v);
    const obj = v as { class_name?: unknown };
    if (typeof v !== 'object' || typeof obj.class_name !== 'string') this.fail(key, 'an initializer { class_name, config }');
    return v as InitializerSpec;
  }

  regularizer(key: string): Regularizer | null {
    return regularizerFromJson(this.config[key], `${this.where}: config.${key}`);
  }

  /** Base layer options: name, trainable, batch_input_shape. */
  base(): { name?: string; trainable: boolean; batchInputShape?: (number | null)[] } {
    const name = this.str('name');
    const shape = this.config.batch_input_shape;
    if (shape !== undefined && shape !== null) {
      const ok = Array.isArray(shape) && shape.length >= 2 && shape.every((d, i) => (d === null && i === 0) || (Number.isInteger(d) && (d as number) > 0) || d === null);
      if (!ok) this.fail('batch_input_shape', 'a list like [null, 28, 28, 1]');
    }
    return { name, trainable: this.bool('trainable', true), batchInputShape: (shape as (number | null)[] | undefined) ?? undefined };
  }
}
