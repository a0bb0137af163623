/**
 * Measures ms per training step for one model (and method) at a given total vocabulary, to show
 * that step cost grows with the batch and not with the table size (host tables, lazy sparse
 * updates), and what a method adds to a step.
 */
import * as tf from '@tensorflow/tfjs';
import {
  DEFAULT_TRAIN_CONFIG,
  type KernelProfile,
  type StepBenchmarkConfig,
  type StepBenchmarkResult,
  type TrainConfig,
} from '../protocol';
import { Rng } from '../rng';
import { type CtrDataset, fieldOffsetsOf } from '../data/dataset';
import { NO_METHOD } from '../protocol';
import { RunControl } from './runControl';
import { runExperiment } from './trainer';
import { setWebGpuReductions, webGpuReductionsEnabled } from '../models/webgpuReductions';
import { segmentSumGradientEnabled, setSegmentSumGradient } from '../embedding/rowLookup';
import { hostAdamKernelAvailable } from '../embedding/hostAdamKernel';

/** Rows with Zipf(1)-like ids over equal-sized fields that add up to `totalVocabulary`. */
export function benchmarkDataset(cfg: StepBenchmarkConfig, rng: Rng): CtrDataset {
  const m = cfg.numFields;
  const perField = Math.max(1, Math.floor(cfg.totalVocabulary / m));
  const fieldDims = new Int32Array(m).fill(perField);
  fieldDims[m - 1] += cfg.totalVocabulary - perField * m;
  const numRows = cfg.batchSize * (cfg.warmupSteps + cfg.steps);
  const ids = new Int32Array(numRows * m);
  const labels = new Float32Array(numRows);
  for (let r = 0; r < numRows; r++) {
    for (let f = 0; f < m; f++) {
      const card = fieldDims[f];
      ids[r * m + f] = Math.min(
        card - 1,
        Math.floor(Math.exp(rng.next() * Math.log(card + 1))) - 1,
      );
    }
    labels[r] = rng.next() < 0.25 ? 1 : 0;
  }
  const all = Int32Array.from({ length: numRows }, (_, i) => i);
  return {
    name: `benchmark vocab ${cfg.totalVocabulary}`,
    numRows,
    numFields: m,
    fieldNames: Array.from({ length: m }, (_, f) => `F${f + 1}`),
    fieldDims,
    fieldOffsets: fieldOffsetsOf(fieldDims),
    totalVocabulary: cfg.totalVocabulary,
    ids,
    labels,
    split: { train: all, validation: new Int32Array(0), test: new Int32Array(0) },
  };
}

/**
 * Times `cfg.steps` training steps after `cfg.warmupSteps` through the real training loop (the
 * method's per-step work included), on a dataset with no validation or test rows.
 */
export async function runStepBenchmark(cfg: StepBenchmarkConfig): Promise<StepBenchmarkResult> {
  const rng = new Rng(cfg.seed);
  const ds = benchmarkDataset(cfg, rng.fork(1));
  const train: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    model: cfg.model,
    embeddingDim: cfg.embeddingDim,
    mlpLayers: cfg.mlpLayers,
    dropout: 0,
    batchNorm: true,
    epochs: 1,
    maxSteps: cfg.warmupSteps + cfg.steps,
    batchSize: cfg.batchSize,
    learningRate: 1e-3,
    weightDecay: 1e-5,
    embeddingUpdate: cfg.embeddingUpdate,
    seed: cfg.seed,
  };
  const run = async () => {
    const times: number[] = [];
    let hostTableBytes = 0;
    const { kept } = await runExperiment(
      ds,
      train,
      cfg.method ?? NO_METHOD,
      new RunControl(),
      (e) => {
        if (e.type !== 'progress') return;
        times.push(...e.batch.stepMs);
        hostTableBytes = e.batch.memory.hostEmbeddingBytes;
      },
    );
    kept.dispose();
    return { times, hostTableBytes };
  };
  const ownKernels = webGpuReductionsEnabled();
  const ownSegmentSums = segmentSumGradientEnabled();
  if (cfg.stockKernels) {
    setWebGpuReductions(false);
    setSegmentSumGradient(false);
  }
  try {
    const { times, hostTableBytes } = await run();
    const timed = times.slice(cfg.warmupSteps);
    const sorted = [...timed].sort((a, b) => a - b);
    return {
      config: cfg,
      medianMs: sorted[Math.floor(sorted.length / 2)],
      meanMs: timed.reduce((a, b) => a + b, 0) / timed.length,
      hostTableBytes,
      hostAdamKernel: hostAdamKernelAvailable(),
      ...(cfg.profile ? { profile: await profileKernels(run, cfg.warmupSteps + cfg.steps) } : {}),
    };
  } finally {
    setWebGpuReductions(ownKernels);
    setSegmentSumGradient(ownSegmentSums);
  }
}

/** The kernels `run` launches, summed by name, per step of its `steps`. */
async function profileKernels(run: () => Promise<unknown>, steps: number): Promise<KernelProfile> {
  const info = await tf.profile(async () => {
    await run();
  });
  return summarizeKernels(info.kernels, steps);
}

/** A tf.profile's kernels summed by name (and by input shapes), per step of `steps`. */
export function summarizeKernels(
  launched: Awaited<ReturnType<typeof tf.profile>>['kernels'],
  steps: number,
): KernelProfile {
  const byName = new Map<string, { ms: number; calls: number; shapes: Map<string, number[]> }>();
  let total = 0;
  let count = 0;
  for (const k of launched) {
    // A custom gradient's forward ('forward') wraps kernels that are listed on their own too.
    if (k.name === 'forward') continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const row = byName.get(k.name) ?? { ms: 0, calls: 0, shapes: new Map<string, number[]>() };
    row.ms += ms;
    row.calls += 1;
    const key = JSON.stringify(k.inputShapes);
    const shape = row.shapes.get(key) ?? [0, 0];
    shape[0] += ms;
    shape[1] += 1;
    row.shapes.set(key, shape);
    byName.set(k.name, row);
    total += ms;
    count += 1;
  }
  const timed = total > 0;
  const kernels = [...byName]
    .map(([name, r]) => ({
      name,
      msPerStep: r.ms / steps,
      callsPerStep: r.calls / steps,
      byShape: [...r.shapes]
        .map(([shapes, [ms, calls]]) => ({
          shapes,
          msPerStep: ms / steps,
          callsPerStep: calls / steps,
        }))
        .sort((a, b) => b.msPerStep - a.msPerStep || b.callsPerStep - a.callsPerStep),
    }))
    .sort((a, b) => (timed ? b.msPerStep - a.msPerStep : b.callsPerStep - a.callsPerStep));
  return {
    steps,
    kernelsPerStep: count / steps,
    kernelMsPerStep: total / steps,
    timed,
    kernels,
  };
}
