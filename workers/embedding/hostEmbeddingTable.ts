/**
 * An embedding table held in host memory (a Float32Array) with its optimizer state.
 *
 * Why on the host: tfjs has no in-place scatter into a variable, so updating a few rows of a
 * device-resident table costs a full copy of the table every step, and the stock gather gradient
 * builds a dense [vocab, dim] tensor. Here a step uploads only the rows the batch touches, the
 * model runs on the device (webgpu/webgl/wasm/cpu), and the optimizer updates only those rows
 * (mode 'lazy'), or every row in one fused elementwise pass (mode 'exact', dense torch semantics).
 */
import type { EmbeddingOptimizerKind, EmbeddingUpdateMode } from '../protocol';
import type { Rng } from '../rng';
import type { BatchPlan } from './batchPlan';
import { resident } from './residentArray';
import { BLOCK_FIELDS, HostAdamArrays } from './hostAdamKernel';
import type { RowStore } from './rowStore';

export interface SparseOptimizerConfig {
  kind: EmbeddingOptimizerKind;
  mode: EmbeddingUpdateMode;
  learningRate: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Adam: 1e-8 as torch.optim.Adam; row-wise Adagrad: 1e-8 as FBGEMM. */
  eps: number;
}

export const DEFAULT_SPARSE_OPTIMIZER: SparseOptimizerConfig = {
  kind: 'adam',
  mode: 'lazy',
  learningRate: 1e-3,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

/** Entries of a masked decay run the kernel takes at a time (holdMasked's room). */
const MASKED_CHUNK = 4096;

/**
 * Rows whose entries a 'lazy' pass reads ahead at a time (touchRows): enough to keep many
 * misses in flight, few enough that what it read is still in cache when the pass gets there.
 */
export const TOUCH_AHEAD_ROWS = 256;

/**
 * Whether the kernel takes entries `start`..`end - 1` under `mask` (the held ones copied aside
 * and back, HostEmbeddingTable.holdMasked): where at least half are kept. Where most are held,
 * the JavaScript loop that skips them is faster (rows of 16 with 10% kept, 2,000 rows a step:
 * 0.19 ms against 0.39 with the kernel and its copies, Node).
 */
function kernelTakesMasked(mask: Uint8Array, start: number, end: number): boolean {
  let kept = 0;
  for (let i = start; i < end; i++) kept += mask[i];
  return 2 * kept >= end - start;
}

/** Steps a lazy catch-up replays one by one before it switches to blocks (see catchUpDecay). */
export const EXACT_CATCH_UP = 16;

/** a and b are the same number, bit for bit (0 and -0 differ; NaN matches nothing). */
function sameNumber(a: number, b: number): boolean {
  return a === b && (a !== 0 || 1 / a === 1 / b);
}

/** Whether the `d` entries of a row from `base` hold the same value, m and v. */
function uniformRow(
  w: Float32Array,
  m: Float32Array,
  v: Float32Array,
  base: number,
  d: number,
): boolean {
  const w0 = w[base];
  const m0 = m[base];
  const v0 = v[base];
  for (let k = 1; k < d; k++) {
    const i = base + k;
    if (!sameNumber(w[i], w0) || !sameNumber(m[i], m0) || !sameNumber(v[i], v0)) return false;
  }
  return true;
}

/** Whether `grad[offset ..]` holds `count` zeros (or there is no gradient). */
function isZero(grad: Float32Array | null, offset: number, count: number): boolean {
  if (grad === null) return true;
  for (let k = offset; k < offset + count; k++) if (grad[k] !== 0) return false;
  return true;
}

/** Adam's coefficients rounded to float32, as its float32 arithmetic uses them. */
interface Adam32 {
  wd: number;
  b1: number;
  c1: number;
  b2: number;
  c2: number;
  eps: number;
}

function adam32(o: SparseOptimizerConfig): Adam32 {
  return {
    wd: Math.fround(o.weightDecay),
    b1: Math.fround(o.beta1),
    c1: Math.fround(1 - o.beta1),
    b2: Math.fround(o.beta2),
    c2: Math.fround(1 - o.beta2),
    eps: Math.fround(o.eps),
  };
}

/**
 * One Adam step of entry `i` with loss gradient `gi` (0: decay only), step size `ss` and
 * 1 / sqrt(1 - beta2^t) `ib` (float32): torch's float32 Adam with L2 decay, each operation
 * rounded to float32 (Math.fround of the float64 result is the float32 operation's result) in
 * the order of the WebAssembly kernel's float32 operations, so both give the same bits.
 */
function adamEntry(
  w: Float32Array,
  m: Float32Array,
  v: Float32Array,
  i: number,
  gi: number,
  ss: number,
  ib: number,
  c: Adam32,
): void {
  const wi = w[i];
  const g = Math.fround(gi + Math.fround(c.wd * wi));
  const mi = Math.fround(Math.fround(c.b1 * m[i]) + Math.fround(c.c1 * g));
  const vi = Math.fround(Math.fround(c.b2 * v[i]) + Math.fround(Math.fround(c.c2 * g) * g));
  m[i] = mi;
  v[i] = vi;
  const denominator = Math.fround(Math.fround(Math.fround(Math.sqrt(vi)) * ib) + c.eps);
  w[i] = wi - Math.fround(Math.fround(ss * mi) / denominator);
}

/**
 * A catch-up block's Adam step j in float32 (HostEmbeddingTable.replayAdam): size * m_j /
 * (sqrt(v_j) * bc2 + eps) with m_j = b1j * m + c1j * g and v_j = b2j * v + c2j * g * g.
 */
function blockTerm(
  m: number,
  v: number,
  g: number,
  b1j: number,
  c1j: number,
  b2j: number,
  c2j: number,
  size: number,
  bc2: number,
  eps: number,
): number {
  const mj = Math.fround(Math.fround(b1j * m) + Math.fround(c1j * g));
  const vj = Math.fround(Math.fround(b2j * v) + Math.fround(Math.fround(c2j * g) * g));
  const denominator = Math.fround(Math.fround(Math.fround(Math.sqrt(vj)) * bc2) + eps);
  return Math.fround(Math.fround(size * mj) / denominator);
}

/** Every step's learning rate and Adam coefficients, for replaying skipped steps. */
class StepHistory {
  private rates = new Float64Array(64);
  /** Adam's lr / (1 - beta1^t) and 1 / sqrt(1 - beta2^t) of each step t (read in hot loops). */
  stepSizes = new Float64Array(64);
  invBc2Sqrts = new Float64Array(64);
  /** Running sum of log(1 - lr_t * wd) (SGD's decay factors). */
  private sgdLog = new Float64Array(64);
  private last = 0;

  record(t: number, lr: number, o: SparseOptimizerConfig): void {
    if (t >= this.rates.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(Math.max(t + 1, a.length * 2));
        b.set(a);
        return b;
      };
      this.rates = grow(this.rates);
      this.stepSizes = grow(this.stepSizes);
      this.invBc2Sqrts = grow(this.invBc2Sqrts);
      this.sgdLog = grow(this.sgdLog);
    }
    this.rates[t] = lr;
    this.stepSizes[t] = lr / (1 - o.beta1 ** t);
    this.invBc2Sqrts[t] = 1 / Math.sqrt(1 - o.beta2 ** t);
    this.sgdLog[t] = (t > 0 ? this.sgdLog[t - 1] : 0) + Math.log1p(-lr * o.weightDecay);
    this.last = t;
  }

  rate(t: number): number {
    return this.rates[t];
  }

  stepSize(t: number): number {
    return this.stepSizes[t];
  }

  invBc2Sqrt(t: number): number {
    return this.invBc2Sqrts[t];
  }

  /** prod over t in from..to of (1 - lr_t * wd). */
  sgdFactor(from: number, to: number, wd: number): number {
    if (wd === 0 || to > this.last) return to > this.last ? Number.NaN : 1;
    return Math.exp(this.sgdLog[to] - this.sgdLog[from - 1]);
  }

  reset(): void {
    this.last = 0;
  }
}

