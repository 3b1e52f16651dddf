// The model the page starts with when neither the URL nor the user chose one: the Keras tutorial
// CNN on a hardware GPU; the small TF.js tutorial CNN on a software adapter (SwiftShader, llvmpipe)
// or the CPU backend, where the Keras CNN trains far slower. The page shows the reason.

import type { BackendInfo, ModelKind, ModelOption } from './protocol.js';

export interface DefaultModel {
  kind: ModelKind;
  /** One sentence for the page: which model and why. */
  reason: string;
}

/**
 * Multiply-adds per digit of the forward pass, Keras CNN over TF.js CNN: convolutions
 * 26²·32·9 + 11²·64·288 + 3²·64·576 plus dense 576·64 + 64·10 = 2.79 M, against
 * 24²·8·25 + 8²·16·200 + 256·10 = 0.32 M.
 */
const WORK_RATIO = 9;
// Measured in the demo on SwiftShader (2 shared cores, 2,048 digits, batch 64, one epoch): the
// TF.js CNN trained at 443 samples/s in 6 s, the Keras CNN at 111 samples/s in 29 s.

/** The default model for `info`; the zoo's parameter counts come from the worker's list. */
export function defaultModel(info: BackendInfo, models: readonly ModelOption[]): DefaultModel {
  const count = (models.find((m) => m.kind === 'keras-cnn')?.params ?? 0).toLocaleString('en-US');
  const keras = `the Keras tutorial CNN (${count} parameters, about ${WORK_RATIO}× the multiply-adds per digit)`;
  if (info.backend === 'webgpu' && !info.software) {
    return {
      kind: 'keras-cnn',
      reason: `Keras tutorial CNN chosen: this adapter (${info.adapter ?? 'a GPU'}) is a hardware GPU, fast enough for its ${count} parameters.`,
    };
  }
  if (info.backend === 'webgpu') {
    return {
      kind: 'tfjs-cnn',
      reason: `Small TF.js tutorial CNN chosen: this adapter (${info.adapter ?? 'a software adapter'}) emulates a GPU on the CPU, where ${keras} trains far slower.`,
    };
  }
  return {
    kind: 'tfjs-cnn',
    reason: `Small TF.js tutorial CNN chosen: on the CPU backend ${keras} trains far slower.`,
  };
}
