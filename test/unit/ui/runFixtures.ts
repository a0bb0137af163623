/** Records and results for the run-history unit tests. */
import {
  DEFAULT_DATA_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  type EvaluationMetrics,
  type RunResult,
} from '../../../workers/protocol';
import { RECORD_VERSION, type StoredRunRecord } from '../../../src/state/runRecords';

export function evaluation(step: number, auc = 0.7): EvaluationMetrics {
  return {
    phase: 'train',
    epoch: step / 10,
    step,
    validationAuc: auc,
    validationLogloss: 0.5,
    trainLoss: Number.NaN,
    testAuc: null,
    seconds: 1,
    method: {},
  };
}

export function result(): RunResult {
  const evaluations = [evaluation(10, 0.7), evaluation(20, 0.72)];
  return {
    runId: 1,
    method: { id: 'none', label: 'None (dense model)' },
    stoppedEarly: false,
    stopReason: null,
    bestEpoch: 2,
    bestStep: 20,
    stoppedByPatience: false,
    steps: 20,
    evaluations,
    phases: [
      {
        id: 'train',
        label: 'Train',
        steps: 20,
        endReason: null,
        bestEvaluation: evaluations[1],
        test: null,
        skipped: null,
      },
    ],
    test: { auc: 0.71, logloss: 0.5, accuracy: 0.8, calibration: 1, meanPerBatchAuc: 0.7 },
    bayesTestAuc: 0.8,
    model: {
      parts: [{ part: 'embedding', params: 100, bytes: 400 }],
      totalParams: 100,
      totalBytes: 400,
      denseEmbeddingParams: 100,
      flopsPerExample: 50,
    },
    methodResult: { sparsity: 0, dims: [4, 4] },
    msPerStep: 3.5,
  };
}

export function record(patch: Partial<StoredRunRecord> = {}): StoredRunRecord {
  return {
    version: RECORD_VERSION,
    id: 3,
    name: 'Run 3: DeepFM, None (dense model)',
    status: 'finished',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_060_000,
    config: {
      source: 'synthetic',
      data: { ...DEFAULT_DATA_CONFIG },
      train: { ...DEFAULT_TRAIN_CONFIG },
      method: { id: 'none', options: {} },
    },
    result: result(),
    error: null,
    lossPoints: [
      { step: 1, loss: 0.7, smoothed: 0.7 },
      { step: 2, loss: 0.6, smoothed: 0.69 },
    ],
    evaluations: [evaluation(10), evaluation(20)],
    stepsDone: 20,
    totalSteps: 20,
    modelFileBytes: 0,
    ...patch,
  };
}
