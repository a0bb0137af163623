/**
 * The seam every compression method plugs into (worker side). A method is one folder:
 * `spec.ts` (tfjs-free: options, series, charts) and `method.ts` (this interface), and one line
 * in `all.ts`. The trainer runs a method's phases; no method copies the train step.
 *
 * A method shapes a run in three ways:
 * 1. the model it builds: training settings it overrides (a smaller embedding dimension) and the
 *    embedding sub-model it hands the model (a hashed table, QR tables, mixed dimensions...);
 * 2. its phases (train, prune then fine-tune, search then retrain...), each with hooks that run
 *    inside the training loop: a loss term inside the gradient, code after every step and after
 *    every evaluation, a reason to stop;
 * 3. what it reports: series for the charts (declared in its spec) and final figures.
 */
import type * as tf from '@tensorflow/tfjs';
import type { CtrDataset } from '../data/dataset';
import type { EmbeddingFactory } from '../embedding/featureEmbedding';
import type { ModelSnapshot } from '../export/modelSnapshot';
import type { RankingModel } from '../models/rankingModel';
import type { OptionValue } from '../options';
import type {
  EvaluationMetrics,
  MethodPoint,
  PhaseResult,
  TestMetrics,
  TrainConfig,
} from '../protocol';
import type { MethodSpec } from './methodSpec';

export type MethodOptions = Record<string, OptionValue>;

/** What a method sees when it sets up a run. */
export interface MethodSetup {
  /** The dataset as the model sees it (DLRM: without the bucketed copies of dense columns). */
  dataset: CtrDataset;
  train: TrainConfig;
  /** Occurrences of every feature (global id) in the training split. */
  featureCounts(): Int32Array;
}

export interface MethodPlan {
  /** Training settings changed for the model this method builds (e.g. a smaller dimension). */
  modelOverrides?: Partial<Pick<TrainConfig, 'embeddingDim'>>;
  /** The embedding sub-model to build the model with; default: the plain host table. */
  embedding?: EmbeddingFactory;
  /** The phases, in order; a phase may append more while the run goes (PhaseContext.addPhase). */
  phases: MethodPhase[];
  /** Frees what the method holds on the device (e.g. a rewind point) when the run ends. */
  dispose?(): void;
}

/** What a phase's hooks can see and do. */
export interface PhaseContext {
  readonly model: RankingModel;
  readonly dataset: CtrDataset;
  readonly train: TrainConfig;
  /** The method's options; a live option changed by the user shows here from the next step. */
  readonly options: MethodOptions;
  /** Training steps of the whole run so far (steps continue across phases). */
  readonly step: number;
  /** Training steps of this phase so far. */
  readonly phaseStep: number;
  /** The run's learning rate now (after the schedule and any live change). */
  readonly learningRate: number;
  /** A value of a 'step' series for the step just taken. */
  record(series: string, value: number): void;
  /** The latest value of a 'vector' series (one number per label). */
  vector(series: string, values: ArrayLike<number>, labels: string[]): void;
  /** The latest value of a 'histogram' series: counts of the bins between consecutive edges. */
  histogram(series: string, edges: ArrayLike<number>, counts: ArrayLike<number>): void;
  /** The latest value of a 'points' series. */
  points(series: string, points: MethodPoint[]): void;
  /** A mark on the step axis of the charts (a snapshot, a pruning, a change). */
  marker(label: string): void;
  /** Scores the validation split with the model as it is now. */
  scoreValidation(): Promise<TestMetrics>;
  /** The run's final figures (RunResult.methodResult): phases add to it. */
  readonly result: Record<string, number | string | number[]>;
  /** Runs `phase` after the ones planned so far (e.g. one retrain per snapshot taken). */
  addPhase(phase: MethodPhase): void;
  /** Keeps data with the run's model after it ends (masks, rewind points), by name. */
  keep(name: string, data: ArrayBufferView): void;
  /**
   * Keeps (or replaces) the run's snapshot number `index + 1`, a model it passed through, to be
   * exported after the run beside the final model (KeptRun.snapshots).
   */
  keepSnapshot(index: number, snapshot: ModelSnapshot): void;
  /** Applies the current learning rates again (after a method changed a group's scale). */
  refreshLearningRates(): void;
  /**
   * Only in a phase's `begin`: trains `model` on `dataset` from now on (a hard prune that makes
   * layers physically smaller and drops fields). The old model is disposed; `dataset` must be a
   * view of the run's rows (same count and split), e.g. with fields removed. The run keeps the
   * last model and dataset, and exports them.
   */
  replaceModel(model: RankingModel, dataset: CtrDataset): void;
}

export interface MethodPhase {
  /** Short id (shown in events and the --log file), e.g. 'train', 'fine-tune'. */
  id: string;
  label: string;
  /**
   * Training budget of the phase; default: the run's epochs and step budget. `epochs: 0` trains
   * nothing (the phase only evaluates its starting point).
   */
  budget?: { epochs: number; maxSteps?: number };
  /** Evaluate once before the first step, as a candidate for the best weights. */
  evaluateAtStart?: boolean;
  /** Restore the best validation evaluation's weights when the phase ends (default true). */
  restoreBest?: boolean;
  /** Score the test split with the phase's final weights (PhaseResult.test). */
  scoreTest?: boolean;
  /**
   * Whether the run's early-stopping patience ends this phase (default true). A phase that ends
   * on its own terms (pruning to targets) turns it off.
   */
  usePatience?: boolean;
  /** A reason not to run this phase at all (e.g. its snapshot was never taken), or null. */
  skip?(ctx: PhaseContext): string | null;
  /** Before the first step: prune, mask, rewind, rebuild. */
  begin?(ctx: PhaseContext): void | Promise<void>;
  /** A term added to the loss inside the gradient (e.g. a penalty). Called inside a tidy. */
  lossTerm?(model: RankingModel): tf.Scalar;
  /** After every optimizer step (host rows and device weights already updated). */
  afterStep?(ctx: PhaseContext): void | Promise<void>;
  /** The method's 'evaluation' series at an evaluation, computed before it is reported. */
  evaluationSeries?(ctx: PhaseContext): Record<string, number> | Promise<Record<string, number>>;
  afterEvaluation?(metrics: EvaluationMetrics, ctx: PhaseContext): void | Promise<void>;
  /** A reason to end the phase now (shown to the user), or null. Checked after every step. */
  doneReason?(ctx: PhaseContext): string | null;
  /** A live option changed (the context's options already hold the new value). */
  optionChanged?(key: string, ctx: PhaseContext): void;
  /**
   * While the run is paused in this phase (`ctx` is this phase's): the phase that retrains
   * snapshot `snapshot` (from 1) now. The trainer runs it aside, on a model of its own built as
   * the run's was, with optimizers, data order and progress of its own (the run's model,
   * optimizer state and random streams are not touched, so the run resumes on the same
   * trajectory); its context shares the run's options, result and kept snapshots. Throws an
   * Error saying why not (no such snapshot, retrained already).
   */
  retrainSnapshotNow?(snapshot: number, ctx: PhaseContext): MethodPhase;
  /** When the phase is over (after the best weights were restored and the test scored). */
  end?(ctx: PhaseContext, result: PhaseResult): void | Promise<void>;
}

export interface CompressionMethod {
  spec: MethodSpec;
  /**
   * Sets up one run with validated options. `options` is the run's live object: a live option
   * the user changes shows in it (as in PhaseContext.options) from the next step.
   */
  plan(options: MethodOptions, setup: MethodSetup): MethodPlan;
}
