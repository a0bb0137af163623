/**
 * The parser for delimited CTR text (Criteo, Avazu, generic CSV/TSV) driven by a ColumnPlan.
 * It reads each line as undecoded bytes (delimiters are ASCII, see readByteLines). Hot loop: one
 * pass over the line's bytes finds the column boundaries, numbers are parsed from the bytes,
 * categorical tokens are interned from byte ranges (no string per field or per line; a token of
 * up to 8 bytes is hashed from its packed bytes), and ids are written straight into the row
 * store.
 */
import { BucketTable } from '../preprocess/bucketTable';
import { ByteTokenTable } from '../preprocess/byteTokenTable';
import type { CtrRowStore } from '../preprocess/ctrRowStore';
import { fieldSourceOf, type FieldSource } from '../preprocess/vocabulary';
import type { ColumnPlan } from './columnPlan';
import {
  asciiString,
  criteoBucket,
  dlrmDense,
  EMPTY_NUMBER,
  NULL_BUCKET,
  parseNumberBytes,
  parseNumberRange,
} from './numbers';
import type { RejectReason } from './types';

const QUOTE = 34;

export interface DelimitedCtrParser {
  readonly plan: ColumnPlan;
  readonly numDense: number;
  /** Parses one line (bytes[start, end)) into the store; returns the reason when rejected. */
  parseLine(bytes: Uint8Array, start: number, end: number, store: CtrRowStore): RejectReason | null;
  /**
   * Per-field token lists (provisional ids), once every line is parsed: the token tables then
   * drop their hash index, and parseLine must not be called again.
   */
  fieldSources(): FieldSource[];
}

/**
 * One parser per plan; several files with the same layout share it (same token tables).
 * `encoding` is the files' text encoding, used to turn token bytes into strings.
 */
