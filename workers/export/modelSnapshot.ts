/**
 * A model a run passed through and keeps beside its final one, to export as a model file of its
 * own (PEP's snapshots: the model at each target sparsity, retrained or as it was then).
 *
 * What it holds is chosen to be small: the pruned embedding packed as the file stores it (a
 * bitmask per row and the non-zeros, see embedding/prunedTable.ts) and host copies of the other
 * weights, by the names the model file gives them. The architecture itself is not kept: a
 * snapshot is of the run's own model, whose structure the export reads from the kept model.
 */
import type { PrunedTable } from '../embedding/prunedTable';
import type { RankingModel } from '../models/rankingModel';
import { architectureOf } from './exportRun';
import { TensorCollector, type HostTensor } from './tensorCollector';

export interface ModelSnapshot {
  /** How the method names it (PEP: its target, e.g. "90%"). */
  label: string;
  /** The run's step the weights come from (the snapshot, or the retrain's best evaluation). */
  step: number;
  /** True when the weights are a retrained model's; false: the model as it was at `step`. */
  retrained: boolean;
  embedding: PrunedTable;
  /** Every other weight, by its tensor name in the model file (architectureOf). */
  weights: Map<string, HostTensor>;
  metrics: {
    validationAuc: number | null;
    validationLogloss: number | null;
    /** null when the snapshot's model was never scored on the test split. */
    testAuc: number | null;
    testLogloss: number | null;
    testAccuracy: number | null;
  };
  /** What the method says about it, written into the file's compression plan. */
  plan: Record<string, number | string | number[]>;
}

/**
 * Host copies of the weights of `model` the model file holds besides the embedding, as they are
 * now (device weights read once).
 */
export async function copyArchitectureWeights(
  model: RankingModel,
): Promise<Map<string, HostTensor>> {
  const c = new TensorCollector();
  try {
    architectureOf(model, c);
  } catch (err) {
    c.dispose();
    throw err;
  }
  return c.copy();
}

/** Host bytes a snapshot holds, each buffer once (snapshots taken at one step share theirs). */
export function snapshotBuffers(snapshot: ModelSnapshot): ArrayBufferView[] {
  return [
    snapshot.embedding.masks,
    snapshot.embedding.values,
    ...[...snapshot.weights.values()].map((t) => t.values),
  ];
}
