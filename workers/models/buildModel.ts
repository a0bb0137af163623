/**
 * Builds the model a training config names on a dataset, with the embedding sub-model a method
 * hands it. Used by the trainer, the model card, and methods that rebuild a model mid-run (a hard
 * prune to smaller layers and fewer fields).
 */
import type { CtrDataset } from '../data/dataset';
import type { SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import type { TrainConfig } from '../protocol';
import type { Rng } from '../rng';
import { AutoIntModel, DEFAULT_AUTOINT_CONFIG } from './autoint';
import { DEFAULT_DLRM_CONFIG, DlrmModel } from './dlrm';
import { FmFamilyModel } from './fmFamily';
import type { ModelBuildOptions, RankingModel } from './rankingModel';
import { WideDeepModel } from './wideDeep';

/** The host tables' optimizer as the run's settings say. */
export function sparseOptimizerOf(cfg: TrainConfig): SparseOptimizerConfig {
  return {
    kind: cfg.embeddingOptimizer,
    mode: cfg.embeddingUpdate,
    learningRate: cfg.learningRate,
    weightDecay: cfg.weightDecay,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
  };
}

export function buildModel(
  ds: CtrDataset,
  cfg: TrainConfig,
  rng: Rng,
  options: ModelBuildOptions = {},
): RankingModel {
  const embeddingOptimizer = sparseOptimizerOf(cfg);
  const shape = { numFields: ds.numFields, vocabulary: ds.totalVocabulary };
  const deep = {
    embeddingDim: cfg.embeddingDim,
    mlpLayers: cfg.mlpLayers,
    dropout: cfg.dropout,
    batchNorm: cfg.batchNorm,
  };
  const build = { fieldDims: ds.fieldDims, ...options };
  switch (cfg.model) {
    case 'fm':
    case 'deepfm':
      return new FmFamilyModel(
        { kind: cfg.model, ...shape, ...deep },
        embeddingOptimizer,
        rng,
        build,
      );
    case 'widedeep':
      return new WideDeepModel({ ...shape, ...deep }, embeddingOptimizer, rng, build);
    case 'autoint':
      return new AutoIntModel(
        { ...DEFAULT_AUTOINT_CONFIG, ...shape, ...deep },
        embeddingOptimizer,
        rng,
        build,
      );
    case 'dlrm': {
      // UMEC's DLRM: the bottom MLP ends at the embedding width; the form's MLP is the top MLP.
      const bottom = [...DEFAULT_DLRM_CONFIG.bottomLayers.slice(0, -1), cfg.embeddingDim];
      return new DlrmModel(
        {
          ...shape,
          fieldDims: ds.fieldDims,
          embeddingDim: cfg.embeddingDim,
          numDense: ds.numDense ?? 0,
          bottomLayers: bottom,
          topLayers: [...cfg.mlpLayers, 1],
        },
        embeddingOptimizer,
        rng,
        build,
      );
    }
  }
}
