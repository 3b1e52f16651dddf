// The last good copy of a model's weights on the host, kept by fit on backends whose memory can
// be lost (a WebGPU device): read back in the same transfer as the running loss, so a lost device
// costs the steps since that read and no more (see src/nn/device-loss.ts).
import type { Backend } from '../backend/backend.js';
import type { TypedArray } from '../dtype.js';
import { engine } from '../engine.js';
import type { Variable } from '../tensor.js';

/** Values of `variables` as last read back, and after which step of the fit call. */
export class HostCopy {
  private values: TypedArray[] | null = null;
  /** Steps of this fit call the copy includes (0: taken before the first step); -1 before any read. */
  step = -1;

  constructor(readonly variables: readonly Variable[]) {}

  /**
   * A copy for `backend`, or null where none is needed: a backend that reads synchronously holds
   * host memory already (the CPU), and `enabled` false leaves it off (fit's keepHostCopy).
   */
  static forBackend(backend: Backend, variables: readonly Variable[], enabled: boolean): HostCopy | null {
    return enabled && !backend.readSync ? new HostCopy(variables) : null;
  }

  /** Reads the variables now (before the first step). */
  async take(): Promise<void> {
    this.update(await engine.readAll(this.variables), 0);
  }

  /** Keeps `values` (read after `step` steps) unless a later copy is kept already. */
  update(values: TypedArray[], step: number): void {
    if (step < this.step) return;
    this.values = values;
    this.step = step;
  }

  /** Points each variable at host storage on `backend` holding the copy; false when there is none. */
  restoreOnto(backend: Backend): boolean {
    const values = this.values;
    if (!values) return false;
    this.variables.forEach((v, i) => engine.rehome(v, values[i], backend));
    return true;
  }
}
