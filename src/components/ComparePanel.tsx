/**
 * Compare finished runs: size against test AUC with the Pareto front (click a point to open its
 * run), the validation curves of the runs ticked in the Finished runs table overlaid, and the card
 * of the opened run. Shown once two runs have finished.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useLabStore, type FinishedRun, type LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import {
  bestValidationAuc,
  methodOptionsSummary,
  testAucOf,
  trainingBudget,
} from '../state/runSummary';
import { ParetoChart } from '../charts/ParetoChart';
import { CompareCurvesChart } from '../charts/CompareCurvesChart';
import { ValidationChartView } from '../charts/ValidationChart';
import { MountWhenIdle } from './MountWhenIdle';
import { formatBytes, formatCount, formatMetric } from '../format';

const selectHistory = (s: LabState) => s.history;
const selectSelectedRunId = (s: LabState) => s.selectedRunId;
const selectComparedRunIds = (s: LabState) => s.comparedRunIds;
const selectOpenRun = (s: LabState) => s.openRun;

export function ComparePanel() {
  const history = useDeferredLabStore(selectHistory);
  const selectedRunId = useLabStore(selectSelectedRunId);
  const comparedIds = useLabStore(selectComparedRunIds);
  const openRun = useLabStore(selectOpenRun);
  const compared = useMemo(
    () => history.filter((h) => comparedIds.includes(h.id)),
    [history, comparedIds],
  );
  if (history.length < 2) return null;
  const selected = history.find((h) => h.id === selectedRunId) ?? null;
  return (
    <section className="compare-panel" data-testid="compare-panel">
      <h2>
        Compare runs <small>{history.length} finished runs in this session</small>
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
              Tick runs in the Finished runs table to overlay their validation AUC curves.
            </div>
          ) : (
            <CompareCurvesChart runs={compared} />
          )}
        </section>
      </div>
      {selected && <RunDetail run={selected} onClose={() => openRun(null)} />}
    </section>
  );
}

/** The opened run: its settings, its figures and its validation curve. */
function RunDetail({ run, onClose }: { run: FinishedRun; onClose(): void }) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [run.id]);
  const { config, result } = run;
  const train = config.train;
  const options = methodOptionsSummary(config);
  const ended = result.stopReason ?? (result.stoppedEarly ? 'stopped by the user' : null);
  return (
    <section ref={ref} className="run-detail" data-testid="run-detail" data-run-id={run.id}>
      <div className="chart-grid">
        <section className="chart-card">
          <h3>
            <span data-testid="run-detail-title">Run #{run.id}</span>
            <small>
              {result.method.label} · {train.model} · dim {train.embeddingDim}
            </small>{' '}
            <button
              type="button"
              className="link-button"
              data-testid="run-detail-close"
              onClick={onClose}
            >
              close
            </button>
          </h3>
          <table className="metrics">
            <tbody>
              <tr>
                <th>model</th>
                <td data-testid="run-detail-model">{train.model}</td>
                <td className="muted">
                  embedding dim {train.embeddingDim}
                  {train.model !== 'fm' && train.mlpLayers.length > 0
                    ? ` · MLP ${train.mlpLayers.join('-')}`
                    : ''}{' '}
                  · {config.source === 'synthetic' ? 'synthetic slice' : 'loaded data'}
                </td>
              </tr>
              <tr>
                <th>method</th>
                <td data-testid="run-detail-method">{result.method.label}</td>
                <td className="muted" data-testid="run-detail-options">
                  {options || 'no options'}
                </td>
              </tr>
              <tr>
                <th>training</th>
                <td colSpan={2}>
                  {trainingBudget(config)} · batch {train.batchSize} · lr {train.learningRate} ·
                  seed {train.seed}
                  {ended && <span className="muted"> · ended early: {ended}</span>}
                </td>
              </tr>
              <tr>
                <th>parameters</th>
                <td data-testid="run-detail-params">{formatCount(result.model.totalParams)}</td>
                <td className="muted">
                  {result.model.parts.map((p) => `${p.part} ${formatCount(p.params)}`).join(' · ')}
                </td>
              </tr>
              <tr>
                <th>stored size</th>
                <td data-testid="run-detail-bytes">{formatBytes(result.model.totalBytes)}</td>
                <td />
              </tr>
              <tr>
                <th>FLOPs</th>
                <td data-testid="run-detail-flops">{formatCount(result.model.flopsPerExample)}</td>
                <td className="muted">per example</td>
              </tr>
              <tr>
                <th>best val AUC</th>
                <td data-testid="run-detail-best-val-auc">
                  {formatMetric(bestValidationAuc(result))}
                </td>
                <td className="muted">the evaluation whose weights the run kept</td>
              </tr>
              <tr>
                <th>test AUC</th>
                <td data-testid="run-detail-test-auc">{formatMetric(testAucOf(result))}</td>
                <td />
              </tr>
              <tr>
                <th>steps</th>
                <td data-testid="run-detail-steps">{result.steps}</td>
                <td className="muted">{result.msPerStep.toFixed(1)} ms/step</td>
              </tr>
            </tbody>
          </table>
        </section>
        <div data-testid="run-detail-curve">
          <ValidationChartView evaluations={result.evaluations} bayes={result.bayesTestAuc} />
        </div>
      </div>
    </section>
  );
}
