/**
 * The engine worker: the one place where tfjs runs. Exposes LabEngineApi with comlink.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import type {
  OwnKernelCheck,
  BackendCalibration,
  BackendName,
  DatasetSummary,
  EngineEvent,
  EngineInfo,
  ImportedModelCard,
  KeptRunInfo,
  LabEngineApi,
  MemoryInfo,
  ModelSummary,
  PhaseResult,
  RunConfig,
  RunResult,
  StepBenchmarkConfig,
  StepBenchmarkResult,
  SyntheticDataConfig,
  TestMetrics,
} from './protocol';
import { checkTuning, DATA_OPTIONS, isSoftwareAdapter, validateRunConfig } from './protocol';
import { checkOption, validateOptions, type OptionValue } from './options';
import { activeWebGpuDevice, selectBackend, setWasmThreads, startBackend } from './engine/backend';
import {
  CALIBRATION_ORDER,
  calibrateBackends,
  modelShapeKey,
  timeModelSteps,
} from './engine/backendCalibration';
import { RunControl } from './engine/runControl';
import { describeRun, memoryInfo, runExperiment } from './engine/trainer';
import { KeptRunRegistry, type KeptRun } from './engine/keptRuns';
import { METHOD_SPECS } from './methods/registry';
import type { MethodSpec } from './methods/methodSpec';
import { runStepBenchmark } from './engine/stepBenchmark';
import { checkOwnKernels } from './engine/ownKernelCheck';
import { generateSyntheticCtr, type SyntheticDataset } from './data/synthetic';
import { summarizeCtr } from './engine/datasetSummary';
import { datasetForModel } from './engine/modelDataset';
import { exportRun, type ExportOptions } from './export/exportRun';
import { cardOf, evaluateImported } from './export/importedModel';
import { ModelFileError, readModelFile, type DecodedModel } from './export/readModel';
import type { CtrDataset } from './data/dataset';
import {
  activeSequenceDataset,
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

import {
  SEQ_DATA_OPTIONS,
  SEQ_TRAIN_OPTIONS,
  type SeqDatasetSummary,
  type SequenceModelCard,
  type SequenceModelEvaluation,
  type SeqEngineEvent,
  type SeqRunConfig,
  type SeqRunResult,
  type SeqSyntheticConfig,
} from './sequence/seqProtocol';
import { runSequenceExperiment, summarizeSequences } from './sequence/seqTrainer';
import {
  readSequenceModelFile,
  SequenceModelFileError,
  type DecodedSequenceModel,
} from './sequence/seqModelFile';
import { evaluateSequenceModel, sequenceCardOf } from './scorer/sequenceScorer';
import { generateSyntheticSequences } from './sequence/syntheticSequences';
import type { SequenceDataset } from './data/preprocess/sequenceDataset';
import { loopStopped, watchPageDrawing } from './engine/pageDrawing';

let engineInfo: EngineInfo | null = null;
/** Whether the run in progress is a sequential one (its live settings are checked apart). */
let sequenceRunActive = false;
let cachedSequences: { key: string; dataset: SequenceDataset } | null = null;
/** The sequence model file opened last (kept until another one opens successfully). */
let openedSequenceModel: DecodedSequenceModel | null = null;
/** The model file (JSON text) of the last finished sequence run, for export. */
let lastSequenceModel: string | null = null;

function sequencesFor(config: Pick<SeqRunConfig, 'source' | 'data'>): SequenceDataset {
  if (config.source === 'loaded') return activeSequenceDataset();
  const messages = Object.values(validateOptions(SEQ_DATA_OPTIONS, config.data, 'data.', 'data'));
  if (messages.length > 0) throw new Error(`Invalid data settings: ${messages.join('; ')}`);
  const key = JSON.stringify(config.data);
  if (cachedSequences?.key !== key) {
    cachedSequences = null;
    cachedSequences = {
      key,
      dataset: generateSyntheticSequences(config.data as SeqSyntheticConfig),
    };
  }
  return cachedSequences.dataset;
}
let reportDeviceLoss: ((message: string) => void) | null = null;
let watchedDevice: GPUDevice | null = null;
let control: RunControl | null = null;
/** The method of the run in progress (live setting changes are checked against it). */
let activeMethod: MethodSpec | null = null;
let cachedData: { key: string; dataset: SyntheticDataset } | null = null;
/** The model file opened last (kept until another one opens successfully). */
let openedModel: DecodedModel | null = null;

