/**
 * "auto" backend choice by measurement: the run's own model step is timed on every backend that
 * starts, and the fastest one trains the run.
 *
 * Each candidate gets one warm-up step (shader compilation, wasm set-up) and then timed steps
 * until about `budgetMs` has passed (at least `minTimedSteps`, at most `maxTimedSteps`). A
 * candidate measured after a faster one is first probed at an eighth of the batch: a step can only
 * get slower with more rows, so when the small step is already slower than the best full step the
 * candidate cannot win and is not timed at full size. That keeps an emulated GPU (SwiftShader:
 * seconds per DeepFM step) from costing the user half a minute per model shape.
 *
 * A software adapter (an emulated GPU) found after a backend that runs on the CPU directly was
 * measured is not even probed: it runs its kernels on that same CPU through an emulation layer,
 * and its probe costs seconds of shader compilation before the user's first chart point (on a
 * 2-core machine: SwiftShader's WebGPU and WebGL, 10-30x slower than wasm for every model of the
 * lab, took most of an 8-second first calibration). Its row says so; the user can still choose it.
 *
 * The choice itself (`chooseBackend`) is a pure function of the measurements, tested with faked
 * ones for a software and a hardware adapter.
 */
import type { BackendCalibration, BackendMeasurement, BackendName, TrainConfig } from '../protocol';
import { NO_METHOD } from '../protocol';
import type { CtrDataset } from '../data/dataset';
import { RunControl } from './runControl';
import { runExperiment } from './trainer';

/** Order of measurement: the CPU backends first (quick to time, and a bound for the rest). */
export const CALIBRATION_ORDER: readonly BackendName[] = ['wasm', 'webgpu', 'webgl', 'cpu'];

export interface CalibrationBudget {
  /** Wall-clock time of timed steps per candidate, after its warm-up step. */
  budgetMs: number;
  minTimedSteps: number;
  maxTimedSteps: number;
  /** Divisor of the batch for the probe of a candidate measured after a faster one. */
  probeDivisor: number;
  /** Also time software adapters after a measured CPU backend (see the file's comment). */
  timeSoftwareAdapters: boolean;
}

export const DEFAULT_CALIBRATION_BUDGET: CalibrationBudget = {
  budgetMs: 1000,
  minTimedSteps: 2,
  maxTimedSteps: 8,
  probeDivisor: 8,
  timeSoftwareAdapters: false,
};

/** What starting a backend reports (see backend.ts). */
export interface StartedBackend {
  adapterDescription: string;
  softwareAdapter: boolean;
}

/** The measuring hooks: real ones in the worker, fakes in tests. */
export interface CalibrationHooks {
  /** Makes `name` the active backend; throws (with the reason) when it cannot start. */
  start(name: BackendName): Promise<StartedBackend>;
  /** Times the model step at `batchSize`: median ms of the timed steps, and how many. */
  timeSteps(
    batchSize: number,
    budget: CalibrationBudget,
  ): Promise<{ medianMs: number; timedSteps: number }>;
  /** Told before each candidate, for a progress line. */
  onProgress?(message: string): void;
}

/** The fastest measured backend (ties: the earlier in `CALIBRATION_ORDER`). */
export function chooseBackend(rows: readonly BackendMeasurement[]): BackendName | null {
  let best: BackendMeasurement | null = null;
  for (const row of rows) {
    if (row.status !== 'measured' || row.msPerStep === null) continue;
    if (!best || row.msPerStep < (best.msPerStep ?? Infinity)) best = row;
  }
  return best?.backend ?? null;
}

/**
 * Measures every candidate and returns the table with the choice. The caller switches to the
 * chosen backend afterwards (the last candidate tried is active when this returns).
 */
