/**
 * Host-resident trainable rows addressed by global feature id: what the training step uploads,
 * differentiates and updates row by row. The plain embedding table is one; a compression method
 * may bring its own (a hashed table, quotient-remainder tables, per-field tables of mixed width),
 * and the step treats them all alike: gather the batch's rows into a [U, dim] block, read back
 * the block's gradient, apply it.
 */
import type { BatchPlan } from './batchPlan';

export interface RowStore {
  readonly name: string;
  /** Width of an uploaded row. */
  readonly dim: number;
  /** Host bytes: parameters, optimizer state, masks and index structures. */
  readonly bytes: number;
  /**
   * The rows of `plan.uniqueRows` (global feature ids) as a [U, dim] block, row-major.
   */
  gatherRows(plan: BatchPlan): Float32Array;
  /**
   * Called before applyGradient, after the device optimizers stepped: a store whose update
   * needs device values (e.g. a threshold parameter) reads them here.
   */
  beforeUpdate?(): Promise<void>;
  /**
   * One optimizer step given the loss gradient of the block gatherRows returned ([U, dim];
   * duplicates of an id already summed by the lookup's backward).
   */
  applyGradient(plan: BatchPlan, grad: Float32Array): void;
  /** Sets the learning rate from the run's current one (a store may scale it). */
  setLearningRate(runLearningRate: number): void;
  /** Forgets optimizer moments and step counts (a retrain starts afresh). */
  resetOptimizerState(): void;
  /** Copies of the trainable values, for checkpoints; loadState puts them back. */
  saveState(): Float32Array[];
  loadState(state: Float32Array[]): void;
}
