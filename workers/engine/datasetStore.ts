/**
 * The dataset the user loaded from files, kept in the worker (its typed arrays never cross to
 * the main thread). One at a time: loading another replaces it, but only once the new load has
 * succeeded - a failed or cancelled load leaves the previous dataset in place.
 */
import type { CtrDataset } from '../data/dataset';
import {
  DatasetLoadError,
  loadDataset,
  type FormatId,
  type InputFile,
  type LoadOptions,
  type LoadResult,
  type SequenceDataset,
} from '../data/loadDataset';
import { guessDelimiter } from '../data/formats/detect';
import { splitHeader, splitQuotedLine } from '../data/formats/columnPlan';
import type {
  ColumnPeek,
  DatasetFormatId,
  DatasetLoadOptions,
  DatasetLoadProgress,
  LoadedDatasetInfo,
} from '../datasetProtocol';

export type ActiveDataset =
  | { kind: 'ctr'; dataset: CtrDataset; info: LoadedDatasetInfo }
  | { kind: 'sequence'; dataset: SequenceDataset; info: LoadedDatasetInfo };

let active: ActiveDataset | null = null;
/** The load in progress, if any: cancelLoad() aborts it. */
let currentLoad: AbortController | null = null;

/** The loaded CTR dataset, or a clear error saying why there is none. */
export function activeCtrDataset(): CtrDataset {
  if (!active)
    throw new Error('No dataset is loaded: load a file first, or choose the synthetic slice');
  if (active.kind !== 'ctr') {
    throw new Error(
      'The loaded file holds item sequences, which ranking (CTR) models cannot train on',
    );
  }
  return active.dataset;
}

/** The loaded sequence dataset, or a clear error saying why there is none. */
export function activeSequenceDataset(): SequenceDataset {
  if (!active)
    throw new Error(
      'No dataset is loaded: load an item-sequence file first, or choose the synthetic sequences',
    );
  if (active.kind !== 'sequence') {
    throw new Error(
      'The loaded file holds click-through rows, which sequence models cannot train on: load an item-sequence file',
    );
  }
  return active.dataset;
}

// The protocol restates the loader's format ids for the UI; these two lines fail to compile if
// the two lists drift apart.
const protocolFormatIsLoaderFormat = (f: DatasetFormatId): FormatId => f;
const loaderFormatIsProtocolFormat = (f: FormatId): DatasetFormatId => f;

/** Checks what crossed from the UI (it is data from another thread, not trusted types). */
export function loaderOptionsOf(options: DatasetLoadOptions): LoadOptions {
  const problems: string[] = [];
  const whole = (v: unknown, label: string, min: number): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      problems.push(`${label} must be a whole number of at least ${min}, got ${String(v)}`);
  };
  const out: LoadOptions = {};
  if (options.format !== 'auto') out.format = protocolFormatIsLoaderFormat(options.format);
  if (options.minCount !== null) {
    whole(options.minCount, 'Min count', 1);
    out.minCount = options.minCount;
  }
  const rows = options.rows;
  if (rows.mode === 'first' || rows.mode === 'sample') {
    whole(rows.count, 'Rows', 1);
    if (rows.mode === 'sample') whole(rows.seed, 'Sample seed', 0);
  } else if (rows.mode !== 'all') {
    problems.push(`unknown row selection "${String((rows as { mode: unknown }).mode)}"`);
  }
  out.rows = rows;
  if (options.split) {
    const { train, validation, test, mode, seed } = options.split;
    const ratios = [train, validation, test];
    if (ratios.some((r) => typeof r !== 'number' || !Number.isFinite(r) || r < 0)) {
      problems.push(`split ratios must be non-negative numbers, got ${ratios.join('/')}`);
    } else if (train <= 0) {
      problems.push('the training share of the split must be positive');
    }
    if (mode !== 'random' && mode !== 'ordered') problems.push(`unknown split mode "${mode}"`);
    whole(seed, 'Split seed', 0);
    out.split = { train, validation, test, mode, seed };
  }
  out.keepUserAndItemIds = options.keepUserAndItemIds === true;
  const generic = options.format === 'generic-csv' || options.format === 'generic-tsv';
  if (options.columns && (generic || options.format === 'auto')) {
    const { label, categorical, numeric, time } = options.columns;
    if (!label) problems.push('choose the label column');
    if (categorical.length + numeric.length === 0)
      problems.push('choose at least one feature column');
    const used = [label, ...categorical, ...numeric];
    const twice = used.find((c, i) => used.indexOf(c) !== i);
    if (twice !== undefined) problems.push(`column "${twice}" is mapped twice`);
    out.columns = { label, categorical, numeric, ...(time ? { time } : {}) };
  } else if (generic) {
    problems.push('a CSV/TSV with a header needs a column mapping');
  }
  if (problems.length > 0)
    throw namedError('DatasetLoadError', `Invalid load options: ${problems.join('; ')}`);
  return out;
}