export type TableInit =
  | { kind: 'xavier-uniform' }
  | { kind: 'zeros' }
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number };

export class HostEmbeddingTable implements RowStore {
  /**
   * The values, [rows, dim]. Set them through loadState: while untouched rows are tracked
   * (trackUntouchedRows), the table rewrites theirs every step.
   */
  readonly weights: Float32Array;
  /** Adam first / second moments ([rows, dim]), or null for Adagrad. */
  private readonly m: Float32Array | null;
  private readonly v: Float32Array | null;
  /**
   * Adam's weights and moments in WebAssembly memory with the SIMD kernel that updates them
   * (hostAdamKernel.ts; the same numbers as the loops below), or null: plain arrays.
   */
  private readonly kernel: HostAdamArrays | null;
  /** Row-wise Adagrad accumulator ([rows]), or null for Adam and SGD (SGD keeps no state). */
  private readonly rowAccumulator: Float32Array | null;
  /**
   * 1 = trainable entry, 0 = pruned: held at zero, never updated (magnitude pruning's fine-tune,
   * PEP's lottery-ticket retrain). null = no mask.
   */
  private mask: Uint8Array | null = null;
  /** The sum of what the reads ahead read, kept so that they are not optimised away. */
  private touched = 0;
  /** Optimizer steps taken (shared by all rows, as torch's dense Adam counts them). */
  step = 0;
  private adamStepSize = 0;
  private adamInvBc2Sqrt = 1;
  private stepLearningRate = 0;
  /** This table's learning rate relative to the run's (a method may train some rows faster). */
  learningRateScale = 1;
  private history: StepHistory | null = null;
  /** This step's catch-up block plans, by first step (all rows catch up to the same step). */
  private readonly catchUpPlans = new Map<
    number,
    { to: number; optimizer: SparseOptimizerConfig; plan: Float64Array }
  >();
  /** The last catch-up of a uniform row: its step range, one entry's inputs and results. */
  private readonly catchUpMemo = {
    valid: false,
    from: 0,
    to: 0,
    optimizer: null as SparseOptimizerConfig | null,
    inW: 0,
    inM: 0,
    inV: 0,
    outW: 0,
    outM: 0,
    outV: 0,
  };

  /**
   * Rows no non-zero gradient has reached yet, when they all started alike (trackUntouchedRows):
   * 1 per such row, or null when not tracked. They share one state (`untouchedState`), advanced
   * once a step; the 'exact' pass, a 'lazy' update and a catch-up of one of them write nothing,
   * instead of running the optimizer on each entry. Their entries of the array are therefore
   * not kept: read them through `untouchedRows`, or call writeUntouchedRows first (saveState
   * does). Their moments are written when a non-zero gradient first reaches them.
   */
  private untouched: Uint8Array | null = null;
  /** The untouched rows' value and Adam moments now, and as they were before this step. */
  private readonly untouchedState = { w: 0, m: 0, v: 0, wBefore: 0, mBefore: 0, vBefore: 0 };

