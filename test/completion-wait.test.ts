// The GPU wait that polls Dawn's Node binding slowly (completion-wait.ts), on a fake host: which
// callbacks it delays, from when, and that the global is put back.
import { describe, expect, it } from 'vitest';
import { CompletionWait, isBindingPoll, type PollHost } from '../src/backend/webgpu/completion-wait.js';

/** A host whose setImmediate and setTimeout record what they were given; time moves by hand. */
function harness(enabled = true) {
  const clock = { t: 1000 };
  const calls: string[] = [];
  const immediate = (cb: unknown) => calls.push(`immediate ${isBindingPoll(cb) ? 'poll' : 'other'}`);
  const host: PollHost = {
    setImmediate: immediate,
    setTimeout: (cb, ms) => calls.push(`timeout ${ms} ${isBindingPoll(cb) ? 'poll' : 'other'}`),
  };
  const wait = new CompletionWait(enabled, host, () => clock.t);
  return { clock, calls, host, immediate, wait };
}

// A native, anonymous function of no parameters, as the binding makes with Napi::Function::New.
const bindingPoll = Function.prototype.bind.call(function () {}, null) as () => void;
Object.defineProperty(bindingPoll, 'name', { value: '' });

describe('CompletionWait', () => {
  it('tells the binding\'s polls from other callbacks by their shape', () => {
    expect(isBindingPoll(bindingPoll)).toBe(true);
    expect(isBindingPoll(() => {})).toBe(false); // JavaScript
    expect(isBindingPoll(function named() {})).toBe(false);
    let resolve: unknown;
    void new Promise((r) => (resolve = r));
    expect(isBindingPoll(resolve)).toBe(false); // native, but takes an argument
    expect(isBindingPoll(Math.max)).toBe(false); // native, but named
    expect(isBindingPoll(undefined)).toBe(false);
  });

  it('polls at full rate for the first 2 ms of a wait, then through a 1 ms timer; other callbacks are left alone', async () => {
    const { clock, calls, host, immediate, wait } = harness();
    const value = await wait.wait(async () => {
      host.setImmediate(bindingPoll);
      clock.t += 2.5;
      host.setImmediate(bindingPoll);
      host.setImmediate(() => {});
      expect(host.setImmediate).not.toBe(immediate);
      return 'mapped';
    });
    expect(value).toBe('mapped');
    expect(calls).toEqual(['immediate poll', 'timeout 1 poll', 'immediate other']);
    expect(wait.delayedPolls).toBe(1);
    expect(host.setImmediate).toBe(immediate); // put back after the wait
  });

  it('stays installed until the last of overlapping waits ends, and puts back the original once', async () => {
    const { clock, calls, host, immediate, wait } = harness();
    let finishFirst!: () => void;
    const first = wait.wait(() => new Promise<void>((r) => (finishFirst = r)));
    const second = wait.wait(async () => {
      clock.t += 5;
      host.setImmediate(bindingPoll);
    });
    await second;
    expect(host.setImmediate).not.toBe(immediate);
    host.setImmediate(bindingPoll);
    finishFirst();
    await first;
    expect(host.setImmediate).toBe(immediate);
    expect(calls).toEqual(['timeout 1 poll', 'timeout 1 poll']);
  });

  it('leaves a setImmediate installed by someone else during the wait, which stops delaying once the wait ends; restores on failure', async () => {
    const { clock, calls, host, immediate, wait } = harness();
    let ours: PollHost['setImmediate'] | undefined;
    const theirs: PollHost['setImmediate'] = (cb, ...args) => ours!(cb, ...args); // wraps what it found
    await wait.wait(async () => {
      ours = host.setImmediate;
      host.setImmediate = theirs;
      clock.t += 5;
      host.setImmediate(bindingPoll);
    });
    expect(host.setImmediate).toBe(theirs);
    host.setImmediate(bindingPoll);
    expect(calls).toEqual(['timeout 1 poll', 'immediate poll']);
    host.setImmediate = immediate;
    await expect(wait.wait(() => Promise.reject(new Error('map failed')))).rejects.toThrow('map failed');
    expect(host.setImmediate).toBe(immediate);
  });

  it('keeps the properties of the original (util.promisify\'s custom form) while installed', async () => {
    const { host, wait } = harness();
    const custom = Symbol.for('nodejs.util.promisify.custom');
    Object.defineProperty(host.setImmediate, custom, { value: 'promisified' });
    await wait.wait(async () => {
      expect((host.setImmediate as unknown as Record<symbol, unknown>)[custom]).toBe('promisified');
    });
  });

  it('touches nothing when disabled (browsers, or sleepWhileWaiting: false)', async () => {
    const { clock, calls, host, immediate, wait } = harness(false);
    await wait.wait(async () => {
      clock.t += 10;
      expect(host.setImmediate).toBe(immediate);
      host.setImmediate(bindingPoll);
    });
    expect(calls).toEqual(['immediate poll']);
  });
});
