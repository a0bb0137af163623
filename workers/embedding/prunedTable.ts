/**
 * A pruned [rows, dim] table kept compactly, exactly as a model file's `pruned` encoding stores it:
 * a bitmask per row (uint8 [rows, ceil(dim / 8)]; bit k of a row, LSB first, marks entry k as
 * stored) and the stored entries row by row, in order of k. N · ceil(d / 8) bytes plus 4 per kept
 * entry: a 90%-sparse table of d = 16 takes 2 + 6.4 bytes a row instead of 64.
 *
 * The packer takes the table a block of rows at a time, so a caller that computes the entries on
 * the fly (PEP's V̂) never holds the whole dense table.
 */

export interface PrunedTable {
  rows: number;
  dim: number;
  /** uint8 [rows, ceil(dim / 8)]. */
  masks: Uint8Array;
  /** float32 [kept]: the non-zero entries, row by row, by increasing k. */
  values: Float32Array;
}

export function maskBytesPerRow(dim: number): number {
  return Math.ceil(dim / 8);
}

export class PrunedTablePacker {
  private readonly masks: Uint8Array;
  private values: Float32Array;
  private kept = 0;
  private nextRow = 0;
  private readonly bytesPerRow: number;

  /** `expectedKept`: a guess of the non-zeros (the values grow past it when needed). */
  constructor(
    readonly rows: number,
    readonly dim: number,
    expectedKept = 0,
  ) {
    this.bytesPerRow = maskBytesPerRow(dim);
    this.masks = new Uint8Array(rows * this.bytesPerRow);
    this.values = new Float32Array(Math.max(16, Math.min(rows * dim, expectedKept)));
  }

  /** Appends the next `block.length / dim` rows (row-major); zeros are not stored. */
  addRows(block: Float32Array): void {
    const d = this.dim;
    const count = block.length / d;
    if (!Number.isInteger(count) || this.nextRow + count > this.rows) {
      throw new Error(
        `pruned table: a block of ${block.length} values does not fit rows ${this.nextRow}.. of ${this.rows} x ${d}`,
      );
    }
    for (let r = 0; r < count; r++) {
      const maskRow = (this.nextRow + r) * this.bytesPerRow;
      for (let k = 0; k < d; k++) {
        const v = block[r * d + k];
        if (v === 0) continue;
        if (this.kept === this.values.length) this.grow();
        this.masks[maskRow + (k >> 3)] |= 1 << (k & 7);
        this.values[this.kept++] = v;
      }
    }
    this.nextRow += count;
  }

  private grow(): void {
    const next = new Float32Array(
      Math.min(this.rows * this.dim, Math.ceil(this.values.length * 1.5) + 16),
    );
    next.set(this.values);
    this.values = next;
  }

  finish(): PrunedTable {
    if (this.nextRow !== this.rows) {
      throw new Error(`pruned table: ${this.nextRow} of ${this.rows} rows were given`);
    }
    const values = this.kept === this.values.length ? this.values : this.values.slice(0, this.kept);
    return { rows: this.rows, dim: this.dim, masks: this.masks, values };
  }
}

/** The whole dense table packed at once. */
export function packPrunedTable(weights: Float32Array, rows: number, dim: number): PrunedTable {
  let kept = 0;
  for (let i = 0; i < weights.length; i++) if (weights[i] !== 0) kept++;
  const packer = new PrunedTablePacker(rows, dim, kept);
  packer.addRows(weights);
  return packer.finish();
}

/** The entry-per-byte mask (1 = stored) of a packed table: [rows * dim]. */
export function unpackMask(table: PrunedTable): Uint8Array {
  const { rows, dim } = table;
  const bytesPerRow = maskBytesPerRow(dim);
  const out = new Uint8Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < dim; k++) {
      out[r * dim + k] = (table.masks[r * bytesPerRow + (k >> 3)] >> (k & 7)) & 1;
    }
  }
  return out;
}

/** Stored entries per row (each feature's embedding size). */
export function rowSizes(table: PrunedTable): Uint16Array {
  const bytesPerRow = maskBytesPerRow(table.dim);
  const out = new Uint16Array(table.rows);
  for (let r = 0; r < table.rows; r++) {
    let count = 0;
    for (let b = 0; b < bytesPerRow; b++) {
      let byte = table.masks[r * bytesPerRow + b];
      while (byte) {
        byte &= byte - 1;
        count++;
      }
    }
    out[r] = count;
  }
  return out;
}

/**
 * Mean stored entries per row of each field's rows (field f: `fieldDims[f]` rows from
 * `fieldOffsets[f]`): the field's mean embedding size, read from the bitmasks alone.
 */
export function fieldMeanSizes(
  table: PrunedTable,
  fieldDims: ArrayLike<number>,
  fieldOffsets: ArrayLike<number>,
): number[] {
  const sizes = rowSizes(table);
  return Array.from({ length: fieldDims.length }, (_, f) => {
    const n = fieldDims[f];
    const start = fieldOffsets[f];
    let sum = 0;
    for (let row = start; row < start + n; row++) sum += sizes[row];
    return n > 0 ? sum / n : 0;
  });
}
