/**
 * The "auto" backend's calibration: the measuring loop with faked hooks (a software and a
 * hardware adapter, failures), the choice, the shape key, and one real timing on tfjs' cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CALIBRATION_ORDER,
  DEFAULT_CALIBRATION_BUDGET,
  calibrateBackends,
  chooseBackend,
  modelShapeKey,
  timeModelSteps,
  type CalibrationBudget,
  type CalibrationHooks,
  type StartedBackend,
} from '../../../workers/engine/backendCalibration';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import {
  DEFAULT_TRAIN_CONFIG,
  type BackendMeasurement,
  type BackendName,
  type TrainConfig,
} from '../../../workers/protocol';

// The probe logic is tested with software adapters timed as well (the default skips them).
const BUDGET: CalibrationBudget = {
  budgetMs: 1000,
  minTimedSteps: 2,
  maxTimedSteps: 8,
  probeDivisor: 8,
  timeSoftwareAdapters: true,
};
const BATCH = 1024;
const PROBE = BATCH / 8;

interface Call {
  backend: BackendName;
  batchSize: number;
  budget: CalibrationBudget;
}

interface FakeMachine {
  /** What start() reports per backend, or the error it throws. */
  adapters: Partial<Record<BackendName, StartedBackend | Error>>;
  /** ms per step by backend and batch size; a missing entry (or an Error) makes timeSteps throw. */
  ms: Partial<Record<BackendName, Record<number, number | Error>>>;
}

function fakeHooks(machine: FakeMachine): {
  hooks: CalibrationHooks;
  calls: Call[];
  started: BackendName[];
  progress: string[];
} {
  const calls: Call[] = [];
  const started: BackendName[] = [];
  const progress: string[] = [];
  let active: BackendName | null = null;
  const hooks: CalibrationHooks = {
    start(name) {
      started.push(name);
      const info = machine.adapters[name];
      if (info === undefined) return Promise.reject(new Error(`${name} is not on this machine`));
      if (info instanceof Error) return Promise.reject(info);
      active = name;
      return Promise.resolve(info);
    },
    timeSteps(batchSize, budget) {
      if (active === null) throw new Error('timeSteps before any backend started');
      calls.push({ backend: active, batchSize, budget });
      const ms = machine.ms[active]?.[batchSize];
      if (ms === undefined) {
        return Promise.reject(new Error(`no figure for ${active} at batch ${batchSize}`));
      }
      if (ms instanceof Error) return Promise.reject(ms);
      return Promise.resolve({ medianMs: ms, timedSteps: Math.min(budget.maxTimedSteps, 3) });
    },
    onProgress(message) {
      progress.push(message);
    },
  };
  return { hooks, calls, started, progress };
}

const CPU_ADAPTER: StartedBackend = { adapterDescription: '', softwareAdapter: false };
const SWIFTSHADER: StartedBackend = {
  adapterDescription: 'Google SwiftShader',
  softwareAdapter: true,
};
const HARDWARE_GPU: StartedBackend = {
  adapterDescription: 'NVIDIA GeForce RTX 3080',
  softwareAdapter: false,
};

function row(rows: readonly BackendMeasurement[], backend: BackendName): BackendMeasurement {
  const r = rows.find((x) => x.backend === backend);
  if (!r) throw new Error(`no row for ${backend}`);
  return r;
}

function callsOf(calls: readonly Call[], backend: BackendName): number[] {
  return calls.filter((c) => c.backend === backend).map((c) => c.batchSize);
}

/** This machine: wasm on the CPU, webgpu and webgl on SwiftShader. */
const NO_GPU_MACHINE: FakeMachine = {
  adapters: { wasm: CPU_ADAPTER, webgpu: SWIFTSHADER, webgl: SWIFTSHADER, cpu: CPU_ADAPTER },
  ms: {
    wasm: { [BATCH]: 40 },
    // The emulated GPU: already slower at an eighth of the batch than wasm's full step.
    webgpu: { [PROBE]: 300, [BATCH]: 2400 },
    webgl: { [PROBE]: 200, [BATCH]: 1600 },
    cpu: { [PROBE]: 90, [BATCH]: 700 },
  },
};

