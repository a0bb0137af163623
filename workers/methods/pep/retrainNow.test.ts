/**
 * "Retrain now": while PEP's pruning phase is paused, a snapshot taken so far is retrained on a
 * model of its own. The pruning model, its optimizer state, host tables and the run's random
 * streams are left as they were: a run paused, with a snapshot retrained (and another retrain
 * stopped) in between, then resumed, steps through the same losses and non-zero counts as the
 * same run uninterrupted. The retrain's result is recorded for the snapshot as the end-of-run
 * retrain records it (figures, kept model, exported file, retrained chart), and the end-of-run
 * retrain skips that snapshot.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../data/synthetic';
import { RunControl } from '../../engine/runControl';
import { DEFAULT_TRAIN_OPTIONS, runExperiment, type ExperimentOutcome } from '../../engine/trainer';
import { exportRun } from '../../export/exportRun';
import { defaultsOf, type OptionValue } from '../../options';
import {
  DEFAULT_TRAIN_CONFIG,
  type AsideProgress,
  type EngineEvent,
  type PhaseResult,
  type SnapshotInfo,
  type TrainConfig,
} from '../../protocol';
import { PEP_SPEC } from './spec';

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

const D = 8;
const ds = generateSyntheticCtr({ seed: 3, numRows: 2000, numFields: 6, maxCardinality: 500 });
const TRAIN: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  model: 'deepfm',
  embeddingDim: D,
  mlpLayers: [8],
  batchSize: 64,
  epochs: 10,
  embeddingUpdate: 'exact',
  // Dropout draws from the step's seed: a retrain that moved the run's step would show.
  dropout: 0.2,
  seed: 5,
};
/** Fast thresholds: the table crosses 50% and then 80% sparsity within a few dozen steps. */
const PEP: Record<string, OptionValue> = {
  ...defaultsOf(PEP_SPEC.options),
  thresholdInit: -6,
  gk: 1,
  thresholdLearningRate: 0.05,
  targets: [50, 80],
  retrainEpochs: 1,
};

interface Recorded {
  /** Loss and non-zeros of every step of the run's own progress, in order. */
  steps: number[];
  losses: number[];
  nonZeros: number[];
  snapshots: SnapshotInfo[];
  asides: AsideProgress[];
  events: EngineEvent[];
}

/**
 * Runs PEP with `retrain`; when snapshot 1 is taken, pauses, and once paused runs `whilePaused`
 * (given the control), then resumes.
 */
async function pepRun(
  retrain: 'all' | 'none',
  whilePaused: ((control: RunControl, rec: Recorded) => Promise<void>) | null,
): Promise<{ outcome: ExperimentOutcome; rec: Recorded; pausedWork: Promise<void> | null }> {
  const control = new RunControl();
  const rec: Recorded = {
    steps: [],
    losses: [],
    nonZeros: [],
    snapshots: [],
    asides: [],
    events: [],
  };
  let pausedWork: Promise<void> | null = null;
  const emit = (e: EngineEvent) => {
    rec.events.push(e);
    if (e.type === 'progress') {
      rec.steps.push(...e.batch.steps);
      rec.losses.push(...e.batch.losses);
      rec.nonZeros.push(...(e.batch.series.nonzeros ?? []));
    } else if (e.type === 'snapshot') {
      rec.snapshots.push(e.snapshot);
      if (whilePaused && e.snapshot.number === 1 && !e.snapshot.retrained) control.pause();
    } else if (e.type === 'aside') {
      rec.asides.push(e.aside);
    } else if (e.type === 'state' && e.state === 'paused' && whilePaused && !pausedWork) {
      // From a task of its own, as the worker's API call would come.
      pausedWork = new Promise<void>((resolve) => setTimeout(resolve, 0))
        .then(() => whilePaused(control, rec))
        .finally(() => control.resume());
    }
  };
  const outcome = await runExperiment(
    ds,
    TRAIN,
    { id: 'pep', options: { ...PEP, retrain } },
    control,
    emit,
    // A progress batch every 5 steps: the stop above lands in the middle of the retrain.
    { ...DEFAULT_TRAIN_OPTIONS, progressEverySteps: 5 },
  );
  return { outcome, rec, pausedWork };
}

const nums = (outcome: ExperimentOutcome, key: string) =>
  outcome.result.methodResult[key] as number[];

