// maxPool2d's and its gradient's WebAssembly kernel, for channel counts that are multiples of 4:
// every window's max four channels at a time (f32x4), with the argmax rule of the JS and WGSL
// kernels (the first in-bounds element, replaced by a greater one or a NaN); the gradient adds
// each window's dy to the element that was its max.
import type { KernelCall } from '../backend/kernel.js';
import { Code } from '../backend/cpu/wasm/code.js';
import { ValType, type FunctionDef } from '../backend/cpu/wasm/module.js';
import { call, type Calls } from '../backend/cpu/wasm/runtime.js';

const { i32, v128 } = ValType;

/** The pooling geometry the kernel reads (a PoolGeometry). */
export interface WasmPoolGeometry {
  batch: number; H: number; W: number; C: number; outH: number; outW: number;
  ph: number; pw: number; sh: number; sw: number; pt: number; pl: number;
}

const PARAMS = ['x', 'out', 'dy', 'batch', 'H', 'W', 'C', 'outH', 'outW', 'ph', 'pw', 'sh', 'sw', 'pt', 'pl'] as const;
const I32_LOCALS = ['b', 'oy', 'ox', 'y0', 'x0', 'ky0', 'ky1', 'kx0', 'kx1', 'ky', 'kx', 'cb', 'o', 'tap', 'first', 'lane'] as const;
const V128_LOCALS = ['best', 'idx', 'v', 'mask', 'd'] as const;
const names = [...PARAMS, ...I32_LOCALS, ...V128_LOCALS];
const at = Object.fromEntries(names.map((n, i) => [n, i])) as Record<(typeof names)[number], number>;

/** maxpool(x, out, dy, …geometry): forward (dy = 0) writes out; gradient (dy ≠ 0) adds into out = dx, which starts zeroed. */
function maxPoolFunction(backprop: boolean): FunctionDef {
  const c = new Code();
  const get = (n: keyof typeof at) => c.local_get(at[n]);
  const set = (n: keyof typeof at) => c.local_set(at[n]);
  const loop = (counter: keyof typeof at, from: () => void, to: () => void, body: () => void) => {
    from();
    set(counter);
    c.block().loop();
    get(counter);
    to();
    c.i32_ge_s().br_if(1);
    body();
    get(counter).i32_const(1).i32_add();
    set(counter);
    c.br(0).end().end();
  };
  // The in-bounds taps [lo, hi) of a window starting at `start`: max(−start, 0) and min(size − start, k).
  const range = (start: keyof typeof at, size: keyof typeof at, k: keyof typeof at, lo: keyof typeof at, hi: keyof typeof at) => {
    c.i32_const(0); get(start); c.i32_sub().i32_const(0);
    c.i32_const(0); get(start); c.i32_sub().i32_const(0).i32_gt_s().select(); set(lo);
    get(size); get(start); c.i32_sub(); get(k); get(size); get(start); c.i32_sub(); get(k); c.i32_lt_s().select(); set(hi);
  };
  get('out'); set('o');
  if (backprop) { get('dy'); set('o'); }
  loop('b', () => c.i32_const(0), () => get('batch'), () => {
    loop('oy', () => c.i32_const(0), () => get('outH'), () => {
      get('oy'); get('sh'); c.i32_mul(); get('pt'); c.i32_sub(); set('y0');
      range('y0', 'H', 'ph', 'ky0', 'ky1');
      loop('ox', () => c.i32_const(0), () => get('outW'), () => {
        get('ox'); get('sw'); c.i32_mul(); get('pl'); c.i32_sub(); set('x0');
        range('x0', 'W', 'pw', 'kx0', 'kx1');
        c.i32_const(0); set('cb');
        c.block().loop();
        get('cb'); get('C'); c.i32_const(4).i32_mul().i32_ge_s().br_if(1);
        c.i32_const(1); set('first');
        loop('ky', () => get('ky0'), () => get('ky1'), () => {
          loop('kx', () => get('kx0'), () => get('kx1'), () => {
            // tap = x + 4·((b·H + y0 + ky)·W + x0 + kx)·C + cb
            get('x');
            get('b'); get('H'); c.i32_mul(); get('y0'); c.i32_add(); get('ky'); c.i32_add(); get('W'); c.i32_mul();
            get('x0'); c.i32_add(); get('kx'); c.i32_add(); get('C'); c.i32_mul().i32_const(4).i32_mul().i32_add();
            get('cb'); c.i32_add(); c.local_tee(at.tap).v128_load(); set('v');
            get('first'); c.if();
            get('v'); set('best'); get('tap'); c.i32x4_splat(); set('idx'); c.i32_const(0); set('first');
            c.else();
            get('v'); get('best'); c.f32x4_gt(); get('v'); get('v'); c.f32x4_ne().v128_or(); set('mask');
            get('v'); get('best'); get('mask'); c.v128_bitselect(); set('best');
            get('tap'); c.i32x4_splat(); get('idx'); get('mask'); c.v128_bitselect(); set('idx');
            c.end();
          });
        });
        if (!backprop) {
          get('o'); get('cb'); c.i32_add(); get('best'); c.v128_store();
        } else {
          get('o'); get('cb'); c.i32_add().v128_load(); set('d');
          for (let lane = 0; lane < 4; lane++) {
            // idx holds the max's tap address (its lane 0); lane l's channel is 4l bytes on. dx: out + (that − x).
            get('idx'); c.i32x4_extract_lane(lane).i32_const(4 * lane).i32_add(); get('x'); c.i32_sub(); get('out'); c.i32_add(); set('lane');
            get('lane'); get('lane'); c.f32_load(); get('d'); c.f32x4_extract_lane(lane).f32_add().f32_store();
          }
        }
        get('cb'); c.i32_const(16).i32_add(); set('cb');
        c.br(0).end().end();
        get('o'); get('C'); c.i32_const(4).i32_mul().i32_add(); set('o');
      });
    });
  });
  return { name: 'maxpool', params: PARAMS.map(() => i32), results: [], locals: [...I32_LOCALS.map(() => i32), ...V128_LOCALS.map(() => v128)], body: c };
}

