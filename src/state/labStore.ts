/**
 * The lab's UI state. Progress arrives from the worker a few times a second; the run controller
 * folds it into typed buffers and publishes here at most once per animation frame.
 */
import { create } from 'zustand';
import type {
  AsideProgress,
  BackendCalibration,
  BackendName,
  DatasetSummary,
  EngineInfo,
  EvaluationMetrics,
  ImportedModelCard,
  KeptRunInfo,
  MemoryInfo,
  MethodPoint,
  ModelSummary,
  PhaseInfo,
  RunConfig,
  RunResult,
  RunState,
  SnapshotInfo,
  TestMetrics,
} from '../../workers/protocol';
import type {
  SequenceModelCard,
  SequenceModelEvaluation,
  SeqRunResult,
} from '../../workers/sequence/seqProtocol';
import type { SeriesPoint, ValuePoint } from './seriesBuffer';
import type { RunStatus, StoredRunRecord, StoredSeqRunRecord } from './runRecords';
import {
  DEFAULT_RUN_CONFIG,
  forcedBackendFromUrl,
  formFromConfig,
  formFromUrl,
  type RunForm,
} from './runForm';

/** A run holds the engine: it is being prepared, trains, or is paused. */
export function isRunActive(state: RunState): boolean {
  return state === 'preparing' || state === 'running' || state === 'paused';
}

/** A run is active or still stopping: settings and loads wait for it. */
export function isRunBusy(state: RunState): boolean {
  return isRunActive(state) || state === 'stopping';
}

export type EngineStatus = 'starting' | 'ready' | 'restarting' | 'failed';

export interface RunView {
  id: number;
  state: RunState;
  config: RunConfig | null;
  dataset: DatasetSummary | null;
  lossPoints: SeriesPoint[];
  stepsDone: number;
  totalSteps: number;
  epoch: number;
  msPerStep: number;
  /** Seconds left at the wall-clock rate of the last 15 s (evaluations included), or null. */
  etaSeconds: number | null;
  firstLoss: number;
  lastLoss: number;
  evaluations: EvaluationMetrics[];
  test: TestMetrics | null;
  result: RunResult | null;
  error: string | null;
  /** The phases announced so far (the last one is the phase in progress). */
  phases: PhaseInfo[];
  /** The method's step series, decimated like the loss, by series id. */
  methodLines: Record<string, ValuePoint[]>;
  /** The latest value of each vector series. */
  methodVectors: Record<string, MethodVector>;
  /** The latest value of each histogram series. */
  methodHistograms: Record<string, MethodHistogram>;
  /** The latest value of each points series. */
  methodPoints: Record<string, MethodPoint[]>;
  /** Marks on the step axis: phase changes, snapshots, settings changed while training. */
  markers: { step: number; label: string }[];
  /** The snapshot events so far (a snapshot taken, or replaced by its retrained model). */
  snapshots: SnapshotInfo[];
  /** The retrain run while the run is paused ("Retrain now"), the latest one; null: none. */
  aside: AsideProgress | null;
}

export interface MethodVector {
  step: number;
  values: number[];
  labels: string[];
}

export interface MethodHistogram {
  step: number;
  edges: number[];
  counts: number[];
}

/** A run of the runs table: finished in this page, or restored from storage after a reload. */
export interface HistoryRun extends Pick<
  StoredRunRecord,
  | 'id'
  | 'name'
  | 'createdAt'
  | 'config'
  | 'result'
  | 'error'
  | 'lossPoints'
  | 'evaluations'
  | 'stepsDone'
  | 'seconds'
> {
  status: RunStatus;
  /** Restored from storage: the engine holds no model of it (Export reads the stored file). */
  restored: boolean;
  /** Its record is in storage. */
  saved: boolean;
  /** Its model file is in storage (Export works without the engine). */
  modelFileStored: boolean;
}

/** A run with a result: what the Compare panel and the Pareto chart show. */
export type FinishedRun = HistoryRun & { result: RunResult };

export function isFinishedRun(run: HistoryRun): run is FinishedRun {
  return run.result !== null;
}

/** A next-item run (NextItNet or CpRec) of the runs table, of this page or restored. */
export interface SeqHistoryRun extends Pick<
  StoredSeqRunRecord,
  | 'id'
  | 'name'
  | 'createdAt'
  | 'config'
  | 'dataset'
  | 'result'
  | 'error'
  | 'lossPoints'
  | 'evaluations'
  | 'stepsDone'
  | 'seconds'
> {
  status: RunStatus;
  /** Restored from storage: the engine holds no model of it (Export reads the stored file). */
  restored: boolean;
  /** Its record is in storage. */
  saved: boolean;
  /** Its model file is in storage (Export works without the engine). */
  modelFileStored: boolean;
}

export type FinishedSeqRun = SeqHistoryRun & { result: SeqRunResult };

export function isFinishedSeqRun(run: SeqHistoryRun): run is FinishedSeqRun {
  return run.result !== null;
}

/** What the lab stores (the line above the runs table). */
export interface StorageView {
  /** 'loading' until the stored runs are read; 'unavailable' when storage cannot be used. */
  status: 'loading' | 'ready' | 'unavailable';
  /** Runs (records) stored and the sum of their sizes. */
  runs: number;
  bytes: number;
  /** Why storage cannot be used, or why the last write was refused. */
  problem: string | null;
  /** Records skipped on load (not valid): the notice, and how many. */
  skipped: number;
  skippedNotice: string;
}

