/**
 * The first-order (linear) table of the FM-style models (FM, DeepFM, Wide&Deep), built as the
 * PEP/torchfm code builds it: width 1, torch's nn.Embedding default N(0, 1) init (torchfm's
 * FeaturesLinear; it shapes the early learning curve, so it is followed as is). It is not
 * pruned or counted as embedding; the embedding table itself comes from the model's
 * FeatureEmbedding.
 */
import { HostEmbeddingTable, type SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import type { Rng } from '../rng';
import type { ModelBuildOptions } from './rankingModel';

export function buildLinearTable(
  vocabulary: number,
  optimizer: SparseOptimizerConfig,
  rng: Rng,
  options: ModelBuildOptions,
): HostEmbeddingTable {
  return new HostEmbeddingTable(
    'linear',
    vocabulary,
    1,
    optimizer,
    { kind: 'normal', std: 1 },
    rng,
    options.allocate !== false,
  );
}
