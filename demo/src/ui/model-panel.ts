// Save and load: IndexedDB in the worker, downloads through the library's browserDownloads
// handler here on the page (a worker cannot click a link), files picked in the page.

import { browserDownloads } from '../../../src/io/index.js';
import type { LoadSource, ModelSummary, SaveResult, SaveTarget } from '../protocol.js';

/** The name models are stored under in IndexedDB and used for downloaded files. */
export const MODEL_NAME = 'neurite-mnist';

export interface ModelPanelElements {
  summary: HTMLElement;
  saveIdb: HTMLButtonElement;
  download: HTMLButtonElement;
  loadIdb: HTMLButtonElement;
  loadFiles: HTMLInputElement;
}

export interface ModelStore {
  save(target: SaveTarget): Promise<SaveResult>;
  load(source: LoadSource): Promise<ModelSummary>;
}

/** Buttons for saving and loading the model; reports through `say`. */
export class ModelPanel {
  constructor(
    private readonly el: ModelPanelElements,
    private readonly store: ModelStore,
    private readonly say: (text: string, error?: boolean) => void,
    private readonly loaded: (summary: ModelSummary) => void,
  ) {
    el.saveIdb.addEventListener('click', () => this.act('Saving…', () => this.saveIdb()));
    el.download.addEventListener('click', () => this.act('Preparing the download…', () => this.download()));
    el.loadIdb.addEventListener('click', () =>
      this.act('Loading…', () => this.load({ kind: 'indexeddb', name: MODEL_NAME }, `IndexedDB (${MODEL_NAME})`)),
    );
    el.loadFiles.addEventListener('change', () => {
      const files = [...(el.loadFiles.files ?? [])];
      el.loadFiles.value = '';
      if (files.length > 0) void this.act('Loading…', () => this.load({ kind: 'files', files }, files.map((f) => f.name).join(', ')));
    });
  }

  /** Enables saving once there is a model, and disables everything while `busy`. */
  setState(hasModel: boolean, busy: boolean): void {
    this.el.saveIdb.disabled = this.el.download.disabled = !hasModel || busy;
    this.el.loadIdb.disabled = this.el.loadFiles.disabled = busy;
  }

  showSummary(summary: ModelSummary): void {
    this.showText(summary.description);
  }

  showText(text: string): void {
    this.el.summary.textContent = text;
  }

  private async act(start: string, fn: () => Promise<void>): Promise<void> {
    this.say(start);
    try {
      await fn();
    } catch (err) {
      this.say((err as Error).message, true);
    }
  }

  private async saveIdb(): Promise<void> {
    await this.store.save({ kind: 'indexeddb', name: MODEL_NAME });
    this.say(`Saved in this browser (IndexedDB: ${MODEL_NAME}).`);
  }

  private async download(): Promise<void> {
    const { artifacts } = await this.store.save({ kind: 'downloads', name: MODEL_NAME });
    if (!artifacts) throw new Error('the worker returned no model to download');
    await browserDownloads(MODEL_NAME).save!(artifacts);
    this.say(`Downloaded ${MODEL_NAME}.json and ${MODEL_NAME}.weights.bin.`);
  }

  private async load(source: LoadSource, from: string): Promise<void> {
    const summary = await this.store.load(source);
    this.showSummary(summary);
    this.loaded(summary);
    this.say(`Loaded the model from ${from}.`);
  }
}
