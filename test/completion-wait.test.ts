// The GPU wait that sleeps through most of a wait for work it has seen before (completion-wait.ts),
// driven by a fake clock: what it sleeps, when it starts the map, and what it remembers.
import { describe, expect, it } from 'vitest';
import { CompletionWait } from '../src/backend/webgpu/completion-wait.js';

function harness(enabled = true) {
  const clock = { t: 1000 };
  const events: string[] = [];
  const wait = new CompletionWait(
    enabled,
    async (ms) => {
      events.push(`sleep ${ms.toFixed(1)}`);
      clock.t += ms;
    },
    () => clock.t,
  );
  /** Submits `pipelines` as dispatches at the current time; the work takes `gpuMs` from there. */
  const step = async (pipelines: number[], gpuMs: number, workgroups = 8) => {
    for (const p of pipelines) wait.noteDispatch(p, workgroups, 1, 1);
    wait.noteSubmit();
    const doneAt = clock.t + gpuMs;
    return wait.wait(async () => {
      events.push(`start at +${(clock.t - (doneAt - gpuMs)).toFixed(1)}`);
      clock.t = Math.max(clock.t, doneAt); // polling until the work is done
      return 'mapped';
    });
  };
  return { clock, events, wait, step };
}

describe('CompletionWait', () => {
  it('polls the first time it sees some work; then sleeps 70 % of the time that took, then 90 % once a wait measured the work', async () => {
    const { events, step, wait } = harness();
    expect(await step([1, 2, 3], 500)).toBe('mapped');
    expect(events).toEqual(['start at +0.0']);
    events.length = 0;
    await step([1, 2, 3], 500); // the first time was measured polling throughout: a loose bound
    expect(events).toEqual(['sleep 350.0', 'start at +350.0']);
    events.length = 0;
    await step([1, 2, 3], 500); // that wait woke before the work was done: it measured the work
    expect(events).toEqual(['sleep 450.0', 'start at +450.0']);
    expect(wait.sleptMs).toBeCloseTo(800, 6);
  });

  it('counts the sleep from the first submit, so host time already spent is not slept again', async () => {
    const { clock, events, wait, step } = harness();
    await step([7], 100);
    events.length = 0;
    wait.noteDispatch(7, 8, 1, 1);
    wait.noteSubmit();
    clock.t += 30; // host work after the submit, while the GPU runs
    await wait.wait(async () => 'x');
    expect(events).toEqual(['sleep 40.0']);
  });

  it('sleeps less after waking to work already done, so work that got faster is soon slept right', async () => {
    const { events, step } = harness();
    await step([5], 200);
    await step([5], 200); // sleeps 140, polls to 200: measured
    await step([5], 200); // sleeps 180
    events.length = 0;
    await step([5], 100); // became faster: sleeps 180 and finds it done: 180 is only a bound
    await step([5], 100); // sleeps 70 % of 180 = 126, still done on waking
    await step([5], 100); // sleeps 70 % of 126 = 88.2, polls to 100: measured
    await step([5], 100);
    expect(events.filter((e) => e.startsWith('sleep'))).toEqual(['sleep 180.0', 'sleep 126.0', 'sleep 88.2', 'sleep 90.0']);
  });

  it('does not sleep for work it has not seen: other pipelines, other sizes, or no dispatches', async () => {
    const { events, step } = harness();
    await step([1, 2], 500);
    events.length = 0;
    await step([2, 1], 500);
    await step([1, 2], 500, 9);
    await step([], 500);
    await step([], 500);
    expect(events.filter((e) => e.startsWith('sleep'))).toEqual([]);
  });

  it('neither predicts nor records a wait queued behind another', async () => {
    const { events, wait, step } = harness();
    await step([4], 300);
    events.length = 0;
    let release!: () => void;
    const first = (async () => {
      wait.noteDispatch(4, 8, 1, 1);
      wait.noteSubmit();
      await wait.wait(() => new Promise<void>((resolve) => (release = resolve)));
    })();
    await Promise.resolve();
    await Promise.resolve();
    // A second read while the first is in flight: its time includes the first's work.
    wait.noteDispatch(4, 8, 1, 1);
    wait.noteSubmit();
    const second = wait.wait(async () => 'second');
    await Promise.resolve();
    release();
    await Promise.all([first, second]);
    expect(events.filter((e) => e.startsWith('sleep'))).toEqual(['sleep 210.0']);
  });

  it('does not sleep for waits shorter than a few milliseconds (a real GPU\'s steps)', async () => {
    const { events, step } = harness();
    await step([3], 4);
    events.length = 0;
    await step([3], 4);
    expect(events).toEqual(['start at +0.0']);
  });

  it('never sleeps when disabled (browsers, or sleepWhileWaiting: false)', async () => {
    const { events, step, wait } = harness(false);
    await step([1], 500);
    await step([1], 500);
    expect(events.some((e) => e.startsWith('sleep'))).toBe(false);
    expect(wait.sleptMs).toBe(0);
  });

  it('passes a failed map through, and the next wait still works', async () => {
    const { wait, step } = harness();
    wait.noteDispatch(1, 1, 1, 1);
    wait.noteSubmit();
    await expect(wait.wait(() => Promise.reject(new Error('map failed')))).rejects.toThrow('map failed');
    expect(await step([1], 10)).toBe('mapped');
  });
});
