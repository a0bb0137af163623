import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { makeBatchBuffers, trainStep } from '../../../workers/engine/trainStep';
import { MultiheadSelfAttention } from '../../../workers/models/attention';
import {
  type AutoIntConfig,
  AutoIntModel,
  DEFAULT_AUTOINT_CONFIG,
} from '../../../workers/models/autoint';
import { BatchNorm1d } from '../../../workers/models/layers';
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

/** torch.nn.MultiheadAttention(q=k=v=x) for one sequence x: [L][E], written out in loops. */
function selfAttentionJs(
  x: number[][],
  numHeads: number,
  inW: Float32Array,
  inB: Float32Array,
  outW: Float32Array,
  outB: Float32Array,
): number[][] {
  const l = x.length;
  const e = x[0].length;
  const hd = e / numHeads;
  const packed = x.map((row) => linearJs(row, inW, inB)); // [L][3E]
  const q = packed.map((r) => r.slice(0, e));
  const k = packed.map((r) => r.slice(e, 2 * e));
  const v = packed.map((r) => r.slice(2 * e, 3 * e));
  const context = x.map(() => new Array<number>(e).fill(0));
  for (let h = 0; h < numHeads; h++) {
    for (let i = 0; i < l; i++) {
      const scores: number[] = [];
      for (let j = 0; j < l; j++) {
        let s = 0;
        for (let c = h * hd; c < (h + 1) * hd; c++) s += q[i][c] * k[j][c];
        scores.push(s / Math.sqrt(hd));
      }
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const z = exps.reduce((a, b) => a + b, 0);
      for (let j = 0; j < l; j++) {
        for (let c = h * hd; c < (h + 1) * hd; c++) context[i][c] += (exps[j] / z) * v[j][c];
      }
    }
  }
  return context.map((row) => linearJs(row, outW, outB));
}

function tinyConfig(overrides: Partial<AutoIntConfig> = {}): AutoIntConfig {
  return {
    numFields: 3,
    vocabulary: 12,
    embeddingDim: 2,
    attentionDim: 4,
    numHeads: 2,
    numLayers: 2,
    attentionDropout: 0,
    residual: true,
    fullPart: true,
    mlpLayers: [3],
    dropout: 0,
    batchNorm: true,
    ...overrides,
  };
}

