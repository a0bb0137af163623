/**
 * The compact in-memory form of a CTR dataset: typed arrays only, so that a loaded slice costs
 * about the size of its arrays. Field ids are per-field (0 .. fieldDims[f]-1); the model adds
 * `fieldOffsets` to address one shared embedding table of `totalVocabulary` rows.
 */
export interface CtrSplit {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

/**
 * How one field's raw values map to its ids, kept with a loaded dataset so that an exported
 * model can score raw rows. Ids 0..tokens.length-1 are the kept values (count >= minCount) in
 * order of count desc, then token; `rareId` (when present, = tokens.length) is the one shared id
 * of every rarer or unseen value.
 *
 * A reference-encoded file (transform 'id') holds ids, not raw values: its vocabulary maps each
 * id to itself, tokens[i] = String(i) for i in 0..fieldDims-1, with rareId null and minCount 1.
 * (The reference's own rare id, where it has one, is one of those ids; the file does not say
 * which.)
 */
export interface FieldVocabulary {
  name: string;
  /**
   * 'identity': the raw column text is the token. 'criteo-bucket': the column is a number,
   * tokenised as the reference does (empty -> 'NULL', v > 2 -> floor(ln(v)^2), else v - 2).
   * 'derived': the token comes from a side table or a computed value (MovieLens).
   * 'id': the column already holds the field id (reference-encoded file); token = String(id).
   */
  transform: 'identity' | 'criteo-bucket' | 'derived' | 'id';
  tokens: string[];
  rareId: number | null;
  minCount: number;
}

export interface CtrDataset {
  name: string;
  numRows: number;
  numFields: number;
  fieldNames: string[];
  fieldDims: Int32Array;
  fieldOffsets: Int32Array;
  totalVocabulary: number;
  /** Row-major [numRows, numFields] per-field ids. */
  ids: Int32Array;
  labels: Float32Array;
  split: CtrSplit;
  /** Dense features per row (DLRM: log(x+1) of Criteo I1..I13), when the source has them. */
  numDense?: number;
  /** Row-major [numRows, numDense]; null when the source has no numeric columns. */
  dense?: Float32Array | null;
  /** Per-field raw value -> id mapping (see FieldVocabulary). */
  vocabularies?: FieldVocabulary[];
  /** A per-row time value (Avazu hour YYMMDDHH, MovieLens unix time) when the source has one. */
  times?: Float64Array | null;
  /**
   * How the raw rows were laid out, when they came from a delimited file (Criteo, Avazu, CSV):
   * what an exported model needs to read raw rows again.
   */
  rawLayout?: RawLayout | null;
}

/** A delimited file's layout: each field's and dense feature's column, the label's, the header. */
export interface RawLayout {
  delimiter: string;
  hasHeader: boolean;
  quoted: boolean;
  labelColumn: number;
  numColumns: number;
  header: string[] | null;
  /** Field name -> its column. */
  fieldColumns: Record<string, number>;
  /** The dense features' columns, in the order of `CtrDataset.dense`. */
  denseColumns: number[];
  denseNames: string[];
}

export function fieldOffsetsOf(fieldDims: ArrayLike<number>): Int32Array {
  const offsets = new Int32Array(fieldDims.length);
  let acc = 0;
  for (let f = 0; f < fieldDims.length; f++) {
    offsets[f] = acc;
    acc += fieldDims[f];
  }
  return offsets;
}

/** Throws a clear error when any id is out of its field's range (tf.gather would not say). */
export function validateIds(ds: CtrDataset): void {
  const { ids, numFields, fieldDims, numRows } = ds;
  if (ids.length !== numRows * numFields) {
    throw new Error(`ids has ${ids.length} entries, expected ${numRows} x ${numFields}`);
  }
  for (let r = 0; r < numRows; r++) {
    for (let f = 0; f < numFields; f++) {
      const v = ids[r * numFields + f];
      if (v < 0 || v >= fieldDims[f]) {
        throw new Error(
          `row ${r} field ${ds.fieldNames[f]}: id ${v} outside 0..${fieldDims[f] - 1}`,
        );
      }
    }
  }
}

/**
 * Fills `out` ([rows.length, numFields]) with global table rows (field id + field offset) for
 * the given dataset rows, and `labelsOut` with their labels.
 */
export function gatherBatch(
  ds: CtrDataset,
  rows: Int32Array,
  start: number,
  count: number,
  out: Int32Array,
  labelsOut: Float32Array,
): void {
  const m = ds.numFields;
  for (let i = 0; i < count; i++) {
    const r = rows[start + i];
    const base = r * m;
    for (let f = 0; f < m; f++) out[i * m + f] = ds.ids[base + f] + ds.fieldOffsets[f];
    labelsOut[i] = ds.labels[r];
  }
}

/** Fills `out` ([count, numDense]) with the dense features of the given rows (zeros if none). */
export function gatherDense(
  ds: CtrDataset,
  rows: Int32Array,
  start: number,
  count: number,
  out: Float32Array,
): void {
  const k = ds.numDense ?? 0;
  if (k === 0 || !ds.dense) return;
  for (let i = 0; i < count; i++) {
    const base = rows[start + i] * k;
    out.set(ds.dense.subarray(base, base + k), i * k);
  }
}
