/**
 * Trains NextItNet (plain, or compressed by CpRec) on a sequence dataset: Adam on the masked
 * next-item cross-entropy plus the official L2 term; the validation split scored by MRR / HR /
 * NDCG of each sequence's last item (the official code has no validation split and reports the
 * last epoch on test); the best validation weights restored before the test split is scored;
 * the most-popular-item baseline and, for CpRec, the uncompressed model's step and inference
 * times measured beside the run.
 */
import * as tf from '@tensorflow/tfjs';
import type { SequenceDataset } from '../data/preprocess/sequenceDataset';
import { TorchAdam } from '../optim/denseOptimizers';
import { RunControl, yieldToEventLoop } from '../engine/runControl';
import { Rng } from '../rng';
import { HostAdaptiveSoftmax } from './hostSoftmax';
import { NextItNet } from './nextItNet';
import { exportSequenceModel } from './seqExport';
import type { SequenceModelFile } from './seqModelFile';
import { popularityBaseline, RankingAccumulator } from './rankingMetrics';
import {
  architectureOf,
  seqParamCounts,
  uncompressedOf,
  validateSeqRunConfig,
  type RankingMetrics,
  type SeqArchitecture,
  type SeqDatasetSummary,
  type SeqEngineEvent,
  type SeqEvaluation,
  type SeqRunConfig,
  type SeqRunResult,
  type SeqTiming,
} from './seqProtocol';

const EVAL_BATCH = 256;

/** Item ids [rows.length, maxLen] of the given sequences. */
function batchOf(ds: SequenceDataset, rows: ArrayLike<number>): Int32Array {
  const T = ds.maxLen;
  const out = new Int32Array(rows.length * T);
  for (let i = 0; i < rows.length; i++)
    out.set(ds.items.subarray(rows[i] * T, rows[i] * T + T), i * T);
  return out;
}

export function summarizeSequences(
  ds: SequenceDataset,
  source: 'synthetic' | 'loaded',
): SeqDatasetSummary {
  return {
    source,
    name: ds.name,
    numSequences: ds.numSequences,
    maxLen: ds.maxLen,
    numItems: ds.numItems,
    frequencies: Array.from(ds.itemFrequencies.subarray(1)),
    splitSizes: {
      train: ds.split.train.length,
      validation: ds.split.validation.length,
      test: ds.split.test.length,
    },
    popularityTest: popularityBaseline(ds, ds.split.train, ds.split.test),
  };
}

/** Checks that a dataset can train a sequence model at all. */
export function checkSequenceDataset(ds: SequenceDataset): void {
  if (ds.maxLen < 2)
    throw new Error('Every sequence has one item: a next-item model needs at least two');
  if (ds.split.train.length === 0) throw new Error('The training split has no sequences');
  if (ds.split.test.length === 0) throw new Error('The test split has no sequences');
}

/** Ranking metrics of the last item of each sequence in `rows`. */
export async function evaluateRanking(
  model: NextItNet,
  ds: SequenceDataset,
  rows: Int32Array,
): Promise<RankingMetrics> {
  const acc = new RankingAccumulator();
  for (let start = 0; start < rows.length; start += EVAL_BATCH) {
    const chunk = rows.subarray(start, Math.min(rows.length, start + EVAL_BATCH));
    const ids = tf.tensor2d(batchOf(ds, chunk), [chunk.length, ds.maxLen], 'int32');
    const ranks = model.lastItemRanks(ids);
    const values = await ranks.data();
    ids.dispose();
    ranks.dispose();
    for (const r of values) acc.add(r);
    // Between two batches: the page's charts may draw (pageDrawing.ts), a stop may arrive.
    if (start + EVAL_BATCH < rows.length) await yieldToEventLoop();
  }
  return acc.result();
}

