import { initialisedTable, StoreEmbedding } from '../../embedding/featureEmbedding';
import { HostEmbeddingTable } from '../../embedding/hostEmbeddingTable';
import type { CompressionMethod, PhaseContext } from '../method';
import { FIELD_NORM_SERIES, fieldMeanNorms } from '../shared/fieldNorms';
import { qrLayout, QrTables } from './qrTables';
import { QR_SPEC } from './spec';

export const qrMethod: CompressionMethod = {
  spec: QR_SPEC,
  plan: (options, setup) => {
    const multiply = options.operation === 'mult';
    const layout = qrLayout(
      setup.dataset.fieldDims,
      options.collisions as number,
      options.threshold as number,
    );
    let store: QrTables | null = null;
    const report = (ctx: PhaseContext) => {
      if (!store) return;
      const s = store;
      const names = ctx.dataset.fieldNames;
      ctx.vector(
        'rows',
        Array.from(ctx.dataset.fieldDims, (n, f) =>
          layout.compressed[f] ? (Math.ceil(n / layout.collisions) + layout.collisions) / n : 1,
        ),
        names,
      );
      ctx.vector(
        FIELD_NORM_SERIES.id,
        fieldMeanNorms(ctx.dataset, s.dim, (id, out) => s.vectorOf(id, out)),
        names,
      );
    };
    return {
      embedding: (req) => {
        // Q starts as the model initialises a table of its shape; R at the combination's identity
        // (1 for a product, 0 for a sum), so the model starts at its usual scale. (DLRM's
        // QREmbeddingBag draws both from U(sqrt(1/n), 1) instead.)
        const qFieldRows = Int32Array.from(req.fieldDims, (n, f) =>
          layout.compressed[f] ? Math.ceil(n / layout.collisions) : n,
        );
        const quotient = initialisedTable(
          'embedding.q',
          layout.qRows,
          req.dim,
          qFieldRows,
          req.init,
          req.optimizer,
          req.rng,
          req.allocate,
        );
        const remainder = new HostEmbeddingTable(
          'embedding.r',
          layout.rRows,
          req.dim,
          req.optimizer,
          multiply ? { kind: 'constant', value: 1 } : { kind: 'zeros' },
          req.rng,
          req.allocate,
        );
        store = new QrTables(quotient, remainder, layout, req.fieldDims, multiply);
        const qParams = layout.qRows * req.dim;
        const rParams = layout.rRows * req.dim;
        return new StoreEmbedding(
          store,
          () => [{ part: 'embedding', params: qParams + rParams, bytes: 4 * (qParams + rParams) }],
          (tensors) => ({
            kind: 'qr',
            dim: req.dim,
            operation: multiply ? 'mult' : 'add',
            collisions: layout.collisions,
            fields: layout.compressed.map((compressed, f) => ({
              compressed,
              qOffset: layout.qOffset[f],
              rOffset: Math.max(0, layout.rOffset[f]),
            })),
            quotient: tensors.put('embedding.quotient', quotient.weights, [layout.qRows, req.dim]),
            remainder: tensors.put('embedding.remainder', remainder.weights, [
              layout.rRows,
              req.dim,
            ]),
          }),
        );
      },
      phases: [
        {
          id: 'train',
          label: 'Train',
          begin: (ctx) => {
            ctx.result.quotientRows = layout.qRows;
            ctx.result.remainderRows = layout.rRows;
            ctx.result.compressedFields = layout.compressed.filter(Boolean).length;
            report(ctx);
          },
          afterEvaluation: (_m, ctx) => report(ctx),
        },
      ],
    };
  },
};