  constructor(
    readonly name: string,
    readonly numRows: number,
    readonly dim: number,
    public optimizer: SparseOptimizerConfig,
    init: TableInit,
    rng: Rng,
    /** false: no arrays, only the shape (to count parameters without allocating them). */
    readonly allocated = true,
  ) {
    const size = allocated ? numRows * dim : 0;
    const adam = optimizer.kind === 'adam';
    this.kernel = adam ? HostAdamArrays.allocate(size, dim) : null;
    this.weights = this.kernel ? this.kernel.weights : new Float32Array(size);
    if (init.kind === 'normal') {
      for (let i = 0; i < size; i++) this.weights[i] = init.std * rng.normal();
    } else if (init.kind === 'constant') {
      this.weights.fill(init.value);
    } else if (init.kind !== 'zeros') {
      // xavier_uniform_ on an [N, d] weight: fan_in = d, fan_out = N (as torch computes it).
      const bound = init.kind === 'uniform' ? init.bound : Math.sqrt(6 / (numRows + dim));
      for (let i = 0; i < size; i++) this.weights[i] = rng.uniform(-bound, bound);
    }
    // The optimizer's state is written row by row as batches touch rows: mapped at once.
    this.m = adam ? resident(this.kernel ? this.kernel.m : new Float32Array(size)) : null;
    this.v = adam ? resident(this.kernel ? this.kernel.v : new Float32Array(size)) : null;
    this.rowAccumulator =
      optimizer.kind === 'rowwise-adagrad'
        ? resident(new Float32Array(allocated ? numRows : 0))
        : null;
  }

  get bytes(): number {
    return (
      this.weights.byteLength +
      (this.m?.byteLength ?? 0) +
      (this.v?.byteLength ?? 0) +
      (this.rowAccumulator?.byteLength ?? 0) +
      (this.mask?.byteLength ?? 0) +
      (this.untouched?.byteLength ?? 0)
    );
  }

  /**
   * Shares one state among the rows no non-zero gradient has reached yet (Adam, every entry
   * starting from the same value with no optimizer history, no mask: PEP's S at its constant
   * init, whose loss gradient is exactly zero while σ(S) underflows in float32). Under the
   * dense update those rows see the same decay gradient every step, so they stay equal to each
   * other: one entry is computed, the same numbers as updating each of them ('exact': the pass
   * over all rows; 'lazy': the rows a batch reaches, and their catch-up, which is then the
   * shared state itself), and written into their rows when asked (writeUntouchedRows). Does
   * nothing when the table does not qualify.
   */
  trackUntouchedRows(): void {
    const o = this.optimizer;
    if (!this.allocated || o.kind !== 'adam' || this.mask || this.step) return;
    const w = this.weights;
    const w0 = w[0];
    for (let i = 1; i < w.length; i++) if (!sameNumber(w[i], w0)) return;
    this.untouched = resident(new Uint8Array(this.numRows)).fill(1);
    this.untouchedWritten = true;
    Object.assign(this.untouchedState, { w: w0, m: 0, v: 0, wBefore: w0, mBefore: 0, vBefore: 0 });
  }

  /**
   * The rows no gradient has reached (flags, 1 per such row) and their shared value, while
   * they are tracked; null otherwise. Read-only for callers.
   */
  get untouchedRows(): { flags: Uint8Array; value: number } | null {
    return this.untouched ? { flags: this.untouched, value: this.untouchedState.w } : null;
  }

  /**
   * Writes the shared state (as of this step) into the untouched rows and stops tracking them.
   * In 'lazy' mode their weights may be older than that: they are written as well.
   */
  private stopTrackingUntouched(): void {
    const untouched = this.untouched;
    if (!untouched || !this.m || !this.v) return;
    const d = this.dim;
    const { w, m, v } = this.untouchedState;
    for (let row = 0; row < this.numRows; row++) {
      if (untouched[row]) {
        this.weights.fill(w, row * d, row * d + d);
        this.m.fill(m, row * d, row * d + d);
        this.v.fill(v, row * d, row * d + d);
      }
    }
    this.untouched = null;
  }

  /**
   * Takes untouched `row` out of the shared state as it was before this step (a non-zero
   * gradient reaches it now; call beginStep first).
   */
  private leaveSharedState(row: number): void {
    const d = this.dim;
    const shared = this.untouchedState;
    const from = row * d;
    this.weights.fill(shared.wBefore, from, from + d);
    (this.m as Float32Array).fill(shared.mBefore, from, from + d);
    (this.v as Float32Array).fill(shared.vBefore, from, from + d);
    (this.untouched as Uint8Array)[row] = 0;
  }

  setLearningRate(runLearningRate: number): void {
    this.optimizer = { ...this.optimizer, learningRate: runLearningRate * this.learningRateScale };
  }

  /** Fixes pruned entries at zero from now on (mask[i] = 0), or lifts the mask (null). */
  setMask(mask: Uint8Array | null): void {
    if (mask && mask.length !== this.numRows * this.dim) {
      throw new Error(
        `${this.name}: mask has ${mask.length} entries, expected ${this.numRows * this.dim}`,
      );
    }
    this.mask = mask;
    if (mask) {
      this.stopTrackingUntouched();
      const w = this.weights;
      for (let i = 0; i < w.length; i++) if (mask[i] === 0) w[i] = 0;
    }
  }

  get currentMask(): Uint8Array | null {
    return this.mask;
  }

  /** Entries that are not held at zero by the mask (all of them without a mask). */
  get keptEntries(): number {
    if (!this.mask) return this.numRows * this.dim;
    let kept = 0;
    for (let i = 0; i < this.mask.length; i++) kept += this.mask[i];
    return kept;
  }

