/**
 * Collects parsed CTR rows as typed arrays: provisional field ids, label, optional dense
 * features, optional time and an optional per-row tag (a split code, a raw row number), placed
 * by a RowSampler (all / first N / reservoir sample). Parsers call `beginRow`, write the row's
 * ids and dense values in place (see idsBuffer), and call `commit`; the caller sets `tag`.
 */
import { GrowableFloat32, GrowableFloat64, GrowableInt32 } from './growable';
import { permuteRows, RowSampler, streamOrder, type RowSelection } from './rowSampling';

export interface CtrRows {
  numRows: number;
  ids: Int32Array;
  labels: Float32Array;
  dense: Float32Array | null;
  times: Float64Array | null;
  tags: Int32Array | null;
}

export class CtrRowStore {
  /**
   * Where the parser writes the row being parsed, after `beginRow()`: its ids go to
   * idsBuffer[idsAt .. idsAt + numFields) and its dense values to
   * denseBuffer[denseAt .. denseAt + numDense) - the append position of the store itself, so a
   * row that is kept as parsed costs no copy. Valid until the next beginRow().
   */
  idsBuffer: Int32Array;
  idsAt = 0;
  denseBuffer: Float32Array;
  denseAt = 0;
  readonly sampler: RowSampler;
  private readonly ids: GrowableInt32;
  private readonly labels: GrowableFloat32;
  private readonly dense: GrowableFloat32 | null;
  private readonly times: GrowableFloat64 | null;
  private readonly tags: GrowableInt32 | null;
  /** Tag of the row being parsed (stored by `commit` when the store keeps tags). */
  tag = 0;
  /**
   * Stream ordinal of the row in each slot (to restore order after reservoir replacements);
   * only a sample needs them.
   */
  private readonly ordinals: GrowableInt32 | null;

  constructor(
    readonly numFields: number,
    readonly numDense: number,
    hasTime: boolean,
    selection: RowSelection,
    /** Expected rows (from the file size), to size the buffers once. */
    expectedRows = 1024,
    hasTags = false,
  ) {
    this.sampler = new RowSampler(selection);
    const cap = selection.mode === 'all' ? expectedRows : Math.min(expectedRows, selection.count);
    this.ids = new GrowableInt32(cap * numFields);
    this.labels = new GrowableFloat32(cap);
    this.dense = numDense > 0 ? new GrowableFloat32(cap * numDense) : null;
    this.times = hasTime ? new GrowableFloat64(cap) : null;
    this.tags = hasTags ? new GrowableInt32(cap) : null;
    this.ordinals = selection.mode === 'sample' ? new GrowableInt32(cap) : null;
    this.idsBuffer = this.ids.array;
    this.denseBuffer = this.dense ? this.dense.array : new Float32Array(0);
  }

  get kept(): number {
    return this.sampler.kept;
  }

  /** Makes room for one more row at the append position and points idsAt / denseAt at it. */
  beginRow(): void {
    this.idsBuffer = this.ids.reserve(this.numFields);
    this.idsAt = this.ids.length;
    if (this.dense) {
      this.denseBuffer = this.dense.reserve(this.numDense);
      this.denseAt = this.dense.length;
    }
  }

  /**
   * Keeps the row written since beginRow() (when the row selection takes it); returns false
   * when it was not selected.
   */
  commit(label: number, time: number): boolean {
    const ordinal = this.sampler.seen;
    const slot = this.sampler.next();
    if (slot < 0) return false;
    const m = this.numFields;
    const d = this.numDense;
    if (slot === this.labels.length) {
      // Appended: the row is already in place.
      this.ids.length += m;
      if (this.dense) this.dense.length += d;
      this.labels.push(label);
      this.times?.push(time);
      this.tags?.push(this.tag);
      this.ordinals?.push(ordinal);
    } else {
      // A reservoir replacement: move the row from the append position to its slot.
      const ids = this.idsBuffer;
      const from = this.idsAt;
      for (let f = 0; f < m; f++) ids[slot * m + f] = ids[from + f];
      this.labels.array[slot] = label;
      if (this.dense) {
        const dense = this.denseBuffer;
        for (let k = 0; k < d; k++) dense[slot * d + k] = dense[this.denseAt + k];
      }
      if (this.times) this.times.array[slot] = time;
      if (this.tags) this.tags.array[slot] = this.tag;
      if (this.ordinals) this.ordinals.array[slot] = ordinal;
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
        tags: this.tags ? this.tags.toArray() : null,
      };
    }
    const order = streamOrder((this.ordinals as GrowableInt32).array, n);
    return {
      numRows: n,
      ids: permuteRows(this.ids.array, order, this.numFields, new Int32Array(n * this.numFields)),
      labels: permuteRows(this.labels.array, order, 1, new Float32Array(n)),
      dense: this.dense
        ? permuteRows(this.dense.array, order, this.numDense, new Float32Array(n * this.numDense))
        : null,
      times: this.times ? permuteRows(this.times.array, order, 1, new Float64Array(n)) : null,
      tags: this.tags ? permuteRows(this.tags.array, order, 1, new Int32Array(n)) : null,
    };
  }
}
