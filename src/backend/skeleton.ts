// The kernel skeleton: one typed list of uniform fields yields a WGSL kernel's opening — the
// `Params` struct, the storage bindings in KernelCall's order and the flat thread index — and packs
// the uniform values from the same list, so a field cannot be spelt two ways (a misspelt or missing
// field is a type error). A kernel's own file then holds only what is particular to it.
import { WORKGROUP_SIZE, type Uniform } from './kernel.js';
import { ArgumentError } from '../errors.js';

/** The WGSL type of one 32-bit uniform field. */
export type ParamType = 'u32' | 'i32' | 'f32';

/** Uniform fields in declaration order (object key order): name → WGSL type. */
export type ParamFields = { readonly [name: string]: ParamType };

/** One number per field of `F`. */
export type ParamValues<F extends ParamFields> = { readonly [K in keyof F]: number };

/** A storage binding: inputs first (read-only), then outputs and scratch (`write`), as KernelCall binds them. */
export interface StorageBinding {
  readonly name: string;
  /** The array's element type: 'f32', 'i32', 'vec4<f32>', or an alias the prelude declares. */
  readonly type: string;
  readonly write?: boolean;
}

/**
 * The flat thread index the opening declares: `name` (default `i`) counts invocations of a
 * dispatch from linearWorkgroups, plus `p[from]` (the first element of a split part), and the
 * invocation returns at once when it reaches `p[below]`.
 */
interface ThreadIndex<F extends ParamFields> {
  readonly name?: string;
  readonly from?: keyof F & string;
  readonly below?: keyof F & string;
}

/** What a kernel adds to the skeleton. */
interface KernelLayout<F extends ParamFields> {
  readonly storages: readonly StorageBinding[];
  /** Constants, aliases and helper functions, placed after the bindings. */
  readonly prelude?: string;
  readonly index: ThreadIndex<F>;
  /** Invocations per workgroup (one dimension); default WORKGROUP_SIZE. */
  readonly workgroupSize?: number;
  /** The statements of `main` after the opening. */
  readonly body: string;
}

/** A kernel's uniform fields, and what they yield. */
export interface KernelParams<F extends ParamFields> {
  readonly fields: F;
  /** The uniform values in the struct's order. */
  uniforms(values: ParamValues<F>): Uniform[];
  /** The `Params` struct, the storage bindings and the uniform `p`, for kernels that write their own `main`. */
  declarations(storages: readonly StorageBinding[]): string;
  /** The whole kernel: declarations, prelude, then `main` opened with the thread index. */
  wgsl(layout: KernelLayout<F>): string;
}

/** The skeleton of kernels whose uniforms are `fields` (the first one must exist: WGSL forbids an empty struct). */
export function kernelParams<const F extends ParamFields>(fields: F): KernelParams<F> {
  const names = Object.keys(fields) as (keyof F & string)[];
  if (names.length === 0) throw new ArgumentError('kernelParams: a kernel needs at least one uniform field');
  const declarations = (storages: readonly StorageBinding[]): string => {
    const struct = `struct Params { ${names.map((f) => `${f}: ${fields[f]}`).join(', ')} }`;
    const bindings = storages.map(
      (s, k) => `@group(0) @binding(${k}) var<storage, ${s.write ? 'read_write' : 'read'}> ${s.name}: array<${s.type}>;`,
    );
    return [struct, ...bindings, `@group(0) @binding(${storages.length}) var<uniform> p: Params;`].join('\n');
  };
  return {
    fields,
    uniforms(values) {
      return names.map((f) => {
        const v = values[f];
        if (typeof v !== 'number') throw new ArgumentError(`kernelParams: no value for uniform field '${f}'`);
        return { [fields[f]]: v } as Uniform;
      });
    },
    declarations,
    wgsl({ storages, prelude, index, workgroupSize = WORKGROUP_SIZE, body }) {
      const i = index.name ?? 'i';
      const from = index.from ? ` + p.${index.from}` : '';
      const below = index.below ? `\n  if (${i} >= p.${index.below}) { return; }` : '';
      return `${declarations(storages)}
${prelude ?? ''}
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let ${i} = gid.y * nwg.x * ${workgroupSize}u + gid.x${from};${below}
${body}
}
`;
    },
  };
}

/** Fields `prefix0 … prefix{rank-1}`, all u32: per-dimension shapes and strides of rank-generic kernels. */
export function perDimFields<P extends string>(prefix: P, rank: number): Record<`${P}${number}`, 'u32'> {
  return Object.fromEntries(Array.from({ length: rank }, (_, d) => [`${prefix}${d}`, 'u32'])) as Record<`${P}${number}`, 'u32'>;
}

/** Values for `perDimFields(prefix, values.length)`. */
export function perDimValues<P extends string>(prefix: P, values: readonly number[]): Record<`${P}${number}`, number> {
  return Object.fromEntries(values.map((v, d) => [`${prefix}${d}`, v])) as Record<`${P}${number}`, number>;
}
