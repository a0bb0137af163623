/**
 * The runs table: every run of this page and every run restored from storage, with its status,
 * figures and actions (open, compare, export, rename, duplicate and edit, delete), and a line
 * saying how much the lab stores with a "Delete all" button.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { isFinishedRun, useLabStore, type HistoryRun, type LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { formatBytes, formatCount, formatMetric } from '../format';
import { bestValidationAuc } from '../state/runSummary';
import { runController } from '../state/runController';
import { runHistory } from '../state/runHistory';
import { storageSummaryText } from '../state/runRecords';
import { formFromConfig, MODEL_LABELS } from '../state/runForm';
import { methodSpecOf } from '../methods/catalog';

const selectHistory = (s: LabState) => s.history;
const selectSelectedRunId = (s: LabState) => s.selectedRunId;
const selectComparedRunIds = (s: LabState) => s.comparedRunIds;
const selectStorage = (s: LabState) => s.storage;

/**
 * Downloads a run's model file: from storage when it is stored, else from the engine while it
 * still holds the model. `historyId` names the run in the table (null: the run on the dashboard).
 */
export function ExportButton({
  runId,
  label,
  historyId = null,
}: {
  runId: number;
  label: string;
  historyId?: number | null;
}) {
  const kept = useLabStore((s) => s.keptRuns.some((r) => r.runId === runId));
  const entry = useLabStore((s) =>
    historyId === null ? undefined : s.history.find((r) => r.id === historyId),
  );
  const stored = entry?.modelFileStored ?? false;
  const restored = entry?.restored ?? false;
  if (!stored && (restored || !kept)) {
    return <span className="muted">{restored ? 'not stored' : 'freed'}</span>;
  }
  // Restored runs have ids of an engine that is gone: their buttons are named by table id.
  const testId = restored ? `export-stored-${historyId}` : `export-run-${runId}`;
  const fileRun = historyId ?? runId;
  return (
    <button
      type="button"
      data-testid={testId}
      title={stored ? 'the model file kept in the browser' : 'exported from the engine'}
      onClick={() =>
        void runController.exportRun(runId, `model-${label}-run${fileRun}.json`, historyId)
      }
    >
      Export
    </button>
  );
}

function methodLabelOf(run: HistoryRun): string {
  return (
    run.result?.method.label ?? methodSpecOf(run.config.method.id)?.label ?? run.config.method.id
  );
}

/** The run's name, renamed in place (Enter or leaving the field keeps it, Escape cancels). */
function RunName({ run }: { run: HistoryRun }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(run.name);
  const commit = () => {
    setEditing(false);
    if (text.trim() && text.trim() !== run.name) runHistory.rename(run.id, text);
    else setText(run.name);
  };
  if (editing) {
    const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
      if (e.key === 'Enter') commit();
      if (e.key === 'Escape') {
        setText(run.name);
        setEditing(false);
      }
    };
    return (
      <input
        className="run-name-input"
        data-testid={`rename-input-${run.id}`}
        aria-label={`Name of run #${run.id}`}
        value={text}
        autoFocus
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={onKey}
      />
    );
  }
  return (
    <>
      <span data-testid={`run-name-${run.id}`}>{run.name}</span>
      <button
        type="button"
        className="link-button"
        data-testid={`rename-run-${run.id}`}
        aria-label={`Rename run #${run.id}`}
        onClick={() => {
          setText(run.name);
          setEditing(true);
        }}
      >
        rename
      </button>
    </>
  );
}

/** How much the lab stores, with "Delete all" (asked twice). */
function StorageLine({ count }: { count: number }) {
  const storage = useLabStore(selectStorage);
  const [confirming, setConfirming] = useState(false);
  if (storage.status === 'loading') return null;
  return (
    <div className="storage-line" data-testid="storage-usage" data-runs={storage.runs}>
      {storage.status === 'unavailable' ? (
        <span className="muted" data-testid="storage-unavailable">
          {storage.problem ?? 'Runs are not stored in this browser.'}
        </span>
      ) : (
        <span title="run records (settings, curves, results) and model files in this browser's storage">
          {storageSummaryText(storage.runs, storage.bytes)}
          {storage.problem && <span className="run-error"> · {storage.problem}</span>}
        </span>
      )}
      {count > 0 &&
        (confirming ? (
          <span>
            {' '}
            Delete all {count} runs{storage.status === 'unavailable' ? '' : ' and what is stored'}?{' '}
            <button
              type="button"
              data-testid="delete-all-confirm"
              onClick={() => {
                setConfirming(false);
                void runController.deleteAllRuns();
              }}
            >
              Delete all
            </button>{' '}
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" data-testid="delete-all-runs" onClick={() => setConfirming(true)}>
            Delete all
          </button>
        ))}
    </div>
  );
}

