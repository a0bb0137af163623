/**
 * The snapshots a run took (PEP: one at each target sparsity): when, how sparse, the validation
 * AUC then, the retrained model's AUCs, a "sizes" view per snapshot (the mean non-zero
 * dimensions of each field's features, as bars), and an Export per snapshot that downloads its
 * model file while the engine still holds the run. In a finished run's card (RunSnapshots) and,
 * for the run in progress, on the dashboard (LiveSnapshots), where "Retrain now" retrains a
 * snapshot while the run is paused in a phase that allows it (PEP's pruning).
 */
import { Fragment, useState, type ReactNode } from 'react';
import type { AsideProgress, DatasetSummary } from '../../workers/protocol';
import { useLabStore, type HistoryRun, type LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { runController } from '../state/runController';
import {
  liveSnapshotRows,
  snapshotFileName,
  snapshotRows,
  type SnapshotRow,
} from '../state/runSnapshots';
import { formatCount, formatMetric } from '../format';
import { SnapshotSizesChart } from '../charts/SnapshotSizesChart';

/** Retrain now, for the run in progress. */
interface RetrainNow {
  /** Why it is off now (null: it can be pressed). */
  disabledWhy: string | null;
  /** The retrain running (or last run) while the run is paused. */
  aside: AsideProgress | null;
}

/** Exports snapshot `row` of the kept run `runId` as a model file. */
function SnapshotExport({
  testId,
  runId,
  fileName,
  row,
}: {
  testId: string;
  runId: number;
  fileName: string;
  row: SnapshotRow;
}) {
  return (
    <button
      type="button"
      data-testid={testId}
      title={
        row.retrained
          ? 'the retrained model of this snapshot (its best validation weights)'
          : 'the model as it was at this snapshot (not retrained)'
      }
      onClick={() => void runController.exportSnapshot(runId, row.number, fileName)}
    >
      Export
    </button>
  );
}

function SnapshotTable({
  prefix,
  title,
  rows,
  dim,
  dataset,
  exportCell,
  retrainNow,
}: {
  /** Prefix of every test id ('' in a run's card, 'live-' on the dashboard). */
  prefix: string;
  title: ReactNode;
  rows: SnapshotRow[];
  dim: number;
  dataset: DatasetSummary | null;
  exportCell(row: SnapshotRow): ReactNode;
  retrainNow: RetrainNow | null;
}) {
  const [opened, setOpened] = useState<ReadonlySet<number>>(new Set());
  const toggle = (n: number) =>
    setOpened((s) => {
      const next = new Set(s);
      if (next.has(n)) next.delete(n);
      else next.add(n);
      return next;
    });
  const aside = retrainNow?.aside ?? null;
  const retraining = aside?.state === 'running' ? aside.snapshot : null;
  const columns = retrainNow ? 12 : 11;
  return (
    <section
      className="chart-card"
      data-testid={`${prefix}run-snapshots`}
      style={{ margin: '14px 0' }}
    >
      <h3>{title}</h3>
      <div style={{ overflowX: 'auto' }}>
        <table className="metrics">
          <thead>
            <tr>
              <th>#</th>
              <th>target</th>
              <th>step</th>
              <th>non-zeros</th>
              <th>sparsity</th>
              <th title="validation AUC measured at the snapshot">val AUC then</th>
              <th>retrained</th>
              <th title="the retrained model's best validation AUC">val AUC</th>
              <th>test AUC</th>
              <th title="mean non-zero dimensions of each field's features, as stored">sizes</th>
              {retrainNow && <th>retrain now</th>}
              <th>model file</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <Fragment key={row.number}>
                <tr data-testid={`${prefix}snapshot-row-${row.number}`}>
                  <td>{row.number}</td>
                  <td>{row.label}</td>
                  <td>{formatCount(row.step)}</td>
                  <td>{formatCount(row.nonZeros)}</td>
                  <td>
                    {Number.isFinite(row.sparsity) ? `${(100 * row.sparsity).toFixed(1)}%` : '–'}
                  </td>
                  <td>{formatMetric(row.validationAuc)}</td>
                  <td data-testid={`${prefix}snapshot-retrained-${row.number}`}>
                    {row.retrained ? 'yes' : <span className="muted">not retrained</span>}
                  </td>
                  <td>{formatMetric(row.retrainedValidationAuc)}</td>
                  <td>{formatMetric(row.testAuc)}</td>
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      data-testid={`${prefix}snapshot-sizes-button-${row.number}`}
                      disabled={row.fieldSizes.length === 0}
                      aria-expanded={opened.has(row.number)}
                      title={
                        row.fieldSizes.length === 0
                          ? 'not recorded by the lab version that ran it'
                          : 'mean non-zero dimensions of each field’s features'
                      }
                      onClick={() => toggle(row.number)}
                    >
                      {opened.has(row.number) ? 'hide' : 'sizes'}
                    </button>
                  </td>
                  {retrainNow && (
                    <td>
                      {retraining === row.number && aside ? (
                        <>
                          <span data-testid="retrain-now-progress">
                            retraining… step {aside.stepsDone}/{aside.plannedSteps}
                          </span>{' '}
                          <button
                            type="button"
                            data-testid="stop-retrain-now"
                            title="Stops this retrain (nothing is recorded); the run stays paused"
                            onClick={() => runController.stop()}
                          >
                            Stop
                          </button>
                        </>
                      ) : (
                        <button
                          type="button"
                          data-testid={`retrain-now-${row.number}`}
                          disabled={row.retrained || retrainNow.disabledWhy !== null}
                          title={
                            row.retrained
                              ? 'retrained already'
                              : (retrainNow.disabledWhy ??
                                'Retrain this snapshot now (lottery ticket, on a copy): the paused run is left as it is')
                          }
                          onClick={() => void runController.retrainSnapshotNow(row.number)}
                        >
                          Retrain now
                        </button>
                      )}
                    </td>
                  )}
                  <td>{exportCell(row)}</td>
                </tr>
                {opened.has(row.number) && row.fieldSizes.length > 0 && (
                  <tr>
                    <td colSpan={columns}>
                      <p className="legend-note">
                        Snapshot {row.number} ({row.label}): mean non-zero dimensions per feature of
                        each field, of {dim}
                      </p>
                      <SnapshotSizesChart
                        testId={`${prefix}snapshot-sizes-${row.number}`}
                        sizes={row.fieldSizes}
                        names={row.fieldNames}
                        dim={dim}
                        dataset={dataset}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The snapshots of a run of the runs table, in its card. */
export function RunSnapshots({ run }: { run: HistoryRun }) {
  const result = run.result;
  const runId = result?.runId ?? -1;
  const kept = useLabStore((s) => s.keptRuns.some((k) => k.runId === runId));
  if (!result) return null;
  const rows = snapshotRows(result);
  if (rows.length === 0) return null;
  // Snapshots live in the engine only (storage keeps the final model file).
  const available = kept && !run.restored;
  const why = run.restored
    ? 'restored from storage: only the final model file is stored'
    : 'the engine no longer holds this run (freed)';
  return (
    <SnapshotTable
      prefix=""
      title={
        <>
          Snapshots{' '}
          <small>
            {rows.length} taken · each exports as a model file: retrained when its retrain ran, else
            as it was at the snapshot
          </small>
        </>
      }
      rows={rows}
      dim={run.config.train.embeddingDim}
      dataset={null}
      retrainNow={null}
      exportCell={(row) =>
        available ? (
          <SnapshotExport
            testId={`export-snapshot-${runId}-${row.number}`}
            runId={runId}
            fileName={snapshotFileName(result.method.id, run.id, row)}
            row={row}
          />
        ) : (
          <span className="muted" title={why}>
            {run.restored ? 'not stored' : 'freed'}
          </span>
        )
      }
    />
  );
}

const selectRun = (s: LabState) => s.run;

/** Why Retrain now cannot be pressed for the run in progress now, or null. */
function retrainNowBlocked(run: LabState['run']): string | null {
  const phase = run.phases.at(-1);
  if (run.aside?.state === 'running') return 'a snapshot is retraining: wait for it or stop it';
  if (run.state !== 'paused') return 'Pause the run during pruning to retrain a snapshot now';
  if (!phase?.retrainsSnapshotsWhilePaused) {
    return `the run is paused in “${phase?.label ?? 'its first phase'}”, which retrains no snapshot now`;
  }
  return null;
}

/** The snapshots of the run in progress (or just finished), on the dashboard. */
export function LiveSnapshots() {
  const run = useDeferredLabStore(selectRun);
  const result = run.result;
  const runId = result?.runId ?? -1;
  const kept = useLabStore((s) => s.keptRuns.some((k) => k.runId === runId));
  const rows = result ? snapshotRows(result) : liveSnapshotRows(run.snapshots);
  if (rows.length === 0 || !run.config) return null;
  const dim = run.config.train.embeddingDim;
  return (
    <SnapshotTable
      prefix="live-"
      title={
        <>
          Snapshots of this run{' '}
          <small>
            {rows.length} taken
            {result
              ? ' · each exports as a model file'
              : ' · pause during pruning to look at one’s sizes or retrain it now; Resume goes on where the run paused'}
          </small>
        </>
      }
      rows={rows}
      dim={dim}
      dataset={run.dataset}
      retrainNow={result ? null : { disabledWhy: retrainNowBlocked(run), aside: run.aside }}
      exportCell={(row) =>
        result && kept ? (
          <SnapshotExport
            testId={`live-export-snapshot-${row.number}`}
            runId={runId}
            fileName={snapshotFileName(result.method.id, run.id, row)}
            row={row}
          />
        ) : (
          <span className="muted" title="the engine holds the run's snapshots once it ends">
            {result ? 'freed' : 'after the run'}
          </span>
        )
      }
    />
  );
}
