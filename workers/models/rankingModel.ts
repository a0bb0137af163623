/**
 * What every ranking model looks like to the training loop and to the compression methods.
 *
 * A model is an embedding sub-model f_e (a FeatureEmbedding: host rows plus whatever device math
 * turns them into field vectors) and a prediction sub-model f_p (FM term, MLP, attention...).
 * Host rows of every store are addressed by the same global feature ids, so one BatchPlan serves
 * them all. A forward pass receives, per store, the block of rows the batch touches, plus each
 * (example, field)'s position in that block.
 */
import type * as tf from '@tensorflow/tfjs';
import {
  plainEmbedding,
  type EmbeddingFactory,
  type EmbeddingInit,
  type FeatureEmbedding,
} from '../embedding/featureEmbedding';
import type { SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import type { RowStore } from '../embedding/rowStore';
import { fieldOffsetsOf } from '../data/dataset';
import type { ModelPart } from '../protocol';
import type { Rng } from '../rng';

export interface RankingForwardInputs {
  /** For each of `model.tables`, in order: the rows the batch touches, [U, dim of that store]. */
  tableRows: tf.Tensor2D[];
  /** int32 [B * M]: position of each (example, field) row in the blocks above. */
  localIndex: tf.Tensor1D;
  /** Dense (numeric) features [B, numDense], for models that use them (DLRM); else null. */
  dense: tf.Tensor2D | null;
  batchSize: number;
  /** Seed for this step's dropout masks, derived from the run seed and the step. */
  dropoutSeed: number;
}

/** What a model reports about its size (the trainer adds totals and the dense reference). */
export interface ModelShape {
  parts: ModelPart[];
  /** 2 x multiply-adds of the dense part for one example (embedding lookups not counted). */
  flopsPerExample: number;
}

export interface RankingModel {
  readonly name: string;
  readonly numFields: number;
  /** The embedding sub-model (compression methods replace or wrap it). */
  readonly embedding: FeatureEmbedding;
  /** Every host row store: the embedding's first, then the model's own (e.g. FM's linear term). */
  readonly tables: RowStore[];
  /**
   * Device-resident trainable parameters updated by the run's dense optimizer (the embedding's
   * `variables` included, its `parameterGroups` not).
   */
  readonly denseVariables: tf.Variable[];
  /** Non-trainable device state (BatchNorm running statistics), saved with checkpoints. */
  readonly stateVariables: tf.Variable[];
  /** Logits [B]. Must be called inside a tidy or gradient scope. */
  forward(inputs: RankingForwardInputs, training: boolean): tf.Tensor1D;
  shape(): ModelShape;
  dispose(): void;
}

/** How a model is built beyond its own config: the embedding a method gives it, and allocation. */
export interface ModelBuildOptions {
  /** Builds the embedding sub-model; default: the plain host table. */
  embedding?: EmbeddingFactory;
  /** Rows per field (default: the vocabulary split evenly). */
  fieldDims?: ArrayLike<number> | null;
  /** false: shapes only (parameters are counted, host arrays are not allocated). */
  allocate?: boolean;
}

/** Rows per field: as given, or the vocabulary split into `numFields` near-equal blocks. */
export function fieldDimsOf(
  numFields: number,
  vocabulary: number,
  fieldDims: ArrayLike<number> | null | undefined,
): Int32Array {
  if (fieldDims) return Int32Array.from(fieldDims);
  const dims = new Int32Array(numFields);
  let row = 0;
  for (let f = 0; f < numFields; f++) {
    const end = Math.round(((f + 1) * vocabulary) / numFields);
    dims[f] = end - row;
    row = end;
  }
  return dims;
}

/** Builds a model's embedding sub-model as `options` say (the plain table by default). */
export function buildFeatureEmbedding(
  numFields: number,
  vocabulary: number,
  dim: number,
  init: EmbeddingInit,
  optimizer: SparseOptimizerConfig,
  rng: Rng,
  options: ModelBuildOptions,
): FeatureEmbedding {
  const fieldDims = fieldDimsOf(numFields, vocabulary, options.fieldDims);
  const factory = options.embedding ?? plainEmbedding;
  return factory({
    numFields,
    vocabulary,
    fieldDims,
    fieldOffsets: fieldOffsetsOf(fieldDims),
    dim,
    init,
    optimizer,
    rng,
    allocate: options.allocate !== false,
  });
}

/** Parameters of dense device parts, stored as float32. */
export function densePart(part: string, params: number): ModelPart {
  return { part, params, bytes: 4 * params };
}