function infoOf(result: LoadResult): LoadedDatasetInfo {
  const r = result.report;
  const common = {
    format: loaderFormatIsProtocolFormat(r.format),
    formatDescription: r.formatDescription,
    files: r.files.map((f) => ({ ...f })),
    rowsKept: r.rowsKept,
    rowsValid: r.rowsValid,
    rowsRejected: r.rowsRejected,
    rejections: r.rejections.map((x) => ({ ...x, sampleLines: [...x.sampleLines] })),
    rowsFilteredOut: r.rowsFilteredOut,
    filterRule: r.filterRule,
    stoppedEarly: r.stoppedEarly,
    labelMean: r.labelMean,
    fields: r.fields.map((f) => ({ ...f })),
    minCount: r.minCount,
    split: { ...r.split },
    bytesRead: r.bytesRead,
    seconds: r.seconds,
    notes: [...r.notes],
  };
  if (result.kind === 'ctr') {
    const ds = result.dataset;
    return {
      kind: 'ctr',
      name: ds.name,
      ...common,
      numFields: ds.numFields,
      numDense: ds.numDense ?? 0,
      totalVocabulary: ds.totalVocabulary,
    };
  }
  const ds = result.dataset;
  return {
    kind: 'sequence',
    name: ds.name,
    ...common,
    numFields: 1,
    numDense: 0,
    totalVocabulary: ds.numItems,
  };
}

/** An Error that keeps its name across comlink (which copies only name, message and stack). */
function namedError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

function isAbort(err: unknown, signal: AbortSignal): boolean {
  return (
    signal.aborted ||
    (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError')
  );
}

/**
 * Loads `files` and makes the result the active dataset. Throws an Error named
 * 'DatasetLoadError' (whole-input failure, with the loader's message), 'AbortError' (cancelled)
 * or 'Error' (anything else); in every failure the previous dataset stays active.
 */
export async function loadFilesIntoStore(
  files: File[],
  options: DatasetLoadOptions,
  onProgress: (p: DatasetLoadProgress) => void,
): Promise<LoadedDatasetInfo> {
  if (currentLoad) throw namedError('Error', 'A dataset is already loading: wait or cancel it');
  if (!Array.isArray(files) || files.length === 0) {
    throw namedError('DatasetLoadError', 'No file given: choose or drop at least one file');
  }
  const loaderOptions = loaderOptionsOf(options);
  const controller = new AbortController();
  currentLoad = controller;
  try {
    const inputs: InputFile[] = files.map((f) => ({
      name: f.name,
      stream: f.stream(),
      size: f.size,
    }));
    const result = await loadDataset(inputs, loaderOptions, onProgress, controller.signal);
    const info = infoOf(result);
    active =
      result.kind === 'ctr'
        ? { kind: 'ctr', dataset: result.dataset, info }
        : { kind: 'sequence', dataset: result.dataset, info };
    return info;
  } catch (err) {
    if (isAbort(err, controller.signal)) {
      throw namedError(
        'AbortError',
        active ? 'Load cancelled; the dataset loaded before is kept' : 'Load cancelled',
      );
    }
    if (err instanceof DatasetLoadError) throw namedError('DatasetLoadError', err.message);
    if (err instanceof RangeError) {
      throw namedError(
        'Error',
        `Out of memory while loading (${err.message}): choose "first N rows" or a sample`,
      );
    }
    throw err instanceof Error ? err : namedError('Error', String(err));
  } finally {
    currentLoad = null;
  }
}

/** Cooperative cancel: the loader stops at its next chunk; the worker and dataset live on. */
export function cancelCurrentLoad(): void {
  currentLoad?.abort(new DOMException('Load cancelled', 'AbortError'));
}

export function clearActiveDataset(): void {
  active = null;
}

const PEEK_BYTES = 64 * 1024;
const PEEK_ROWS = 5;

/** Header and first rows of a delimited text file, for mapping its columns by hand. */
export async function peekFileColumns(file: File): Promise<ColumnPeek> {
  if (file.size === 0) throw namedError('DatasetLoadError', `${file.name} is empty`);
  const head = new Uint8Array(await file.slice(0, PEEK_BYTES).arrayBuffer());
  let nul = 0;
  for (let i = 0; i < head.length; i++) if (head[i] === 0) nul++;
  if (nul > 0) {
    throw namedError(
      'DatasetLoadError',
      `${file.name} is not a text file (${nul} NUL bytes in its first ${head.length} bytes)`,
    );
  }
  const text = new TextDecoder('utf-8').decode(head);
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (file.size > PEEK_BYTES && lines.length > 1) lines.pop(); // cut mid-line
  const nonBlank = lines.filter((l) => l.trim().length > 0);
  if (nonBlank.length === 0) {
    throw namedError('DatasetLoadError', `${file.name} holds only blank lines`);
  }
  const delimiter = guessDelimiter(nonBlank[0]);
  return {
    file: file.name,
    delimiter,
    header: splitHeader(nonBlank[0], delimiter),
    sampleRows: nonBlank
      .slice(1, 1 + PEEK_ROWS)
      .map((l) => splitQuotedLine(l, delimiter) ?? l.split(delimiter)),
  };
}
