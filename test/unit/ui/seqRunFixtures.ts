/** Next-item run records and results for the run-history and compare unit tests. */
import {
  DEFAULT_SEQ_RUN,
  architectureOf,
  seqParamCounts,
  uncompressedOf,
  type RankingMetrics,
  type SeqEvaluation,
  type SeqRunConfig,
  type SeqRunResult,
  type SharingScheme,
} from '../../../workers/sequence/seqProtocol';
import { RECORD_VERSION, type StoredSeqRunRecord } from '../../../src/state/runRecords';
import type { FinishedSeqRun } from '../../../src/state/labStore';

export function metrics(mrr20: number): RankingMetrics {
  return {
    mrr5: mrr20 * 0.8,
    mrr20,
    hr5: mrr20 * 2,
    hr20: mrr20 * 3,
    ndcg5: mrr20 * 0.9,
    ndcg20: mrr20 * 1.2,
    count: 80,
  };
}

export function seqEvaluation(step: number, mrr20: number): SeqEvaluation {
  return { step, epoch: step / 4, trainLoss: 4.2, validation: metrics(mrr20), seconds: step / 2 };
}

export function seqConfig(
  method: 'none' | 'cprec' = 'cprec',
  sharing: SharingScheme = 'cross-block',
): SeqRunConfig {
  return {
    ...DEFAULT_SEQ_RUN,
    data: { ...DEFAULT_SEQ_RUN.data, numSequences: 400, numItems: 100, length: 8 },
    train: { ...DEFAULT_SEQ_RUN.train, embeddingDim: 8, dilations: [1, 2], epochs: 1 },
    method,
    cprec: { ...DEFAULT_SEQ_RUN.cprec, factor: 2, sharing },
  };
}

export function seqResult(config: SeqRunConfig = seqConfig(), testMrr20 = 0.12): SeqRunResult {
  const arch = architectureOf(config, 100);
  const params = seqParamCounts(arch);
  const uncompressedParams = seqParamCounts(uncompressedOf(arch));
  const evaluations = [seqEvaluation(4, 0.08), seqEvaluation(8, 0.1)];
  return {
    method: config.method,
    backend: 'webgpu',
    arch,
    params,
    uncompressedParams,
    compressionRatio: uncompressedParams.total / params.total,
    steps: 8,
    stoppedEarly: false,
    stopReason: null,
    evaluations,
    best: evaluations[1],
    test: metrics(testMrr20),
    popularityTest: metrics(0.05),
    timing: { msPerStep: 12.5, inferenceMsPer1000: 40 },
    uncompressedTiming:
      config.method === 'cprec' ? { msPerStep: 15, inferenceMsPer1000: 60 } : null,
    fastTopK: null,
    seconds: 21,
  };
}

export function seqRecord(patch: Partial<StoredSeqRunRecord> = {}): StoredSeqRunRecord {
  const config = seqConfig();
  return {
    version: RECORD_VERSION,
    task: 'seq',
    id: 4,
    name: 'Run 4: NextItNet, CpRec (cross-block)',
    status: 'finished',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_030_000,
    config,
    dataset: {
      source: 'synthetic',
      name: 'synthetic sequences (seed 7)',
      numSequences: 400,
      maxLen: 8,
      numItems: 100,
      popularityTest: metrics(0.05),
    },
    result: seqResult(config),
    error: null,
    lossPoints: [
      { step: 1, loss: 4.6, smoothed: 4.6 },
      { step: 8, loss: 4.1, smoothed: 4.4 },
    ],
    evaluations: [seqEvaluation(4, 0.08), seqEvaluation(8, 0.1)],
    stepsDone: 8,
    totalSteps: 8,
    modelFileBytes: 0,
    seconds: 22,
    ...patch,
  };
}

/** A finished next-item run of the runs table. */
export function finishedSeqRun(
  id: number,
  config: SeqRunConfig,
  testMrr20: number,
): FinishedSeqRun {
  const r = seqRecord({ id, config, result: seqResult(config, testMrr20) });
  return {
    id,
    name: r.name,
    createdAt: r.createdAt,
    config,
    dataset: r.dataset,
    result: r.result!,
    error: null,
    lossPoints: r.lossPoints,
    evaluations: r.evaluations,
    stepsDone: r.stepsDone,
    seconds: r.seconds,
    status: 'finished',
    restored: true,
    saved: true,
    modelFileStored: true,
  };
}
