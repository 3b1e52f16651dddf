// The kernel skeleton (src/backend/skeleton.ts): one field list yields the Params struct, the
// bindings and the thread index, and packs the uniforms in the struct's order; a misspelt or
// missing field is a type error (checked by `npm run typecheck` through @ts-expect-error).
import { describe, expect, it } from 'vitest';
import { kernelParams, perDimFields, perDimValues } from '../src/backend/skeleton.js';
import { ArgumentError } from '../src/errors.js';

describe('kernel skeleton', () => {
  const params = kernelParams({ n: 'u32', first: 'u32', shift: 'i32', scale: 'f32' });

  it('packs the uniforms in the order of the fields, each with its type', () => {
    expect(params.uniforms({ scale: 0.5, shift: -3, first: 7, n: 11 })).toEqual([{ u32: 11 }, { u32: 7 }, { i32: -3 }, { f32: 0.5 }]);
  });

  it('declares the struct, the storages in binding order and the uniform after them', () => {
    const wgsl = params.declarations([{ name: 'x', type: 'f32' }, { name: 'idx', type: 'i32' }, { name: 'out', type: 'vec4<f32>', write: true }]);
    expect(wgsl.split('\n')).toEqual([
      'struct Params { n: u32, first: u32, shift: i32, scale: f32 }',
      '@group(0) @binding(0) var<storage, read> x: array<f32>;',
      '@group(0) @binding(1) var<storage, read> idx: array<i32>;',
      '@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;',
      '@group(0) @binding(3) var<uniform> p: Params;',
    ]);
  });

  it('opens main with the flat thread index, its offset and its bound', () => {
    const wgsl = params.wgsl({ storages: [{ name: 'out', type: 'f32', write: true }], prelude: 'fn twice(v: f32) -> f32 { return 2.0 * v; }', index: { name: 'j', from: 'first', below: 'n' }, workgroupSize: 32, body: '  out[j] = twice(p.scale);' });
    expect(wgsl).toContain('fn twice(v: f32) -> f32');
    expect(wgsl).toContain('@compute @workgroup_size(32)\nfn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {');
    expect(wgsl).toContain('  let j = gid.y * nwg.x * 32u + gid.x + p.first;\n  if (j >= p.n) { return; }\n  out[j] = twice(p.scale);\n}');
    const plain = params.wgsl({ storages: [], index: {}, body: '' });
    expect(plain).toContain('  let i = gid.y * nwg.x * 64u + gid.x;\n');
    expect(plain).not.toContain('return;');
  });

  it('names a field that has no value; a misspelt or missing field does not compile', () => {
    // @ts-expect-error `frist` is not a field, and `first` is missing
    expect(() => params.uniforms({ n: 1, frist: 0, shift: 0, scale: 1 })).toThrow(new ArgumentError("kernelParams: no value for uniform field 'first'"));
    // @ts-expect-error a thread index bound by a field that does not exist
    params.wgsl({ storages: [], index: { below: 'count' }, body: '' });
  });

  it('builds per-dimension fields and their values for rank-generic kernels', () => {
    const dims = kernelParams({ n: 'u32', ...perDimFields('d', 3) });
    expect(dims.declarations([])).toContain('struct Params { n: u32, d0: u32, d1: u32, d2: u32 }');
    expect(dims.uniforms({ n: 4, ...perDimValues('d', [5, 6, 7]) })).toEqual([{ u32: 4 }, { u32: 5 }, { u32: 6 }, { u32: 7 }]);
  });

  it('refuses an empty field list (WGSL has no empty struct)', () => {
    expect(() => kernelParams({})).toThrow(ArgumentError);
  });
});
