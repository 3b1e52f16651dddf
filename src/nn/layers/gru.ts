// GRU with TF.js's weight layout: kernel and recurrent kernel columns are the gates z, r, h side
// by side. Per step (σ the recurrent activation): z, r = σ(x·W_zr + h·U_zr + b_zr);
// h̃ = act(x·W_h + (r·h)·U_h + b_h), or with resetAfter (Keras's CuDNN-compatible form, bias
// [2, 3·units]: input and recurrent rows) h̃ = act(x·W_h + b_h + r·(h·U_h + b'_h)); h = z·h + (1 − z)·h̃.
import { ArgumentError } from '../../errors.js';
import { add, mul, sub } from '../../ops/binary.js';
import { zeros } from '../../ops/create.js';
import { matMul } from '../../ops/matmul.js';
import { reshape, slice } from '../../ops/transform.js';
import type { Tensor } from '../../tensor.js';
import { ConfigReader } from './config.js';
import { registerLayer } from './layer.js';
import { GatedRecurrent, readGatedRecurrentArgs, type GatedRecurrentArgs, type States } from './recurrent.js';

/** Options of `layers.gru`. */
export interface GRUArgs extends GatedRecurrentArgs {
  /**
   * Apply the reset gate after the recurrent matMul, with separate input and recurrent biases
   * (Keras 2.x/3's default). Default false, as TF.js, which supports only false.
   */
  resetAfter?: boolean;
}

/** Gated recurrent unit over [batch, steps, features]. */
export class GRU extends GatedRecurrent {
  readonly className = 'GRU';
  readonly resetAfter: boolean;

  constructor(args: GRUArgs) {
    super(args, 'GRU', 3);
    this.resetAfter = args.resetAfter ?? false;
    if (typeof this.resetAfter !== 'boolean') throw new ArgumentError(`GRU '${this.name}': resetAfter should be true or false, got ${JSON.stringify(args.resetAfter)}`);
  }

  protected override biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }

  /** Row `row` of a resetAfter bias [2, 3·units]. */
  private biasRow(row: number): Tensor {
    return reshape(slice(this.bias!, { begin: [row, 0], size: [1, 3 * this.units] }), [3 * this.units]);
  }

  protected override inputBias(): Tensor | null {
    return this.bias && this.resetAfter ? this.biasRow(0) : this.bias;
  }

  protected step(projected: Tensor, states: States): Tensor[] {
    const u = this.units;
    const U = this.recurrentKernel!;
    // h_0 = 0; a zero state keeps one formula (resetAfter's recurrent bias counts at the first step too).
    const h = states?.[0] ?? zeros([projected.shape[0], u]);
    // The recurrent terms of z and r (and, with resetAfter, of h̃ before the reset gate).
    let inner = matMul(h, this.resetAfter ? U : slice(U, { begin: [0, 0], size: [u, 2 * u] }));
    if (this.resetAfter && this.bias) inner = add(inner, this.biasRow(1));
    const z = this.sigma(add(this.gate(projected, 0), this.gate(inner, 0)));
    const r = this.sigma(add(this.gate(projected, 1), this.gate(inner, 1)));
    const recurrentH = this.resetAfter ? mul(r, this.gate(inner, 2)) : matMul(mul(r, h), slice(U, { begin: [0, 2 * u], size: [u, u] }));
    const candidate = this.act(add(this.gate(projected, 2), recurrentH));
    // h = z·h + (1 − z)·h̃
    return [add(mul(z, h), mul(sub(1, z), candidate))];
  }

  protected override cellConfig(): Record<string, unknown> {
    return { ...super.cellConfig(), reset_after: this.resetAfter };
  }

  static fromConfig(c: ConfigReader): GRU {
    return new GRU({
      ...readGatedRecurrentArgs(c),
      resetAfter: c.bool('reset_after', false),
    });
  }
}

registerLayer('GRU', (c) => GRU.fromConfig(c));
