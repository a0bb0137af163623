/**
 * PEP's embedding rows on the host: the table V [N, d] and, for the row-shaped granularities
 * (feature [N, 1], feature_dim [N, d]), the threshold parameter S beside it.
 *
 * With S on the host the soft threshold is fused into the gather: a batch uploads the rows of
 * V̂ = sign(V) · ReLU(|V| − gk · σ(S)) (float32, as the device would compute it), one block, and
 * the device's gradient of that block comes back; the chain rule through sign, ReLU and sigmoid
 * (thresholdBackward) turns it into V's and S's gradients here. Against uploading V and S and
 * thresholding on the device: half the uploads and downloads, no threshold kernels.
 *
 * One pass per step updates V and S row by row with the run's embedding optimizer (decay on S
 * when asked, as the official code's Adam does) and recounts the row's non-zeros of V̂ on the
 * spot, so the table's non-zero count is known after every step without a second pass:
 * - 'exact' (the official dense semantics): every row, every step; a row outside the batch sees
 *   its decay gradient only (in chunks of rows: V's, S's update, then the count of the chunk,
 *   while it is in cache; runs of rows outside the batch as flat loops);
 * - 'lazy': the batch's rows only. Each first catches up the decay-only steps it skipped since
 *   it was last updated (HostEmbeddingTable.catchUpDecay: the first 16 exactly, the rest of a
 *   long gap in O(log gap) blocks), when it is gathered, so the forward pass and the update see
 *   the exact mode's V and S (equal for gaps up to 16 steps, close beyond). The live sizes count
 *   every row as it was when last gathered or updated (the gather recounts the rows it
 *   thresholds); a snapshot, an export and a checkpoint first catch every row up (catchUpAll),
 *   so they hold the exact mode's table of that step. At a large vocabulary a row's entries are
 *   cache and TLB misses in every table-sized array: each pass reads the next rows' entries
 *   ahead (touchRows) so that many misses are in flight at once, and the update reuses what the
 *   gather noted per slot instead of reading the row's step, count and S flag again.
 *
 * Retrain (lottery ticket): the thresholds go off, V is reset to a rewind point times a fixed
 * mask, and only V is uploaded and updated.
 */
import type { BatchPlan } from '../../embedding/batchPlan';
import { type HostEmbeddingTable, TOUCH_AHEAD_ROWS } from '../../embedding/hostEmbeddingTable';
import { resident } from '../../embedding/residentArray';
import { KERNEL_MAX_COUNT_ROWS } from '../../embedding/hostAdamKernel';
import type { RowStore } from '../../embedding/rowStore';
import { PrunedTablePacker, type PrunedTable } from '../../embedding/prunedTable';

/** Below this, σ(s) is exactly 0 in float32 (it rounds under half the smallest denormal). */
export const SIGMOID32_ZERO_BELOW = -104;

/** σ(s) as the device computes it in float32: σ(−150) is exactly 0 there. */
export function sigmoid32(s: number): number {
  if (s < SIGMOID32_ZERO_BELOW) return 0;
  return Math.fround(1 / (1 + Math.exp(-s)));
}

/** The threshold gk · σ(s) in float32 (an entry survives when |v| is above it). */
export function threshold32(gk: number, s: number): number {
  return Math.fround(Math.fround(gk) * sigmoid32(s));
}

/** The entries of V's row at `base` ([d]) above one threshold `t` in magnitude. */
function countAbove(w: Float32Array, base: number, d: number, t: number): number {
  let count = 0;
  for (let k = 0; k < d; k++) if (Math.abs(w[base + k]) > t) count++;
  return count;
}

/**
 * The entries of V's row at `base` ([d]) above their threshold gk · σ(s), s from S's row at
 * `sRow` (one per entry when `perDim` is 1, one for the row when 0). An S value repeats (rows
 * whose S only decayed since the same step): its threshold is reused, saving the exponential.
 */
