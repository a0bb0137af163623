/**
 * Keeps the runs table in storage: loads the stored runs on page load (skipping records that are
 * not valid, with a notice), writes a run's record while it goes and when it ends, and renames,
 * deletes and reads back model files. When storage is unavailable or refuses a write, runs go on
 * in memory and a banner says so once.
 */
import {
  MAX_NAME_LENGTH,
  MAX_STORED_EVALUATIONS,
  MAX_STORED_LOSS_POINTS,
  RECORD_VERSION,
  boundEvaluations,
  downsampleLoss,
  isSeqRecord,
  nextRunId,
  recordBytes,
  restoredRecord,
  skippedNotice,
  totalStoredBytes,
  validateRunRecord,
  type AnyRunRecord,
  type StoredRunRecord,
  type StoredSeqRunRecord,
} from './runRecords';
import { isQuotaError, RunStorage, StorageUnavailableError } from './runStorage';
import { useLabStore, type HistoryRun, type SeqHistoryRun, type StorageView } from './labStore';

/** Model files above this size are not stored (the run is, and stays exportable while kept). */
export const MAX_STORED_MODEL_FILE_BYTES = 256 * 1024 * 1024;
/** How long a new run waits for the stored ids before it numbers itself from memory. */
const ID_WAIT_MS = 1500;

export function historyRunOf(record: StoredRunRecord, restored: boolean): HistoryRun {
  return {
    id: record.id,
    name: record.name,
    status: record.status === 'running' ? 'interrupted' : record.status,
    createdAt: record.createdAt,
    config: record.config,
    result: record.result,
    error: record.error,
    lossPoints: record.lossPoints,
    evaluations: record.evaluations,
    stepsDone: record.stepsDone,
    ...(record.seconds === undefined ? {} : { seconds: record.seconds }),
    restored,
    saved: true,
    modelFileStored: record.modelFileBytes > 0,
  };
}

export function seqHistoryRunOf(record: StoredSeqRunRecord, restored: boolean): SeqHistoryRun {
  return {
    id: record.id,
    name: record.name,
    status: record.status === 'running' ? 'interrupted' : record.status,
    createdAt: record.createdAt,
    config: record.config,
    dataset: record.dataset,
    result: record.result,
    error: record.error,
    lossPoints: record.lossPoints,
    evaluations: record.evaluations,
    stepsDone: record.stepsDone,
    ...(record.seconds === undefined ? {} : { seconds: record.seconds }),
    restored,
    saved: true,
    modelFileStored: record.modelFileBytes > 0,
  };
}

/** The record of a run as it stands (series bounded). */
export function recordOf(
  run: Omit<HistoryRun, 'status' | 'restored' | 'saved' | 'modelFileStored'> & {
    status: StoredRunRecord['status'];
    totalSteps: number;
  },
  modelFileBytes = 0,
): StoredRunRecord {
  return {
    version: RECORD_VERSION,
    task: 'ctr',
    id: run.id,
    name: run.name,
    status: run.status,
    createdAt: run.createdAt,
    updatedAt: Date.now(),
    config: run.config,
    result: run.result,
    error: run.error,
    lossPoints: downsampleLoss(run.lossPoints, MAX_STORED_LOSS_POINTS),
    evaluations: boundEvaluations(run.evaluations, MAX_STORED_EVALUATIONS),
    stepsDone: run.stepsDone,
    totalSteps: run.totalSteps,
    modelFileBytes,
    ...(run.seconds === undefined ? {} : { seconds: run.seconds }),
  };
}

/** The record of a next-item run as it stands (series bounded). */
export function seqRecordOf(
  run: Omit<SeqHistoryRun, 'status' | 'restored' | 'saved' | 'modelFileStored'> & {
    status: StoredSeqRunRecord['status'];
    totalSteps: number;
  },
  modelFileBytes = 0,
): StoredSeqRunRecord {
  return {
    version: RECORD_VERSION,
    task: 'seq',
    id: run.id,
    name: run.name,
    status: run.status,
    createdAt: run.createdAt,
    updatedAt: Date.now(),
    config: run.config,
    dataset: run.dataset,
    result: run.result,
    error: run.error,
    lossPoints: downsampleLoss(run.lossPoints, MAX_STORED_LOSS_POINTS),
    evaluations: boundEvaluations(run.evaluations, MAX_STORED_EVALUATIONS),
    stepsDone: run.stepsDone,
    totalSteps: run.totalSteps,
    modelFileBytes,
    ...(run.seconds === undefined ? {} : { seconds: run.seconds }),
  };
}