  /** Forgets the optimizer's moments and step count (a retrain starts its optimizer afresh). */
  resetOptimizerState(): void {
    this.m?.fill(0);
    this.v?.fill(0);
    this.rowAccumulator?.fill(0);
    const shared = this.untouchedState;
    shared.m = shared.v = shared.mBefore = shared.vBefore = 0;
    this.step = 0;
    this.history?.reset();
    this.catchUpPlans.clear();
    this.catchUpMemo.valid = false;
  }

  /**
   * Writes the shared value into the untouched rows' weights (a 'lazy' update leaves them as
   * they were): the array then holds every row's value as of this step.
   */
  writeUntouchedRows(): void {
    const untouched = this.untouched;
    // Once a step is enough (a checkpoint's save and a snapshot's pack come together).
    if (!untouched || this.untouchedWritten) return;
    const d = this.dim;
    const value = this.untouchedState.w;
    let row = 0;
    while (row < this.numRows) {
      if (untouched[row] === 0) {
        row++;
        continue;
      }
      let next = row + 1;
      while (next < this.numRows && untouched[next] === 1) next++;
      this.weights.fill(value, row * d, next * d);
      row = next;
    }
    this.untouchedWritten = true;
  }

  /** Whether the untouched rows' entries hold the shared value (it has not stepped since). */
  private untouchedWritten = false;

  saveState(): Float32Array[] {
    this.writeUntouchedRows();
    return [this.weights.slice()];
  }

  loadState(state: Float32Array[]): void {
    // The loaded rows need not share a value any more.
    this.stopTrackingUntouched();
    this.weights.set(state[0]);
  }

  /**
   * Reads the first entry of `rows[from..to - 1]`'s weights and (Adam) moments, in a loop with
   * nothing else to do: at a large vocabulary each is a cache and TLB miss, and here the
   * processor has many of them in flight at once, where the row-by-row pass that follows would
   * wait for each. Rows in the shared state (untouchedRows) are skipped: nothing of theirs is
   * read. Returns the sum of what was read (so that the reads are not optimised away).
   */
  touchRows(rows: Int32Array, from: number, to: number): number {
    if (!this.m || !this.v) return this.touchWeights(rows, from, to);
    const d = this.dim;
    const w = this.weights;
    const m = this.m;
    const v = this.v;
    const untouched = this.untouched;
    let sum = 0;
    for (let u = from; u < to; u++) {
      const row = rows[u];
      if (untouched !== null && untouched[row] === 1) continue;
      const i = row * d;
      sum += w[i] + m[i] + v[i];
    }
    return sum;
  }

  /** touchRows for the weights only (a gather reads nothing else). */
  private touchWeights(rows: Int32Array, from: number, to: number): number {
    const d = this.dim;
    const w = this.weights;
    let sum = 0;
    for (let u = from; u < to; u++) sum += w[rows[u] * d];
    return sum;
  }

  /**
   * For rows `start`..`end - 1` (at most KERNEL_MAX_COUNT_ROWS), how many of each row's weights
   * are above `t` in magnitude (|w| > t, `t` a float32 value), counted by the kernel four
   * entries at a time: a view valid until the next call, or null without the kernel.
   */
  countAbove(start: number, end: number, t: number): Uint16Array | null {
    return this.kernel ? this.kernel.countAbove(start * this.dim, end - start, this.dim, t) : null;
  }

  /** Copies the rows of `plan.uniqueRows` into a new [U, dim] block. */
  gatherRows(plan: BatchPlan): Float32Array {
    if (!this.allocated) throw new Error(`${this.name}: a shape-only table cannot be trained`);
    const { uniqueRows } = plan;
    const d = this.dim;
    const w = this.weights;
    const out = new Float32Array(uniqueRows.length * d);
    // Copied entry by entry: a subarray per row would allocate a view per row.
    for (let u = 0; u < uniqueRows.length; u++) {
      // At a large vocabulary each row is a cache miss: the next rows are read ahead together.
      if (u % TOUCH_AHEAD_ROWS === 0) {
        const to = Math.min(uniqueRows.length, u + TOUCH_AHEAD_ROWS);
        this.touched += this.touchWeights(uniqueRows, u, to);
      }
      const src = uniqueRows[u] * d;
      const dst = u * d;
      for (let k = 0; k < d; k++) out[dst + k] = w[src + k];
    }
    return out;
  }

  /**
   * One optimizer step. `grad` is the loss gradient for the rows of `plan.uniqueRows`
   * ([U, dim], duplicates of an id already summed by the gather's backward).
   */
  applyGradient(plan: BatchPlan, grad: Float32Array): void {
    const d = this.dim;
    if (grad.length !== plan.uniqueRows.length * d) {
      throw new Error(
        `${this.name}: gradient has ${grad.length} values, expected ${plan.uniqueRows.length * d}`,
      );
    }
    this.beginStep();
    if (this.optimizer.mode === 'lazy') {
      const rows = plan.uniqueRows;
      for (let u = 0; u < rows.length; u++) {
        // The weights and moments of the next rows, read ahead (see touchRows).
        if (u % TOUCH_AHEAD_ROWS === 0) {
          this.touched += this.touchRows(rows, u, Math.min(rows.length, u + TOUCH_AHEAD_ROWS));
        }
        this.updateRow(rows[u], grad, u * d);
      }
    } else {
      // Dense semantics in one pass: a row outside the batch has gradient weight_decay * value.
      if (plan.planner.currentGeneration !== plan.generation) {
        throw new Error(`${this.name}: a newer batch plan replaced this one before its update`);
      }
      this.updateRowRange(0, this.numRows, plan, grad);
    }
  }

