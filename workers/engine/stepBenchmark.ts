/**
 * Measures ms per training step for one model at a given total vocabulary, to show that step
 * cost grows with the batch and not with the table size (host tables, lazy sparse updates).
 */
import {
  DEFAULT_TRAIN_CONFIG,
  type StepBenchmarkConfig,
  type StepBenchmarkResult,
  type TrainConfig,
} from '../protocol';
import { Rng, derivedSeed } from '../rng';
import { type CtrDataset, fieldOffsetsOf } from '../data/dataset';
import { BatchPlanner } from '../embedding/batchPlan';
import { TorchAdam } from '../optim/denseOptimizers';
import { buildModel } from './trainer';
import { makeBatchBuffers, trainStep } from './trainStep';
import { yieldToEventLoop } from './runControl';

/** Rows with Zipf(1)-like ids over equal-sized fields that add up to `totalVocabulary`. */
function benchmarkDataset(cfg: StepBenchmarkConfig, rng: Rng): CtrDataset {
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
    batchSize: cfg.batchSize,
    learningRate: 1e-3,
    weightDecay: 0,
    embeddingUpdate: cfg.embeddingUpdate,
    seed: cfg.seed,
  };
  const model = buildModel(ds, train, rng.fork(2));
  const optimizer = new TorchAdam(model.denseVariables, {
    learningRate: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    decoupledWeightDecay: false,
  });
  const planner = new BatchPlanner(ds.totalVocabulary);
  const buffers = makeBatchBuffers(cfg.batchSize, ds.numFields);
  const times: number[] = [];
  try {
    for (let s = 0; s < cfg.warmupSteps + cfg.steps; s++) {
      const t0 = performance.now();
      await trainStep(
        model,
        { optimizers: [optimizer], variables: model.denseVariables, gradClipNorm: 0 },
        planner,
        ds,
        ds.split.train,
        s * cfg.batchSize,
        cfg.batchSize,
        buffers,
        derivedSeed(cfg.seed, s, 3),
      );
      if (s >= cfg.warmupSteps) times.push(performance.now() - t0);
      await yieldToEventLoop();
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    config: cfg,
    medianMs: sorted[Math.floor(sorted.length / 2)],
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    hostTableBytes: model.tables.reduce((a, t) => a + t.bytes, 0),
  };
}