function countAboveThresholds(
  w: Float32Array,
  base: number,
  d: number,
  sValues: Float32Array,
  sRow: number,
  perDim: number,
  gk: number,
): number {
  let lastS = Number.NaN;
  let lastT = Number.NaN;
  let count = 0;
  for (let k = 0; k < d; k++) {
    const sv = sValues[sRow + perDim * k];
    if (sv !== lastS) {
      lastS = sv;
      lastT = threshold32(gk, sv);
    }
    if (Math.abs(w[base + k]) > lastT) count++;
  }
  return count;
}

/** Rows per chunk of the 'exact' pass (V, S and the count of a chunk while it is in cache). */
const EXACT_CHUNK_ROWS = 256;
/** Rows of V̂ computed at a time when it is packed (a snapshot, an export). */
const PACK_CHUNK_ROWS = 4096;

/** Where the threshold of entry (row, k) comes from when S is not on the host. */
export interface DeviceThreshold {
  /** S values as last read from the device, [rows of S, width of S]. */
  values: Float32Array;
  /** Width of S: d (per dimension) or 1. */
  width: number;
  /** Row of S for a table row: its field (field, field_dim), or 0 (global, dimension). */
  rowOf(row: number): number;
  /** Reads the current values from the device (after the dense optimizer stepped). */
  refresh(): Promise<void>;
}

export class PepTable implements RowStore {
  readonly name = 'embedding';
  readonly numRows: number;
  readonly d: number;
  /** Multiplies σ(S); 0 turns the thresholds off. Live: read at every step. */
  gk = 1;
  /** False once retraining: V is used as it is (masked), S is neither uploaded nor updated. */
  thresholdsOn = true;
  /** Non-zero entries of V̂ per row, and in all. */
  readonly rowNonZeros: Uint16Array;
  nonZeros: number;
  /** The step each row was last updated at ('lazy' catch-up). */
  private readonly lastUpdate: Int32Array;
  private steps = 0;

  constructor(
    readonly v: HostEmbeddingTable,
    /** S on the host ([N, d] or [N, 1]), or null when it lives on the device. */
    readonly s: HostEmbeddingTable | null,
    readonly device: DeviceThreshold | null,
    readonly mode: 'lazy' | 'exact',
  ) {
    this.numRows = v.numRows;
    this.d = v.dim;
    const rows = v.allocated ? v.numRows : 0;
    this.rowNonZeros = new Uint16Array(rows);
    this.lastUpdate = resident(new Int32Array(mode === 'lazy' ? rows : 0));
    if (mode === 'lazy') {
      v.keepStepHistory();
      s?.keepStepHistory();
    }
    // S starts at one value everywhere: the rows no non-zero gradient has reached share their
    // state (all of them while σ(S) underflows, as from the official S init).
    s?.trackUntouchedRows();
    // A shape-only table (the model card's) counts as dense: nothing is pruned before training.
    this.nonZeros = v.allocated ? 0 : v.numRows * v.dim;
    this.recountRange(0, rows);
  }

  get sWidth(): number {
    return this.s ? this.s.dim : 0;
  }

  /** Width of an uploaded row of V. */
  get dim(): number {
    return this.d;
  }

  /**
   * The thresholds of the last gather (host S), for its backward: which plan, the threshold
   * gk · σ(s) of each of its rows' S entries ([U, width of S], float32) and the derivative
   * gk · σ(s) · (1 − σ(s)).
   */
  private gathered = {
    generation: -1,
    t: new Float32Array(0),
    slope: new Float64Array(0),
    /** 'lazy': per slot, 1 where the row's S was in the shared state (untouchedRows). */
    shared: new Uint8Array(0),
    /** 'lazy': per slot, the row's non-zeros as the gather counted them. */
    count: new Uint16Array(0),
  };
  /** Scratch for the gradients of V and S that thresholdBackward hands to the update. */
  private vGradScratch = new Float32Array(0);
  private sGradScratch = new Float32Array(0);

  get bytes(): number {
    return (
      this.v.bytes + (this.s?.bytes ?? 0) + this.rowNonZeros.byteLength + this.lastUpdate.byteLength
    );
  }