  /**
   * The 'exact' pass over rows `start`..`end - 1`: the plan's rows with their gradient (`grad`,
   * [U, dim], by slot), every other row with its decay gradient only. Runs of rows outside the
   * batch go through one flat loop (decayRows). Call beginStep first.
   */
  updateRowRange(start: number, end: number, plan: BatchPlan, grad: Float32Array | null): void {
    const rows = plan.uniqueRows;
    const d = this.dim;
    const untouched = this.untouched;
    // The batch's rows are in ascending order: its first one from `start` by bisection.
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    let run = start;
    for (let u = lo; u < rows.length && rows[u] < end; u++) {
      const row = rows[u];
      // An untouched row whose gradient is zero stays in the shared state (as the runs' rows).
      if (untouched !== null && untouched[row] === 1 && isZero(grad, u * d, d)) continue;
      if (run < row) this.decayRun(run, row);
      // (updateRow takes an untouched row out of the shared state first.)
      this.updateRow(row, grad, u * d);
      run = row + 1;
    }
    if (run < end) this.decayRun(run, end);
  }

  /**
   * decayRows over `start`..`end - 1`, except untouched rows: the shared state took their step
   * (beginStep), and their entries of the array are not kept (see `untouched`).
   */
  private decayRun(start: number, end: number): void {
    const untouched = this.untouched;
    if (untouched === null) {
      this.decayRows(start, end);
      return;
    }
    let row = start;
    while (row < end) {
      const flag = untouched[row];
      let next = row + 1;
      while (next < end && untouched[next] === flag) next++;
      if (flag === 0) this.decayRows(row, next);
      row = next;
    }
  }

  /**
   * updateRow(row, null, 0) for every row in `start`..`end - 1`, as one loop over their entries
   * (no call per row, no test of a gradient): decayEntries, the kernel without a mask.
   */
  private decayRows(start: number, end: number): void {
    const wd = this.optimizer.weightDecay;
    const d = this.dim;
    const w = this.weights;
    const mask = this.mask;
    const from = start * d;
    const to = end * d;
    if (this.m && this.v) {
      this.decayEntries(from, to, this.adamStepSize, this.adamInvBc2Sqrt, mask);
    } else if (this.optimizer.kind === 'sgd') {
      const lr = this.stepLearningRate;
      for (let i = from; i < to; i++) {
        if (mask !== null && mask[i] === 0) continue;
        w[i] -= lr * (0 + wd * w[i]);
      }
    } else {
      for (let row = start; row < end; row++) this.updateRow(row, null, 0);
    }
  }

  /**
   * Starts an optimizer step: advances the step count and computes its coefficients. A store
   * that updates rows itself (PEP's fused pass) calls this, then updateRow for each row.
   */
  beginStep(): void {
    this.catchUpPlans.clear();
    this.catchUpMemo.valid = false;
    this.step++;
    this.useStepCoefficients(this.step, this.optimizer.learningRate);
    if (this.history) this.history.record(this.step, this.optimizer.learningRate, this.optimizer);
    if (this.untouched) this.advanceUntouched();
  }

  /**
   * One decay-only Adam step of the untouched rows' shared state: decayRows's arithmetic on one
   * entry, stored in float32 as the arrays would store it.
   */
  private advanceUntouched(): void {
    const shared = this.untouchedState;
    this.untouchedWritten = false;
    shared.wBefore = shared.w;
    shared.mBefore = shared.m;
    shared.vBefore = shared.v;
    const { w, m, v } = this.sharedScratch;
    w[0] = shared.w;
    m[0] = shared.m;
    v[0] = shared.v;
    const ss = Math.fround(this.adamStepSize);
    adamEntry(w, m, v, 0, 0, ss, Math.fround(this.adamInvBc2Sqrt), this.coefficients32());
    shared.w = w[0];
    shared.m = m[0];
    shared.v = v[0];
  }

  /** Adam's coefficients in float32 for the current optimizer settings. */
  private coefficients32(): Adam32 {
    if (this.c32.of !== this.optimizer)
      this.c32 = { of: this.optimizer, c: adam32(this.optimizer) };
    return this.c32.c;
  }

  private c32: { of: SparseOptimizerConfig | null; c: Adam32 } = {
    of: null,
    c: adam32(DEFAULT_SPARSE_OPTIMIZER),
  };

  /** The shared state's value and moments while advanceUntouched steps them. */
  private readonly sharedScratch = {
    w: new Float32Array(1),
    m: new Float32Array(1),
    v: new Float32Array(1),
  };

  /**
   * Keeps every step's learning rate (and Adam's coefficients), so that catchUpDecay can replay
   * the steps a row skipped. Off by default: only a lazy update that catches up needs it.
   */
  keepStepHistory(): void {
    this.history ??= new StepHistory();
  }

