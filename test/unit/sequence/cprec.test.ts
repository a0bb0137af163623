import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropySum, gatherRows, NextItNet } from '../../../workers/sequence/nextItNet';
import {
  architectureOf,
  DEFAULT_SEQ_RUN,
  kernelAssignment,
  resolveCuts,
  seqParamCounts,
  SHARING_SCHEMES,
  uncompressedOf,
  validateSeqRunConfig,
  type SeqArchitecture,
  type SharingScheme,
} from '../../../workers/sequence/seqProtocol';
import { adaptiveTopK, RankingAccumulator, topK } from '../../../workers/sequence/rankingMetrics';
import { hostSoftmaxOf } from '../../../workers/sequence/seqTrainer';
import { Rng } from '../../../workers/rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function arch(over: Partial<SeqArchitecture> = {}): SeqArchitecture {
  return {
    numItems: 60,
    dim: 8,
    dilations: [1, 2, 4, 8, 1, 2, 4, 8],
    cuts: [12, 30, 60],
    blockDims: [8, 2, 1],
    sharing: 'none',
    ...over,
  };
}

function randomIds(rng: Rng, B: number, T: number, V: number, pad = 0): Int32Array {
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) out[b * T + t] = t < pad ? 0 : 1 + rng.int(V);
  return out;
}

/** Gives a model's variables larger random values, so that outputs differ by input. */
function scramble(model: NextItNet, seed: number): void {
  const rng = new Rng(seed);
  for (const v of model.variables) {
    const values = Float32Array.from({ length: v.size }, () => rng.uniform(-0.5, 0.5));
    v.assign(tf.tensor(values, v.shape));
  }
}

describe('CpRec parameter counts', () => {
  it('the sharing schemes give 8, 1, 2, 4 and 4 distinct kernels for 4 blocks', () => {
    const distinct = (s: SharingScheme) => new Set(kernelAssignment(8, s)).size;
    expect(SHARING_SCHEMES.map(distinct)).toEqual([8, 1, 2, 4, 4]);
    // Which convs are tied: cross-block ties conv1s together and conv2s together.
    expect(kernelAssignment(8, 'cross-block')).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(kernelAssignment(8, 'adjacent-layer')).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(kernelAssignment(8, 'adjacent-block')).toEqual([0, 1, 0, 1, 2, 3, 2, 3]);
  });

  it('every configuration has the parameters of the analytic formula', () => {
    const d = 8;
    for (const sharing of SHARING_SCHEMES) {
      for (const cuts of [[60], [12, 60], [12, 30, 60]]) {
        const a = arch({ sharing, cuts, blockDims: cuts.map((_, k) => d / 2 ** k) });
        const model = new NextItNet(a, 1);
        const counts = seqParamCounts(a);
        expect(model.numParams).toBe(counts.total);
        const kernels = new Set(kernelAssignment(8, sharing)).size;
        expect(counts.middle).toBe(kernels * (3 * d * d + d) + 8 * 2 * d);
        expect(model.kernels.length).toBe(kernels);
        model.dispose();
      }
    }
    // The uncompressed model: V·d input, 8 convs, (d+1)·V softmax.
    const plain = seqParamCounts(uncompressedOf(arch()));
    expect(plain.input).toBe(60 * 8);
    expect(plain.softmax).toBe(9 * 60);
    expect(plain.middle).toBe(8 * (3 * 64 + 8) + 8 * 16);
  });

  it('block dimensions are d / f^(k-1) and cut points are checked against the vocabulary', () => {
    const config = {
      ...DEFAULT_SEQ_RUN,
      cprec: { cutPoints: [100, 500], factor: 4, sharing: 'none' as const },
    };
    const a = architectureOf({ ...config, train: { ...config.train, embeddingDim: 64 } }, 1000);
    expect(a.cuts).toEqual([100, 500, 1000]);
    expect(a.blockDims).toEqual([64, 16, 4]);
    expect(resolveCuts([0.2, 0.5], 1000)).toEqual([200, 500, 1000]);
    expect(() => resolveCuts([100, 1000], 1000)).toThrow(/outside the vocabulary.*1000 items/);
    expect(() => resolveCuts([5000], 1000)).toThrow(/outside the vocabulary/);
    expect(() => resolveCuts([500, 100], 1000)).toThrow(/must increase/);
    expect(() => resolveCuts([1.5], 1000)).toThrow(/whole rank/);
    expect(
      validateSeqRunConfig({
        ...DEFAULT_SEQ_RUN,
        train: { ...DEFAULT_SEQ_RUN.train, dilations: [1, 2, 4] },
      }),
    ).toHaveProperty('train.dilations');
  });
});

