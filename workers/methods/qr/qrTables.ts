/**
 * Quotient-remainder embeddings as one row store: a value i (within its field) of a compressed
 * field reads Q[q_f + floor(i / c)] and R[r_f + (i mod c)] and combines them (element-wise
 * product or sum); a small field reads its own full rows from Q (no remainder). Gradients follow
 * the chain rule: for a product, dQ = g * R and dR = g * Q, summed over the values sharing a row.
 */
import type { BatchPlan } from '../../embedding/batchPlan';
import type { HostEmbeddingTable } from '../../embedding/hostEmbeddingTable';
import { InnerRows } from '../../embedding/innerRows';
import type { RowStore } from '../../embedding/rowStore';

export interface QrLayout {
  /** Per field: compressed or kept whole. */
  compressed: boolean[];
  /** Per field: its first row in Q, and in R (-1 when not compressed). */
  qOffset: Int32Array;
  rOffset: Int32Array;
  qRows: number;
  rRows: number;
  collisions: number;
}

export function qrLayout(fieldDims: Int32Array, collisions: number, threshold: number): QrLayout {
  const m = fieldDims.length;
  const compressed = Array.from(fieldDims, (n) => n > threshold && n > collisions);
  const qOffset = new Int32Array(m);
  const rOffset = new Int32Array(m).fill(-1);
  let q = 0;
  let r = 0;
  for (let f = 0; f < m; f++) {
    qOffset[f] = q;
    if (compressed[f]) {
      q += Math.ceil(fieldDims[f] / collisions);
      rOffset[f] = r;
      r += collisions;
    } else {
      q += fieldDims[f];
    }
  }
  return { compressed, qOffset, rOffset, qRows: q, rRows: r, collisions };
}

export class QrTables implements RowStore {
  readonly name = 'embedding';
  private readonly q: InnerRows;
  private readonly r: InnerRows;
  /** Per global id: its Q row, and its R row (-1: none). */
  readonly qRowOf: Int32Array;
  readonly rRowOf: Int32Array;
  private scratchQ = new Int32Array(0);
  private scratchR = new Int32Array(0);

  constructor(
    readonly quotient: HostEmbeddingTable,
    readonly remainder: HostEmbeddingTable,
    layout: QrLayout,
    fieldDims: Int32Array,
    readonly multiply: boolean,
  ) {
    this.q = new InnerRows(quotient);
    this.r = new InnerRows(remainder);
    const total = quotient.allocated ? fieldDims.reduce((a, b) => a + b, 0) : 0;
    this.qRowOf = new Int32Array(total);
    this.rRowOf = new Int32Array(total);
    if (total === 0) return;
    let id = 0;
    for (let f = 0; f < fieldDims.length; f++) {
      for (let i = 0; i < fieldDims[f]; i++, id++) {
        if (layout.compressed[f]) {
          this.qRowOf[id] = layout.qOffset[f] + Math.floor(i / layout.collisions);
          this.rRowOf[id] = layout.rOffset[f] + (i % layout.collisions);
        } else {
          this.qRowOf[id] = layout.qOffset[f] + i;
          this.rRowOf[id] = -1;
        }
      }
    }
  }

  get dim(): number {
    return this.quotient.dim;
  }

  get bytes(): number {
    return this.q.bytes + this.r.bytes + this.qRowOf.byteLength + this.rRowOf.byteLength;
  }

  /** Writes the vector of global id `id` into `out` at `offset`. */
  vectorOf(id: number, out: Float32Array, offset = 0): void {
    const d = this.dim;
    const qw = this.quotient.weights;
    const rw = this.remainder.weights;
    const qb = this.qRowOf[id] * d;
    const r = this.rRowOf[id];
    if (r < 0) {
      for (let k = 0; k < d; k++) out[offset + k] = qw[qb + k];
    } else if (this.multiply) {
      for (let k = 0; k < d; k++) out[offset + k] = qw[qb + k] * rw[r * d + k];
    } else {
      for (let k = 0; k < d; k++) out[offset + k] = qw[qb + k] + rw[r * d + k];
    }
  }

  gatherRows(plan: BatchPlan): Float32Array {
    const d = this.dim;
    const out = new Float32Array(plan.uniqueRows.length * d);
    for (let u = 0; u < plan.uniqueRows.length; u++) this.vectorOf(plan.uniqueRows[u], out, u * d);
    return out;
  }

  applyGradient(plan: BatchPlan, grad: Float32Array): void {
    const d = this.dim;
    const u = plan.uniqueRows.length;
    if (this.scratchQ.length < u) {
      this.scratchQ = new Int32Array(u);
      this.scratchR = new Int32Array(u);
    }
    const qw = this.quotient.weights;
    const rw = this.remainder.weights;
    // Both gradients from the values before either table moves.
    const gradQ = new Float32Array(u * d);
    const gradR = new Float32Array(u * d);
    let nr = 0;
    for (let i = 0; i < u; i++) {
      const id = plan.uniqueRows[i];
      const qb = this.qRowOf[id] * d;
      const r = this.rRowOf[id];
      this.scratchQ[i] = this.qRowOf[id];
      if (r < 0 || !this.multiply) {
        gradQ.set(grad.subarray(i * d, i * d + d), i * d);
      } else {
        for (let k = 0; k < d; k++) gradQ[i * d + k] = grad[i * d + k] * rw[r * d + k];
      }
      if (r >= 0) {
        this.scratchR[nr] = r;
        for (let k = 0; k < d; k++) {
          gradR[nr * d + k] = this.multiply ? grad[i * d + k] * qw[qb + k] : grad[i * d + k];
        }
        nr++;
      }
    }
    const planQ = this.q.plan(this.scratchQ, u);
    this.quotient.applyGradient(planQ, this.q.fold(planQ, gradQ, u));
    if (this.remainder.numRows > 0) {
      const planR = this.r.plan(this.scratchR, nr);
      this.remainder.applyGradient(planR, this.r.fold(planR, gradR, nr));
    }
  }

  setLearningRate(lr: number): void {
    this.quotient.setLearningRate(lr);
    this.remainder.setLearningRate(lr);
  }

  resetOptimizerState(): void {
    this.quotient.resetOptimizerState();
    this.remainder.resetOptimizerState();
  }

  saveState(): Float32Array[] {
    return [...this.quotient.saveState(), ...this.remainder.saveState()];
  }

  loadState(state: Float32Array[]): void {
    this.quotient.loadState([state[0]]);
    this.remainder.loadState([state[1]]);
  }
}