  /**
   * Applies to `row` the decay-only steps `from`..`to` (inclusive) it skipped, as the 'exact'
   * mode applied them (a row outside the batch has gradient weight_decay * value): the first
   * EXACT_CATCH_UP steps one by one, exactly; beyond, for Adam, blocks of doubling length in which
   * the decay gradient is taken as constant (its moments then have closed forms), so a gap of k
   * steps costs O(log k); SGD's decay is a product of factors, exact at any length.
   */
  catchUpDecay(row: number, from: number, to: number): void {
    if (from > to) return;
    const h = this.history;
    if (!h) throw new Error(`${this.name}: catchUpDecay needs keepStepHistory()`);
    const wd = this.optimizer.weightDecay;
    const d = this.dim;
    const w = this.weights;
    const base = row * d;
    const mask = this.mask;
    if (this.optimizer.kind === 'sgd') {
      const factor = h.sgdFactor(from, to, wd);
      for (let k = 0; k < d; k++) if (mask === null || mask[base + k] !== 0) w[base + k] *= factor;
      return;
    }
    if (this.untouched !== null && this.untouched[row] === 1) {
      // The row is in the shared state, which is current: nothing to write (see `untouched`).
      // It is known at this step and the one before (a row's update catches up to there).
      if (to < this.step - 1) {
        throw new Error(
          `${this.name}: a row in the shared state is known at step ${this.step} or ${this.step - 1}, not ${to}`,
        );
      }
      return;
    }
    if (!this.m || !this.v) {
      // Row-wise Adagrad: replayed step by step (rarely combined with a catch-up).
      for (let t = from; t <= to; t++) {
        this.useStepCoefficients(t, h.rate(t));
        this.updateRow(row, null, 0);
      }
      this.useStepCoefficients(this.step, this.optimizer.learningRate);
      return;
    }
    if (mask === null && uniformRow(w, this.m, this.v, base, d)) {
      // Every entry of the row starts from the same values (an S row no batch has touched):
      // one entry is caught up, the others copy it, and rows in the same state at the same
      // step reuse its results.
      const memo = this.catchUpMemo;
      if (
        !memo.valid ||
        memo.from !== from ||
        memo.to !== to ||
        memo.optimizer !== this.optimizer ||
        !sameNumber(memo.inW, w[base]) ||
        !sameNumber(memo.inM, this.m[base]) ||
        !sameNumber(memo.inV, this.v[base])
      ) {
        memo.inW = w[base];
        memo.inM = this.m[base];
        memo.inV = this.v[base];
        this.replayAdam(base, base + 1, from, to, null);
        memo.outW = w[base];
        memo.outM = this.m[base];
        memo.outV = this.v[base];
        memo.from = from;
        memo.to = to;
        memo.optimizer = this.optimizer;
        memo.valid = true;
      }
      w.fill(memo.outW, base, base + d);
      this.m.fill(memo.outM, base, base + d);
      this.v.fill(memo.outV, base, base + d);
      return;
    }
    if (mask !== null && this.kernel && kernelTakesMasked(mask, base, base + d)) {
      const held = this.holdMasked(base, base + d, mask);
      this.replayAdam(base, base + d, from, to, null);
      this.restoreMasked(held);
      return;
    }
    this.replayAdam(base, base + d, from, to, mask);
  }

  /**
   * Copies the weights and moments of the entries in `start`..`end - 1` that `mask` holds
   * (mask 0) aside, so that the kernel may run over all of them, unmasked: Adam's entries are
   * independent of each other, so once restoreMasked has put them back, the others hold the
   * masked loop's numbers, bit for bit. Returns how many were copied.
   */
  private holdMasked(start: number, end: number, mask: Uint8Array): number {
    const held = this.held;
    if (held.at.length < end - start) {
      const size = end - start;
      this.held = {
        at: new Int32Array(size),
        w: new Float32Array(size),
        m: new Float32Array(size),
        v: new Float32Array(size),
      };
    }
    const { at, w, m, v } = this.held;
    const tw = this.weights;
    const tm = this.m as Float32Array;
    const tv = this.v as Float32Array;
    let count = 0;
    for (let i = start; i < end; i++) {
      if (mask[i] !== 0) continue;
      at[count] = i;
      w[count] = tw[i];
      m[count] = tm[i];
      v[count] = tv[i];
      count++;
    }
    return count;
  }

  /** Puts back the `count` entries holdMasked copied aside. */
  private restoreMasked(count: number): void {
    const { at, w, m, v } = this.held;
    const tw = this.weights;
    const tm = this.m as Float32Array;
    const tv = this.v as Float32Array;
    for (let c = 0; c < count; c++) {
      const i = at[c];
      tw[i] = w[c];
      tm[i] = m[c];
      tv[i] = v[c];
    }
  }

  private held = {
    at: new Int32Array(0),
    w: new Float32Array(0),
    m: new Float32Array(0),
    v: new Float32Array(0),
  };

