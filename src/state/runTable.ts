/**
 * The runs table's figures of a run of either task, in one shape: the table lists click-through
 * and next-item runs together, each in its own terms (best validation AUC or MRR@20, test AUC or
 * MRR@20). Pure (no React, no tfjs).
 */
import type { HistoryRun, SeqHistoryRun } from './labStore';
import type { LabTask } from './seqForm';
import { bestValidationAuc } from './runSummary';
import {
  SEQ_MODEL_LABEL,
  seqBestEvaluation,
  seqMethodLabel,
  seqModelBytes,
  seqRunFlops,
} from './seqRunSummary';
import { methodSpecOf } from '../methods/catalog';

/** A row of the runs table: a run and its task. */
export type TableRun = { task: 'ctr'; run: HistoryRun } | { task: 'seq'; run: SeqHistoryRun };

/** Both tasks' runs in one list, by id (ids are unique over both: one store numbers them). */
export function tableRuns(
  history: readonly HistoryRun[],
  seqHistory: readonly SeqHistoryRun[],
): TableRun[] {
  return [
    ...history.map((run): TableRun => ({ task: 'ctr', run })),
    ...seqHistory.map((run): TableRun => ({ task: 'seq', run })),
  ].sort((a, b) => a.run.id - b.run.id);
}

export interface RunFigures {
  task: LabTask;
  method: string;
  model: string;
  data: string;
  dim: number;
  learningRate: number;
  steps: number;
  /** null: not known (no result). */
  params: number | null;
  bytes: number | null;
  flops: number | null;
  /** The metric of the best-validation and test columns: AUC, or MRR@20. */
  metric: 'AUC' | 'MRR@20';
  bestValidation: number | null;
  test: number | null;
  /** Wall-clock seconds (null: not recorded, e.g. a record older than the field). */
  seconds: number | null;
  msPerStep: number | null;
}

export function ctrRunFigures(run: HistoryRun): RunFigures {
  const { config, result } = run;
  return {
    task: 'ctr',
    method: result?.method.label ?? methodSpecOf(config.method.id)?.label ?? config.method.id,
    model: config.train.model,
    data: config.source === 'synthetic' ? 'synthetic slice' : 'loaded file',
    dim: config.train.embeddingDim,
    learningRate: config.train.learningRate,
    steps: result?.steps ?? run.stepsDone,
    params: result ? result.model.totalParams : null,
    bytes: result ? result.model.totalBytes : null,
    flops: result ? result.model.flopsPerExample : null,
    metric: 'AUC',
    bestValidation: result ? bestValidationAuc(result) : null,
    test: result?.test?.auc ?? null,
    seconds: run.seconds ?? null,
    msPerStep: result ? result.msPerStep : null,
  };
}

export function seqRunFigures(run: SeqHistoryRun): RunFigures {
  const { config, result, dataset } = run;
  const flops = result ? seqRunFlops(result, dataset) : Number.NaN;
  return {
    task: 'seq',
    method: seqMethodLabel(config),
    model: SEQ_MODEL_LABEL,
    data: dataset?.name ?? (config.source === 'synthetic' ? 'synthetic sequences' : 'loaded file'),
    dim: config.train.embeddingDim,
    learningRate: config.train.learningRate,
    steps: result?.steps ?? run.stepsDone,
    params: result ? result.params.total : null,
    bytes: result ? seqModelBytes(result.params.total) : null,
    flops: Number.isFinite(flops) ? flops : null,
    metric: 'MRR@20',
    bestValidation: seqBestEvaluation(result, run.evaluations)?.validation.mrr20 ?? null,
    test: result?.test?.mrr20 ?? null,
    seconds: result?.seconds ?? run.seconds ?? null,
    msPerStep: result ? result.timing.msPerStep : null,
  };
}

export function runFigures(row: TableRun): RunFigures {
  return row.task === 'seq' ? seqRunFigures(row.run) : ctrRunFigures(row.run);
}

/** Columns the runs table sorts by. */
export type RunSortKey =
  | 'id'
  | 'name'
  | 'status'
  | 'method'
  | 'model'
  | 'data'
  | 'steps'
  | 'params'
  | 'bytes'
  | 'flops'
  | 'bestValidation'
  | 'test'
  | 'seconds'
  | 'msPerStep';

export interface RunSort {
  key: RunSortKey;
  descending: boolean;
}

function sortValue(row: TableRun, f: RunFigures, key: RunSortKey): string | number | null {
  if (key === 'id') return row.run.id;
  if (key === 'name') return row.run.name;
  if (key === 'status') return row.run.status;
  return f[key];
}

/**
 * The rows in the order of `sort` (unknown values, e.g. a run without a result, last in either
 * direction; ties by run id), keeping only those whose name, method, model, data or status
 * contains `query` (case-insensitive; an empty query keeps all).
 */
export function sortAndFilterRuns(
  rows: readonly TableRun[],
  sort: RunSort,
  query: string,
): TableRun[] {
  const q = query.trim().toLowerCase();
  const withFigures = rows.map((row) => ({ row, f: runFigures(row) }));
  const kept = q
    ? withFigures.filter(({ row, f }) =>
        [row.run.name, f.method, f.model, f.data, row.run.status].some((t) =>
          t.toLowerCase().includes(q),
        ),
      )
    : withFigures;
  const sign = sort.descending ? -1 : 1;
  return kept
    .sort((a, b) => {
      const va = sortValue(a.row, a.f, sort.key);
      const vb = sortValue(b.row, b.f, sort.key);
      const aMissing = va === null || (typeof va === 'number' && Number.isNaN(va));
      const bMissing = vb === null || (typeof vb === 'number' && Number.isNaN(vb));
      if (aMissing || bMissing) {
        if (aMissing && bMissing) return a.row.run.id - b.row.run.id;
        return aMissing ? 1 : -1;
      }
      const c =
        typeof va === 'number' && typeof vb === 'number'
          ? va - vb
          : String(va).localeCompare(String(vb));
      return c !== 0 ? sign * c : a.row.run.id - b.row.run.id;
    })
    .map(({ row }) => row);
}
