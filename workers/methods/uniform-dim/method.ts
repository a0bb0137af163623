import type { CompressionMethod } from '../method';
import { reportFieldNorms } from '../shared/reportFieldNorms';
import { UNIFORM_DIM_SPEC } from './spec';

export const uniformDimMethod: CompressionMethod = {
  spec: UNIFORM_DIM_SPEC,
  plan: (options) => ({
    modelOverrides: { embeddingDim: options.dim as number },
    phases: [
      {
        id: 'train',
        label: 'Train',
        afterEvaluation: (_metrics, ctx) => reportFieldNorms(ctx),
      },
    ],
  }),
};
