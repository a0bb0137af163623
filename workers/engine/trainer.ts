/**
 * The training loop, for every method: a run is a model (built as its method says) trained
 * through the method's phases, each of epochs of shuffled mini-batches with validation every
 * epoch (or every K steps) and the best validation weights restored at its end; the test split is
 * scored once, with the final model. Streams batched progress events and honours pause / resume /
 * stop / live setting changes between steps. While paused in a phase that offers it, a method's
 * retrain of a snapshot runs aside on a lane of its own (see Lane and retrainSnapshotNow). The
 * model stays alive afterwards (KeptRun).
 */
import * as tf from '@tensorflow/tfjs';
import type { CtrDataset } from '../data/dataset';
import { featureCounts } from '../data/featureCounts';
import type {
  AsideProgress,
  EngineEvent,
  EvaluationMetrics,
  MemoryInfo,
  MethodChoice,
  ModelSummary,
  PhaseResult,
  RunResult,
  TestMetrics,
  TrainConfig,
} from '../protocol';
import { NO_METHOD, TRAIN_OPTIONS } from '../protocol';
import { derivedSeed, Rng } from '../rng';
import { BatchPlanner } from '../embedding/batchPlan';
import type { RankingModel } from '../models/rankingModel';
import { buildModel } from '../models/buildModel';
import {
  accuracy,
  calibrationRatio,
  logloss,
  meanPerBatchAuc,
  rocAuc,
} from '../metrics/classification';
import { TorchAdam, TorchSgd, type DenseOptimizerWithLearningRate } from '../optim/denseOptimizers';
import { learningRateAt, type LearningRateSchedule } from '../optim/lrSchedules';
import type { CompressionMethod, MethodPhase, MethodPlan, PhaseContext } from '../methods/method';
import { methodById } from '../methods/registry';
import type { OptionValue } from '../options';
import type { ModelSnapshot } from '../export/modelSnapshot';
import { copyModelWeights, ModelCheckpoint } from './checkpoint';
import { KeptRun } from './keptRuns';
import { datasetForModel } from './modelDataset';
import { ProgressStream } from './progressStream';
import { type BatchBuffers, makeBatchBuffers, predictProbabilities, trainStep } from './trainStep';
import { asideEvents } from './asideEvents';
import { fieldMeanSizes } from '../embedding/prunedTable';
import { type RunControl, yieldToEventLoop } from './runControl';
import { givesWayToPage } from './pageDrawing';

export interface TrainOptions {
  progressEverySteps: number;
  progressEveryMs: number;
  bayesTestAuc: number | null;
  /** Bytes held by finished runs, for the memory figures the progress events carry. */
  keptRunBytes?: () => number;
  /**
   * A finished model of the same architecture to start from (its weights are copied before the
   * first step), e.g. UMEC's solver starting from a dense run kept in the worker.
   */
  startFrom?: RankingModel;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  progressEverySteps: 25,
  progressEveryMs: 100,
  bayesTestAuc: null,
};

export function memoryInfo(hostEmbeddingBytes: number, keptRunBytes: number): MemoryInfo {
  const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return {
    numTensors: mem.numTensors,
    numBytes: mem.numBytes,
    numBytesInGPU: typeof mem.numBytesInGPU === 'number' ? mem.numBytesInGPU : null,
    hostEmbeddingBytes,
    keptRunBytes,
  };
}

/** A run's method, its plan for this dataset, and the training settings its model is built with. */
export interface PlannedRun {
  dataset: CtrDataset;
  method: CompressionMethod;
  plan: MethodPlan;
  modelConfig: TrainConfig;
}

/** Sets up `choice` (options already validated) on the dataset `train.model` sees. */
export function planRun(
  fullDataset: CtrDataset,
  train: TrainConfig,
  choice: MethodChoice,
): PlannedRun {
  const dataset = datasetForModel(fullDataset, train.model);
  const method = methodById(choice.id);
  let counts: Int32Array | null = null;
  const plan = method.plan(choice.options, {
    dataset,
    train,
    featureCounts: () => (counts ??= featureCounts(dataset, dataset.split.train)),
  });
  return { dataset, method, plan, modelConfig: { ...train, ...plan.modelOverrides } };
}

