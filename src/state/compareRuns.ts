/**
 * What the Compare panel draws, from the finished runs of one task: a point per run (its sizes on
 * each axis and its quality: test AUC for click-through runs, a test ranking metric for next-item
 * runs) and a validation curve per ticked run. Runs of the two tasks are never on one chart (AUC
 * and MRR are not on one axis). Pure (no React, no tfjs), so the unit tests run it in Node.
 */
import { RANKING_METRIC_KEYS, RANKING_METRIC_LABELS } from '../../workers/sequence/seqProtocol';
import type { FinishedRun, FinishedSeqRun } from './labStore';
import type { ParetoPoint } from './pareto';
import type { LabTask } from './seqForm';
import { testAucOf } from './runSummary';
import { seqMethodKey, seqMethodLabel, seqModelBytes, seqRunFlops } from './seqRunSummary';
import { formatBytes, formatCount } from '../format';

export type SizeAxis = 'params' | 'bytes' | 'flops';
export type RankingMetricKey = (typeof RANKING_METRIC_KEYS)[number];

export interface SizeAxisSpec {
  id: SizeAxis;
  label: string;
  /** The axis title, with its unit. */
  title: string;
  format(v: number): string;
}

const PARAMS_AXIS: SizeAxisSpec = {
  id: 'params',
  label: 'parameters',
  title: 'parameters as stored (count)',
  format: formatCount,
};

export const CTR_SIZE_AXES: readonly SizeAxisSpec[] = [
  PARAMS_AXIS,
  { id: 'bytes', label: 'bytes', title: 'model size as stored (bytes)', format: formatBytes },
  {
    id: 'flops',
    label: 'FLOPs per example',
    title: 'FLOPs per example (count)',
    format: formatCount,
  },
];

export const SEQ_SIZE_AXES: readonly SizeAxisSpec[] = [
  { ...PARAMS_AXIS, title: 'parameters (count)' },
  { id: 'bytes', label: 'bytes', title: 'model size, float32 (bytes)', format: formatBytes },
  {
    id: 'flops',
    label: 'FLOPs per sequence',
    title: 'FLOPs to score one sequence over all items (count)',
    format: formatCount,
  },
];

/** The quality a chart plots, e.g. "test AUC" or "test MRR@20". */
export interface QualitySpec {
  label: string;
}

export const CTR_QUALITY: QualitySpec = { label: 'test AUC' };

export function seqQuality(metric: RankingMetricKey): QualitySpec {
  return { label: `test ${RANKING_METRIC_LABELS[metric]}` };
}

/** One finished run on the compare charts. */
export interface CompareRun {
  id: number;
  /** Colours the point (a compression method, or NextItNet / CpRec with its sharing). */
  methodId: string;
  methodLabel: string;
  sizes: Record<SizeAxis, number>;
  /** Higher is better (NaN: not scored on the test split). */
  quality: number;
}

export function ctrCompareRuns(runs: readonly FinishedRun[]): CompareRun[] {
  return runs.map((r) => ({
    id: r.id,
    methodId: r.result.method.id,
    methodLabel: r.result.method.label,
    sizes: {
      params: r.result.model.totalParams,
      bytes: r.result.model.totalBytes,
      flops: r.result.model.flopsPerExample,
    },
    quality: testAucOf(r.result),
  }));
}

/** Next-item runs: parameters, float32 bytes and FLOPs per sequence against a test metric. */
export function seqCompareRuns(
  runs: readonly FinishedSeqRun[],
  metric: RankingMetricKey,
): CompareRun[] {
  return runs.map((r) => ({
    id: r.id,
    methodId: seqMethodKey(r.config),
    methodLabel: seqMethodLabel(r.config),
    sizes: {
      params: r.result.params.total,
      bytes: seqModelBytes(r.result.params.total),
      flops: seqRunFlops(r.result, r.dataset),
    },
    quality: r.result.test?.[metric] ?? Number.NaN,
  }));
}

/** A run as a point of the Pareto front on one size axis. */
export interface RunPoint extends ParetoPoint {
  methodId: string;
  methodLabel: string;
}

export function paretoPointsOf(runs: readonly CompareRun[], axis: SizeAxis): RunPoint[] {
  return runs.map((r) => ({
    id: r.id,
    size: r.sizes[axis],
    auc: r.quality,
    methodId: r.methodId,
    methodLabel: r.methodLabel,
  }));
}

/** One ticked run's validation curve. */
export interface CurveLine {
  id: number;
  name: string;
  methodId: string;
  data: { step: number; value: number }[];
}

export function ctrCurveLines(runs: readonly FinishedRun[]): CurveLine[] {
  return runs.map((r) => ({
    id: r.id,
    name: `#${r.id} ${r.result.method.label}`,
    methodId: r.result.method.id,
    // The run's own curve: a snapshot retrained while it was paused is a branch of its own.
    data: r.result.evaluations
      .filter((e) => e.pausedAt === undefined)
      .map((e) => ({ step: e.step, value: e.validationAuc })),
  }));
}

export function seqCurveLines(
  runs: readonly FinishedSeqRun[],
  metric: RankingMetricKey,
): CurveLine[] {
  return runs.map((r) => ({
    id: r.id,
    name: `#${r.id} ${seqMethodLabel(r.config)}`,
    methodId: seqMethodKey(r.config),
    data: r.result.evaluations.map((e) => ({ step: e.step, value: e.validation[metric] })),
  }));
}

/**
 * Which task's runs the Compare panel shows: the one picked (when it has two finished runs),
 * else the task on screen when it has, else the other task when it has; null: neither has two.
 */
export function compareTaskOf(
  shown: LabTask,
  picked: LabTask | null,
  finished: Record<LabTask, number>,
): LabTask | null {
  const other: LabTask = shown === 'ctr' ? 'seq' : 'ctr';
  for (const task of [picked, shown, other]) {
    if (task !== null && finished[task] >= 2) return task;
  }
  return null;
}
