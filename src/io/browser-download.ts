// Saving a model as two browser downloads, NAME.json and NAME.weights.bin (the layout
// TF.js `downloads://` produces), which `browserFiles` or the file handler can load back.

import { toModelJson, type IOHandler, type ModelArtifacts } from './artifacts.js';
import { ModelIOError } from './errors.js';

/** How long object URLs stay valid after the click; some browsers fetch them lazily. */
const REVOKE_AFTER_MS = 60_000;

/** A save-only handler that downloads `NAME.json` and `NAME.weights.bin`. */
export function browserDownloads(name = 'model'): IOHandler {
  return { save: async (artifacts) => save(name, artifacts) };
}

function save(name: string, artifacts: ModelArtifacts): void {
  if (typeof document === 'undefined') {
    throw new ModelIOError(`downloads://${name}: saving as downloads needs a browser page (no document here)`);
  }
  const weightsName = `${name}.weights.bin`;
  // './' as TF.js writes it; loaders match shard files by their last path segment.
  const json = toModelJson(artifacts, `./${weightsName}`);
  download(new Blob([JSON.stringify(json)], { type: 'application/json' }), `${name}.json`);
  download(new Blob([artifacts.weightData], { type: 'application/octet-stream' }), weightsName);
}

function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.style.display = 'none';
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}
