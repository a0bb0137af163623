/**
 * Train / validation / test split by ratio: a seeded random split (default 80/10/10, like the
 * reference's torch random_split lengths int(0.8n), int(0.1n), rest), or an ordered split where
 * the earliest rows train and the latest test (by a time column when the source has one, else
 * by position in the file, which is time order for Criteo and the MovieLens sequence logs).
 */
import { Rng } from '../../rng';
import type { CtrSplit } from '../dataset';

export interface SplitOptions {
  train: number;
  validation: number;
  test: number;
  mode: 'random' | 'ordered';
  seed: number;
}

export const DEFAULT_SPLIT: SplitOptions = {
  train: 0.8,
  validation: 0.1,
  test: 0.1,
  mode: 'random',
  seed: 42,
};

export function splitRows(
  numRows: number,
  options: SplitOptions,
  times: Float64Array | null = null,
): CtrSplit {
  const { train, validation, test } = options;
  const total = train + validation + test;
  if (!(train >= 0 && validation >= 0 && test >= 0 && total > 0)) {
    throw new Error(
      `split ratios must be non-negative with a positive sum, got ${train}/${validation}/${test}`,
    );
  }
  const nTrain = Math.floor((numRows * train) / total);
  const nValid = Math.floor((numRows * validation) / total);
  const order = new Int32Array(numRows);
  for (let i = 0; i < numRows; i++) order[i] = i;
  if (options.mode === 'random') {
    new Rng(options.seed).shuffle(order);
  } else if (times) {
    // Stable: equal times keep file order (Avazu has many rows per hour).
    order.sort((a, b) => times[a] - times[b] || a - b);
  }
  return {
    train: order.slice(0, nTrain),
    validation: order.slice(nTrain, nTrain + nValid),
    test: order.slice(nTrain + nValid),
  };
}
