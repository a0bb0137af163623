/**
 * Compare finished runs (of this page or restored from storage): size against test AUC with the
 * Pareto front (click a point to open its run) and the validation curves of the runs ticked in
 * the runs table overlaid. Shown once two runs have finished; the opened run's card is RunDetail.
 */
import { useMemo } from 'react';
import { isFinishedRun, useLabStore, type LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { ParetoChart } from '../charts/ParetoChart';
import { CompareCurvesChart } from '../charts/CompareCurvesChart';
import { MountWhenIdle } from './MountWhenIdle';

const selectHistory = (s: LabState) => s.history;
const selectSelectedRunId = (s: LabState) => s.selectedRunId;
const selectComparedRunIds = (s: LabState) => s.comparedRunIds;
const selectOpenRun = (s: LabState) => s.openRun;

export function ComparePanel() {
  const all = useDeferredLabStore(selectHistory);
  const selectedRunId = useLabStore(selectSelectedRunId);
  const comparedIds = useLabStore(selectComparedRunIds);
  const openRun = useLabStore(selectOpenRun);
  const history = useMemo(() => all.filter(isFinishedRun), [all]);
  const compared = useMemo(
    () => history.filter((h) => comparedIds.includes(h.id)),
    [history, comparedIds],
  );
  if (history.length < 2) return null;
  return (
    <section className="compare-panel" data-testid="compare-panel">
      <h2>
        Compare runs <small>{history.length} finished runs</small>
      </h2>
      <div className="chart-grid">
        <MountWhenIdle height={360}>
          <ParetoChart runs={history} selectedRunId={selectedRunId} onOpen={openRun} />
        </MountWhenIdle>
        <section className="chart-card" data-testid="compare-curves-card">
          <h3>
            Compare curves{' '}
            <small>validation AUC over training steps of the runs ticked in the table</small>
          </h3>
          {compared.length === 0 ? (
            <div className="chart-empty">
              Tick finished runs in the Runs table to overlay their validation AUC curves.
            </div>
          ) : (
            <CompareCurvesChart runs={compared} />
          )}
        </section>
      </div>
    </section>
  );
}
