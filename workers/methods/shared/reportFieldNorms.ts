/** Streams the per-field embedding norms of a plain table (worker side of fieldNorms.ts). */
import { plainTableOf } from '../../embedding/featureEmbedding';
import type { PhaseContext } from '../method';
import { FIELD_NORM_SERIES, tableFieldNorms } from './fieldNorms';

export function reportFieldNorms(ctx: PhaseContext): void {
  const table = plainTableOf(ctx.model.embedding);
  ctx.vector(
    FIELD_NORM_SERIES.id,
    tableFieldNorms(ctx.dataset, table.weights, table.dim),
    ctx.dataset.fieldNames,
  );
}
