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

export type ModelKind = 'fm' | 'deepfm' | 'widedeep' | 'autoint' | 'dlrm';
/**
 * Optimizer of the host embedding tables. 'sgd' is plain torch.optim.SGD (UMEC trains DLRM's
 * embeddings with it); 'adam' follows torch.optim.Adam; 'rowwise-adagrad' keeps one accumulator per row.
 */
export type EmbeddingOptimizerKind = 'adam' | 'rowwise-adagrad' | 'sgd';
/** Optimizer of the dense (device) parameters, with torch.optim semantics. */
export type DenseOptimizerKind = 'adam' | 'adamw' | 'sgd';
/** Learning-rate schedule over epochs: step halves it every epoch; cosine anneals it to 0. */
export type LearningRateScheduleKind = 'constant' | 'step' | 'cosine';
/**
 * 'lazy': only rows present in the batch are updated (cost grows with the batch).
 * 'exact': every row is updated every step, as dense torch.optim.Adam does (the official PEP
 * semantics); untouched rows see only their weight-decay gradient.
 */
export type EmbeddingUpdateMode = 'lazy' | 'exact';

export interface SyntheticDataConfig {
  seed: number;
  numRows: number;
  numFields: number;
  /** Largest field cardinality; cardinalities spread log-uniformly from ~20 up to this. */
  maxCardinality: number;
}

export interface TrainConfig {
  model: ModelKind;
  embeddingDim: number;
  /** Hidden layer sizes of the MLP (DeepFM, Wide&Deep, AutoInt's DNN part, DLRM's top MLP). */
  mlpLayers: number[];
  dropout: number;
  batchNorm: boolean;
  epochs: number;
  /** Stop after this many training steps even if epochs remain; 0 = run every epoch. */
  maxSteps: number;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  denseOptimizer: DenseOptimizerKind;
  /** SGD momentum (torch semantics); ignored by Adam/AdamW. */
  momentum: number;
  /** Clip the global gradient norm (all parameters, embeddings included) to this; 0 = off. */
  gradClipNorm: number;
  lrSchedule: LearningRateScheduleKind;
  /** Evaluate on the validation split every this many steps; 0 = at the end of each epoch. */
  evalEverySteps: number;
  /**
   * Also score the test split at every evaluation, for comparison with papers whose code picks
   * the best epoch on the test split. Never used for model selection here.
   */
  testAtEachEvaluation: boolean;
  /** Stop after this many evaluations without a better validation AUC; 0 = never stop early. */
  earlyStoppingPatience: number;
  embeddingOptimizer: EmbeddingOptimizerKind;
  embeddingUpdate: EmbeddingUpdateMode;
  seed: number;
}

/** Where a run's rows come from: the built-in synthetic slice, or the file loaded last. */
export type DataSource = 'synthetic' | 'loaded';

export interface RunConfig {
  source: DataSource;
  /** Settings of the synthetic slice (used when source is 'synthetic'). */
  data: SyntheticDataConfig;
  train: TrainConfig;
}

export const DEFAULT_DATA_CONFIG: SyntheticDataConfig = {
  seed: 7,
  numRows: 20000,
  numFields: 12,
  maxCardinality: 100000,
};

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  model: 'deepfm',
  embeddingDim: 8,
  mlpLayers: [64, 32],
  dropout: 0.2,
  batchNorm: true,
  epochs: 4,
  maxSteps: 0,
  batchSize: 256,
  learningRate: 0.003,
  weightDecay: 1e-6,
  denseOptimizer: 'adam',
  momentum: 0,
  gradClipNorm: 0,
  lrSchedule: 'constant',
  evalEverySteps: 0,
  testAtEachEvaluation: false,
  earlyStoppingPatience: 0,
  embeddingOptimizer: 'adam',
  embeddingUpdate: 'lazy',
  seed: 1,
};

/** One typed table of every user-settable number: bounds used by the form, the URL and the worker. */
export interface NumericParamSpec {
  label: string;
  min: number;
  max: number;
  integer: boolean;
  /** Whether `min` itself is allowed (learning rate must be strictly positive). */
  minInclusive: boolean;
}

