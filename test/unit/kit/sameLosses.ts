/**
 * "The new form trains exactly like the old one": the per-step losses of a short run with a switch
 * on and off, compared step by step. Shared by the tests of the faster kernels (fastMatMul,
 * fused BatchNorm / FM).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { CtrDataset } from '../../../workers/data/dataset';
import { trainCtr } from '../../../workers/engine/trainer';
import { RunControl } from '../../../workers/engine/runControl';
import type { TrainConfig } from '../../../workers/protocol';

/** Every step's training loss of `config` on `ds`. */
export async function stepLosses(ds: CtrDataset, config: TrainConfig): Promise<number[]> {
  const losses: number[] = [];
  await trainCtr(ds, config, new RunControl(), (e) => {
    if (e.type === 'progress') losses.push(...e.batch.losses);
  });
  return losses;
}

/**
 * Trains `config` with `setForm(true)` then `setForm(false)` and expects `steps` finite losses
 * that agree to `rel` relative, and no tensor left behind.
 */
export async function expectSameLosses(
  ds: CtrDataset,
  config: TrainConfig,
  setForm: (on: boolean) => void,
  steps: number,
  rel = 1e-5,
): Promise<void> {
  const before = tf.memory().numTensors;
  setForm(true);
  const on = await stepLosses(ds, config);
  setForm(false);
  const off = await stepLosses(ds, config);
  expect(on.length).toBe(steps);
  expect(off.length).toBe(steps);
  for (let i = 0; i < on.length; i++) {
    expect(Number.isFinite(on[i])).toBe(true);
    expect(Math.abs(on[i] - off[i]), `step ${i + 1}`).toBeLessThanOrEqual(rel * Math.abs(off[i]));
  }
  expect(tf.memory().numTensors).toBe(before);
}
