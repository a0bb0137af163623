import type { CompressionMethod, PhaseContext } from '../method';
import { FIELD_NORM_SERIES } from '../shared/fieldNorms';
import { alphaPowerDims } from './alphaPowerRule';
import { buildMixedDimEmbedding, type MixedDimEmbedding } from './mixedDimEmbedding';
import { MIXED_DIM_SPEC } from './spec';

export const mixedDimMethod: CompressionMethod = {
  spec: MIXED_DIM_SPEC,
  plan: (options, setup) => {
    const dims = alphaPowerDims(
      setup.dataset.fieldDims,
      setup.train.embeddingDim,
      options.alpha as number,
      options.roundToPowerOfTwo as boolean,
    );
    let embedding: MixedDimEmbedding | null = null;
    const report = (ctx: PhaseContext) => {
      if (!embedding) return;
      const names = ctx.dataset.fieldNames;
      ctx.vector('dim', dims, names);
      // Mean norm of each field's rows, in its own d_f (before projection).
      const norms = embedding.tables.tables.map((t, f) => {
        const d = dims[f];
        let sum = 0;
        for (let r = 0; r < t.numRows; r++) {
          let sq = 0;
          for (let k = 0; k < d; k++) sq += t.weights[r * d + k] ** 2;
          sum += Math.sqrt(sq);
        }
        return t.numRows > 0 ? sum / t.numRows : 0;
      });
      ctx.vector(FIELD_NORM_SERIES.id, norms, names);
    };
    return {
      embedding: (req) => (embedding = buildMixedDimEmbedding(req, dims)),
      phases: [
        {
          id: 'train',
          label: 'Train',
          begin: (ctx) => {
            ctx.result.dimensions = Array.from(dims);
            report(ctx);
          },
          afterEvaluation: (_m, ctx) => report(ctx),
        },
      ],
    };
  },
};
