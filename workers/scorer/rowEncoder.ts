/**
 * Raw rows -> the ids and dense features a model file's model reads, with the same tokenisation
 * as the lab's loader (the Criteo bucketing, the DLRM dense transform, the vocabulary with its
 * rare id). A delimited file is read as the model's data was (its delimiter, columns, header);
 * a model trained on data without raw values (the synthetic slice, a reference encoding) reads
 * rows of ids: `label,id_1,...,id_M`.
 */
import type { DatasetDescription } from '../export/modelFormat';
import {
  bucketToken,
  criteoBucket,
  dlrmDense,
  EMPTY_NUMBER,
  NULL_BUCKET,
  parseNumberRange,
} from '../data/formats/numbers';
import { splitQuotedLine } from '../data/formats/columnPlan';
import { parseLabel } from '../data/formats/delimitedCtr';

export interface EncodedRow {
  /** Per field: its id (0 .. rows - 1). */
  ids: Int32Array;
  dense: Float32Array | null;
  /** 0 / 1, or null when the row has no label. */
  label: number | null;
}

export class RowEncoder {
  private readonly index: (Map<string, number> | null)[];
  private columns: number[];
  private denseColumns: number[];
  private labelColumn: number;
  private headerSeen = false;
  readonly numFields: number;

  constructor(readonly dataset: DatasetDescription) {
    this.numFields = dataset.fields.length;
    this.index = dataset.fields.map((f) => {
      if (!f.tokens) return null;
      const m = new Map<string, number>();
      f.tokens.forEach((t, i) => m.set(t, i));
      return m;
    });
    const input = dataset.input;
    if (input.kind === 'delimited') {
      const derived = dataset.fields.find((f) => f.transform === 'derived' || f.column === null);
      if (derived) {
        throw new Error(
          `field ${derived.name} is not a column of the raw rows (it was derived when loading): score rows of ids`,
        );
      }
      this.columns = dataset.fields.map((f) => f.column as number);
      this.denseColumns = dataset.dense ? [...dataset.dense.columns] : [];
      this.labelColumn = input.labelColumn;
    } else {
      this.columns = [];
      this.denseColumns = [];
      this.labelColumn = 0;
    }
  }

  get expectsHeader(): boolean {
    return this.dataset.input.kind === 'delimited' && this.dataset.input.hasHeader;
  }

  /**
   * Reads a header line: columns are then found by name (a file may order them differently).
   * Returns a problem, or null.
   */
  useHeader(line: string): string | null {
    const input = this.dataset.input;
    if (input.kind !== 'delimited') return null;
    if (!input.header) {
      // A header line without names to match: skipped, columns read by position.
      this.headerSeen = true;
      return null;
    }
    const names = (splitQuotedLine(line, input.delimiter) ?? line.split(input.delimiter)).map((s) =>
      s.trim(),
    );
    const at = new Map(names.map((n, i) => [n, i]));
    const find = (column: number): number => {
      const name = input.header![column];
      const i = at.get(name);
      if (i === undefined) throw new Error(`the header has no column "${name}"`);
      return i;
    };
    try {
      this.columns = this.dataset.fields.map((f) => find(f.column as number));
      this.denseColumns = this.dataset.dense ? this.dataset.dense.columns.map(find) : [];
      this.labelColumn = at.get(input.header[input.labelColumn]) ?? -1;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    this.headerSeen = true;
    return null;
  }

  /** Whether the next line is the header this encoder still waits for. */
  get wantsHeader(): boolean {
    return this.expectsHeader && !this.headerSeen;
  }

  private lookup(f: number, token: string): number {
    const field = this.dataset.fields[f];
    return this.index[f]?.get(token) ?? field.rareId ?? 0;
  }

  /** One raw line, or a reason it cannot be scored. */
  encode(line: string): EncodedRow | string {
    const input = this.dataset.input;
    const m = this.numFields;
    const ids = new Int32Array(m);
    if (input.kind === 'ids') {
      const parts = line.split(',');
      if (parts.length !== m + 1)
        return `expected a label and ${m} ids, got ${parts.length} values`;
      const label = parseLabel(parts[0], 0, parts[0].length);
      for (let f = 0; f < m; f++) {
        const id = Number(parts[f + 1]);
        const rows = this.dataset.fields[f].rows;
        if (!Number.isInteger(id) || id < 0 || id >= rows) {
          return `field ${this.dataset.fields[f].name}: id "${parts[f + 1]}" is outside 0..${rows - 1}`;
        }
        ids[f] = id;
      }
      return { ids, dense: null, label: label < 0 ? null : label };
    }
    const cols = input.quoted
      ? splitQuotedLine(line, input.delimiter)
      : line.split(input.delimiter);
    if (!cols) return 'a quoted value is not closed';
    if (cols.length < input.numColumns) {
      return `${cols.length} columns, ${input.numColumns} expected`;
    }
    for (let f = 0; f < m; f++) {
      const field = this.dataset.fields[f];
      const text = cols[this.columns[f]];
      if (field.transform === 'criteo-bucket') {
        const v = parseNumberRange(text, 0, text.length);
        if (Number.isNaN(v)) return `field ${field.name}: "${text}" is not a number`;
        ids[f] = this.lookup(f, bucketToken(v === EMPTY_NUMBER ? NULL_BUCKET : criteoBucket(v)));
      } else if (field.transform === 'id') {
        const id = Number(text);
        if (!Number.isInteger(id) || id < 0 || id >= field.rows) {
          return `field ${field.name}: id "${text}" is outside 0..${field.rows - 1}`;
        }
        ids[f] = id;
      } else {
        ids[f] = this.lookup(f, text);
      }
    }
    let dense: Float32Array | null = null;
    if (this.denseColumns.length > 0) {
      dense = new Float32Array(this.denseColumns.length);
      for (let k = 0; k < dense.length; k++) {
        const text = cols[this.denseColumns[k]];
        const v = parseNumberRange(text, 0, text.length);
        if (Number.isNaN(v))
          return `dense column ${this.denseColumns[k]}: "${text}" is not a number`;
        dense[k] = v === EMPTY_NUMBER ? 0 : dlrmDense(v);
      }
    }
    let label: number | null = null;
    if (this.labelColumn >= 0 && this.labelColumn < cols.length) {
      const text = cols[this.labelColumn];
      const l = parseLabel(text, 0, text.length);
      label = l < 0 ? null : l;
    }
    return { ids, dense, label };
  }
}
