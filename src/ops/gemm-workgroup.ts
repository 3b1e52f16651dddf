// The workgroup-memory GEMM that matMul and the three convs share on GPUs that prefer it
// (KernelPreferences.tiling 'workgroup'): shaders/gemm_workgroup.wgsl is the kernel, and each
// op supplies only its index mapping — gemmBegin, loadA and loadB — plus its Params and bindings.
import { linearWorkgroups } from '../backend/kernel.js';
import body from '../../shaders/gemm_workgroup.wgsl?raw';

/** Output rows and columns one 16×16 workgroup computes (4×4 per invocation). */
export const WORKGROUP_TILE = 64;

/** Uniform fields the template reads; each op's Params must hold them. */
export const GEMM_GRID_FIELDS = { M: 'u32', N: 'u32', tilesN: 'u32', tilesM: 'u32', count: 'u32' } as const;

/** The dispatch of `batches` products of M×N outputs: tiles per dim, workgroups with work, and their grid. */
export function workgroupGemmGrid(M: number, N: number, batches: number): { tilesM: number; tilesN: number; count: number; workgroups: [number, number, number] } {
  const tilesM = Math.ceil(M / WORKGROUP_TILE);
  const tilesN = Math.ceil(N / WORKGROUP_TILE);
  const count = tilesM * tilesN * batches;
  return { tilesM, tilesN, count, workgroups: linearWorkgroups(count, 1) };
}

/** How an op reads its operands: the contract is written at the top of shaders/gemm_workgroup.wgsl. */
interface GemmMapping {
  /** A's k is its contiguous dim (else its m is): picks the coalesced load order of A. */
  readonly aKContiguous: boolean;
  /** B's n is its contiguous dim (else its k is). */
  readonly bNContiguous: boolean;
  /** WGSL of gemmBegin(z), loadA(m, k), loadB(k, n) and any private state they share. */
  readonly wgsl: string;
  /** WGSL expression (of z and p) for where z's matrix starts in out; default `z * p.M * p.N`. */
  readonly outBase?: string;
  /** WGSL expression (of out index i) added to each value before its epilogue; default 0 (overwrite). */
  readonly prior?: string;
  /** WGSL expression (of p) for the stride between out's rows; default `p.N`. */
  readonly outRow?: string;
}

/** The whole kernel: `header` (Params, bindings, epilogue and helpers), the mapping and outBase, then the template. */
export function workgroupGemmWgsl(header: string, mapping: GemmMapping): string {
  return `${header}
const A_K_CONTIGUOUS = ${mapping.aKContiguous};
const B_N_CONTIGUOUS = ${mapping.bNContiguous};
${mapping.wgsl}
fn outBase(z: u32) -> u32 { return ${mapping.outBase ?? 'z * p.M * p.N'}; }
fn prior(i: u32) -> f32 { return ${mapping.prior ?? '0.0'}; }
fn outRowStride() -> u32 { return ${mapping.outRow ?? 'p.N'}; }
${body}`;
}
