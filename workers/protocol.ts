/**
 * The contract between the UI (src/) and the engine worker (workers/).
 *
 * This module must stay free of tfjs and of DOM/worker globals: the main thread imports it at
 * runtime (defaults, validation) and imports the engine API as a type only.
 */

import type {
  ColumnPeek,
  DatasetLoadOptions,
  DatasetLoadProgress,
  LoadedDatasetInfo,
} from './datasetProtocol';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

import {
  checkOption,
  choiceOption,
  defaultsOf,
  flagOption,
  numberListOption,
  numberOption,
  validateOptions,
  type OptionSpec,
  type OptionValue,
  type OptionValues,
} from './options';
import type { MethodSpec } from './methods/methodSpec';
import type {
  SeqDatasetSummary,
  SeqEngineEvent,
  SequenceModelCard,
  SequenceModelEvaluation,
  SeqRunConfig,
  SeqRunResult,
} from './sequence/seqProtocol';

/** The settings of the built-in synthetic slice, declared once (see workers/options.ts). */
export const DATA_OPTIONS = {
  seed: numberOption({
    label: 'Data seed',
    help: 'Seed of the generator: the same seed gives the same rows',
    param: 'dseed',
    default: 7,
    min: 0,
    max: 2 ** 31 - 1,
    integer: true,
  }),
  numRows: numberOption({
    label: 'Rows',
    help: 'Rows generated (80% train, 10% validation, 10% test)',
    param: 'rows',
    default: 20000,
    min: 200,
    max: 2_000_000,
    integer: true,
  }),
  numFields: numberOption({
    label: 'Fields',
    help: 'Categorical fields: informative, pure noise and redundant copies',
    param: 'fields',
    default: 12,
    min: 4,
    max: 64,
    integer: true,
  }),
  maxCardinality: numberOption({
    label: 'Largest cardinality',
    help: 'Values of the largest field; the others spread log-uniformly down to ~20',
    param: 'card',
    default: 100000,
    min: 20,
    max: 5_000_000,
    integer: true,
  }),
};

export type SyntheticDataConfig = OptionValues<typeof DATA_OPTIONS>;

