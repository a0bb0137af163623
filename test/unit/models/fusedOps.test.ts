import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { BatchNorm1d } from '../../../workers/models/layers';
import {
  batchNormTraining,
  setFusedBatchNormEnabled,
} from '../../../workers/models/fusedBatchNorm';
import { fmInteraction, setFusedFmEnabled } from '../../../workers/models/fmInteraction';
import { DEFAULT_TRAIN_CONFIG, type ModelKind } from '../../../workers/protocol';
import { Rng } from '../../../workers/rng';
import { expectSameLosses } from '../kit/sameLosses';

afterEach(() => {
  setFusedBatchNormEnabled(true);
  setFusedFmEnabled(true);
});

function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => rng.uniform(lo, hi)),
    shape,
  );
}

/** max |got - want| relative to the largest |want|. */
async function maxRelDiff(got: tf.Tensor, want: tf.Tensor): Promise<number> {
  expect(got.shape).toEqual(want.shape);
  const [g, w] = await Promise.all([got.data(), want.data()]);
  let maxDiff = 0;
  let scale = 1e-12;
  for (let i = 0; i < w.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(g[i] - w[i]));
    scale = Math.max(scale, Math.abs(w[i]));
  }
  return maxDiff / scale;
}

/** The composed form the fused op replaces, differentiated by tfjs op by op. */
function composed(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, 0);
  return x.sub(mean).div(variance.add(eps).sqrt()).mul(g).add(b);
}

for (const backend of ['cpu', 'wasm']) {
  describe(`fused BatchNorm and FM on ${backend}`, () => {
    it('starts', async () => {
      expect(await tf.setBackend(backend)).toBe(true);
    });

    for (const [n, f] of [
      [3, 3],
      [64, 16],
      [257, 40],
    ]) {
      it(`[${n},${f}]: value and gradients of x, gamma and beta equal the composed form's`, async () => {
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const x = randomTensor([n, f], 1, -3, 5);
        const g = randomTensor([f], 2, 0.5, 1.5);
        const b = randomTensor([f], 3);
        const r = randomTensor([n, f], 4);
        const eps = 1e-5;
        const fusedFn = (xs: tf.Tensor, gs: tf.Tensor, bs: tf.Tensor) =>
          batchNormTraining(xs as tf.Tensor2D, gs as tf.Tensor1D, bs as tf.Tensor1D, eps, () => {});
        const stockFn = (xs: tf.Tensor, gs: tf.Tensor, bs: tf.Tensor) => composed(xs, gs, bs, eps);
        const weighted =
          (fn: typeof stockFn) =>
          (...a: tf.Tensor[]): tf.Tensor =>
            tf.sum(tf.mul(fn(a[0], a[1], a[2]), r));
        const fusedValue = tf.tidy(() => fusedFn(x, g, b));
        const stockValue = tf.tidy(() => stockFn(x, g, b));
        const fusedGrads = tf.grads(weighted(fusedFn))([x, g, b]);
        const stockGrads = tf.grads(weighted(stockFn))([x, g, b]);
        expect(await maxRelDiff(fusedValue, stockValue)).toBeLessThan(1e-5);
        for (let i = 0; i < 3; i++) {
          expect(await maxRelDiff(fusedGrads[i], stockGrads[i]), `gradient ${i}`).toBeLessThan(
            1e-5,
          );
        }
        tf.dispose([x, g, b, r, fusedValue, stockValue, ...fusedGrads, ...stockGrads]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('updates the running mean and variance as the composed form does', async () => {
      await tf.setBackend(backend);
      const x = randomTensor([32, 6], 7, -2, 3) as tf.Tensor2D;
      const stats = async (fused: boolean) => {
        setFusedBatchNormEnabled(fused);
        // Made in a scope, so that its initial values (copied into its variables) are freed.
        let bn!: BatchNorm1d;
        tf.tidy(() => {
          bn = new BatchNorm1d(6, `bn_${fused}`);
        });
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) tf.tidy(() => void bn.apply(x, true));
        expect(tf.memory().numTensors).toBe(before);
        const out = [await bn.runningMean.data(), await bn.runningVar.data()];
        for (const v of [...bn.variables, ...bn.stateVariables]) v.dispose();
        return out;
      };
      const before = tf.memory().numTensors;
      const [fm, fv] = await stats(true);
      const [sm, sv] = await stats(false);
      for (let i = 0; i < 6; i++) {
        expect(fm[i]).toBeCloseTo(sm[i], 6);
        expect(fv[i]).toBeCloseTo(sv[i], 6);
      }
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });

    for (const [b, f, d] of [
      [1, 2, 1],
      [16, 5, 4],
      [128, 39, 24],
    ]) {
      it(`FM interaction [${b},${f},${d}]: value and gradient equal the composed form's`, async () => {
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const v = randomTensor([b, f, d], 11) as tf.Tensor3D;
        const r = randomTensor([b], 12);
        const run = (fused: boolean) => {
          setFusedFmEnabled(fused);
          const value = tf.tidy(() => fmInteraction(v));
          const grad = tf.grad((x: tf.Tensor) =>
            tf.sum(tf.mul(fmInteraction(x as tf.Tensor3D), r)),
          )(v);
          return [value, grad];
        };
        const [fv, fg] = run(true);
        const [sv, sg] = run(false);
        expect(fv.shape).toEqual([b]);
        expect(await maxRelDiff(fv, sv)).toBeLessThan(1e-5);
        expect(await maxRelDiff(fg, sg)).toBeLessThan(1e-5);
        tf.dispose([v, r, fv, fg, sv, sg]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    describe('whole models train the same with the fused and the composed ops', () => {
      const ds = generateSyntheticCtr({
        seed: 5,
        numRows: 1200,
        numFields: 5,
        maxCardinality: 200,
      });
      const cfg = {
        ...DEFAULT_TRAIN_CONFIG,
        epochs: 1,
        maxSteps: 20,
        batchSize: 32,
        embeddingDim: 4,
        mlpLayers: [8, 4],
        batchNorm: true,
        dropout: 0.2,
        learningRate: 0.01,
      };
      const setFused = (on: boolean) => {
        setFusedBatchNormEnabled(on);
        setFusedFmEnabled(on);
      };
      for (const model of ['fm', 'deepfm', 'widedeep'] as ModelKind[]) {
        it(`${model}: 20 losses agree to 1e-5 relative`, async () => {
          await tf.setBackend(backend);
          await expectSameLosses(ds, { ...cfg, model }, setFused, 20);
        });
      }
    });
  });
}