describe('PEP: retrain a snapshot now, while pruning is paused', () => {
  it('the run resumes on the same trajectory; a stopped retrain records nothing, a finished one is recorded', async () => {
    const before = tf.memory().numTensors;
    const plain = await pepRun('none', null);
    let stopped: PhaseResult | null = null;
    let retrained: PhaseResult | null = null;
    let refusals: string[] = [];
    let pausedStep = -1;
    const paused = await pepRun('none', async (control, rec) => {
      const retrainNow = control.retrainSnapshotNow!;
      pausedStep = rec.steps.at(-1) ?? -1;
      const refusal = (n: number) =>
        retrainNow(n).then(
          () => 'accepted',
          (err: Error) => err.message,
        );
      refusals = [await refusal(2), await refusal(0)];
      // Stopped after a few steps: the run stays paused, the snapshot not retrained.
      const first = retrainNow(1);
      await until(() => (rec.asides.at(-1)?.stepsDone ?? 0) >= 3);
      expect(control.stopAside()).toBe(true);
      stopped = await first;
      // Then retrained to the end.
      retrained = await retrainNow(1);
      refusals.push(await refusal(1));
    });
    await paused.pausedWork;

    try {
      // The same trajectory: every step's loss and non-zero count, and the same snapshots.
      expect(paused.rec.steps).toEqual(plain.rec.steps);
      expect(paused.rec.losses).toEqual(plain.rec.losses);
      expect(paused.rec.nonZeros).toEqual(plain.rec.nonZeros);
      expect(paused.rec.nonZeros.length).toBe(plain.outcome.result.steps);
      for (const key of ['snapshotSteps', 'snapshotNonZeros', 'snapshotValidationAuc']) {
        expect(nums(paused.outcome, key), key).toEqual(nums(plain.outcome, key));
      }
      expect(paused.outcome.result.test).toEqual(plain.outcome.result.test);
      expect(paused.outcome.result.steps).toBe(plain.outcome.result.steps);

      // What was refused, and why.
      expect(refusals[0]).toMatch(/no snapshot 2: the run has taken 1/);
      expect(refusals[1]).toMatch(/no snapshot 0|numbered from 1/);
      expect(refusals[2]).toMatch(/Snapshot 1 \(50%\) is retrained already/);

      // The stopped retrain: reported, nothing recorded.
      const stop = stopped as PhaseResult | null;
      expect(stop?.endReason).toBe('stopped by the user');
      expect(stop?.test).toBeNull();
      const states = paused.rec.asides.map((a) => a.state);
      expect(states).toContain('stopped');
      expect(states.at(-1)).toBe('done');

      // The finished retrain: recorded for snapshot 1 as the end-of-run retrain records it.
      const done = retrained as PhaseResult | null;
      expect(done?.id).toBe('retrain-1');
      expect(done?.endReason).toBeNull();
      expect(done?.steps).toBe(Math.ceil(ds.split.train.length / TRAIN.batchSize));
      const best = done!.bestEvaluation!;
      expect(best.pausedAt).toBe(pausedStep);
      expect(best.step).toBeGreaterThan(pausedStep);
      const { result, kept } = paused.outcome;
      expect(nums(paused.outcome, 'snapshotRetrainedValidationAuc')[0]).toBe(best.validationAuc);
      expect(nums(paused.outcome, 'snapshotTestAuc')[0]).toBe(done!.test!.auc);
      expect(nums(paused.outcome, 'snapshotRetrainedValidationAuc')[1]).toBeNaN();
      expect(nums(paused.outcome, 'retrainedValidationAuc')).toEqual([best.validationAuc]);
      expect(result.methodResult.retrainedLabels).toBe('50%');
      expect(kept.snapshots.map((s) => s.retrained)).toEqual([true, false]);
      expect(kept.snapshots[0].plan.retrainPausedAt).toBe(pausedStep);
      // Its phase and evaluations are in the run's record, marked as run while paused; the
      // run's own phase (and its final figures) come from pruning.
      expect(result.phases.map((p) => p.id)).toEqual(['retrain-1', 'retrain-1', 'prune']);
      expect(result.evaluations.filter((e) => e.pausedAt !== undefined).length).toBeGreaterThan(0);
      expect(result.evaluations.filter((e) => e.pausedAt === undefined)).toEqual(
        plain.outcome.result.evaluations.map((e) => ({
          ...e,
          seconds: expect.any(Number) as number,
        })),
      );
      // Its point on the retrained chart, and the snapshot event with the retrained figures.
      const points = paused.rec.events.filter(
        (e) => e.type === 'method-points' && e.series === 'retrained-val',
      );
      expect(points.at(-1)).toMatchObject({ points: [{ y: best.validationAuc, label: '50%' }] });
      const info = paused.rec.snapshots.filter((s) => s.number === 1);
      expect(info.map((s) => s.retrained)).toEqual([false, true]);
      expect(info[1].validationAuc).toBe(best.validationAuc);
      expect(info[1].testAuc).toBe(done!.test!.auc);
      expect(info[1].fieldSizes).toEqual(info[0].fieldSizes);
      expect(info[0].fieldSizes).toHaveLength(ds.numFields);
      expect(info[0].fieldNames).toEqual(ds.fieldNames);
      // The mean sizes weigh each field's features: they add up to the snapshot's non-zeros.
      const sum = info[0].fieldSizes.reduce((a, s, f) => a + s * ds.fieldDims[f], 0);
      expect(sum).toBeCloseTo(info[0].nonZeros, 6);
      expect(result.methodResult.snapshotFieldSizes).toHaveLength(2 * ds.numFields);
      expect(result.methodResult.fieldNames).toBe(ds.fieldNames.join(','));
    } finally {
      plain.outcome.kept.dispose();
      paused.outcome.kept.dispose();
    }
    // The retrain's model, optimizers and checkpoints were freed.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('retrain "all" after a retrain while paused: that snapshot is skipped, its result kept and exported', async () => {
    const before = tf.memory().numTensors;
    let now: PhaseResult | null = null;
    const run = await pepRun('all', async (control) => {
      now = await control.retrainSnapshotNow!(1);
    });
    await run.pausedWork;
    const { result, kept } = run.outcome;
    try {
      const retrainedNow = now as PhaseResult | null;
      expect(retrainedNow?.bestEvaluation).not.toBeNull();
      expect(result.stopReason).toBeNull();
      const phases = result.phases.map((p) => [p.id, p.skipped !== null]);
      expect(phases).toEqual([
        ['retrain-1', false],
        ['prune', false],
        ['retrain-dense', false],
        ['retrain-1', true],
        ['retrain-2', false],
      ]);
      expect(result.phases[3].skipped).toMatch(/retrained while the run was paused at step \d+/);
      expect(nums(run.outcome, 'snapshotRetrainedValidationAuc')).toEqual([
        retrainedNow!.bestEvaluation!.validationAuc,
        result.phases[4].bestEvaluation!.validationAuc,
      ]);
      expect(result.methodResult.retrainedLabels).toBe('50%,dense,80%');
      // The snapshot's Export is the model retrained while paused.
      const file = await exportRun(kept, { snapshot: 1 });
      expect(file.compression.plan.retrained).toBe(1);
      expect(file.compression.plan.retrainPausedAt).toBe(retrainedNow!.bestEvaluation!.pausedAt);
      expect(file.metrics.testAuc).toBe(retrainedNow!.test!.auc);
      expect(file.metrics.validationAuc).toBe(retrainedNow!.bestEvaluation!.validationAuc);
      // The run's final model is the last retrain's (snapshot 2), as without the pause.
      expect(result.test!.auc).toBe(nums(run.outcome, 'snapshotTestAuc')[1]);
    } finally {
      kept.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is refused while the run trains, and after it', async () => {
    const control = new RunControl();
    let refused = '';
    const { kept } = await runExperiment(
      ds,
      { ...TRAIN, epochs: 1, maxSteps: 10 },
      { id: 'pep', options: { ...PEP, retrain: 'none' } },
      control,
      (e) => {
        if (e.type === 'progress' && !refused) {
          refused = 'pending';
          void control.retrainSnapshotNow!(1).then(
            () => (refused = 'accepted'),
            (err: Error) => (refused = err.message),
          );
        }
      },
    );
    kept.dispose();
    expect(refused).toMatch(/Pause the run first/);
    expect(control.retrainSnapshotNow).toBeNull();
  });
});

/** Resolves once `ready()` holds (checked between tasks). */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5));
}