  /** The threshold of entry (row, k) now, in float32. */
  thresholdOf(row: number, k: number): number {
    if (!this.thresholdsOn) return 0;
    if (this.s) {
      const w = this.s.dim;
      const shared = this.s.untouchedRows;
      if (shared && shared.flags[row] === 1) return threshold32(this.gk, shared.value);
      return threshold32(this.gk, this.s.weights[row * w + (w === 1 ? 0 : k)]);
    }
    if (this.device) {
      const { values, width, rowOf } = this.device;
      return threshold32(this.gk, values[rowOf(row) * width + (width === 1 ? 0 : k)]);
    }
    return 0;
  }

  /**
   * The thresholds of a device S now, one per entry of S ([rows of S, width]): computed once
   * per pass instead of once per table entry.
   */
  private deviceThresholds(device: DeviceThreshold): Float64Array {
    const values = device.values;
    if (this.deviceThresholdBuffer.length !== values.length) {
      this.deviceThresholdBuffer = new Float64Array(values.length);
    }
    const out = this.deviceThresholdBuffer;
    for (let i = 0; i < values.length; i++) out[i] = threshold32(this.gk, values[i]);
    return out;
  }

  private deviceThresholdBuffer = new Float64Array(0);

  /**
   * Recounts the non-zeros of V̂ in rows `start`..`end - 1`: entries above their threshold
   * (thresholdOf), or, while retraining, the entries the mask keeps (a kept entry that happens
   * to be zero still trains). `deviceT`: deviceThresholds(), when the caller already has them.
   */
  private recountRange(start: number, end: number, deviceT: Float64Array | null = null): void {
    const d = this.d;
    const w = this.v.weights;
    const mask = this.v.currentMask;
    const counts = this.rowNonZeros;
    let change = 0;
    if (!this.thresholdsOn && mask) {
      for (let row = start; row < end; row++) {
        let count = 0;
        for (let i = row * d; i < row * d + d; i++) count += mask[i];
        change += count - counts[row];
        counts[row] = count;
      }
    } else if (this.thresholdsOn && this.s) {
      change = this.recountHostS(start, end, this.s);
    } else if (this.thresholdsOn && this.device) {
      const device = this.device;
      const t = deviceT ?? this.deviceThresholds(device);
      const width = device.width;
      const perDim = width !== 1 ? 1 : 0;
      for (let row = start; row < end; row++) {
        const sRow = device.rowOf(row) * width;
        let count = 0;
        for (let k = 0; k < d; k++) if (Math.abs(w[row * d + k]) > t[sRow + perDim * k]) count++;
        change += count - counts[row];
        counts[row] = count;
      }
    } else {
      for (let row = start; row < end; row++) {
        let count = 0;
        for (let i = row * d; i < row * d + d; i++) if (Math.abs(w[i]) > 0) count++;
        change += count - counts[row];
        counts[row] = count;
      }
    }
    this.nonZeros += change;
  }

  /** recountRange with S on the host; returns the change of the total. */
  private recountHostS(start: number, end: number, s: HostEmbeddingTable): number {
    const d = this.d;
    const w = this.v.weights;
    const counts = this.rowNonZeros;
    const sValues = s.weights;
    const width = s.dim;
    const perDim = width !== 1 ? 1 : 0;
    const gk = this.gk;
    // Rows no non-zero gradient has reached share one S value: one threshold for them.
    const untouched = s.untouchedRows;
    const flags = untouched?.flags ?? null;
    const sharedT = untouched ? threshold32(gk, untouched.value) : 0;
    let change = 0;
    for (let row = start; row < end; row++) {
      const base = row * d;
      let count: number;
      if (flags !== null && flags[row] === 1) {
        // A run of such rows: counted by the kernel (four entries at a time) when there is one.
        let next = row + 1;
        while (next < end && next - row < KERNEL_MAX_COUNT_ROWS && flags[next] === 1) next++;
        const runCounts = next - row > 1 ? this.v.countAbove(row, next, sharedT) : null;
        if (runCounts !== null) {
          for (let r = row; r < next; r++) {
            const c = runCounts[r - row];
            change += c - counts[r];
            counts[r] = c;
          }
          row = next - 1;
          continue;
        }
        count = countAbove(w, base, d, sharedT);
      } else {
        count = countAboveThresholds(w, base, d, sValues, row * width, perDim, gk);
      }
      change += count - counts[row];
      counts[row] = count;
    }
    return change;
  }

