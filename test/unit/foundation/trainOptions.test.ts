import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { trainCtr } from '../../../workers/engine/trainer';
import { RunControl } from '../../../workers/engine/runControl';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../../workers/protocol';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ds = generateSyntheticCtr({ seed: 9, numRows: 3000, numFields: 6, maxCardinality: 300 });
const base: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  model: 'deepfm',
  epochs: 2,
  batchSize: 64,
  embeddingDim: 4,
  mlpLayers: [8],
  learningRate: 0.01,
};

async function lossesOf(cfg: TrainConfig) {
  const losses: number[] = [];
  const result = await trainCtr(ds, cfg, new RunControl(), (e) => {
    if (e.type === 'progress') losses.push(...e.batch.losses);
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { result, head: mean(losses.slice(0, 5)), tail: mean(losses.slice(-5)) };
}

describe('training options reach the loop', () => {
  for (const denseOptimizer of ['adam', 'adamw', 'sgd'] as const) {
    it(`${denseOptimizer}: trains and reports every test metric`, async () => {
      const lr = denseOptimizer === 'sgd' ? 0.1 : 0.01;
      const { result, head, tail } = await lossesOf({
        ...base,
        denseOptimizer,
        momentum: 0.9,
        learningRate: lr,
      });
      expect(tail).toBeLessThan(head);
      const t = result.test!;
      expect(t.auc).toBeGreaterThan(0.55);
      expect(Number.isFinite(t.meanPerBatchAuc)).toBe(true);
      expect(t.calibration).toBeGreaterThan(0.5);
      expect(t.calibration).toBeLessThan(2);
    });
  }

  it('gradient clipping acts on the SGD step, and a loose bound changes nothing', async () => {
    // (Adam normalises the gradient's scale away, so clipping shows on SGD's dense parameters.)
    const sgd = { ...base, denseOptimizer: 'sgd' as const, learningRate: 0.1 };
    const free = await lossesOf(sgd);
    const loose = await lossesOf({ ...sgd, gradClipNorm: 1e9 });
    const tight = await lossesOf({ ...sgd, gradClipNorm: 1e-3 });
    expect(loose.tail).toBe(free.tail);
    expect(tight.tail).not.toBe(free.tail);
  });

  it('a step schedule changes the run (same seed, different losses in epoch 2 only)', async () => {
    const constant = await lossesOf(base);
    const step = await lossesOf({ ...base, lrSchedule: 'step' });
    // Epoch 1 runs at the base rate either way: identical first steps.
    expect(step.head).toBe(constant.head);
    expect(step.tail).not.toBe(constant.tail);
  });
});

describe('model selection on validation AUC', () => {
  it('restores the best epoch: test metrics equal those of a run stopped at that epoch', async () => {
    // A high rate on a small slice overfits quickly, so the best epoch comes early.
    const cfg: TrainConfig = { ...base, epochs: 6, learningRate: 0.05, earlyStoppingPatience: 2 };
    const { result } = await lossesOf(cfg);
    const aucs = result.evaluations.map((e) => e.validationAuc);
    const bestEpoch = aucs.indexOf(Math.max(...aucs)) + 1;
    // The case that matters: later epochs ran and were rolled back.
    expect(bestEpoch).toBeLessThan(result.evaluations.length);
    expect(result.bestEpoch).toBe(bestEpoch);
    if (result.stoppedByPatience) expect(result.evaluations.length).toBe(bestEpoch + 2);
    const shorter = await lossesOf({ ...cfg, epochs: bestEpoch, earlyStoppingPatience: 0 });
    expect(result.test).toEqual(shorter.result.test);
  });

  it('patience 1 stops at the first epoch that does not improve', async () => {
    const { result } = await lossesOf({
      ...base,
      epochs: 8,
      learningRate: 0.05,
      earlyStoppingPatience: 1,
    });
    const aucs = result.evaluations.map((e) => e.validationAuc);
    expect(result.stoppedByPatience).toBe(true);
    expect(aucs.at(-1)!).toBeLessThanOrEqual(Math.max(...aucs.slice(0, -1)));
    expect(result.evaluations.length).toBeLessThan(8);
  });
});

describe('evaluation every K steps', () => {
  // 2,400 training rows at batch 64: 38 steps per epoch (the last batch holds 32 rows).
  const stepsPerEpoch = 38;

  it('K = steps per epoch evaluates exactly where the per-epoch protocol does', async () => {
    const perEpoch = await lossesOf(base);
    const perSteps = await lossesOf({ ...base, evalEverySteps: stepsPerEpoch });
    const pick = (r: typeof perEpoch) =>
      r.result.evaluations.map((e) => [e.epoch, e.step, e.validationAuc, e.validationLogloss]);
    expect(pick(perSteps)).toEqual(pick(perEpoch));
    expect(perSteps.result.evaluations.map((e) => e.epoch)).toEqual([1, 2]);
    expect(perSteps.result.test).toEqual(perEpoch.result.test);
  });

  it('K = 10 evaluates at steps 10, 20, ... and after the last step, and selects among them', async () => {
    const { result } = await lossesOf({ ...base, evalEverySteps: 10 });
    expect(result.evaluations.map((e) => e.step)).toEqual([10, 20, 30, 40, 50, 60, 70, 76]);
    expect(result.evaluations[0].epoch).toBeCloseTo(10 / stepsPerEpoch, 3);
    const aucs = result.evaluations.map((e) => e.validationAuc);
    const best = result.evaluations[aucs.indexOf(Math.max(...aucs))];
    expect(result.bestStep).toBe(best.step);
    expect(result.bestEpoch).toBe(best.epoch);
  });

  it('a step budget stops mid-epoch, evaluates the last weights, and changes nothing before', async () => {
    const full = await lossesOf(base);
    const budget = await lossesOf({ ...base, maxSteps: 50 });
    expect(budget.result.steps).toBe(50);
    expect(budget.result.evaluations.map((e) => e.step)).toEqual([38, 50]);
    expect(budget.result.evaluations[0]).toMatchObject({
      validationAuc: full.result.evaluations[0].validationAuc,
    });
    expect(budget.result.evaluations[1].epoch).toBeCloseTo(50 / stepsPerEpoch, 3);
  });

  it('patience counts evaluations', async () => {
    const { result } = await lossesOf({
      ...base,
      epochs: 8,
      learningRate: 0.05,
      evalEverySteps: 5,
      earlyStoppingPatience: 3,
    });
    expect(result.stoppedByPatience).toBe(true);
    const aucs = result.evaluations.map((e) => e.validationAuc);
    const bestIndex = aucs.indexOf(Math.max(...aucs));
    expect(result.evaluations.length).toBe(bestIndex + 4);
  });

  it('scoring the test split at each evaluation changes nothing else, and the restored weights score what was recorded', async () => {
    const cfg: TrainConfig = { ...base, epochs: 4, learningRate: 0.05 };
    const plain = await lossesOf(cfg);
    const tracked = await lossesOf({ ...cfg, testAtEachEvaluation: true });
    expect(plain.result.evaluations.every((e) => e.testAuc === null)).toBe(true);
    expect(tracked.result.evaluations.every((e) => typeof e.testAuc === 'number')).toBe(true);
    const strip = (r: typeof plain) => r.result.evaluations.map((e) => e.validationAuc);
    expect(strip(tracked)).toEqual(strip(plain));
    expect(tracked.result.test).toEqual(plain.result.test);
    const best = tracked.result.evaluations.find((e) => e.step === tracked.result.bestStep)!;
    expect(tracked.result.test!.auc).toBe(best.testAuc);
  });
});
