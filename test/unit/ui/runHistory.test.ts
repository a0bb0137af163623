import { beforeEach, describe, expect, it } from 'vitest';
import { useLabStore, type HistoryRun } from '../../../src/state/labStore';
import { historyRunOf, RunHistoryController } from '../../../src/state/runHistory';
import { recordBytes, type StoredRunRecord } from '../../../src/state/runRecords';
import { StorageUnavailableError, type RunStorage } from '../../../src/state/runStorage';
import { record } from './runFixtures';

/** RunStorage's surface over two maps (the IndexedDB module itself needs a browser). */
class FakeStorage {
  readonly runs = new Map<IDBValidKey, unknown>();
  readonly models = new Map<number, Blob>();
  readError: unknown = null;
  writeError: unknown = null;
  writes = 0;

  async readAll() {
    if (this.readError) throw this.readError;
    return [...this.runs].map(([key, value]) => ({ key, value: structuredClone(value) }));
  }
  async keys() {
    if (this.readError) throw this.readError;
    return [...this.runs.keys()];
  }
  async putRun(r: StoredRunRecord, modelFile?: Blob) {
    this.writes++;
    if (this.writeError) throw this.writeError;
    this.runs.set(r.id, structuredClone(r));
    if (modelFile !== undefined) this.models.set(r.id, modelFile);
  }
  async modelFile(id: number) {
    return (await this.models.get(id)?.text()) ?? null;
  }
  async delete(keys: readonly IDBValidKey[]) {
    for (const k of keys) {
      this.runs.delete(k);
      this.models.delete(k as number);
    }
  }
  async clear() {
    this.runs.clear();
    this.models.clear();
  }
}

function setup(storage = new FakeStorage()) {
  const controller = new RunHistoryController(storage as unknown as RunStorage);
  return { storage, controller };
}

const state = () => useLabStore.getState();
const statuses = () => state().history.map((r) => [r.id, r.status]);

beforeEach(() => {
  useLabStore.setState({
    history: [],
    banner: null,
    selectedRunId: null,
    comparedRunIds: [],
    storage: { status: 'loading', runs: 0, bytes: 0, problem: null, skipped: 0, skippedNotice: '' },
  });
});

