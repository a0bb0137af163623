/**
 * The host-side pieces of a step on wasm and cpu: the embedding row gather (rowLookup.ts) and the
 * dropout mask (dropout.ts). Each must equal what it replaces.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  gatherRowsOnHost,
  lookupRows,
  setHostGather,
  withHostCopy,
} from '../../../workers/embedding/rowLookup';
import { dropout } from '../../../workers/models/dropout';
import { Rng } from '../../../workers/rng';

afterEach(() => setHostGather(true));

function valueAndGrad(
  block: tf.Tensor2D,
  index: tf.Tensor1D,
  weights: tf.Tensor2D,
): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const value = lookupRows(block, index);
    const grad = tf.grad((b: tf.Tensor) =>
      tf.sum(tf.mul(lookupRows(b as tf.Tensor2D, index), weights)),
    )(block);
    return [value.dataSync() as Float32Array, grad.dataSync() as Float32Array];
  });
}

for (const backend of ['cpu', 'wasm']) {
  describe(`on ${backend}`, () => {
    for (const dim of [1, 3, 24]) {
      it(`row gather, dim ${dim}: the host copy equals tf.gather, value and gradient`, async () => {
        expect(await tf.setBackend(backend)).toBe(true);
        const rng = new Rng(dim);
        const rows = 50;
        const n = 300; // more lookups than rows: duplicates, whose gradients add up
        const blockValues = Float32Array.from({ length: rows * dim }, () => rng.uniform(-1, 1));
        // Uploaded as the training step does: the tensors remember their host arrays.
        const block = withHostCopy(tf.tensor2d(blockValues, [rows, dim]), blockValues);
        const idx = Int32Array.from({ length: n }, () => rng.int(rows));
        const index = withHostCopy(tf.tensor1d(idx, 'int32'), idx);
        const weights = tf.tensor2d(
          Float32Array.from({ length: n * dim }, () => rng.uniform(-1, 1)),
          [n, dim],
        );
        const before = tf.memory().numTensors;
        setHostGather(true);
        const [hostValue, hostGrad] = valueAndGrad(block, index, weights);
        setHostGather(false);
        const [stockValue, stockGrad] = valueAndGrad(block, index, weights);
        expect(tf.memory().numTensors).toBe(before);
        expect(Array.from(hostValue)).toEqual(Array.from(stockValue));
        expect(Array.from(hostGrad)).toEqual(Array.from(stockGrad));
        // And the plain function: row idx[i] of the block at position i.
        const raw = block.dataSync() as Float32Array;
        const out = gatherRowsOnHost(raw, idx, dim);
        for (const i of [0, 17, n - 1]) {
          expect(Array.from(out.subarray(i * dim, (i + 1) * dim))).toEqual(
            Array.from(raw.subarray(idx[i] * dim, (idx[i] + 1) * dim)),
          );
        }
        tf.dispose([block, index, weights]);
      });
    }

    it('the host gather reads the recorded arrays, never the tensors; without them it uses tf.gather', async () => {
      expect(await tf.setBackend(backend)).toBe(true);
      const tensorValues = Float32Array.from([1, 2, 3, 4]);
      const hostValues = Float32Array.from([10, 20, 30, 40]);
      const idx = Int32Array.from([1, 0, 1]);
      const index = withHostCopy(tf.tensor1d(idx, 'int32'), idx);
      // A recorded array that differs from the tensor shows which one the gather read.
      const recorded = withHostCopy(tf.tensor2d(tensorValues, [2, 2]), hostValues);
      const plain = tf.tensor2d(tensorValues, [2, 2]);
      const [fromHost, fromDevice] = tf.tidy(() => [
        lookupRows(recorded, index),
        lookupRows(plain, index),
      ]);
      expect(Array.from(await fromHost.data())).toEqual([30, 40, 10, 20, 30, 40]);
      expect(Array.from(await fromDevice.data())).toEqual([3, 4, 1, 2, 3, 4]);
      tf.dispose([index, recorded, plain, fromHost, fromDevice]);
    });

    it('dropout: about `rate` zeroed, the rest scaled by 1/(1-rate); the gradient is the same mask; the seed fixes it', async () => {
      expect(await tf.setBackend(backend)).toBe(true);
      const x = tf.ones([200, 100]);
      const rate = 0.2;
      const before = tf.memory().numTensors;
      const [y, g, again, other] = tf.tidy(() => [
        dropout(x, rate, 7),
        tf.grad((a: tf.Tensor) => tf.sum(dropout(a, rate, 7)))(x),
        dropout(x, rate, 7),
        dropout(x, rate, 8),
      ]);
      const yv = (await y.data()) as Float32Array;
      const zeros = yv.filter((v) => v === 0).length;
      // 20,000 draws: the share dropped is within 4 standard deviations of 0.2.
      expect(Math.abs(zeros / yv.length - rate)).toBeLessThan(
        4 * Math.sqrt((rate * (1 - rate)) / yv.length),
      );
      for (const v of yv) expect(v === 0 || Math.abs(v - 1 / (1 - rate)) < 1e-6).toBe(true);
      expect(Array.from(await g.data())).toEqual(Array.from(yv));
      expect(Array.from(await again.data())).toEqual(Array.from(yv));
      expect(Array.from(await other.data())).not.toEqual(Array.from(yv));
      tf.dispose([y, g, again, other]);
      expect(tf.memory().numTensors).toBe(before);
      expect(dropout(x, 0, 1)).toBe(x);
      expect(() => dropout(x, 1, 1)).toThrow(/below 1/);
      x.dispose();
    });
  });
}
