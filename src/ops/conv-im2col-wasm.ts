// conv's im2col in wasm: the rows of pixels [p0, p1), each the kh·kw taps of kc channels its window
// reads (zeros outside the image), tap-major, written contiguously for the GEMM core. One module
// per direction: the forward taps (y·s − pad + k·d) and the input gradient's ((y + pad − k·d) / s).
import { Code } from '../backend/cpu/wasm/code.js';
import { ValType, type FunctionDef } from '../backend/cpu/wasm/module.js';

const { i32 } = ValType;

/** Parameter order of `im2col`. */
export const IM2COL_PARAMS = ['a', 'dst', 'p0', 'p1', 'rowW', 'rowH', 'aW', 'aH', 'kc', 'kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'pt', 'pl'] as const;
const P = Object.fromEntries(IM2COL_PARAMS.map((n, i) => [n, i])) as Record<(typeof IM2COL_PARAMS)[number], number>;
const LOCALS = ['p', 'x', 'y', 'img', 'ky', 'kx', 'iy', 'ix', 'okY', 'src', 'cb', 'kcb'] as const;
const L = Object.fromEntries(LOCALS.map((n, i) => [n, IM2COL_PARAMS.length + i])) as Record<(typeof LOCALS)[number], number>;

/**
 * Sets `out` to the source coordinate of tap `k` for output coordinate `coord` and `ok` to whether
 * it lies in [0, size) (and, for the gradient, whether the stride divides it).
 */
function tap(c: Code, forward: boolean, coord: number, k: number, s: number, d: number, pad: number, size: number, out: number, ok: number): void {
  if (forward) {
    c.local_get(coord).local_get(s).i32_mul().local_get(pad).i32_sub().local_get(k).local_get(d).i32_mul().i32_add().local_tee(out)
      .i32_const(0).i32_ge_s().local_get(out).local_get(size).i32_lt_s().i32_and().local_set(ok);
    return;
  }
  // t = coord + pad − k·d; valid when t ≥ 0, t % s = 0 and t / s < size.
  c.local_get(coord).local_get(pad).i32_add().local_get(k).local_get(d).i32_mul().i32_sub().local_tee(out)
    .i32_const(0).i32_ge_s()
    .local_get(out).local_get(s).i32_rem_s().i32_eqz().i32_and()
    .local_get(out).local_get(s).i32_div_s().local_tee(out).local_get(size).i32_lt_s().i32_and().local_set(ok);
}

/** The im2col function for one direction (forward conv, or the input gradient's gather of dy). */
export function im2colFunction(forward: boolean): FunctionDef {
  const c = new Code();
  const loopWhile = (cond: () => void, body: () => void) => {
    c.block().loop();
    cond();
    c.i32_eqz().br_if(1);
    body();
    c.br(0).end().end();
  };
  const inc = (l: number, by: number | (() => void)) => {
    c.local_get(l);
    if (typeof by === 'number') c.i32_const(by);
    else by();
    c.i32_add().local_set(l);
  };
  c.local_get(P.kc).i32_const(4).i32_mul().local_set(L.kcb)
    .local_get(P.p0).local_set(L.p);
  loopWhile(() => c.local_get(L.p).local_get(P.p1).i32_lt_s(), () => {
    c.local_get(L.p).local_get(P.rowW).i32_rem_s().local_set(L.x)
      .local_get(L.p).local_get(P.rowW).i32_div_s().local_tee(L.y).local_get(P.rowH).i32_div_s().local_set(L.img)
      .local_get(L.y).local_get(P.rowH).i32_rem_s().local_set(L.y)
      .i32_const(0).local_set(L.ky);
    loopWhile(() => c.local_get(L.ky).local_get(P.kh).i32_lt_s(), () => {
      tap(c, forward, L.y, L.ky, P.sh, P.dh, P.pt, P.aH, L.iy, L.okY);
      c.i32_const(0).local_set(L.kx);
      loopWhile(() => c.local_get(L.kx).local_get(P.kw).i32_lt_s(), () => {
        // okX lands in src's place first; src is the tap's first channel when both coordinates are valid.
        tap(c, forward, L.x, L.kx, P.sw, P.dw, P.pl, P.aW, L.ix, L.src);
        c.i32_const(0).local_set(L.cb)
          .local_get(L.src).local_get(L.okY).i32_and().if()
          .local_get(P.a)
          .local_get(L.img).local_get(P.aH).i32_mul().local_get(L.iy).i32_add().local_get(P.aW).i32_mul().local_get(L.ix).i32_add()
          .local_get(L.kcb).i32_mul().i32_add().local_set(L.src);
        loopWhile(() => c.local_get(L.cb).i32_const(16).i32_add().local_get(L.kcb).i32_le_s(), () => {
          c.local_get(P.dst).local_get(L.cb).i32_add().local_get(L.src).local_get(L.cb).i32_add().v128_load().v128_store();
          inc(L.cb, 16);
        });
        loopWhile(() => c.local_get(L.cb).local_get(L.kcb).i32_lt_s(), () => {
          c.local_get(P.dst).local_get(L.cb).i32_add().local_get(L.src).local_get(L.cb).i32_add().f32_load().f32_store();
          inc(L.cb, 4);
        });
        c.else();
        loopWhile(() => c.local_get(L.cb).i32_const(16).i32_add().local_get(L.kcb).i32_le_s(), () => {
          c.local_get(P.dst).local_get(L.cb).i32_add().f32x4_const(0).v128_store();
          inc(L.cb, 16);
        });
        loopWhile(() => c.local_get(L.cb).local_get(L.kcb).i32_lt_s(), () => {
          c.local_get(P.dst).local_get(L.cb).i32_add().f32_const(0).f32_store();
          inc(L.cb, 4);
        });
        c.end();
        inc(P.dst, () => c.local_get(L.kcb));
        inc(L.kx, 1);
      });
      inc(L.ky, 1);
    });
    inc(L.p, 1);
  });
  return { name: 'im2col', params: IM2COL_PARAMS.map(() => i32), results: [], locals: LOCALS.map(() => i32), body: c };
}