describe('calibrateBackends with faked hooks', () => {
  it('a software adapter (SwiftShader): wasm wins, webgpu is only probed', async () => {
    const { hooks, calls } = fakeHooks(NO_GPU_MACHINE);
    const result = await calibrateBackends(CALIBRATION_ORDER, BATCH, hooks, BUDGET);
    expect(result.chosen).toBe('wasm');
    expect(result.batchSize).toBe(BATCH);
    expect(result.totalMs).toBeGreaterThanOrEqual(0);
    expect(result.rows.map((r) => r.backend)).toEqual(['wasm', 'webgpu', 'webgl', 'cpu']);

    const wasm = row(result.rows, 'wasm');
    expect(wasm.status).toBe('measured');
    expect(wasm.msPerStep).toBe(40);
    expect(wasm.samplesPerSecond).toBeCloseTo((BATCH * 1000) / 40, 9);

    const webgpu = row(result.rows, 'webgpu');
    expect(webgpu.status).toBe('slower');
    expect(webgpu.msPerStep).toBeNull();
    expect(webgpu.samplesPerSecond).toBeNull();
    expect(webgpu.softwareAdapter).toBe(true);
    expect(webgpu.adapterDescription).toBe('Google SwiftShader');
    expect(webgpu.note).toContain(`batch ${PROBE}`);
    expect(webgpu.note).toContain('300 ms');
    expect(webgpu.note).toContain('40.0 ms');
    // Never timed at the full batch: only the probe ran, at batch / probeDivisor.
    expect(callsOf(calls, 'webgpu')).toEqual([PROBE]);
    expect(callsOf(calls, 'webgl')).toEqual([PROBE]);
    expect(callsOf(calls, 'cpu')).toEqual([PROBE]);
    expect(calls.some((c) => c.backend !== 'wasm' && c.batchSize === BATCH)).toBe(false);
    // The probe is short: one or two steps, same time budget.
    const probe = calls.find((c) => c.backend === 'webgpu');
    expect(probe?.budget).toEqual({ ...BUDGET, minTimedSteps: 1, maxTimedSteps: 2 });
    expect(row(result.rows, 'webgl').status).toBe('slower');
    expect(row(result.rows, 'cpu').status).toBe('slower');
  });

  it('by default a software adapter after a measured CPU backend is not timed: its row says why', async () => {
    const { hooks, calls, started } = fakeHooks(NO_GPU_MACHINE);
    const result = await calibrateBackends(CALIBRATION_ORDER, BATCH, hooks, {
      ...DEFAULT_CALIBRATION_BUDGET,
    });
    expect(DEFAULT_CALIBRATION_BUDGET.timeSoftwareAdapters).toBe(false);
    expect(result.chosen).toBe('wasm');
    // Started (its adapter is described in the table), never stepped.
    expect(started).toEqual(['wasm', 'webgpu', 'webgl', 'cpu']);
    expect(callsOf(calls, 'webgpu')).toEqual([]);
    expect(callsOf(calls, 'webgl')).toEqual([]);
    expect(callsOf(calls, 'cpu')).toEqual([PROBE]);
    for (const name of ['webgpu', 'webgl'] as const) {
      const r = row(result.rows, name);
      expect(r.status).toBe('slower');
      expect(r.timedSteps).toBe(0);
      expect(r.softwareAdapter).toBe(true);
      expect(r.adapterDescription).toBe('Google SwiftShader');
      expect(r.note).toBe(
        'software adapter: it emulates the GPU on the CPU that wasm runs on directly (40.0 ms per step), so it is not timed; choose it to train on it anyway',
      );
    }
  });

  it('by default a software adapter is still timed when no CPU backend was measured before it', async () => {
    const { hooks, calls } = fakeHooks({
      adapters: { wasm: new Error('no WebAssembly'), webgpu: SWIFTSHADER, cpu: CPU_ADAPTER },
      ms: { webgpu: { [BATCH]: 2400 }, cpu: { [PROBE]: 90, [BATCH]: 700 } },
    });
    const result = await calibrateBackends(
      ['wasm', 'webgpu', 'cpu'],
      BATCH,
      hooks,
      DEFAULT_CALIBRATION_BUDGET,
    );
    expect(row(result.rows, 'webgpu').status).toBe('measured');
    expect(callsOf(calls, 'webgpu')).toEqual([BATCH]);
    // cpu passes its probe (90 < 2400) and is timed: it wins.
    expect(result.chosen).toBe('cpu');
  });

  it('a hardware adapter: webgpu passes its probe, is timed at full batch and wins', async () => {
    const { hooks, calls } = fakeHooks({
      adapters: { wasm: CPU_ADAPTER, webgpu: HARDWARE_GPU, webgl: HARDWARE_GPU, cpu: CPU_ADAPTER },
      ms: {
        wasm: { [BATCH]: 40 },
        webgpu: { [PROBE]: 5, [BATCH]: 10 },
        // Probed against webgpu's 10 ms (the best so far): 8 < 10, so timed in full.
        webgl: { [PROBE]: 8, [BATCH]: 20 },
        cpu: { [PROBE]: 500, [BATCH]: 4000 },
      },
    });
    const result = await calibrateBackends(CALIBRATION_ORDER, BATCH, hooks, BUDGET);
    expect(result.chosen).toBe('webgpu');

    const webgpu = row(result.rows, 'webgpu');
    expect(webgpu.status).toBe('measured');
    expect(webgpu.msPerStep).toBe(10);
    expect(webgpu.samplesPerSecond).toBeCloseTo((BATCH * 1000) / 10, 9);
    expect(webgpu.softwareAdapter).toBe(false);
    expect(webgpu.adapterDescription).toBe('NVIDIA GeForce RTX 3080');
    expect(webgpu.timedSteps).toBe(3);
    expect(webgpu.note).toBe('');
    expect(callsOf(calls, 'webgpu')).toEqual([PROBE, BATCH]);
    // The full timing gets the full budget, not the probe's.
    expect(calls.filter((c) => c.batchSize === BATCH).every((c) => c.budget === BUDGET)).toBe(true);

    const webgl = row(result.rows, 'webgl');
    expect(webgl.status).toBe('measured');
    expect(webgl.msPerStep).toBe(20);
    expect(callsOf(calls, 'webgl')).toEqual([PROBE, BATCH]);

    // cpu is bounded by the best so far (webgpu's 10 ms), not by wasm's 40 ms.
    expect(row(result.rows, 'cpu').status).toBe('slower');
    expect(row(result.rows, 'cpu').note).toContain('10.0 ms');
    expect(callsOf(calls, 'cpu')).toEqual([PROBE]);
  });

  it('a probe exactly as slow as the best full step counts as slower', async () => {
    const { hooks, calls } = fakeHooks({
      adapters: { wasm: CPU_ADAPTER, webgpu: HARDWARE_GPU },
      ms: { wasm: { [BATCH]: 40 }, webgpu: { [PROBE]: 40, [BATCH]: 39 } },
    });
    const result = await calibrateBackends(['wasm', 'webgpu'], BATCH, hooks, BUDGET);
    expect(row(result.rows, 'webgpu').status).toBe('slower');
    expect(callsOf(calls, 'webgpu')).toEqual([PROBE]);
    expect(result.chosen).toBe('wasm');
  });

  it('a backend that does not start is a failed row; the others are still measured', async () => {
    const { hooks, calls, started } = fakeHooks({
      adapters: {
        wasm: CPU_ADAPTER,
        webgpu: new Error('navigator.gpu is undefined'),
        webgl: HARDWARE_GPU,
      },
      ms: { wasm: { [BATCH]: 40 }, webgl: { [PROBE]: 4, [BATCH]: 25 } },
    });
    const result = await calibrateBackends(['wasm', 'webgpu', 'webgl'], BATCH, hooks, BUDGET);
    expect(started).toEqual(['wasm', 'webgpu', 'webgl']);
    const webgpu = row(result.rows, 'webgpu');
    expect(webgpu.status).toBe('failed');
    expect(webgpu.note).toContain('did not start');
    expect(webgpu.note).toContain('navigator.gpu is undefined');
    expect(webgpu.msPerStep).toBeNull();
    expect(webgpu.samplesPerSecond).toBeNull();
    expect(webgpu.timedSteps).toBe(0);
    expect(callsOf(calls, 'webgpu')).toEqual([]);
    expect(row(result.rows, 'wasm').status).toBe('measured');
    expect(row(result.rows, 'webgl').status).toBe('measured');
    expect(result.chosen).toBe('webgl');
  });

  it('a start that rejects with a non-Error still gives its reason', async () => {
    const { hooks } = fakeHooks({ adapters: { wasm: CPU_ADAPTER }, ms: { wasm: { [BATCH]: 40 } } });
    const failing: CalibrationHooks = {
      ...hooks,
      start: (name) => (name === 'webgl' ? Promise.reject('no context') : hooks.start(name)),
    };
    const result = await calibrateBackends(['webgl', 'wasm'], BATCH, failing, BUDGET);
    expect(row(result.rows, 'webgl').note).toBe('did not start: no context');
    expect(result.chosen).toBe('wasm');
  });

  it('a backend whose model step throws is a failed row that keeps its adapter', async () => {
    const { hooks, calls } = fakeHooks({
      adapters: { wasm: CPU_ADAPTER, webgpu: SWIFTSHADER, cpu: CPU_ADAPTER },
      ms: {
        wasm: { [BATCH]: 40 },
        webgpu: { [PROBE]: new Error('Out of memory in device') },
        cpu: { [PROBE]: 30, [BATCH]: 200 },
      },
    });
    const result = await calibrateBackends(['wasm', 'webgpu', 'cpu'], BATCH, hooks, BUDGET);
    const webgpu = row(result.rows, 'webgpu');
    expect(webgpu.status).toBe('failed');
    expect(webgpu.note).toContain('the model step failed');
    expect(webgpu.note).toContain('Out of memory in device');
    expect(webgpu.msPerStep).toBeNull();
    expect(webgpu.timedSteps).toBe(0);
    expect(webgpu.softwareAdapter).toBe(true);
    expect(webgpu.adapterDescription).toBe('Google SwiftShader');
    // A failure does not lower the bound: cpu is probed and then timed against wasm's 40 ms.
    expect(callsOf(calls, 'cpu')).toEqual([PROBE, BATCH]);
    expect(row(result.rows, 'cpu').msPerStep).toBe(200);
    expect(result.chosen).toBe('wasm');
  });

  it('rejects when no backend could run the model, naming each reason', async () => {
    const { hooks } = fakeHooks({
      adapters: { wasm: new Error('wasm binary missing'), webgpu: HARDWARE_GPU },
      ms: { webgpu: { [BATCH]: new Error('shader compile failed') } },
    });
    const run = calibrateBackends(['wasm', 'webgpu'], BATCH, hooks, BUDGET);
    await expect(run).rejects.toThrow(/^No backend could run this model/);
    await expect(run).rejects.toThrow(/wasm: did not start: wasm binary missing/);
    await expect(run).rejects.toThrow(/webgpu: the model step failed: shader compile failed/);
  });

  it('the first candidate is timed at full batch without a probe; progress once per candidate', async () => {
    const { hooks, calls, progress } = fakeHooks({
      adapters: { webgpu: HARDWARE_GPU, wasm: CPU_ADAPTER, cpu: CPU_ADAPTER },
      ms: { webgpu: { [BATCH]: 10 }, wasm: { [PROBE]: 12 }, cpu: { [PROBE]: 3, [BATCH]: 9 } },
    });
    const result = await calibrateBackends(['webgpu', 'wasm', 'cpu'], BATCH, hooks, BUDGET);
    expect(calls[0]).toEqual({ backend: 'webgpu', batchSize: BATCH, budget: BUDGET });
    expect(callsOf(calls, 'webgpu')).toEqual([BATCH]);
    expect(progress).toEqual([
      'measuring webgpu (1 of 3)',
      'measuring wasm (2 of 3)',
      'measuring cpu (3 of 3)',
    ]);
    expect(result.chosen).toBe('cpu');
  });

  it('after a first candidate that failed, the next one is timed directly (nothing to beat)', async () => {
    const { hooks, calls } = fakeHooks({
      adapters: { webgpu: new Error('no adapter'), wasm: CPU_ADAPTER },
      ms: { wasm: { [BATCH]: 40 } },
    });
    const result = await calibrateBackends(['webgpu', 'wasm'], BATCH, hooks, BUDGET);
    expect(callsOf(calls, 'wasm')).toEqual([BATCH]);
    expect(result.chosen).toBe('wasm');
  });

  it('probes at batch / probeDivisor rounded down (at least 1); a batch of 1 is never probed', async () => {
    const { hooks, calls } = fakeHooks({
      adapters: { wasm: CPU_ADAPTER, cpu: CPU_ADAPTER },
      ms: { wasm: { 100: 5, 1: 1 }, cpu: { 12: 9, 1: 2 } },
    });
    await calibrateBackends(['wasm', 'cpu'], 100, hooks, BUDGET);
    expect(callsOf(calls, 'cpu')).toEqual([12]);

    const small = fakeHooks({
      adapters: { wasm: CPU_ADAPTER, cpu: CPU_ADAPTER },
      ms: { wasm: { 4: 5 }, cpu: { 1: 6, 4: 7 } },
    });
    await calibrateBackends(['wasm', 'cpu'], 4, small.hooks, BUDGET);
    expect(callsOf(small.calls, 'cpu')).toEqual([1]);

    const one = fakeHooks({
      adapters: { wasm: CPU_ADAPTER, cpu: CPU_ADAPTER },
      ms: { wasm: { 1: 1 }, cpu: { 1: 0.5 } },
    });
    const result = await calibrateBackends(['wasm', 'cpu'], 1, one.hooks, BUDGET);
    expect(callsOf(one.calls, 'cpu')).toEqual([1]);
    expect(one.calls[1].budget).toBe(BUDGET);
    expect(result.chosen).toBe('cpu');
  });
});