  /**
   * Adam's decay-only steps `from`..`to` for entries `start`..`end - 1` (catchUpDecay): step by
   * step outside, entry by entry inside, so that the entries' independent chains of square roots
   * and divisions overlap (one entry's steps depend on each other and cannot).
   */
  private replayAdam(
    start: number,
    end: number,
    from: number,
    to: number,
    mask: Uint8Array | null,
  ): void {
    const h = this.history as StepHistory;
    const { weightDecay: wd, eps } = this.optimizer;
    const w = this.weights;
    const m = this.m as Float32Array;
    const v = this.v as Float32Array;
    const exactEnd = Math.min(to, from + EXACT_CATCH_UP - 1);
    const stepSizes = h.stepSizes;
    const invBc2Sqrts = h.invBc2Sqrts;
    if (mask === null && this.kernel) {
      this.kernel.replay(start, end, from, exactEnd, stepSizes, invBc2Sqrts, this.optimizer);
    } else {
      this.replayExactSteps(start, end, from, exactEnd, mask);
    }
    if (exactEnd >= to) return;
    // Within a block g = wd * w is taken as constant: after j steps the moments are
    // b^j * (moment) + (1 - b^j) * g (or g^2), and the block's steps sum f(j) = stepSize_j *
    // m_j / (sqrt(v_j) / bc2_j + eps), integrated by Simpson's rule on its first, middle and
    // last step. The blocks' coefficients depend on from and to only (blockPlan).
    const p = this.blockPlan(exactEnd + 1, to);
    if (mask === null && this.kernel) {
      // Groups of four entries in the kernel; the rest (fewer than four) below.
      const quads = (end - start) & ~3;
      this.kernel.replayBlocks(start, quads, p, this.optimizer);
      start += quads;
    }
    // In float32, each coefficient rounded and 1 - b taken from the float64 b (as the kernel).
    const f = Math.fround;
    const wd32 = f(wd);
    const eps32 = f(eps);
    for (let o = 0; o < p.length; o += BLOCK_FIELDS) {
      const n = f(p[o]);
      const b10 = f(p[o + 1]);
      const b11 = f(p[o + 2]);
      const b12 = f(p[o + 3]);
      const b20 = f(p[o + 4]);
      const b21 = f(p[o + 5]);
      const b22 = f(p[o + 6]);
      const c10 = f(1 - p[o + 1]);
      const c11 = f(1 - p[o + 2]);
      const c12 = f(1 - p[o + 3]);
      const c20 = f(1 - p[o + 4]);
      const c21 = f(1 - p[o + 5]);
      const c22 = f(1 - p[o + 6]);
      const size0 = f(p[o + 7]);
      const size1 = f(p[o + 8]);
      const size2 = f(p[o + 9]);
      const bc20 = f(p[o + 10]);
      const bc21 = f(p[o + 11]);
      const bc22 = f(p[o + 12]);
      const b1n = f(p[o + 13]);
      const b2n = f(p[o + 14]);
      const c1n = f(1 - p[o + 13]);
      const c2n = f(1 - p[o + 14]);
      for (let i = start; i < end; i++) {
        if (mask !== null && mask[i] === 0) continue;
        const wi = w[i];
        const mi = m[i];
        const vi = v[i];
        const g = f(wd32 * wi);
        let sum = f(0 + blockTerm(mi, vi, g, b10, c10, b20, c20, size0, bc20, eps32));
        sum = f(sum + f(4 * blockTerm(mi, vi, g, b11, c11, b21, c21, size1, bc21, eps32)));
        sum = f(sum + blockTerm(mi, vi, g, b12, c12, b22, c22, size2, bc22, eps32));
        const delta = f(f(n * sum) / 6);
        // A block that moves the weight towards zero and past it stops there: decay pulls
        // towards zero and Adam's steps then only hover around it. A block that moves it away
        // from zero (the momentum of the row's last loss gradient) is taken whole.
        const towardsZero = (delta > 0 && wi > 0) || (delta < 0 && wi < 0);
        w[i] = towardsZero && Math.abs(delta) >= Math.abs(wi) ? 0 : wi - delta;
        m[i] = f(b1n * mi) + f(c1n * g);
        v[i] = f(b2n * vi) + f(f(c2n * g) * g);
      }
    }
  }

  /**
   * Decay-only Adam steps `from`..`to`, one by one, of entries `start`..`end - 1` (entries with
   * mask 0 skipped): exactly the exact pass's decay steps (its `0 + wd * w` gradient included).
   */
  private replayExactSteps(
    start: number,
    end: number,
    from: number,
    to: number,
    mask: Uint8Array | null,
  ): void {
    const h = this.history as StepHistory;
    for (let t = from; t <= to; t++) {
      this.decayEntries(start, end, h.stepSizes[t], h.invBc2Sqrts[t], mask);
    }
  }

  /**
   * One decay-only Adam step (gradient 0 + wd * w) of entries `from`..`to - 1` with the given
   * coefficients, entries with mask 0 skipped: updateRow's operations with no gradient, in the
   * same order (the moments rounded to float32 as the arrays store them), with 1 - beta taken out
   * of the loop. The kernel takes the unmasked ones.
   */
  private decayEntries(
    from: number,
    to: number,
    stepSize: number,
    invBc2Sqrt: number,
    mask: Uint8Array | null,
  ): void {
    if (this.kernel) {
      if (mask === null) {
        this.kernel.decay(from, to, stepSize, invBc2Sqrt, this.optimizer);
        return;
      }
      // Masked: a chunk at a time, its held entries put back after (holdMasked), where most
      // of the chunk's entries are kept.
      for (let start = from; start < to; start += MASKED_CHUNK) {
        const end = Math.min(to, start + MASKED_CHUNK);
        if (kernelTakesMasked(mask, start, end)) {
          const held = this.holdMasked(start, end, mask);
          this.kernel.decay(start, end, stepSize, invBc2Sqrt, this.optimizer);
          this.restoreMasked(held);
        } else {
          this.decayEntriesInJs(start, end, stepSize, invBc2Sqrt, mask);
        }
      }
      return;
    }
    this.decayEntriesInJs(from, to, stepSize, invBc2Sqrt, mask);
  }

  /** decayEntries in JavaScript (the kernel's numbers, bit for bit). */
  private decayEntriesInJs(
    from: number,
    to: number,
    stepSize: number,
    invBc2Sqrt: number,
    mask: Uint8Array | null,
  ): void {
    const w = this.weights;
    const m = this.m as Float32Array;
    const v = this.v as Float32Array;
    const c = this.coefficients32();
    const ss = Math.fround(stepSize);
    const ib = Math.fround(invBc2Sqrt);
    for (let i = from; i < to; i++) {
      if (mask !== null && mask[i] === 0) continue;
      adamEntry(w, m, v, i, 0, ss, ib, c);
    }
  }

