/**
 * The embedding sub-model f_e of a ranking model: it turns the batch's feature ids into one
 * d-wide vector per (example, field). Every model consumes it the same way, so a compression
 * method changes the embedding by handing the model another FeatureEmbedding (a hashed table,
 * quotient-remainder tables, mixed dimensions with projections, PEP's soft thresholds...) while
 * the prediction sub-model f_p stays as it is.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelPart } from '../protocol';
import type { EmbeddingEncoding } from '../export/modelFormat';
import type { TensorCollector } from '../export/tensorCollector';
import type { Rng } from '../rng';
import { HostEmbeddingTable, type SparseOptimizerConfig } from './hostEmbeddingTable';
import type { RowStore } from './rowStore';
import { lookupRows } from './rowLookup';
import { maskBytesPerRow, packPrunedTable, type PrunedTable } from './prunedTable';

/** How the model initialises its embedding rows when nothing compresses them. */
export type EmbeddingInit =
  /** torch's xavier_uniform_ over the whole [N, d] table (PEP's models). */
  | { kind: 'xavier-uniform' }
  /** DLRM's create_emb: rows of a field with n values ~ U(-sqrt(1/n), sqrt(1/n)). */
  | { kind: 'per-field-uniform' };

/** What the model asks of its embedding. */
export interface EmbeddingRequest {
  numFields: number;
  vocabulary: number;
  /** Rows per field and each field's first row in the global id space. */
  fieldDims: Int32Array;
  fieldOffsets: Int32Array;
  /** Width of each field vector the model consumes. */
  dim: number;
  init: EmbeddingInit;
  optimizer: SparseOptimizerConfig;
  rng: Rng;
  /** false: shapes only, no arrays (the model card counts parameters without allocating). */
  allocate: boolean;
}

/** Device parameters of an embedding that train with their own learning rate or decay. */
export interface DeviceParameterGroup {
  name: string;
  variables: tf.Variable[];
  /** Multiplies the run's learning rate (default 1). */
  learningRateScale?: number;
  /** Replaces the run's weight decay when set. */
  weightDecay?: number;
}

export interface FeatureEmbedding {
  /** Width of each field vector. */
  readonly dim: number;
  /** Host rows uploaded every step, in order (`lookup` receives their blocks in this order). */
  readonly stores: RowStore[];
  /** Device parameters trained with the model's dense optimizer. */
  readonly variables: tf.Variable[];
  /** Device parameters with their own optimizer settings (not in `variables`). */
  readonly parameterGroups: DeviceParameterGroup[];
  /**
   * Field vectors [B * M, dim] of the batch. `rows[i]` is the [U, stores[i].dim] block of
   * `stores[i]`; `localIndex` gives each (example, field) row's position in those blocks.
   */
  lookup(
    rows: tf.Tensor2D[],
    localIndex: tf.Tensor1D,
    batchSize: number,
    training: boolean,
  ): tf.Tensor2D;
  /** The embedding as stored: parameters and bytes per part. */
  parts(): ModelPart[];
  /** Non-trainable device state to save with checkpoints. */
  readonly stateVariables: tf.Variable[];
  /** The embedding as a model file stores it (its tensors go to `tensors`). */
  exportEncoding(tensors: TensorCollector): EmbeddingEncoding;
  dispose(): void;
}

/**
 * An [rows, dim] table as a model file stores it: as it is, or, when `pruned`, only its non-zero
 * entries with a bitmask per row (bit k of a row, LSB first, marks entry k as stored).
 */
export function tableEncoding(
  tensors: TensorCollector,
  name: string,
  weights: Float32Array,
  rows: number,
  dim: number,
  pruned: boolean,
): EmbeddingEncoding {
  if (!pruned) return { kind: 'dense', dim, table: tensors.put(name, weights, [rows, dim]) };
  return prunedEncoding(tensors, name, packPrunedTable(weights, rows, dim));
}

/** A packed pruned table (its bitmasks and stored entries) as a model file stores it. */
export function prunedEncoding(
  tensors: TensorCollector,
  name: string,
  table: PrunedTable,
): EmbeddingEncoding {
  return {
    kind: 'pruned',
    dim: table.dim,
    masks: tensors.put(
      `${name}.masks`,
      table.masks,
      [table.rows, maskBytesPerRow(table.dim)],
      'uint8',
    ),
    values: tensors.put(`${name}.values`, table.values, [table.values.length]),
  };
}

