/**
 * The snapshots a finished run took (PEP: one at each target sparsity), in its run card: when,
 * how sparse, the validation AUC then, the retrained model's AUCs, and an Export per snapshot
 * that downloads its model file while the engine still holds the run.
 */
import { useLabStore, type HistoryRun } from '../state/labStore';
import { runController } from '../state/runController';
import { snapshotFileName, snapshotRows } from '../state/runSnapshots';
import { formatCount, formatMetric } from '../format';

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
    <section className="chart-card" data-testid="run-snapshots" style={{ margin: '14px 0' }}>
      <h3>
        Snapshots{' '}
        <small>
          {rows.length} taken · each exports as a model file: retrained when its retrain ran, else
          as it was at the snapshot
        </small>
      </h3>
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
              <th>model file</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.number} data-testid={`snapshot-row-${row.number}`}>
                <td>{row.number}</td>
                <td>{row.label}</td>
                <td>{formatCount(row.step)}</td>
                <td>{formatCount(row.nonZeros)}</td>
                <td>
                  {Number.isFinite(row.sparsity) ? `${(100 * row.sparsity).toFixed(1)}%` : '–'}
                </td>
                <td>{formatMetric(row.validationAuc)}</td>
                <td data-testid={`snapshot-retrained-${row.number}`}>
                  {row.retrained ? 'yes' : <span className="muted">not retrained</span>}
                </td>
                <td>{formatMetric(row.retrainedValidationAuc)}</td>
                <td>{formatMetric(row.testAuc)}</td>
                <td>
                  {available ? (
                    <button
                      type="button"
                      data-testid={`export-snapshot-${runId}-${row.number}`}
                      title={
                        row.retrained
                          ? 'the retrained model of this snapshot (its best validation weights)'
                          : 'the model as it was at this snapshot (not retrained)'
                      }
                      onClick={() =>
                        void runController.exportSnapshot(
                          runId,
                          row.number,
                          snapshotFileName(result.method.id, run.id, row),
                        )
                      }
                    >
                      Export
                    </button>
                  ) : (
                    <span className="muted" title={why}>
                      {run.restored ? 'not stored' : 'freed'}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