  /** Recounts every row (after the device thresholds moved, in 'lazy' mode, or a reset). */
  recountAll(): void {
    this.recountRange(0, this.rowNonZeros.length);
  }

  /**
   * The batch's rows as the model uses them: V̂ with S on the host (caught up first in 'lazy'
   * mode), V otherwise (a device S thresholds on the device; a retrain's V is masked).
   */
  gatherRows(plan: BatchPlan): Float32Array {
    const s = this.s;
    if (!this.thresholdsOn || !s) {
      // V as the exact mode has it now, as with S on the host (a device S thresholds it there).
      if (this.mode === 'lazy') {
        const to = this.v.step;
        for (const row of plan.uniqueRows) this.catchUp(row, to);
      }
      return this.v.gatherRows(plan);
    }
    const rows = plan.uniqueRows;
    const lazy = this.mode === 'lazy';
    const caughtUpTo = this.v.step;
    const d = this.d;
    const width = s.dim;
    const perDim = width !== 1 ? 1 : 0;
    const g = this.gathered;
    if (g.t.length < rows.length * width) {
      g.t = new Float32Array(rows.length * width * 2);
      g.slope = new Float64Array(rows.length * width * 2);
    }
    if (g.count.length < rows.length) {
      g.shared = new Uint8Array(rows.length * 2);
      g.count = new Uint16Array(rows.length * 2);
    }
    g.generation = plan.generation;
    const tOf = g.t;
    const slopeOf = g.slope;
    const sharedOf = g.shared;
    const countOf = g.count;
    const gk32 = Math.fround(this.gk);
    const sValues = s.weights;
    // Rows no gradient has reached share one S value, read from there ('lazy' leaves their
    // entries of the array as they were).
    const untouched = s.untouchedRows;
    const flags = untouched?.flags ?? null;
    const sharedS = untouched?.value ?? 0;
    const w = this.v.weights;
    const out = new Float32Array(rows.length * d);
    // S values repeat (rows no batch has touched share theirs): the last one's σ is reused.
    let lastS = Number.NaN;
    let lastT = 0;
    let lastSlope = 0;
    const counts = this.rowNonZeros;
    let change = 0;
    for (let u = 0; u < rows.length; u++) {
      if (lazy && u % TOUCH_AHEAD_ROWS === 0) this.touchRows(rows, u);
      const row = rows[u];
      // The row's catch-up and its threshold in one visit: at a large vocabulary each row is a
      // cache and TLB miss in every array it touches, paid once instead of once per pass.
      if (lazy) this.catchUp(row, caughtUpTo);
      const isShared = flags !== null && flags[row] === 1;
      sharedOf[u] = isShared ? 1 : 0;
      for (let j = 0; j < width; j++) {
        const sv = isShared ? sharedS : sValues[row * width + j];
        if (sv !== lastS) {
          lastS = sv;
          const sig = sigmoid32(sv);
          lastT = Math.fround(gk32 * sig);
          lastSlope = gk32 * sig * (1 - sig);
        }
        tOf[u * width + j] = lastT;
        slopeOf[u * width + j] = lastSlope;
      }
      let count = 0;
      if (isShared && lastT === 0) {
        // A zero threshold (σ of the shared S underflows, as from the official init): V̂ = V.
        for (let k = 0; k < d; k++) {
          const wi = w[row * d + k];
          out[u * d + k] = wi;
          if (Math.abs(wi) > 0) count++;
        }
      } else {
        for (let k = 0; k < d; k++) {
          const wi = w[row * d + k];
          const a = Math.abs(wi);
          const t = tOf[u * width + perDim * k];
          // A pruned entry is sign(v) · 0, as the device has it (−0 where v < 0).
          if (a > t) {
            out[u * d + k] = Math.sign(wi) * Math.fround(a - t);
            count++;
          } else {
            out[u * d + k] = Math.sign(wi) * 0;
          }
        }
      }
      // The row's count, recounted here for free (a lazy catch-up may have changed it).
      change += count - counts[row];
      counts[row] = count;
      countOf[u] = count;
    }
    this.nonZeros += change;
    return out;
  }