describe('NextItNet', () => {
  it('causal convolutions never see future positions', () => {
    const model = new NextItNet(arch(), 3);
    scramble(model, 4);
    const rng = new Rng(5);
    const ids = randomIds(rng, 2, 12, 60, 2);
    const changed = Int32Array.from(ids);
    const t = 8;
    changed[t] = (changed[t] % 60) + 1; // row 0, position 8
    changed[12 + t] = (changed[12 + t] % 60) + 1; // row 1
    const [a, b] = [ids, changed].map((x) =>
      tf.tidy(() => model.hidden(tf.tensor2d(x, [2, 12], 'int32')).arraySync()),
    );
    for (let r = 0; r < 2; r++) {
      for (let p = 0; p < 12; p++) {
        const diff = Math.max(...a[r][p].map((v, i) => Math.abs(v - b[r][p][i])));
        if (p < t) expect(diff).toBe(0);
        else if (p === t) expect(diff).toBeGreaterThan(1e-4);
      }
    }
    model.dispose();
  });

  it("the adaptive softmax's full distribution sums to 1, and the loss is its -log P(label)", () => {
    const model = new NextItNet(arch(), 7);
    scramble(model, 8);
    const rng = new Rng(9);
    const ids = randomIds(rng, 3, 10, 60, 3);
    const h = tf.randomNormal([5, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
    const sums = tf.tidy(() => model.fullLogProbs(h).exp().sum(1).arraySync()) as number[];
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    // Training loss (no L2) = mean over non-padding targets of -log P(target) under the full distribution.
    const plan = model.planTargets(ids, 3, 10);
    const loss = tf.tidy(() => model.loss(tf.tensor2d(ids, [3, 10], 'int32'), plan, 0).arraySync());
    const full = tf.tidy(() => {
      const hidden = model.hidden(tf.tensor2d(ids, [3, 10], 'int32').slice([0, 0], [3, 9]));
      return model.fullLogProbs(hidden.reshape([27, 8]) as tf.Tensor2D).arraySync();
    });
    let sum = 0;
    let n = 0;
    for (let r = 0; r < 3; r++)
      for (let t = 1; t < 10; t++) {
        const label = ids[r * 10 + t];
        if (label === 0) continue;
        sum -= full[r * 9 + t - 1][label - 1];
        n++;
      }
    expect(n).toBe(plan.positions.length);
    expect(loss).toBeCloseTo(sum / n, 4);
    model.dispose();
  });

  it('with one block the full distribution is the plain softmax over h·W + b', () => {
    const model = new NextItNet(arch({ cuts: [60], blockDims: [8] }), 2);
    scramble(model, 3);
    const h = tf.randomNormal([4, 8], 0, 1, 'float32', 2) as tf.Tensor2D;
    const ours = tf.tidy(() => model.fullLogProbs(h).arraySync());
    const ref = tf.tidy(() =>
      tf.logSoftmax(tf.matMul(h, model.headW as tf.Tensor2D).add(model.headB!)).arraySync(),
    ) as number[][];
    ours.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(ref[i][j], 5)));
    model.dispose();
  });

  it('a tied kernel is one variable: its gradient is the sum over its uses, and one step changes every use', () => {
    const a = arch({ cuts: [60], blockDims: [8] });
    const shared = new NextItNet({ ...a, sharing: 'cross-layer' }, 1);
    const untied = new NextItNet({ ...a, sharing: 'none' }, 1);
    scramble(shared, 11);
    // The untied model gets the same values: its 8 kernels are copies of the one shared kernel.
    const byShape = (m: NextItNet) => [
      ...m.inputTables,
      ...m.lnGamma,
      ...m.lnBeta,
      m.headW,
      m.headB!,
    ];
    byShape(untied).forEach((v, i) => v.assign(byShape(shared)[i]));
    untied.kernels.forEach((k) => k.assign(shared.kernels[0]));
    untied.kernelBiases.forEach((k) => k.assign(shared.kernelBiases[0]));
    const rng = new Rng(12);
    const ids = randomIds(rng, 4, 12, 60, 1);
    const plan = shared.planTargets(ids, 4, 12);
    const x = tf.tensor2d(ids, [4, 12], 'int32');
    const gShared = tf.variableGrads(() => shared.loss(x, plan, 0), [shared.kernels[0]]);
    const gUntied = tf.variableGrads(() => untied.loss(x, plan, 0), untied.kernels);
    expect(gShared.value.arraySync()).toBeCloseTo(gUntied.value.arraySync(), 5);
    const summed = tf
      .addN(untied.kernels.map((k) => gUntied.grads[k.name]))
      .arraySync() as number[][];
    const ours = gShared.grads[shared.kernels[0].name].arraySync() as number[][];
    ours.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(summed[i][j], 4)));
    // One SGD step on the shared kernel: every conv reads the new value (there is one tensor).
    expect(shared.kernelOf).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const before = shared.kernels[0].arraySync() as number[][];
    shared.kernels[0].assign(shared.kernels[0].sub(gShared.grads[shared.kernels[0].name].mul(0.1)));
    expect((shared.kernels[0].arraySync() as number[][])[0][0]).not.toBe(before[0][0]);
    shared.dispose();
    untied.dispose();
  });

  it('the custom gather and cross-entropy gradients equal the stock ones (duplicates summed)', () => {
    const x = tf.randomNormal([6, 5], 0, 1, 'float32', 3) as tf.Tensor2D;
    const idx = Int32Array.from([0, 2, 2, 5, 0, 0]);
    const labels = Int32Array.from([1, 4, 0, 2, 2, 3]);
    const ours = tf.grad((t: tf.Tensor) =>
      crossEntropySum(gatherRows(t as tf.Tensor2D, idx).mul(1.5) as tf.Tensor2D, labels),
    )(x);
    const stock = tf.grad((t: tf.Tensor) => {
      const g = tf.gather(t, tf.tensor1d(idx, 'int32')).mul(1.5);
      return tf.losses
        .softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 5), g as tf.Tensor2D)
        .mul(6);
    })(x);
    const a = ours.arraySync() as number[][];
    const b = stock.arraySync() as number[][];
    a.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i][j], 5)));
    const value = crossEntropySum(x, labels).arraySync();
    const ref = tf.losses
      .softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 5), x)
      .mul(6)
      .arraySync();
    expect(value).toBeCloseTo(ref as number, 4);
  });
});