/** Parameters, bytes and FLOPs of a model, with the uncompressed embedding as the reference. */
export function summarizeModel(model: RankingModel, denseEmbeddingParams: number): ModelSummary {
  const { parts, flopsPerExample } = model.shape();
  return {
    parts,
    totalParams: parts.reduce((a, p) => a + p.params, 0),
    totalBytes: parts.reduce((a, p) => a + p.bytes, 0),
    denseEmbeddingParams,
    flopsPerExample,
  };
}

/**
 * What a run with these settings would build, without allocating host tables or training: the
 * model card shown before Train.
 */
export function describeRun(
  fullDataset: CtrDataset,
  train: TrainConfig,
  choice: MethodChoice,
): ModelSummary {
  const { dataset, plan, modelConfig } = planRun(fullDataset, train, choice);
  const model = buildModel(dataset, modelConfig, new Rng(train.seed).fork(1), {
    embedding: plan.embedding,
    allocate: false,
  });
  try {
    return summarizeModel(model, dataset.totalVocabulary * train.embeddingDim);
  } finally {
    model.dispose();
  }
}

/** Rows per forward pass when a split is scored. */
export const SCORING_BATCH_ROWS = 4096;

/**
 * Rows per forward pass when a run scores a split: SCORING_BATCH_ROWS, or the run's training
 * batch where the training gives way to the page's charts (pageDrawing.ts). The loop can give
 * way only between two passes, and on an emulated GPU one pass of 4096 rows held both cores for
 * about a second, so the charts drawn meanwhile waited for a core (tasks of 60-110 ms at each
 * evaluation). A pass of the training batch is shorter than a training step. Predictions do not
 * depend on the batch (inference mode: each row is scored on its own).
 */
export function scoringBatchRows(trainBatch: number): number {
  return givesWayToPage() ? Math.min(SCORING_BATCH_ROWS, trainBatch) : SCORING_BATCH_ROWS;
}

/** Predicted probabilities for `rows`, with their labels. */
async function scoreSplit(
  model: RankingModel,
  planner: BatchPlanner,
  ds: CtrDataset,
  rows: Int32Array,
  batchRows = SCORING_BATCH_ROWS,
): Promise<[Float32Array, Float32Array]> {
  const probs = await predictProbabilities(model, planner, ds, rows, batchRows, yieldToEventLoop);
  return [probs, Float32Array.from(rows, (r) => ds.labels[r])];
}

export async function evaluateSplit(
  model: RankingModel,
  planner: BatchPlanner,
  ds: CtrDataset,
  rows: Int32Array,
  batchRows = SCORING_BATCH_ROWS,
): Promise<TestMetrics> {
  const [probs, labels] = await scoreSplit(model, planner, ds, rows, batchRows);
  return {
    auc: rocAuc(probs, labels),
    logloss: logloss(probs, labels),
    accuracy: accuracy(probs, labels),
    calibration: calibrationRatio(probs, labels),
    meanPerBatchAuc: meanPerBatchAuc(probs, labels, 1024).meanAuc,
  };
}

/** The dense optimizers of a model: one for its parameters, one per own-settings group. */
class DenseOptimizers {
  readonly optimizers: {
    optimizer: DenseOptimizerWithLearningRate;
    learningRateScale: () => number;
  }[];
  readonly variables: tf.Variable[];

  constructor(model: RankingModel, cfg: TrainConfig) {
    const groups = model.embedding.parameterGroups;
    const grouped = new Set(groups.flatMap((g) => g.variables));
    const main = model.denseVariables.filter((v) => !grouped.has(v));
    this.optimizers = [
      { optimizer: denseOptimizerOf(main, cfg, cfg.weightDecay), learningRateScale: () => 1 },
      // A group's scale is read at every change of rate: a method may change it while it runs.
      ...groups.map((g) => ({
        optimizer: denseOptimizerOf(g.variables, cfg, g.weightDecay ?? cfg.weightDecay),
        learningRateScale: () => g.learningRateScale ?? 1,
      })),
    ];
    this.variables = [...main, ...groups.flatMap((g) => g.variables)];
  }

  setLearningRate(lr: number): void {
    for (const o of this.optimizers) o.optimizer.learningRate = lr * o.learningRateScale();
  }

  dispose(): void {
    for (const o of this.optimizers) o.optimizer.dispose();
  }
}

