import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { trainCtr, type TrainOptions } from '../../../workers/engine/trainer';
import { RunControl } from '../../../workers/engine/runControl';
import {
  DEFAULT_TRAIN_CONFIG,
  type EngineEvent,
  type ModelKind,
  type ProgressBatch,
  type RunState,
  type TrainConfig,
} from '../../../workers/protocol';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ds = generateSyntheticCtr({ seed: 3, numRows: 4000, numFields: 8, maxCardinality: 200 });

function config(model: ModelKind, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULT_TRAIN_CONFIG,
    model,
    embeddingDim: 4,
    mlpLayers: [16],
    batchSize: 64,
    learningRate: 0.01,
    epochs: 3,
    ...overrides,
  };
}

const STEPS_PER_EPOCH = Math.ceil(ds.split.train.length / 64);

interface Recorded {
  events: EngineEvent[];
  progress: ProgressBatch[];
  losses: number[];
  states: RunState[];
}

function recorder(onEvent?: (e: EngineEvent, rec: Recorded) => void): {
  rec: Recorded;
  emit: (e: EngineEvent) => void;
} {
  const rec: Recorded = { events: [], progress: [], losses: [], states: [] };
  const emit = (e: EngineEvent) => {
    rec.events.push(e);
    if (e.type === 'progress') {
      rec.progress.push(e.batch);
      rec.losses.push(...e.batch.losses);
    }
    if (e.type === 'state') rec.states.push(e.state);
    onEvent?.(e, rec);
  };
  return { rec, emit };
}

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

function lastStep(rec: Recorded): number {
  const b = rec.progress.at(-1);
  return b ? b.steps[b.steps.length - 1] : 0;
}