/** An Error whose name survives comlink (it copies name, message and stack). */
function namedError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}
const keptRuns = new KeptRunRegistry();

/** Throws one error naming every problem of `config` (the UI shows them in its form first). */
function checkConfig(config: RunConfig): void {
  const messages = Object.values(validateRunConfig(config, METHOD_SPECS));
  if (messages.length > 0) throw new Error(`Invalid configuration: ${messages.join('; ')}`);
}

function datasetOf(config: RunConfig): CtrDataset {
  return config.source === 'loaded' ? activeCtrDataset() : syntheticFor(config.data);
}

/** The kept run a new run starts from, checked to have the same model and data. */
function startRunFor(runId: number, config: RunConfig, dataset: CtrDataset): KeptRun {
  const start = keptRuns.get(runId);
  if (start.train.model !== config.train.model) {
    throw new Error(
      `Run #${runId} trained ${start.train.model}; this run trains ${config.train.model}: a run can only start from the same model`,
    );
  }
  const view = datasetForModel(dataset, config.train.model);
  const same =
    start.dataset.name === view.name &&
    start.dataset.numRows === view.numRows &&
    start.dataset.numFields === view.numFields &&
    start.dataset.fieldDims.every((n, f) => n === view.fieldDims[f]);
  if (!same) {
    throw new Error(
      `Run #${runId} was trained on other data (${start.dataset.name}); load that data again or start from scratch`,
    );
  }
  return start;
}

