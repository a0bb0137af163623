import { numberOption } from '../../options';
import { CTR_MODELS, type MethodSpec } from '../methodSpec';
import { FIELD_NORM_CHART, FIELD_NORM_SERIES } from '../shared/fieldNorms';

/** The simplest baseline: the same model with a smaller embedding dimension for every field. */
export const UNIFORM_DIM_SPEC: MethodSpec = {
  id: 'uniform-dim',
  label: 'Smaller uniform dimension',
  summary: 'Every field gets the same smaller dimension d′ < d (the MLP input shrinks with it)',
  order: 10,
  models: CTR_MODELS,
  options: {
    dim: numberOption({
      label: 'Dimension d′',
      help: 'Embedding width of every field; must be below the model’s embedding dim',
      param: 'udim',
      default: 4,
      min: 1,
      max: 255,
      integer: true,
    }),
  },
  charts: [FIELD_NORM_CHART],
  series: [FIELD_NORM_SERIES],
  check: (options, train): Record<string, string> =>
    (options.dim as number) < train.embeddingDim
      ? {}
      : { dim: `Dimension d′ must be smaller than the embedding dim ${train.embeddingDim}` },
};