function denseOptimizerOf(
  variables: tf.Variable[],
  cfg: TrainConfig,
  weightDecay: number,
): DenseOptimizerWithLearningRate {
  if (cfg.denseOptimizer === 'sgd') {
    return new TorchSgd(variables, {
      learningRate: cfg.learningRate,
      momentum: cfg.momentum,
      dampening: 0,
      nesterov: false,
      weightDecay,
    });
  }
  return new TorchAdam(variables, {
    learningRate: cfg.learningRate,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay,
    decoupledWeightDecay: cfg.denseOptimizer === 'adamw',
  });
}

/** Per-epoch schedules: 'step' halves the rate every epoch, 'cosine' anneals it to 0. */
function scheduleOf(cfg: TrainConfig, epochs: number): LearningRateSchedule {
  switch (cfg.lrSchedule) {
    case 'constant':
      return { kind: 'constant' };
    case 'step':
      return { kind: 'step', stepSize: 1, gamma: 0.5 };
    case 'cosine':
      return { kind: 'cosine', tMax: Math.max(1, epochs), etaMin: 0 };
  }
}

export interface ExperimentOutcome {
  result: RunResult;
  /** The trained model and what the method kept; the caller keeps or disposes it. */
  kept: KeptRun;
}

/**
 * What a phase trains and the state it trains with. The run has one (its model, optimizers,
 * data order, step count and progress stream); a phase run aside while the run is paused
 * (PEP's retrain of a snapshot now) gets one of its own, so the run resumes exactly as it
 * paused: nothing of the run's lane changes while the aside one trains.
 */
interface Lane {
  /** A phase may replace both (UMEC's hard prune: fewer fields, smaller layers); see replaceModel. */
  model: RankingModel;
  ds: CtrDataset;
  planner: BatchPlanner;
  buffers: BatchBuffers;
  optimizers: DenseOptimizers;
  /** The best evaluation's weights in the phase in progress. */
  best: ModelCheckpoint | null;
  /** Training steps so far (for an aside lane: from the step the run was paused at). */
  step: number;
  readonly shuffleRng: Rng;
  /** The training rows, shuffled in place every epoch. */
  readonly trainRows: Int32Array;
  readonly stream: ProgressStream;
  readonly control: RunControl;
  readonly emit: (event: EngineEvent) => void;
  /** The learning rate before the schedule (a live change sets it), and the one in use. */
  baseLearningRate: number;
  learningRate: number;
  stepMsTotal: number;
  stoppedEarly: boolean;
  stopReason: string | null;
  stoppedByPatience: boolean;
  /** Set on an aside lane: the run's step it was paused at, and what the UI is told of it. */
  readonly aside: AsideProgress | null;
}

function setLaneLearningRate(lane: Lane, lr: number): void {
  lane.learningRate = lr;
  lane.optimizers.setLearningRate(lr);
  for (const t of lane.model.tables) t.setLearningRate(lr);
}

/**
 * Trains `train.model` compressed by `method` (options validated by the caller) on `fullDataset`.
 * The returned KeptRun owns the model: the caller disposes it when it is no longer wanted.
 */
