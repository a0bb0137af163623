/**
 * The run opened from the runs table or the Pareto chart: its settings, its figures, and its
 * validation and loss curves, drawn from what the run kept (a restored or interrupted run too).
 */
import { useEffect, useRef } from 'react';
import { useLabStore, type HistoryRun, type LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import {
  bestValidationAuc,
  methodOptionsSummary,
  testAucOf,
  trainingBudget,
} from '../state/runSummary';
import { ValidationChartView } from '../charts/ValidationChart';
import { LossChartView } from '../charts/LossChart';
import { formatBytes, formatCount, formatMetric } from '../format';
import { methodSpecOf } from '../methods/catalog';
import { SeqRunDetail } from './SeqRunDetail';
import { RunSnapshots } from './RunSnapshots';

const selectHistory = (s: LabState) => s.history;
const selectSeqHistory = (s: LabState) => s.seqHistory;
const selectSelectedRunId = (s: LabState) => s.selectedRunId;

/** The opened run's card (of either task), when a run of the table is open. */
export function OpenedRun() {
  const history = useDeferredLabStore(selectHistory);
  const seqHistory = useDeferredLabStore(selectSeqHistory);
  const selectedRunId = useLabStore(selectSelectedRunId);
  const openRun = useLabStore((s) => s.openRun);
  const close = () => openRun(null);
  const selected = history.find((h) => h.id === selectedRunId) ?? null;
  if (selected) return <RunDetail run={selected} onClose={close} />;
  const seq = seqHistory.find((h) => h.id === selectedRunId) ?? null;
  return seq ? <SeqRunDetail run={seq} onClose={close} /> : null;
}

function RunDetail({ run, onClose }: { run: HistoryRun; onClose(): void }) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [run.id]);
  const { config, result } = run;
  const train = config.train;
  const options = methodOptionsSummary(config);
  const methodLabel =
    result?.method.label ?? methodSpecOf(config.method.id)?.label ?? config.method.id;
  const ended = result
    ? (result.stopReason ?? (result.stoppedEarly ? 'stopped by the user' : null))
    : null;
  const evaluations = result?.evaluations ?? run.evaluations;
  const points = run.lossPoints;
  return (
    <section
      ref={ref}
      className="run-detail"
      data-testid="run-detail"
      data-run-id={run.id}
      data-status={run.status}
    >
      <div className="chart-grid">
        <section className="chart-card">
          <h3>
            <span data-testid="run-detail-title">Run #{run.id}</span>
            <small>
              {run.name} · {methodLabel} · {train.model} · dim {train.embeddingDim}
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
                <th>status</th>
                <td data-testid="run-detail-status">{run.status}</td>
                <td className="muted">
                  started {new Date(run.createdAt).toLocaleString()}
                  {run.restored ? ' · restored from this browser’s storage' : ''}
                  {run.error ? ` · ${run.error}` : ''}
                </td>
              </tr>
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
                <td data-testid="run-detail-method">{methodLabel}</td>
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
              {result && (
                <>
                  <tr>
                    <th>parameters</th>
                    <td data-testid="run-detail-params">{formatCount(result.model.totalParams)}</td>
                    <td className="muted">
                      {result.model.parts
                        .map((p) => `${p.part} ${formatCount(p.params)}`)
                        .join(' · ')}
                    </td>
                  </tr>
                  <tr>
                    <th>stored size</th>
                    <td data-testid="run-detail-bytes">{formatBytes(result.model.totalBytes)}</td>
                    <td />
                  </tr>
                  <tr>
                    <th>FLOPs</th>
                    <td data-testid="run-detail-flops">
                      {formatCount(result.model.flopsPerExample)}
                    </td>
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
                </>
              )}
              <tr>
                <th>steps</th>
                <td data-testid="run-detail-steps">{result?.steps ?? run.stepsDone}</td>
                <td className="muted">
                  {result
                    ? `${result.msPerStep.toFixed(1)} ms/step`
                    : 'steps done before it ended (the curves below go up to the last save)'}
                </td>
              </tr>
            </tbody>
          </table>
        </section>
        <div data-testid="run-detail-curve">
          <ValidationChartView evaluations={evaluations} bayes={result?.bayesTestAuc ?? null} />
        </div>
      </div>
      <RunSnapshots run={run} />
      <div className="chart-grid" data-testid="run-detail-loss-curve">
        <LossChartView
          testId="run-detail-loss"
          points={points}
          firstLoss={points[0]?.loss ?? Number.NaN}
          lastLoss={points.at(-1)?.loss ?? Number.NaN}
        />
      </div>
    </section>
  );
}
