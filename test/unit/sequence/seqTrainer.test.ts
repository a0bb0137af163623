import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunControl } from '../../../workers/engine/runControl';
import { runSequenceExperiment } from '../../../workers/sequence/seqTrainer';
import { generateSyntheticSequences } from '../../../workers/sequence/syntheticSequences';
import {
  DEFAULT_CPREC,
  DEFAULT_SEQ_TRAIN,
  type SeqEngineEvent,
  type SeqRunConfig,
} from '../../../workers/sequence/seqProtocol';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = { seed: 3, numSequences: 1200, numItems: 120, length: 10 };

function config(method: 'none' | 'cprec'): SeqRunConfig {
  return {
    source: 'synthetic',
    data,
    train: {
      ...DEFAULT_SEQ_TRAIN,
      embeddingDim: 16,
      dilations: [1, 2, 1, 2],
      epochs: 4,
      batchSize: 64,
      learningRate: 0.005,
    },
    method,
    cprec: { ...DEFAULT_CPREC, cutPoints: [0.2, 0.5], sharing: 'cross-block' },
  };
}

describe('sequence trainer', () => {
  it('NextItNet and CpRec learn the synthetic sequences beyond the most-popular baseline', async () => {
    const ds = generateSyntheticSequences(data);
    expect(ds.split.validation.length).toBeGreaterThan(0);
    for (const method of ['none', 'cprec'] as const) {
      const events: SeqEngineEvent[] = [];
      const tensorsBefore = tf.memory().numTensors;
      const result = await runSequenceExperiment(config(method), ds, 'synthetic', {
        control: new RunControl(),
        backend: 'cpu',
        uncompressedTimingSteps: 1,
        onEvent: (e) => {
          events.push(e);
        },
      });
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(result.evaluations.length).toBe(4);
      expect(result.test).not.toBeNull();
      expect(result.test!.mrr5).toBeGreaterThan(result.popularityTest.mrr5 * 1.3);
      expect(events.filter((e) => e.type === 'evaluation')).toHaveLength(4);
      expect(events.at(-1)).toEqual({ type: 'state', state: 'done' });
      if (method === 'cprec') {
        expect(result.compressionRatio).toBeGreaterThan(1.5);
        expect(result.uncompressedTiming).not.toBeNull();
        expect(result.fastTopK).not.toBeNull();
      }
    }
  }, 180_000);

  it('refuses a cut point outside the vocabulary with a message', async () => {
    const ds = generateSyntheticSequences(data);
    const bad = config('cprec');
    bad.cprec = { ...bad.cprec, cutPoints: [50, 500] };
    await expect(
      runSequenceExperiment(bad, ds, 'synthetic', {
        control: new RunControl(),
        backend: 'cpu',
        onEvent: () => {},
      }),
    ).rejects.toThrow(/Cut point 500 is outside the vocabulary/);
  });
});