  async beforeUpdate(): Promise<void> {
    if (this.thresholdsOn && this.device) await this.device.refresh();
  }

  /**
   * V's and S's gradients from the gradient of the gathered V̂ block ([U, d]): through sign,
   * ReLU and sigmoid as autodiff takes them (sign's gradient is 0, ReLU's 1 above 0), so
   * dV = dV̂ where |v| > t, else 0; dS = −dV̂ · sign(v) · gk · σ(s) · (1 − σ(s)) where |v| > t
   * (summed over the row's entries when S is one per row).
   */
  thresholdBackward(
    plan: BatchPlan,
    grad: Float32Array,
  ): { vGrad: Float32Array; sGrad: Float32Array } {
    const s = this.s;
    if (!s) throw new Error('pep: S is on the device, its gradient comes from there');
    const { vGrad, sGrad } = this.backwardScratch(plan, s);
    this.backwardRows(plan, grad, 0, plan.uniqueRows.length, vGrad, sGrad);
    return { vGrad, sGrad };
  }

  /**
   * Zeroed blocks for V's and S's gradients of `plan`'s rows ([U, d] and [U, width of S]), once
   * `plan` is checked to be the batch whose V̂ was gathered last (its thresholds are kept).
   */
  private backwardScratch(
    plan: BatchPlan,
    s: HostEmbeddingTable,
  ): { vGrad: Float32Array; sGrad: Float32Array } {
    if (this.gathered.generation !== plan.generation) {
      throw new Error("pep: the update's batch is not the one whose V̂ was gathered last");
    }
    const count = plan.uniqueRows.length;
    if (this.vGradScratch.length < count * this.d) {
      this.vGradScratch = new Float32Array(count * this.d * 2);
      this.sGradScratch = new Float32Array(count * this.d * 2);
    }
    const sGrad = this.sGradScratch.subarray(0, count * s.dim);
    sGrad.fill(0);
    return { vGrad: this.vGradScratch.subarray(0, count * this.d), sGrad };
  }

  /** thresholdBackward for the rows in slots `from`..`to - 1` of `plan` (sGrad zeroed there). */
  private backwardRows(
    plan: BatchPlan,
    grad: Float32Array,
    from: number,
    to: number,
    vGrad: Float32Array,
    sGrad: Float32Array,
  ): void {
    const rows = plan.uniqueRows;
    const d = this.d;
    const width = (this.s as HostEmbeddingTable).dim;
    const perDim = width !== 1 ? 1 : 0;
    const { t, slope } = this.gathered;
    const w = this.v.weights;
    for (let u = from; u < to; u++) {
      const base = rows[u] * d;
      for (let k = 0; k < d; k++) {
        const wi = w[base + k];
        const j = u * width + perDim * k;
        const gi = grad[u * d + k];
        if (Math.abs(wi) > t[j]) {
          vGrad[u * d + k] = gi;
          sGrad[j] -= gi * Math.sign(wi) * slope[j];
        } else {
          vGrad[u * d + k] = 0;
        }
      }
    }
  }

  /** Updates V's row (gradient at `slot`) and S's row, when S trains. */
  private updateRow(
    row: number,
    vGrad: Float32Array,
    sGrad: Float32Array | null,
    slot: number,
  ): void {
    this.v.updateRow(row, vGrad, slot * this.d);
    if (this.thresholdsOn && this.s) this.s.updateRow(row, sGrad, slot * this.s.dim);
  }

  /**
   * Applies the decay-only steps `row` skipped since its last update, up to step `to` (lazy
   * mode), as the exact mode applied them. The caller recounts the row.
   */
  private catchUp(row: number, to: number): void {
    const from = this.lastUpdate[row] + 1;
    if (from > to) return;
    this.v.catchUpDecay(row, from, to);
    if (this.thresholdsOn) this.s?.catchUpDecay(row, from, to);
    this.lastUpdate[row] = to;
  }

