// The page's handle on the training worker. It starts the worker, and ends it on demand (Reset)
// or when it dies of an uncaught error; calls in flight then reject with WorkerEnded instead of
// hanging forever (comlink never settles them), and the next start makes a fresh worker.

import * as Comlink from 'comlink';
import type { TrainerApi } from './protocol.js';

/** A call the worker could not answer because it was ended (reset, or crashed). */
export class WorkerEnded extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerEnded';
  }
}

type Promised<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** TrainerApi as the page calls it: every method answers with a promise. */
export type WorkerApi = { [K in keyof TrainerApi]: Promised<TrainerApi[K]> };

/** One worker at a time; `api` always talks to the current one. */
export class WorkerHost {
  private worker: Worker | null = null;
  private remote: Comlink.Remote<TrainerApi> | null = null;
  private end: ((e: WorkerEnded) => void) | null = null;
  private ended: Promise<never> = new Promise<never>(() => undefined);

  /** `onCrash` hears of a worker that died by itself (an uncaught error), after it was ended. */
  constructor(private readonly onCrash: (message: string) => void) {}

  /** Starts a worker (ending the current one, if any). */
  start(): void {
    this.stop('a new worker was started');
    const worker = new Worker(new URL('./worker/worker.ts', import.meta.url), { type: 'module' });
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      if (this.worker !== worker) return;
      const message = `The training worker failed: ${e.message || 'an uncaught error'}.`;
      this.stop(message);
      this.onCrash(message);
    });
    this.worker = worker;
    this.remote = Comlink.wrap<TrainerApi>(worker);
    this.ended = new Promise<never>((_, reject) => (this.end = reject));
    this.ended.catch(() => undefined); // rejected with no call in flight: nobody to tell
  }

  /** Ends the worker now, even in the middle of a step; calls in flight reject with WorkerEnded. */
  stop(reason: string): void {
    if (!this.worker) return;
    this.worker.terminate();
    this.remote?.[Comlink.releaseProxy]();
    this.worker = null;
    this.remote = null;
    this.end?.(new WorkerEnded(reason));
    this.end = null;
  }

  /** The current worker's API; each call settles, if not by the worker then when it is ended. */
  readonly api: WorkerApi = new Proxy({} as WorkerApi, {
    get: (_, method: string) =>
      (...args: unknown[]) => {
        const remote = this.remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>> | null;
        if (!remote) return Promise.reject(new WorkerEnded('the training worker is not running'));
        return Promise.race([remote[method](...args), this.ended]);
      },
  });
}