describe('AutoInt (PEP version)', () => {
  it('defaults are the PEP scripts', () => {
    expect(DEFAULT_AUTOINT_CONFIG).toMatchObject({
      embeddingDim: 24,
      attentionDim: 64,
      numHeads: 2,
      numLayers: 3,
      attentionDropout: 0,
      residual: true,
      fullPart: true,
      mlpLayers: [400, 400, 400],
    });
  });

  it('forward matches a hand computation (attention layers, residual, ReLU, fc, DNN part)', async () => {
    const cfg = tinyConfig();
    const model = new AutoIntModel(cfg, TEST_SPARSE_ADAM, new Rng(1));
    fillTable(embeddingWeights(model), 3);
    const w = await setVariables(model.denseVariables, 4);
    const ids = Int32Array.from([0, 5, 9, 3, 5, 11]);
    const logits = await forwardLogits(model, ids, null);
    const table = embeddingWeights(model);
    const { numFields: m, embeddingDim: d } = cfg;
    const get = (v: tf.Variable) => w.get(v)!;
    for (let i = 0; i < 2; i++) {
      const emb = Array.from({ length: m }, (_, f) =>
        Array.from(table.subarray(ids[i * m + f] * d, ids[i * m + f] * d + d)),
      );
      let cross = emb.map((x) =>
        linearJs(x, get(model.attentionEmbedding.weight), get(model.attentionEmbedding.bias)),
      );
      for (const layer of model.attentionLayers) {
        cross = selfAttentionJs(
          cross,
          cfg.numHeads,
          get(layer.inProjWeight),
          get(layer.inProjBias),
          get(layer.outProj.weight),
          get(layer.outProj.bias),
        );
      }
      const res = model.residualEmbedding!;
      const flat = cross.flatMap((row, f) =>
        reluJs(row.map((v, c) => v + linearJs(emb[f], get(res.weight), get(res.bias))[c])),
      );
      let logit = linearJs(
        flat,
        get(model.attentionOutput.weight),
        get(model.attentionOutput.bias),
      )[0];
      // DNN part in eval mode: BatchNorm with its initial running stats (mean 0, var 1).
      const mlp = model.mlp!;
      const hPre = linearJs(emb.flat(), get(mlp.linears[0].weight), get(mlp.linears[0].bias));
      const gamma = get(mlp.norms[0].gamma);
      const beta = get(mlp.norms[0].beta);
      const h = reluJs(
        hPre.map((v, j) => (v / Math.sqrt(1 + BatchNorm1d.EPS)) * gamma[j] + beta[j]),
      );
      logit += linearJs(h, get(mlp.output!.weight), get(mlp.output!.bias))[0];
      expect(logits[i]).toBeCloseTo(logit, 5);
    }
    model.dispose();
  });

  it('without residual and DNN part, the logit is the attention branch only', async () => {
    const cfg = tinyConfig({ residual: false, fullPart: false, numLayers: 1 });
    const model = new AutoIntModel(cfg, TEST_SPARSE_ADAM, new Rng(2));
    expect(model.mlp).toBeNull();
    expect(model.residualEmbedding).toBeNull();
    fillTable(embeddingWeights(model), 5);
    const w = await setVariables(model.denseVariables, 6);
    const ids = Int32Array.from([1, 6, 10]);
    const [logit] = await forwardLogits(model, ids, null);
    const get = (v: tf.Variable) => w.get(v)!;
    const emb = [1, 6, 10].map((r) =>
      Array.from(embeddingWeights(model).subarray(r * 2, r * 2 + 2)),
    );
    const layer = model.attentionLayers[0];
    const cross = selfAttentionJs(
      emb.map((x) =>
        linearJs(x, get(model.attentionEmbedding.weight), get(model.attentionEmbedding.bias)),
      ),
      2,
      get(layer.inProjWeight),
      get(layer.inProjBias),
      get(layer.outProj.weight),
      get(layer.outProj.bias),
    );
    const expected = linearJs(
      cross.flatMap(reluJs),
      get(model.attentionOutput.weight),
      get(model.attentionOutput.bias),
    )[0];
    expect(logit).toBeCloseTo(expected, 5);
    model.dispose();
  });

  it('torch init of MultiheadAttention: zero in/out biases, in-projection within the xavier bound', async () => {
    const mha = new MultiheadSelfAttention(8, 2, 0, new Rng(3), 'mha_init');
    const inB = await mha.inProjBias.data();
    const outB = await mha.outProj.bias.data();
    const inW = await mha.inProjWeight.data();
    expect(Array.from(inB).every((v) => v === 0)).toBe(true);
    expect(Array.from(outB).every((v) => v === 0)).toBe(true);
    const bound = Math.sqrt(6 / (8 + 24));
    expect(Math.max(...Array.from(inW, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(inW, Math.abs))).toBeGreaterThan(bound * 0.8);
    expect(mha.numParams).toBe(4 * 8 * 8 + 4 * 8);
    mha.dispose();
  });

  it('attention dropout is seeded by dropoutSeed and off in eval mode', async () => {
    const model = new AutoIntModel(
      tinyConfig({ attentionDropout: 0.5, fullPart: false }),
      TEST_SPARSE_ADAM,
      new Rng(4),
    );
    const ids = Int32Array.from([0, 5, 9, 3, 5, 11]);
    const a = await forwardLogits(model, ids, null, true, 11);
    const b = await forwardLogits(model, ids, null, true, 11);
    const c = await forwardLogits(model, ids, null, true, 12);
    const evalA = await forwardLogits(model, ids, null, false, 11);
    const evalB = await forwardLogits(model, ids, null, false, 12);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(evalA)).toEqual(Array.from(evalB));
    model.dispose();
  });

  it('a few training steps reduce the loss, and tensors do not accumulate', async () => {
    const model = new AutoIntModel(
      tinyConfig({
        numFields: 3,
        vocabulary: 30,
        embeddingDim: 4,
        attentionDim: 8,
        mlpLayers: [8],
        dropout: 0.1,
      }),
      TEST_SPARSE_ADAM,
      new Rng(5),
    );
    const opt = new TorchAdam(model.denseVariables, TEST_DENSE_ADAM);
    const planner = new BatchPlanner(30);
    const { ids, labels } = randomBatch(7, 64, 3, 10, 0);
    const losses: number[] = [];
    losses.push(await trainOnBatch(model, opt, planner, ids, null, labels, 0));
    const tensorsAfterFirst = tf.memory().numTensors;
    for (let s = 1; s < 40; s++)
      losses.push(await trainOnBatch(model, opt, planner, ids, null, labels, s));
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    expect(losses[39]).toBeLessThan(losses[0] * 0.8);

    const rowBlock = tf.tensor2d(embeddingWeights(model), [30, 4]);
    const localIndex = tf.tensor1d(ids, 'int32');
    const before = tf.memory().numTensors;
    for (let r = 0; r < 5; r++) {
      tf.tidy(() => {
        tf.variableGrads(
          () =>
            model
              .forward(
                { tableRows: [rowBlock], localIndex, dense: null, batchSize: 64, dropoutSeed: r },
                true,
              )
              .square()
              .mean() as tf.Scalar,
          model.denseVariables,
        );
      });
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([rowBlock, localIndex]);
    model.dispose();
    opt.dispose();
  });

  it('runs in trainStep and summarises its parts', async () => {
    const ds = generateSyntheticCtr({ seed: 4, numRows: 300, numFields: 4, maxCardinality: 50 });
    const cfg = tinyConfig({
      numFields: 4,
      vocabulary: ds.totalVocabulary,
      embeddingDim: 4,
      attentionDim: 8,
      numLayers: 3,
    });
    const model = new AutoIntModel(cfg, TEST_SPARSE_ADAM, new Rng(6));
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
    const e = 8;
    const attention = 4 * e + e + 3 * (4 * e * e + 4 * e) + (4 * e + e) + (4 * e + 1);
    expect(s.parts).toEqual([
      { part: 'embedding', params: ds.totalVocabulary * 4, bytes: 16 * ds.totalVocabulary },
      { part: 'attention', params: attention, bytes: 4 * attention },
      { part: 'mlp', params: 16 * 3 + 3 + 2 * 3 + 3 + 1, bytes: 4 * (16 * 3 + 3 + 2 * 3 + 3 + 1) },
    ]);
    const flops =
      2 * 4 * 4 * e * 2 +
      3 * (2 * 4 * e * 3 * e + 4 * 4 * 4 * e + 2 * 4 * e * e) +
      2 * 4 * e +
      (2 * 16 * 3 + 2 * 3);
    expect(s.flopsPerExample).toBe(flops);
    model.dispose();
    opt.dispose();
  });

  it('dispose frees every tensor the model and its optimizer created', () => {
    const before = tf.memory().numTensors;
    const model = new AutoIntModel(tinyConfig(), TEST_SPARSE_ADAM, new Rng(7));
    const opt = new TorchAdam(model.denseVariables, TEST_DENSE_ADAM);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    model.dispose();
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