  /**
   * The blocks that catch up steps `from`..`to` (lengths EXACT_CATCH_UP, then doubling), each
   * BLOCK_FIELDS numbers: its length n; beta1^j and beta2^j at its first, middle and last step
   * j; those steps' Adam step sizes and sqrt(1 - beta2^t); beta1^n and beta2^n. Kept for the
   * step (rows last updated at the same step share them).
   */
  private blockPlan(from: number, to: number): Float64Array {
    const cached = this.catchUpPlans.get(from);
    if (cached && cached.to === to && cached.optimizer === this.optimizer) return cached.plan;
    const h = this.history as StepHistory;
    const { beta1, beta2 } = this.optimizer;
    const fields: number[] = [];
    let t = from;
    let block = EXACT_CATCH_UP;
    while (t <= to) {
      const n = Math.min(block, to - t + 1);
      const js = [1, (n + 1) / 2, n];
      const ts = [t, t + ((n - 1) >> 1), t + n - 1];
      fields.push(
        n,
        ...js.map((j) => beta1 ** j),
        ...js.map((j) => beta2 ** j),
        ...ts.map((u) => h.stepSize(u)),
        ...ts.map((u) => h.invBc2Sqrt(u)),
        beta1 ** n,
        beta2 ** n,
      );
      t += n;
      block *= 2;
    }
    const plan = Float64Array.from(fields);
    this.catchUpPlans.set(from, { to, optimizer: this.optimizer, plan });
    return plan;
  }

  /**
   * Sets the coefficients updateRow uses to those of step `t` at learning rate `lr`: Adam's bias
   * corrections depend on the step only, so they are computed once, not once per row (the
   * 'exact' pass visits every row). Replaying a skipped step sets that step's coefficients.
   * torch divides sqrt(v) by sqrt(1 - beta2^t); the loops multiply by its reciprocal (rounded to
   * float32 like every coefficient), which can move the float32 denominator by an ulp and takes
   * one of the three divider operations off every entry's step.
   */
  useStepCoefficients(t: number, lr: number): void {
    const { beta1, beta2 } = this.optimizer;
    this.stepLearningRate = lr;
    this.adamStepSize = lr / (1 - beta1 ** t);
    this.adamInvBc2Sqrt = 1 / Math.sqrt(1 - beta2 ** t);
  }

  /**
   * Updates one row with the coefficients of the current step: `grad[gradOffset ..]` is its loss
   * gradient, or null for a row outside the batch (its gradient is then weight_decay * value).
   */
  updateRow(row: number, grad: Float32Array | null, gradOffset: number): void {
    const { weightDecay: wd, eps } = this.optimizer;
    const lr = this.stepLearningRate;
    const d = this.dim;
    const w = this.weights;
    const base = row * d;
    // Pruned entries (mask 0) keep their zero: neither the gradient nor the decay moves them,
    // and their optimizer state is left alone.
    const mask = this.mask;
    if (this.m && this.v) {
      const untouched = this.untouched;
      if (untouched !== null && untouched[row] === 1) {
        // Decay only, as the shared state took this step: its value is the row's, read from
        // there (see `untouched`).
        if (isZero(grad, gradOffset, d)) return;
        this.leaveSharedState(row);
      }
      const stepSize = this.adamStepSize;
      const invBc2Sqrt = this.adamInvBc2Sqrt;
      if (this.kernel && (mask === null || kernelTakesMasked(mask, base, base + d))) {
        const held = mask === null ? 0 : this.holdMasked(base, base + d, mask);
        if (grad !== null) {
          this.kernel.step(base, d, grad, gradOffset, stepSize, invBc2Sqrt, this.optimizer);
        } else {
          this.kernel.decay(base, base + d, stepSize, invBc2Sqrt, this.optimizer);
        }
        if (held > 0) this.restoreMasked(held);
        return;
      }
      // torch.optim.Adam: weight decay is added to the gradient (L2), not decoupled.
      const c = this.coefficients32();
      const ss = Math.fround(stepSize);
      const ib = Math.fround(invBc2Sqrt);
      const m = this.m;
      const v = this.v;
      for (let k = 0; k < d; k++) {
        const i = base + k;
        if (mask !== null && mask[i] === 0) continue;
        adamEntry(w, m, v, i, grad ? grad[gradOffset + k] : 0, ss, ib, c);
      }
    } else if (this.optimizer.kind === 'sgd') {
      // torch.optim.SGD without momentum: w -= lr * (g + weight_decay * w).
      for (let k = 0; k < d; k++) {
        const i = base + k;
        if (mask !== null && mask[i] === 0) continue;
        w[i] -= lr * ((grad ? grad[gradOffset + k] : 0) + wd * w[i]);
      }
    } else {
      const acc = this.rowAccumulator as Float32Array;
      let sq = 0;
      let kept = 0;
      for (let k = 0; k < d; k++) {
        if (mask !== null && mask[base + k] === 0) continue;
        const g = (grad ? grad[gradOffset + k] : 0) + wd * w[base + k];
        sq += g * g;
        kept++;
      }
      if (kept === 0) return;
      acc[row] += sq / kept;
      const scale = lr / (Math.sqrt(acc[row]) + eps);
      for (let k = 0; k < d; k++) {
        if (mask !== null && mask[base + k] === 0) continue;
        const g = (grad ? grad[gradOffset + k] : 0) + wd * w[base + k];
        w[base + k] -= scale * g;
      }
    }
  }
}
