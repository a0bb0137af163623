// Types of paperConfigs.mjs for the TypeScript scripts (bench-umec, bench-pep-curve, bench-scorer).
import type { RunConfig, TrainConfig } from '../workers/protocol';

type PaperSettings = Pick<
  TrainConfig,
  | 'embeddingDim'
  | 'mlpLayers'
  | 'dropout'
  | 'batchNorm'
  | 'batchSize'
  | 'learningRate'
  | 'weightDecay'
  | 'denseOptimizer'
  | 'gradClipNorm'
  | 'embeddingOptimizer'
  | 'embeddingUpdate'
>;

export const PEP_CRITEO: Readonly<PaperSettings>;
export const UMEC_DLRM: Readonly<PaperSettings>;
export function paperRunConfig(
  model: TrainConfig['model'],
  overrides?: Partial<TrainConfig>,
): RunConfig;