export const DATA_PARAM_SPECS: Record<keyof SyntheticDataConfig, NumericParamSpec> = {
  seed: { label: 'Data seed', min: 0, max: 2 ** 31 - 1, integer: true, minInclusive: true },
  numRows: { label: 'Rows', min: 200, max: 2_000_000, integer: true, minInclusive: true },
  numFields: { label: 'Fields', min: 4, max: 64, integer: true, minInclusive: true },
  maxCardinality: {
    label: 'Largest cardinality',
    min: 20,
    max: 5_000_000,
    integer: true,
    minInclusive: true,
  },
};

type NumericTrainKey = {
  [K in keyof TrainConfig]: TrainConfig[K] extends number ? K : never;
}[keyof TrainConfig];

export const TRAIN_PARAM_SPECS: Record<NumericTrainKey, NumericParamSpec> = {
  embeddingDim: { label: 'Embedding dim', min: 1, max: 256, integer: true, minInclusive: true },
  dropout: { label: 'Dropout', min: 0, max: 0.95, integer: false, minInclusive: true },
  epochs: { label: 'Epochs', min: 1, max: 1000, integer: true, minInclusive: true },
  maxSteps: {
    label: 'Step budget',
    min: 0,
    max: 100_000_000,
    integer: true,
    minInclusive: true,
  },
  batchSize: { label: 'Batch size', min: 1, max: 65536, integer: true, minInclusive: true },
  learningRate: { label: 'Learning rate', min: 0, max: 10, integer: false, minInclusive: false },
  weightDecay: { label: 'Weight decay', min: 0, max: 1, integer: false, minInclusive: true },
  momentum: { label: 'SGD momentum', min: 0, max: 0.999, integer: false, minInclusive: true },
  gradClipNorm: { label: 'Clip grad norm', min: 0, max: 1e6, integer: false, minInclusive: true },
  evalEverySteps: {
    label: 'Evaluate every (steps)',
    min: 0,
    max: 1_000_000,
    integer: true,
    minInclusive: true,
  },
  earlyStoppingPatience: {
    label: 'Early-stop patience (evaluations)',
    min: 0,
    max: 1000,
    integer: true,
    minInclusive: true,
  },
  seed: { label: 'Seed', min: 0, max: 2 ** 31 - 1, integer: true, minInclusive: true },
};

/** Returns a message saying what is wrong with `value`, or null when it is acceptable. */
export function checkNumber(value: number, spec: NumericParamSpec): string | null {
  if (typeof value !== 'number' || Number.isNaN(value)) return `${spec.label} must be a number`;
  if (!Number.isFinite(value)) return `${spec.label} must be finite`;
  if (spec.integer && !Number.isInteger(value)) return `${spec.label} must be a whole number`;
  if (spec.minInclusive ? value < spec.min : value <= spec.min) {
    return `${spec.label} must be ${spec.minInclusive ? 'at least' : 'greater than'} ${spec.min}`;
  }
  if (value > spec.max) return `${spec.label} must be at most ${spec.max}`;
  return null;
}

export type ConfigErrors = Partial<Record<string, string>>;

/** Validates a whole run config; keys are `data.<name>` / `train.<name>`. Empty object = valid. */
export function validateRunConfig(config: RunConfig): ConfigErrors {
  const errors: ConfigErrors = {};
  if (config.source === 'synthetic') {
    for (const key of Object.keys(DATA_PARAM_SPECS) as (keyof SyntheticDataConfig)[]) {
      const msg = checkNumber(config.data[key], DATA_PARAM_SPECS[key]);
      if (msg) errors[`data.${key}`] = msg;
    }
  }
  for (const key of Object.keys(TRAIN_PARAM_SPECS) as NumericTrainKey[]) {
    const msg = checkNumber(config.train[key], TRAIN_PARAM_SPECS[key]);
    if (msg) errors[`train.${key}`] = msg;
  }
  const layers = config.train.mlpLayers;
  if (config.train.model !== 'fm') {
    if (layers.length === 0) errors['train.mlpLayers'] = 'This model needs at least one MLP layer';
    else if (layers.length > 8) errors['train.mlpLayers'] = 'At most 8 MLP layers';
    else if (layers.some((n) => !Number.isInteger(n) || n < 1 || n > 4096)) {
      errors['train.mlpLayers'] = 'MLP layer sizes must be whole numbers from 1 to 4096';
    }
  }
  const trainRows = Math.floor(config.data.numRows * 0.8);
  if (
    config.source === 'synthetic' &&
    !errors['train.batchSize'] &&
    !errors['data.numRows'] &&
    config.train.batchSize > trainRows
  ) {
    errors['train.batchSize'] = `Batch size must be at most the ${trainRows} training rows`;
  }
  return errors;
}

