import { plainTableOf } from '../../embedding/featureEmbedding';
import type { CompressionMethod, PhaseContext } from '../method';
import { reportFieldNorms } from '../shared/reportFieldNorms';
import { keptShareByField, logMagnitudeHistogram, magnitudeMask } from './magnitudeMask';
import { MAGNITUDE_SPEC } from './spec';

const HISTOGRAM_BINS = 40;

export const magnitudeMethod: CompressionMethod = {
  spec: MAGNITUDE_SPEC,
  plan: (options) => {
    let sparsity = 0;
    const prune = (ctx: PhaseContext) => {
      const table = plainTableOf(ctx.model.embedding);
      const target = options.sparsity as number;
      const perField = options.scope === 'per-field';
      const { edges, counts } = logMagnitudeHistogram(table.weights, HISTOGRAM_BINS);
      ctx.histogram('magnitude', edges, counts);
      const { mask, thresholds } = magnitudeMask(
        table.weights,
        table.dim,
        target,
        perField ? ctx.dataset.fieldDims : null,
      );
      table.setMask(mask);
      const kept = table.keptEntries;
      sparsity = 1 - kept / mask.length;
      ctx.vector(
        'kept',
        keptShareByField(mask, table.dim, ctx.dataset.fieldDims),
        ctx.dataset.fieldNames,
      );
      ctx.marker(
        perField
          ? `pruned to ${(100 * sparsity).toFixed(1)}% sparsity (per-field thresholds)`
          : `pruned to ${(100 * sparsity).toFixed(1)}% sparsity (|v| ≤ ${thresholds[0].toExponential(2)})`,
      );
      Object.assign(ctx.result, {
        sparsity,
        keptEntries: kept,
        thresholds: thresholds.map((t) => Math.fround(t)),
      });
    };
    return {
      phases: [
        {
          id: 'train',
          label: 'Train dense',
          afterStep: (ctx) => ctx.record('sparsity', 0),
          afterEvaluation: (_m, ctx) => reportFieldNorms(ctx),
        },
        {
          id: 'fine-tune',
          label: 'Prune and fine-tune',
          budget: { epochs: options.fineTuneEpochs as number },
          evaluateAtStart: true,
          begin: prune,
          afterStep: (ctx) => ctx.record('sparsity', sparsity),
          afterEvaluation: (_m, ctx) => reportFieldNorms(ctx),
        },
      ],
    };
  },
};
