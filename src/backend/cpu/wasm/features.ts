// What the running engine's WebAssembly supports, probed once by validating tiny modules built
// with our own emitter: SIMD128 (required by the wasm kernels) and relaxed SIMD (its fused
// multiply-add; without it kernels multiply and add separately).
import { Code } from './code.js';
import { emitModule, ValType } from './module.js';

/** The wasm features kernels may use. */
export interface WasmFeatures {
  /** SIMD128; without it the CPU backend keeps its JS kernels. */
  readonly simd: boolean;
  /** f32x4.relaxed_madd. */
  readonly relaxedSimd: boolean;
}

function validates(body: Code): boolean {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return false;
  const bytes = emitModule([{ name: 'probe', params: [ValType.v128], results: [ValType.v128], locals: [], body }]);
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

let probed: WasmFeatures | undefined;

/** The features of this engine (probed on first call). */
export function wasmFeatures(): WasmFeatures {
  probed ??= {
    simd: validates(new Code().local_get(0).local_get(0).f32x4_mul()),
    relaxedSimd: validates(new Code().local_get(0).local_get(0).local_get(0).f32x4_relaxed_madd()),
  };
  return probed;
}

/**
 * Emits acc' = a·b + acc with a and b already on the stack, `pushAcc` pushing acc: one
 * relaxed_madd where `relaxed`, else a multiply and an add (the plain SIMD fallback).
 */
export function emitMadd(code: Code, relaxed: boolean, pushAcc: (c: Code) => void): Code {
  if (relaxed) {
    pushAcc(code);
    return code.f32x4_relaxed_madd();
  }
  code.f32x4_mul();
  pushAcc(code);
  return code.f32x4_add();
}
