/**
 * The dataset-loading half of the UI/worker contract: what the user can set when loading files,
 * the progress the worker streams back, and the summary of the loaded dataset the UI shows.
 *
 * Types and the list of format ids, free of tfjs and of DOM/worker globals (except `File` in the
 * API signatures in protocol.ts): the main thread imports this module with `import type`.
 */

/** Every layout the loader knows; 'auto' detects it from the file names and first bytes. */
export type DatasetFormatId =
  | 'criteo-tsv'
  | 'criteo-csv'
  | 'criteo-kaggle-csv'
  | 'criteo-csv-header'
  | 'avazu-csv-header'
  | 'avazu-csv'
  | 'generic-csv'
  | 'generic-tsv'
  | 'criteo-reference-encoded'
  | 'movielens-100k'
  | 'movielens-1m'
  | 'sequences';

export type DatasetFormatChoice = 'auto' | DatasetFormatId;

export const DATASET_FORMATS: readonly DatasetFormatId[] = [
  'criteo-tsv',
  'criteo-csv',
  'criteo-kaggle-csv',
  'criteo-csv-header',
  'avazu-csv-header',
  'avazu-csv',
  'generic-csv',
  'generic-tsv',
  'criteo-reference-encoded',
  'movielens-100k',
  'movielens-1m',
  'sequences',
];

/** Which rows (CTR) or sequences to keep. */
export type DatasetRowChoice =
  | { mode: 'all' }
  | { mode: 'first'; count: number }
  | { mode: 'sample'; count: number; seed: number };

export interface DatasetSplitChoice {
  train: number;
  validation: number;
  test: number;
  /** 'ordered': the earliest rows train, the latest test (by the time column when there is one). */
  mode: 'random' | 'ordered';
  seed: number;
}

/** Generic CSV/TSV with a header: which columns are the label, the features and the time. */
export interface DatasetColumnMapping {
  label: string;
  categorical: string[];
  numeric: string[];
  time: string | null;
}

/**
 * What the user sets in the load form. A JSON file loaded beside the data files is not a
 * setting: one with `train`/`val`/`test` row numbers (or `train_indices`/`valid_indices`/
 * `test_indices_in_loader_order`) gives the split of raw Criteo/Avazu/CSV rows, one with
 * `field_dims` gives the field sizes of a reference-encoded file (whose own split column
 * overrides `split`).
 */
export interface DatasetLoadOptions {
  format: DatasetFormatChoice;
  /** Values seen fewer times share one rare id per field; null = the format's default. */
  minCount: number | null;
  rows: DatasetRowChoice;
  /** null = the format's default (80/10/10 random seed 42 for CTR, 70/10/20 for sequences: the last 20% tests, as CpRec's code, and 10% validates). */
  split: DatasetSplitChoice | null;
  /** MovieLens: add user id and item id as fields (the PEP reference uses side attributes only). */
  keepUserAndItemIds: boolean;
  /** Required for generic CSV/TSV; ignored otherwise. */
  columns: DatasetColumnMapping | null;
}

export type DatasetLoadPhase = 'detecting' | 'parsing' | 'encoding' | 'splitting';

export interface DatasetLoadProgress {
  phase: DatasetLoadPhase;
  file: string;
  /** Bytes consumed so far over all files. */
  bytesRead: number;
  /** Sum of the file sizes, or null when some size is unknown. */
  totalBytes: number | null;
  rowsParsed: number;
  rowsRejected: number;
}

export type DatasetRejectReason =
  | 'empty-line'
  | 'line-too-long'
  | 'binary-content'
  | 'wrong-column-count'
  | 'bad-number'
  | 'bad-label'
  | 'bad-rating'
  | 'empty-sequence'
  /** A sequence of one item: no next item to learn or rank. */
  | 'single-item'
  /** Reference-encoded file: the split column is not train / valid / test. */
  | 'bad-split'
  /** Reference-encoded file: a feature id >= its field's size in field_dims. */
  | 'id-out-of-range'
  /** CSV: a quoted field not closed on its line (a quoted field may not span lines). */
  | 'unterminated-quote'
  /** CSV: text after a closing quote before the delimiter (`"a"b`). */
  | 'bad-quoting';

export interface DatasetRejection {
  reason: DatasetRejectReason;
  count: number;
  /** 1-based line numbers (within `file`) of the first lines rejected for this reason. */
  sampleLines: { file: string; line: number }[];
}

export interface DatasetFileInfo {
  name: string;
  /** 'split-indices': a JSON of row numbers per split; 'field-dims': a JSON of field sizes. */
  role: 'data' | 'ratings' | 'users' | 'items' | 'split-indices' | 'field-dims' | 'ignored';
  bytes: number;
  lines: number;
}

export interface DatasetFieldInfo {
  name: string;
  /** Distinct values in the kept rows. */
  cardinalityBeforeMinCount: number;
  /** Field size after min-count (kept values + the shared rare id, if any). */
  cardinalityAfterMinCount: number;
  rareValues: number;
  rareRows: number;
}

/** The loaded dataset as the UI sees it (its typed arrays stay in the worker). */
export interface LoadedDatasetInfo {
  kind: 'ctr' | 'sequence';
  name: string;
  format: DatasetFormatId;
  formatDescription: string;
  files: DatasetFileInfo[];
  rowsKept: number;
  /** Valid rows read before row selection (first N / sample). */
  rowsValid: number;
  rowsRejected: number;
  rejections: DatasetRejection[];
  /** Rows dropped by a convention rather than for being malformed (MovieLens rating 3). */
  rowsFilteredOut: number;
  filterRule: string | null;
  stoppedEarly: boolean;
  /** Mean click label (CTR); null for sequences. */
  labelMean: number | null;
  fields: DatasetFieldInfo[];
  minCount: number;
  split: DatasetSplitInfo;
  numFields: number;
  numDense: number;
  /** Sum of the field sizes (CTR) or the item vocabulary (sequences). */
  totalVocabulary: number;
  bytesRead: number;
  /** Worker-side load time. */
  seconds: number;
  notes: string[];
}

export interface DatasetSplitInfo {
  /** 'file': given by the input (a split column, or a JSON of row numbers), not by ratios. */
  mode: 'random' | 'ordered' | 'file';
  orderedBy: string | null;
  /** Mode 'file': where the split came from, in words. */
  from: string | null;
  train: number;
  validation: number;
  test: number;
  /** Mode 'file' with a row-number JSON: valid rows listed in no split (dropped). */
  unlisted: number;
  /** Listed rows that were rejected (malformed), so missing from their split. */
  listedRejected: number;
  /** Listed rows that were never loaded (past the end of the file, or after the first N). */
  listedNotLoaded: number;
}

/** The first lines of a delimited file, for the column-mapping step. */
export interface ColumnPeek {
  file: string;
  delimiter: string;
  header: string[];
  /** A few data rows after the header, split like it. */
  sampleRows: string[][];
}