function SkippedNotice() {
  const storage = useLabStore(selectStorage);
  if (storage.skipped === 0) return null;
  return (
    <div className="banner banner-info" role="status" data-testid="storage-skipped-notice">
      <span>{storage.skippedNotice}</span>
      <button
        type="button"
        data-testid="remove-skipped"
        onClick={() => void runHistory.removeSkipped()}
      >
        Delete them
      </button>
    </div>
  );
}

export function RunHistoryPanel() {
  const history = useDeferredLabStore(selectHistory);
  const selectedRunId = useLabStore(selectSelectedRunId);
  const comparedIds = useLabStore(selectComparedRunIds);
  const skipped = useLabStore((s) => s.storage.skipped);
  const openRun = useLabStore((s) => s.openRun);
  const toggleCompared = useLabStore((s) => s.toggleCompared);
  const replaceForm = useLabStore((s) => s.replaceForm);
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
  if (history.length === 0 && skipped === 0) return null;
  // Comparing runs happens in the Compare panel, shown from two finished runs on.
  const comparable = history.filter(isFinishedRun).length >= 2;
  return (
    <section className="chart-card" data-testid="run-history">
      <h3>
        Runs
        <small>
          {comparable
            ? 'tick finished runs to overlay their curves; click # to open a run'
            : 'click # to open a run'}
        </small>
      </h3>
      <SkippedNotice />
      <StorageLine count={history.length} />
      {history.length > 0 && (
        <div className="run-history-scroll" ref={scrollRef}>
          <table className="metrics">
            <thead>
              <tr>
                {comparable && <th>compare</th>}
                <th>#</th>
                <th>name</th>
                <th>status</th>
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
                <th>actions</th>
              </tr>
            </thead>
            <tbody>
              {history.map((h) => (
                <tr
                  key={h.id}
                  data-testid={`history-row-${h.id}`}
                  data-run-id={h.id}
                  data-status={h.status}
                  data-saved={h.saved}
                  data-model-file={h.modelFileStored ? 'stored' : 'none'}
                  data-selected={h.id === selectedRunId}
                  className={h.id === selectedRunId ? 'selected' : undefined}
                >
                  {comparable && (
                    <td>
                      {h.result && (
                        <input
                          type="checkbox"
                          data-testid={`compare-run-${h.id}`}
                          aria-label={`Compare run #${h.id}`}
                          checked={comparedIds.includes(h.id)}
                          onChange={() => toggleCompared(h.id)}
                        />
                      )}
                    </td>
                  )}
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      data-testid={`history-open-${h.id}`}
                      aria-label={`Open run #${h.id}`}
                      onClick={() => openRun(h.id)}
                    >
                      {h.id}
                    </button>
                  </td>
                  <td className="run-name-cell">
                    <RunName run={h} />
                  </td>
                  <td
                    data-testid={`run-status-${h.id}`}
                    className={h.status === 'finished' ? undefined : 'status-note'}
                    title={h.error ?? undefined}
                  >
                    {h.status}
                  </td>
                  <td>{methodLabelOf(h)}</td>
                  <td>{h.config.train.model}</td>
                  <td>{h.config.train.embeddingDim}</td>
                  <td>{h.config.train.learningRate}</td>
                  <td>{h.result?.steps ?? h.stepsDone}</td>
                  <td data-testid={`history-params-${h.id}`}>
                    {h.result ? formatCount(h.result.model.totalParams) : '–'}
                  </td>
                  <td>{formatBytes(h.result?.model.totalBytes)}</td>
                  <td title="validation AUC of the model the run kept (its last phase's best)">
                    {h.result ? formatMetric(bestValidationAuc(h.result)) : '–'}
                  </td>
                  <td data-testid={`history-test-auc-${h.id}`}>
                    {formatMetric(h.result?.test?.auc)}
                  </td>
                  <td>{h.result ? h.result.msPerStep.toFixed(1) : '–'}</td>
                  <td>
                    {h.result ? (
                      <ExportButton
                        runId={h.result.runId}
                        historyId={h.id}
                        label={`${h.result.method.id}-${h.config.train.model}`}
                      />
                    ) : (
                      <span className="muted">–</span>
                    )}
                  </td>
                  <td className="run-actions">
                    <button
                      type="button"
                      className="link-button"
                      data-testid={`duplicate-run-${h.id}`}
                      title={`Load the settings of run #${h.id} (${MODEL_LABELS[h.config.train.model]}) into the form`}
                      onClick={() => replaceForm(formFromConfig(h.config))}
                    >
                      duplicate and edit
                    </button>
                    <button
                      type="button"
                      className="link-button"
                      data-testid={`delete-run-${h.id}`}
                      aria-label={`Delete run #${h.id}`}
                      onClick={() => void runController.deleteRun(h.id)}
                    >
                      delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
