/**
 * The official PEP code's own encoding of a Criteo slice (anchors/criteo10k_encoded_seed42split
 * .csv), loaded verbatim so that the lab trains on exactly the reference's rows, split and
 * feature ids:
 * - ids are kept as written (no vocabulary building, no min-count: the reference applied its
 *   min-count 10 when it encoded them); the vocabulary kept with the dataset maps each id to
 *   itself (FieldVocabulary transform 'id');
 * - the split is the file's split column (train / valid / test -> train / validation / test,
 *   rows in file order), whatever split the load options ask for;
 * - field sizes are `field_dims` of the reference's JSON when it is given, otherwise the largest
 *   id + 1 per field; with field_dims, a row holding an id >= its field's size is rejected
 *   ('id-out-of-range').
 * `buildReferenceDataset` does the same from two strings / byte arrays, without streams or a
 * browser (for Node scripts).
 */
import { fieldOffsetsOf, type CtrDataset, type CtrSplit, type FieldVocabulary } from '../dataset';
import { CtrRowStore } from '../preprocess/ctrRowStore';
import type { RowSelection } from '../preprocess/rowSampling';
import type { FieldEncodingStats } from '../preprocess/vocabulary';
import {
  looksLikeReferenceHeader,
  referencePlan,
  splitHeader,
  type ReferencePlan,
} from './columnPlan';
import { parseLabel } from './delimitedCtr';
import { guessDelimiter } from './detect';
import { EMPTY_NUMBER, parseNumberRange } from './numbers';
import { RejectionLog } from './rejections';
import { parseSideJson, splitCodeOfRow, type SideJson } from './sideJson';
import { DatasetLoadError, type RejectReason } from './types';

/** Split codes of the split column (stored as the row store's tag). */
const TRAIN = 0;
const VALIDATION = 1;
const TEST = 2;

function splitCode(s: string): number {
  if (s === 'train') return TRAIN;
  if (s === 'valid' || s === 'validation' || s === 'val') return VALIDATION;
  if (s === 'test') return TEST;
  return -1;
}

export class ReferenceEncodedParser {
  readonly store: CtrRowStore;
  readonly numFields: number;
  /** The first out-of-range id seen, for the report. */
  firstOutOfRange: { field: string; id: number; size: number } | null = null;
  /** Rows whose split column disagrees with the JSON's row lists (when those are given). */
  splitMismatches = 0;
  private readonly colStart: Int32Array;
  private readonly colEnd: Int32Array;
  private readonly fieldColumns: Int32Array;
  /** JSON split per raw row: 1 + split code, 0 = listed in no split. */
  private readonly jsonSplitOfRow: Uint8Array | null;

  constructor(
    readonly plan: ReferencePlan,
    readonly fieldDims: Int32Array | null,
    selection: RowSelection,
    expectedRows: number,
    jsonSplit: SideJson['split'] = null,
  ) {
    this.numFields = plan.fieldColumns.length;
    if (fieldDims && fieldDims.length !== this.numFields) {
      throw new DatasetLoadError(
        'bad-split-file',
        `field_dims has ${fieldDims.length} sizes, the file has ${this.numFields} fields`,
      );
    }
    this.store = new CtrRowStore(this.numFields, 0, false, selection, expectedRows, true);
    this.colStart = new Int32Array(plan.numColumns);
    this.colEnd = new Int32Array(plan.numColumns);
    this.fieldColumns = Int32Array.from(plan.fieldColumns);
    this.jsonSplitOfRow = jsonSplit ? splitCodeOfRow('the split JSON', jsonSplit) : null;
  }

