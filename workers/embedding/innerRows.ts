/**
 * For row stores that reach their parameters through a mapping (a hashed table, the quotient and
 * remainder tables of QR embeddings, per-field tables of mixed width): the batch's unique global
 * ids map to rows of an inner table, several ids may share one inner row, and the gradient of a
 * shared row is the sum over the ids that reach it. The inner table keeps its own batch plan, so
 * its optimizer (lazy or exact) works exactly as it does on a plain table.
 */
import { BatchPlanner, type BatchPlan } from './batchPlan';
import type { HostEmbeddingTable } from './hostEmbeddingTable';

export class InnerRows {
  /** Made on the first plan: a shape-only table (the model card's) never needs one. */
  private planner: BatchPlanner | null = null;

  constructor(readonly table: HostEmbeddingTable) {}

  /** The inner plan for `rows` (one inner row per outer unique id, repeats allowed). */
  plan(rows: Int32Array, count = rows.length): BatchPlan {
    this.planner ??= new BatchPlanner(this.table.numRows);
    return this.planner.plan(rows, count);
  }

  /**
   * Sums per-outer-row contributions ([count, dim], in the order `plan` was made from) into the
   * inner plan's unique rows ([plan.uniqueRows.length, dim]).
   */
  fold(plan: BatchPlan, contributions: Float32Array, count: number): Float32Array {
    const d = this.table.dim;
    const out = new Float32Array(plan.uniqueRows.length * d);
    for (let u = 0; u < count; u++) {
      const dst = plan.localIndex[u] * d;
      const src = u * d;
      for (let k = 0; k < d; k++) out[dst + k] += contributions[src + k];
    }
    return out;
  }

  get bytes(): number {
    return this.table.bytes + (this.planner?.bytes ?? 0);
  }
}