describe('ranking', () => {
  it('MRR, HR and NDCG at 5 and 20 from ranks', () => {
    const acc = new RankingAccumulator();
    for (const r of [0, 1, 4, 5, 19, 20]) acc.add(r);
    const m = acc.result();
    expect(m.count).toBe(6);
    expect(m.hr5).toBeCloseTo(3 / 6);
    expect(m.hr20).toBeCloseTo(5 / 6);
    expect(m.mrr5).toBeCloseTo((1 + 1 / 2 + 1 / 5) / 6);
    expect(m.mrr20).toBeCloseTo((1 + 1 / 2 + 1 / 5 + 1 / 6 + 1 / 20) / 6);
    expect(m.ndcg5).toBeCloseTo((1 + 1 / Math.log2(3) + 1 / Math.log2(6)) / 6);
  });

  it('the fast top-k equals the full distribution top-k, and skips blocks that cannot reach it', async () => {
    const model = new NextItNet(
      arch({ numItems: 300, cuts: [30, 120, 300], blockDims: [8, 4, 2] }),
      4,
    );
    scramble(model, 6);
    // A trained model puts most mass on the head: wide head logits and flat cluster logits do
    // that here (the block-wise head has no bias).
    expect(model.headB).toBeNull();
    const scale = tf.tensor1d(Array.from({ length: 32 }, (_, i) => (i < 30 ? 4 : 0)));
    model.headW.assign(tf.mul(model.headW, scale));
    const host = await hostSoftmaxOf(model);
    const hs = tf.randomNormal([200, 8], 0, 1, 'float32', 9) as tf.Tensor2D;
    const full = tf.tidy(() => model.fullLogProbs(hs).arraySync());
    const hRows = hs.arraySync();
    let skipped = 0;
    for (let i = 0; i < hRows.length; i++) {
      // The host's full distribution is the model's.
      const hostFull = host.fullLogProbs(hRows[i]);
      full[i].forEach((v, j) => expect(hostFull[j]).toBeCloseTo(v, 4));
      for (const k of [5, 20]) {
        const fast = host.topK(hRows[i], k);
        const ref = topK(full[i], k, 1);
        expect(fast.ids).toEqual(ref.ids);
        skipped += 2 - fast.expanded;
      }
    }
    expect(skipped).toBeGreaterThan(0);
    // Plain: with no tail, it is the head's top-k.
    expect(adaptiveTopK([0, -1, -3, -2], [4], 2, () => []).ids).toEqual([1, 2]);
    model.dispose();
  });
});
