/**
 * What every ranking model looks like to the training loop and to the compression methods.
 *
 * Embedding tables live on the host (see HostEmbeddingTable); all of a model's tables are
 * addressed by the same global feature ids, so one BatchPlan serves them all. A forward pass
 * receives, per table, the block of rows the batch touches, plus each (example, field)'s position
 * in that block.
 */
import type * as tf from '@tensorflow/tfjs';
import type { HostEmbeddingTable } from '../embedding/hostEmbeddingTable';
import type { ModelSummary } from '../protocol';

export interface RankingForwardInputs {
  /** For each of `model.tables`, in order: the rows the batch touches, [U, dim of that table]. */
  tableRows: tf.Tensor2D[];
  /** int32 [B * M]: position of each (example, field) row in the blocks above. */
  localIndex: tf.Tensor1D;
  /** Dense (numeric) features [B, numDense], for models that use them (DLRM); else null. */
  dense: tf.Tensor2D | null;
  batchSize: number;
  /** Seed for this step's dropout masks, derived from the run seed and the step. */
  dropoutSeed: number;
}

export interface RankingModel {
  readonly name: string;
  readonly numFields: number;
  /** Host tables; `tables[0]` is the main (prunable) embedding table. */
  readonly tables: HostEmbeddingTable[];
  /** Device-resident trainable parameters (updated by a dense optimizer). */
  readonly denseVariables: tf.Variable[];
  /** Non-trainable device state (BatchNorm running statistics), saved with checkpoints. */
  readonly stateVariables: tf.Variable[];
  /** Logits [B]. Must be called inside a tidy or gradient scope. */
  forward(inputs: RankingForwardInputs, training: boolean): tf.Tensor1D;
  summary(): ModelSummary;
  dispose(): void;
}
