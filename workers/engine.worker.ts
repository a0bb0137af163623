/**
 * The engine worker: the one place where tfjs runs. Exposes LabEngineApi with comlink.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import type {
  BackendName,
  DatasetSummary,
  EngineEvent,
  EngineInfo,
  LabEngineApi,
  MemoryInfo,
  ModelSummary,
  RunConfig,
  RunResult,
  StepBenchmarkConfig,
  StepBenchmarkResult,
  SyntheticDataConfig,
} from './protocol';
import { DEFAULT_TRAIN_CONFIG, validateRunConfig } from './protocol';
import { activeWebGpuDevice, selectBackend } from './engine/backend';
import { RunControl } from './engine/runControl';
import { buildModel, memoryInfo, trainCtr } from './engine/trainer';
import { Rng } from './rng';
import { runStepBenchmark } from './engine/stepBenchmark';
import { datasetForModel } from './engine/modelDataset';
import { generateSyntheticCtr, type SyntheticDataset } from './data/synthetic';
import type { CtrDataset } from './data/dataset';
import {
  activeCtrDataset,
  cancelCurrentLoad,
  clearActiveDataset,
  loadFilesIntoStore,
  peekFileColumns,
} from './engine/datasetStore';
import type {
  ColumnPeek,
  DatasetLoadOptions,
  DatasetLoadProgress,
  LoadedDatasetInfo,
} from './datasetProtocol';

let engineInfo: EngineInfo | null = null;
let reportDeviceLoss: ((message: string) => void) | null = null;
let watchedDevice: GPUDevice | null = null;
let control: RunControl | null = null;
let cachedData: { key: string; dataset: SyntheticDataset } | null = null;
let lastHostBytes = 0;

function syntheticFor(config: SyntheticDataConfig): SyntheticDataset {
  const key = JSON.stringify(config);
  if (cachedData?.key !== key) {
    cachedData = null; // let the old arrays go before building new ones
    cachedData = { key, dataset: generateSyntheticCtr(config) };
  }
  return cachedData.dataset;
}

function summarizeCtr(ds: CtrDataset, synthetic: SyntheticDataset | null): DatasetSummary {
  let positives = 0;
  for (let i = 0; i < ds.labels.length; i++) positives += ds.labels[i];
  return {
    source: synthetic ? 'synthetic' : 'loaded',
    name: ds.name,
    numRows: ds.numRows,
    numFields: ds.numFields,
    fieldNames: ds.fieldNames,
    fieldCardinalities: Array.from(ds.fieldDims),
    totalVocabulary: ds.totalVocabulary,
    labelMean: positives / ds.numRows,
    splitSizes: {
      train: ds.split.train.length,
      validation: ds.split.validation.length,
      test: ds.split.test.length,
    },
    bayesTestAuc: synthetic?.bayesTestAuc ?? null,
    informativeFields: synthetic?.informativeFields ?? [],
    noiseFields: synthetic?.noiseFields ?? [],
    redundantFields: synthetic?.redundantFields ?? [],
  };
}

/** tfjs's webgpu backend does not watch device.lost itself: after a loss every op fails. */
function watchDeviceLoss(): void {
  const device = activeWebGpuDevice();
  if (!device || device === watchedDevice) return;
  watchedDevice = device;
  void device.lost.then((info) => {
    control?.stop();
    reportDeviceLoss?.(`WebGPU device lost (${info.reason}): ${info.message || 'no details'}`);
  });
}

