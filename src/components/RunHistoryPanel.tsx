/**
 * The runs table: every run of this page and every run restored from storage, of both tasks
 * (click-through and next-item runs, each in its own terms), with its status, figures and actions
 * (open, compare, export, rename, duplicate and edit, delete), and a line saying how much the lab
 * stores with a "Delete all" button.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { isRunBusy, useLabStore, type LabState, type SeqHistoryRun } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { formatBytes, formatCount, formatMetric } from '../format';
import { runController } from '../state/runController';
import { runHistory } from '../state/runHistory';
import { storageSummaryText } from '../state/runRecords';
import { formFromConfig, MODEL_LABELS } from '../state/runForm';
import { useSeqStore } from '../state/seqStore';
import { seqController } from '../state/seqController';
import { seqFormFromConfig, type LabTask } from '../state/seqForm';
import { formatDuration } from '../state/seqFigures';
import {
  runFigures,
  sortAndFilterRuns,
  tableRuns,
  type RunSort,
  type RunSortKey,
  type TableRun,
} from '../state/runTable';

const selectHistory = (s: LabState) => s.history;
const selectSeqHistory = (s: LabState) => s.seqHistory;
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

/**
 * Downloads a next-item run's model file: from storage when it is stored, else from the engine
 * while it still holds it (the engine keeps only the last finished sequence run's model).
 */
function SeqExportButton({ run }: { run: SeqHistoryRun }) {
  const held = useSeqStore((s) => s.run.id === run.id && s.run.result !== null);
  const stored = run.modelFileStored;
  if (!stored && (run.restored || !held)) {
    return (
      <span
        className="muted"
        title={
          run.restored
            ? 'its model file was not stored'
            : 'the engine keeps only the last sequence run’s model'
        }
      >
        {run.restored ? 'not stored' : 'replaced'}
      </span>
    );
  }
  return (
    <button
      type="button"
      data-testid={run.restored ? `export-stored-${run.id}` : `export-seq-${run.id}`}
      title={stored ? 'the model file kept in the browser' : 'exported from the engine'}
      onClick={() =>
        void seqController.exportRun(
          run.id,
          `model-nextitnet-${run.config.method}-run${run.id}.json`,
        )
      }
    >
      Export
    </button>
  );
}

/**
 * Loads a run's settings into its task's form and shows that task (unless a run holds the
 * engine: the task cannot change then, the form is filled all the same).
 */
function duplicateRun(row: TableRun): void {
  const busy =
    isRunBusy(useLabStore.getState().run.state) || isRunBusy(useSeqStore.getState().run.state);
  if (row.task === 'seq') useSeqStore.setState({ form: seqFormFromConfig(row.run.config) });
  else useLabStore.getState().replaceForm(formFromConfig(row.run.config));
  if (!busy) useSeqStore.getState().setTask(row.task);
}

function duplicateTitle(row: TableRun): string {
  const model = row.task === 'seq' ? 'NextItNet' : MODEL_LABELS[row.run.config.train.model];
  const form = row.task === 'seq' ? 'the next-item form' : 'the click-through form';
  return `Load the settings of run #${row.run.id} (${model}) into ${form}`;
}

type RunFilter = 'all' | LabTask;

/** A column header that sorts the table by its column (again: the other way). */
function SortHeader({
  sortKey,
  label,
  title,
  className,
  sort,
  onSort,
}: {
  sortKey: RunSortKey;
  label: string;
  title?: string;
  className?: string;
  sort: RunSort;
  onSort: (sort: RunSort) => void;
}) {
  const active = sort.key === sortKey;
  return (
    <th
      className={className}
      title={title}
      aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}
    >
      <button
        type="button"
        className="sort-button"
        data-testid={`runs-sort-${sortKey}`}
        onClick={() => onSort({ key: sortKey, descending: active ? !sort.descending : false })}
      >
        {label}
        <span aria-hidden="true">{active ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  );
}

