import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import { trainCtr } from '../../../workers/engine/trainer';
import { buildModel } from '../../../workers/models/buildModel';
import {
  makeBatchBuffers,
  predictProbabilities,
  trainStep,
} from '../../../workers/engine/trainStep';
import { RunControl } from '../../../workers/engine/runControl';
import { TorchAdam } from '../../../workers/optim/denseOptimizers';
import { DEFAULT_TRAIN_CONFIG, type ModelKind, type TrainConfig } from '../../../workers/protocol';
import { derivedSeed, Rng } from '../../../workers/rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ds = generateSyntheticCtr({ seed: 5, numRows: 2000, numFields: 6, maxCardinality: 300 });

function config(model: ModelKind): TrainConfig {
  return {
    ...DEFAULT_TRAIN_CONFIG,
    model,
    embeddingDim: 4,
    mlpLayers: [16],
    dropout: 0.2,
    batchNorm: true,
    batchSize: 32,
    epochs: 1,
  };
}

/** Everything trainCtr builds, minus the loop. */
function setup(model: ModelKind) {
  const cfg = config(model);
  const m = buildModel(ds, cfg, new Rng(1));
  const opt = new TorchAdam(m.denseVariables, {
    learningRate: cfg.learningRate,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: cfg.weightDecay,
    decoupledWeightDecay: false,
  });
  const planner = new BatchPlanner(ds.totalVocabulary);
  const buffers = makeBatchBuffers(cfg.batchSize, ds.numFields);
  const rows = ds.split.train;
  let step = 0;
  const runSteps = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const start = (step * cfg.batchSize) % (rows.length - cfg.batchSize);
      const loss = await trainStep(
        m,
        { optimizers: [opt], variables: m.denseVariables, gradClipNorm: 0 },
        planner,
        ds,
        rows,
        start,
        cfg.batchSize,
        buffers,
        derivedSeed(1, step, 17),
      );
      expect(Number.isFinite(loss)).toBe(true);
      step++;
    }
  };
  const dispose = () => {
    m.dispose();
    opt.dispose();
  };
  return { model: m, planner, runSteps, dispose };
}

describe('tensor memory stays flat', () => {
  for (const kind of ['fm', 'deepfm'] as const) {
    it(`over 50 trainStep calls after 2 warm-up steps (${kind}${kind === 'deepfm' ? ', BatchNorm + dropout' : ''})`, async () => {
      const s = setup(kind);
      try {
        await s.runSteps(2);
        const before = tf.memory().numTensors;
        await s.runSteps(50);
        const after = tf.memory().numTensors;
        expect(after - before, `tensors leaked over 50 steps: ${after - before}`).toBe(0);
      } finally {
        s.dispose();
      }
    });

    it(`over repeated predictProbabilities calls (${kind})`, async () => {
      const s = setup(kind);
      try {
        await s.runSteps(1);
        // Validation rows in small batches: several batches per call.
        await predictProbabilities(s.model, s.planner, ds, ds.split.validation, 64);
        const before = tf.memory().numTensors;
        for (let i = 0; i < 5; i++) {
          const probs = await predictProbabilities(s.model, s.planner, ds, ds.split.validation, 64);
          expect(probs.length).toBe(ds.split.validation.length);
          expect(probs.every((p) => p > 0 && p < 1)).toBe(true);
        }
        expect(tf.memory().numTensors - before).toBe(0);
      } finally {
        s.dispose();
      }
    });
  }

  for (const kind of ['fm', 'deepfm'] as const) {
    it(`a whole trainCtr run leaves numTensors where it started (${kind}: model and optimizer disposed)`, async () => {
      // Warm up kernels / backend state once, so the measurement only sees the run itself.
      const small = { ...config(kind), epochs: 1 };
      await trainCtr(ds, small, new RunControl(), () => {});
      const before = tf.memory().numTensors;
      const result = await trainCtr(ds, { ...small, epochs: 2 }, new RunControl(), () => {});
      expect(result.steps).toBeGreaterThan(50);
      const after = tf.memory().numTensors;
      expect(
        after - before,
        `tensors left behind by one run of ${result.steps} steps: ${after - before}`,
      ).toBe(0);
    });
  }
});
