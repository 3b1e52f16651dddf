// Saving models in the browser's IndexedDB (database `neurite-models`), keyed by name.
// Each model is one record written in one transaction, so a save is all-or-nothing.

import { checkArtifacts, type IOHandler, type ModelArtifacts } from './artifacts.js';
import { ModelIOError, reasonOf } from './errors.js';
import { checkWeightData, checkWeightSpecs } from './weights.js';

/** The IndexedDB database models are saved in. */
export const MODEL_DATABASE = 'neurite-models';
const STORE = 'models';
const VERSION = 1;

/** What is stored per model: the artifacts plus when they were saved. */
interface StoredModel extends ModelArtifacts {
  savedAt: string;
}

/**
 * A handler for the model stored under `name` (`indexeddb://NAME`). `factory` defaults
 * to the global `indexedDB`; pass another (e.g. a test double) to use it instead.
 */
export function indexedDbHandler(name: string, factory?: IDBFactory): IOHandler {
  const key = `indexeddb://${name}`;
  return {
    save: (artifacts) => save(name, key, artifacts, factory),
    load: () => load(name, key, factory),
  };
}

/** Deletes the model saved under `name`; resolves whether or not it existed. */
export async function deleteIndexedDbModel(name: string, factory?: IDBFactory): Promise<void> {
  const db = await openDatabase(factory, `indexeddb://${name}`);
  try {
    await transactionDone(db.transaction(STORE, 'readwrite'), (store) => store.delete(name), `indexeddb://${name}`);
  } finally {
    db.close();
  }
}

async function save(name: string, key: string, artifacts: ModelArtifacts, factory?: IDBFactory): Promise<void> {
  checkArtifacts(artifacts, key);
  const record: StoredModel = { ...artifacts, savedAt: new Date().toISOString() };
  const db = await openDatabase(factory, key);
  try {
    await transactionDone(db.transaction(STORE, 'readwrite'), (store) => store.put(record, name), key);
  } finally {
    db.close();
  }
}

async function load(name: string, key: string, factory?: IDBFactory): Promise<ModelArtifacts> {
  const db = await openDatabase(factory, key);
  let record: StoredModel | undefined;
  try {
    const tx = db.transaction(STORE, 'readonly');
    const request = tx.objectStore(STORE).get(name);
    await transactionDone(tx, () => request, key);
    record = request.result as StoredModel | undefined;
  } finally {
    db.close();
  }
  if (!record) throw new ModelIOError(`no model saved under ${key} (IndexedDB database '${MODEL_DATABASE}')`);
  // The store may have been written by an older version or another tool: check it.
  checkWeightSpecs(record.weightSpecs, key);
  checkWeightData(record.weightSpecs, record.weightData.byteLength, key);
  const { savedAt: _savedAt, ...artifacts } = record;
  return artifacts;
}

function openDatabase(factory: IDBFactory | undefined, key: string): Promise<IDBDatabase> {
  const idb = factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb) return Promise.reject(new ModelIOError(`${key}: IndexedDB is not available in this environment`));
  return new Promise((resolve, reject) => {
    const request = idb.open(MODEL_DATABASE, VERSION);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new ModelIOError(`${key}: cannot open IndexedDB database '${MODEL_DATABASE}': ${reasonOf(request.error)}`));
    request.onblocked = () => reject(new ModelIOError(`${key}: IndexedDB database '${MODEL_DATABASE}' is blocked by another open tab`));
  });
}

/** Runs `work` in `tx` and resolves when the transaction commits (not merely when the request succeeds). */
function transactionDone(tx: IDBTransaction, work: (store: IDBObjectStore) => IDBRequest, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(new ModelIOError(`${key}: IndexedDB transaction failed: ${reasonOf(tx.error)}`));
    tx.onabort = () => reject(new ModelIOError(`${key}: IndexedDB transaction aborted: ${reasonOf(tx.error)}`));
  });
}
