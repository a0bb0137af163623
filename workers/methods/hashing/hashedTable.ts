/**
 * The hashed embedding table: K = sum of k_f rows, feature i of field f reads row
 * offset_f + h_f(i) with a universal hash h_f(i) = ((a_f * i + b_f) mod p) mod k_f, p = 2^31 - 1.
 * Values whose hashes collide share one row (and the sum of their gradients).
 */
import type { BatchPlan } from '../../embedding/batchPlan';
import type { HostEmbeddingTable } from '../../embedding/hostEmbeddingTable';
import { InnerRows } from '../../embedding/innerRows';
import type { RowStore } from '../../embedding/rowStore';
import type { Rng } from '../../rng';
import { HASH_PRIME, hashBucket, type FieldHash } from './hashFunction';

/** One hash per field, k_f = max(1, ceil(fraction * n_f)) rows each. */
export function fieldHashes(fieldDims: Int32Array, fraction: number, rng: Rng): FieldHash[] {
  return Array.from(fieldDims, (n) => ({
    a: 1 + Math.floor(rng.next() * (HASH_PRIME - 1)),
    b: Math.floor(rng.next() * HASH_PRIME),
    // Rounded first, so that 0.1 x 30 (3.0000000000000004 in floating point) gives 3 rows.
    buckets: Math.max(1, Math.ceil(Number((fraction * n).toPrecision(12)))),
  }));
}

export class HashedTable implements RowStore {
  readonly name = 'embedding';
  private readonly inner: InnerRows;
  /** Inner row of every global feature id. */
  readonly rowOf: Int32Array;
  private innerIds = new Int32Array(0);

  constructor(
    readonly table: HostEmbeddingTable,
    readonly hashes: FieldHash[],
    fieldDims: Int32Array,
  ) {
    this.inner = new InnerRows(table);
    let total = 0;
    for (const d of fieldDims) total += d;
    this.rowOf = new Int32Array(table.allocated ? total : 0);
    if (!table.allocated) return;
    let id = 0;
    let bucketOffset = 0;
    hashes.forEach((h, f) => {
      for (let i = 0; i < fieldDims[f]; i++) this.rowOf[id++] = bucketOffset + hashBucket(h, i);
      bucketOffset += h.buckets;
    });
  }

  get dim(): number {
    return this.table.dim;
  }

  get bytes(): number {
    return this.inner.bytes + this.rowOf.byteLength;
  }

  private innerPlan(plan: BatchPlan): BatchPlan {
    const u = plan.uniqueRows.length;
    if (this.innerIds.length < u) this.innerIds = new Int32Array(u);
    for (let i = 0; i < u; i++) this.innerIds[i] = this.rowOf[plan.uniqueRows[i]];
    return this.inner.plan(this.innerIds, u);
  }

  gatherRows(plan: BatchPlan): Float32Array {
    const d = this.dim;
    const w = this.table.weights;
    const out = new Float32Array(plan.uniqueRows.length * d);
    for (let u = 0; u < plan.uniqueRows.length; u++) {
      const src = this.rowOf[plan.uniqueRows[u]] * d;
      out.set(w.subarray(src, src + d), u * d);
    }
    return out;
  }

  applyGradient(plan: BatchPlan, grad: Float32Array): void {
    const inner = this.innerPlan(plan);
    this.table.applyGradient(inner, this.inner.fold(inner, grad, plan.uniqueRows.length));
  }

  setLearningRate(lr: number): void {
    this.table.setLearningRate(lr);
  }

  resetOptimizerState(): void {
    this.table.resetOptimizerState();
  }

  saveState(): Float32Array[] {
    return this.table.saveState();
  }

  loadState(state: Float32Array[]): void {
    this.table.loadState(state);
  }

  /** Per field, the share of its values whose row holds another value too. */
  collidedShare(fieldDims: Int32Array): Float32Array {
    const load = new Int32Array(this.table.numRows);
    for (let i = 0; i < this.rowOf.length; i++) load[this.rowOf[i]]++;
    const out = new Float32Array(fieldDims.length);
    let id = 0;
    for (let f = 0; f < fieldDims.length; f++) {
      let collided = 0;
      for (let i = 0; i < fieldDims[f]; i++) if (load[this.rowOf[id++]] > 1) collided++;
      out[f] = fieldDims[f] > 0 ? collided / fieldDims[f] : 0;
    }
    return out;
  }
}
