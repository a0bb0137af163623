import type { CompressionMethod } from '../method';
import { reportFieldNorms } from '../shared/reportFieldNorms';
import { NONE_SPEC } from './spec';

export const noneMethod: CompressionMethod = {
  spec: NONE_SPEC,
  plan: () => ({
    phases: [
      {
        id: 'train',
        label: 'Train',
        afterEvaluation: (_metrics, ctx) => reportFieldNorms(ctx),
      },
    ],
  }),
};