export type EmbeddingFactory = (request: EmbeddingRequest) => FeatureEmbedding;

/** Bytes of an [N, d] table whose pruned entries are not stored: a d-bit mask per row + values. */
export function prunedTableBytes(rows: number, dim: number, kept: number): number {
  return rows * Math.ceil(dim / 8) + 4 * kept;
}

/** Values of an [rows, dim] table as the model initialises it (see EmbeddingInit). */
export function initialWeights(
  rows: number,
  dim: number,
  fieldRows: ArrayLike<number>,
  init: EmbeddingInit,
  rng: Rng,
): Float32Array {
  const w = new Float32Array(rows * dim);
  if (init.kind === 'xavier-uniform') {
    // xavier_uniform_ on an [N, d] weight: fan_in = d, fan_out = N (as torch computes it).
    const bound = Math.sqrt(6 / (rows + dim));
    for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-bound, bound);
    return w;
  }
  let row = 0;
  for (let f = 0; f < fieldRows.length; f++) {
    const n = fieldRows[f];
    const bound = Math.sqrt(1 / n);
    for (let i = row * dim; i < (row + n) * dim; i++) w[i] = rng.uniform(-bound, bound);
    row += n;
  }
  return w;
}

/** A table filled as the model initialises it (see EmbeddingInit). */
export function initialisedTable(
  name: string,
  rows: number,
  dim: number,
  fieldRows: ArrayLike<number>,
  init: EmbeddingInit,
  optimizer: SparseOptimizerConfig,
  rng: Rng,
  allocate: boolean,
): HostEmbeddingTable {
  const table = new HostEmbeddingTable(
    name,
    rows,
    dim,
    optimizer,
    { kind: 'zeros' },
    rng,
    allocate,
  );
  if (allocate) table.weights.set(initialWeights(rows, dim, fieldRows, init, rng));
  return table;
}

/**
 * An embedding whose field vectors are its one store's rows as they are: the plain table, and
 * any store that maps ids to rows itself (a hashed table, quotient-remainder tables).
 */
export class StoreEmbedding implements FeatureEmbedding {
  readonly stores: RowStore[];
  readonly variables: tf.Variable[] = [];
  readonly parameterGroups: DeviceParameterGroup[] = [];
  readonly stateVariables: tf.Variable[] = [];

  constructor(
    readonly store: RowStore,
    private readonly describe: () => ModelPart[],
    private readonly encode: (tensors: TensorCollector) => EmbeddingEncoding,
  ) {
    this.stores = [store];
  }

  get dim(): number {
    return this.store.dim;
  }

  lookup(rows: tf.Tensor2D[], localIndex: tf.Tensor1D): tf.Tensor2D {
    return lookupRows(rows[0], localIndex);
  }

  parts(): ModelPart[] {
    return this.describe();
  }

  exportEncoding(tensors: TensorCollector): EmbeddingEncoding {
    return this.encode(tensors);
  }

  dispose(): void {}
}

/** The uncompressed embedding: one host table of N rows (possibly masked by a pruning). */
export class PlainEmbedding extends StoreEmbedding {
  constructor(readonly table: HostEmbeddingTable) {
    super(
      table,
      () => {
        const mask = table.currentMask;
        const size = table.numRows * table.dim;
        if (!mask) return [{ part: 'embedding', params: size, bytes: 4 * size }];
        const kept = table.keptEntries;
        const bytes = prunedTableBytes(table.numRows, table.dim, kept);
        return [{ part: 'embedding', params: kept, bytes }];
      },
      // A masked (pruned) table stores its kept entries only.
      (tensors) =>
        tableEncoding(
          tensors,
          'embedding',
          table.weights,
          table.numRows,
          table.dim,
          table.currentMask !== null,
        ),
    );
  }
}

export const plainEmbedding: EmbeddingFactory = (req) =>
  new PlainEmbedding(
    initialisedTable(
      'embedding',
      req.vocabulary,
      req.dim,
      req.fieldDims,
      req.init,
      req.optimizer,
      req.rng,
      req.allocate,
    ),
  );

/** The plain table of a model built without a compressing embedding (tests, pruning methods). */
export function plainTableOf(embedding: FeatureEmbedding): HostEmbeddingTable {
  if (!(embedding instanceof PlainEmbedding)) {
    throw new Error('This embedding is not a plain table');
  }
  return embedding.table;
}