function measured(backend: BackendName, msPerStep: number): BackendMeasurement {
  return {
    backend,
    status: 'measured',
    msPerStep,
    samplesPerSecond: 1000 / msPerStep,
    timedSteps: 3,
    adapterDescription: '',
    softwareAdapter: false,
    note: '',
  };
}

describe('chooseBackend', () => {
  it('picks the fastest measured row', () => {
    expect(chooseBackend([measured('wasm', 40), measured('webgpu', 10), measured('cpu', 90)])).toBe(
      'webgpu',
    );
  });

  it("ignores 'slower' and 'failed' rows, even with a smaller figure", () => {
    const rows: BackendMeasurement[] = [
      measured('wasm', 40),
      { ...measured('webgpu', 1), status: 'slower' },
      { ...measured('webgl', 2), status: 'failed' },
    ];
    expect(chooseBackend(rows)).toBe('wasm');
  });

  it('ignores a measured row without a figure', () => {
    expect(chooseBackend([{ ...measured('webgpu', 1), msPerStep: null }, measured('cpu', 9)])).toBe(
      'cpu',
    );
  });

  it('a tie keeps the earlier row', () => {
    expect(chooseBackend([measured('wasm', 10), measured('webgpu', 10)])).toBe('wasm');
    expect(chooseBackend([measured('webgpu', 10), measured('wasm', 10)])).toBe('webgpu');
  });

  it('returns null when no row was measured', () => {
    expect(chooseBackend([])).toBeNull();
    expect(
      chooseBackend([
        { ...measured('wasm', 5), status: 'failed', msPerStep: null },
        { ...measured('webgpu', 5), status: 'slower', msPerStep: null },
      ]),
    ).toBeNull();
  });
});