/** Every training setting, declared once: the config type, defaults, form, URL and validation. */
export const TRAIN_OPTIONS = {
  model: choiceOption({
    label: 'Model',
    help: 'The ranking model to train and compress',
    param: 'model',
    default: 'deepfm',
    choices: [
      { value: 'deepfm', label: 'DeepFM' },
      { value: 'fm', label: 'FM' },
      { value: 'widedeep', label: 'Wide & Deep' },
      { value: 'autoint', label: 'AutoInt (+DNN)' },
      { value: 'dlrm', label: 'DLRM (MLP = top MLP)' },
    ],
  }),
  embeddingDim: numberOption({
    label: 'Embedding dim',
    help: 'Width d of every field embedding',
    param: 'dim',
    default: 8,
    min: 1,
    max: 256,
    integer: true,
  }),
  mlpLayers: numberListOption({
    label: 'MLP layers',
    help: 'Hidden sizes, e.g. 400-400-400 (DLRM: its top MLP before the logit)',
    param: 'mlp',
    default: [64, 32],
    min: 1,
    max: 4096,
    integer: true,
    minLength: 0,
    maxLength: 8,
    separator: '-',
  }),
  dropout: numberOption({
    label: 'Dropout',
    help: 'Dropout after each MLP layer',
    param: 'dropout',
    default: 0.2,
    min: 0,
    max: 0.95,
    integer: false,
  }),
  batchNorm: flagOption({
    label: 'Batch norm',
    help: 'BatchNorm after each MLP layer, as the PEP code',
    param: 'bn',
    default: true,
  }),
  epochs: numberOption({
    label: 'Epochs',
    help: 'Passes over the training split',
    param: 'epochs',
    default: 4,
    min: 1,
    max: 1000,
    integer: true,
  }),
  maxSteps: numberOption({
    label: 'Step budget',
    help: '0 = every epoch; otherwise stop after this many steps',
    param: 'steps',
    default: 0,
    min: 0,
    max: 100_000_000,
    integer: true,
  }),
  batchSize: numberOption({
    label: 'Batch size',
    help: 'Rows per training step',
    param: 'batch',
    default: 256,
    min: 1,
    max: 65536,
    integer: true,
  }),
  learningRate: numberOption({
    label: 'Learning rate',
    help: 'Step size of both optimizers (can be changed while training)',
    param: 'lr',
    default: 0.003,
    min: 0,
    max: 10,
    integer: false,
    minInclusive: false,
    live: true,
  }),
  weightDecay: numberOption({
    label: 'Weight decay',
    help: 'L2 decay on every parameter, embeddings included',
    param: 'wd',
    default: 1e-6,
    min: 0,
    max: 1,
    integer: false,
  }),
  denseOptimizer: choiceOption({
    label: 'Optimizer (dense)',
    help: 'Optimizer of the device parameters, with torch semantics',
    param: 'opt',
    default: 'adam',
    choices: [
      { value: 'adam', label: 'Adam (torch: decay in gradient)' },
      { value: 'adamw', label: 'AdamW (decoupled decay)' },
      { value: 'sgd', label: 'SGD' },
    ],
  }),
  momentum: numberOption({
    label: 'SGD momentum',
    help: 'Momentum of SGD (torch semantics)',
    param: 'momentum',
    default: 0,
    min: 0,
    max: 0.999,
    integer: false,
  }),
  gradClipNorm: numberOption({
    label: 'Clip grad norm',
    help: '0 = off; else the global gradient norm, embeddings included, is clipped to this',
    param: 'clip',
    default: 0,
    min: 0,
    max: 1e6,
    integer: false,
  }),
  lrSchedule: choiceOption({
    label: 'LR schedule',
    help: 'Learning rate over epochs',
    param: 'sched',
    default: 'constant',
    choices: [
      { value: 'constant', label: 'constant' },
      { value: 'step', label: 'step (halve each epoch)' },
      { value: 'cosine', label: 'cosine to 0' },
    ],
  }),
  evalEverySteps: numberOption({
    label: 'Evaluate every (steps)',
    help: '0 = at the end of each epoch',
    param: 'evalsteps',
    default: 0,
    min: 0,
    max: 1_000_000,
    integer: true,
  }),
  testAtEachEvaluation: flagOption({
    label: 'Also score test at each evaluation',
    help: 'For comparing with papers that pick the best epoch on test; never used to select',
    param: 'testeach',
    default: false,
  }),
  earlyStoppingPatience: numberOption({
    label: 'Early-stop patience (evaluations)',
    help: '0 = off; else stop after this many evaluations without a better validation AUC',
    param: 'patience',
    default: 0,
    min: 0,
    max: 1000,
    integer: true,
  }),
  embeddingOptimizer: choiceOption({
    label: 'Embedding optimizer',
    help: 'Optimizer of the host embedding tables',
    param: 'eopt',
    default: 'adam',
    choices: [
      { value: 'adam', label: 'Adam (sparse rows)' },
      { value: 'rowwise-adagrad', label: 'Row-wise Adagrad' },
      { value: 'sgd', label: 'SGD (UMEC DLRM)' },
    ],
  }),
  embeddingUpdate: choiceOption({
    label: 'Embedding update',
    help: 'lazy: rows in the batch only (fast); exact: every row every step, as dense torch Adam',
    param: 'eupd',
    default: 'lazy',
    choices: [
      { value: 'lazy', label: 'lazy: batch rows only (fast)' },
      { value: 'exact', label: 'exact: every row, as dense torch Adam' },
    ],
  }),
  seed: numberOption({
    label: 'Seed',
    help: 'Seed of the initial weights, the shuffling and dropout',
    param: 'seed',
    default: 1,
    min: 0,
    max: 2 ** 31 - 1,
    integer: true,
  }),
};

export type TrainConfig = OptionValues<typeof TRAIN_OPTIONS>;
export type ModelKind = TrainConfig['model'];
export const MODEL_KINDS: readonly ModelKind[] = TRAIN_OPTIONS.model.choices.map((c) => c.value);
/**
 * Optimizer of the host embedding tables. 'sgd' is plain torch.optim.SGD (UMEC trains DLRM's
 * embeddings with it); 'adam' follows torch.optim.Adam; 'rowwise-adagrad' keeps one accumulator per row.
 */
export type EmbeddingOptimizerKind = TrainConfig['embeddingOptimizer'];
/** Optimizer of the dense (device) parameters, with torch.optim semantics. */
export type DenseOptimizerKind = TrainConfig['denseOptimizer'];
/** Learning-rate schedule over epochs: step halves it every epoch; cosine anneals it to 0. */
export type LearningRateScheduleKind = TrainConfig['lrSchedule'];
/**
 * 'lazy': only rows present in the batch are updated (cost grows with the batch).
 * 'exact': every row is updated every step, as dense torch.optim.Adam does (the official PEP
 * semantics); untouched rows see only their weight-decay gradient.
 */
export type EmbeddingUpdateMode = TrainConfig['embeddingUpdate'];

