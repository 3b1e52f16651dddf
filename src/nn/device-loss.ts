// What fit does when the WebGPU device is lost mid-training (destroyed, a driver reset): the
// model's variables move to CPU storage holding the last host copy, the optimizer's state, lost
// with the device, starts again, the step plans are dropped, and the error says what survived.
import type { Backend } from '../backend/backend.js';
import { cpuBackend } from '../backend/registry.js';
import { DeviceLostError } from '../errors.js';
import type { HostCopy } from './host-copy.js';
import type { History } from './training.js';
import type { BaseModel } from './model-base.js';

/**
 * Thrown by `fit` when the device was lost during training. The model's weights are the host
 * copy from step `weightsStep` of the call, now on the CPU (readable, savable); training goes on
 * after `setBackend('webgpu')` and another `fit`, with the optimizer's state started afresh.
 */
export class FitDeviceLostError extends DeviceLostError {
  constructor(
    message: string,
    /** 0-based epoch during which the loss was noticed. */
    readonly epoch: number,
    /** 0-based batch (within the epoch) during which the loss was noticed. */
    readonly batch: number,
    /** Steps this fit call had run when the loss was noticed. */
    readonly step: number,
    /** Steps of this call the restored weights include (0: the weights fit started with); null when none were kept. */
    readonly weightsStep: number | null,
    /** The epochs completed before it. */
    readonly history: History,
  ) {
    super(message);
  }
}

/** Where fit was when something failed: 0-based epoch and batch, and steps run in this call. */
export interface FitPosition {
  epoch: number;
  batch: number;
  step: number;
}

/** True when `error` comes from `backend` having lost its device. */
export function isDeviceLoss(error: unknown, backend: Backend): boolean {
  return error instanceof DeviceLostError || backend.lostReason !== null;
}

/** Re-homes the model after its device was lost and returns the error fit throws. */
export function recoverFromDeviceLoss(model: BaseModel, backend: Backend, copy: HostCopy | null, at: FitPosition, history: History): FitDeviceLostError {
  const restored = copy?.restoreOnto(cpuBackend()) ?? false;
  const optimizer = model.optimizer;
  if (optimizer?.variables?.().some((v) => v.backend === backend)) optimizer.dispose();
  model.stepPlans.dispose();
  const weightsStep = restored ? copy!.step : null;
  const weights = restored
    ? `The model's weights are the host copy read back ${weightsStep === 0 ? 'before the first step' : `after step ${weightsStep}`} of this call, now held on the CPU, so getWeights(), data() and save() work. `
    : `The model's weights were on the device and are lost (${copy ? 'the device was lost before fit read them back' : 'no host copy was kept: keepHostCopy was off'}); load or set them before training again. `;
  const message =
    `fit: the WebGPU device was lost (${backend.lostReason ?? 'unknown reason'}) during epoch ${at.epoch + 1}, batch ${at.batch + 1} (step ${at.step + 1} of this fit call). ` +
    weights +
    "The optimizer's state (its moments and step count) was lost with the device and starts again from its initial values. " +
    "Call setBackend('webgpu') and fit again to go on training.";
  return new FitDeviceLostError(message, at.epoch, at.batch, at.step, weightsStep, history);
}