describe('modelShapeKey', () => {
  const base: TrainConfig = { ...DEFAULT_TRAIN_CONFIG };
  const key = modelShapeKey(base, 10);

  it('is stable for the same config and field count', () => {
    expect(modelShapeKey({ ...DEFAULT_TRAIN_CONFIG }, 10)).toBe(key);
  });

  const changes: [string, Partial<TrainConfig>][] = [
    ['model', { model: base.model === 'fm' ? 'deepfm' : 'fm' }],
    ['embeddingDim', { embeddingDim: base.embeddingDim + 1 }],
    ['mlpLayers', { mlpLayers: [...base.mlpLayers, 16] }],
    ['mlpLayers (same digits, other layers)', { mlpLayers: [6, 432] }],
    ['batchSize', { batchSize: base.batchSize * 2 }],
    ['batchNorm', { batchNorm: !base.batchNorm }],
    ['denseOptimizer', { denseOptimizer: base.denseOptimizer === 'sgd' ? 'adam' : 'sgd' }],
    [
      'embeddingOptimizer',
      { embeddingOptimizer: base.embeddingOptimizer === 'sgd' ? 'adam' : 'sgd' },
    ],
    ['embeddingUpdate', { embeddingUpdate: base.embeddingUpdate === 'lazy' ? 'exact' : 'lazy' }],
  ];
  for (const [what, change] of changes) {
    it(`changes with ${what}`, () => {
      expect(modelShapeKey({ ...base, ...change }, 10)).not.toBe(key);
    });
  }

  it('changes with the number of fields', () => {
    expect(modelShapeKey(base, 11)).not.toBe(key);
  });

  it('does not change with the seed, the epochs or the learning rate', () => {
    expect(
      modelShapeKey(
        {
          ...base,
          seed: base.seed + 7,
          epochs: base.epochs + 3,
          learningRate: base.learningRate * 10,
        },
        10,
      ),
    ).toBe(key);
  });

  it('the dense and embedding optimizers are not interchangeable', () => {
    const a = modelShapeKey({ ...base, denseOptimizer: 'sgd', embeddingOptimizer: 'adam' }, 10);
    const b = modelShapeKey({ ...base, denseOptimizer: 'adam', embeddingOptimizer: 'sgd' }, 10);
    expect(a).not.toBe(b);
  });
});

describe('timeModelSteps on tfjs cpu (real)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('times a few steps of a small FM', async () => {
    const ds = generateSyntheticCtr({ seed: 5, numRows: 2000, numFields: 6, maxCardinality: 50 });
    const train: TrainConfig = {
      ...DEFAULT_TRAIN_CONFIG,
      model: 'fm',
      embeddingDim: 4,
      mlpLayers: [],
      batchSize: 32,
    };
    const before = tf.memory().numTensors;
    const timed = await timeModelSteps(ds, train, 32, {
      budgetMs: 50,
      minTimedSteps: 2,
      maxTimedSteps: 3,
      probeDivisor: 8,
      timeSoftwareAdapters: false,
    });
    expect(timed.timedSteps).toBeGreaterThanOrEqual(2);
    expect(timed.timedSteps).toBeLessThanOrEqual(3);
    expect(timed.medianMs).toBeGreaterThan(0);
    expect(Number.isFinite(timed.medianMs)).toBe(true);
    // The model it built is disposed again.
    expect(tf.memory().numTensors).toBe(before);
  });
});
