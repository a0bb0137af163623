/**
 * A run that starts from a finished one: the weights are copied before the first step, and a
 * model of another architecture is refused with a message.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import { copyModelWeights } from '../../../workers/engine/checkpoint';
import { RunControl } from '../../../workers/engine/runControl';
import { runExperiment } from '../../../workers/engine/trainer';
import { predictProbabilities } from '../../../workers/engine/trainStep';
import { buildModel } from '../../../workers/models/buildModel';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../../workers/protocol';
import { Rng } from '../../../workers/rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ds = generateSyntheticCtr({ seed: 4, numRows: 1200, numFields: 5, maxCardinality: 50 });
const train: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  model: 'deepfm',
  embeddingDim: 4,
  mlpLayers: [8],
  epochs: 1,
  batchSize: 128,
};

describe('starting from a finished model', () => {
  it('copies every weight: the new model predicts what the finished one does', async () => {
    const a = buildModel(ds, train, new Rng(1));
    const b = buildModel(ds, train, new Rng(2));
    const rows = Int32Array.from({ length: 300 }, (_, i) => i);
    const score = (m: typeof a) =>
      predictProbabilities(m, new BatchPlanner(ds.totalVocabulary), ds, rows);
    const before = await score(b);
    const want = await score(a);
    expect(Array.from(before)).not.toEqual(Array.from(want));
    copyModelWeights(a, b);
    expect(Array.from(await score(b))).toEqual(Array.from(want));
    a.dispose();
    b.dispose();
  });

  it('a run with startFrom trains on from the finished weights', async () => {
    const dense = await runExperiment(
      ds,
      train,
      { id: 'none', options: {} },
      new RunControl(),
      () => {},
    );
    const again = await runExperiment(
      ds,
      { ...train, seed: 9, maxSteps: 1 },
      { id: 'none', options: {} },
      new RunControl(),
      () => {},
      {
        progressEverySteps: 25,
        progressEveryMs: 100,
        bayesTestAuc: null,
        startFrom: dense.kept.model,
      },
    );
    // One step from the dense weights: close to them, far from a fresh init with seed 9.
    const fresh = await runExperiment(
      ds,
      { ...train, seed: 9, maxSteps: 1 },
      { id: 'none', options: {} },
      new RunControl(),
      () => {},
    );
    const auc = (r: typeof dense) => r.result.test!.auc;
    expect(Math.abs(auc(again) - auc(dense))).toBeLessThan(Math.abs(auc(fresh) - auc(dense)));
    for (const r of [dense, again, fresh]) r.kept.dispose();
  });

  it('refuses a model of another architecture, naming the difference', () => {
    const a = buildModel(ds, train, new Rng(1));
    const b = buildModel(ds, { ...train, mlpLayers: [16] }, new Rng(1));
    expect(() => copyModelWeights(a, b)).toThrow(
      /does not match this run's \(DeepFM\): weight \d+ is \[/,
    );
    a.dispose();
    b.dispose();
  });
});
