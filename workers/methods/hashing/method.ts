import { initialisedTable, StoreEmbedding } from '../../embedding/featureEmbedding';
import { Rng } from '../../rng';
import type { CompressionMethod, PhaseContext } from '../method';
import { FIELD_NORM_SERIES, fieldMeanNorms } from '../shared/fieldNorms';
import { fieldHashes, HashedTable } from './hashedTable';
import { HASHING_SPEC } from './spec';

/** Salt of the hash parameters' generator (derived from the run seed). */
const HASH_SALT = 0x5bd1e995;

export const hashingMethod: CompressionMethod = {
  spec: HASHING_SPEC,
  plan: (options, setup) => {
    const fraction = options.fraction as number;
    const hashes = fieldHashes(
      setup.dataset.fieldDims,
      fraction,
      new Rng(setup.train.seed ^ HASH_SALT),
    );
    let store: HashedTable | null = null;
    const report = (ctx: PhaseContext) => {
      if (!store) return;
      const names = ctx.dataset.fieldNames;
      ctx.vector('collided', store.collidedShare(ctx.dataset.fieldDims), names);
      // Each feature's vector is its bucket's row.
      const { rowOf, dim: d } = store;
      const w = store.table.weights;
      const norms = fieldMeanNorms(ctx.dataset, d, (id, out) =>
        out.set(w.subarray(rowOf[id] * d, rowOf[id] * d + d)),
      );
      ctx.vector(FIELD_NORM_SERIES.id, norms, names);
    };
    return {
      embedding: (req) => {
        const buckets = Int32Array.from(hashes, (h) => h.buckets);
        const rows = buckets.reduce((a, b) => a + b, 0);
        const table = initialisedTable(
          'embedding',
          rows,
          req.dim,
          buckets,
          req.init,
          req.optimizer,
          req.rng,
          req.allocate,
        );
        store = new HashedTable(table, hashes, req.fieldDims);
        const hashed = store;
        return new StoreEmbedding(
          store,
          () => [{ part: 'embedding', params: rows * req.dim, bytes: 4 * rows * req.dim }],
          (tensors) => {
            let offset = 0;
            return {
              kind: 'hashed',
              dim: req.dim,
              fields: hashes.map((h) => {
                const field = { a: h.a, b: h.b, buckets: h.buckets, offset };
                offset += h.buckets;
                return field;
              }),
              table: tensors.put('embedding', hashed.table.weights, [rows, req.dim]),
            };
          },
        );
      },
      phases: [
        {
          id: 'train',
          label: 'Train',
          begin: (ctx) => {
            ctx.result.rows = hashes.reduce((a, h) => a + h.buckets, 0);
            ctx.result.rowsPerField = hashes.map((h) => h.buckets);
            report(ctx);
          },
          afterEvaluation: (_m, ctx) => report(ctx),
        },
      ],
    };
  },
};