  parseLine(text: string, start: number, end: number): RejectReason | null {
    if (end === start) return 'empty-line';
    const { colStart, colEnd } = this;
    const last = this.plan.numColumns - 1;
    const delimiter = this.plan.delimiter.charCodeAt(0);
    let c = 0;
    colStart[0] = start;
    for (let i = start; i < end; i++) {
      if (text.charCodeAt(i) !== delimiter) continue;
      if (c === last) return 'wrong-column-count';
      colEnd[c++] = i;
      colStart[c] = i + 1;
    }
    if (c !== last) return 'wrong-column-count';
    colEnd[c] = end;

    const { rowColumn, splitColumn, labelColumn } = this.plan;
    const row = wholeNumber(text, colStart[rowColumn], colEnd[rowColumn]);
    if (row < 0) return 'bad-number';
    const split = splitCode(text.substring(colStart[splitColumn], colEnd[splitColumn]));
    if (split < 0) return 'bad-split';
    const label = parseLabel(text, colStart[labelColumn], colEnd[labelColumn]);
    if (label < 0) return 'bad-label';
    const store = this.store;
    store.beginRow();
    const ids = store.idsBuffer;
    const at = store.idsAt;
    const dims = this.fieldDims;
    for (let f = 0; f < this.numFields; f++) {
      const col = this.fieldColumns[f];
      const id = wholeNumber(text, colStart[col], colEnd[col]);
      if (id < 0) return 'bad-number';
      if (dims && id >= dims[f]) {
        this.firstOutOfRange ??= { field: this.plan.fieldNames[f], id, size: dims[f] };
        return 'id-out-of-range';
      }
      ids[at + f] = id;
    }
    const listed = this.jsonSplitOfRow;
    if (listed && (row >= listed.length || listed[row] !== split + 1)) this.splitMismatches++;
    store.tag = split;
    store.commit(label, 0);
    return null;
  }
}

/** A non-negative whole number below 2^31, or -1. */
function wholeNumber(text: string, start: number, end: number): number {
  const v = parseNumberRange(text, start, end);
  return v !== EMPTY_NUMBER && Number.isInteger(v) && v >= 0 && v <= 0x7fffffff ? v : -1;
}

export interface ReferenceEncodedResult {
  numRows: number;
  ids: Int32Array;
  labels: Float32Array;
  fieldNames: string[];
  fieldDims: Int32Array;
  vocabularies: FieldVocabulary[];
  stats: FieldEncodingStats[];
  split: CtrSplit;
  /** Where field sizes came from, in words. */
  fieldDimsFrom: string;
}

/** Field sizes, identity vocabularies and the split of the parsed rows. */
export function finishReferenceEncoded(
  parser: ReferenceEncodedParser,
  fieldDimsFrom: string | null,
): ReferenceEncodedResult {
  const rows = parser.store.finish();
  const m = parser.numFields;
  const n = rows.numRows;
  const ids = rows.ids;
  const fieldNames = parser.plan.fieldNames;
  // Distinct ids present per field, and the largest.
  const maxId = new Int32Array(m).fill(-1);
  for (let r = 0; r < n; r++) {
    const base = r * m;
    for (let f = 0; f < m; f++) if (ids[base + f] > maxId[f]) maxId[f] = ids[base + f];
  }
  const fieldDims = parser.fieldDims ? Int32Array.from(parser.fieldDims) : maxId.map((v) => v + 1);
  const stats: FieldEncodingStats[] = [];
  const vocabularies: FieldVocabulary[] = [];
  for (let f = 0; f < m; f++) {
    const seen = new Uint8Array(fieldDims[f]);
    let present = 0;
    for (let r = 0; r < n; r++) {
      const id = ids[r * m + f];
      if (seen[id] === 0) {
        seen[id] = 1;
        present++;
      }
    }
    stats.push({
      name: fieldNames[f],
      cardinalityBeforeMinCount: present,
      cardinalityAfterMinCount: fieldDims[f],
      rareValues: 0,
      rareRows: 0,
    });
    vocabularies.push({
      name: fieldNames[f],
      transform: 'id',
      tokens: Array.from({ length: fieldDims[f] }, (_, i) => String(i)),
      rareId: null,
      minCount: 1,
    });
  }
  // Split lists in file order, from the tags (split codes).
  const tags = rows.tags as Int32Array;
  const sizes = [0, 0, 0];
  for (let r = 0; r < n; r++) sizes[tags[r]]++;
  const lists = sizes.map((s) => new Int32Array(s));
  const fill = [0, 0, 0];
  for (let r = 0; r < n; r++) lists[tags[r]][fill[tags[r]]++] = r;
  return {
    numRows: n,
    ids,
    labels: rows.labels,
    fieldNames,
    fieldDims,
    vocabularies,
    stats,
    split: { train: lists[TRAIN], validation: lists[VALIDATION], test: lists[TEST] },
    fieldDimsFrom: fieldDimsFrom ?? 'the largest id + 1 per field (no field_dims given)',
  };
}