export async function calibrateBackends(
  candidates: readonly BackendName[],
  batchSize: number,
  hooks: CalibrationHooks,
  budget: CalibrationBudget = DEFAULT_CALIBRATION_BUDGET,
): Promise<Omit<BackendCalibration, 'shapeKey' | 'measuredAt'>> {
  const started = performance.now();
  const rows: BackendMeasurement[] = [];
  let bestMs = Infinity;
  /** The fastest backend measured that is not an emulated GPU. */
  let direct: { backend: BackendName; ms: number } | null = null;
  for (const [i, backend] of candidates.entries()) {
    hooks.onProgress?.(`measuring ${backend} (${i + 1} of ${candidates.length})`);
    let info: StartedBackend;
    try {
      info = await hooks.start(backend);
    } catch (err) {
      rows.push(failedRow(backend, `did not start: ${messageOf(err)}`));
      continue;
    }
    const base = {
      backend,
      adapterDescription: info.adapterDescription,
      softwareAdapter: info.softwareAdapter,
    };
    if (info.softwareAdapter && direct !== null && !budget.timeSoftwareAdapters) {
      rows.push({
        ...base,
        status: 'slower',
        msPerStep: null,
        samplesPerSecond: null,
        timedSteps: 0,
        note: `software adapter: it emulates the GPU on the CPU that ${direct.backend} runs on directly (${formatMs(direct.ms)} per step), so it is not timed; choose it to train on it anyway`,
      });
      continue;
    }
    try {
      const probeBatch = Math.max(1, Math.floor(batchSize / budget.probeDivisor));
      if (Number.isFinite(bestMs) && probeBatch < batchSize) {
        const probe = await hooks.timeSteps(probeBatch, {
          ...budget,
          minTimedSteps: 1,
          maxTimedSteps: 2,
        });
        if (probe.medianMs >= bestMs) {
          rows.push({
            ...base,
            status: 'slower',
            msPerStep: null,
            samplesPerSecond: null,
            timedSteps: probe.timedSteps,
            note: `${formatMs(probe.medianMs)} per step already at batch ${probeBatch} (the best full batch: ${formatMs(bestMs)}), so not timed at full size`,
          });
          continue;
        }
      }
      const timed = await hooks.timeSteps(batchSize, budget);
      if (!info.softwareAdapter && (!direct || timed.medianMs < direct.ms)) {
        direct = { backend, ms: timed.medianMs };
      }
      bestMs = Math.min(bestMs, timed.medianMs);
      rows.push({
        ...base,
        status: 'measured',
        msPerStep: timed.medianMs,
        samplesPerSecond: (batchSize * 1000) / timed.medianMs,
        timedSteps: timed.timedSteps,
        note: '',
      });
    } catch (err) {
      rows.push({ ...failedRow(backend, `the model step failed: ${messageOf(err)}`), ...base });
    }
  }
  const chosen = chooseBackend(rows);
  if (!chosen) {
    const why = rows.map((r) => `${r.backend}: ${r.note}`).join('; ');
    throw new Error(`No backend could run this model (${why})`);
  }
  return { chosen, rows, batchSize, totalMs: performance.now() - started };
}

function failedRow(backend: BackendName, note: string): BackendMeasurement {
  return {
    backend,
    status: 'failed',
    msPerStep: null,
    samplesPerSecond: null,
    timedSteps: 0,
    adapterDescription: '',
    softwareAdapter: false,
    note,
  };
}

function formatMs(ms: number): string {
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * What makes two runs' steps cost the same: the model and its sizes, the batch, the optimizers
 * and the update mode (not the method, the seed or the number of epochs: the calibration times
 * the model's own step). The lab remembers the choice per key.
 */
export function modelShapeKey(train: TrainConfig, numFields: number): string {
  return [
    train.model,
    `fields${numFields}`,
    `d${train.embeddingDim}`,
    `mlp${train.mlpLayers.join('-')}`,
    `b${train.batchSize}`,
    train.batchNorm ? 'bn' : 'nobn',
    train.denseOptimizer,
    train.embeddingOptimizer,
    train.embeddingUpdate,
  ].join('/');
}

/**
 * Times the model step of `config` on the active backend through the real training loop, on
 * training rows of `dataset` (no validation or test rows, so nothing but steps runs).
 */
export async function timeModelSteps(
  dataset: CtrDataset,
  train: TrainConfig,
  batchSize: number,
  budget: CalibrationBudget,
): Promise<{ medianMs: number; timedSteps: number }> {
  const trainRows = dataset.split.train;
  const rowsNeeded = batchSize * (1 + budget.maxTimedSteps);
  const rows = new Int32Array(rowsNeeded);
  for (let i = 0; i < rowsNeeded; i++) rows[i] = trainRows[i % trainRows.length];
  const slice: CtrDataset = {
    ...dataset,
    split: { train: rows, validation: new Int32Array(0), test: new Int32Array(0) },
  };
  const control = new RunControl();
  const times: number[] = [];
  let timedSince = 0;
  const { kept } = await runExperiment(
    slice,
    { ...train, batchSize, epochs: 1, maxSteps: 1 + budget.maxTimedSteps },
    NO_METHOD,
    control,
    (e) => {
      if (e.type !== 'progress') return;
      for (const ms of e.batch.stepMs) {
        times.push(ms);
        if (times.length === 2) timedSince = performance.now() - ms;
      }
      const timed = times.length - 1;
      if (
        timed >= budget.minTimedSteps &&
        timedSince > 0 &&
        performance.now() - timedSince >= budget.budgetMs
      ) {
        control.stop();
      }
    },
    { progressEverySteps: 1, progressEveryMs: 0, bayesTestAuc: null },
  );
  kept.dispose();
  const timed = times.slice(1).sort((a, b) => a - b);
  if (timed.length === 0) throw new Error('no step was timed');
  return { medianMs: timed[Math.floor(timed.length / 2)], timedSteps: timed.length };
}
