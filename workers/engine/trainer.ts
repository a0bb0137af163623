/**
 * The training loop: epochs of shuffled mini-batches, validation each epoch, test at the end.
 * Streams batched progress events and honours pause / resume / stop between steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { CtrDataset } from '../data/dataset';
import type {
  EngineEvent,
  EvaluationMetrics,
  MemoryInfo,
  RunResult,
  TestMetrics,
  TrainConfig,
} from '../protocol';
import { derivedSeed, Rng } from '../rng';
import { BatchPlanner } from '../embedding/batchPlan';
import { FmFamilyModel } from '../models/fmFamily';
import { WideDeepModel } from '../models/wideDeep';
import { AutoIntModel, DEFAULT_AUTOINT_CONFIG } from '../models/autoint';
import { DlrmModel, DEFAULT_DLRM_CONFIG } from '../models/dlrm';
import type { SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import type { RankingModel } from '../models/rankingModel';
import { TorchAdam } from '../optim/denseOptimizers';
import {
  accuracy,
  calibrationRatio,
  logloss,
  meanPerBatchAuc,
  rocAuc,
} from '../metrics/classification';
import { TorchSgd, type DenseOptimizerWithLearningRate } from '../optim/denseOptimizers';
import { learningRateAt, type LearningRateSchedule } from '../optim/lrSchedules';
import { ModelCheckpoint } from './checkpoint';
import { datasetForModel } from './modelDataset';
import { makeBatchBuffers, predictProbabilities, trainStep } from './trainStep';
import { type RunControl, yieldToEventLoop } from './runControl';

export interface TrainOptions {
  progressEverySteps: number;
  progressEveryMs: number;
  bayesTestAuc: number | null;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  progressEverySteps: 25,
  progressEveryMs: 100,
  bayesTestAuc: null,
};

export function memoryInfo(hostEmbeddingBytes: number): MemoryInfo {
  const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return {
    numTensors: mem.numTensors,
    numBytes: mem.numBytes,
    numBytesInGPU: typeof mem.numBytesInGPU === 'number' ? mem.numBytesInGPU : null,
    hostEmbeddingBytes,
  };
}

export function buildModel(ds: CtrDataset, cfg: TrainConfig, rng: Rng): RankingModel {
  const embeddingOptimizer: SparseOptimizerConfig = {
    kind: cfg.embeddingOptimizer,
    mode: cfg.embeddingUpdate,
    learningRate: cfg.learningRate,
    weightDecay: cfg.weightDecay,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
  };
  const shape = { numFields: ds.numFields, vocabulary: ds.totalVocabulary };
  const deep = {
    embeddingDim: cfg.embeddingDim,
    mlpLayers: cfg.mlpLayers,
    dropout: cfg.dropout,
    batchNorm: cfg.batchNorm,
  };
  switch (cfg.model) {
    case 'fm':
    case 'deepfm':
      return new FmFamilyModel({ kind: cfg.model, ...shape, ...deep }, embeddingOptimizer, rng);
    case 'widedeep':
      return new WideDeepModel({ ...shape, ...deep }, embeddingOptimizer, rng);
    case 'autoint':
      return new AutoIntModel(
        { ...DEFAULT_AUTOINT_CONFIG, ...shape, ...deep },
        embeddingOptimizer,
        rng,
      );
    case 'dlrm': {
      // UMEC's DLRM: the bottom MLP ends at the embedding width; the form's MLP is the top MLP.
      const bottom = [...DEFAULT_DLRM_CONFIG.bottomLayers.slice(0, -1), cfg.embeddingDim];
      return new DlrmModel(
        {
          ...shape,
          fieldDims: ds.fieldDims,
          embeddingDim: cfg.embeddingDim,
          numDense: ds.numDense ?? 0,
          bottomLayers: bottom,
          topLayers: [...cfg.mlpLayers, 1],
        },
        embeddingOptimizer,
        rng,
      );
    }
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

async function evaluate(
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

export async function trainCtr(
  fullDataset: CtrDataset,
  cfg: TrainConfig,
  control: RunControl,
  emit: (event: EngineEvent) => void,
  options: TrainOptions = DEFAULT_TRAIN_OPTIONS,
): Promise<RunResult> {
  const ds = datasetForModel(fullDataset, cfg.model);
  const rng = new Rng(cfg.seed);
  const model = buildModel(ds, cfg, rng.fork(1));
  const shuffleRng = rng.fork(2);
  const denseOptimizer = buildDenseOptimizer(model, cfg);
  const schedule = scheduleOf(cfg);
  const planner = new BatchPlanner(ds.totalVocabulary);
  const buffers = makeBatchBuffers(cfg.batchSize, ds.numFields, ds.numDense ?? 0);
  const trainRows = Int32Array.from(ds.split.train);
  const hostBytes = () => model.tables.reduce((a, t) => a + t.bytes, planner.bytes);

  const cap = options.progressEverySteps;
  let pendingSteps = new Int32Array(cap);
  let pendingLosses = new Float32Array(cap);
  let pendingMs = new Float32Array(cap);
  let pending = 0;
  let lastFlush = performance.now();
  const stepsPerEpoch = Math.ceil(trainRows.length / cfg.batchSize);
  const totalSteps =
    cfg.maxSteps > 0
      ? Math.min(cfg.maxSteps, stepsPerEpoch * cfg.epochs)
      : stepsPerEpoch * cfg.epochs;
  let epochNow = 0;
  const flush = () => {
    if (pending === 0) return;
    emit({
      type: 'progress',
      batch: {
        steps: pendingSteps.slice(0, pending),
        losses: pendingLosses.slice(0, pending),
        stepMs: pendingMs.slice(0, pending),
        epoch: epochNow,
        totalSteps,
        memory: memoryInfo(hostBytes()),
      },
    });
    pendingSteps = new Int32Array(cap);
    pendingLosses = new Float32Array(cap);
    pendingMs = new Float32Array(cap);
    pending = 0;
    lastFlush = performance.now();
  };

  const evaluations: EvaluationMetrics[] = [];
  let step = 0;
  let stoppedEarly = false;
  let stoppedByPatience = false;
  let bestAuc = Number.NEGATIVE_INFINITY;
  let bestIndex = -1;
  // Assigned inside runEvaluation; the cast keeps TypeScript from narrowing it to null here.
  let best = null as ModelCheckpoint | null;
  let test: TestMetrics | null = null;
  let stepMsTotal = 0;
  let lossSinceEval = 0;
  let stepsSinceEval = 0;
  const started = performance.now();

  /** Scores the validation split, keeps the best weights; returns true when patience ran out. */
  const runEvaluation = async (): Promise<boolean> => {
    flush();
    const val = await evaluate(model, planner, ds, ds.split.validation);
    const testAuc =
      cfg.testAtEachEvaluation && ds.split.test.length > 0
        ? rocAuc(...(await scoreSplit(model, planner, ds, ds.split.test)))
        : null;
    const metrics: EvaluationMetrics = {
      epoch: Math.round((step / stepsPerEpoch) * 1000) / 1000,
      step,
      validationAuc: val.auc,
      validationLogloss: val.logloss,
      trainLoss: stepsSinceEval > 0 ? lossSinceEval / stepsSinceEval : Number.NaN,
      testAuc,
      seconds: (performance.now() - started) / 1000,
    };
    lossSinceEval = 0;
    stepsSinceEval = 0;
    evaluations.push(metrics);
    emit({ type: 'evaluation', metrics });
    // Model selection on validation AUC: keep the best evaluation's weights.
    if (!(val.auc <= bestAuc)) {
      bestAuc = val.auc;
      bestIndex = evaluations.length - 1;
      best?.dispose();
      best = ModelCheckpoint.take(model);
      return false;
    }
    return (
      cfg.earlyStoppingPatience > 0 &&
      evaluations.length - 1 - bestIndex >= cfg.earlyStoppingPatience
    );
  };

  emit({ type: 'state', state: 'running' });
  try {
    training: for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      epochNow = epoch;
      // Schedules step per epoch, as torch's schedulers do in the reference training loops.
      const lr = learningRateAt(schedule, cfg.learningRate, epoch - 1);
      denseOptimizer.learningRate = lr;
      for (const table of model.tables) table.optimizer = { ...table.optimizer, learningRate: lr };
      shuffleRng.shuffle(trainRows);
      let epochBatches = 0;
      for (let start = 0; start < trainRows.length; start += cfg.batchSize) {
        // A batch of one breaks BatchNorm's batch statistics (torch raises); skip that remainder.
        const count = Math.min(cfg.batchSize, trainRows.length - start);
        if (count < 2 && cfg.batchNorm && cfg.model !== 'fm' && cfg.model !== 'dlrm') continue;
        if (control.paused) {
          flush();
          emit({ type: 'state', state: 'paused' });
          await control.waitWhilePaused();
          if (!control.stopRequested) emit({ type: 'state', state: 'running' });
        }
        if (control.stopRequested) {
          stoppedEarly = true;
          break training;
        }
        if (cfg.maxSteps > 0 && step >= cfg.maxSteps) break training;
        const t0 = performance.now();
        const loss = await trainStep(
          model,
          denseOptimizer,
          planner,
          ds,
          trainRows,
          start,
          count,
          buffers,
          derivedSeed(cfg.seed, step, 17),
          cfg.gradClipNorm,
        );
        const ms = performance.now() - t0;
        stepMsTotal += ms;
        step++;
        lossSinceEval += loss;
        stepsSinceEval++;
        epochBatches++;
        pendingSteps[pending] = step;
        pendingLosses[pending] = loss;
        pendingMs[pending] = ms;
        pending++;
        if (pending === cap || performance.now() - lastFlush >= options.progressEveryMs) flush();
        if (cfg.evalEverySteps > 0 && step % cfg.evalEverySteps === 0) {
          if (await runEvaluation()) {
            stoppedByPatience = true;
            break training;
          }
        }
        await yieldToEventLoop();
      }
      flush();
      if (epochBatches === 0) break;
      if (cfg.evalEverySteps === 0 && (await runEvaluation())) {
        stoppedByPatience = true;
        break;
      }
    }
    // With step-based evaluation, the weights after the last step get their evaluation too.
    if (!stoppedEarly && !stoppedByPatience && stepsSinceEval > 0) await runEvaluation();
    flush();
    const bestEval = bestIndex >= 0 ? evaluations[bestIndex] : null;
    if (best && bestIndex !== evaluations.length - 1) best.restore(model);
    if (ds.split.test.length > 0 && step > 0) {
      test = await evaluate(model, planner, ds, ds.split.test);
      emit({ type: 'test', metrics: test });
    }
    return {
      stoppedEarly,
      bestEpoch: bestEval?.epoch ?? null,
      bestStep: bestEval?.step ?? null,
      stoppedByPatience,
      steps: step,
      evaluations,
      test,
      bayesTestAuc: options.bayesTestAuc,
      model: model.summary(),
      msPerStep: step > 0 ? stepMsTotal / step : 0,
    };
  } finally {
    best?.dispose();
    model.dispose();
    denseOptimizer.dispose();
  }
}

function buildDenseOptimizer(
  model: RankingModel,
  cfg: TrainConfig,
): DenseOptimizerWithLearningRate {
  if (cfg.denseOptimizer === 'sgd') {
    return new TorchSgd(model.denseVariables, {
      learningRate: cfg.learningRate,
      momentum: cfg.momentum,
      dampening: 0,
      nesterov: false,
      weightDecay: cfg.weightDecay,
    });
  }
  return new TorchAdam(model.denseVariables, {
    learningRate: cfg.learningRate,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: cfg.weightDecay,
    decoupledWeightDecay: cfg.denseOptimizer === 'adamw',
  });
}

/** Per-epoch schedules: 'step' halves the rate every epoch, 'cosine' anneals it to 0. */
function scheduleOf(cfg: TrainConfig): LearningRateSchedule {
  switch (cfg.lrSchedule) {
    case 'constant':
      return { kind: 'constant' };
    case 'step':
      return { kind: 'step', stepSize: 1, gamma: 0.5 };
    case 'cosine':
      return { kind: 'cosine', tMax: cfg.epochs, etaMin: 0 };
  }
}