/** Notes for the load report: where the sizes and the split came from, and what disagreed. */
export function referenceNotes(
  parser: ReferenceEncodedParser,
  r: ReferenceEncodedResult,
): string[] {
  const notes = [
    `ids used as encoded by the reference (no vocabulary building, no min-count); field sizes from ${r.fieldDimsFrom}`,
  ];
  const bad = parser.firstOutOfRange;
  if (bad) {
    notes.push(
      `rows with an id outside field_dims were rejected (first: ${bad.field} id ${bad.id}, field size ${bad.size})`,
    );
  }
  if (parser.splitMismatches > 0) {
    notes.push(
      `${parser.splitMismatches} rows' split column disagrees with the JSON's row lists; the split column was used`,
    );
  }
  return notes;
}

/**
 * The reference dataset from the encoded CSV's text (or bytes) and, optionally, the reference's
 * split JSON (for field_dims), without streams, workers or a browser: the same rows, ids, split
 * and field sizes as loading the two files in the lab. Throws DatasetLoadError when the CSV is
 * not a reference-encoded file or has any malformed row ('rejected-rows': a reference file is
 * expected to be clean, and silently dropping rows would break comparisons with the reference).
 */
export function buildReferenceDataset(
  csv: string | Uint8Array,
  splitJson: string | Uint8Array | null = null,
  name = 'criteo-reference-encoded',
): CtrDataset {
  const text = typeof csv === 'string' ? csv.replace(/^\uFEFF/, '') : new TextDecoder().decode(csv);
  const json =
    splitJson === null
      ? null
      : parseSideJson(
          'split JSON',
          typeof splitJson === 'string' ? splitJson : new TextDecoder().decode(splitJson),
        );
  if (json && !json.fieldDims) {
    throw new DatasetLoadError('bad-split-file', 'the split JSON holds no field_dims');
  }
  let pos = 0;
  const nextLine = (): [number, number] | null => {
    if (pos >= text.length) return null;
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const start = pos;
    pos = nl + 1;
    return [start, nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl];
  };
  const first = nextLine();
  const headerLine = first ? text.substring(first[0], first[1]) : '';
  const delimiter = guessDelimiter(headerLine);
  const header = splitHeader(headerLine, delimiter);
  if (!looksLikeReferenceHeader(header)) {
    throw new DatasetLoadError(
      'undetectable-format',
      `not a reference-encoded file: the header is "${headerLine.slice(0, 120)}", expected row,split,label,I1..I13,C1..C26`,
    );
  }
  const parser = new ReferenceEncodedParser(
    referencePlan(delimiter, header),
    json?.fieldDims ?? null,
    { mode: 'all' },
    Math.max(16, Math.ceil(text.length / Math.max(1, headerLine.length))),
    json?.split ?? null,
  );
  const rejections = new RejectionLog(5);
  for (let lineNo = 2, line = nextLine(); line; lineNo++, line = nextLine()) {
    const reason = parser.parseLine(text, line[0], line[1]);
    if (reason) rejections.add(reason, name, lineNo);
  }
  if (rejections.total > 0) {
    const what = rejections
      .summary()
      .map((r) => `${r.count} ${r.reason} (lines ${r.sampleLines.map((s) => s.line).join(', ')})`)
      .join('; ');
    throw new DatasetLoadError('rejected-rows', `${rejections.total} malformed rows: ${what}`);
  }
  if (parser.store.kept === 0) throw new DatasetLoadError('no-valid-rows', 'no data rows');
  const r = finishReferenceEncoded(parser, json ? 'field_dims of the split JSON' : null);
  return {
    name,
    numRows: r.numRows,
    numFields: r.fieldNames.length,
    fieldNames: r.fieldNames,
    fieldDims: r.fieldDims,
    fieldOffsets: fieldOffsetsOf(r.fieldDims),
    totalVocabulary: r.fieldDims.reduce((s, d) => s + d, 0),
    ids: r.ids,
    labels: r.labels,
    split: r.split,
    numDense: 0,
    dense: null,
    vocabularies: r.vocabularies,
    times: null,
  };
}