  /** One optimizer step given the gradient of the gathered block (V̂, or V while retraining). */
  applyGradient(plan: BatchPlan, grad: Float32Array): void {
    const count = plan.uniqueRows.length;
    if (grad.length !== count * this.d) {
      throw new Error(`pep: gradient has ${grad.length} values, expected ${count * this.d}`);
    }
    if (this.thresholdsOn && this.s && this.mode === 'lazy') {
      this.applyLazyGradient(plan, grad, this.s);
    } else if (this.thresholdsOn && this.s) {
      const { vGrad, sGrad } = this.thresholdBackward(plan, grad);
      this.applyGradients(plan, vGrad, sGrad);
    } else {
      this.applyGradients(plan, grad, null);
    }
  }

  /** Sums what touchRows read (kept so that its reads are not optimised away). */
  private touched = 0;

  /**
   * The next TOUCH_AHEAD_ROWS rows from slot `from`: their entries in V's and S's arrays, their
   * last step and count, read ahead of the row-by-row pass (HostEmbeddingTable.touchRows).
   */
  private touchRows(rows: Int32Array, from: number): void {
    const to = Math.min(rows.length, from + TOUCH_AHEAD_ROWS);
    const lastUpdate = this.lastUpdate;
    const counts = this.rowNonZeros;
    let sum = this.v.touchRows(rows, from, to) + (this.s?.touchRows(rows, from, to) ?? 0);
    for (let u = from; u < to; u++) {
      const row = rows[u];
      sum += lastUpdate[row] + counts[row];
    }
    this.touched += sum;
  }

  /**
   * applyGradient in 'lazy' mode with S on the host: each row's backward, update and count in
   * one visit (see gatherRows), reading what the gather noted per slot instead of the row's
   * entries in the table-sized arrays, which a large table has out of cache again by now: the
   * gather caught every row up (no catch-up to check), whether its S was shared, its count.
   */
  private applyLazyGradient(plan: BatchPlan, grad: Float32Array, s: HostEmbeddingTable): void {
    const { vGrad, sGrad } = this.backwardScratch(plan, s);
    this.beginStep();
    const rows = plan.uniqueRows;
    const d = this.d;
    const width = s.dim;
    const perDim = width !== 1 ? 1 : 0;
    const { shared: sharedOf, count: countOf, t: tOf, slope: slopeOf } = this.gathered;
    const w = this.v.weights;
    const sValues = s.weights;
    const counts = this.rowNonZeros;
    const lastUpdate = this.lastUpdate;
    const steps = this.steps;
    const gk = this.gk;
    // The shared S after this step, and its threshold: a row's S stays shared when its
    // gradient is zero.
    const untouched = s.untouchedRows;
    const sharedT = untouched ? threshold32(gk, untouched.value) : 0;
    let change = 0;
    for (let u = 0; u < rows.length; u++) {
      if (u % TOUCH_AHEAD_ROWS === 0) {
        this.touched += this.v.touchRows(rows, u, Math.min(rows.length, u + TOUCH_AHEAD_ROWS));
      }
      const row = rows[u];
      const base = row * d;
      let stillShared = false;
      if (sharedOf[u] === 1 && tOf[u * width] === 0 && slopeOf[u * width] === 0) {
        // A shared S whose threshold and slope were 0 at the gather: V's gradient passes where
        // v is not 0, S's is 0 (backwardRows' numbers, unless a gradient is not finite: then
        // S's is NaN, and backwardRows runs to give it).
        let finite = true;
        for (let k = 0; k < d; k++) {
          const gi = grad[u * d + k];
          vGrad[u * d + k] = Math.abs(w[base + k]) > 0 ? gi : 0;
          if (gi - gi !== 0) finite = false;
        }
        stillShared = finite;
      }
      if (!stillShared) {
        this.backwardRows(plan, grad, u, u + 1, vGrad, sGrad);
        if (sharedOf[u] === 1) {
          stillShared = true;
          for (let j = u * width; j < u * width + width; j++)
            if (sGrad[j] !== 0) stillShared = false;
        }
      }
      this.v.updateRow(row, vGrad, u * d);
      // A shared row with no gradient stays in the shared state, which beginStep advanced.
      if (!stillShared) s.updateRow(row, sGrad, u * width);
      lastUpdate[row] = steps;
      const count = stillShared
        ? countAbove(w, base, d, sharedT)
        : countAboveThresholds(w, base, d, sValues, row * width, perDim, gk);
      change += count - countOf[u];
      counts[row] = count;
    }
    this.nonZeros += change;
  }

