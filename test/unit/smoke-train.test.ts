import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../workers/data/synthetic';
import { trainCtr } from '../../workers/engine/trainer';
import { RunControl } from '../../workers/engine/runControl';
import { DEFAULT_TRAIN_CONFIG } from '../../workers/protocol';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('training on the synthetic slice (cpu backend)', () => {
  it('DeepFM learns: validation AUC well above 0.5 and loss falls', async () => {
    const ds = generateSyntheticCtr({ seed: 3, numRows: 6000, numFields: 8, maxCardinality: 2000 });
    const losses: number[] = [];
    const result = await trainCtr(
      ds,
      { ...DEFAULT_TRAIN_CONFIG, epochs: 3, batchSize: 128, mlpLayers: [16], embeddingDim: 4 },
      new RunControl(),
      (e) => {
        if (e.type === 'progress') losses.push(...e.batch.losses);
      },
    );
    console.log(result.epochs, ds.bayesTestAuc, result.test, result.msPerStep);
    expect(result.epochs.at(-1)!.validationAuc).toBeGreaterThan(0.6);
  });
});
