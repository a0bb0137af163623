/**
 * The lab's model file: a compressed model as one JSON document that carries everything needed
 * to score raw rows elsewhere (docs/model-format.md; JSON Schema in docs/model.schema.json).
 *
 * - envelope: format, version, createdAt, labVersion;
 * - dataset: the fields, their vocabularies (raw value -> id), the rare-value rule, the numeric
 *   bucketing and the dense transform, and the raw row layout they were read from;
 * - architecture: the model and its weights by name;
 * - embedding: the compressed embedding as stored (dense, pruned rows with a bitmask per row,
 *   hashed, quotient-remainder or mixed-dimension tables) - never a dense array of zeros;
 * - compression: the method, its options and what it decided (per-field sizes...);
 * - tensors: every weight, base64 of little-endian float32 (or uint8 for masks), with its shape;
 * - metrics and the run config that produced it.
 *
 * tfjs-free and DOM-free: the scorer, the worker, the command line and the UI share it.
 */

export const MODEL_FORMAT = 'recsys-lab-model';
export const MODEL_FORMAT_VERSION = 1;

/** Refused before anything is allocated: a declared tensor larger than this many elements. */
export const MAX_TENSOR_ELEMENTS = 256 * 1024 * 1024;
/** Refused before anything is allocated: more than this many elements over all tensors. */
export const MAX_TOTAL_ELEMENTS = 512 * 1024 * 1024;

export type TensorDtype = 'float32' | 'uint8' | 'int32';

export interface EncodedTensor {
  dtype: TensorDtype;
  shape: number[];
  /** Base64 of the little-endian bytes. */
  data: string;
}

/** A name in `tensors`. */
export type TensorRef = string;

export interface DenseRef {
  /** [in, out] */
  weight: TensorRef;
  /** [out] */
  bias: TensorRef;
}

export interface BatchNormRef {
  gamma: TensorRef;
  beta: TensorRef;
  runningMean: TensorRef;
  runningVar: TensorRef;
  eps: number;
}

/** [Linear -> BatchNorm? -> ReLU] x n, then an optional output Linear (no activation). */
export interface MlpRef {
  hidden: { linear: DenseRef; norm: BatchNormRef | null }[];
  output: DenseRef | null;
}

export type Architecture =
  | {
      model: 'fm' | 'deepfm';
      numFields: number;
      embeddingDim: number;
      /** The first-order term: one weight per feature [N], and a bias [1]. */
      linear: TensorRef;
      bias: TensorRef;
      /** DeepFM's MLP over the concatenated field vectors; null for FM. */
      mlp: MlpRef | null;
    }
  | {
      model: 'widedeep';
      numFields: number;
      embeddingDim: number;
      linear: TensorRef;
      bias: TensorRef;
      mlp: MlpRef;
    }
  | {
      model: 'autoint';
      numFields: number;
      embeddingDim: number;
      attentionDim: number;
      numHeads: number;
      attentionEmbedding: DenseRef;
      /** Self-attention layers: packed q/k/v in-projection [E, 3E] and out-projection. */
      layers: { inProj: DenseRef; outProj: DenseRef }[];
      residual: DenseRef | null;
      output: DenseRef;
      mlp: MlpRef | null;
    }
  | {
      model: 'dlrm';
      numFields: number;
      embeddingDim: number;
      numDense: number;
      /** ReLU after every layer. */
      bottom: DenseRef[];
      /** ReLU after every layer but the last (the logit). */
      top: DenseRef[];
    };

/** How a field's value becomes an id of the embedding. */
export type EmbeddingEncoding =
  | { kind: 'dense'; dim: number; table: TensorRef }
  | {
      kind: 'pruned';
      dim: number;
      /** uint8 [N, ceil(dim / 8)]: bit k of row i (LSB first) says entry (i, k) is stored. */
      masks: TensorRef;
      /** float32 [nnz]: the stored entries, row by row. */
      values: TensorRef;
    }
  | {
      kind: 'hashed';
      dim: number;
      /** Per field: value i reads row offset + ((a * i + b) mod 2147483647) mod buckets. */
      fields: { a: number; b: number; buckets: number; offset: number }[];
      table: TensorRef;
    }
  | {
      kind: 'qr';
      dim: number;
      operation: 'mult' | 'add';
      collisions: number;
      /** Per field: compressed (Q[qOffset + i / c] op R[rOffset + i mod c]) or whole (Q[qOffset + i]). */
      fields: { compressed: boolean; qOffset: number; rOffset: number }[];
      quotient: TensorRef;
      remainder: TensorRef;
    }
  | {
      kind: 'mixed-dim';
      dim: number;
      /** Per field: its rows [n_f, d_f] and, when d_f < dim, a projection [d_f, dim]. */
      fields: { table: TensorRef; projection: TensorRef | null }[];
    };

export interface FieldDescription {
  name: string;
  /** Ids of this field: 0 .. rows - 1; its first row in the global id space is `offset`. */
  rows: number;
  offset: number;
  /**
   * 'identity': the raw column text is the token; 'criteo-bucket': a number, tokenised as
   * floor(ln(v)^2) for v > 2, v - 2 otherwise, 'NULL' when empty; 'id': the column holds the id;
   * 'derived': computed from side tables when the data was loaded (scorable as ids only).
   */
  transform: 'identity' | 'criteo-bucket' | 'derived' | 'id';
  /** tokens[id] for the kept values (count >= minCount, by count desc then token). */
  tokens: string[] | null;
  /** The id of every rarer or unseen value, or null (unseen values then take id 0). */
  rareId: number | null;
  minCount: number;
  /** Column of the raw row this field is read from, when the data came from a delimited file. */
  column: number | null;
}

export interface DatasetDescription {
  name: string;
  fields: FieldDescription[];
  /** Dense inputs (DLRM): log(x + 1) of these columns, negatives and empties as 0. */
  dense: { names: string[]; columns: number[] } | null;
  /** How raw rows look: a delimited line, or the field ids themselves. */
  input:
    | {
        kind: 'delimited';
        delimiter: string;
        hasHeader: boolean;
        quoted: boolean;
        labelColumn: number;
        numColumns: number;
        /** Column names when the file had a header (a scored file's header is matched by name). */
        header: string[] | null;
      }
    | { kind: 'ids' };
}

export interface ExportMetrics {
  validationAuc: number | null;
  validationLogloss: number | null;
  testAuc: number | null;
  testLogloss: number | null;
  testAccuracy: number | null;
  /** Share of the dense embedding's entries not stored. */
  sparsity: number;
  parameters: number;
  embeddingParameters: number;
  denseEmbeddingParameters: number;
  flopsPerExample: number;
  /** Bytes of the weights in this file (decoded). */
  weightBytes: number;
  /** Bytes the same model's weights take uncompressed (float32). */
  denseWeightBytes: number;
}

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  version: number;
  createdAt: string;
  labVersion: string;
  dataset: DatasetDescription;
  architecture: Architecture;
  embedding: EmbeddingEncoding;
  compression: {
    method: string;
    label: string;
    options: Record<string, number | string | boolean | number[]>;
    /** What the method decided, e.g. per-field mean embedding sizes. */
    plan: Record<string, number | string | number[]>;
  };
  tensors: Record<string, EncodedTensor>;
  metrics: ExportMetrics;
  /** The run config that produced the model (as the lab's "Download config" writes it). */
  config: unknown;
}
