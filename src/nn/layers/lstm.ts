// LSTM with TF.js's weight layout: kernel and recurrent kernel columns are the gates i, f, c, o
// side by side, so TF.js and Keras weights load as they are. Per step (σ the recurrent activation):
// z = x·W + h·U + b; i, f, o = σ(z_i, z_f, z_o); c = f·c + i·act(z_c); h = o·act(c).
import { add, mul } from '../../ops/binary.js';
import { ones } from '../../ops/create.js';
import { matMul } from '../../ops/matmul.js';
import { concat } from '../../ops/transform.js';
import type { Tensor } from '../../tensor.js';
import { ConfigReader, resolveInitializer, type InitializerSpec } from './config.js';
import { registerLayer } from './layer.js';
import { GatedRecurrent, readGatedRecurrentArgs, type GatedRecurrentArgs, type States } from './recurrent.js';

/** Options of `layers.lstm`. */
export interface LSTMArgs extends GatedRecurrentArgs {
  /** Initialise the forget gate's bias to 1 (default true, as Keras). */
  unitForgetBias?: boolean;
}

/** Long short-term memory over [batch, steps, features]; its states are h and c. */
export class LSTM extends GatedRecurrent {
  readonly className = 'LSTM';
  readonly unitForgetBias: boolean;

  constructor(args: LSTMArgs) {
    super(args, 'LSTM', 4);
    this.unitForgetBias = args.unitForgetBias ?? true;
  }

  /** h and c. */
  protected override get stateCount(): number {
    return 2;
  }

  protected override biasInit(): InitializerSpec {
    const init = super.biasInit();
    if (!this.unitForgetBias) return init;
    const base = resolveInitializer(init, `LSTM '${this.name}' bias`);
    const u = this.units;
    return (_shape, options) => concat([base([u], options), ones([u]), base([2 * u], options)]);
  }

  protected step(projected: Tensor, states: States): Tensor[] {
    const z = states ? add(projected, matMul(states[0], this.recurrentKernel!)) : projected;
    const [i, f, o] = [0, 1, 3].map((k) => this.sigma(this.gate(z, k)));
    const candidate = mul(i, this.act(this.gate(z, 2)));
    // c_0 = 0, so the first step keeps only the candidate.
    const c = states ? add(mul(f, states[1]), candidate) : candidate;
    return [mul(o, this.act(c)), c];
  }

  protected override cellConfig(): Record<string, unknown> {
    return { ...super.cellConfig(), unit_forget_bias: this.unitForgetBias };
  }

  static fromConfig(c: ConfigReader): LSTM {
    return new LSTM({
      ...readGatedRecurrentArgs(c),
      unitForgetBias: c.bool('unit_forget_bias', true),
    });
  }
}

registerLayer('LSTM', (c) => LSTM.fromConfig(c));