/** Parses "400-400-400" or "400,400" into layer sizes; NaN entries are kept so validation reports them. */
export function parseLayerList(text: string): number[] {
  const parts = text
    .split(/[-,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return parts.map((s) => (/^\d+$/.test(s) ? Number(s) : Number.NaN));
}

export function formatLayerList(layers: number[]): string {
  return layers.join('-');
}

// ---------------------------------------------------------------------------------------------
// Engine status and events

export interface EngineInfo {
  backend: BackendName;
  /** Backends tried before this one, with the reason each failed. */
  fallbacks: { backend: BackendName; reason: string }[];
  adapterDescription: string;
  isFallbackAdapter: boolean | null;
}

export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
  /** Only the webgpu/webgl backends report GPU bytes. */
  numBytesInGPU: number | null;
  /** Bytes held by host-side embedding tables and their optimizer state. */
  hostEmbeddingBytes: number;
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
  /** Epochs done at this evaluation: whole at an epoch's end, fractional in between. */
  epoch: number;
  step: number;
  validationAuc: number;
  validationLogloss: number;
  /** Mean training loss over the steps since the previous evaluation. */
  trainLoss: number;
  /** Test-split AUC at this point, only when `testAtEachEvaluation` is on (never used to select). */
  testAuc: number | null;
  seconds: number;
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
  epoch: number;
  totalSteps: number;
  memory: MemoryInfo;
}

export type RunState = 'idle' | 'preparing' | 'running' | 'paused' | 'stopping' | 'done' | 'failed';

export type EngineEvent =
  | { type: 'dataset'; summary: DatasetSummary }
  | { type: 'progress'; batch: ProgressBatch }
  | { type: 'evaluation'; metrics: EvaluationMetrics }
  | { type: 'state'; state: RunState }
  | { type: 'test'; metrics: TestMetrics };

export interface ModelPart {
  /** e.g. 'embedding', 'linear', 'mlp', 'attention'. */
  part: string;
  params: number;
}

export interface ModelSummary {
  parts: ModelPart[];
  totalParams: number;
  /** 2 x multiply-adds of the dense part for one example (embedding lookups not counted). */
  flopsPerExample: number;
}

export interface RunResult {
  stoppedEarly: boolean;
  /** The evaluation with the best validation AUC; its weights were restored before the test split. */
  bestEpoch: number | null;
  bestStep: number | null;
  /** Whether the patience on validation AUC ran out. */
  stoppedByPatience: boolean;
  steps: number;
  evaluations: EvaluationMetrics[];
  test: TestMetrics | null;
  bayesTestAuc: number | null;
  model: ModelSummary;
  msPerStep: number;
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
}

export interface StepBenchmarkResult {
  config: StepBenchmarkConfig;
  medianMs: number;
  meanMs: number;
  hostTableBytes: number;
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
  ): Promise<EngineInfo>;
  memory(): Promise<MemoryInfo>;
  /**
   * Switches the running engine to another backend (between runs), keeping the loaded dataset.
   * Rejects while a run is in progress, or when that backend cannot start (the current one stays).
   */
  switchBackend(name: BackendName): Promise<EngineInfo>;
  /**
   * Trains one run. Events travel on the callback's own MessagePort and the result on the
   * worker's, which are not ordered with each other: the worker awaits the callback's return
   * for its final 'done' event, so every event has been handled when the result arrives.
   */
  train(
    config: RunConfig,
    onEvent: (event: EngineEvent) => void | Promise<void>,
  ): Promise<RunResult>;
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
  resume(): Promise<void>;
  stop(): Promise<void>;
  /** Testing hook: destroys the WebGPU device so that device-loss handling can be exercised. */
  simulateDeviceLoss(): Promise<boolean>;
  /** Testing hook: throws an uncaught error inside the worker to exercise crash recovery. */
  simulateCrash(): Promise<void>;
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
