import { useMemo, useRef, useState, type DragEvent } from 'react';
import { formatDuration } from '../state/seqFigures';
import { useDatasetStore } from '../state/datasetStore';
import { datasetController, loadOptionsOf } from '../state/datasetController';
import {
  COLUMN_ROLES,
  FORMAT_CHOICES,
  type ColumnRole,
  type DatasetForm,
  type RowsMode,
} from '../state/datasetForm';
import { isRunBusy, useLabStore } from '../state/labStore';
import { useSeqStore } from '../state/seqStore';
import { formatBytes } from '../format';

const count = (n: number) => n.toLocaleString('en-US');

function FilePicker() {
  const files = useDatasetStore((s) => s.files);
  const setFiles = useDatasetStore((s) => s.setFiles);
  const busy = useDatasetStore((s) => s.status !== 'idle');
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const take = (list: FileList | null) => {
    if (busy || !list || list.length === 0) return;
    setFiles(Array.from(list));
  };
  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    take(e.dataTransfer.files);
  };
  return (
    <div
      className={`drop-zone${over ? ' drop-zone-over' : ''}`}
      data-testid="dataset-drop-zone"
      onDragOver={(e) => {
        e.preventDefault();
        if (!busy) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <input
        ref={input}
        id="dataset-file-input"
        type="file"
        multiple
        disabled={busy}
        className="visually-hidden"
        data-testid="dataset-file-input"
        onChange={(e) => {
          take(e.target.files);
          // Let the same file be chosen again after a failed load.
          e.target.value = '';
        }}
      />
      <label htmlFor="dataset-file-input" className="drop-zone-label">
        Drop files here or <span className="link">choose files</span>
      </label>
      <div className="muted small">
        Criteo .txt/.csv, Avazu .csv, MovieLens (u.data + u.user + u.item together), sequences, or
        any CSV/TSV with a header. Add a .json beside a Criteo/Avazu/CSV file to fix its split
        (train / val / test lists of 0-based row numbers), or beside a reference-encoded Criteo CSV
        to give its field_dims.
      </div>
      {files.length > 0 && (
        <ul className="chosen-files" data-testid="dataset-chosen-files">
          {files.map((f) => (
            <li key={`${f.name}:${f.size}:${f.lastModified}`}>
              {f.name} <span className="muted">{formatBytes(f.size)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function TextField({
  id,
  label,
  disabled,
  error,
}: {
  id:
    | 'rowsCount'
    | 'sampleSeed'
    | 'minCount'
    | 'splitTrain'
    | 'splitValidation'
    | 'splitTest'
    | 'splitSeed';
  label: string;
  disabled: boolean;
  error: string | undefined;
}) {
  const value = useDatasetStore((s) => s.form[id]);
  const setFormField = useDatasetStore((s) => s.setFormField);
  return (
    <div className="field">
      <label htmlFor={`dataset-${id}`}>{label}</label>
      <input
        id={`dataset-${id}`}
        type="text"
        inputMode="decimal"
        value={value}
        disabled={disabled}
        placeholder={id === 'minCount' ? 'format default' : undefined}
        onChange={(e) => setFormField(id, e.target.value)}
        data-testid={`dataset-${id}`}
      />
      {error && (
        <div className="field-error" data-testid={`dataset-error-${id}`}>
          {error}
        </div>
      )}
    </div>
  );
}

function ColumnMapping() {
  const peek = useDatasetStore((s) => s.peek);
  const peekError = useDatasetStore((s) => s.peekError);
  const roles = useDatasetStore((s) => s.columnRoles);
  const setColumnRole = useDatasetStore((s) => s.setColumnRole);
  const busy = useDatasetStore((s) => s.status !== 'idle');
  const files = useDatasetStore((s) => s.files);
  if (peekError)
    return (
      <div className="field-error" data-testid="dataset-peek-error">
        {peekError}
      </div>
    );
  if (!peek) {
    return (
      <button
        type="button"
        disabled={files.length === 0 || busy}
        onClick={() => void datasetController.peekColumns()}
        data-testid="dataset-peek-button"
      >
        Read the columns of {files[0]?.name ?? 'the file'}
      </button>
    );
  }
  return (
    <div className="column-mapping" data-testid="dataset-column-mapping">
      <div className="muted small">
        {peek.file}: {peek.header.length} columns, separated by{' '}
        {peek.delimiter === '\t' ? 'tabs' : `"${peek.delimiter}"`}
      </div>
      <table className="metrics mapping-table">
        <thead>
          <tr>
            <th>column</th>
            <th>use as</th>
            <th>first values</th>
          </tr>
        </thead>
        <tbody>
          {peek.header.map((name, i) => (
            <tr key={`${i}:${name}`}>
              <td>{name || <em>(unnamed)</em>}</td>
              <td>
                <select
                  value={roles[i] ?? 'ignore'}
                  disabled={busy}
                  onChange={(e) => setColumnRole(i, e.target.value as ColumnRole)}
                  data-testid={`dataset-column-role-${i}`}
                  aria-label={`use of column ${name}`}
                >
                  {COLUMN_ROLES.map((r) => (
                    <option key={r.value} value={r.value}>
                      {r.label}
                    </option>
                  ))}
                </select>
              </td>
              <td className="muted sample-values">
                {peek.sampleRows
                  .slice(0, 3)
                  .map((row) => row[i] ?? '')
                  .join(' · ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LoadProgressView() {
  const status = useDatasetStore((s) => s.status);
  const progress = useDatasetStore((s) => s.progress);
  const eta = useDatasetStore((s) => s.etaSeconds);
  if (status === 'idle') return null;
  const total = progress?.totalBytes ?? null;
  const fraction = total && progress ? Math.min(1, progress.bytesRead / total) : null;
  return (
    <div className="dataset-progress" data-testid="dataset-progress">
      <progress
        max={1}
        value={fraction ?? undefined}
        aria-label="dataset load progress"
        data-testid="dataset-progress-bar"
      />
      <div className="small">
        {status === 'cancelling'
          ? 'cancelling…'
          : progress
            ? `${progress.phase} ${progress.file}`
            : 'starting…'}
      </div>
      {progress && (
        <div className="small">
          <span data-testid="dataset-progress-bytes">
            {formatBytes(progress.bytesRead)}
            {total !== null ? ` of ${formatBytes(total)}` : ''}
          </span>{' '}
          · <span data-testid="dataset-progress-rows">{count(progress.rowsParsed)}</span> rows ·{' '}
          {count(progress.rowsRejected)} rejected
          {eta !== null && status === 'loading' && (
            <>
              {' '}
              · ETA <span data-testid="dataset-progress-eta">{formatDuration(eta)}</span>
            </>
          )}
        </div>
      )}
      <button
        type="button"
        onClick={() => datasetController.cancel()}
        disabled={status !== 'loading'}
        data-testid="dataset-cancel-button"
      >
        Cancel
      </button>
    </div>
  );
}

function Failure() {
  const failure = useDatasetStore((s) => s.failure);
  const files = useDatasetStore((s) => s.files);
  const format = useDatasetStore((s) => s.form.format);
  const setFormField = useDatasetStore((s) => s.setFormField);
  if (!failure) return null;
  const canMap =
    failure.kind === 'invalid' &&
    files.length === 1 &&
    format !== 'generic-csv' &&
    format !== 'generic-tsv';
  return (
    <div
      className={failure.kind === 'cancelled' ? 'dataset-note' : 'dataset-error'}
      role={failure.kind === 'cancelled' ? 'status' : 'alert'}
      data-testid="dataset-error"
      data-kind={failure.kind}
    >
      {failure.message}
      {canMap && (
        <div>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setFormField('format', 'generic-csv');
              void datasetController.peekColumns();
            }}
            data-testid="dataset-map-columns-button"
          >
            Map its columns by hand
          </button>
        </div>
      )}
    </div>
  );
}

export function DatasetLoader() {
  const form = useDatasetStore((s) => s.form);
  const files = useDatasetStore((s) => s.files);
  const peek = useDatasetStore((s) => s.peek);
  const roles = useDatasetStore((s) => s.columnRoles);
  const status = useDatasetStore((s) => s.status);
  const setFormField = useDatasetStore((s) => s.setFormField);
  const ctrRunBusy = useLabStore((s) => isRunBusy(s.run.state));
  const seqRunBusy = useSeqStore((s) => isRunBusy(s.run.state));
  const runBusy = ctrRunBusy || seqRunBusy;
  const engineFailed = useLabStore((s) => s.engineStatus === 'failed');
  const { errors } = useMemo(() => loadOptionsOf(form, peek, roles), [form, peek, roles]);
  const busy = status !== 'idle';
  const generic = form.format === 'generic-csv' || form.format === 'generic-tsv';
  const set = <K extends keyof DatasetForm>(key: K, value: DatasetForm[K]) =>
    setFormField(key, value);
  const canLoad =
    !busy && !runBusy && !engineFailed && files.length > 0 && Object.keys(errors).length === 0;

  return (
    <form
      className="run-form dataset-loader"
      data-testid="dataset-loader"
      onSubmit={(e) => {
        e.preventDefault();
        if (canLoad) void datasetController.load();
      }}
    >
      <fieldset>
        <legend>Load a dataset</legend>
        <FilePicker />
        <div className="field">
          <label htmlFor="dataset-format-select">Format</label>
          <select
            id="dataset-format-select"
            value={form.format}
            disabled={busy}
            onChange={(e) => set('format', e.target.value as DatasetForm['format'])}
            data-testid="dataset-format-select"
          >
            {FORMAT_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        {generic && <ColumnMapping />}
        {errors.columns && peek && (
          <div className="field-error" data-testid="dataset-error-columns">
            {errors.columns}
          </div>
        )}
        <div className="field">
          <label htmlFor="dataset-rows-mode">Rows</label>
          <select
            id="dataset-rows-mode"
            value={form.rowsMode}
            disabled={busy}
            onChange={(e) => set('rowsMode', e.target.value as RowsMode)}
            data-testid="dataset-rows-mode"
          >
            <option value="all">all</option>
            <option value="first">first N</option>
            <option value="sample">seeded sample of N</option>
          </select>
        </div>
        {form.rowsMode !== 'all' && (
          <TextField id="rowsCount" label="N" disabled={busy} error={errors.rowsCount} />
        )}
        {form.rowsMode === 'sample' && (
          <TextField
            id="sampleSeed"
            label="Sample seed"
            disabled={busy}
            error={errors.sampleSeed}
          />
        )}
        <TextField id="minCount" label="Min count" disabled={busy} error={errors.minCount} />
        <div className="field">
          <label htmlFor="dataset-keep-ids">MovieLens: user and item ids as fields</label>
          <input
            id="dataset-keep-ids"
            type="checkbox"
            checked={form.keepUserAndItemIds}
            disabled={busy}
            onChange={(e) => set('keepUserAndItemIds', e.target.checked)}
            data-testid="dataset-keep-ids"
          />
        </div>
        <div className="field">
          <label htmlFor="dataset-custom-split">
            Custom split (default 80/10/10 random; a split file or split column overrides it)
          </label>
          <input
            id="dataset-custom-split"
            type="checkbox"
            checked={form.customSplit}
            disabled={busy}
            onChange={(e) => set('customSplit', e.target.checked)}
            data-testid="dataset-custom-split"
          />
        </div>
        {form.customSplit && (
          <>
            <TextField
              id="splitTrain"
              label="Train share"
              disabled={busy}
              error={errors.splitTrain}
            />
            <TextField
              id="splitValidation"
              label="Validation share"
              disabled={busy}
              error={errors.splitValidation}
            />
            <TextField id="splitTest" label="Test share" disabled={busy} error={errors.splitTest} />
            <div className="field">
              <label htmlFor="dataset-split-mode">Order</label>
              <select
                id="dataset-split-mode"
                value={form.splitMode}
                disabled={busy}
                onChange={(e) => set('splitMode', e.target.value as DatasetForm['splitMode'])}
                data-testid="dataset-split-mode"
              >
                <option value="random">random (seeded)</option>
                <option value="ordered">time-ordered (latest rows test)</option>
              </select>
            </div>
            {form.splitMode === 'random' && (
              <TextField
                id="splitSeed"
                label="Split seed"
                disabled={busy}
                error={errors.splitSeed}
              />
            )}
          </>
        )}
        <div className="controls">
          <button type="submit" disabled={!canLoad} data-testid="dataset-load-button">
            Load
          </button>
        </div>
        {runBusy && !busy && <div className="muted small">Loading waits until the run ends.</div>}
        <LoadProgressView />
        <Failure />
      </fieldset>
    </form>
  );
}