/** Where a run's rows come from: the built-in synthetic slice, or the file loaded last. */
export type DataSource = 'synthetic' | 'loaded';

/** The compression method of a run and its options (the method's own option table). */
export interface MethodChoice {
  /** A method id of the registry; 'none' trains the dense model. */
  id: string;
  options: Record<string, OptionValue>;
}

export interface RunConfig {
  source: DataSource;
  /** Settings of the synthetic slice (used when source is 'synthetic'). */
  data: SyntheticDataConfig;
  train: TrainConfig;
  method: MethodChoice;
}

export const DEFAULT_DATA_CONFIG: SyntheticDataConfig = defaultsOf(DATA_OPTIONS);
export const DEFAULT_TRAIN_CONFIG: TrainConfig = defaultsOf(TRAIN_OPTIONS);
export const NO_METHOD: MethodChoice = { id: 'none', options: {} };

export type ConfigErrors = Partial<Record<string, string>>;

/**
 * Validates a whole run config against the option tables and the given method specs; keys are
 * `data.<name>` / `train.<name>` / `method.id` / `method.<option>`. Empty object = valid. The
 * config may come from another thread or a file: every field is checked, enums included.
 */
export function validateRunConfig(config: RunConfig, methods: readonly MethodSpec[]): ConfigErrors {
  const errors: ConfigErrors = {};
  if (typeof config !== 'object' || config === null)
    return { config: 'The config must be an object' };
  if (config.source !== 'synthetic' && config.source !== 'loaded') {
    errors.source = `Data source must be "synthetic" or "loaded", got "${String(config.source)}"`;
  }
  if (config.source === 'synthetic') {
    Object.assign(errors, validateOptions(DATA_OPTIONS, config.data, 'data.', 'data'));
  }
  Object.assign(errors, validateOptions(TRAIN_OPTIONS, config.train, 'train.', 'train'));
  const train = config.train ?? ({} as TrainConfig);
  if (train.model !== 'fm' && !errors['train.mlpLayers'] && Array.isArray(train.mlpLayers)) {
    if (train.mlpLayers.length === 0)
      errors['train.mlpLayers'] = 'This model needs at least one MLP layer';
  }
  const numRows = config.data?.numRows;
  const trainRows = Math.floor(numRows * 0.8);
  if (
    config.source === 'synthetic' &&
    !errors['train.batchSize'] &&
    !errors['data.numRows'] &&
    train.batchSize > trainRows
  ) {
    errors['train.batchSize'] = `Batch size must be at most the ${trainRows} training rows`;
  }
  const choice = config.method;
  if (typeof choice !== 'object' || choice === null) {
    errors['method.id'] = 'The config names no compression method (method.id)';
    return errors;
  }
  const spec = methods.find((m) => m.id === choice.id);
  if (!spec) {
    errors['method.id'] =
      `Unknown compression method "${String(choice.id)}" (one of ${methods.map((m) => m.id).join(', ')})`;
    return errors;
  }
  if (!errors['train.model'] && !spec.models.includes(train.model)) {
    errors['method.id'] =
      `${spec.label} does not support ${train.model} (it supports ${spec.models.join(', ')})`;
  }
  Object.assign(
    errors,
    validateOptions(spec.options, choice.options, 'method.', `${spec.id} options`),
  );
  if (Object.keys(errors).length === 0 && spec.check) {
    for (const [key, message] of Object.entries(spec.check(choice.options, train))) {
      errors[`method.${key}`] = message;
    }
  }
  return errors;
}

/**
 * Checks live changes of a running config: keys `train.<key>` or `method.<key>` whose option is
 * marked `live`, values in range. Returns the problems (empty = acceptable).
 */