describe('trainCtr on a small synthetic slice (cpu)', () => {
  for (const model of ['fm', 'deepfm'] as const) {
    it(`${model}: the loss falls and validation AUC > 0.6`, async () => {
      const { rec, emit } = recorder();
      const result = await trainCtr(ds, config(model), new RunControl(), emit);
      expect(result.stoppedEarly).toBe(false);
      expect(result.steps).toBe(3 * STEPS_PER_EPOCH);
      expect(rec.losses.length).toBe(result.steps);
      expect(rec.losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
      const k = Math.floor(rec.losses.length / 5);
      expect(mean(rec.losses.slice(-k))).toBeLessThan(mean(rec.losses.slice(0, k)));
      expect(result.evaluations.length).toBe(3);
      expect(result.evaluations.at(-1)?.validationAuc).toBeGreaterThan(0.6);
      expect(result.test).not.toBeNull();
      expect(result.test?.auc).toBeGreaterThan(0.6);
      // No model beats the generator's truth by a wide margin.
      expect(result.test?.auc ?? 1).toBeLessThan(ds.bayesTestAuc + 0.03);
      expect(rec.states[0]).toBe('running');
      expect(rec.events.filter((e) => e.type === 'evaluation').length).toBe(3);
      expect(rec.events.filter((e) => e.type === 'test').length).toBe(1);
    });
  }

  it('same seed and config give bit-identical losses and metrics (DeepFM, dropout + BatchNorm)', async () => {
    const cfg = config('deepfm', { epochs: 1, dropout: 0.2, batchNorm: true });
    const a = recorder();
    const ra = await trainCtr(ds, cfg, new RunControl(), a.emit);
    const b = recorder();
    const rb = await trainCtr(ds, cfg, new RunControl(), b.emit);
    expect(Float32Array.from(b.rec.losses)).toEqual(Float32Array.from(a.rec.losses));
    expect(rb.evaluations[0].validationAuc).toBe(ra.evaluations[0].validationAuc);
    expect(rb.test).toEqual(ra.test);
    // A different seed gives a different run.
    const c = recorder();
    await trainCtr(ds, { ...cfg, seed: cfg.seed + 1 }, new RunControl(), c.emit);
    expect(Float32Array.from(c.rec.losses)).not.toEqual(Float32Array.from(a.rec.losses));
  });

  it('stops early when RunControl.stop() is called from an event callback after k steps', async () => {
    const control = new RunControl();
    const k = 10;
    const options: TrainOptions = {
      progressEverySteps: 5,
      progressEveryMs: 1e9,
      bayesTestAuc: null,
    };
    const { rec, emit } = recorder((e) => {
      if (e.type === 'progress' && e.batch.steps[e.batch.steps.length - 1] >= k) control.stop();
    });
    const result = await trainCtr(ds, config('fm'), control, emit, options);
    expect(result.stoppedEarly).toBe(true);
    expect(result.steps).toBe(k);
    expect(lastStep(rec)).toBe(k);
    expect(rec.losses.length).toBe(k);
    expect(result.steps).toBeLessThan(3 * STEPS_PER_EPOCH);
  });

  it('pause() then resume() from a timer: no steps while paused, then the run finishes', async () => {
    const control = new RunControl();
    const pauseAt = 7;
    let stepAtPause = -1;
    let stepAtResume = -1;
    let resumedAt = 0;
    let pausedAt = 0;
    const options: TrainOptions = {
      progressEverySteps: 1,
      progressEveryMs: 1e9,
      bayesTestAuc: null,
    };
    const { rec, emit } = recorder((e, r) => {
      if (e.type === 'progress' && e.batch.steps[0] === pauseAt) {
        control.pause();
        pausedAt = performance.now();
        stepAtPause = lastStep(r);
        setTimeout(() => {
          stepAtResume = lastStep(r);
          resumedAt = performance.now();
          control.resume();
        }, 80);
      }
    });
    const cfg = config('fm', { epochs: 1 });
    const result = await trainCtr(ds, cfg, control, emit, options);
    expect(result.stoppedEarly).toBe(false);
    expect(result.steps).toBe(STEPS_PER_EPOCH);
    expect(stepAtPause).toBe(pauseAt);
    expect(stepAtResume).toBe(pauseAt);
    expect(resumedAt - pausedAt).toBeGreaterThanOrEqual(70);
    expect(rec.states).toEqual(['running', 'paused', 'running']);
    expect(lastStep(rec)).toBe(STEPS_PER_EPOCH);
  });

  it('stop() while paused ends the run promptly with stoppedEarly', async () => {
    const control = new RunControl();
    const options: TrainOptions = {
      progressEverySteps: 1,
      progressEveryMs: 1e9,
      bayesTestAuc: null,
    };
    const { rec, emit } = recorder((e) => {
      if (e.type === 'progress' && e.batch.steps[0] === 3) {
        control.pause();
        setTimeout(() => control.stop(), 30);
      }
    });
    const result = await trainCtr(ds, config('fm'), control, emit, options);
    expect(result.stoppedEarly).toBe(true);
    expect(result.steps).toBe(3);
    expect(rec.states).toContain('paused');
  });

  it('batches progress events: fewer events than steps, typed arrays, consecutive steps', async () => {
    const { rec, emit } = recorder();
    const result = await trainCtr(ds, config('fm', { epochs: 2 }), new RunControl(), emit);
    expect(rec.progress.length).toBeGreaterThan(0);
    expect(rec.progress.length).toBeLessThan(result.steps);
    const allSteps: number[] = [];
    for (const b of rec.progress) {
      expect(b.steps).toBeInstanceOf(Int32Array);
      expect(b.losses).toBeInstanceOf(Float32Array);
      expect(b.stepMs).toBeInstanceOf(Float32Array);
      expect(b.steps.length).toBeGreaterThan(0);
      expect(b.steps.length).toBeLessThanOrEqual(25);
      expect(b.losses.length).toBe(b.steps.length);
      expect(b.stepMs.length).toBe(b.steps.length);
      expect(b.totalSteps).toBe(2 * STEPS_PER_EPOCH);
      expect(b.epoch === 1 || b.epoch === 2).toBe(true);
      expect(b.memory.numTensors).toBeGreaterThan(0);
      expect(b.memory.hostEmbeddingBytes).toBeGreaterThan(0);
      expect(b.stepMs.every((ms) => ms >= 0)).toBe(true);
      allSteps.push(...b.steps);
    }
    expect(allSteps).toEqual(Array.from({ length: result.steps }, (_, i) => i + 1));
  });

  it('DeepFM with BatchNorm survives a final batch of one row (skipped, no NaN)', async () => {
    // 3,200 training rows in batches of 3,199: each epoch ends with a batch of one row.
    const cfg = config('deepfm', {
      batchSize: ds.split.train.length - 1,
      epochs: 2,
      batchNorm: true,
    });
    const { rec, emit } = recorder();
    const result = await trainCtr(ds, cfg, new RunControl(), emit);
    expect(result.steps).toBe(2);
    expect(rec.losses.every(Number.isFinite)).toBe(true);
    expect(result.evaluations.every((e) => Number.isFinite(e.validationAuc))).toBe(true);
  });
});