export async function runExperiment(
  fullDataset: CtrDataset,
  train: TrainConfig,
  methodChoice: MethodChoice,
  control: RunControl,
  emit: (event: EngineEvent) => void,
  options: TrainOptions = DEFAULT_TRAIN_OPTIONS,
): Promise<ExperimentOutcome> {
  // One options object for the plan and the phases: a live change reaches both.
  const methodOptions: Record<string, OptionValue> = { ...methodChoice.options };
  const planned = planRun(fullDataset, train, { ...methodChoice, options: methodOptions });
  const { method, plan, modelConfig: cfg } = planned;
  const rng = new Rng(train.seed);
  const firstModel = buildModel(planned.dataset, cfg, rng.fork(1), { embedding: plan.embedding });
  if (options.startFrom) {
    try {
      copyModelWeights(options.startFrom, firstModel);
    } catch (err) {
      firstModel.dispose();
      plan.dispose?.();
      throw err;
    }
  }
  /** The uncompressed embedding the model card compares with (the dataset as first planned). */
  const denseEmbeddingParams = planned.dataset.totalVocabulary * train.embeddingDim;
  const stepsPerEpoch = Math.ceil(planned.dataset.split.train.length / cfg.batchSize);
  /** Scores `rows` in passes the page's charts can draw between (scoringBatchRows). */
  const evaluateRows = (
    model: RankingModel,
    planner: BatchPlanner,
    ds: CtrDataset,
    rows: Int32Array,
  ): Promise<TestMetrics> =>
    evaluateSplit(model, planner, ds, rows, scoringBatchRows(cfg.batchSize));
  const methodResult: Record<string, number | string | number[]> = {};
  const artifacts = new Map<string, ArrayBufferView>();
  const snapshots: ModelSnapshot[] = [];
  const evaluations: EvaluationMetrics[] = [];
  /** Every phase's result in the order they ended (phases run aside included). */
  const phaseResults: PhaseResult[] = [];
  /** The run's own phases' results (what its final model comes from). */
  const mainResults: PhaseResult[] = [];
  const started = performance.now();

  /** A lane training `model` on `ds`; its bytes are reported with the run's memory figures. */
  const makeLane = (
    model: RankingModel,
    ds: CtrDataset,
    laneControl: RunControl,
    laneEmit: (event: EngineEvent) => void,
    shuffleRng: Rng,
    aside: AsideProgress | null,
    baseLearningRate: number,
  ): Lane => {
    const lane: Lane = {
      model,
      ds,
      planner: new BatchPlanner(ds.totalVocabulary),
      buffers: makeBatchBuffers(cfg.batchSize, ds.numFields, ds.numDense ?? 0),
      optimizers: new DenseOptimizers(model, cfg),
      best: null,
      step: aside?.pausedAt ?? 0,
      shuffleRng,
      trainRows: Int32Array.from(ds.split.train),
      stream: new ProgressStream(
        laneEmit,
        () => memoryInfo(hostBytes(), options.keptRunBytes?.() ?? 0),
        options.progressEverySteps,
        options.progressEveryMs,
      ),
      control: laneControl,
      emit: laneEmit,
      baseLearningRate,
      learningRate: cfg.learningRate,
      stepMsTotal: 0,
      stoppedEarly: false,
      stopReason: null,
      stoppedByPatience: false,
      aside,
    };
    const hostBytes = () =>
      lane.model.tables.reduce((a, t) => a + t.bytes, lane.planner.bytes) + (lane.best?.bytes ?? 0);
    return lane;
  };

  const main = makeLane(
    firstModel,
    planned.dataset,
    control,
    emit,
    rng.fork(2),
    null,
    cfg.learningRate,
  );

  /** A mark on the step axis; an aside lane's go at the step the run was paused at. */
  const markerOf = (lane: Lane) => (label: string) => {
    lane.stream.flush(false);
    lane.emit({ type: 'marker', step: lane.aside?.pausedAt ?? lane.step, label });
  };

  const keepSnapshot = (lane: Lane, index: number, snapshot: ModelSnapshot) => {
    if (!Number.isInteger(index) || index < 0 || index > snapshots.length) {
      throw new Error(`snapshot ${index + 1} kept before snapshot ${snapshots.length + 1}`);
    }
    snapshots[index] = snapshot;
    const { embedding } = snapshot;
    lane.emit({
      type: 'snapshot',
      snapshot: {
        number: index + 1,
        label: snapshot.label,
        step: snapshot.step,
        retrained: snapshot.retrained,
        nonZeros: embedding.values.length,
        entries: embedding.rows * embedding.dim,
        validationAuc: snapshot.metrics.validationAuc,
        testAuc: snapshot.metrics.testAuc,
        fieldSizes:
          embedding.rows === lane.ds.totalVocabulary
            ? fieldMeanSizes(embedding, lane.ds.fieldDims, lane.ds.fieldOffsets)
            : [],
        fieldNames: [...lane.ds.fieldNames],
      },
    });
  };

  const runPhase = async (lane: Lane, phase: MethodPhase, index: number): Promise<PhaseResult> => {
    const epochs = phase.budget ? phase.budget.epochs : cfg.epochs;
    const maxSteps = phase.budget ? (phase.budget.maxSteps ?? 0) : cfg.maxSteps;
    const planned =
      epochs === 0
        ? 0
        : maxSteps > 0
          ? Math.min(maxSteps, stepsPerEpoch * epochs)
          : stepsPerEpoch * epochs;
    const schedule = scheduleOf(cfg, epochs);
    const { control: laneControl, stream, shuffleRng, trainRows } = lane;
    const marker = markerOf(lane);
    const phaseStart = lane.step;
    let phaseEpoch = 0;
    let lossSinceEval = 0;
    let stepsSinceEval = 0;
    let bestAuc = Number.NEGATIVE_INFINITY;
    let bestIndex = -1;
    const phaseEvaluations: EvaluationMetrics[] = [];
    let endReason: string | null = null;
    lane.best?.dispose();
    lane.best = null;
    // Until the phase's first evaluation, its starting weights are the last good ones.
    let start: ModelCheckpoint | null = null;

    /** Set while the phase's `begin` runs: the only time the model may be replaced. */
    let inBegin = false;
    let replaced = false;
    const ctx: PhaseContext = {
      get model() {
        return lane.model;
      },
      get dataset() {
        return lane.ds;
      },
      train: cfg,
      options: methodOptions,
      get step() {
        return lane.step;
      },
      get phaseStep() {
        return lane.step - phaseStart;
      },
      get learningRate() {
        return lane.learningRate;
      },
      record: (series, value) => stream.record(series, value),
      vector: (series, values, labels) => stream.vector(series, lane.step, values, labels),
      histogram: (series, edges, counts) => stream.histogram(series, lane.step, edges, counts),
      points: (series, points) => stream.points(series, lane.step, points),
      addPhase: (next) => {
        if (lane.aside) throw new Error('A phase run while the run is paused adds no phases');
        plan.phases.push(next);
      },
      keep: (name, data) => artifacts.set(name, data),
      keepSnapshot: (i, snapshot) => keepSnapshot(lane, i, snapshot),
      refreshLearningRates: () => {
        const lr = learningRateAt(schedule, lane.baseLearningRate, Math.max(0, phaseEpoch - 1));
        setLaneLearningRate(lane, lr);
      },
      marker,
      scoreValidation: () =>
        evaluateRows(lane.model, lane.planner, lane.ds, lane.ds.split.validation),
      result: methodResult,
      replaceModel: (next, nextDataset) => {
        if (!inBegin || lane.aside) {
          throw new Error('A method may replace the model only in a phase’s begin');
        }
        if (nextDataset.numRows !== lane.ds.numRows) {
          throw new Error(
            `The replacing model's dataset has ${nextDataset.numRows} rows, the run's ${lane.ds.numRows}`,
          );
        }
        lane.model.dispose();
        lane.model = next;
        if (nextDataset !== lane.ds) {
          lane.ds = nextDataset;
          lane.planner = new BatchPlanner(lane.ds.totalVocabulary);
          lane.buffers = makeBatchBuffers(cfg.batchSize, lane.ds.numFields, lane.ds.numDense ?? 0);
        }
        replaced = true;
      },
    };
    if (!lane.aside) mainContext = { ctx, phase, index };

    const skipped = phase.skip?.(ctx) ?? null;
    if (skipped) {
      marker(`${phase.label} skipped: ${skipped}`);
      return {
        id: phase.id,
        label: phase.label,
        steps: 0,
        endReason: null,
        bestEvaluation: null,
        test: null,
        skipped,
      };
    }
    stream.phase = index;
    stream.totalSteps = lane.step + planned;
    stream.flush(false);
    if (lane.aside) {
      lane.aside.plannedSteps = planned;
      lane.emit({ type: 'aside', aside: { ...lane.aside } });
      marker(`${phase.label} (the run paused at step ${lane.aside.pausedAt})`);
    } else {
      emit({
        type: 'phase',
        phase: {
          index,
          count: plan.phases.length,
          id: phase.id,
          label: phase.label,
          startStep: lane.step,
          plannedSteps: planned,
          retrainsSnapshotsWhilePaused: phase.retrainSnapshotNow !== undefined,
        },
      });
      if (index > 0) marker(phase.label);
    }
    inBegin = true;
    try {
      await phase.begin?.(ctx);
    } finally {
      inBegin = false;
    }
    if (index > 0 || replaced || lane.aside) {
      // A new phase trains with fresh optimizer state, as a retrain script builds a new optimizer
      // (and a replaced model has new variables to optimize).
      lane.optimizers.dispose();
      lane.optimizers = new DenseOptimizers(lane.model, cfg);
      for (const t of lane.model.tables) t.resetOptimizerState();
    }
    start = ModelCheckpoint.take(lane.model);

    /** Scores the validation split, keeps the best weights; returns true when patience ran out. */
    const runEvaluation = async (): Promise<boolean> => {
      const { model, planner, ds } = lane;
      stream.flush();
      // Without validation rows there is nothing to score or select (a timing benchmark).
      if (ds.split.validation.length === 0) {
        lossSinceEval = 0;
        stepsSinceEval = 0;
        return false;
      }
      const batchRows = scoringBatchRows(cfg.batchSize);
      const val = await evaluateSplit(model, planner, ds, ds.split.validation, batchRows);
      const testAuc =
        cfg.testAtEachEvaluation && ds.split.test.length > 0
          ? rocAuc(...(await scoreSplit(model, planner, ds, ds.split.test, batchRows)))
          : null;
      const metrics: EvaluationMetrics = {
        phase: phase.id,
        epoch: Math.round(((lane.step - phaseStart) / stepsPerEpoch) * 1000) / 1000,
        step: lane.step,
        validationAuc: val.auc,
        validationLogloss: val.logloss,
        trainLoss: stepsSinceEval > 0 ? lossSinceEval / stepsSinceEval : Number.NaN,
        testAuc,
        seconds: (performance.now() - started) / 1000,
        method: (await phase.evaluationSeries?.(ctx)) ?? {},
        ...(lane.aside ? { pausedAt: lane.aside.pausedAt } : {}),
      };
      lossSinceEval = 0;
      stepsSinceEval = 0;
      evaluations.push(metrics);
      phaseEvaluations.push(metrics);
      lane.emit({ type: 'evaluation', metrics });
      await phase.afterEvaluation?.(metrics, ctx);
      stream.flush();
      start?.dispose();
      start = null;
      // Model selection on validation AUC: keep the best evaluation's weights.
      if (!(val.auc <= bestAuc)) {
        bestAuc = val.auc;
        bestIndex = phaseEvaluations.length - 1;
        lane.best?.dispose();
        lane.best = ModelCheckpoint.take(model);
        return false;
      }
      return (
        phase.usePatience !== false &&
        cfg.earlyStoppingPatience > 0 &&
        phaseEvaluations.length - 1 - bestIndex >= cfg.earlyStoppingPatience
      );
    };

    const applyTuning = () => {
      for (const [key, value] of laneControl.takeTuning()) {
        const [section, name] = key.split('.');
        if (section === 'train' && name === 'learningRate') {
          marker(`${TRAIN_OPTIONS.learningRate.label} ${lane.baseLearningRate} → ${String(value)}`);
          lane.baseLearningRate = value as number;
          const lr = learningRateAt(schedule, lane.baseLearningRate, Math.max(0, phaseEpoch - 1));
          setLaneLearningRate(lane, lr);
        } else if (section === 'method') {
          const label = method.spec.options[name]?.label ?? name;
          marker(`${label} ${String(methodOptions[name])} → ${String(value)}`);
          methodOptions[name] = value;
          phase.optionChanged?.(name, ctx);
        }
      }
    };

    if (phase.evaluateAtStart && lane.ds.split.validation.length > 0) await runEvaluation();

    training: for (let epoch = 1; epoch <= epochs; epoch++) {
      phaseEpoch = epoch;
      stream.epoch = epoch;
      // Schedules step per epoch, as torch's schedulers do in the reference training loops.
      const lr = learningRateAt(schedule, lane.baseLearningRate, epoch - 1);
      setLaneLearningRate(lane, lr);
      shuffleRng.shuffle(trainRows);
      let epochBatches = 0;
      for (let start = 0; start < trainRows.length; start += cfg.batchSize) {
        // A batch of one breaks BatchNorm's batch statistics (torch raises); skip that remainder.
        const count = Math.min(cfg.batchSize, trainRows.length - start);
        if (count < 2 && cfg.batchNorm && cfg.model !== 'fm' && cfg.model !== 'dlrm') continue;
        if (laneControl.paused) {
          stream.flush();
          lane.emit({ type: 'state', state: 'paused' });
          await laneControl.waitWhilePaused();
          if (!laneControl.stopRequested) lane.emit({ type: 'state', state: 'running' });
        }
        if (laneControl.stopRequested) {
          lane.stoppedEarly = true;
          endReason = 'stopped by the user';
          break training;
        }
        if (maxSteps > 0 && lane.step - phaseStart >= maxSteps) break training;
        applyTuning();
        const t0 = performance.now();
        const loss = await trainStep(
          lane.model,
          {
            optimizers: lane.optimizers.optimizers.map((o) => o.optimizer),
            variables: lane.optimizers.variables,
            lossTerm: phase.lossTerm ? (m) => phase.lossTerm!(m) : null,
            gradClipNorm: cfg.gradClipNorm,
          },
          lane.planner,
          lane.ds,
          trainRows,
          start,
          count,
          lane.buffers,
          derivedSeed(cfg.seed, lane.step, 17),
        );
        const ms = performance.now() - t0;
        lane.stepMsTotal += ms;
        lane.step++;
        stream.step(lane.step, loss, ms);
        if (!Number.isFinite(loss)) {
          lane.stopReason = `Training diverged: the loss became ${loss} at step ${lane.step}; ${
            lane.best
              ? `the weights of the best evaluation (step ${phaseEvaluations[bestIndex].step}) were kept`
              : "the phase's starting weights were kept"
          }`;
          endReason = lane.stopReason;
          break training;
        }
        lossSinceEval += loss;
        stepsSinceEval++;
        epochBatches++;
        if (phase.afterStep) {
          // A method's per-step work (masks, counts, duals) is part of its step time.
          const t1 = performance.now();
          await phase.afterStep(ctx);
          const extra = performance.now() - t1;
          stream.addTime(extra);
          lane.stepMsTotal += extra;
        }
        stream.maybeFlush();
        const done = phase.doneReason?.(ctx) ?? null;
        if (done) {
          endReason = done;
          break training;
        }
        if (cfg.evalEverySteps > 0 && lane.step % cfg.evalEverySteps === 0) {
          if (await runEvaluation()) {
            lane.stoppedByPatience = true;
            endReason = 'no better validation AUC within the patience';
            break training;
          }
        }
        await yieldToEventLoop();
      }
      stream.flush();
      if (epochBatches === 0) break;
      if (cfg.evalEverySteps === 0 && (await runEvaluation())) {
        lane.stoppedByPatience = true;
        endReason = 'no better validation AUC within the patience';
        break;
      }
    }
    // The weights after the phase's last step get their evaluation too (step-based evaluation,
    // a method's own stop), unless the run is being abandoned.
    if (!lane.stoppedEarly && !lane.stopReason && !lane.stoppedByPatience && stepsSinceEval > 0) {
      await runEvaluation();
    }
    stream.flush();
    // After divergence the current weights are not usable, whichever evaluation was best.
    const restore = phase.restoreBest !== false || lane.stopReason !== null;
    const current = lane.best as ModelCheckpoint | null;
    if (restore && current && (bestIndex !== phaseEvaluations.length - 1 || lane.stopReason)) {
      current.restore(lane.model);
    } else if (lane.stopReason && start) {
      start.restore(lane.model);
    }
    (start as ModelCheckpoint | null)?.dispose();
    // A retrain stopped while the run is paused is dropped: nothing to score or record.
    const abandoned = lane.aside !== null && lane.stoppedEarly;
    const test =
      phase.scoreTest && lane.ds.split.test.length > 0 && !abandoned
        ? await evaluateRows(lane.model, lane.planner, lane.ds, lane.ds.split.test)
        : null;
    const result: PhaseResult = {
      id: phase.id,
      label: phase.label,
      steps: lane.step - phaseStart,
      endReason,
      bestEvaluation: bestIndex >= 0 && restore ? phaseEvaluations[bestIndex] : null,
      test,
      skipped: null,
    };
    phaseResults.push(result);
    if (!lane.aside) mainResults.push(result);
    if (!abandoned) await phase.end?.(ctx, result);
    stream.flush();
    return result;
  };

  /** The run's phase in progress and its context (what a retrain while paused starts from). */
  let mainContext: { ctx: PhaseContext; phase: MethodPhase; index: number } | null = null;

  /**
   * Retrains snapshot `snapshot` now, while the run is paused, on a lane of its own: a model
   * built as the run's was (the phase rewinds it), fresh optimizers, its own data order (a
   * stream of its own, derived from the seed and the paused step, so the run's shuffling stream
   * is not drawn from) and progress stream. Its phase result and evaluations join the run's.
   */
  const retrainSnapshotNow = (snapshot: number): Promise<PhaseResult> =>
    control.runAside(async (asideControl) => {
      const paused = mainContext;
      if (!paused?.phase.retrainSnapshotNow) {
        throw new Error(
          `${paused ? `The phase "${paused.phase.label}"` : 'The run'} retrains no snapshot while paused`,
        );
      }
      const phase = paused.phase.retrainSnapshotNow(snapshot, paused.ctx);
      const pausedAt = main.step;
      const aside: AsideProgress = {
        label: phase.label,
        snapshot,
        state: 'running',
        pausedAt,
        stepsDone: 0,
        plannedSteps: 0,
      };
      const asideEmit = asideEvents(emit, aside);
      const model = buildModel(main.ds, cfg, new Rng(train.seed).fork(1), {
        embedding: plan.embedding,
      });
      let lane: Lane | null = null;
      try {
        lane = makeLane(
          model,
          main.ds,
          asideControl,
          asideEmit,
          new Rng(derivedSeed(cfg.seed, pausedAt, 29 + snapshot)),
          aside,
          main.baseLearningRate,
        );
        const result = await runPhase(lane, phase, paused.index);
        aside.state = lane.stoppedEarly ? 'stopped' : 'done';
        if (lane.stoppedEarly) {
          markerOf(lane)(`${phase.label} stopped: nothing recorded for the snapshot`);
        }
        return result;
      } catch (err) {
        aside.state = 'failed';
        throw err;
      } finally {
        lane?.best?.dispose();
        lane?.optimizers.dispose();
        model.dispose();
        emit({ type: 'aside', aside: { ...aside } });
      }
    });

  emit({ type: 'state', state: 'running' });
  control.retrainSnapshotNow = retrainSnapshotNow;
  let kept: KeptRun | null = null;
  try {
    for (let i = 0; i < plan.phases.length; i++) {
      main.stoppedByPatience = false;
      const result = await runPhase(main, plan.phases[i], i);
      if (result.skipped) {
        phaseResults.push(result);
        mainResults.push(result);
      }
      if (main.stoppedEarly || main.stopReason) break;
    }
    control.retrainSnapshotNow = null;
    mainContext = null;
    const { model, planner, ds } = main;
    main.stream.flush();
    const finalBest = mainResults.filter((p) => !p.skipped).at(-1)?.bestEvaluation ?? null;
    let test: TestMetrics | null = null;
    if (ds.split.test.length > 0 && main.step > 0) {
      test = await evaluateRows(model, planner, ds, ds.split.test);
      emit({ type: 'test', metrics: test });
    }
    const summary = summarizeModel(model, denseEmbeddingParams);
    const result: RunResult = {
      runId: 0,
      method: { id: method.spec.id, label: method.spec.label },
      stoppedEarly: main.stoppedEarly,
      stopReason: main.stopReason,
      bestEpoch: finalBest?.epoch ?? null,
      bestStep: finalBest?.step ?? null,
      stoppedByPatience: main.stoppedByPatience,
      steps: main.step,
      evaluations,
      phases: phaseResults,
      test,
      bayesTestAuc: options.bayesTestAuc,
      model: summary,
      methodResult,
      msPerStep: main.step > 0 ? main.stepMsTotal / main.step : 0,
    };
    kept = new KeptRun(
      `${method.spec.label} · ${cfg.model}`,
      train,
      methodChoice,
      ds,
      model,
      result,
    );
    for (const [name, data] of artifacts) kept.artifacts.set(name, data);
    kept.snapshots.push(...snapshots);
    return { result, kept };
  } finally {
    control.retrainSnapshotNow = null;
    (main.best as ModelCheckpoint | null)?.dispose();
    main.optimizers.dispose();
    plan.dispose?.();
    if (!kept) main.model.dispose();
  }
}

/** Trains the dense model (method 'none') and frees it: the plain training loop of tests. */
export async function trainCtr(
  fullDataset: CtrDataset,
  cfg: TrainConfig,
  control: RunControl,
  emit: (event: EngineEvent) => void,
  options: TrainOptions = DEFAULT_TRAIN_OPTIONS,
): Promise<RunResult> {
  const { result, kept } = await runExperiment(fullDataset, cfg, NO_METHOD, control, emit, options);
  kept.dispose();
  return result;
}
