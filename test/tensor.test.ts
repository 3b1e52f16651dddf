// Tensor basics on every backend: tensor() shape inference and its errors, int32, reading values
// back, dispose and disposed-tensor errors, empty tensors, tidy (sync, nested, async, keep, on
// error) measured with memory(), and variables with assign.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { integers, uniform } from './helpers/random.js';

describe.each(BACKENDS)('tensors on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  describe('tensor()', () => {
    it.each([
      [5, []],
      [[1, 2, 3], [3]],
      [[[1, 2, 3], [4, 5, 6]], [2, 3]],
      [[[[1], [2]], [[3], [4]], [[5], [6]]], [3, 2, 1]],
      [[], [0]],
      [[[], []], [2, 0]],
    ] as [nt.TensorValues, number[]][])('infers the shape of %j as %j and keeps the values', async (values, shape) => {
      const t = nt.tensor(values);
      expect(t.shape).toEqual(shape);
      expect(t.rank).toBe(shape.length);
      expect(t.dtype).toBe('float32');
      expect(await t.array()).toEqual(values);
      t.dispose();
    });

    it('takes a flat array with an explicit shape, and typed arrays', async () => {
      const x = uniform(3 * 5);
      const t = nt.tensor(Array.from(x), [3, 5]);
      expect(t.shape).toEqual([3, 5]);
      expect(Array.from(await t.data())).toEqual(Array.from(x, Math.fround));
      const f = nt.tensor(Float32Array.from(x));
      expect(f.shape).toEqual([15]);
      nt.dispose([t, f]);
    });

    it('makes int32 tensors from an Int32Array or dtype "int32" (truncating)', async () => {
      const v = integers(7, 1000);
      const a = nt.tensor(v);
      expect(a.dtype).toBe('int32');
      const data = await a.data();
      expect(data).toBeInstanceOf(Int32Array);
      expect(Array.from(data)).toEqual(Array.from(v));
      const b = nt.tensor([1.7, -2.7, 3], [3], 'int32');
      expect(Array.from(await b.data())).toEqual([1, -2, 3]);
      const c = nt.scalar(4, 'int32');
      expect(c.dtype).toBe('int32');
      nt.dispose([a, b, c]);
    });

    it('rejects ragged arrays, wrong counts, bad shapes and non-numbers with clear errors', () => {
      expect(() => nt.tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array/);
      expect(() => nt.tensor([[1, 2], 3] as unknown as number[][])).toThrow(/tensor: ragged nested array \(a number at depth 1/);
      expect(() => nt.tensor([[1, 2], [3, [4]]] as unknown as number[][])).toThrow(/tensor: ragged/);
      expect(() => nt.tensor([1, 2, 3], [2, 2])).toThrow(/tensor: 3 values cannot fill shape \[2,2\] \(expected 4 values\)/);
      expect(() => nt.tensor([1, 2], [-1, -2])).toThrow(nt.ShapeError);
      expect(() => nt.tensor(['a'] as unknown as number[])).toThrow(/tensor: expected numbers, found string/);
      expect(() => nt.tensor([1], [1], 'float64' as nt.DType)).toThrow(nt.DTypeError);
    });
  });

  describe('reading values', () => {
    it('array() nests values like the shape', async () => {
      const t = nt.tensor([1, 2, 3, 4, 5, 6], [3, 1, 2]);
      expect(await t.array()).toEqual([[[1, 2]], [[3, 4]], [[5, 6]]]);
      const s = nt.scalar(7);
      expect(await s.array()).toBe(7);
      nt.dispose([t, s]);
    });

    it(backend === 'cpu' ? 'dataSync() reads synchronously' : 'dataSync() throws a clear error (reads are asynchronous)', async () => {
      const t = nt.tensor([1, 2, 3]);
      if (backend === 'cpu') expect(Array.from(t.dataSync())).toEqual([1, 2, 3]);
      else expect(() => t.dataSync()).toThrow(/dataSync: the webgpu backend reads asynchronously; use 'await tensor.data\(\)'/);
      t.dispose();
    });

    it('returns a copy that later changes do not touch', async () => {
      const t = nt.tensor([1, 2]);
      const a = await t.data();
      a[0] = 99;
      expect(Array.from(await t.data())).toEqual([1, 2]);
      t.dispose();
    });
  });

  describe('dispose', () => {
    it('frees memory, marks the tensor disposed, and is safe twice', () => {
      const before = nt.memory();
      const t = nt.ones([31, 7]);
      expect(nt.memory().numTensors).toBe(before.numTensors + 1);
      expect(nt.memory().bytesInUse).toBeGreaterThan(before.bytesInUse);
      expect(t.isDisposed).toBe(false);
      t.dispose();
      t.dispose();
      expect(t.isDisposed).toBe(true);
      expect(nt.memory().numTensors).toBe(before.numTensors);
      expect(nt.memory().bytesInUse).toBe(before.bytesInUse);
    });

    it('a reshape shares storage: memory is freed when both are disposed', () => {
      const before = nt.memory();
      const t = nt.ones([4, 6]);
      const v = nt.reshape(t, [24]);
      const held = nt.memory().bytesInUse;
      t.dispose();
      expect(nt.memory().bytesInUse).toBe(held);
      expect(v.isDisposed).toBe(false);
      v.dispose();
      expect(nt.memory()).toMatchObject({ numTensors: before.numTensors, bytesInUse: before.bytesInUse });
    });

    it('using a disposed tensor throws an error naming the op, the tensor and its shape', async () => {
      const t = nt.ones([2, 3]);
      t.dispose();
      expect(() => nt.add(t, 1)).toThrow(/add: tensor #\d+ of shape \[2,3\] was disposed/);
      expect(() => nt.sum(t)).toThrow(nt.DisposedTensorError);
      expect(() => nt.reshape(t, [6])).toThrow(/reshape: tensor/);
      await expect(t.data()).rejects.toThrow(/data: tensor #\d+ of shape \[2,3\] was disposed/);
      const v = nt.variable(nt.ones([2]), { name: 'w' });
      v.dispose();
      expect(() => nt.mul(v, 2)).toThrow(/mul: tensor 'w' of shape \[2\] was disposed/);
    });
  });

  describe('empty tensors', () => {
    it('flow through ops and read back as empty', async () => {
      const [a, b, c] = nt.tidy(() => {
        const e = nt.zeros([0, 3]);
        return [nt.exp(e), nt.sum(e, { axis: 0 }), nt.transpose(e)];
      });
      expect(a.shape).toEqual([0, 3]);
      expect((await a.data()).length).toBe(0);
      expect(Array.from(await b.data())).toEqual([0, 0, 0]);
      expect(c.shape).toEqual([3, 0]);
      expect(await c.array()).toEqual([[], [], []]);
      nt.dispose([a, b, c]);
    });
  });

  describe('tidy', () => {
    it('keeps what it returns and frees every intermediate', async () => {
      const x = nt.tensor(Float32Array.from(uniform(101)));
      const before = nt.memory();
      const y = nt.tidy(() => {
        const a = nt.exp(x);
        const b = nt.mul(a, 2);
        expect(nt.memory().numTensors).toBe(before.numTensors + 2);
        return nt.sum(b);
      });
      expect(nt.memory().numTensors).toBe(before.numTensors + 1);
      expect(y.isDisposed).toBe(false);
      expect(Number.isFinite((await y.data())[0])).toBe(true);
      y.dispose();
      expect(nt.memory()).toMatchObject({ numTensors: before.numTensors, bytesInUse: before.bytesInUse });
      x.dispose();
    });

    it('keeps tensors inside returned arrays and objects', () => {
      const before = nt.memory().numTensors;
      const out = nt.tidy(() => ({ list: [nt.ones([2]), nt.zeros([3])], one: nt.ones([1]), other: 5 }));
      expect(nt.memory().numTensors).toBe(before + 3);
      nt.dispose([...out.list, out.one]);
      expect(nt.memory().numTensors).toBe(before);
    });

    it('nests: an inner result lives until the outer scope ends', () => {
      const before = nt.memory().numTensors;
      let inner: nt.Tensor | undefined;
      const outer = nt.tidy(() => {
        inner = nt.tidy(() => nt.add(nt.ones([3]), nt.ones([3])));
        expect(inner.isDisposed).toBe(false);
        return nt.mul(inner, 3);
      });
      expect(inner!.isDisposed).toBe(true);
      expect(outer.isDisposed).toBe(false);
      outer.dispose();
      expect(nt.memory().numTensors).toBe(before);
    });

    it('keep() exempts a tensor from disposal', () => {
      const before = nt.memory().numTensors;
      let kept: nt.Tensor | undefined;
      nt.tidy(() => {
        kept = nt.keep(nt.ones([2]));
        nt.zeros([2]);
      });
      expect(kept!.isDisposed).toBe(false);
      expect(nt.memory().numTensors).toBe(before + 1);
      kept!.dispose();
    });

    it('rejects async functions with an ArgumentError that says what to do, disposing what they made before the await', async () => {
      const before = nt.memory().numTensors;
      let madeBeforeAwait: nt.Tensor | undefined;
      let ranOn = false;
      const call = () =>
        nt.tidy((async () => {
          madeBeforeAwait = nt.exp(nt.ones([5]));
          await Promise.resolve();
          ranOn = true;
          throw new Error('this failure is swallowed: the caller already has the ArgumentError');
        }) as () => unknown);
      expect(call).toThrow(nt.ArgumentError);
      expect(call).toThrow(/tidy: the function returned a Promise; tidy scopes only synchronous code\. Wrap the synchronous parts in tidy\(\) and, across awaits, free tensors with dispose\(\)/);
      expect(madeBeforeAwait!.isDisposed).toBe(true);
      expect(nt.memory().numTensors).toBe(before);
      await new Promise((r) => setTimeout(r, 0));
      expect(ranOn).toBe(true); // the function ran on, and its rejection did not escape as unhandled
    });

    it('leaves a synchronous tidy unaffected by an async function that runs on after being rejected', async () => {
      // With a scope left open across the await, `kept` would land in it and be disposed when
      // the async function finished.
      let late: nt.Tensor | undefined;
      const stray = nt.tidy.bind(null, async () => {
        await Promise.resolve();
        late = nt.ones([3]); // made after the rejection, outside any scope: its maker owns it
      }) as () => unknown;
      expect(stray).toThrow(nt.ArgumentError);
      const kept = nt.tidy(() => nt.add(nt.ones([2]), 1));
      await new Promise((r) => setTimeout(r, 0));
      expect(late!.isDisposed).toBe(false);
      late!.dispose();
      expect(kept.isDisposed).toBe(false);
      expect(Array.from(await kept.data())).toEqual([2, 2]);
      kept.dispose();
    });

    it('frees intermediates when the function throws, and rethrows', async () => {
      const before = nt.memory().numTensors;
      expect(() =>
        nt.tidy(() => {
          nt.ones([4]);
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(nt.memory().numTensors).toBe(before);
    });

    it('does not dispose variables', () => {
      const v = nt.tidy(() => nt.variable(nt.ones([2])));
      expect(v.isDisposed).toBe(false);
      v.dispose();
    });
  });

  describe('variables', () => {
    it('hold a value that assign() replaces; the value assigned and the initial value stay intact', async () => {
      const init = nt.tensor([1, 2, 3]);
      const v = nt.variable(init, { name: 'bias' });
      expect(v.trainable).toBe(true);
      expect(v.name).toBe('bias');
      const next = nt.tensor([4, 5, 6]);
      v.assign(next);
      expect(Array.from(await v.data())).toEqual([4, 5, 6]);
      expect(Array.from(await init.data())).toEqual([1, 2, 3]);
      next.dispose();
      expect(Array.from(await v.data())).toEqual([4, 5, 6]);
      const frozen = nt.variable(init, { trainable: false });
      expect(frozen.trainable).toBe(false);
      nt.dispose([init, v, frozen]);
    });

    it('assign() rejects another shape or dtype, naming the variable', () => {
      const v = nt.variable(nt.zeros([2, 3]), { name: 'kernel' });
      nt.tidy(() => {
        expect(() => v.assign(nt.zeros([3, 2]))).toThrow(/assign: variable 'kernel' is float32 \[2,3\], value is float32 \[3,2\]/);
        expect(() => v.assign(nt.zeros([2, 3], 'int32'))).toThrow(nt.ShapeError);
      });
      v.dispose();
    });

    it('repeated assigns inside tidy do not leak', () => {
      const init = nt.zeros([64]);
      const v = nt.variable(init);
      init.dispose(); // the variable keeps the storage it shares
      const before = nt.memory();
      for (let i = 0; i < 5; i++) nt.tidy(() => v.assign(nt.add(v, 1)));
      // The last value is pending and holds the one before it until it is computed.
      nt.flush();
      expect(nt.memory()).toMatchObject({ numTensors: before.numTensors, bytesInUse: before.bytesInUse });
      v.dispose();
    });
  });
});
