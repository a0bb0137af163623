// A run scores its splits in passes of its training batch where it gives way to the page's
// charts, so that the page waits for one short pass at most; the scores stay the same.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PageDrawingFlag } from '../../../src/bridge/pageDrawing';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import { watchPageDrawing } from '../../../workers/engine/pageDrawing';
import {
  evaluateSplit,
  SCORING_BATCH_ROWS,
  scoringBatchRows,
} from '../../../workers/engine/trainer';
import { buildModel } from '../../../workers/models/buildModel';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../../workers/protocol';
import { Rng } from '../../../workers/rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('rows per forward pass when a run scores a split', () => {
  afterEach(() => watchPageDrawing(null));

  it('is 4096 where nothing gives way, and the training batch where the loop gives way', () => {
    // No page (the command line, a test): one pass per 4096 rows.
    expect(scoringBatchRows(256)).toBe(SCORING_BATCH_ROWS);
    const page = new PageDrawingFlag(true);
    let onCpu = false;
    watchPageDrawing(page.buffer, () => onCpu);
    // A real GPU: the loop does not wait for the page, the passes stay large.
    expect(scoringBatchRows(256)).toBe(SCORING_BATCH_ROWS);
    onCpu = true;
    expect(scoringBatchRows(256)).toBe(256);
    expect(scoringBatchRows(20_000)).toBe(SCORING_BATCH_ROWS);
  });

  it('gives the same metrics whatever the passes', async () => {
    const ds = generateSyntheticCtr({ seed: 7, numRows: 900, numFields: 5, maxCardinality: 40 });
    const train: TrainConfig = {
      ...DEFAULT_TRAIN_CONFIG,
      model: 'deepfm',
      embeddingDim: 4,
      mlpLayers: [8],
      batchNorm: true,
      dropout: 0.3,
    };
    const model = buildModel(ds, train, new Rng(3));
    const rows = Int32Array.from({ length: 700 }, (_, i) => i);
    const planner = new BatchPlanner(ds.totalVocabulary);
    const whole = await evaluateSplit(model, planner, ds, rows);
    const small = await evaluateSplit(model, planner, ds, rows, 64);
    const odd = await evaluateSplit(model, planner, ds, rows, 333);
    expect(small).toEqual(whole);
    expect(odd).toEqual(whole);
    model.dispose();
  });
});