function syntheticFor(config: SyntheticDataConfig): SyntheticDataset {
  const key = JSON.stringify(config);
  if (cachedData?.key !== key) {
    cachedData = null; // let the old arrays go before building new ones
    cachedData = { key, dataset: generateSyntheticCtr(config) };
  }
  return cachedData.dataset;
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

/** A model file's text as a Blob, which crosses to the page as a handle (exportRunFile). */
function jsonBlob(text: string): Blob {
  return new Blob([text], { type: 'application/json' });
}

const api: LabEngineApi = {
  async init(
    forceBackend: BackendName | null,
    onDeviceLost: (message: string) => void,
    wasmThreads: number | null = null,
    pageDrawingFlag: SharedArrayBuffer | null = null,
  ): Promise<EngineInfo> {
    if (!engineInfo) {
      // Waiting for the page's charts frees cores only where the training uses them: wasm, cpu,
      // and an emulated GPU (its threads compute the queued work on the CPU, and the loop reads
      // every step's loss back, so the queue is empty between two steps).
      // Asked at every step boundary: decided once per backend started.
      let decidedFor: EngineInfo | null = null;
      let givesWay = false;
      watchPageDrawing(pageDrawingFlag, () => {
        const info = engineInfo;
        if (info !== decidedFor) {
          decidedFor = info;
          givesWay =
            info !== null &&
            (info.backend === 'wasm' ||
              info.backend === 'cpu' ||
              isSoftwareAdapter(info.backend, info.adapterDescription, info.isFallbackAdapter));
        }
        return givesWay;
      });
      reportDeviceLoss = onDeviceLost;
      setWasmThreads(wasmThreads);
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

  async calibrateBackends(
    config: RunConfig,
    onProgress: (message: string) => void,
  ): Promise<{ calibration: BackendCalibration; engine: EngineInfo }> {
    if (!engineInfo) throw new Error('Engine not initialised: call init() first');
    if (control) throw new Error('Stop the run before measuring backends');
    checkConfig(config);
    const dataset = datasetOf(config);
    if (config.train.batchSize > dataset.split.train.length) {
      throw new Error(
        `Batch size ${config.train.batchSize} is larger than the ${dataset.split.train.length} training rows`,
      );
    }
    const previous = engineInfo.backend;
    control = new RunControl();
    try {
      const measured = await calibrateBackends(CALIBRATION_ORDER, config.train.batchSize, {
        start: async (name) => {
          const info = await startBackend(name);
          return {
            adapterDescription: info.adapterDescription,
            softwareAdapter: isSoftwareAdapter(
              name,
              info.adapterDescription,
              info.isFallbackAdapter,
            ),
          };
        },
        timeSteps: (batchSize, budget) => timeModelSteps(dataset, config.train, batchSize, budget),
        onProgress: (message) => void onProgress(message),
      });
      engineInfo = await startBackend(measured.chosen);
      watchDeviceLoss();
      const calibration: BackendCalibration = {
        ...measured,
        shapeKey: modelShapeKey(config.train, dataset.numFields),
        measuredAt: new Date().toISOString(),
      };
      return { calibration, engine: engineInfo };
    } catch (err) {
      engineInfo = await startBackend(previous);
      throw err;
    } finally {
      control = null;
      loopStopped();
    }
  },

  async backendShapeKey(config: RunConfig): Promise<string> {
    checkConfig(config);
    return modelShapeKey(config.train, datasetOf(config).numFields);
  },

  async memory(): Promise<MemoryInfo> {
    return memoryInfo(0, keptRuns.totalBytes);
  },

  async train(
    config: RunConfig,
    onEvent: (event: EngineEvent) => void | Promise<void>,
    startFromRunId: number | null = null,
  ): Promise<RunResult> {
    if (!engineInfo) throw new Error('Engine not initialised: call init() first');
    if (control) throw new Error('A run is already in progress');
    checkConfig(config);
    control = new RunControl();
    activeMethod = METHOD_SPECS.find((m) => m.id === config.method.id) ?? null;
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
      const start = startFromRunId === null ? null : startRunFor(startFromRunId, config, dataset);
      const { result, kept } = await runExperiment(
        dataset,
        config.train,
        config.method,
        control,
        onEvent,
        {
          progressEverySteps: 25,
          progressEveryMs: 100,
          bayesTestAuc,
          keptRunBytes: () => keptRuns.totalBytes,
          startFrom: start?.model,
        },
      );
      keptRuns.add(kept);
      // Awaited: the result must not overtake the events (see LabEngineApi.train).
      await onEvent({ type: 'state', state: 'done' });
      return result;
    } finally {
      control = null;
      loopStopped();
      activeMethod = null;
    }
  },

  async trainSequences(
    config: SeqRunConfig,
    onEvent: (event: SeqEngineEvent) => void | Promise<void>,
  ): Promise<SeqRunResult> {
    if (!engineInfo) throw new Error('Engine not initialised: call init() first');
    if (control) throw new Error('A run is already in progress');
    control = new RunControl();
    sequenceRunActive = true;
    try {
      const dataset = sequencesFor(config);
      const result = await runSequenceExperiment(config, dataset, config.source, {
        onEvent,
        control,
        backend: engineInfo.backend,
        onModelFile: (file) => {
          lastSequenceModel = JSON.stringify(file);
        },
      });
      return result;
    } finally {
      control = null;
      loopStopped();
      sequenceRunActive = false;
    }
  },

  async exportSequenceRun(): Promise<string> {
    if (!lastSequenceModel) throw new Error('No sequence run has finished yet: train one first');
    return lastSequenceModel;
  },

  async exportSequenceRunFile(): Promise<Blob> {
    return jsonBlob(await api.exportSequenceRun());
  },

  async previewSequences(
    config: Pick<SeqRunConfig, 'source' | 'data'>,
  ): Promise<SeqDatasetSummary> {
    return summarizeSequences(sequencesFor(config), config.source);
  },

  async previewSyntheticData(config: SyntheticDataConfig): Promise<DatasetSummary> {
    const messages = Object.values(validateOptions(DATA_OPTIONS, config, 'data.', 'data'));
    if (messages.length > 0) throw new Error(`Invalid data settings: ${messages.join('; ')}`);
    const synthetic = syntheticFor(config);
    return summarizeCtr(synthetic, synthetic);
  },

  async describeModel(config: RunConfig): Promise<ModelSummary> {
    checkConfig(config);
    return describeRun(datasetOf(config), config.train, config.method);
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
    // A snapshot retraining while the run is paused is stopped alone; the run stays paused.
    if (control?.stopAside()) return;
    control?.stop();
  },

  async retrainSnapshotNow(snapshot: number): Promise<PhaseResult> {
    if (!control) throw new Error('No run is in progress');
    if (!Number.isInteger(snapshot) || snapshot < 1) {
      throw new Error(`Snapshots are numbered from 1, got ${String(snapshot)}`);
    }
    if (!control.retrainSnapshotNow) throw new Error('The run in progress keeps no snapshots');
    return control.retrainSnapshotNow(snapshot);
  },

  async tune(changes: Record<string, OptionValue>): Promise<void> {
    if (control && sequenceRunActive) {
      const problems: string[] = [];
      for (const [key, value] of Object.entries(changes)) {
        const spec = key === 'train.learningRate' ? SEQ_TRAIN_OPTIONS.learningRate : null;
        if (!spec) problems.push(`"${key}" cannot be changed while a sequence run trains`);
        else {
          const msg = checkOption(value, spec);
          if (msg) problems.push(msg);
        }
      }
      if (problems.length > 0) throw new Error(problems.join('; '));
      control.requestTuning(changes);
      return;
    }
    if (!control || !activeMethod) throw new Error('No run is in progress');
    const problems = checkTuning(changes, activeMethod);
    if (problems.length > 0) throw new Error(problems.join('; '));
    control.requestTuning(changes);
  },

  async keptRuns(): Promise<KeptRunInfo[]> {
    return keptRuns.list();
  },

  async discardRun(runId: number): Promise<void> {
    keptRuns.discard(runId);
  },

  async exportRun(runId: number, options: ExportOptions = {}): Promise<string> {
    return JSON.stringify(await exportRun(keptRuns.get(runId), options));
  },

  async exportRunFile(runId: number): Promise<Blob> {
    return jsonBlob(await api.exportRun(runId));
  },

  async openModelFile(file: File): Promise<ImportedModelCard> {
    const text = await file.text();
    let decoded: DecodedModel;
    try {
      decoded = readModelFile(text);
    } catch (err) {
      if (err instanceof ModelFileError)
        throw namedError('ModelFileError', `${file.name}: ${err.message}`);
      throw err;
    }
    openedModel = decoded;
    return cardOf(decoded, file.name, file.size);
  },

  async openSequenceModelFile(file: File): Promise<SequenceModelCard> {
    const text = await file.text();
    let decoded: DecodedSequenceModel;
    try {
      decoded = readSequenceModelFile(text);
    } catch (err) {
      if (err instanceof SequenceModelFileError)
        throw namedError('ModelFileError', `${file.name}: ${err.message}`);
      throw err;
    }
    openedSequenceModel = decoded;
    return sequenceCardOf(decoded, file.name, file.size);
  },

  async evaluateSequenceModelFile(
    config: Pick<SeqRunConfig, 'source' | 'data'>,
  ): Promise<SequenceModelEvaluation> {
    if (!openedSequenceModel) throw new Error('Open a sequence model file first');
    return evaluateSequenceModel(openedSequenceModel, sequencesFor(config));
  },

  async evaluateModelFile(config: Pick<RunConfig, 'source' | 'data'>): Promise<TestMetrics> {
    if (!openedModel) throw new Error('Open a model file first');
    const dataset = config.source === 'loaded' ? activeCtrDataset() : syntheticFor(config.data);
    const view = datasetForModel(dataset, openedModel.file.architecture.model);
    if (view.split.test.length === 0) throw new Error('The data has no test split to score');
    return evaluateImported(openedModel, view, view.split.test);
  },

  async simulateDeviceLoss(): Promise<boolean> {
    const device = activeWebGpuDevice();
    if (!device) return false;
    device.destroy();
    return true;
  },

  async checkOwnKernels(): Promise<OwnKernelCheck[]> {
    if (!engineInfo) throw new Error('Engine not initialised: call init() first');
    if (control) throw new Error('A run is in progress');
    return checkOwnKernels();
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