/** Every id of the runs table (both tasks). */
function tableIds(): number[] {
  const { history, seqHistory } = useLabStore.getState();
  return [...history.map((r) => r.id), ...seqHistory.map((r) => r.id)];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class RunHistoryController {
  /** The records in storage (as last written), by id. */
  private readonly records = new Map<number, AnyRunRecord>();
  private readonly sizes = new Map<number, number>();
  private skippedKeys: IDBValidKey[] = [];
  /** Runs deleted in this page (a write still queued for one is undone). */
  private readonly deleted = new Set<number>();
  private highestStoredId = 0;
  private unavailable = false;
  private told = false;
  private loading: Promise<void> | null = null;

  constructor(private readonly storage = new RunStorage()) {}

  /** Reads the stored runs into the runs table (once). */
  load(): Promise<void> {
    this.loading ??= this.readStored();
    return this.loading;
  }

  private async readStored(): Promise<void> {
    let entries;
    try {
      entries = await this.storage.readAll();
    } catch (err) {
      this.refused(err);
      return;
    }
    const runs: HistoryRun[] = [];
    const seqRuns: SeqHistoryRun[] = [];
    const reasons: string[] = [];
    const fixed: AnyRunRecord[] = [];
    this.skippedKeys = [];
    for (const { key, value } of entries) {
      if (typeof key === 'number') this.highestStoredId = Math.max(this.highestStoredId, key);
      let check;
      try {
        check = validateRunRecord(value, key);
      } catch (err) {
        check = { ok: false as const, reason: `record ${String(key)}: ${messageOf(err)}` };
      }
      if (!check.ok) {
        reasons.push(check.reason);
        this.skippedKeys.push(key);
        continue;
      }
      const { record, changed } = restoredRecord(check.record);
      if (changed) fixed.push(record);
      this.remember(record);
      if (isSeqRecord(record)) seqRuns.push(seqHistoryRunOf(record, true));
      else runs.push(historyRunOf(record, true));
    }
    runs.sort((a, b) => a.id - b.id);
    seqRuns.sort((a, b) => a.id - b.id);
    useLabStore.setState((s) => {
      // Runs of this page that finished while storage was read stay (after the stored ones).
      const stored = new Set([...runs, ...seqRuns].map((r) => r.id));
      const fresh = s.history.filter((r) => !stored.has(r.id));
      const freshSeq = s.seqHistory.filter((r) => !stored.has(r.id));
      return {
        history: [...runs, ...fresh],
        seqHistory: [...seqRuns, ...freshSeq],
        storage: {
          ...s.storage,
          status: this.unavailable ? 'unavailable' : 'ready',
          skipped: reasons.length,
          skippedNotice: skippedNotice(reasons),
        },
      };
    });
    this.publishUsage();
    // A run cut off by the last reload is stored as interrupted from now on.
    for (const record of fixed) this.write(record);
  }

  /**
   * The id of the next run: above this page's last id and every stored id. Waits a little for
   * storage, never long (a run must not hang on it).
   */
  async nextId(current: number): Promise<number> {
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, ID_WAIT_MS));
    const stored = (async () => {
      await this.load();
      if (this.unavailable) return [];
      // Another tab may have stored runs since this page loaded.
      return this.storage.keys().catch(() => []);
    })();
    const keys = await Promise.race([stored, timeout.then(() => [] as IDBValidKey[])]);
    const local = [...this.records.keys(), ...tableIds()];
    return nextRunId(Math.max(current, this.highestStoredId), [...keys, ...local]);
  }

  /** Writes the record of a run in progress (status 'running'); errors are reported, once. */
  saveRunning(record: AnyRunRecord): void {
    this.write(record);
  }

  /**
   * Writes a run's final record, then (for a run with a result) its model file once `modelFile`
   * resolves. The record is written first, so a reload right after keeps the run even if the
   * model file is large or refused.
   */
  async saveFinal(record: AnyRunRecord, modelFile?: Promise<Blob | null>): Promise<void> {
    await this.write(record);
    if (!modelFile || this.unavailable) return;
    let file: Blob | null;
    try {
      file = await modelFile;
    } catch {
      file = null; // the model is not exportable; the run is stored without its file
    }
    if (file === null || !this.records.has(record.id)) return;
    const bytes = file.size;
    if (bytes > MAX_STORED_MODEL_FILE_BYTES) return;
    const current = this.records.get(record.id) ?? record;
    const withFile = { ...current, updatedAt: Date.now(), modelFileBytes: bytes };
    const ok = await this.write(withFile, file);
    if (ok) this.patchRun(record.id, { modelFileStored: true });
  }

  /** Renames a run (in the table, and in storage when it is stored). */
  rename(id: number, name: string): void {
    const clean = name.trim().slice(0, MAX_NAME_LENGTH);
    if (!clean) return;
    this.patchRun(id, { name: clean });
    const record = this.records.get(id);
    if (record) this.write({ ...record, name: clean, updatedAt: Date.now() });
  }

  /** Deletes a run from the table and from storage (its record and model file). */
  async remove(id: number): Promise<void> {
    this.dropFromTable([id]);
    if (!this.records.has(id)) return;
    this.forget(id);
    try {
      await this.storage.delete([id]);
    } catch (err) {
      this.refused(err);
    }
  }

  /** Deletes every run of the table and everything stored (skipped records included). */
  async removeAll(): Promise<void> {
    this.dropFromTable(tableIds());
    for (const id of [...this.records.keys()]) this.forget(id);
    this.skippedKeys = [];
    useLabStore.setState((s) => ({ storage: { ...s.storage, skipped: 0, skippedNotice: '' } }));
    if (this.unavailable) return;
    try {
      await this.storage.clear();
    } catch (err) {
      this.refused(err);
    }
  }

  /** Deletes the records that were skipped on load (not valid). */
  async removeSkipped(): Promise<void> {
    const keys = this.skippedKeys;
    this.skippedKeys = [];
    useLabStore.setState((s) => ({ storage: { ...s.storage, skipped: 0, skippedNotice: '' } }));
    if (keys.length === 0 || this.unavailable) return;
    try {
      await this.storage.delete(keys);
    } catch (err) {
      this.refused(err);
    }
  }

  /** The stored model file of run `id`, or null. */
  async modelFile(id: number): Promise<string | null> {
    if (this.unavailable) return null;
    return this.storage.modelFile(id);
  }

  /** Writes a record (and a model file); false when storage refused it. */
  private async write(record: AnyRunRecord, modelFile?: Blob): Promise<boolean> {
    if (this.unavailable) return false;
    try {
      await this.storage.putRun(record, modelFile);
    } catch (err) {
      this.refused(err);
      return false;
    }
    // A run deleted while its write was queued stays deleted.
    if (this.deleted.has(record.id)) {
      void this.storage.delete([record.id]).catch(() => undefined);
      return false;
    }
    this.remember(record);
    this.patchRun(record.id, { saved: true });
    this.publishUsage();
    return true;
  }

  private remember(record: AnyRunRecord): void {
    this.records.set(record.id, record);
    this.sizes.set(record.id, recordBytes(record));
    this.highestStoredId = Math.max(this.highestStoredId, record.id);
  }

  private forget(id: number): void {
    this.records.delete(id);
    this.sizes.delete(id);
    this.publishUsage();
  }

  private dropFromTable(ids: number[]): void {
    for (const id of ids) this.deleted.add(id);
    const gone = new Set(ids);
    useLabStore.setState((s) => ({
      history: s.history.filter((r) => !gone.has(r.id)),
      seqHistory: s.seqHistory.filter((r) => !gone.has(r.id)),
      selectedRunId: s.selectedRunId !== null && gone.has(s.selectedRunId) ? null : s.selectedRunId,
      comparedRunIds: s.comparedRunIds.filter((r) => !gone.has(r)),
    }));
  }

  /** Patches the table's entry of run `id` (either task) with fields both kinds have. */
  private patchRun(
    id: number,
    patch: Partial<Pick<HistoryRun, 'name' | 'saved' | 'modelFileStored'>>,
  ): void {
    useLabStore.setState((s) => {
      if (s.history.some((r) => r.id === id))
        return { history: s.history.map((r) => (r.id === id ? { ...r, ...patch } : r)) };
      if (s.seqHistory.some((r) => r.id === id))
        return { seqHistory: s.seqHistory.map((r) => (r.id === id ? { ...r, ...patch } : r)) };
      return {};
    });
  }

  private publishUsage(): void {
    const runs = this.sizes.size;
    const bytes = totalStoredBytes(this.sizes);
    useLabStore.setState((s) => ({ storage: { ...s.storage, runs, bytes } }));
  }

  /** Storage could not be used or refused a write: say so once; runs go on in memory. */
  private refused(err: unknown): void {
    let problem: string;
    let patch: Partial<StorageView>;
    if (err instanceof StorageUnavailableError) {
      this.unavailable = true;
      problem = `Runs cannot be stored in this browser (${err.message}); they are kept in memory until the page closes.`;
      patch = { status: 'unavailable', problem };
    } else if (isQuotaError(err)) {
      problem =
        'Storage is full: the run goes on in memory but is not stored. Delete stored runs to make room.';
      patch = { problem };
    } else {
      problem = `A run could not be stored (${messageOf(err)}); it goes on in memory.`;
      patch = { problem };
    }
    useLabStore.setState((s) => ({ storage: { ...s.storage, ...patch } }));
    if (!this.told) {
      this.told = true;
      useLabStore.getState().showBanner('info', problem);
    }
  }
}

export const runHistory = new RunHistoryController();