/** One optimizer step on the sequences `rows`; returns the loss tensor (caller disposes). */
function trainStep(
  model: NextItNet,
  optimizer: TorchAdam,
  ds: SequenceDataset,
  rows: ArrayLike<number>,
  l2: number,
): tf.Scalar {
  const T = ds.maxLen;
  const items = batchOf(ds, rows);
  const plan = model.planTargets(items, rows.length, T);
  return tf.tidy(() => {
    const ids = tf.tensor2d(items, [rows.length, T], 'int32');
    const { value, grads } = tf.variableGrads(() => model.loss(ids, plan, l2), model.variables);
    optimizer.applyGradients(grads);
    return value;
  });
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Step time and full-distribution inference time of a model, on training batches and test rows. */
async function timeModel(
  model: NextItNet,
  ds: SequenceDataset,
  batchSize: number,
  steps: number,
  l2: number,
  lr: number,
): Promise<SeqTiming> {
  const optimizer = new TorchAdam(model.variables, {
    learningRate: lr,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    decoupledWeightDecay: false,
  });
  const times: number[] = [];
  const train = ds.split.train;
  for (let s = 0; s < steps + 2; s++) {
    const start = (s * batchSize) % Math.max(1, train.length - batchSize);
    const rows = train.subarray(start, start + Math.min(batchSize, train.length));
    const t0 = performance.now();
    const loss = trainStep(model, optimizer, ds, rows, l2);
    await loss.data();
    loss.dispose();
    if (s >= 2) times.push(performance.now() - t0);
  }
  optimizer.dispose();
  const inferenceMsPer1000 = await timeInference(model, ds);
  return { msPerStep: median(times), inferenceMsPer1000 };
}

/** Milliseconds per 1,000 test sequences scored over all items (after one warm-up batch). */
async function timeInference(model: NextItNet, ds: SequenceDataset): Promise<number> {
  const rows = ds.split.test.subarray(0, Math.min(ds.split.test.length, 1024));
  await evaluateRanking(model, ds, rows.subarray(0, Math.min(rows.length, EVAL_BATCH)));
  const t0 = performance.now();
  await evaluateRanking(model, ds, rows);
  return ((performance.now() - t0) / Math.max(1, rows.length)) * 1000;
}

/** The host-side weights of the adaptive softmax (for the fast top-k). */
export async function hostSoftmaxOf(model: NextItNet): Promise<HostAdaptiveSoftmax> {
  const { dim, cuts, blockDims } = model.arch;
  return new HostAdaptiveSoftmax({
    dim,
    cuts,
    blockDims,
    headW: (await model.headW.data()) as Float32Array,
    headB: model.headB ? ((await model.headB.data()) as Float32Array) : null,
    tailQ: await Promise.all(model.tailQ.map(async (q) => (await q.data()) as Float32Array)),
    tailF: await Promise.all(model.tailF.map(async (f) => (await f.data()) as Float32Array)),
  });
}

/** Fast top-20 on the host from the test sequences' last hidden states. */
async function timeFastTopK(
  model: NextItNet,
  ds: SequenceDataset,
): Promise<{ msPer1000: number; blocksExpandedShare: number }> {
  const rows = ds.split.test.subarray(0, Math.min(ds.split.test.length, 512));
  const ids = tf.tensor2d(batchOf(ds, rows), [rows.length, ds.maxLen], 'int32');
  const hT = tf.tidy(() => model.lastHidden(ids));
  const h = (await hT.data()) as Float32Array;
  ids.dispose();
  hT.dispose();
  const host = await hostSoftmaxOf(model);
  const d = model.arch.dim;
  const tailBlocks = model.arch.cuts.length - 1;
  let expanded = 0;
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i++)
    expanded += host.topK(h.subarray(i * d, i * d + d), 20).expanded;
  const ms = performance.now() - t0;
  return {
    msPer1000: (ms / Math.max(1, rows.length)) * 1000,
    blocksExpandedShare: tailBlocks === 0 ? 1 : expanded / (rows.length * tailBlocks),
  };
}

export interface SeqRunHooks {
  onEvent(event: SeqEngineEvent): void | Promise<void>;
  control: RunControl;
  backend: SeqRunResult['backend'];
  /** Receives the model file of the best validation weights when the run ends (for export). */
  onModelFile?(file: SequenceModelFile): void | Promise<void>;
  /** Steps timed for the uncompressed model beside a CpRec run (default 5). */
  uncompressedTimingSteps?: number;
}