export interface Banner {
  id: number;
  kind: 'error' | 'info';
  message: string;
}

/** What Train would build with the form's settings, described by the engine before a run. */
export interface ModelPreview {
  modelLabel: string;
  summary: ModelSummary | null;
  error: string | null;
}

/** How the engine's backend is chosen, and what the last choice measured. */
export interface BackendChoiceView {
  /** 'auto' measures the model on every backend; a name forces that one (from the URL). */
  mode: BackendName | 'auto';
  /** The calibration behind the current auto choice (remembered: measured on an earlier run). */
  calibration: (BackendCalibration & { remembered: boolean }) | null;
  /** The progress line while measuring. */
  measuring: string | null;
}

export interface LabState {
  engineStatus: EngineStatus;
  engineInfo: EngineInfo | null;
  backendChoice: BackendChoiceView;
  memory: MemoryInfo | null;
  form: RunForm;
  /** The synthetic slice the form describes, shown before and during runs. */
  dataPreview: DatasetSummary | null;
  modelPreview: ModelPreview | null;
  run: RunView;
  /** Every click-through run of the runs table (finished, stopped, failed, interrupted), by id. */
  history: HistoryRun[];
  /** Every next-item run of the runs table, by id (ids are shared with `history`: one store). */
  seqHistory: SeqHistoryRun[];
  storage: StorageView;
  /** The run of the runs table whose card is open (its HistoryRun id), if any. */
  selectedRunId: number | null;
  /** Finished runs ticked in the runs table: the Compare panel overlays their curves. */
  comparedRunIds: number[];
  /** Finished runs whose models the worker still holds. */
  keptRuns: KeptRunInfo[];
  /** URL values that were not valid (the defaults were used instead). */
  urlNotices: string[];
  /**
   * The model files opened (the engine holds the last click-through one and the last sequence
   * one), their evaluations, and the last problem opening or evaluating one. The panel shows the
   * card of the kind opened last.
   */
  modelFile: {
    /** Which card the panel shows: the kind of the file opened last (null: none yet). */
    kind: 'ctr' | 'seq' | null;
    card: ImportedModelCard | null;
    evaluation: TestMetrics | null;
    seqCard: SequenceModelCard | null;
    seqEvaluation: SequenceModelEvaluation | null;
    /** The data seqEvaluation scored, in words ("the synthetic sequences (…)"). */
    seqEvaluatedOn: string;
    error: string | null;
    busy: boolean;
  };
  banner: Banner | null;
  setForm(id: string, value: string): void;
  /** Replaces the whole form (a config file opened, a run duplicated). */
  replaceForm(form: RunForm): void;
  resetForm(): void;
  showBanner(kind: Banner['kind'], message: string): void;
  dismissBanner(): void;
  /** Opens a run of the runs table (its card), or closes it with null. */
  openRun(id: number | null): void;
  /** Ticks or unticks a finished run for the overlaid curves. */
  toggleCompared(id: number): void;
}

export function emptyRun(id: number): RunView {
  return {
    id,
    state: 'idle',
    config: null,
    dataset: null,
    lossPoints: [],
    stepsDone: 0,
    totalSteps: 0,
    epoch: 0,
    msPerStep: 0,
    etaSeconds: null,
    firstLoss: Number.NaN,
    lastLoss: Number.NaN,
    evaluations: [],
    test: null,
    result: null,
    error: null,
    phases: [],
    methodLines: {},
    methodVectors: {},
    methodHistograms: {},
    methodPoints: {},
    markers: [],
    snapshots: [],
    aside: null,
  };
}

const initialUrl = formFromUrl(
  typeof location === 'undefined' ? '' : location.search,
  formFromConfig(DEFAULT_RUN_CONFIG),
);

let bannerId = 0;

export const useLabStore = create<LabState>()((set) => ({
  engineStatus: 'starting',
  engineInfo: null,
  backendChoice: {
    mode: forcedBackendFromUrl(typeof location === 'undefined' ? '' : location.search) ?? 'auto',
    calibration: null,
    measuring: null,
  },
  memory: null,
  form: initialUrl.form,
  dataPreview: null,
  modelPreview: null,
  run: emptyRun(0),
  history: [],
  seqHistory: [],
  storage: {
    status: 'loading',
    runs: 0,
    bytes: 0,
    problem: null,
    skipped: 0,
    skippedNotice: '',
  },
  selectedRunId: null,
  comparedRunIds: [],
  keptRuns: [],
  urlNotices: initialUrl.notices,
  modelFile: {
    kind: null,
    card: null,
    evaluation: null,
    seqCard: null,
    seqEvaluation: null,
    seqEvaluatedOn: '',
    error: null,
    busy: false,
  },
  banner: null,
  setForm: (id, value) => set((s) => ({ form: { ...s.form, [id]: value } })),
  replaceForm: (form) => set({ form }),
  resetForm: () => set({ form: formFromConfig(DEFAULT_RUN_CONFIG) }),
  showBanner: (kind, message) => set({ banner: { id: ++bannerId, kind, message } }),
  dismissBanner: () => set({ banner: null }),
  openRun: (id) => set({ selectedRunId: id }),
  toggleCompared: (id) =>
    set((s) => ({
      comparedRunIds: s.comparedRunIds.includes(id)
        ? s.comparedRunIds.filter((r) => r !== id)
        : [...s.comparedRunIds, id],
    })),
}));
