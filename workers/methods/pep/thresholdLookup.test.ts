/**
 * PEP's lookup with S on the host thresholds the batch's unique rows, then gathers V̂ once. Against
 * thresholding every position (gather V and S, then the soft threshold): the same forward values
 * and V gradient, and an S gradient equal to 1e-6 (the positions' gradients of a repeated row are
 * summed before the chain rule's factors, not after). And the non-zero count kept by the update
 * equals a full count of V̂ after every step, in both update modes and every granularity.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchPlanner } from '../../embedding/batchPlan';
import { lookupRows } from '../../embedding/rowLookup';
import { Rng } from '../../rng';
import { buildPepEmbedding, type PepEmbedding } from './pepEmbedding';
import { PEP_GRANULARITIES, type PepGranularity } from './spec';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const FIELD_DIMS = Int32Array.of(3, 7, 30);
const OFFSETS = Int32Array.of(0, 3, 10);
const N = 40;
const M = 3;
const D = 4;

function build(granularity: PepGranularity, mode: 'lazy' | 'exact'): PepEmbedding {
  const e = buildPepEmbedding(
    {
      numFields: M,
      vocabulary: N,
      fieldDims: FIELD_DIMS,
      fieldOffsets: OFFSETS,
      dim: D,
      init: { kind: 'xavier-uniform' },
      optimizer: {
        kind: 'adam',
        mode,
        learningRate: 0.05,
        weightDecay: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
      },
      rng: new Rng(4),
      allocate: true,
    },
    {
      granularity,
      thresholdInit: -2,
      gk: 1.5,
      thresholdWeightDecay: 0.01,
      thresholdLearningRateScale: 1,
    },
  );
  e.table.setLearningRate(0.05);
  // Magnitudes around the thresholds (gk · σ(-2) ≈ 0.18): some entries pruned, some kept.
  const rng = new Rng(8);
  const w = e.table.v.weights;
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-0.5, 0.5);
  e.table.recountAll();
  return e;
}

/** Ids of `examples` examples, many repeated (small fields, and a skew in the large one). */
function batchIds(rng: Rng, examples: number): Int32Array {
  return Int32Array.from({ length: examples * M }, (_, i) => {
    const f = i % M;
    const n = f === 2 && rng.next() < 0.5 ? 2 : FIELD_DIMS[f];
    return OFFSETS[f] + rng.int(n);
  });
}

describe('PEP lookup: threshold the unique rows, then gather', () => {
  for (const g of ['feature_dim', 'feature'] as const) {
    it(`${g}: forward and V gradient identical, S gradient to 1e-6, against every position`, async () => {
      const e = build(g, 'exact');
      const rng = new Rng(3);
      const s = e.table.s!;
      for (let i = 0; i < s.weights.length; i++) s.weights[i] = rng.uniform(-4, 1);
      const planner = new BatchPlanner(N);
      const ids = batchIds(rng, 64);
      const plan = planner.plan(ids);
      const u = plan.uniqueRows.length;
      const sBlock = tf.variable(tf.tensor2d(s.gatherRows(plan), [u, s.dim]));
      const vBlock = tf.variable(tf.tensor2d(e.table.gatherRows(plan), [u, D]));
      const local = tf.tensor1d(plan.localIndex, 'int32');
      const weights = tf.tensor2d(
        Float32Array.from({ length: ids.length * D }, () => rng.uniform(-1, 1)),
        [ids.length, D],
      );
      const run = async (f: () => tf.Tensor2D) => {
        const y = tf.tidy(f);
        const out = (await y.data()) as Float32Array;
        const { value, grads } = tf.variableGrads(
          () => f().mul(weights).sum() as tf.Scalar,
          [sBlock, vBlock],
        );
        const result = {
          out,
          gS: (await grads[sBlock.name].data()) as Float32Array,
          gV: (await grads[vBlock.name].data()) as Float32Array,
        };
        tf.dispose([y, value, ...Object.values(grads)]);
        return result;
      };
      const lab = await run(() => e.lookup([sBlock, vBlock], local, 64));
      const perPosition = await run(() => {
        const v = lookupRows(vBlock, local);
        const t = tf.sigmoid(lookupRows(sBlock, local)).mul(e.table.gk);
        return tf.sign(v).mul(tf.relu(tf.abs(v).sub(t))) as tf.Tensor2D;
      });
      expect(lab.out.length).toBe(ids.length * D);
      for (let i = 0; i < lab.out.length; i++) expect(lab.out[i]).toBe(perPosition.out[i]);
      // ±0 aside (the sum of a row's zeros), V's gradient is the same sum of the same numbers.
      for (let i = 0; i < lab.gV.length; i++) expect(lab.gV[i] === perPosition.gV[i]).toBe(true);
      const occurrences = new Int32Array(u);
      for (const slot of plan.localIndex) occurrences[slot]++;
      expect(Math.max(...occurrences)).toBeGreaterThan(5);
      let nonZero = 0;
      for (let i = 0; i < lab.gS.length; i++) {
        const a = lab.gS[i];
        const b = perPosition.gS[i];
        if (b !== 0) nonZero++;
        if (occurrences[Math.floor(i / s.dim)] === 1) expect(a === b).toBe(true);
        else expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b)));
      }
      expect(nonZero).toBeGreaterThan(lab.gS.length / 4);
      tf.dispose([sBlock, vBlock, local, weights]);
      e.dispose();
    });
  }
});

describe('PEP non-zero count kept by the update = a full count of V̂', () => {
  for (const g of PEP_GRANULARITIES) {
    for (const mode of ['lazy', 'exact'] as const) {
      it(`${g}, ${mode}: after every step, per row and in all`, async () => {
        const e = build(g, mode);
        const planner = new BatchPlanner(N);
        const rng = new Rng(6);
        let between = 0;
        for (let step = 0; step < 30; step++) {
          const plan = planner.plan(batchIds(rng, 4));
          const u = plan.uniqueRows.length;
          if (e.deviceThreshold) {
            const [rows, width] = e.deviceThreshold.shape;
            e.deviceThreshold.assign(tf.randomUniform([rows, width], -3, -1, 'float32', step + 1));
          }
          await e.table.beforeUpdate();
          for (const store of e.stores) {
            const grad = Float32Array.from({ length: u * store.dim }, () => rng.uniform(-1, 1));
            store.applyGradient(plan, grad);
          }
          const vhat = e.table.thresholded();
          let total = 0;
          for (let row = 0; row < N; row++) {
            let count = 0;
            for (let k = 0; k < D; k++) if (vhat[row * D + k] !== 0) count++;
            expect(e.table.rowNonZeros[row]).toBe(count);
            total += count;
          }
          expect(e.table.nonZeros).toBe(total);
          if (total > 0 && total < N * D) between++;
        }
        // The thresholds cut some entries and kept others (both sides of the count exercised).
        expect(between).toBeGreaterThan(10);
        e.dispose();
      });
    }
  }
});
