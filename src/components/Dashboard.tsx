import { useEffect, useRef } from 'react';
import { ModelSummaryCard } from './ModelSummaryCard';
import { useLabStore, type LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { LossChart } from '../charts/LossChart';
import { ValidationChart } from '../charts/ValidationChart';
import { CardinalityChart } from '../charts/CardinalityChart';
import { MountWhenIdle } from './MountWhenIdle';
import { formatBytes, formatCount, formatMetric } from '../format';
import { DatasetSummaryPanel } from './DatasetSummaryPanel';
import { MethodCharts } from '../charts/MethodCharts';
import { runController } from '../state/runController';
import { bestValidationAuc } from '../state/runSummary';
import { ComparePanel } from './ComparePanel';

const selectRun = (s: LabState) => s.run;
const selectTest = (s: LabState) => s.run.test;
const selectResult = (s: LabState) => s.run.result;
const selectBayes = (s: LabState) => s.run.dataset?.bayesTestAuc ?? null;
const selectHistory = (s: LabState) => s.history;

function RunStatus() {
  const run = useDeferredLabStore(selectRun);
  const pct = run.totalSteps > 0 ? Math.min(100, (100 * run.stepsDone) / run.totalSteps) : 0;
  return (
    <section className="run-status">
      <div>
        state <strong data-testid="run-state">{run.state}</strong>
      </div>
      <div>
        epoch {run.epoch} · step <span data-testid="run-step">{run.stepsDone}</span> /{' '}
        {run.totalSteps}
      </div>
      {run.phases.length > 0 && (
        <div data-testid="run-phase">
          phase {run.phases.at(-1)!.index + 1}/{run.phases.at(-1)!.count}{' '}
          <strong>{run.phases.at(-1)!.label}</strong>
        </div>
      )}
      <div>{run.msPerStep > 0 ? `${run.msPerStep.toFixed(1)} ms/step` : ''}</div>
      <progress max={100} value={pct} aria-label="training progress" />
      {run.error && <div className="run-error">{run.error}</div>}
      {run.result?.stopReason && (
        <div className="run-error" data-testid="run-stop-reason">
          {run.result.stopReason}
        </div>
      )}
    </section>
  );
}

const selectDataset = (s: LabState) => s.dataPreview;

function DatasetPanel() {
  const summary = useDeferredLabStore(selectDataset);
  const source = useLabStore((s) => s.form['source']);
  if (!summary || source !== 'synthetic') return null;
  return (
    <section className="chart-card" data-testid="dataset-panel">
      <h3>
        Data slice{' '}
        <small>
          {formatCount(summary.numRows)} rows · {summary.numFields} fields ·{' '}
          {formatCount(summary.totalVocabulary)} features · click rate{' '}
          {(100 * summary.labelMean).toFixed(1)}% · split {summary.splitSizes.train}/
          {summary.splitSizes.validation}/{summary.splitSizes.test}
          {summary.bayesTestAuc !== null && (
            <>
              {' '}
              · Bayes AUC <span data-testid="bayes-auc">{formatMetric(summary.bayesTestAuc)}</span>
            </>
          )}
        </small>
      </h3>
      <p className="legend-note">
        Field cardinality (log scale): <span className="swatch informative" /> informative{' '}
        <span className="swatch noise" /> pure noise <span className="swatch redundant" /> redundant
        copy
      </p>
      <MountWhenIdle height={180}>
        <CardinalityChart summary={summary} />
      </MountWhenIdle>
    </section>
  );
}

function TestPanel() {
  const test = useDeferredLabStore(selectTest);
  const result = useDeferredLabStore(selectResult);
  const bayes = useDeferredLabStore(selectBayes);
  if (!test) return null;
  return (
    <section className="chart-card" data-testid="test-panel">
      <h3>Test split</h3>
      <table className="metrics">
        <tbody>
          <tr>
            <th>AUC</th>
            <td data-testid="test-auc">{formatMetric(test.auc)}</td>
            {bayes !== null && (
              <td className="muted">
                {((100 * (test.auc - 0.5)) / Math.max(1e-9, bayes - 0.5)).toFixed(0)}% of the way
                from 0.5 to the Bayes AUC {formatMetric(bayes)}
              </td>
            )}
          </tr>
          <tr>
            <th>logloss</th>
            <td>{formatMetric(test.logloss)}</td>
          </tr>
          <tr>
            <th>accuracy</th>
            <td>{formatMetric(test.accuracy)}</td>
          </tr>
          <tr>
            <th>calibration</th>
            <td>{formatMetric(test.calibration, 3)}</td>
            <td className="muted">mean prediction / click rate (1 = calibrated on average)</td>
          </tr>
          <tr>
            <th>per-batch AUC</th>
            <td data-testid="test-per-batch-auc">{formatMetric(test.meanPerBatchAuc)}</td>
            <td className="muted">
              mean of AUCs over test batches of 1024: the figure the official PEP code reports
              (compare with papers; the lab selects and reports on global AUC)
            </td>
          </tr>
          {result?.bestEpoch !== null && result?.bestEpoch !== undefined && (
            <tr>
              <th>model used</th>
              <td data-testid="best-epoch">
                epoch {result.bestEpoch}
                {result.bestStep !== null && !Number.isInteger(result.bestEpoch)
                  ? ` (step ${result.bestStep})`
                  : ''}
              </td>
              <td className="muted">
                best validation AUC{result.stoppedByPatience ? '; stopped early (patience)' : ''}
                {result.bestStep !== result.evaluations.at(-1)?.step
                  ? '; its weights were restored'
                  : ''}
              </td>
            </tr>
          )}
          {result && (
            <tr>
              <th>parameters</th>
              <td data-testid="test-params">{formatCount(result.model.totalParams)}</td>
              <td className="muted">
                {result.model.parts.map((p) => `${p.part} ${formatCount(p.params)}`).join(' · ')}
              </td>
            </tr>
          )}
          {result && (
            <tr>
              <th>model file</th>
              <td colSpan={2}>
                <ExportButton runId={result.runId} label={result.method.id} />
              </td>
            </tr>
          )}
          {result && (
            <tr>
              <th>stored size</th>
              <td data-testid="test-bytes">{formatBytes(result.model.totalBytes)}</td>
              <td className="muted">
                embedding{' '}
                {formatCount(
                  result.model.parts
                    .filter((p) => p.part === 'embedding')
                    .reduce((a, p) => a + p.params, 0),
                )}{' '}
                of {formatCount(result.model.denseEmbeddingParams)} dense parameters (
                {(
                  (100 *
                    result.model.parts
                      .filter((p) => p.part === 'embedding')
                      .reduce((a, p) => a + p.params, 0)) /
                  Math.max(1, result.model.denseEmbeddingParams)
                ).toFixed(1)}
                %); {result.method.label}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

/** Downloads a finished run's model file, while the engine still holds the model. */
function ExportButton({ runId, label }: { runId: number; label: string }) {
  const kept = useLabStore((s) => s.keptRuns.some((r) => r.runId === runId));
  if (!kept) return <span className="muted">freed</span>;
  return (
    <button
      type="button"
      data-testid={`export-run-${runId}`}
      onClick={() => void runController.exportRun(runId, `model-${label}-run${runId}.json`)}
    >
      Export
    </button>
  );
}

const selectSelectedRunId = (s: LabState) => s.selectedRunId;
const selectComparedRunIds = (s: LabState) => s.comparedRunIds;

function RunHistory() {
  const history = useDeferredLabStore(selectHistory);
  const selectedRunId = useLabStore(selectSelectedRunId);
  const comparedIds = useLabStore(selectComparedRunIds);
  const openRun = useLabStore((s) => s.openRun);
  const toggleCompared = useLabStore((s) => s.toggleCompared);
  const scrollRef = useRef<HTMLDivElement>(null);
  // The opened run's row is scrolled into view within the table (the page scrolls to its card).
  useEffect(() => {
    const wrap = scrollRef.current;
    const row = wrap?.querySelector<HTMLElement>(`tr[data-run-id="${selectedRunId}"]`);
    if (!wrap || !row) return;
    const box = wrap.getBoundingClientRect();
    const head = wrap.querySelector('thead')?.getBoundingClientRect().height ?? 0;
    const r = row.getBoundingClientRect();
    if (r.top < box.top + head) wrap.scrollTop -= box.top + head - r.top;
    else if (r.bottom > box.bottom) wrap.scrollTop += r.bottom - box.bottom;
  }, [selectedRunId]);
  if (history.length === 0) return null;
  // Opening and comparing runs happens in the Compare panel, shown from two runs on.
  const comparable = history.length >= 2;
  return (
    <section className="chart-card" data-testid="run-history">
      <h3>
        Finished runs
        {comparable && <small>tick runs to overlay their curves; click # to open a run</small>}
      </h3>
      <div className="run-history-scroll" ref={scrollRef}>
        <table className="metrics">
          <thead>
            <tr>
              {comparable && <th>compare</th>}
              <th>#</th>
              <th>method</th>
              <th>model</th>
              <th>dim</th>
              <th>lr</th>
              <th>steps</th>
              <th>params</th>
              <th>bytes</th>
              <th>best val AUC</th>
              <th>test AUC</th>
              <th>ms/step</th>
              <th>model</th>
            </tr>
          </thead>
          <tbody>
            {history.map((h) => (
              <tr
                key={h.id}
                data-testid={`history-row-${h.id}`}
                data-run-id={h.id}
                data-selected={h.id === selectedRunId}
                className={h.id === selectedRunId ? 'selected' : undefined}
              >
                {comparable && (
                  <td>
                    <input
                      type="checkbox"
                      data-testid={`compare-run-${h.id}`}
                      aria-label={`Compare run #${h.id}`}
                      checked={comparedIds.includes(h.id)}
                      onChange={() => toggleCompared(h.id)}
                    />
                  </td>
                )}
                <td>
                  {comparable ? (
                    <button
                      type="button"
                      className="link-button"
                      data-testid={`history-open-${h.id}`}
                      aria-label={`Open run #${h.id}`}
                      onClick={() => openRun(h.id)}
                    >
                      {h.id}
                    </button>
                  ) : (
                    h.id
                  )}
                </td>
                <td>{h.result.method.label}</td>
                <td>{h.config.train.model}</td>
                <td>{h.config.train.embeddingDim}</td>
                <td>{h.config.train.learningRate}</td>
                <td>{h.result.steps}</td>
                <td data-testid={`history-params-${h.id}`}>
                  {formatCount(h.result.model.totalParams)}
                </td>
                <td>{formatBytes(h.result.model.totalBytes)}</td>
                <td title="validation AUC of the model the run kept (its last phase's best)">
                  {formatMetric(bestValidationAuc(h.result))}
                </td>
                <td data-testid={`history-test-auc-${h.id}`}>{formatMetric(h.result.test?.auc)}</td>
                <td>{h.result.msPerStep.toFixed(1)}</td>
                <td>
                  <ExportButton
                    runId={h.result.runId}
                    label={`${h.result.method.id}-${h.config.train.model}`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function Dashboard() {
  return (
    <main className="dashboard">
      <RunStatus />
      <ModelSummaryCard />
      <DatasetSummaryPanel />
      <div className="chart-grid">
        <LossChart />
        <ValidationChart />
      </div>
      <MethodCharts />
      <TestPanel />
      <DatasetPanel />
      <RunHistory />
      <ComparePanel />
    </main>
  );
}
