/**
 * The training loop, for every method: a run is a model (built as its method says) trained
 * through the method's phases, each of epochs of shuffled mini-batches with validation every
 * epoch (or every K steps) and the best validation weights restored at its end; the test split is
 * scored once, with the final model. Streams batched progress events and honours pause / resume /
 * stop / live setting changes between steps. The model stays alive afterwards (KeptRun).
 */
import * as tf from '@tensorflow/tfjs';
import type { CtrDataset } from '../data/dataset';
import { featureCounts } from '../data/featureCounts';
import type {
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
import { makeBatchBuffers, predictProbabilities, trainStep } from './trainStep';
import { type RunControl, yieldToEventLoop } from './runControl';

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

/** Predicted probabilities for `rows`, with their labels. */
async function scoreSplit(
  model: RankingModel,
  planner: BatchPlanner,
  ds: CtrDataset,
  rows: Int32Array,
): Promise<[Float32Array, Float32Array]> {
  const probs = await predictProbabilities(model, planner, ds, rows, 4096, yieldToEventLoop);
  return [probs, Float32Array.from(rows, (r) => ds.labels[r])];
}

export async function evaluateSplit(
  model: RankingModel,
  planner: BatchPlanner,
  ds: CtrDataset,
  rows: Int32Array,
): Promise<TestMetrics> {
  const [probs, labels] = await scoreSplit(model, planner, ds, rows);
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
  // A phase may replace both (UMEC's hard prune: fewer fields, smaller layers); see replaceModel.
  let ds = planned.dataset;
  const rng = new Rng(train.seed);
  let model = buildModel(ds, cfg, rng.fork(1), { embedding: plan.embedding });
  if (options.startFrom) {
    try {
      copyModelWeights(options.startFrom, model);
    } catch (err) {
      model.dispose();
      plan.dispose?.();
      throw err;
    }
  }
  /** The uncompressed embedding the model card compares with (the dataset as first planned). */
  const denseEmbeddingParams = ds.totalVocabulary * train.embeddingDim;
  const shuffleRng = rng.fork(2);
  let planner = new BatchPlanner(ds.totalVocabulary);
  let buffers = makeBatchBuffers(cfg.batchSize, ds.numFields, ds.numDense ?? 0);
  const trainRows = Int32Array.from(ds.split.train);
  const hostBytes = () =>
    model.tables.reduce((a, t) => a + t.bytes, planner.bytes) + (best?.bytes ?? 0);
  const stream = new ProgressStream(
    emit,
    () => memoryInfo(hostBytes(), options.keptRunBytes?.() ?? 0),
    options.progressEverySteps,
    options.progressEveryMs,
  );
  const methodResult: Record<string, number | string | number[]> = {};
  const artifacts = new Map<string, ArrayBufferView>();
  const snapshots: ModelSnapshot[] = [];
  const evaluations: EvaluationMetrics[] = [];
  const phaseResults: PhaseResult[] = [];
  const stepsPerEpoch = Math.ceil(trainRows.length / cfg.batchSize);
  let baseLearningRate = cfg.learningRate;
  let step = 0;
  let stepMsTotal = 0;
  let stoppedEarly = false;
  let stopReason: string | null = null;
  let stoppedByPatience = false;
  let best = null as ModelCheckpoint | null;
  let optimizers = new DenseOptimizers(model, cfg);
  /** The learning rate the dense optimizers and the tables step with now. */
  let learningRate = cfg.learningRate;
  const setLearningRate = (lr: number) => {
    learningRate = lr;
    optimizers.setLearningRate(lr);
    for (const t of model.tables) t.setLearningRate(lr);
  };
  const started = performance.now();

  const marker = (label: string) => {
    stream.flush(false);
    emit({ type: 'marker', step, label });
  };

  const runPhase = async (phase: MethodPhase, index: number): Promise<PhaseResult> => {
    const epochs = phase.budget ? phase.budget.epochs : cfg.epochs;
    const maxSteps = phase.budget ? (phase.budget.maxSteps ?? 0) : cfg.maxSteps;
    const planned =
      epochs === 0
        ? 0
        : maxSteps > 0
          ? Math.min(maxSteps, stepsPerEpoch * epochs)
          : stepsPerEpoch * epochs;
    const schedule = scheduleOf(cfg, epochs);
    const phaseStart = step;
    let phaseEpoch = 0;
    let lossSinceEval = 0;
    let stepsSinceEval = 0;
    let bestAuc = Number.NEGATIVE_INFINITY;
    let bestIndex = -1;
    const phaseEvaluations: EvaluationMetrics[] = [];
    let endReason: string | null = null;
    best?.dispose();
    best = null;
    // Until the phase's first evaluation, its starting weights are the last good ones.
    let start: ModelCheckpoint | null = null;

    /** Set while the phase's `begin` runs: the only time the model may be replaced. */
    let inBegin = false;
    let replaced = false;
    const ctx: PhaseContext = {
      get model() {
        return model;
      },
      get dataset() {
        return ds;
      },
      train: cfg,
      options: methodOptions,
      get step() {
        return step;
      },
      get phaseStep() {
        return step - phaseStart;
      },
      get learningRate() {
        return learningRate;
      },
      record: (series, value) => stream.record(series, value),
      vector: (series, values, labels) => stream.vector(series, step, values, labels),
      histogram: (series, edges, counts) => stream.histogram(series, step, edges, counts),
      points: (series, points) => stream.points(series, step, points),
      addPhase: (next) => {
        plan.phases.push(next);
      },
      keep: (name, data) => artifacts.set(name, data),
      keepSnapshot: (index, snapshot) => {
        if (!Number.isInteger(index) || index < 0 || index > snapshots.length) {
          throw new Error(`snapshot ${index + 1} kept before snapshot ${snapshots.length + 1}`);
        }
        snapshots[index] = snapshot;
      },
      refreshLearningRates: () => {
        const lr = learningRateAt(schedule, baseLearningRate, Math.max(0, phaseEpoch - 1));
        setLearningRate(lr);
      },
      marker,
      scoreValidation: () => evaluateSplit(model, planner, ds, ds.split.validation),
      result: methodResult,
      replaceModel: (next, nextDataset) => {
        if (!inBegin) throw new Error('A method may replace the model only in a phase’s begin');
        if (nextDataset.numRows !== ds.numRows) {
          throw new Error(
            `The replacing model's dataset has ${nextDataset.numRows} rows, the run's ${ds.numRows}`,
          );
        }
        model.dispose();
        model = next;
        if (nextDataset !== ds) {
          ds = nextDataset;
          planner = new BatchPlanner(ds.totalVocabulary);
          buffers = makeBatchBuffers(cfg.batchSize, ds.numFields, ds.numDense ?? 0);
        }
        replaced = true;
      },
    };

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
    stream.totalSteps = step + planned;
    stream.flush(false);
    emit({
      type: 'phase',
      phase: {
        index,
        count: plan.phases.length,
        id: phase.id,
        label: phase.label,
        startStep: step,
        plannedSteps: planned,
      },
    });
    if (index > 0) marker(phase.label);
    inBegin = true;
    try {
      await phase.begin?.(ctx);
    } finally {
      inBegin = false;
    }
    if (index > 0 || replaced) {
      // A new phase trains with fresh optimizer state, as a retrain script builds a new optimizer
      // (and a replaced model has new variables to optimize).
      optimizers.dispose();
      optimizers = new DenseOptimizers(model, cfg);
      for (const t of model.tables) t.resetOptimizerState();
    }
    start = ModelCheckpoint.take(model);

    /** Scores the validation split, keeps the best weights; returns true when patience ran out. */
    const runEvaluation = async (): Promise<boolean> => {
      stream.flush();
      // Without validation rows there is nothing to score or select (a timing benchmark).
      if (ds.split.validation.length === 0) {
        lossSinceEval = 0;
        stepsSinceEval = 0;
        return false;
      }
      const val = await evaluateSplit(model, planner, ds, ds.split.validation);
      const testAuc =
        cfg.testAtEachEvaluation && ds.split.test.length > 0
          ? rocAuc(...(await scoreSplit(model, planner, ds, ds.split.test)))
          : null;
      const metrics: EvaluationMetrics = {
        phase: phase.id,
        epoch: Math.round(((step - phaseStart) / stepsPerEpoch) * 1000) / 1000,
        step,
        validationAuc: val.auc,
        validationLogloss: val.logloss,
        trainLoss: stepsSinceEval > 0 ? lossSinceEval / stepsSinceEval : Number.NaN,
        testAuc,
        seconds: (performance.now() - started) / 1000,
        method: (await phase.evaluationSeries?.(ctx)) ?? {},
      };
      lossSinceEval = 0;
      stepsSinceEval = 0;
      evaluations.push(metrics);
      phaseEvaluations.push(metrics);
      emit({ type: 'evaluation', metrics });
      await phase.afterEvaluation?.(metrics, ctx);
      stream.flush();
      start?.dispose();
      start = null;
      // Model selection on validation AUC: keep the best evaluation's weights.
      if (!(val.auc <= bestAuc)) {
        bestAuc = val.auc;
        bestIndex = phaseEvaluations.length - 1;
        best?.dispose();
        best = ModelCheckpoint.take(model);
        return false;
      }
      return (
        phase.usePatience !== false &&
        cfg.earlyStoppingPatience > 0 &&
        phaseEvaluations.length - 1 - bestIndex >= cfg.earlyStoppingPatience
      );
    };

    const applyTuning = () => {
      for (const [key, value] of control.takeTuning()) {
        const [section, name] = key.split('.');
        if (section === 'train' && name === 'learningRate') {
          marker(`${TRAIN_OPTIONS.learningRate.label} ${baseLearningRate} → ${String(value)}`);
          baseLearningRate = value as number;
          const lr = learningRateAt(schedule, baseLearningRate, Math.max(0, phaseEpoch - 1));
          setLearningRate(lr);
        } else if (section === 'method') {
          const label = method.spec.options[name]?.label ?? name;
          marker(`${label} ${String(methodOptions[name])} → ${String(value)}`);
          methodOptions[name] = value;
          phase.optionChanged?.(name, ctx);
        }
      }
    };

    if (phase.evaluateAtStart && ds.split.validation.length > 0) await runEvaluation();

    training: for (let epoch = 1; epoch <= epochs; epoch++) {
      phaseEpoch = epoch;
      stream.epoch = epoch;
      // Schedules step per epoch, as torch's schedulers do in the reference training loops.
      const lr = learningRateAt(schedule, baseLearningRate, epoch - 1);
      setLearningRate(lr);
      shuffleRng.shuffle(trainRows);
      let epochBatches = 0;
      for (let start = 0; start < trainRows.length; start += cfg.batchSize) {
        // A batch of one breaks BatchNorm's batch statistics (torch raises); skip that remainder.
        const count = Math.min(cfg.batchSize, trainRows.length - start);
        if (count < 2 && cfg.batchNorm && cfg.model !== 'fm' && cfg.model !== 'dlrm') continue;
        if (control.paused) {
          stream.flush();
          emit({ type: 'state', state: 'paused' });
          await control.waitWhilePaused();
          if (!control.stopRequested) emit({ type: 'state', state: 'running' });
        }
        if (control.stopRequested) {
          stoppedEarly = true;
          endReason = 'stopped by the user';
          break training;
        }
        if (maxSteps > 0 && step - phaseStart >= maxSteps) break training;
        applyTuning();
        const t0 = performance.now();
        const loss = await trainStep(
          model,
          {
            optimizers: optimizers.optimizers.map((o) => o.optimizer),
            variables: optimizers.variables,
            lossTerm: phase.lossTerm ? (m) => phase.lossTerm!(m) : null,
            gradClipNorm: cfg.gradClipNorm,
          },
          planner,
          ds,
          trainRows,
          start,
          count,
          buffers,
          derivedSeed(cfg.seed, step, 17),
        );
        const ms = performance.now() - t0;
        stepMsTotal += ms;
        step++;
        stream.step(step, loss, ms);
        if (!Number.isFinite(loss)) {
          stopReason = `Training diverged: the loss became ${loss} at step ${step}; ${
            best
              ? `the weights of the best evaluation (step ${phaseEvaluations[bestIndex].step}) were kept`
              : "the phase's starting weights were kept"
          }`;
          endReason = stopReason;
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
          stepMsTotal += extra;
        }
        stream.maybeFlush();
        const done = phase.doneReason?.(ctx) ?? null;
        if (done) {
          endReason = done;
          break training;
        }
        if (cfg.evalEverySteps > 0 && step % cfg.evalEverySteps === 0) {
          if (await runEvaluation()) {
            stoppedByPatience = true;
            endReason = 'no better validation AUC within the patience';
            break training;
          }
        }
        await yieldToEventLoop();
      }
      stream.flush();
      if (epochBatches === 0) break;
      if (cfg.evalEverySteps === 0 && (await runEvaluation())) {
        stoppedByPatience = true;
        endReason = 'no better validation AUC within the patience';
        break;
      }
    }
    // The weights after the phase's last step get their evaluation too (step-based evaluation,
    // a method's own stop), unless the run is being abandoned.
    if (!stoppedEarly && !stopReason && !stoppedByPatience && stepsSinceEval > 0) {
      await runEvaluation();
    }
    stream.flush();
    // After divergence the current weights are not usable, whichever evaluation was best.
    const restore = phase.restoreBest !== false || stopReason !== null;
    const current = best as ModelCheckpoint | null;
    if (restore && current && (bestIndex !== phaseEvaluations.length - 1 || stopReason)) {
      current.restore(model);
    } else if (stopReason && start) {
      start.restore(model);
    }
    (start as ModelCheckpoint | null)?.dispose();
    const test =
      phase.scoreTest && ds.split.test.length > 0
        ? await evaluateSplit(model, planner, ds, ds.split.test)
        : null;
    const result: PhaseResult = {
      id: phase.id,
      label: phase.label,
      steps: step - phaseStart,
      endReason,
      bestEvaluation: bestIndex >= 0 && restore ? phaseEvaluations[bestIndex] : null,
      test,
      skipped: null,
    };
    phaseResults.push(result);
    await phase.end?.(ctx, result);
    stream.flush();
    return result;
  };

  emit({ type: 'state', state: 'running' });
  let kept: KeptRun | null = null;
  try {
    for (let i = 0; i < plan.phases.length; i++) {
      stoppedByPatience = false;
      const result = await runPhase(plan.phases[i], i);
      if (result.skipped) phaseResults.push(result);
      if (stoppedEarly || stopReason) break;
    }
    stream.flush();
    const finalBest = phaseResults.filter((p) => !p.skipped).at(-1)?.bestEvaluation ?? null;
    let test: TestMetrics | null = null;
    if (ds.split.test.length > 0 && step > 0) {
      test = await evaluateSplit(model, planner, ds, ds.split.test);
      emit({ type: 'test', metrics: test });
    }
    const summary = summarizeModel(model, denseEmbeddingParams);
    const result: RunResult = {
      runId: 0,
      method: { id: method.spec.id, label: method.spec.label },
      stoppedEarly,
      stopReason,
      bestEpoch: finalBest?.epoch ?? null,
      bestStep: finalBest?.step ?? null,
      stoppedByPatience,
      steps: step,
      evaluations,
      phases: phaseResults,
      test,
      bayesTestAuc: options.bayesTestAuc,
      model: summary,
      methodResult,
      msPerStep: step > 0 ? stepMsTotal / step : 0,
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
    (best as ModelCheckpoint | null)?.dispose();
    optimizers.dispose();
    plan.dispose?.();
    if (!kept) model.dispose();
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