/** Inputs of at least this many elements are split across threads by images. */
const POOL_PARALLEL_MIN = 1 << 15;

/**
 * The `wasm` member of maxPool2d (inputs [x]) or maxPool2dBackprop (inputs [x, dy]), or undefined
 * where C is not a multiple of 4 (the JS kernel runs). The gradient sums in f32: exact where
 * windows do not overlap (each dx element then gets at most one term).
 */
export function maxPoolWasm(g: WasmPoolGeometry, backprop: boolean): KernelCall['wasm'] {
  if (g.C % 4 !== 0) return undefined;
  return (rt, [x, dy], [out]) => {
    const id = rt.threadModule(`maxpool:${backprop ? 'backprop' : 'forward'}`, () => [maxPoolFunction(backprop)]);
    if (backprop) rt.heap.f32().fill(0, out / 4, out / 4 + g.batch * g.H * g.W * g.C);
    // With threads, each takes a range of images (windows never cross images, so each dx element
    // gets the same terms in the same order).
    const [inImage, outImage] = [4 * g.H * g.W * g.C, 4 * g.outH * g.outW * g.C];
    const threads = g.batch * g.H * g.W * g.C >= POOL_PARALLEL_MIN ? Math.min(rt.threads, g.batch) : 1;
    rt.run(Array.from({ length: threads }, (_, t) => {
      const [b0, b1] = [Math.floor((t * g.batch) / threads), Math.floor(((t + 1) * g.batch) / threads)];
      const calls: Calls = [];
      if (b1 > b0) {
        call(calls, id, 0, x + b0 * inImage, out + b0 * (backprop ? inImage : outImage), backprop ? dy + b0 * outImage : 0, b1 - b0, g.H, g.W, g.C, g.outH, g.outW, g.ph, g.pw, g.sh, g.sw, g.pt, g.pl);
      }
      return calls;
    }));
  };
}