export function createDelimitedCtrParser(plan: ColumnPlan, encoding = 'utf-8'): DelimitedCtrParser {
  const { delimiter, numColumns, labelColumn, timeColumn } = plan;
  // Numeric fields k = 0.. (field numField[k], column numColumn[k]; also dense slot k) and
  // categorical fields k = 0.., each with its own table: the hot loops run over these.
  const numeric = plan.fields.flatMap((f, i) => (f.kind === 'numeric' ? [i] : []));
  const categorical = plan.fields.flatMap((f, i) => (f.kind === 'categorical' ? [i] : []));
  const numDense = numeric.length;
  const numCategorical = categorical.length;
  const numField = Int32Array.from(numeric);
  const numColumn = Int32Array.from(numeric, (i) => plan.fields[i].column);
  const catField = Int32Array.from(categorical);
  const catColumn = Int32Array.from(categorical, (i) => plan.fields[i].column);
  const tokenTables = categorical.map(() => new ByteTokenTable(encoding));
  const bucketTables = numeric.map(() => new BucketTable());
  // Column boundaries of the current line: column c is bytes[colStart[c], colEnd[c]).
  const colStart = new Int32Array(numColumns);
  const colEnd = new Int32Array(numColumns);
  const lastColumn = numColumns - 1;
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 0x7f)
    throw new Error(`delimiter must be one ASCII character, got "${delimiter}"`);
  const delimiterCode = delimiter.charCodeAt(0);
  // Numbers of the current row, parsed before any token is interned so that a rejected line
  // leaves no trace in the tables.
  const rowNumbers = new Float64Array(numDense);
  // Quoted plans: the line's field contents, unquoted and unescaped, back to back.
  const quoted = plan.quoted;
  let unquoted = new Uint8Array(quoted ? 1024 : 0);

  /** Column boundaries of a plain line (no quoting): one pass for the delimiters. */
  const scanPlain = (bytes: Uint8Array, start: number, end: number): RejectReason | null => {
    let c = 0;
    colStart[0] = start;
    for (let i = start; i < end; i++) {
      if (bytes[i] !== delimiterCode) continue;
      if (c === lastColumn) return 'wrong-column-count';
      colEnd[c] = i;
      c++;
      colStart[c] = i + 1;
    }
    if (c !== lastColumn) return 'wrong-column-count';
    colEnd[c] = end;
    return null;
  };

  /**
   * RFC 4180 fields (see splitQuotedLine) copied, unquoted, into `unquoted`; column boundaries
   * then index that buffer. A quoted field must close on its line.
   */
  const scanQuoted = (bytes: Uint8Array, start: number, end: number): RejectReason | null => {
    if (unquoted.length < end - start) unquoted = new Uint8Array(2 * (end - start));
    const out = unquoted;
    let o = 0;
    let c = 0;
    let i = start;
    for (;;) {
      colStart[c] = o;
      if (i < end && bytes[i] === QUOTE) {
        i++;
        for (;;) {
          if (i >= end) return 'unterminated-quote';
          const b = bytes[i++];
          if (b !== QUOTE) out[o++] = b;
          else if (i < end && bytes[i] === QUOTE) out[o++] = bytes[i++];
          else break;
        }
        if (i < end && bytes[i] !== delimiterCode) return 'bad-quoting';
      } else {
        while (i < end && bytes[i] !== delimiterCode) out[o++] = bytes[i++];
      }
      colEnd[c] = o;
      if (i >= end) break;
      if (c === lastColumn) return 'wrong-column-count';
      c++;
      i++; // the delimiter
    }
    return c === lastColumn ? null : 'wrong-column-count';
  };

  const parseLine = (
    line: Uint8Array,
    start: number,
    end: number,
    store: CtrRowStore,
  ): RejectReason | null => {
    if (end === start) return 'empty-line';
    const scanned = quoted ? scanQuoted(line, start, end) : scanPlain(line, start, end);
    if (scanned !== null) return scanned;
    const bytes = quoted ? unquoted : line;

    const label = parseLabelBytes(bytes, colStart[labelColumn], colEnd[labelColumn]);
    if (label < 0) return 'bad-label';
    let time = 0;
    if (timeColumn !== null) {
      time = parseNumberBytes(bytes, colStart[timeColumn], colEnd[timeColumn]);
      if (Number.isNaN(time) || time === EMPTY_NUMBER) return 'bad-number';
    }
    for (let k = 0; k < numDense; k++) {
      const col = numColumn[k];
      const v = parseNumberBytes(bytes, colStart[col], colEnd[col]);
      if (Number.isNaN(v)) return 'bad-number';
      rowNumbers[k] = v;
    }

    store.beginRow();
    const ids = store.idsBuffer;
    const at = store.idsAt;
    const dense = store.denseBuffer;
    const denseAt = store.denseAt;
    for (let k = 0; k < numDense; k++) {
      const v = rowNumbers[k];
      if (v === EMPTY_NUMBER) {
        ids[at + numField[k]] = bucketTables[k].intern(NULL_BUCKET);
        dense[denseAt + k] = 0;
      } else {
        ids[at + numField[k]] = bucketTables[k].intern(criteoBucket(v));
        dense[denseAt + k] = dlrmDense(v);
      }
    }
    for (let k = 0; k < numCategorical; k++) {
      const col = catColumn[k];
      ids[at + catField[k]] = tokenTables[k].intern(bytes, colStart[col], colEnd[col]);
    }
    store.commit(label, time);
    return null;
  };

  return {
    plan,
    numDense,
    parseLine,
    fieldSources: () =>
      plan.fields.map((f, i): FieldSource => {
        if (f.kind === 'numeric')
          return fieldSourceOf(f.name, 'criteo-bucket', bucketTables[numeric.indexOf(i)].tokens);
        const table = tokenTables[categorical.indexOf(i)];
        table.freeIndex();
        return {
          name: f.name,
          transform: 'identity',
          size: table.size,
          token: (id) => table.token(id),
        };
      }),
  };
}

/** parseLabel over bytes. */
export function parseLabelBytes(bytes: Uint8Array, start: number, end: number): number {
  if (end - start === 1) {
    const c = bytes[start];
    return c === 48 ? 0 : c === 49 ? 1 : -1;
  }
  const v = parseNumberBytes(bytes, start, end);
  if (v === 0 || v === 1) return v;
  if (end - start > 5) return -1;
  const s = asciiString(bytes, start, end).toLowerCase();
  return s === 'true' ? 1 : s === 'false' ? 0 : -1;
}

/** 0 or 1 for '0', '1', '0.0', '1.0', 'true', 'false' (any case); -1 for anything else. */
export function parseLabel(text: string, start: number, end: number): number {
  if (end - start === 1) {
    const c = text.charCodeAt(start);
    return c === 48 ? 0 : c === 49 ? 1 : -1;
  }
  const v = parseNumberRange(text, start, end);
  if (v === 0 || v === 1) return v;
  const s = text.substring(start, end).toLowerCase();
  return s === 'true' ? 1 : s === 'false' ? 0 : -1;
}
