import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { makeBatchBuffers, trainStep } from '../../../workers/engine/trainStep';
import { BatchNorm1d } from '../../../workers/models/layers';
import { DEFAULT_WIDE_DEEP_CONFIG, WideDeepModel } from '../../../workers/models/wideDeep';
import { TorchAdam } from '../../../workers/optim/denseOptimizers';
import { Rng } from '../../../workers/rng';
import {
  TEST_DENSE_ADAM,
  TEST_SPARSE_ADAM,
  fillTable,
  forwardLogits,
  linearJs,
  randomBatch,
  reluJs,
  setVariables,
  trainOnBatch,
  embeddingWeights,
} from './modelTestKit';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Wide & Deep', () => {
  it('forward matches a hand computation (wide linear term + bias, deep MLP in eval mode)', async () => {
    const cfg = {
      numFields: 3,
      vocabulary: 12,
      embeddingDim: 2,
      mlpLayers: [4, 3],
      dropout: 0.2,
      batchNorm: true,
    };
    const model = new WideDeepModel(cfg, TEST_SPARSE_ADAM, new Rng(1));
    fillTable(embeddingWeights(model), 2);
    fillTable(model.linear.weights, 3);
    const w = await setVariables(model.denseVariables, 4);
    const get = (v: tf.Variable) => w.get(v)!;
    const ids = Int32Array.from([0, 5, 9, 3, 5, 11]);
    const logits = await forwardLogits(model, ids, null);
    for (let i = 0; i < 2; i++) {
      const rows = Array.from(ids.subarray(i * 3, i * 3 + 3));
      const wide = rows.reduce((a, r) => a + model.linear.weights[r], get(model.bias)[0]);
      let h = rows.flatMap((r) => Array.from(embeddingWeights(model).subarray(r * 2, r * 2 + 2)));
      model.mlp.linears.forEach((lin, j) => {
        const gamma = get(model.mlp.norms[j].gamma);
        const beta = get(model.mlp.norms[j].beta);
        h = reluJs(
          linearJs(h, get(lin.weight), get(lin.bias)).map(
            (v, k) => (v / Math.sqrt(1 + BatchNorm1d.EPS)) * gamma[k] + beta[k],
          ),
        );
      });
      const deep = linearJs(h, get(model.mlp.output!.weight), get(model.mlp.output!.bias))[0];
      expect(logits[i]).toBeCloseTo(wide + deep, 5);
    }
    model.dispose();
  });

  it('a few training steps reduce the loss, and tensors do not accumulate', async () => {
    const model = new WideDeepModel(
      {
        numFields: 3,
        vocabulary: 30,
        embeddingDim: 4,
        mlpLayers: [8],
        dropout: 0.1,
        batchNorm: true,
      },
      TEST_SPARSE_ADAM,
      new Rng(5),
    );
    const opt = new TorchAdam(model.denseVariables, TEST_DENSE_ADAM);
    const planner = new BatchPlanner(30);
    const { ids, labels } = randomBatch(8, 64, 3, 10, 0);
    const losses: number[] = [];
    losses.push(await trainOnBatch(model, opt, planner, ids, null, labels, 0));
    const tensorsAfterFirst = tf.memory().numTensors;
    for (let s = 1; s < 40; s++)
      losses.push(await trainOnBatch(model, opt, planner, ids, null, labels, s));
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    expect(losses[39]).toBeLessThan(losses[0] * 0.8);

    const embRows = tf.tensor2d(embeddingWeights(model), [30, 4]);
    const linRows = tf.tensor2d(model.linear.weights, [30, 1]);
    const localIndex = tf.tensor1d(ids, 'int32');
    const before = tf.memory().numTensors;
    for (let r = 0; r < 5; r++) {
      tf.tidy(() => {
        tf.variableGrads(
          () =>
            model
              .forward(
                {
                  tableRows: [embRows, linRows],
                  localIndex,
                  dense: null,
                  batchSize: 64,
                  dropoutSeed: r,
                },
                true,
              )
              .square()
              .mean() as tf.Scalar,
          model.denseVariables,
        );
      });
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([embRows, linRows, localIndex]);
    model.dispose();
    opt.dispose();
  });

  it('runs in trainStep, summarises its parts and disposes everything', async () => {
    const ds = generateSyntheticCtr({ seed: 4, numRows: 300, numFields: 4, maxCardinality: 50 });
    const model = new WideDeepModel(
      {
        ...DEFAULT_WIDE_DEEP_CONFIG,
        numFields: 4,
        vocabulary: ds.totalVocabulary,
        embeddingDim: 4,
        mlpLayers: [8],
      },
      TEST_SPARSE_ADAM,
      new Rng(6),
    );
    const opt = new TorchAdam(model.denseVariables, TEST_DENSE_ADAM);
    const loss = await trainStep(
      model,
      { optimizers: [opt], variables: model.denseVariables, gradClipNorm: 0 },
      new BatchPlanner(ds.totalVocabulary),
      ds,
      Int32Array.from(ds.split.train),
      0,
      32,
      makeBatchBuffers(32, 4),
      1,
    );
    expect(Number.isFinite(loss)).toBe(true);
    const s = model.shape();
    const mlp = 16 * 8 + 8 + 2 * 8 + 8 + 1;
    expect(s.parts).toEqual([
      { part: 'embedding', params: ds.totalVocabulary * 4, bytes: 16 * ds.totalVocabulary },
      { part: 'linear', params: ds.totalVocabulary + 1, bytes: 4 * (ds.totalVocabulary + 1) },
      { part: 'mlp', params: mlp, bytes: 4 * mlp },
    ]);
    expect(s.flopsPerExample).toBe(4 + 2 * 16 * 8 + 2 * 8);
    model.dispose();
    opt.dispose();

    const before = tf.memory().numTensors;
    const fresh = new WideDeepModel(
      { ...DEFAULT_WIDE_DEEP_CONFIG, numFields: 4, vocabulary: 40, embeddingDim: 4 },
      TEST_SPARSE_ADAM,
      new Rng(7),
    );
    fresh.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