describe('loading stored runs', () => {
  it('restores valid runs, marks a running one interrupted and skips a corrupt one', async () => {
    const { storage, controller } = setup();
    const finished = record({ id: 1 });
    const running = record({ id: 2, status: 'running', result: null });
    storage.runs.set(1, finished);
    storage.runs.set(2, running);
    storage.runs.set(9, { id: 9, version: 1, status: 'bogus' });
    await controller.load();
    expect(statuses()).toEqual([
      [1, 'finished'],
      [2, 'interrupted'],
    ]);
    expect(state().history.every((r) => r.restored && r.saved)).toBe(true);
    expect(state().history[1].lossPoints).toEqual(running.lossPoints);
    expect(state().storage.status).toBe('ready');
    expect(state().storage.skipped).toBe(1);
    expect(state().storage.skippedNotice).toMatch(/^1 stored run record was skipped.*record #9/);
    // Only the valid records count, with their sizes.
    expect(state().storage.runs).toBe(2);
    const interrupted = { ...running, status: 'interrupted' as const };
    expect(state().storage.bytes).toBe(recordBytes(finished) + recordBytes(interrupted));
    // The interrupted run is stored as such for the next load.
    await expect.poll(() => (storage.runs.get(2) as StoredRunRecord).status).toBe('interrupted');
    // The skipped record can be deleted.
    await controller.removeSkipped();
    expect(storage.runs.has(9)).toBe(false);
    expect(state().storage.skipped).toBe(0);
  });

  it('numbers new runs above every stored id, from 1 when nothing is stored', async () => {
    const empty = setup();
    expect(await empty.controller.nextId(0)).toBe(1);
    const { storage, controller } = setup();
    storage.runs.set(3, record({ id: 3 }));
    storage.runs.set(5, record({ id: 5 }));
    expect(await controller.nextId(0)).toBe(6);
    expect(await controller.nextId(8)).toBe(9);
  });
});

describe('saving runs', () => {
  const finishedRun = (r: StoredRunRecord): HistoryRun => ({
    ...historyRunOf(r, false),
    saved: false,
    modelFileStored: false,
  });

  it('stores the final record, then the model file, and counts both', async () => {
    const { storage, controller } = setup();
    await controller.load();
    const r = record({ id: 1 });
    useLabStore.setState({ history: [finishedRun(r)] });
    // The engine hands the file over as a Blob; its size is counted in bytes (é takes two).
    const text = '{"format":"recsys-lab-model","é":1}';
    await controller.saveFinal(r, Promise.resolve(new Blob([text])));
    expect(await storage.models.get(1)?.text()).toBe(text);
    expect((storage.runs.get(1) as StoredRunRecord).modelFileBytes).toBe(text.length + 1);
    expect(state().history[0]).toMatchObject({ saved: true, modelFileStored: true });
    expect(state().storage.runs).toBe(1);
    expect(state().storage.bytes).toBe(recordBytes(storage.runs.get(1) as StoredRunRecord));
    expect(await controller.modelFile(1)).toBe(text);
  });

  it('stores a run without its file when the engine cannot export it', async () => {
    const { storage, controller } = setup();
    await controller.load();
    const r = record({ id: 1 });
    useLabStore.setState({ history: [finishedRun(r)] });
    await controller.saveFinal(r, Promise.reject(new Error('freed')));
    expect(storage.runs.has(1)).toBe(true);
    expect(storage.models.has(1)).toBe(false);
    expect(state().history[0]).toMatchObject({ saved: true, modelFileStored: false });
  });

  it('a full storage: the run stays in memory and the banner comes once', async () => {
    const { storage, controller } = setup();
    await controller.load();
    storage.writeError = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const r = record({ id: 1 });
    useLabStore.setState({ history: [finishedRun(r)] });
    controller.saveRunning(record({ id: 1, status: 'running', result: null }));
    await controller.saveFinal(r, Promise.resolve(new Blob(['{}'])));
    const banner = state().banner;
    expect(banner?.message).toMatch(/Storage is full/);
    controller.saveRunning(record({ id: 2, status: 'running', result: null }));
    await controller.saveFinal(record({ id: 2 }));
    expect(state().banner).toBe(banner);
    expect(state().history[0]).toMatchObject({ id: 1, saved: false });
    expect(state().storage.problem).toMatch(/Storage is full/);
    expect(storage.runs.size).toBe(0);
  });

  it('no storage at all: status unavailable, one banner, no writes tried', async () => {
    const { storage, controller } = setup();
    storage.readError = new StorageUnavailableError('this browser offers no IndexedDB');
    await controller.load();
    expect(state().storage.status).toBe('unavailable');
    expect(state().banner?.message).toMatch(/cannot be stored.*kept in memory/);
    controller.saveRunning(record({ id: 1, status: 'running', result: null }));
    await controller.saveFinal(record({ id: 1 }), Promise.resolve(new Blob(['{}'])));
    expect(storage.writes).toBe(0);
    expect(await controller.nextId(0)).toBe(1);
  });
});

describe('table actions', () => {
  it('rename, delete and delete all reach storage', async () => {
    const { storage, controller } = setup();
    for (const id of [1, 2, 3]) storage.runs.set(id, record({ id }));
    storage.models.set(2, new Blob(['{}']));
    await controller.load();
    controller.rename(1, '  baseline  ');
    expect(state().history[0].name).toBe('baseline');
    await expect.poll(() => (storage.runs.get(1) as StoredRunRecord).name).toBe('baseline');
    controller.rename(1, '   ');
    expect(state().history[0].name).toBe('baseline');

    useLabStore.setState({ selectedRunId: 2, comparedRunIds: [2, 3] });
    await controller.remove(2);
    expect(statuses()).toEqual([
      [1, 'finished'],
      [3, 'finished'],
    ]);
    expect(storage.runs.has(2) || storage.models.has(2)).toBe(false);
    expect(state().selectedRunId).toBeNull();
    expect(state().comparedRunIds).toEqual([3]);
    expect(state().storage.runs).toBe(2);

    await controller.removeAll();
    expect(state().history).toEqual([]);
    expect(storage.runs.size).toBe(0);
    expect(state().storage).toMatchObject({ runs: 0, bytes: 0 });
  });
});
