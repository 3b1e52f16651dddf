// Errors of model saving and loading: ModelFormatError when the bytes or JSON are wrong,
// ModelIOError when they cannot be fetched or stored at all. Messages name the file or URL.

import { NeuriteError } from '../errors.js';

/** model.json or the weight data is malformed or does not match its manifest. */
export class ModelFormatError extends NeuriteError {
  constructor(message: string) {
    super(message);
    // Set explicitly: minifiers rename classes, and `new.target.name` would follow.
    this.name = 'ModelFormatError';
  }
}

/** A model file, shard, URL or stored entry could not be read or written. */
export class ModelIOError extends NeuriteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'ModelIOError';
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** A ModelFormatError whose message starts with where the data came from, if known. */
export function formatError(source: string | undefined, detail: string): ModelFormatError {
  return new ModelFormatError(source ? `${source}: ${detail}` : detail);
}

/** The message of any thrown value, for wrapping errors from the platform. */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