export function checkTuning(changes: Record<string, unknown>, method: MethodSpec): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(changes)) {
    const [section, name, ...rest] = key.split('.');
    const table: Record<string, OptionSpec> | null =
      section === 'train' ? TRAIN_OPTIONS : section === 'method' ? method.options : null;
    const spec = table && rest.length === 0 && Object.hasOwn(table, name) ? table[name] : null;
    if (!spec) {
      problems.push(`"${key}" is not a setting of this run`);
    } else if (!spec.live) {
      problems.push(`${spec.label} cannot be changed while the run trains`);
    } else {
      const msg = checkOption(value, spec);
      if (msg) problems.push(msg);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Engine status and events

export interface EngineInfo {
  backend: BackendName;
  /** Backends tried before this one, with the reason each failed. */
  fallbacks: { backend: BackendName; reason: string }[];
  adapterDescription: string;
  isFallbackAdapter: boolean | null;
  /** Threads of the wasm backend's kernels (when wasm has started; null before). */
  wasmThreads: number | null;
  /** Whether the page is cross-origin isolated (what wasm threads need). */
  crossOriginIsolated: boolean;
}

/** An emulated GPU: SwiftShader, llvmpipe, or a WebGPU adapter that says it is a fallback. */
export function isSoftwareAdapter(
  backend: BackendName,
  description: string,
  isFallback: boolean | null,
): boolean {
  if (backend === 'webgpu') return isFallback === true || /swiftshader/i.test(description);
  if (backend === 'webgl') return /swiftshader|llvmpipe|software/i.test(description);
  return false;
}

/** One backend's line in an "auto" calibration (see workers/engine/backendCalibration.ts). */
export interface BackendMeasurement {
  backend: BackendName;
  /**
   * measured: timed at the run's batch; slower: a probe at a smaller batch was already slower
   * than the best full batch; failed: the backend did not start or the step failed.
   */
  status: 'measured' | 'slower' | 'failed';
  msPerStep: number | null;
  samplesPerSecond: number | null;
  timedSteps: number;
  adapterDescription: string;
  /** An emulated GPU (SwiftShader, llvmpipe, or an adapter that says it is a fallback). */
  softwareAdapter: boolean;
  note: string;
}

/** The result of timing a model's step on every backend, and the one chosen. */
export interface BackendCalibration {
  /** What the choice is remembered by (model, sizes, batch, optimizers, update mode). */
  shapeKey: string;
  chosen: BackendName;
  rows: BackendMeasurement[];
  batchSize: number;
  totalMs: number;
  measuredAt: string;
}

export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
  /** Only the webgpu/webgl backends report GPU bytes. */
  numBytesInGPU: number | null;
  /** Bytes held by host-side embedding tables and their optimizer state (the running model's). */
  hostEmbeddingBytes: number;
  /** Bytes held by the models of finished runs kept in the worker. */
  keptRunBytes: number;
}

export interface DatasetSummary {
  source: DataSource;
  name: string;
  numRows: number;
  numFields: number;
  fieldNames: string[];
  fieldCardinalities: number[];
  totalVocabulary: number;
  labelMean: number;
  splitSizes: { train: number; validation: number; test: number };
  /** AUC of the generator's true click probabilities on the test split (the best any model can do). */
  bayesTestAuc: number | null;
  /** Field roles known only for the synthetic slice (empty for loaded files). */
  informativeFields: number[];
  noiseFields: number[];
  redundantFields: { field: number; copyOf: number }[];
}

/** One evaluation on the validation split (each epoch, or every `evalEverySteps` steps). */
export interface EvaluationMetrics {
  /** Id of the method phase this evaluation belongs to ('train' for the dense model). */
  phase: string;
  /** Epochs done within the phase: whole at an epoch's end, fractional in between. */
  epoch: number;
  /** Training steps of the whole run so far (steps continue across phases). */
  step: number;
  validationAuc: number;
  validationLogloss: number;
  /** Mean training loss over the steps since the previous evaluation (NaN: none since). */
  trainLoss: number;
  /** Test-split AUC at this point, only when `testAtEachEvaluation` is on (never used to select). */
  testAuc: number | null;
  seconds: number;
  /** The method's evaluation series (SeriesSpec kind 'evaluation') at this point. */
  method: Record<string, number>;
  /**
   * Set on the evaluations of a phase run aside while the run was paused (PEP's "Retrain now"
   * of a snapshot, on a model of its own): the run's step it was paused at. Their `step` counts
   * on from there; the run itself resumed from this step, so these are a branch, not its line.
   */
  pausedAt?: number;
}

export interface TestMetrics {
  auc: number;
  logloss: number;
  accuracy: number;
  /** Mean prediction / label mean (1 = calibrated on average). */
  calibration: number;
  /** The official PEP figure: mean of per-batch AUCs over consecutive batches of 1024. */
  meanPerBatchAuc: number;
}

/**
 * A batch of per-step figures. Sent every `progressEverySteps` steps or ~100 ms, whichever
 * comes first, so the main thread handles a few messages a second, never one per step.
 */
export interface ProgressBatch {
  steps: Int32Array;
  losses: Float32Array;
  /** Milliseconds per step for each entry. */
  stepMs: Float32Array;
  /** The method's step series (SeriesSpec kind 'step'), aligned with `steps`; NaN = no value. */
  series: Record<string, Float32Array>;
  /** Index of the phase these steps belong to. */
  phase: number;
  epoch: number;
  totalSteps: number;
  memory: MemoryInfo;
}

/** A phase of a method's run (e.g. train, prune, fine-tune), announced when it starts. */
export interface PhaseInfo {
  index: number;
  count: number;
  id: string;
  label: string;
  /** Training steps of the whole run before this phase began. */
  startStep: number;
  /** Steps this phase will take at most (0: it only evaluates). */
  plannedSteps: number;
  /**
   * While the run is paused in this phase, a snapshot taken so far can be retrained now, on a
   * model of its own (LabEngineApi.retrainSnapshotNow): PEP's pruning phase.
   */
  retrainsSnapshotsWhilePaused: boolean;
}

/**
 * A model a run keeps beside its final one (PEP: a snapshot at a target sparsity), sent when it
 * is kept and again when it is replaced (its retrained model).
 */
export interface SnapshotInfo {
  /** Numbered from 1, in the order the run took them (exportRun's `snapshot`). */
  number: number;
  /** The method's name for it (PEP: its target, e.g. "90%"). */
  label: string;
  /** The run's step its weights come from (the snapshot, or the retrain's best evaluation). */
  step: number;
  /** Whether it is the retrained model now (else the model as it was at the snapshot). */
  retrained: boolean;
  /** Stored (non-zero) entries of its embedding table, and entries of the dense table. */
  nonZeros: number;
  entries: number;
  /** Validation AUC of the model it holds (at the snapshot, or the retrain's best). */
  validationAuc: number | null;
  /** Test AUC of the retrained model; null when not retrained. */
  testAuc: number | null;
  /** Mean stored entries per feature of each field (the field's mean embedding size). */
  fieldSizes: number[];
  fieldNames: string[];
}

/** A phase run aside while the run is paused (PEP's "Retrain now"): how far it is. */
export interface AsideProgress {
  /** What runs, e.g. "Retrain snapshot 50% now". */
  label: string;
  /** The snapshot it retrains (from 1). */
  snapshot: number;
  state: 'running' | 'done' | 'stopped' | 'failed';
  /** The run's step it was paused at. */
  pausedAt: number;
  stepsDone: number;
  plannedSteps: number;
}

export type RunState = 'idle' | 'preparing' | 'running' | 'paused' | 'stopping' | 'done' | 'failed';

export type EngineEvent =
  | { type: 'dataset'; summary: DatasetSummary }
  | { type: 'progress'; batch: ProgressBatch }
  | { type: 'evaluation'; metrics: EvaluationMetrics }
  | { type: 'state'; state: RunState }
  | { type: 'test'; metrics: TestMetrics }
  | { type: 'phase'; phase: PhaseInfo }
  /** A vector series' latest value (SeriesSpec kind 'vector'): one number per label. */
  | { type: 'method-vector'; series: string; step: number; values: Float32Array; labels: string[] }
  /** A histogram series' latest value: counts of the bins between consecutive edges. */
  | {
      type: 'method-histogram';
      series: string;
      step: number;
      edges: Float32Array;
      counts: Float32Array;
    }
  /** A points series' latest value: labelled (x, y) points. */
  | { type: 'method-points'; series: string; step: number; points: MethodPoint[] }
  /** Something worth a mark on the step axis: a phase change, a snapshot, a setting changed. */
  | { type: 'marker'; step: number; label: string }
  /** A snapshot kept, or replaced by its retrained model. */
  | { type: 'snapshot'; snapshot: SnapshotInfo }
  /** A phase run aside while the run is paused: started, progressing, ended. */
  | { type: 'aside'; aside: AsideProgress };

export interface MethodPoint {
  x: number;
  y: number;
  label: string;
}

export interface ModelPart {
  /** e.g. 'embedding', 'linear', 'mlp', 'attention'. */
  part: string;
  /** Parameters that are stored (for a pruned table: the non-zeros). */
  params: number;
  /**
   * Bytes of this part in compressed storage: float32 values, plus the index structure a pruned
   * table needs (a bitmask of the kept dimensions per row).
   */
  bytes: number;
}

export interface ModelSummary {
  parts: ModelPart[];
  totalParams: number;
  totalBytes: number;
  /** Parameters of the embedding table of the same model uncompressed (N x d). */
  denseEmbeddingParams: number;
  /** 2 x multiply-adds of the dense part for one example (embedding lookups not counted). */
  flopsPerExample: number;
}

/** What one phase of a run did. */
export interface PhaseResult {
  id: string;
  label: string;
  steps: number;
  /** Why the phase ended early, when it did (a method's own reason, patience, a stop). */
  endReason: string | null;
  /** The evaluation whose weights the phase ended with (best validation AUC), if any. */
  bestEvaluation: EvaluationMetrics | null;
  /** The test split scored with the phase's final weights, for phases that ask for it. */
  test: TestMetrics | null;
  /** Why the phase did not run at all (e.g. a snapshot that was never taken), if it did not. */
  skipped: string | null;
}

export interface RunResult {
  /** Id under which the worker keeps this run's model until it is discarded. */
  runId: number;
  method: { id: string; label: string };
  /** Stopped by the user. */
  stoppedEarly: boolean;
  /** Why the run ended before its budget other than a user's stop (e.g. the loss diverged). */
  stopReason: string | null;
  /** The evaluation with the best validation AUC; its weights were restored before the test split. */
  bestEpoch: number | null;
  bestStep: number | null;
  /** Whether the patience on validation AUC ran out. */
  stoppedByPatience: boolean;
  steps: number;
  evaluations: EvaluationMetrics[];
  phases: PhaseResult[];
  test: TestMetrics | null;
  bayesTestAuc: number | null;
  /** The model the test split was scored with (compressed parts counted as stored). */
  model: ModelSummary;
  /** The method's final figures (e.g. sparsity, per-field dimensions), for tables and export. */
  methodResult: Record<string, number | string | number[]>;
  msPerStep: number;
}

/** What the lab shows of a model file it opened (see workers/export/modelFormat.ts). */
export interface ImportedModelCard {
  fileName: string;
  fileBytes: number;
  createdAt: string;
  labVersion: string;
  model: ModelKind;
  embeddingDim: number;
  numFields: number;
  method: string;
  methodLabel: string;
  embeddingKind: string;
  datasetName: string;
  fieldNames: string[];
  /** 'delimited': it scores raw rows of its data's layout; 'ids': rows of field ids. */
  rawInput: 'delimited' | 'ids';
  /** Stored parameters and bytes per part of the model. */
  parts: { part: string; params: number; bytes: number }[];
  metrics: {
    validationAuc: number | null;
    testAuc: number | null;
    testLogloss: number | null;
    sparsity: number;
    parameters: number;
    weightBytes: number;
    denseWeightBytes: number;
  };
  plan: Record<string, number | string | number[]>;
}

/** A finished run whose model the worker still holds (for evaluation, retraining or export). */
export interface KeptRunInfo {
  runId: number;
  label: string;
  /** The model it trained and the method that compressed it (a run may start from it). */
  model: ModelKind;
  methodId: string;
  /** Host bytes (tables, optimizer state, snapshots) plus device bytes of its weights. */
  bytes: number;
}

export interface StepBenchmarkConfig {
  model: ModelKind;
  totalVocabulary: number;
  numFields: number;
  embeddingDim: number;
  mlpLayers: number[];
  batchSize: number;
  embeddingUpdate: EmbeddingUpdateMode;
  warmupSteps: number;
  steps: number;
  seed: number;
  /** The compression method timed with the model (default: none). */
  method?: MethodChoice;
  /**
   * Also profiles the steps kernel by kernel (tf.profile), in a second run of the same steps
   * after the timed one, so that profiling does not change the timed figures.
   */
  profile?: boolean;
  /**
   * Runs tfjs's own kernels where the lab has its own (webgpu's column-sum reductions, webgl's
   * segmented-scan gather gradient), to measure what those gain.
   */
  stockKernels?: boolean;
}

/** One case of checkOwnKernels: an own kernel against the tfjs kernel it replaces. */
export interface OwnKernelCheck {
  kernel: string;
  case: string;
  /** Largest difference over the largest sum of the absolute values added up (float32 bound). */
  relativeDiff: number;
}

/** One kernel's share of the profiled steps (per step: warm-up and timed steps alike). */
export interface KernelProfileRow {
  name: string;
  msPerStep: number;
  callsPerStep: number;
  /** Its calls by input shapes (JSON of the shapes), largest time first. */
  byShape: { shapes: string; msPerStep: number; callsPerStep: number }[];
}

export interface KernelProfile {
  /** Steps the profile covered (warm-up and timed). */
  steps: number;
  kernelsPerStep: number;
  /** Sum of the kernels' times per step. */
  kernelMsPerStep: number;
  /**
   * Whether the backend reported kernel times: webgpu needs the adapter's timestamp-query
   * feature (Chromium: --enable-dawn-features=allow_unsafe_apis), otherwise every time is 0.
   */
  timed: boolean;
  /** By time (or by calls when untimed), largest first. */
  kernels: KernelProfileRow[];
}

export interface StepBenchmarkResult {
  config: StepBenchmarkConfig;
  medianMs: number;
  meanMs: number;
  hostTableBytes: number;
  /** Whether the host tables' Adam ran in the WebAssembly SIMD kernel (hostAdamKernel.ts). */
  hostAdamKernel: boolean;
  /** With `profile`: where the steps' kernel time went. */
  profile?: KernelProfile;
}

/** The engine API exposed by the worker with comlink. The UI imports this as a type only. */
export interface LabEngineApi {
  /**
   * Starts the first backend that works (or the forced one). `onDeviceLost` is called if the
   * WebGPU device is lost later; the engine is unusable after that and must be restarted.
   */
  init(
    forceBackend: BackendName | null,
    onDeviceLost: (message: string) => void,
    /** Threads of the wasm backend (null: every core); only a cross-origin isolated page has them. */
    wasmThreads?: number | null,
    /**
     * The page's drawing flag (Int32 0 is 1 while a chart draws): the training loop waits
     * between two steps while it is raised. Null without cross-origin isolation.
     */
    pageDrawing?: SharedArrayBuffer | null,
  ): Promise<EngineInfo>;
  memory(): Promise<MemoryInfo>;
  /**
   * Switches the running engine to another backend (between runs), keeping the loaded dataset.
   * Rejects while a run is in progress, or when that backend cannot start (the current one stays).
   */
  switchBackend(name: BackendName): Promise<EngineInfo>;
  /**
   * "auto": times the step of `config`'s model on every backend that starts (about a second
   * each), leaves the engine on the fastest and returns the table. Between runs only.
   */
  calibrateBackends(
    config: RunConfig,
    onProgress: (message: string) => void,
  ): Promise<{ calibration: BackendCalibration; engine: EngineInfo }>;
  /** The key a calibration of `config` is remembered by (see calibrateBackends). */
  backendShapeKey(config: RunConfig): Promise<string>;
  /**
   * Trains one run. Events travel on the callback's own MessagePort and the result on the
   * worker's, which are not ordered with each other: the worker awaits the callback's return
   * for its final 'done' event, so every event has been handled when the result arrives.
   */
  train(
    config: RunConfig,
    onEvent: (event: EngineEvent) => void | Promise<void>,
    /**
     * A kept run of the same model on the same data to start from: its weights are copied into
     * the new model before the first step (e.g. UMEC's solver starting from a trained dense run).
     */
    startFromRunId?: number | null,
  ): Promise<RunResult>;
  /**
   * Trains one sequential run (NextItNet, or CpRec-compressed) on the synthetic sequences or the
   * loaded item-sequence file. pause / resume / stop / tune('train.learningRate') act on it.
   */
  trainSequences(
    config: SeqRunConfig,
    onEvent: (event: SeqEngineEvent) => void | Promise<void>,
  ): Promise<SeqRunResult>;
  /**
   * The model file (JSON text, format recsys-lab-sequence-model) of the last finished sequence
   * run: its best validation weights, scored by `lab score` and the Python reader.
   */
  exportSequenceRun(): Promise<string>;
  /** exportSequenceRun's file as a Blob (see exportRunFile). */
  exportSequenceRunFile(): Promise<Blob>;
  /**
   * Opens a sequence model file (NextItNet / CpRec): checks it (a bad file is refused with an
   * Error named 'ModelFileError' saying why; the one opened before, if any, is kept) and
   * describes it. A CTR model file is refused here with a message saying so.
   */
  openSequenceModelFile(file: File): Promise<SequenceModelCard>;
  /**
   * Ranks the last item of every test sequence of the data `config` names (the synthetic
   * sequences or the loaded file, matched to the model's vocabulary by token) with the opened
   * sequence model file, beside the most-popular baseline.
   */
  evaluateSequenceModelFile(
    config: Pick<SeqRunConfig, 'source' | 'data'>,
  ): Promise<SequenceModelEvaluation>;
  /** Describes the sequences a run with `config` would use (with the most-popular baseline). */
  previewSequences(config: Pick<SeqRunConfig, 'source' | 'data'>): Promise<SeqDatasetSummary>;
  /** Generates (and caches) the synthetic slice and describes it, so the UI shows it before a run. */
  previewSyntheticData(config: SyntheticDataConfig): Promise<DatasetSummary>;
  /**
   * Builds the model a run with `config` would train (on the synthetic slice or the loaded
   * dataset) and describes it: parameters per part and FLOPs per example. Nothing is trained.
   */
  describeModel(config: RunConfig): Promise<ModelSummary>;
  /** Times training steps of one model on random ids over `totalVocabulary` rows. */
  benchmarkSteps(config: StepBenchmarkConfig): Promise<StepBenchmarkResult>;
  pause(): Promise<void>;
  /** Resumes a paused run; while a snapshot retrains now, the run goes on once that ends. */
  resume(): Promise<void>;
  /**
   * Stops the run in progress; while a snapshot retrains now (retrainSnapshotNow), stops only
   * that retrain (nothing is recorded for the snapshot) and the run stays paused.
   */
  stop(): Promise<void>;
  /**
   * While the run in progress is paused in a phase that allows it (PhaseInfo
   * .retrainsSnapshotsWhilePaused: PEP's pruning), retrains snapshot `snapshot` (from 1) now on
   * a model of its own: the run's model, optimizer state and random streams are left as they
   * are, so Resume continues the same trajectory. Its evaluations and its end stream to the
   * run's callback ('aside', 'evaluation' with `pausedAt`, 'method-points', 'snapshot'), and its
   * result is recorded for the snapshot as the end-of-run retrain records it (the snapshot's
   * Export gives the retrained model; the end-of-run retrain skips it). Resolves with what the
   * retrain did (endReason 'stopped by the user' when stopped: then nothing is recorded).
   * Rejects when no run is paused, the phase does not allow it, the snapshot was not taken or
   * is retrained already, or a retrain runs.
   */
  retrainSnapshotNow(snapshot: number): Promise<PhaseResult>;
  /**
   * Changes settings of the run in progress that are marked `live` in their option table:
   * `train.<key>` or `method.<key>` to the new value. Takes effect before the next step and is
   * marked on the charts. Rejects (changing nothing) when a key is not live or a value is out of
   * range, or when no run is in progress.
   */
  tune(changes: Record<string, OptionValue>): Promise<void>;
  /** The finished runs whose models the worker still holds, with the memory each one takes. */
  keptRuns(): Promise<KeptRunInfo[]>;
  /** Frees the model (and snapshots) of a finished run. */
  discardRun(runId: number): Promise<void>;
  /**
   * The model file (JSON text) of a finished run the worker still holds: its final model, or with
   * `snapshot` one of the snapshots it took, numbered from 1 (PEP: the retrained model of that
   * snapshot, or the model as it was at the snapshot when it was not retrained). A number the
   * run has no snapshot of is refused with a message saying which it has.
   */
  exportRun(runId: number, options?: { snapshot?: number }): Promise<string>;
  /**
   * exportRun's file as a Blob (application/json): it reaches the page as a handle, not a copy,
   * so a large model file costs the page's main thread nothing to receive or to store.
   */
  exportRunFile(runId: number): Promise<Blob>;
  /**
   * Opens a model file: checks it (a bad file is refused with an Error named 'ModelFileError'
   * saying why; the model opened before, if any, is kept) and describes it.
   */
  openModelFile(file: File): Promise<ImportedModelCard>;
  /**
   * Scores the test split of the data a run with `config` would use (the synthetic slice, or the
   * loaded file) with the opened model file.
   */
  evaluateModelFile(config: Pick<RunConfig, 'source' | 'data'>): Promise<TestMetrics>;
  /** Testing hook: destroys the WebGPU device so that device-loss handling can be exercised. */
  simulateDeviceLoss(): Promise<boolean>;
  /** Testing hook: throws an uncaught error inside the worker to exercise crash recovery. */
  simulateCrash(): Promise<void>;
  /**
   * Testing hook: the lab's own kernels on the active backend against the tfjs kernels they
   * replace, on random inputs (engine/ownKernelCheck.ts).
   */
  checkOwnKernels(): Promise<OwnKernelCheck[]>;
  /**
   * Streams `files` into the worker and makes them the dataset that runs with source 'loaded'
   * use. Rejects with an Error named 'DatasetLoadError' (bad input, clear message), 'AbortError'
   * (cancelLoad) or 'Error'; a failed or cancelled load keeps the previous dataset.
   */
  loadDataset(
    files: File[],
    options: DatasetLoadOptions,
    onProgress: (progress: DatasetLoadProgress) => void,
  ): Promise<LoadedDatasetInfo>;
  /** Cooperative cancel of the load in progress; the worker and the previous dataset live on. */
  cancelLoad(): Promise<void>;
  /** Forgets the loaded dataset. */
  clearDataset(): Promise<void>;
  /** Header names and a few rows of a delimited file, for the column-mapping form. */
  peekColumns(file: File): Promise<ColumnPeek>;
}

export function isBackendName(value: string | null): value is BackendName {
  return value !== null && (BACKEND_ORDER as readonly string[]).includes(value);
}
