/**
 * The parser for delimited CTR text (Criteo, Avazu, generic CSV/TSV) driven by a ColumnPlan.
 * Hot loop: one indexOf per delimiter over the decoded chunk, numbers parsed from char codes,
 * categorical tokens interned from string ranges (no per-field substrings or regexes).
 */
import { BucketTable } from '../preprocess/bucketTable';
import type { CtrRowStore } from '../preprocess/ctrRowStore';
import { FNV_OFFSET, FNV_PRIME, TokenTable } from '../preprocess/tokenTable';
import type { FieldSource } from '../preprocess/vocabulary';
import type { ColumnPlan } from './columnPlan';
import { criteoBucket, dlrmDense, EMPTY_NUMBER, NULL_BUCKET, parseNumberRange } from './numbers';
import type { RejectReason } from './types';

export interface DelimitedCtrParser {
  readonly plan: ColumnPlan;
  readonly numDense: number;
  /** Parses one line into the store; returns the reason when the line is rejected. */
  parseLine(text: string, start: number, end: number, store: CtrRowStore): RejectReason | null;
  /** Per-field token lists (provisional ids), after parsing. */
  fieldSources(): FieldSource[];
}

/** One parser per plan; several files with the same layout share it (same token tables). */
export function createDelimitedCtrParser(plan: ColumnPlan): DelimitedCtrParser {
  const numFields = plan.fields.length;
  const { delimiter, numColumns, labelColumn, timeColumn } = plan;
  const isNumeric = plan.fields.map((f) => f.kind === 'numeric');
  const fieldColumn = Int32Array.from(plan.fields, (f) => f.column);
  const numDense = isNumeric.filter(Boolean).length;
  const denseSlot = new Int32Array(numFields).fill(-1);
  {
    let d = 0;
    for (let f = 0; f < numFields; f++) if (isNumeric[f]) denseSlot[f] = d++;
  }
  const tokenTables = plan.fields.map((f) => (f.kind === 'categorical' ? new TokenTable() : null));
  const bucketTables = plan.fields.map((f) => (f.kind === 'numeric' ? new BucketTable() : null));
  // Column boundaries of the current line: column c is text[colStart[c], colEnd[c]).
  const colStart = new Int32Array(numColumns);
  const colEnd = new Int32Array(numColumns);
  const colHash = new Int32Array(numColumns);
  const lastColumn = numColumns - 1;
  if (delimiter.length !== 1)
    throw new Error(`delimiter must be one character, got "${delimiter}"`);
  const delimiterCode = delimiter.charCodeAt(0);
  // Numbers of the current row, parsed before any token is interned so that a rejected line
  // leaves no trace in the tables.
  const rowNumbers = new Float64Array(numFields);

  const parseLine = (
    text: string,
    start: number,
    end: number,
    store: CtrRowStore,
  ): RejectReason | null => {
    if (end === start) return 'empty-line';
    // One pass over the characters: column boundaries and each column's token hash together
    // (the hash is what interning needs), instead of indexOf plus a second pass to hash.
    let c = 0;
    let h = FNV_OFFSET;
    colStart[0] = start;
    for (let i = start; i < end; i++) {
      const ch = text.charCodeAt(i);
      if (ch === delimiterCode) {
        if (c === lastColumn) return 'wrong-column-count';
        colEnd[c] = i;
        colHash[c] = h;
        c++;
        colStart[c] = i + 1;
        h = FNV_OFFSET;
      } else {
        h = Math.imul(h ^ ch, FNV_PRIME);
      }
    }
    if (c !== lastColumn) return 'wrong-column-count';
    colEnd[c] = end;
    colHash[c] = h;

    const label = parseLabel(text, colStart[labelColumn], colEnd[labelColumn]);
    if (label < 0) return 'bad-label';
    let time = 0;
    if (timeColumn !== null) {
      time = parseNumberRange(text, colStart[timeColumn], colEnd[timeColumn]);
      if (Number.isNaN(time) || time === EMPTY_NUMBER) return 'bad-number';
    }
    for (let f = 0; f < numFields; f++) {
      if (!isNumeric[f]) continue;
      const col = fieldColumn[f];
      const v = parseNumberRange(text, colStart[col], colEnd[col]);
      if (Number.isNaN(v)) return 'bad-number';
      rowNumbers[f] = v;
    }

    const ids = store.rowIds;
    const dense = store.rowDense;
    for (let f = 0; f < numFields; f++) {
      if (isNumeric[f]) {
        const v = rowNumbers[f];
        if (v === EMPTY_NUMBER) {
          ids[f] = (bucketTables[f] as BucketTable).intern(NULL_BUCKET);
          dense[denseSlot[f]] = 0;
        } else {
          ids[f] = (bucketTables[f] as BucketTable).intern(criteoBucket(v));
          dense[denseSlot[f]] = dlrmDense(v);
        }
      } else {
        const col = fieldColumn[f];
        ids[f] = (tokenTables[f] as TokenTable).internHashed(
          text,
          colStart[col],
          colEnd[col],
          colHash[col],
        );
      }
    }
    store.commit(label, time);
    return null;
  };

  return {
    plan,
    numDense,
    parseLine,
    fieldSources: () =>
      plan.fields.map((f, i): FieldSource => ({
        name: f.name,
        transform: f.kind === 'numeric' ? 'criteo-bucket' : 'identity',
        tokens: (tokenTables[i] ?? (bucketTables[i] as BucketTable)).tokens,
      })),
  };
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
