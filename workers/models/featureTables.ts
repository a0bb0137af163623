/**
 * The host tables of the FM-style models (FM, DeepFM, Wide&Deep), built as the PEP/torchfm code
 * builds them: the embedding table with xavier-uniform init, and the first-order (linear) table
 * of width 1 with torch's nn.Embedding default N(0, 1) init (torchfm's FeaturesLinear; it shapes
 * the early learning curve, so it is followed as is). The linear table is not pruned or counted
 * as embedding.
 */
import { HostEmbeddingTable, type SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import type { Rng } from '../rng';

export function buildFeatureTables(
  vocabulary: number,
  embeddingDim: number,
  optimizer: SparseOptimizerConfig,
  rng: Rng,
): { embedding: HostEmbeddingTable; linear: HostEmbeddingTable } {
  return {
    embedding: new HostEmbeddingTable(
      'embedding',
      vocabulary,
      embeddingDim,
      optimizer,
      { kind: 'xavier-uniform' },
      rng.fork(11),
    ),
    linear: new HostEmbeddingTable(
      'linear',
      vocabulary,
      1,
      optimizer,
      { kind: 'normal', std: 1 },
      rng.fork(12),
    ),
  };
}
