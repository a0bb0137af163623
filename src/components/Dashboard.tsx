import { ModelSummaryCard } from './ModelSummaryCard';
import { formatDuration } from '../state/seqFigures';
import { useLabStore, type LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { LossChart } from '../charts/LossChart';
import { ValidationChart } from '../charts/ValidationChart';
import { CardinalityChart } from '../charts/CardinalityChart';
import { MountWhenIdle } from './MountWhenIdle';
import { formatBytes, formatCount, formatMetric } from '../format';
import { DatasetSummaryPanel } from './DatasetSummaryPanel';
import { MethodCharts } from '../charts/MethodCharts';
import { ComparePanel } from './ComparePanel';
import { ExportButton, RunHistoryPanel } from './RunHistoryPanel';
import { OpenedRun } from './RunDetail';
import { LiveSnapshots } from './RunSnapshots';
import { FieldRoleSwatches } from '../charts/FieldRoleSwatches';

const selectRun = (s: LabState) => s.run;
const selectTest = (s: LabState) => s.run.test;
const selectResult = (s: LabState) => s.run.result;
const selectRunId = (s: LabState) => s.run.id;
const selectBayes = (s: LabState) => s.run.dataset?.bayesTestAuc ?? null;

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
      {run.etaSeconds !== null && run.state === 'running' && (
        <div>
          ETA <span data-testid="run-eta">{formatDuration(run.etaSeconds)}</span>
        </div>
      )}
      {run.aside?.state === 'running' && (
        <div data-testid="aside-status">
          <strong>{run.aside.label}</strong>: step {run.aside.stepsDone}/{run.aside.plannedSteps}{' '}
          <span className="muted">(the run stays paused at step {run.aside.pausedAt})</span>
        </div>
      )}
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
        Field cardinality (log scale): <FieldRoleSwatches />
      </p>
      <MountWhenIdle height={180} label="cardinality">
        <CardinalityChart summary={summary} />
      </MountWhenIdle>
    </section>
  );
}

function TestPanel() {
  const test = useDeferredLabStore(selectTest);
  const result = useDeferredLabStore(selectResult);
  const bayes = useDeferredLabStore(selectBayes);
  const runId = useDeferredLabStore(selectRunId);
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
                <ExportButton runId={result.runId} label={result.method.id} historyId={runId} />
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
      <LiveSnapshots />
      <TestPanel />
      <DatasetPanel />
      <RunHistoryPanel />
      <ComparePanel />
      <OpenedRun />
    </main>
  );
}
