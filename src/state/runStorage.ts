/**
 * Run history in IndexedDB (the plain API): one record per run in `runs` (config, result,
 * series; see runRecords.ts) and the model file text of a finished run in `modelFiles`, so that
 * listing runs never reads the (large) model files. Writes are queued and run one after another,
 * so a late flush never lands after the run's final record.
 */
import type { AnyRunRecord } from './runRecords';

export const DB_NAME = 'recsys-compression-lab';
export const RUNS_STORE = 'runs';
export const MODEL_FILES_STORE = 'modelFiles';

/** Storage cannot be used at all here (no IndexedDB, or it refused to open). */
export class StorageUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageUnavailableError';
  }
}

/** Whether `err` says the browser refused a write for lack of space. */
export function isQuotaError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  return (
    e.name === 'QuotaExceededError' || e.name === 'NS_ERROR_DOM_QUOTA_REACHED' || e.code === 22
  );
}

/** One entry read back from the runs store: its key and whatever value it holds. */
export interface StoredEntry {
  key: IDBValidKey;
  value: unknown;
}

/**
 * A stored model file: `file`, a Blob the browser keeps outside the page's heap (written and
 * read without the page's main thread copying it); rows written by earlier versions hold the
 * JSON `text` itself.
 */
interface ModelFileRow {
  id: number;
  file?: Blob;
  text?: string;
}

const OPEN_TIMEOUT_MS = 5000;

function requestDone<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

export class RunStorage {
  private db: Promise<IDBDatabase> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly factory: () => IDBFactory | undefined = defaultFactory) {}

  /** Opens (or creates) the database; rejects with StorageUnavailableError when it cannot. */
  open(): Promise<IDBDatabase> {
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      let idb: IDBFactory | undefined;
      try {
        idb = this.factory();
      } catch (err) {
        // Some browsers throw on merely reading `indexedDB` where storage is blocked.
        reject(new StorageUnavailableError(`IndexedDB is not accessible (${messageOf(err)})`));
        return;
      }
      if (!idb) {
        reject(new StorageUnavailableError('this browser offers no IndexedDB'));
        return;
      }
      const timer = setTimeout(
        () =>
          reject(new StorageUnavailableError('IndexedDB did not open (another tab may block it)')),
        OPEN_TIMEOUT_MS,
      );
      const fail = (message: string) => {
        clearTimeout(timer);
        reject(new StorageUnavailableError(message));
      };
      const openAt = (version?: number) => {
        let request: IDBOpenDBRequest;
        try {
          // Without a version: the current one, or a new database (version 1) with the stores.
          request = version === undefined ? idb.open(DB_NAME) : idb.open(DB_NAME, version);
        } catch (err) {
          fail(`IndexedDB refused to open (${messageOf(err)})`);
          return;
        }
        request.onupgradeneeded = () => {
          const db = request.result;
          for (const name of [RUNS_STORE, MODEL_FILES_STORE]) {
            if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: 'id' });
          }
        };
        request.onsuccess = () => {
          const db = request.result;
          // A database of this name without the lab's stores (made by something else): add them.
          if (
            !db.objectStoreNames.contains(RUNS_STORE) ||
            !db.objectStoreNames.contains(MODEL_FILES_STORE)
          ) {
            const next = db.version + 1;
            db.close();
            openAt(next);
            return;
          }
          clearTimeout(timer);
          // Another tab upgrading the schema: let it, this page writes no more.
          db.onversionchange = () => db.close();
          resolve(db);
        };
        request.onerror = () =>
          fail(`IndexedDB refused to open (${request.error?.message ?? 'unknown error'})`);
        request.onblocked = () => undefined; // the timeout above reports a lasting block
      };
      openAt();
    });
    return this.db;
  }

  /** Every entry of the runs store, as stored (validation is the caller's). */
  async readAll(): Promise<StoredEntry[]> {
    const db = await this.open();
    const tx = db.transaction(RUNS_STORE, 'readonly');
    const store = tx.objectStore(RUNS_STORE);
    const [keys, values] = await Promise.all([
      requestDone(store.getAllKeys()),
      requestDone(store.getAll()),
    ]);
    return keys.map((key, i) => ({ key, value: values[i] }));
  }

  /** Every key of the runs store (to keep new ids above them). */
  async keys(): Promise<IDBValidKey[]> {
    const db = await this.open();
    return requestDone(db.transaction(RUNS_STORE, 'readonly').objectStore(RUNS_STORE).getAllKeys());
  }

  /** Writes a run record; with `modelFile`, the model file too, in the same transaction. */
  putRun(record: AnyRunRecord, modelFile?: Blob): Promise<void> {
    return this.enqueue(async () => {
      const db = await this.open();
      const stores = modelFile === undefined ? [RUNS_STORE] : [RUNS_STORE, MODEL_FILES_STORE];
      const tx = db.transaction(stores, 'readwrite');
      tx.objectStore(RUNS_STORE).put(record);
      if (modelFile !== undefined) {
        const row: ModelFileRow = { id: record.id, file: modelFile };
        tx.objectStore(MODEL_FILES_STORE).put(row);
      }
      await transactionDone(tx);
    });
  }

  /** The stored model file text of run `id`, or null when none is stored. */
  async modelFile(id: number): Promise<string | null> {
    const db = await this.open();
    const row = await requestDone<unknown>(
      db.transaction(MODEL_FILES_STORE, 'readonly').objectStore(MODEL_FILES_STORE).get(id),
    );
    if (typeof row !== 'object' || row === null) return null;
    const { file, text } = row as ModelFileRow;
    if (file instanceof Blob) return file.text();
    return typeof text === 'string' ? text : null;
  }

  /** Deletes the runs (records and model files) under `keys`. */
  delete(keys: readonly IDBValidKey[]): Promise<void> {
    return this.enqueue(async () => {
      const db = await this.open();
      const tx = db.transaction([RUNS_STORE, MODEL_FILES_STORE], 'readwrite');
      for (const key of keys) {
        tx.objectStore(RUNS_STORE).delete(key);
        tx.objectStore(MODEL_FILES_STORE).delete(key);
      }
      await transactionDone(tx);
    });
  }

  /** Deletes every stored run and model file. */
  clear(): Promise<void> {
    return this.enqueue(async () => {
      const db = await this.open();
      const tx = db.transaction([RUNS_STORE, MODEL_FILES_STORE], 'readwrite');
      tx.objectStore(RUNS_STORE).clear();
      tx.objectStore(MODEL_FILES_STORE).clear();
      await transactionDone(tx);
    });
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function defaultFactory(): IDBFactory | undefined {
  return typeof indexedDB === 'undefined' ? undefined : indexedDB;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
