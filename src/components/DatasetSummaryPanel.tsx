import { useDatasetStore } from '../state/datasetStore';
import { datasetController } from '../state/datasetController';
import { FieldCardinalityChart } from '../charts/FieldCardinalityChart';
import { formatBytes } from '../format';

const count = (n: number) => n.toLocaleString('en-US');

const REASON_TEXT: Record<string, string> = {
  'empty-line': 'empty line',
  'line-too-long': 'line too long',
  'binary-content': 'binary bytes (NUL) in the line',
  'wrong-column-count': 'wrong number of columns',
  'bad-number': 'a numeric column is not a number',
  'bad-label': 'label is not 0/1',
  'bad-rating': 'rating is not 1-5',
  'empty-sequence': 'sequence with no items',
  'single-item': 'sequence of a single item (no next item)',
  'bad-split': 'split is not train / valid / test',
  'id-out-of-range': 'a feature id is not below its field size (field_dims)',
  'unterminated-quote': 'a quoted field is not closed on its line',
  'bad-quoting': 'text after a closing quote',
};

/** File roles whose line count means something (not the side JSONs or ignored files). */
const LINE_ROLES = new Set(['data', 'ratings', 'users', 'items']);

/** What the worker loaded: format, rows kept and rejected (with where), split, cardinalities. */
export function DatasetSummaryPanel() {
  const info = useDatasetStore((s) => s.loaded);
  const busy = useDatasetStore((s) => s.status !== 'idle');
  if (!info) return null;
  const throughput = info.seconds > 0 ? info.bytesRead / 1e6 / info.seconds : null;
  return (
    <section
      className="chart-card dataset-summary"
      data-testid="dataset-summary"
      data-name={info.name}
      data-bytes={info.bytesRead}
      data-seconds={info.seconds}
      data-rows={info.rowsKept}
      data-fields={info.numFields}
      data-dense={info.numDense}
    >
      <h3>
        Loaded dataset <span data-testid="dataset-name">{info.name}</span>
        <small>
          {info.kind === 'ctr' ? 'click-through rows' : 'item sequences'} · read{' '}
          {formatBytes(info.bytesRead)} in {info.seconds.toFixed(2)} s
          {throughput !== null ? ` (${throughput.toFixed(1)} MB/s)` : ''}
        </small>
        <button
          type="button"
          className="link-button"
          disabled={busy}
          onClick={() => void datasetController.clear()}
          data-testid="dataset-clear-button"
        >
          unload
        </button>
      </h3>
      <table className="metrics">
        <tbody>
          <tr>
            <th>format</th>
            <td data-testid="dataset-format" data-format={info.format}>
              {info.formatDescription}
            </td>
          </tr>
          <tr>
            <th>files</th>
            <td>
              {info.files
                .map(
                  (f) =>
                    `${f.name}${f.role !== 'data' ? ` (${f.role})` : ''}${LINE_ROLES.has(f.role) ? `: ${count(f.lines)} lines` : ''}`,
                )
                .join(' · ')}
            </td>
          </tr>
          <tr>
            <th>{info.kind === 'ctr' ? 'rows kept' : 'sequences kept'}</th>
            <td data-testid="dataset-rows-kept" data-count={info.rowsKept}>
              {count(info.rowsKept)}
            </td>
          </tr>
          {info.rowsValid !== info.rowsKept && (
            <tr>
              <th>valid rows read</th>
              <td>
                {count(info.rowsValid)}
                {info.stoppedEarly ? ' (stopped after the first N)' : ''}
              </td>
            </tr>
          )}
          <tr>
            <th>rows rejected</th>
            <td data-testid="dataset-rows-rejected" data-count={info.rowsRejected}>
              {count(info.rowsRejected)}
            </td>
          </tr>
          {info.filterRule !== null && (
            <tr>
              <th>rows filtered out</th>
              <td>
                <span data-testid="dataset-rows-filtered" data-count={info.rowsFilteredOut}>
                  {count(info.rowsFilteredOut)}
                </span>{' '}
                <span className="muted">({info.filterRule})</span>
              </td>
            </tr>
          )}
          {info.labelMean !== null && (
            <tr>
              <th>label mean</th>
              <td data-testid="dataset-label-mean">{info.labelMean.toFixed(4)}</td>
            </tr>
          )}
          <tr>
            <th>split</th>
            <td data-testid="dataset-split" data-mode={info.split.mode}>
              train {count(info.split.train)} · validation {count(info.split.validation)} · test{' '}
              {count(info.split.test)}{' '}
              <span className="muted" data-testid="dataset-split-source">
                {info.split.mode === 'file'
                  ? `(from ${info.split.from ?? 'the input'}; the split setting is not used)`
                  : `(${info.split.mode}${info.split.orderedBy ? ` by ${info.split.orderedBy}` : ''})`}
              </span>
            </td>
          </tr>
          {info.split.unlisted + info.split.listedRejected + info.split.listedNotLoaded > 0 && (
            <tr>
              <th>rows outside the split</th>
              <td data-testid="dataset-split-outside">
                <span data-testid="dataset-split-unlisted" data-count={info.split.unlisted}>
                  {count(info.split.unlisted)}
                </span>{' '}
                valid rows listed in no split (dropped) ·{' '}
                <span
                  data-testid="dataset-split-listed-rejected"
                  data-count={info.split.listedRejected}
                >
                  {count(info.split.listedRejected)}
                </span>{' '}
                listed rows rejected · {count(info.split.listedNotLoaded)} listed rows not loaded
              </td>
            </tr>
          )}
          <tr>
            <th>{info.kind === 'ctr' ? 'fields' : 'items'}</th>
            <td data-testid="dataset-vocabulary">
              {info.kind === 'ctr'
                ? `${info.numFields} fields${info.numDense > 0 ? ` (${info.numDense} also dense)` : ''} · ${count(info.totalVocabulary)} features ${info.format === 'criteo-reference-encoded' ? 'as encoded by the reference (ids used verbatim)' : `after min-count ${info.minCount}`}`
                : `${count(info.totalVocabulary)} distinct items`}
            </td>
          </tr>
        </tbody>
      </table>
      {info.notes.length > 0 && (
        <ul className="dataset-notes">
          {info.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      {info.rejections.length > 0 && (
        <>
          <h4>Rejected rows by reason</h4>
          <table className="metrics rejections" data-testid="dataset-rejections">
            <thead>
              <tr>
                <th>reason</th>
                <th>rows</th>
                <th>first lines (file:line)</th>
              </tr>
            </thead>
            <tbody>
              {info.rejections.map((r) => (
                <tr key={r.reason} data-testid={`dataset-rejection-${r.reason}`}>
                  <td title={r.reason}>{REASON_TEXT[r.reason] ?? r.reason}</td>
                  <td data-count={r.count}>{count(r.count)}</td>
                  <td className="mono">
                    {r.sampleLines.map((s) => `${s.file}:${s.line}`).join(', ')}
                    {r.count > r.sampleLines.length ? ', …' : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {info.kind === 'ctr' && info.fields.length > 0 && (
        <>
          <h4>
            {info.format === 'criteo-reference-encoded'
              ? 'Field cardinality: ids present and field sizes (log scale)'
              : 'Field cardinality before and after min-count (log scale)'}
          </h4>
          <FieldCardinalityChart fields={info.fields} minCount={info.minCount} />
        </>
      )}
    </section>
  );
}
