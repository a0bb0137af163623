/**
 * Compare finished runs of one task (of this page or restored from storage): size against test
 * quality with the Pareto front (click a point to open its run) and the validation curves of the
 * runs ticked in the runs table overlaid. Click-through runs are compared on test AUC, next-item
 * runs on a test ranking metric (MRR@20 unless another is picked): the two never share a chart.
 * Shown once two runs of a task have finished; the task on screen is compared first. The opened
 * run's card is RunDetail.
 */
import { useMemo, useState } from 'react';
import { isFinishedRun, isFinishedSeqRun, useLabStore, type LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { useSeqStore } from '../state/seqStore';
import type { LabTask } from '../state/seqForm';
import {
  compareTaskOf,
  ctrCompareRuns,
  ctrCurveLines,
  CTR_QUALITY,
  CTR_SIZE_AXES,
  seqCompareRuns,
  seqCurveLines,
  seqQuality,
  SEQ_SIZE_AXES,
  type RankingMetricKey,
} from '../state/compareRuns';
import { RANKING_METRIC_KEYS, RANKING_METRIC_LABELS } from '../../workers/sequence/seqProtocol';
import { ParetoChart } from '../charts/ParetoChart';
import { CompareCurvesChart } from '../charts/CompareCurvesChart';
import { MountWhenIdle } from './MountWhenIdle';

const selectHistory = (s: LabState) => s.history;
const selectSeqHistory = (s: LabState) => s.seqHistory;
const selectSelectedRunId = (s: LabState) => s.selectedRunId;
const selectComparedRunIds = (s: LabState) => s.comparedRunIds;
const selectOpenRun = (s: LabState) => s.openRun;

const TASK_NOUN: Record<LabTask, string> = { ctr: 'click-through', seq: 'next-item' };

export function ComparePanel() {
  const all = useDeferredLabStore(selectHistory);
  const allSeq = useDeferredLabStore(selectSeqHistory);
  const selectedRunId = useLabStore(selectSelectedRunId);
  const comparedIds = useLabStore(selectComparedRunIds);
  const openRun = useLabStore(selectOpenRun);
  const shownTask = useSeqStore((s) => s.task);
  const [picked, setPicked] = useState<LabTask | null>(null);
  const [metric, setMetric] = useState<RankingMetricKey>('mrr20');
  const ctrRuns = useMemo(() => all.filter(isFinishedRun), [all]);
  const seqRuns = useMemo(() => allSeq.filter(isFinishedSeqRun), [allSeq]);
  const finished = { ctr: ctrRuns.length, seq: seqRuns.length };
  const task = compareTaskOf(shownTask, picked, finished);
  const view = useMemo(() => {
    const ticked = (id: number) => comparedIds.includes(id);
    if (task === 'seq') {
      return {
        runs: seqCompareRuns(seqRuns, metric),
        lines: seqCurveLines(
          seqRuns.filter((r) => ticked(r.id)),
          metric,
        ),
        axes: SEQ_SIZE_AXES,
        quality: seqQuality(metric),
        curveLabel: `validation ${RANKING_METRIC_LABELS[metric]}`,
      };
    }
    return {
      runs: ctrCompareRuns(ctrRuns),
      lines: ctrCurveLines(ctrRuns.filter((r) => ticked(r.id))),
      axes: CTR_SIZE_AXES,
      quality: CTR_QUALITY,
      curveLabel: 'validation AUC',
    };
  }, [task, ctrRuns, seqRuns, comparedIds, metric]);
  if (task === null) return null;
  const both = finished.ctr >= 2 && finished.seq >= 2;
  return (
    <section className="compare-panel" data-testid="compare-panel" data-task={task}>
      <h2>
        Compare runs{' '}
        <small>
          {finished[task]} finished {TASK_NOUN[task]} runs
          {task === 'seq' ? ' (compared with next-item runs only: MRR is not AUC)' : ''}
        </small>
      </h2>
      {(both || task === 'seq') && (
        <div className="chart-controls">
          {both && (
            <label>
              runs{' '}
              <select
                data-testid="compare-task"
                value={task}
                onChange={(e) => setPicked(e.target.value as LabTask)}
              >
                <option value="ctr">click-through ({finished.ctr})</option>
                <option value="seq">next-item ({finished.seq})</option>
              </select>
            </label>
          )}
          {task === 'seq' && (
            <label>
              metric{' '}
              <select
                data-testid="compare-metric"
                value={metric}
                onChange={(e) => setMetric(e.target.value as RankingMetricKey)}
              >
                {RANKING_METRIC_KEYS.map((k) => (
                  <option key={k} value={k}>
                    {RANKING_METRIC_LABELS[k]}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
      )}
      <div className="chart-grid">
        <MountWhenIdle height={360} label="pareto">
          <ParetoChart
            key={task}
            runs={view.runs}
            axes={view.axes}
            quality={view.quality}
            selectedRunId={selectedRunId}
            onOpen={openRun}
          />
        </MountWhenIdle>
        <section className="chart-card" data-testid="compare-curves-card">
          <h3>
            Compare curves{' '}
            <small>{view.curveLabel} over training steps of the runs ticked in the table</small>
          </h3>
          {view.lines.length === 0 ? (
            <div className="chart-empty">
              Tick finished {TASK_NOUN[task]} runs in the Runs table to overlay their{' '}
              {view.curveLabel} curves.
            </div>
          ) : (
            <CompareCurvesChart runs={view.lines} yLabel={view.curveLabel} />
          )}
        </section>
      </div>
    </section>
  );
}
