import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { makeBatchBuffers, trainStep } from '../../../workers/engine/trainStep';
import { DEFAULT_DLRM_CONFIG, DlrmModel, umecTopMlpFlops } from '../../../workers/models/dlrm';
import { TorchAdam, TorchSgd } from '../../../workers/optim/denseOptimizers';
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

describe('DLRM', () => {
  it('forward matches a hand computation (bottom MLP, cat interaction, top MLP)', async () => {
    const m = 3;
    const d = 2;
    const perField = 4;
    const model = new DlrmModel(
      {
        numFields: m,
        vocabulary: m * perField,
        fieldDims: [4, 4, 4],
        embeddingDim: d,
        numDense: 2,
        bottomLayers: [3, 2],
        topLayers: [4, 1],
      },
      TEST_SPARSE_ADAM,
      new Rng(1),
    );
    fillTable(embeddingWeights(model), 5);
    const w = await setVariables(model.denseVariables, 9);
    const ids = Int32Array.from([0, 5, 9, 3, 5, 11]); // two examples, fields at offsets 0, 4, 8
    const dense = Float32Array.from([0.5, -1.2, 2.0, 0.3]);
    const logits = await forwardLogits(model, ids, dense);

    const [bot0, bot1] = model.bottomMlp!.linears;
    const [top0, top1] = model.topLinears;
    const table = embeddingWeights(model);
    for (let i = 0; i < 2; i++) {
      let x = reluJs(
        linearJs(dense.subarray(i * 2, i * 2 + 2), w.get(bot0.weight)!, w.get(bot0.bias)!),
      );
      x = reluJs(linearJs(x, w.get(bot1.weight)!, w.get(bot1.bias)!)); // ReLU on the bottom output too
      const z = [...x];
      for (let f = 0; f < m; f++) {
        const row = ids[i * m + f];
        z.push(...table.subarray(row * d, row * d + d));
      }
      expect(z.length).toBe(2 + m * d);
      const h = reluJs(linearJs(z, w.get(top0.weight)!, w.get(top0.bias)!));
      const logit = linearJs(h, w.get(top1.weight)!, w.get(top1.bias)!)[0]; // no activation: a logit
      expect(logits[i]).toBeCloseTo(logit, 5);
    }
    model.dispose();
  });

  it('without dense features the top MLP sees the fields only, and the model runs in trainStep', async () => {
    const ds = generateSyntheticCtr({ seed: 4, numRows: 300, numFields: 4, maxCardinality: 50 });
    const model = new DlrmModel(
      {
        numFields: 4,
        vocabulary: ds.totalVocabulary,
        fieldDims: ds.fieldDims,
        embeddingDim: 4,
        numDense: 0,
        bottomLayers: [],
        topLayers: [8, 1],
      },
      TEST_SPARSE_ADAM,
      new Rng(2),
    );
    expect(model.topLinears[0].inFeatures).toBe(16);
    const opt = new TorchSgd(model.denseVariables, {
      learningRate: 0.1,
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
    });
    const planner = new BatchPlanner(ds.totalVocabulary);
    const buffers = makeBatchBuffers(64, ds.numFields);
    const rows = Int32Array.from(ds.split.train);
    const loss = await trainStep(
      model,
      { optimizers: [opt], variables: model.denseVariables, gradClipNorm: 0 },
      planner,
      ds,
      rows,
      0,
      64,
      buffers,
      3,
    );
    expect(Number.isFinite(loss)).toBe(true);
    model.dispose();
    opt.dispose();
  });

  it('rejects a missing dense input and a top MLP that does not end in one logit', async () => {
    const model = new DlrmModel(
      {
        numFields: 2,
        vocabulary: 8,
        fieldDims: null,
        embeddingDim: 2,
        numDense: 3,
        bottomLayers: [2],
        topLayers: [1],
      },
      TEST_SPARSE_ADAM,
      new Rng(3),
    );
    await expect(forwardLogits(model, Int32Array.from([0, 5]), null)).rejects.toThrow(/dense/);
    model.dispose();
    expect(
      () =>
        new DlrmModel(
          {
            numFields: 2,
            vocabulary: 8,
            fieldDims: null,
            embeddingDim: 2,
            numDense: 0,
            bottomLayers: [],
            topLayers: [4, 2],
          },
          TEST_SPARSE_ADAM,
          new Rng(3),
        ),
    ).toThrow(/end with 1/);
  });

  it('init follows DLRM: per-field U(+-sqrt(1/n)) rows', () => {
    const model = new DlrmModel(
      {
        numFields: 2,
        vocabulary: 104,
        fieldDims: [4, 100],
        embeddingDim: 3,
        numDense: 0,
        bottomLayers: [],
        topLayers: [1],
      },
      TEST_SPARSE_ADAM,
      new Rng(4),
    );
    const w = embeddingWeights(model);
    const maxAbs = (a: Float32Array) => a.reduce((x, v) => Math.max(x, Math.abs(v)), 0);
    expect(maxAbs(w.subarray(0, 12))).toBeLessThanOrEqual(0.5);
    expect(maxAbs(w.subarray(0, 12))).toBeGreaterThan(0.1);
    expect(maxAbs(w.subarray(12))).toBeLessThanOrEqual(0.1);
    model.dispose();
  });

  it('UMEC FLOPs convention: dense 432-512-256-1 is exactly 705,793; one field saves 2*16*512', () => {
    const model = new DlrmModel(
      { ...DEFAULT_DLRM_CONFIG, numFields: 26, vocabulary: 26 * 10, fieldDims: null },
      TEST_SPARSE_ADAM,
      new Rng(5),
    );
    expect(model.topLinears.map((l) => [l.inFeatures, l.outFeatures])).toEqual([
      [432, 512],
      [512, 256],
      [256, 1],
    ]);
    expect(model.topMlpFlops()).toBe(705_793);
    expect(model.topMlpFlops([1, 0, 0])).toBe(705_793 - 2 * 16 * 512);
    // Pruning one neuron at the input of layer 2 removes a column of layer 1 and a row of layer 2.
    expect(model.topMlpFlops([0, 0, 1])).toBe(705_793 - (2 * 512 + 1) - 2);
    expect(umecTopMlpFlops(432, [512, 256, 1], 16, [0, 1, 0])).toBe(
      705_793 - (2 * 432 + 1) - 2 * 256,
    );
    const groups = model.topInputGroups;
    expect(groups.length).toBe(27);
    expect(groups[0]).toEqual({ source: 'dense', start: 0, size: 16 });
    expect(groups[26]).toEqual({ source: 25, start: 16 + 25 * 16, size: 16 });
    const s = model.shape();
    expect(s.parts.map((p) => p.part)).toEqual(['embedding', 'bottom-mlp', 'top-mlp']);
    expect(s.parts[1].params).toBe(13 * 512 + 512 + 512 * 256 + 256 + 256 * 64 + 64 + 64 * 16 + 16);
    expect(s.parts[2].params).toBe(432 * 512 + 512 + 512 * 256 + 256 + 256 + 1);
    model.dispose();
  });

  it('a few training steps reduce the loss, and tensors do not accumulate', async () => {
    const model = new DlrmModel(
      {
        numFields: 3,
        vocabulary: 30,
        fieldDims: [10, 10, 10],
        embeddingDim: 4,
        numDense: 2,
        bottomLayers: [8, 4],
        topLayers: [8, 1],
      },
      TEST_SPARSE_ADAM,
      new Rng(6),
    );
    const opt = new TorchAdam(model.denseVariables, TEST_DENSE_ADAM);
    const planner = new BatchPlanner(30);
    const { ids, dense, labels } = randomBatch(7, 64, 3, 10, 2);
    const losses: number[] = [];
    losses.push(await trainOnBatch(model, opt, planner, ids, dense, labels, 0));
    const tensorsAfterFirst = tf.memory().numTensors;
    for (let s = 1; s < 40; s++)
      losses.push(await trainOnBatch(model, opt, planner, ids, dense, labels, s));
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    expect(losses[39]).toBeLessThan(losses[0] * 0.8);

    const rowBlock = tf.tensor2d(embeddingWeights(model), [30, 4]);
    const localIndex = tf.tensor1d(ids, 'int32');
    const denseTensor = tf.tensor2d(dense!, [64, 2]);
    const before = tf.memory().numTensors;
    for (let r = 0; r < 5; r++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () =>
            model
              .forward(
                {
                  tableRows: [rowBlock],
                  localIndex,
                  dense: denseTensor,
                  batchSize: 64,
                  dropoutSeed: r,
                },
                true,
              )
              .square()
              .mean() as tf.Scalar,
          model.denseVariables,
        );
        expect(Object.keys(grads).length).toBe(model.denseVariables.length);
      });
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([rowBlock, localIndex, denseTensor]);
    model.dispose();
    opt.dispose();
  });

  it('dispose frees every variable it created', () => {
    const before = tf.memory().numTensors;
    const model = new DlrmModel(
      {
        numFields: 2,
        vocabulary: 8,
        fieldDims: null,
        embeddingDim: 2,
        numDense: 3,
        bottomLayers: [4, 2],
        topLayers: [3, 1],
      },
      TEST_SPARSE_ADAM,
      new Rng(8),
    );
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
