/**
 * PEP's lookup with S on the host gathers the batch's unique rows of V̂ (the soft threshold on
 * the host), and the table takes the block's gradient back through the threshold. Against
 * thresholding every position on the device (gather V and S, then the soft threshold, autodiff):
 * the same forward values and V gradient, and an S gradient equal to 1e-6 (the host computes
 * the chain rule in float64 and rounds once; the positions' gradients of a repeated row are
 * summed before the chain rule's factors, not after). And the
 * non-zero count kept by the update equals a full count of V̂ after every step, in both update
 * modes and every granularity.
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

describe('PEP lookup: V̂ of the unique rows on the host, its gradient back through the threshold', () => {
  for (const g of ['feature_dim', 'feature'] as const) {
    it(`${g}: forward and V gradient identical, S gradient to 1e-6, against every position`, async () => {
      const e = build(g, 'exact');
      const rng = new Rng(3);
      const s = e.table.s!;
      s.loadState([Float32Array.from(s.weights, () => rng.uniform(-4, 1))]);
      const planner = new BatchPlanner(N);
      const ids = batchIds(rng, 64);
      const plan = planner.plan(ids);
      const u = plan.uniqueRows.length;
      const sBlock = tf.variable(tf.tensor2d(s.gatherRows(plan), [u, s.dim]));
      const vBlock = tf.variable(tf.tensor2d(e.table.v.gatherRows(plan), [u, D]));
      const vHatBlock = tf.variable(tf.tensor2d(e.table.gatherRows(plan), [u, D]));
      const local = tf.tensor1d(plan.localIndex, 'int32');
      const weights = tf.tensor2d(
        Float32Array.from({ length: ids.length * D }, () => rng.uniform(-1, 1)),
        [ids.length, D],
      );
      const run = async (f: () => tf.Tensor2D, vars: tf.Variable[]) => {
        const y = tf.tidy(f);
        const out = (await y.data()) as Float32Array;
        const { value, grads } = tf.variableGrads(() => f().mul(weights).sum() as tf.Scalar, vars);
        const blocks = await Promise.all(vars.map((x) => grads[x.name].data()));
        tf.dispose([y, value, ...Object.values(grads)]);
        return { out, blocks: blocks as Float32Array[] };
      };
      const labRun = await run(() => e.lookup([vHatBlock], local, 64), [vHatBlock]);
      const lab = { out: labRun.out, ...e.table.thresholdBackward(plan, labRun.blocks[0]) };
      const deviceRun = await run(() => {
        const v = lookupRows(vBlock, local);
        const t = tf.sigmoid(lookupRows(sBlock, local)).mul(e.table.gk);
        return tf.sign(v).mul(tf.relu(tf.abs(v).sub(t))) as tf.Tensor2D;
      }, [sBlock, vBlock]);
      const perPosition = {
        out: deviceRun.out,
        sGrad: deviceRun.blocks[0],
        vGrad: deviceRun.blocks[1],
      };
      expect(lab.out.length).toBe(ids.length * D);
      for (let i = 0; i < lab.out.length; i++) expect(lab.out[i]).toBe(perPosition.out[i]);
      // ±0 aside (the sum of a row's zeros), V's gradient is the same sum of the same numbers.
      for (let i = 0; i < lab.vGrad.length; i++) {
        expect(lab.vGrad[i] === perPosition.vGrad[i]).toBe(true);
      }
      const occurrences = new Int32Array(u);
      for (const slot of plan.localIndex) occurrences[slot]++;
      expect(Math.max(...occurrences)).toBeGreaterThan(5);
      let nonZero = 0;
      for (let i = 0; i < lab.sGrad.length; i++) {
        const a = lab.sGrad[i];
        const b = perPosition.sGrad[i];
        if (b !== 0) nonZero++;
        // A row used once: the same chain rule, rounded once here and at every op on the
        // device (a few float32 roundings apart); a repeated row: summed in another order.
        if (occurrences[Math.floor(i / s.dim)] === 1) {
          expect(Math.abs(a - b)).toBeLessThanOrEqual(3e-7 * Math.max(1e-3, Math.abs(b)));
        } else {
          expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b)));
        }
      }
      expect(nonZero).toBeGreaterThan(lab.sGrad.length / 4);
      tf.dispose([sBlock, vBlock, vHatBlock, local, weights]);
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
          // As a training step: the rows are gathered (and, lazy, caught up), then updated.
          for (const store of e.stores) {
            store.gatherRows(plan);
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
