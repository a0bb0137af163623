import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { trainCtr } from '../../../workers/engine/trainer';
import { RunControl } from '../../../workers/engine/runControl';
import { DEFAULT_TRAIN_CONFIG, type ModelKind } from '../../../workers/protocol';
import type { CtrDataset } from '../../../workers/data/dataset';
import { Rng } from '../../../workers/rng';

beforeAll(async () => {
  // wasm, the headless runner's backend: several times faster than cpu for these models.
  expect(await tf.setBackend('wasm')).toBe(true);
});

const base = {
  ...DEFAULT_TRAIN_CONFIG,
  epochs: 2,
  batchSize: 64,
  embeddingDim: 4,
  mlpLayers: [8],
  learningRate: 0.01,
};

describe('every model kind trains through the same loop', () => {
  const ds = generateSyntheticCtr({ seed: 5, numRows: 2000, numFields: 6, maxCardinality: 500 });
  for (const model of ['fm', 'deepfm', 'widedeep', 'autoint', 'dlrm'] as ModelKind[]) {
    it(`${model}: finite losses that fall, memory returns to where it started`, async () => {
      const before = tf.memory().numTensors;
      const losses: number[] = [];
      const result = await trainCtr(ds, { ...base, model }, new RunControl(), (e) => {
        if (e.type === 'progress') losses.push(...e.batch.losses);
      });
      expect(losses.every(Number.isFinite)).toBe(true);
      const k = 5;
      const head = losses.slice(0, k).reduce((a, b) => a + b) / k;
      const tail = losses.slice(-k).reduce((a, b) => a + b) / k;
      expect(tail).toBeLessThan(head);
      expect(result.test?.auc).toBeGreaterThan(0.5);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('dlrm reads dense features when the dataset has them', async () => {
    // A dense feature that carries the label's signal: DLRM must learn from it (AUC well above 0.5).
    const n = 2000;
    const rng = new Rng(3);
    const dense = new Float32Array(n * 2);
    const labels = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      labels[r] = rng.next() < 0.3 ? 1 : 0;
      dense[2 * r] = labels[r] + 0.5 * rng.normal();
      dense[2 * r + 1] = rng.normal();
    }
    const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
    const withDense: CtrDataset = {
      name: 'dense signal',
      numRows: n,
      numFields: 1,
      fieldNames: ['F1'],
      fieldDims: Int32Array.of(3),
      fieldOffsets: Int32Array.of(0),
      totalVocabulary: 3,
      ids: Int32Array.from({ length: n }, () => rng.int(3)),
      labels,
      numDense: 2,
      dense,
      split: {
        train: order.slice(0, 1600),
        validation: order.slice(1600, 1800),
        test: order.slice(1800),
      },
    };
    const result = await trainCtr(
      withDense,
      { ...base, model: 'dlrm', epochs: 3 },
      new RunControl(),
      () => {},
    );
    expect(result.test?.auc).toBeGreaterThan(0.75);
  });
});