export async function runSequenceExperiment(
  config: SeqRunConfig,
  ds: SequenceDataset,
  source: 'synthetic' | 'loaded',
  hooks: SeqRunHooks,
): Promise<SeqRunResult> {
  const problems = Object.values(validateSeqRunConfig(config));
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  checkSequenceDataset(ds);
  const { onEvent, control } = hooks;
  const t0 = performance.now();
  const train = config.train;
  const arch: SeqArchitecture = architectureOf(config, ds.numItems);
  const params = seqParamCounts(arch);
  const uncompressedParams = seqParamCounts(uncompressedOf(arch));
  const summary = summarizeSequences(ds, source);
  await onEvent({ type: 'state', state: 'preparing' });
  await onEvent({ type: 'dataset', summary });
  await onEvent({ type: 'architecture', params, uncompressed: uncompressedParams, arch });

  let uncompressedTiming: SeqTiming | null = null;
  if (config.method === 'cprec') {
    const plain = new NextItNet(uncompressedOf(arch), train.seed);
    try {
      uncompressedTiming = await timeModel(
        plain,
        ds,
        train.batchSize,
        hooks.uncompressedTimingSteps ?? 5,
        train.l2,
        train.learningRate,
      );
    } finally {
      plain.dispose();
    }
  }

  const model = new NextItNet(arch, train.seed);
  const optimizer = new TorchAdam(model.variables, {
    learningRate: train.learningRate,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    decoupledWeightDecay: false,
  });
  const rng = new Rng(train.seed).fork(11);
  const trainRows = Int32Array.from(ds.split.train);
  const stepsPerEpoch = Math.ceil(trainRows.length / train.batchSize);
  const totalSteps =
    train.maxSteps > 0
      ? Math.min(train.maxSteps, stepsPerEpoch * train.epochs)
      : stepsPerEpoch * train.epochs;
  const evaluations: SeqEvaluation[] = [];
  let best: SeqEvaluation | null = null;
  let bestWeights: tf.Tensor[] | null = null;
  let sinceBest = 0;
  let step = 0;
  let stopReason: string | null = null;
  let lossSum = 0;
  let lossCount = 0;
  const stepTimes: number[] = [];
  let pending = { steps: [] as number[], losses: [] as number[], ms: [] as number[] };
  let lastFlush = performance.now();
  let epoch = 0;

  const flush = async (): Promise<void> => {
    if (pending.steps.length === 0) return;
    const batch = pending;
    pending = { steps: [], losses: [], ms: [] };
    lastFlush = performance.now();
    const mem = tf.memory();
    await onEvent({
      type: 'progress',
      batch: {
        steps: Int32Array.from(batch.steps),
        losses: Float32Array.from(batch.losses),
        stepMs: Float32Array.from(batch.ms),
        epoch,
        totalSteps,
        memory: {
          numTensors: mem.numTensors,
          numBytes: mem.numBytes,
          numBytesInGPU: null,
          hostEmbeddingBytes: 0,
          keptRunBytes: 0,
        },
      },
    });
  };

  const evaluate = async (epochAt: number): Promise<boolean> => {
    await flush();
    const validation = await evaluateRanking(model, ds, ds.split.validation);
    const ev: SeqEvaluation = {
      step,
      epoch: epochAt,
      trainLoss: lossCount > 0 ? lossSum / lossCount : NaN,
      validation,
      seconds: (performance.now() - t0) / 1000,
    };
    lossSum = 0;
    lossCount = 0;
    evaluations.push(ev);
    await onEvent({ type: 'evaluation', evaluation: ev });
    if (!best || ev.validation.mrr20 > best.validation.mrr20) {
      best = ev;
      bestWeights?.forEach((t) => t.dispose());
      bestWeights = model.snapshot();
      sinceBest = 0;
    } else sinceBest++;
    return train.earlyStoppingPatience > 0 && sinceBest >= train.earlyStoppingPatience;
  };

  try {
    await onEvent({ type: 'state', state: 'running' });
    outer: for (epoch = 0; epoch < train.epochs; epoch++) {
      rng.shuffle(trainRows);
      for (let b = 0; b < stepsPerEpoch; b++) {
        if (step >= totalSteps) break outer;
        for (const [key, value] of control.takeTuning()) {
          if (key === 'train.learningRate' && typeof value === 'number') {
            optimizer.learningRate = value;
            await onEvent({ type: 'marker', step, label: `learning rate ${value}` });
          }
        }
        if (control.paused) {
          await flush();
          await onEvent({ type: 'state', state: 'paused' });
          await control.waitWhilePaused();
          if (!control.stopRequested) await onEvent({ type: 'state', state: 'running' });
        }
        if (control.stopRequested) {
          stopReason = 'stopped by the user';
          break outer;
        }
        const rows = trainRows.subarray(b * train.batchSize, (b + 1) * train.batchSize);
        const ts = performance.now();
        const lossT = trainStep(model, optimizer, ds, rows, train.l2);
        const loss = (await lossT.data())[0];
        lossT.dispose();
        const ms = performance.now() - ts;
        step++;
        stepTimes.push(ms);
        if (!Number.isFinite(loss)) {
          stopReason = `the loss diverged at step ${step} (${loss}); try a smaller learning rate`;
          break outer;
        }
        lossSum += loss;
        lossCount++;
        pending.steps.push(step);
        pending.losses.push(loss);
        pending.ms.push(ms);
        if (performance.now() - lastFlush > 100 || pending.steps.length >= 50) {
          await flush();
          await yieldToEventLoop();
        }
        if (
          train.evalEverySteps > 0 &&
          step % train.evalEverySteps === 0 &&
          b < stepsPerEpoch - 1
        ) {
          if (await evaluate(epoch + (b + 1) / stepsPerEpoch)) {
            stopReason = `validation MRR@20 did not improve for ${train.earlyStoppingPatience} evaluations`;
            break outer;
          }
        }
      }
      if (await evaluate(epoch + 1)) {
        stopReason = `validation MRR@20 did not improve for ${train.earlyStoppingPatience} evaluations`;
        break;
      }
    }
    await flush();
    if (evaluations.length === 0 || evaluations[evaluations.length - 1].step !== step) {
      if (step > 0) await evaluate(step / stepsPerEpoch);
    }
    await onEvent({ type: 'state', state: 'stopping' });
    if (bestWeights) model.restore(bestWeights);
    const test = step > 0 ? await evaluateRanking(model, ds, ds.split.test) : null;
    const inferenceMsPer1000 = await timeInference(model, ds);
    const fastTopK = arch.cuts.length > 1 ? await timeFastTopK(model, ds) : null;
    if (hooks.onModelFile && test) {
      const bestSoFar = best as SeqEvaluation | null;
      await hooks.onModelFile(
        await exportSequenceModel(model, ds, config, {
          params,
          uncompressed: uncompressedParams,
          validation: bestSoFar?.validation ?? null,
          test,
          popularityTest: summary.popularityTest,
        }),
      );
    }
    const result: SeqRunResult = {
      method: config.method,
      backend: hooks.backend,
      arch,
      params,
      uncompressedParams,
      compressionRatio: uncompressedParams.total / params.total,
      steps: step,
      stoppedEarly: control.stopRequested,
      stopReason,
      evaluations,
      best,
      test,
      popularityTest: summary.popularityTest,
      timing: {
        msPerStep: median(stepTimes.slice(Math.min(2, stepTimes.length - 1))),
        inferenceMsPer1000,
      },
      uncompressedTiming,
      fastTopK,
      seconds: (performance.now() - t0) / 1000,
    };
    await onEvent({ type: 'state', state: 'done' });
    return result;
  } catch (err) {
    await onEvent({ type: 'state', state: 'failed' });
    throw err;
  } finally {
    (bestWeights as tf.Tensor[] | null)?.forEach((t) => t.dispose());
    optimizer.dispose();
    model.dispose();
  }
}