  /**
   * One optimizer step given V's own gradient and, with S on the host while it trains, S's
   * ([U, width of S]), for the rows of `plan`.
   */
  applyGradients(plan: BatchPlan, vGrad: Float32Array, sGrad: Float32Array | null): void {
    const sTrains = this.thresholdsOn && this.s !== null;
    if (sTrains && sGrad?.length !== plan.uniqueRows.length * (this.s as HostEmbeddingTable).dim) {
      throw new Error("pep: S's gradient does not match the batch's rows");
    }
    this.beginStep();
    // A device threshold moves every row's size at once: all rows are recounted after.
    const recountAll = this.thresholdsOn && this.device !== null;
    if (this.mode === 'lazy') {
      for (let u = 0; u < plan.uniqueRows.length; u++) {
        this.updateLazyRow(plan.uniqueRows[u], vGrad, sGrad, u, !recountAll);
      }
      if (recountAll) this.recountAll();
      return;
    }
    const { planner, generation } = plan;
    if (planner.currentGeneration !== generation) {
      throw new Error('pep: a newer batch plan replaced this one before its update');
    }
    // In chunks of rows: V's, then S's update, then the count, while the chunk is in cache.
    const deviceT = recountAll ? this.deviceThresholds(this.device as DeviceThreshold) : null;
    for (let start = 0; start < this.numRows; start += EXACT_CHUNK_ROWS) {
      const end = Math.min(this.numRows, start + EXACT_CHUNK_ROWS);
      this.v.updateRowRange(start, end, plan, vGrad);
      if (sTrains) this.s?.updateRowRange(start, end, plan, sGrad);
      this.recountRange(start, end, deviceT);
    }
  }

  /** Starts an optimizer step: V's step count advances, and S's while it trains. */
  private beginStep(): void {
    this.v.beginStep();
    if (this.thresholdsOn) this.s?.beginStep();
    this.steps = this.v.step;
  }

  /**
   * The 'lazy' update of one row of the batch (gradients at `slot`): the steps it skipped (a
   * no-op when the gather caught it up), this step's, and its count when `recount`.
   */
  private updateLazyRow(
    row: number,
    vGrad: Float32Array,
    sGrad: Float32Array | null,
    slot: number,
    recount: boolean,
  ): void {
    this.catchUp(row, this.steps - 1);
    this.updateRow(row, vGrad, sGrad, slot);
    this.lastUpdate[row] = this.steps;
    if (recount) this.recountRange(row, row + 1);
  }

  /**
   * Brings every row up to the last step ('lazy' mode; in 'exact' only S's rows in the shared
   * state are written out), as the exact mode has it, and recounts: before V̂ is packed (a
   * snapshot, an export) and before the table is saved or restored (checkpoints), which would
   * otherwise see each row as it was when last used. A pass over the whole table: for those rare
   * moments only.
   */
  catchUpAll(): void {
    if (this.mode !== 'lazy') {
      // Every row is current; S's rows in the shared state are written out.
      if (this.thresholdsOn) this.s?.writeUntouchedRows();
      return;
    }
    const to = this.v.step;
    // Done already at this step (a step's checkpoint, snapshot and export come together):
    // rows gathered since were caught up to the same step, and the counts kept up.
    if (this.allCaughtUpAt === to && this.allCaughtUpGk === this.gk) return;
    const rows = this.lastUpdate.length;
    for (let row = 0; row < rows; row++) this.catchUp(row, to);
    if (this.thresholdsOn) this.s?.writeUntouchedRows();
    this.recountAll();
    this.allCaughtUpAt = to;
    this.allCaughtUpGk = this.gk;
  }