const api: LabEngineApi = {
  async init(
    forceBackend: BackendName | null,
    onDeviceLost: (message: string) => void,
  ): Promise<EngineInfo> {
    if (!engineInfo) {
      reportDeviceLoss = onDeviceLost;
      engineInfo = await selectBackend(forceBackend);
      watchDeviceLoss();
    }
    return engineInfo;
  },

  async switchBackend(name: BackendName): Promise<EngineInfo> {
    if (!engineInfo) throw new Error('Engine not initialised: call init() first');
    if (control) throw new Error('Stop the run before switching backends');
    const previous = engineInfo.backend;
    try {
      engineInfo = await selectBackend(name);
    } catch (err) {
      // Keep working on the backend we had.
      engineInfo = await selectBackend(previous);
      throw err;
    }
    watchDeviceLoss();
    return engineInfo;
  },

  async memory(): Promise<MemoryInfo> {
    return memoryInfo(lastHostBytes);
  },

  async train(
    config: RunConfig,
    onEvent: (event: EngineEvent) => void | Promise<void>,
  ): Promise<RunResult> {
    if (!engineInfo) throw new Error('Engine not initialised: call init() first');
    if (control) throw new Error('A run is already in progress');
    const errors = validateRunConfig(config);
    const messages = Object.values(errors);
    if (messages.length > 0) throw new Error(`Invalid configuration: ${messages.join('; ')}`);
    control = new RunControl();
    try {
      onEvent({ type: 'state', state: 'preparing' });
      let dataset: CtrDataset;
      let bayesTestAuc: number | null = null;
      if (config.source === 'loaded') {
        dataset = activeCtrDataset();
        onEvent({ type: 'dataset', summary: summarizeCtr(dataset, null) });
      } else {
        const synthetic = syntheticFor(config.data);
        dataset = synthetic;
        bayesTestAuc = synthetic.bayesTestAuc;
        onEvent({ type: 'dataset', summary: summarizeCtr(synthetic, synthetic) });
      }
      if (config.train.batchSize > dataset.split.train.length) {
        throw new Error(
          `Batch size ${config.train.batchSize} is larger than the ${dataset.split.train.length} training rows`,
        );
      }
      const result = await trainCtr(dataset, config.train, control, onEvent, {
        progressEverySteps: 25,
        progressEveryMs: 100,
        bayesTestAuc,
      });
      lastHostBytes = 0;
      // Awaited: the result must not overtake the events (see LabEngineApi.train).
      await onEvent({ type: 'state', state: 'done' });
      return result;
    } finally {
      control = null;
    }
  },

  async previewSyntheticData(config: SyntheticDataConfig): Promise<DatasetSummary> {
    const messages = Object.values(
      validateRunConfig({ source: 'synthetic', data: config, train: DEFAULT_TRAIN_CONFIG }),
    );
    if (messages.length > 0) throw new Error(`Invalid data settings: ${messages.join('; ')}`);
    const synthetic = syntheticFor(config);
    return summarizeCtr(synthetic, synthetic);
  },

  async describeModel(config: RunConfig): Promise<ModelSummary> {
    const messages = Object.values(validateRunConfig(config));
    if (messages.length > 0) throw new Error(`Invalid configuration: ${messages.join('; ')}`);
    const dataset = config.source === 'loaded' ? activeCtrDataset() : syntheticFor(config.data);
    const model = buildModel(
      datasetForModel(dataset, config.train.model),
      config.train,
      new Rng(config.train.seed),
    );
    try {
      return model.summary();
    } finally {
      model.dispose();
    }
  },

  async benchmarkSteps(config: StepBenchmarkConfig): Promise<StepBenchmarkResult> {
    if (!engineInfo) throw new Error('Engine not initialised: call init() first');
    if (control) throw new Error('A run is in progress');
    return runStepBenchmark(config);
  },

  async pause(): Promise<void> {
    control?.pause();
  },

  async resume(): Promise<void> {
    control?.resume();
  },

  async stop(): Promise<void> {
    control?.stop();
  },

  async simulateDeviceLoss(): Promise<boolean> {
    const device = activeWebGpuDevice();
    if (!device) return false;
    device.destroy();
    return true;
  },

  async simulateCrash(): Promise<void> {
    // Thrown from a timer so that it is an uncaught worker error, not a rejected call.
    setTimeout(() => {
      throw new Error('Simulated engine crash');
    }, 0);
  },

  async loadDataset(
    files: File[],
    options: DatasetLoadOptions,
    onProgress: (progress: DatasetLoadProgress) => void,
  ): Promise<LoadedDatasetInfo> {
    return loadFilesIntoStore(files, options, onProgress);
  },

  async cancelLoad(): Promise<void> {
    cancelCurrentLoad();
  },

  async clearDataset(): Promise<void> {
    clearActiveDataset();
  },

  async peekColumns(file: File): Promise<ColumnPeek> {
    return peekFileColumns(file);
  },
};

// Keep tfjs from logging the backend-registration chatter on every start.
tf.env().set('PROD', true);
Comlink.expose(api);
