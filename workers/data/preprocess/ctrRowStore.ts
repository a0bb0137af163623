/**
 * Collects parsed CTR rows as typed arrays: provisional field ids, label, optional dense
 * features and optional time, placed by a RowSampler (all / first N / reservoir sample).
 * Parsers fill `rowIds` / `rowDense` for the current row and call `commit`.
 */
import { GrowableFloat32, GrowableFloat64, GrowableInt32 } from './growable';
import { permuteRows, RowSampler, streamOrder, type RowSelection } from './rowSampling';

export interface CtrRows {
  numRows: number;
  ids: Int32Array;
  labels: Float32Array;
  dense: Float32Array | null;
  times: Float64Array | null;
}

export class CtrRowStore {
  /** Scratch for the row being parsed. */
  readonly rowIds: Int32Array;
  readonly rowDense: Float32Array;
  readonly sampler: RowSampler;
  private readonly ids: GrowableInt32;
  private readonly labels = new GrowableFloat32();
  private readonly dense: GrowableFloat32 | null;
  private readonly times: GrowableFloat64 | null;
  /** Stream ordinal of the row in each slot (to restore order after reservoir replacements). */
  private readonly ordinals = new GrowableInt32();

  constructor(
    readonly numFields: number,
    readonly numDense: number,
    hasTime: boolean,
    selection: RowSelection,
    /** Expected rows (from the file size), to size the buffers once. */
    expectedRows = 1024,
  ) {
    this.sampler = new RowSampler(selection);
    const cap = selection.mode === 'all' ? expectedRows : Math.min(expectedRows, selection.count);
    this.rowIds = new Int32Array(numFields);
    this.rowDense = new Float32Array(numDense);
    this.ids = new GrowableInt32(cap * numFields);
    this.dense = numDense > 0 ? new GrowableFloat32(cap * numDense) : null;
    this.times = hasTime ? new GrowableFloat64(cap) : null;
  }

  get kept(): number {
    return this.sampler.kept;
  }

  /** Stores the scratch row; returns false when the row was not selected. */
  commit(label: number, time: number): boolean {
    const ordinal = this.sampler.seen;
    const slot = this.sampler.next();
    if (slot < 0) return false;
    const m = this.numFields;
    const d = this.numDense;
    // Plain loops: TypedArray.set costs more than it saves on rows of a few dozen values.
    const rowIds = this.rowIds;
    if (slot === this.labels.length) {
      const ids = this.ids.reserve(m);
      const at = this.ids.length;
      for (let f = 0; f < m; f++) ids[at + f] = rowIds[f];
      this.ids.length = at + m;
      this.labels.push(label);
      if (this.dense) {
        const dense = this.dense.reserve(d);
        const dat = this.dense.length;
        for (let k = 0; k < d; k++) dense[dat + k] = this.rowDense[k];
        this.dense.length = dat + d;
      }
      this.times?.push(time);
      this.ordinals.push(ordinal);
    } else {
      const ids = this.ids.array;
      for (let f = 0; f < m; f++) ids[slot * m + f] = rowIds[f];
      this.labels.array[slot] = label;
      if (this.dense) {
        const dense = this.dense.array;
        for (let k = 0; k < d; k++) dense[slot * d + k] = this.rowDense[k];
      }
      if (this.times) this.times.array[slot] = time;
      this.ordinals.array[slot] = ordinal;
    }
    return true;
  }

  /** Right-sized arrays in stream order. */
  finish(): CtrRows {
    const n = this.labels.length;
    if (!this.sampler.reordered) {
      return {
        numRows: n,
        ids: this.ids.toArray(),
        labels: this.labels.toArray(),
        dense: this.dense ? this.dense.toArray() : null,
        times: this.times ? this.times.toArray() : null,
      };
    }
    const order = streamOrder(this.ordinals.array, n);
    return {
      numRows: n,
      ids: permuteRows(this.ids.array, order, this.numFields, new Int32Array(n * this.numFields)),
      labels: permuteRows(this.labels.array, order, 1, new Float32Array(n)),
      dense: this.dense
        ? permuteRows(this.dense.array, order, this.numDense, new Float32Array(n * this.numDense))
        : null,
      times: this.times ? permuteRows(this.times.array, order, 1, new Float64Array(n)) : null,
    };
  }
}