/** The run's name, renamed in place (Enter or leaving the field keeps it, Escape cancels). */
function RunName({ run }: { run: { id: number; name: string } }) {
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
  const seqHistory = useDeferredLabStore(selectSeqHistory);
  const selectedRunId = useLabStore(selectSelectedRunId);
  const comparedIds = useLabStore(selectComparedRunIds);
  const skipped = useLabStore((s) => s.storage.skipped);
  const openRun = useLabStore((s) => s.openRun);
  const toggleCompared = useLabStore((s) => s.toggleCompared);
  const [filter, setFilter] = useState<RunFilter>('all');
  const [sort, setSort] = useState<RunSort>({ key: 'id', descending: false });
  const [query, setQuery] = useState('');
  const scrollRef = useRef<HTMLDivElement>(null);
  const all = useMemo(() => tableRuns(history, seqHistory), [history, seqHistory]);
  const bothTasks = history.length > 0 && seqHistory.length > 0;
  const rows = sortAndFilterRuns(
    bothTasks && filter !== 'all' ? all.filter((r) => r.task === filter) : all,
    sort,
    query,
  );
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
  if (all.length === 0 && skipped === 0) return null;
  // Comparing runs happens in the Compare panel, shown from two finished runs of a task on.
  const finished = (task: LabTask) => all.filter((r) => r.task === task && r.run.result).length;
  const comparable = finished('ctr') >= 2 || finished('seq') >= 2;
  return (
    <section className="chart-card" data-testid="run-history">
      <h3>
        Runs
        <small>
          {comparable
            ? 'tick finished runs to overlay their curves (runs are compared with runs of their task); click # to open a run'
            : 'click # to open a run'}
        </small>
      </h3>
      <SkippedNotice />
      <StorageLine count={all.length} />
      <div className="chart-controls">
        <label>
          filter{' '}
          <input
            type="search"
            data-testid="runs-search"
            placeholder="name, method, model, data or status"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </label>
        {query && rows.length === 0 && <span className="muted">no run matches</span>}
      </div>
      {bothTasks && (
        <div className="chart-controls">
          <label>
            show{' '}
            <select
              data-testid="runs-filter"
              value={filter}
              onChange={(e) => setFilter(e.target.value as RunFilter)}
            >
              <option value="all">all runs ({all.length})</option>
              <option value="ctr">click-through runs ({history.length})</option>
              <option value="seq">next-item runs ({seqHistory.length})</option>
            </select>
          </label>
        </div>
      )}
      {rows.length > 0 && (
        <div className="run-history-scroll" ref={scrollRef}>
          <table className="metrics">
            <thead>
              <tr>
                {/* The first column stays in view while the table scrolls sideways. */}
                <SortHeader
                  className="run-id-cell"
                  sortKey="id"
                  label={comparable ? 'compare · #' : '#'}
                  sort={sort}
                  onSort={setSort}
                />
                <SortHeader sortKey="name" label="name" sort={sort} onSort={setSort} />
                <SortHeader sortKey="status" label="status" sort={sort} onSort={setSort} />
                <SortHeader sortKey="method" label="method" sort={sort} onSort={setSort} />
                <SortHeader sortKey="model" label="model" sort={sort} onSort={setSort} />
                <SortHeader sortKey="data" label="data" sort={sort} onSort={setSort} />
                <th>dim</th>
                <th>lr</th>
                <SortHeader sortKey="steps" label="steps" sort={sort} onSort={setSort} />
                <SortHeader sortKey="params" label="params" sort={sort} onSort={setSort} />
                <SortHeader sortKey="bytes" label="bytes" sort={sort} onSort={setSort} />
                <SortHeader
                  sortKey="flops"
                  label="FLOPs"
                  title="FLOPs per example (click-through) or to score one sequence over all items (next-item)"
                  sort={sort}
                  onSort={setSort}
                />
                <SortHeader
                  sortKey="bestValidation"
                  label="best val AUC / MRR@20"
                  title="validation AUC (click-through) or MRR@20 (next-item) of the model the run kept"
                  sort={sort}
                  onSort={setSort}
                />
                <SortHeader
                  sortKey="test"
                  label="test AUC / MRR@20"
                  title="test AUC (click-through) or MRR@20 (next-item)"
                  sort={sort}
                  onSort={setSort}
                />
                <SortHeader sortKey="seconds" label="duration" sort={sort} onSort={setSort} />
                <SortHeader sortKey="msPerStep" label="ms/step" sort={sort} onSort={setSort} />
                <th>model</th>
                <th className="run-actions">actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const h = row.run;
                const f = runFigures(row);
                const testId =
                  row.task === 'seq' ? `history-test-mrr20-${h.id}` : `history-test-auc-${h.id}`;
                return (
                  <tr
                    key={h.id}
                    data-testid={`history-row-${h.id}`}
                    data-run-id={h.id}
                    data-task={row.task}
                    data-status={h.status}
                    data-saved={h.saved}
                    data-model-file={h.modelFileStored ? 'stored' : 'none'}
                    data-selected={h.id === selectedRunId}
                    className={h.id === selectedRunId ? 'selected' : undefined}
                  >
                    <td className="run-id-cell">
                      {comparable &&
                        (h.result ? (
                          <input
                            type="checkbox"
                            data-testid={`compare-run-${h.id}`}
                            aria-label={`Compare run #${h.id}`}
                            checked={comparedIds.includes(h.id)}
                            onChange={() => toggleCompared(h.id)}
                          />
                        ) : (
                          <span className="compare-placeholder" />
                        ))}
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
                    <td data-testid={`history-method-${h.id}`}>{f.method}</td>
                    <td>{f.model}</td>
                    <td>{f.data}</td>
                    <td>{f.dim}</td>
                    <td>{f.learningRate}</td>
                    <td>{f.steps}</td>
                    <td data-testid={`history-params-${h.id}`}>
                      {f.params === null ? '–' : formatCount(f.params)}
                    </td>
                    <td>{formatBytes(f.bytes)}</td>
                    <td>{f.flops === null ? '–' : formatCount(f.flops)}</td>
                    <td
                      data-testid={`history-best-val-${h.id}`}
                      title={`best validation ${f.metric}`}
                    >
                      {formatMetric(f.bestValidation)}
                    </td>
                    <td data-testid={testId} title={`test ${f.metric}`}>
                      {formatMetric(f.test)}
                    </td>
                    <td>{formatDuration(f.seconds)}</td>
                    <td>{f.msPerStep === null ? '–' : f.msPerStep.toFixed(1)}</td>
                    <td>
                      {!h.result ? (
                        <span className="muted">–</span>
                      ) : row.task === 'seq' ? (
                        <SeqExportButton run={row.run} />
                      ) : (
                        <ExportButton
                          runId={row.run.result!.runId}
                          historyId={h.id}
                          label={`${row.run.result!.method.id}-${row.run.config.train.model}`}
                        />
                      )}
                    </td>
                    <td className="run-actions">
                      <button
                        type="button"
                        className="link-button"
                        data-testid={`duplicate-run-${h.id}`}
                        title={duplicateTitle(row)}
                        onClick={() => duplicateRun(row)}
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
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