  /** The step and gk of the last catchUpAll (-1: none since the step count last restarted). */
  private allCaughtUpAt = -1;
  private allCaughtUpGk = Number.NaN;

  /** V̂ now: sign(v) · (|v| − t) where |v| > t, else 0 (float32, as the device computes it). */
  thresholded(): Float32Array {
    this.catchUpAll();
    const out = new Float32Array(this.v.weights.length);
    this.thresholdedRows(0, this.rowNonZeros.length, out);
    return out;
  }

  /**
   * V̂ now as a packed pruned table (a bitmask per row and the non-zeros), computed a block of
   * rows at a time: never a dense copy of the table beside V. Catches every row up first.
   */
  packThresholded(): PrunedTable {
    this.catchUpAll();
    const rows = this.rowNonZeros.length;
    const packer = new PrunedTablePacker(rows, this.d, this.nonZeros);
    const block = new Float32Array(PACK_CHUNK_ROWS * this.d);
    for (let start = 0; start < rows; start += PACK_CHUNK_ROWS) {
      const end = Math.min(rows, start + PACK_CHUNK_ROWS);
      const out = block.subarray(0, (end - start) * this.d);
      out.fill(0);
      this.thresholdedRows(start, end, out);
      packer.addRows(out);
    }
    return packer.finish();
  }

  /** V̂ of rows `start`..`end - 1` into `out` ([end - start, d], zeros where pruned). */
  private thresholdedRows(start: number, end: number, out: Float32Array): void {
    const d = this.d;
    const w = this.v.weights;
    const deviceT =
      this.thresholdsOn && !this.s && this.device ? this.deviceThresholds(this.device) : null;
    // The threshold of the entry before, and the S value it came from (host S).
    let lastS = Number.NaN;
    let lastT = Number.NaN;
    for (let row = start; row < end; row++) {
      for (let k = 0; k < d; k++) {
        const i = row * d + k;
        let t = 0;
        if (this.thresholdsOn && this.s) {
          const s = this.s.weights[row * this.s.dim + (this.s.dim === 1 ? 0 : k)];
          if (s !== lastS) {
            lastS = s;
            lastT = threshold32(this.gk, s);
          }
          t = lastT;
        } else if (this.device && deviceT) {
          const { width, rowOf } = this.device;
          t = deviceT[rowOf(row) * width + (width === 1 ? 0 : k)];
        }
        const a = Math.abs(w[i]);
        if (a > t) out[i - start * d] = Math.sign(w[i]) * Math.fround(a - t);
      }
    }
  }

  /**
   * Lottery-ticket retrain: thresholds off, V = `start` where `mask` keeps an entry (held at
   * zero elsewhere), fresh optimizer state.
   */
  startRetrain(start: Float32Array, mask: Uint8Array): void {
    this.thresholdsOn = false;
    const w = this.v.weights;
    for (let i = 0; i < w.length; i++) w[i] = mask[i] ? start[i] : 0;
    this.v.setMask(mask);
    this.v.resetOptimizerState();
    this.s?.setMask(null);
    this.steps = 0;
    this.lastUpdate.fill(0);
    this.allCaughtUpAt = -1;
    this.recountAll();
  }

  setLearningRate(lr: number): void {
    this.v.setLearningRate(lr);
    this.s?.setLearningRate(lr);
  }

  resetOptimizerState(): void {
    this.v.resetOptimizerState();
    this.s?.resetOptimizerState();
    this.steps = 0;
    this.lastUpdate.fill(0);
    this.allCaughtUpAt = -1;
  }

  saveState(): Float32Array[] {
    this.catchUpAll();
    return [...this.v.saveState(), ...(this.s ? this.s.saveState() : [])];
  }

  /**
   * Puts saved values back. In 'lazy' mode every row is caught up to this step first: the
   * values loaded are the table's as of this step, and no later catch-up moves them again.
   */
  loadState(state: Float32Array[]): void {
    this.catchUpAll();
    this.v.loadState([state[0]]);
    if (this.s && state[1]) this.s.loadState([state[1]]);
    this.recountAll();
  }
}
